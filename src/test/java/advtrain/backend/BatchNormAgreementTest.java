package advtrain.backend;

import advtrain.backend.reference.ReferenceBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The tuned Java and the OpenCL batch-norm kernels against the reference's loops, forward (with the
 * batch's statistics or given ones) and backward (every combination of gradients asked for, added
 * to gradients that already hold values), on shapes whose planes are not whole vectors, the
 * ResNet-20 shapes and one whose mean is large next to its spread.
 */
class BatchNormAgreementTest {
    private static final Backend REFERENCE = new ReferenceBackend();
    /** Allowed error: TOLERANCE * (|expected| + rms of the expected tensor). */
    private static final double TOLERANCE = 2e-5;

    // {batch, channels, height, width, offset of the inputs' mean}
    private static final int[][] SHAPES = {
            {3, 5, 7, 7, 0}, {2, 3, 1, 1, 0}, {4, 2, 9, 13, 3}, {8, 16, 32, 32, 0}, {16, 32, 16, 16, 0}, {16, 64, 8, 8, 10}};

    private static float[] uniform(SplittableRandom random, int n, double lo, double hi) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float) (lo + (hi - lo) * random.nextDouble());
        return values;
    }

    private static void assertClose(String what, float[] expected, float[] got) {
        double squares = 0;
        for (float e : expected) squares += (double) e * e;
        double rms = Math.sqrt(squares / Math.max(1, expected.length));
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs((double) got[i] - expected[i]);
            if (!(error <= TOLERANCE * (Math.abs(expected[i]) + rms))) {
                fail(what + ": element " + i + " of " + expected.length + ": expected " + expected[i] + ", got " + got[i]);
            }
        }
    }

    /** Runs forward then backward on one backend from host arrays; returns {out, mean, var, dx, dGamma, dBeta}. */
    private static float[][] run(Backend be, int[] s, float[] x, float[] gamma, float[] beta, float[] mean, float[] var,
                                 boolean batchStats, float[] dy, float[] dxStart, float[] dGammaStart, float[] dBetaStart) {
        Shape shape = Shape.of(s[0], s[1], s[2], s[3]);
        Tensor xs = Tensors.fromArray(be, x, shape.dims()), out = be.allocate(shape);
        Tensor g = gamma == null ? null : Tensors.fromArray(be, gamma, s[1]), b = beta == null ? null : Tensors.fromArray(be, beta, s[1]);
        Tensor m = Tensors.fromArray(be, mean, s[1]), v = Tensors.fromArray(be, var, s[1]);
        be.batchNorm(xs, g, b, m, v, 1e-5f, batchStats, out);
        Tensor dx = dxStart == null ? null : Tensors.fromArray(be, dxStart, shape.dims());
        Tensor dGamma = dGammaStart == null ? null : Tensors.fromArray(be, dGammaStart, s[1]);
        Tensor dBeta = dBetaStart == null ? null : Tensors.fromArray(be, dBetaStart, s[1]);
        be.batchNormBackward(xs, g, m, v, 1e-5f, batchStats, Tensors.fromArray(be, dy, shape.dims()), dx, dGamma, dBeta);
        return new float[][] {Tensors.toArray(be, out), Tensors.toArray(be, m), Tensors.toArray(be, v),
                dx == null ? null : Tensors.toArray(be, dx), dGamma == null ? null : Tensors.toArray(be, dGamma),
                dBeta == null ? null : Tensors.toArray(be, dBeta)};
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "opencl"})
    void batchNormMatchesTheReference(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(41);
        String[] names = {"output", "mean", "var", "inputGrad", "gammaGrad", "betaGrad"};
        for (int[] s : SHAPES) {
            int n = s[0] * s[1] * s[2] * s[3], channels = s[1];
            float[] x = uniform(random, n, s[4] - 1.0, s[4] + 2.0), dy = uniform(random, n, -1, 1);
            float[] runningMean = uniform(random, channels, s[4] - 0.5, s[4] + 0.5), runningVar = uniform(random, channels, 0.5, 2);
            float[] gamma = uniform(random, channels, 0.5, 1.5), beta = uniform(random, channels, -0.5, 0.5);
            float[] dxStart = uniform(random, n, -1, 1), dGammaStart = uniform(random, channels, -1, 1), dBetaStart = uniform(random, channels, -1, 1);
            for (int variant = 0; variant < 8; variant++) {
                boolean batchStats = (variant & 1) != 0, affine = (variant & 2) != 0, onlyInput = (variant & 4) != 0;
                float[] g = affine ? gamma : null, b = affine ? beta : null;
                float[] dGamma = onlyInput ? null : dGammaStart, dBeta = onlyInput ? null : dBetaStart;
                float[][] expected = run(REFERENCE, s, x, g, b, runningMean, runningVar, batchStats, dy, dxStart, dGamma, dBeta);
                float[][] got = run(be, s, x, g, b, runningMean, runningVar, batchStats, dy, dxStart, dGamma, dBeta);
                for (int k = 0; k < names.length; k++) {
                    if (expected[k] == null) continue;
                    String what = String.format("%s %dx%dx%dx%d (mean near %d), %s, %s: %s", backendName, s[0], s[1], s[2], s[3], s[4],
                            batchStats ? "batch statistics" : "given statistics", affine ? "gamma and beta" : "no gamma or beta", names[k]);
                    assertClose(what, expected[k], got[k]);
                }
            }
            // the parameter gradients alone
            float[][] expected = run(REFERENCE, s, x, gamma, beta, runningMean, runningVar, true, dy, null, dGammaStart, dBetaStart);
            float[][] got = run(be, s, x, gamma, beta, runningMean, runningVar, true, dy, null, dGammaStart, dBetaStart);
            assertClose(backendName + " gammaGrad without inputGrad", expected[4], got[4]);
            assertClose(backendName + " betaGrad without inputGrad", expected[5], got[5]);
        }
    }

    /**
     * The fused kernel that writes the input gradient (its old contents garbage here) gives what the
     * plain kernel adds to zeros, to the value, with and without batch statistics and gamma; the
     * parameter gradients are still added to.
     */
    @Test
    void freshInputGradientIsTheGradientAddedToZeros() {
        Backend be = TestBackends.get("java");
        FusedKernels fused = (FusedKernels) be;
        SplittableRandom random = new SplittableRandom(43);
        for (int[] s : SHAPES) {
            Shape shape = Shape.of(s[0], s[1], s[2], s[3]);
            int n = shape.size(), channels = s[1];
            Tensor x = Tensors.fromArray(be, uniform(random, n, s[4] - 1.0, s[4] + 2.0), shape.dims());
            Tensor dy = Tensors.fromArray(be, uniform(random, n, -1, 1), shape.dims());
            Tensor gamma = Tensors.fromArray(be, uniform(random, channels, 0.5, 1.5), channels);
            float[] dGammaStart = uniform(random, channels, -1, 1), dBetaStart = uniform(random, channels, -1, 1);
            for (int variant = 0; variant < 4; variant++) {
                boolean batchStats = (variant & 1) != 0;
                Tensor g = (variant & 2) != 0 ? gamma : null;
                Tensor mean = Tensors.fromArray(be, uniform(random, channels, s[4] - 0.5, s[4] + 0.5), channels);
                Tensor var = Tensors.fromArray(be, uniform(random, channels, 0.5, 2), channels);
                if (batchStats) be.batchNorm(x, g, null, mean, var, 1e-5f, true, be.allocate(shape));
                Tensor zeros = be.allocate(shape), garbage = Tensors.fromArray(be, uniform(random, n, -9, 9), shape.dims());
                be.fill(zeros, 0f);
                Tensor dGammaPlain = Tensors.fromArray(be, dGammaStart, channels), dBetaPlain = Tensors.fromArray(be, dBetaStart, channels);
                Tensor dGammaFresh = Tensors.fromArray(be, dGammaStart, channels), dBetaFresh = Tensors.fromArray(be, dBetaStart, channels);
                be.batchNormBackward(x, g, mean, var, 1e-5f, batchStats, dy, zeros, dGammaPlain, dBetaPlain);
                fused.batchNormBackwardFresh(x, g, mean, var, 1e-5f, batchStats, dy, garbage, dGammaFresh, dBetaFresh);
                String what = String.format("%dx%dx%dx%d, variant %d", s[0], s[1], s[2], s[3], variant);
                float[] expected = Tensors.toArray(be, zeros), got = Tensors.toArray(be, garbage);
                for (int i = 0; i < n; i++) {
                    if (expected[i] != got[i]) fail(what + ": inputGrad element " + i + ": " + expected[i] + " written, " + got[i] + " fresh");
                }
                assertEquals(java.util.Arrays.toString(Tensors.toArray(be, dGammaPlain)), java.util.Arrays.toString(Tensors.toArray(be, dGammaFresh)), what);
                assertEquals(java.util.Arrays.toString(Tensors.toArray(be, dBetaPlain)), java.util.Arrays.toString(Tensors.toArray(be, dBetaFresh)), what);
            }
        }
    }
}
