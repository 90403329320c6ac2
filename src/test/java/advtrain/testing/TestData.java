package advtrain.testing;

import advtrain.tensor.HostTensor;
import advtrain.tensor.Shape;

import java.util.SplittableRandom;

/** Random test inputs, seeded, including ones built to keep away from ReLU kinks and max-pool ties. */
public final class TestData {
    private TestData() {}

    /** Uniform in [lo, hi). */
    public static HostTensor uniform(SplittableRandom random, double lo, double hi, int... dims) {
        float[] v = new float[Shape.of(dims).size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * random.nextDouble());
        return new HostTensor(Shape.of(dims), v);
    }

    /** Random signs, magnitudes in [margin, 1): no value within margin of ReLU's kink at 0. */
    public static HostTensor awayFromZero(SplittableRandom random, double margin, int... dims) {
        float[] v = new float[Shape.of(dims).size()];
        for (int i = 0; i < v.length; i++) {
            double magnitude = margin + (1 - margin) * random.nextDouble();
            v[i] = (float) (random.nextBoolean() ? magnitude : -magnitude);
        }
        return new HostTensor(Shape.of(dims), v);
    }

    /** A shuffled ladder of distinct values spaced by gap: no two elements anywhere are within gap. */
    public static HostTensor distinct(SplittableRandom random, double gap, int... dims) {
        int n = Shape.of(dims).size();
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((i - n / 2.0) * gap);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            float t = v[i]; v[i] = v[j]; v[j] = t;
        }
        return new HostTensor(Shape.of(dims), v);
    }

    /** Class indices in [0, classes), stored as floats as the engine wants them. */
    public static float[] labels(SplittableRandom random, int n, int classes) {
        float[] y = new float[n];
        for (int i = 0; i < n; i++) y[i] = random.nextInt(classes);
        return y;
    }
}
