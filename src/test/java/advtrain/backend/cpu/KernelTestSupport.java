package advtrain.backend.cpu;

import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.backend.reference.HeapStorage;
import advtrain.backend.reference.ReferenceBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the tests of the fast {@link CpuBackend} against the {@link ReferenceBackend} share: the two
 * backends, seeded random tensors, and the comparison with its tolerances.
 *
 * <p>Tolerances. Elementwise kernels compute the same formula and must agree to the last bit but for
 * a rounding step or two ({@link #ELEMENTWISE}, 1e-6 relative). Kernels that sum products (conv, linear,
 * log-softmax) may add in another order, as blocked and vectorised code does; float32 summation of L
 * terms in two orders differs by about sqrt(L) * 2^-24 times the size of the terms, so forward
 * kernels and input gradients (L up to 400) get {@link #SUMS} = 1e-5 and weight gradients, which sum
 * over the whole batch (L up to 32 * 784 = 25,088 terms), get {@link #LONG_SUMS} = 5e-5. An element
 * passes when |fast - reference| <= tol * (|reference| + rms(reference)): relative to the element, and
 * to the tensor's typical size where cancellation makes an element small.
 */
abstract class KernelTestSupport {
    static final float ELEMENTWISE = 1e-6f, SUMS = 1e-5f, LONG_SUMS = 5e-5f;

    final CpuBackend fast = new CpuBackend();
    final Backend ref = new ReferenceBackend();
    final SplittableRandom random = new SplittableRandom(20240611);

    Tensor random(float lo, float hi, int... dims) {
        Tensor t = fast.allocate(Shape.of(dims));
        float[] v = new float[t.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * random.nextDouble());
        fast.write(t, v, 0);
        return t;
    }

    /** Values on a coarse grid (many ties), for max pooling's first-maximum rule. */
    Tensor coarse(int levels, int... dims) {
        Tensor t = fast.allocate(Shape.of(dims));
        float[] v = new float[t.size()];
        for (int i = 0; i < v.length; i++) v[i] = random.nextInt(levels) - levels / 2;
        fast.write(t, v, 0);
        return t;
    }

    Tensor labels(int n, int classes) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = random.nextInt(classes);
        return Tensors.fromArray(fast, v, n);
    }

    Tensor copyOf(Tensor t) {
        Tensor c = fast.allocate(t.shape());
        fast.copy(t, c);
        return c;
    }

    static Tensor copyOrNull(Backend be, Tensor t) {
        if (t == null) return null;
        Tensor c = be.allocate(t.shape());
        be.copy(t, c);
        return c;
    }

    static void assertClose(String what, Tensor expected, Tensor actual, float tol) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = HeapStorage.array(expected), a = HeapStorage.array(actual);
        double squares = 0;
        int finite = 0;
        for (int i = 0; i < expected.size(); i++) {
            if (Float.isFinite(e[i])) { squares += (double) e[i] * e[i]; finite++; }
        }
        double rms = Math.sqrt(squares / Math.max(1, finite));
        for (int i = 0; i < expected.size(); i++) {
            if (a[i] == e[i] || (Float.isNaN(e[i]) && Float.isNaN(a[i]))) continue;
            double err = Math.abs((double) a[i] - e[i]);
            if (!(err <= tol * (Math.abs(e[i]) + rms))) {
                fail(what + ": element " + i + " of " + expected.shape() + ": expected " + e[i] + ", got " + a[i]
                        + " (error " + err + ", allowed " + tol * (Math.abs(e[i]) + rms) + ")");
            }
        }
    }
}
