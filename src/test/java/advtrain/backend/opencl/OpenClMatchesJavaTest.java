package advtrain.backend.opencl;

import advtrain.backend.Tensors;
import advtrain.backend.Backend;
import advtrain.backend.Backend.BinaryOp;
import advtrain.backend.Backend.ReduceOp;
import advtrain.backend.Backend.UnaryOp;
import advtrain.backend.OptimizerKernels;
import advtrain.backend.Rng;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every Backend method, forward and backward, run on OpenCL and on the reference backend (the
 * definition) with the same random inputs; the results must agree. Each test runs on every version of the OpenCL kernels
 * (tiled, rows and plain, see {@link OpenClBackend.Kernels}). Backward kernels start from
 * non-zero gradients (they must add, not overwrite), and leave out each gradient in turn (null
 * means skip). The convolutions are in {@link OpenClConvMatchesJavaTest}. Without an OpenCL device the tests are skipped with the reason (TestBackends).
 */
class OpenClMatchesJavaTest extends OpenClTestSupport {
    /** The fallback bound holds for a genuinely fused a*b + c against Java's, and is not so loose that it passes anything. */
    @Test
    void theBoundAdmitsAFusedMultiplyAddAndLittleMore() {
        SplittableRandom random = new SplittableRandom(21);
        int n = 10_000;
        float[] separate = new float[n], fused = new float[n], magnitude = new float[n], tooFar = new float[n];
        int differing = 0;
        for (int i = 0; i < n; i++) {
            float a = (float) random.nextDouble(-4, 4), b = (float) random.nextDouble(-4, 4), c = (float) random.nextDouble(-4, 4);
            separate[i] = a * b + c;
            fused[i] = Math.fma(a, b, c);
            if (separate[i] != fused[i]) differing++;
            magnitude[i] = Math.abs(a * b) + Math.abs(c);
            tooFar[i] = (float) (separate[i] + 1.5 * 2 * 2 * 0x1p-24 * magnitude[i]) ;
        }
        assertTrue(differing > n / 10, "the values exercise fusing: " + differing);
        assertWithinBound("fused vs separate", separate, fused, 2, magnitude);
        int caught = 0;
        for (int i = 0; i < n; i++) {
            int at = i;
            if (tooFar[i] != separate[i] && Math.abs((double) tooFar[i] - separate[i]) > 2 * 2 * 0x1p-24 * magnitude[i]) {
                assertThrows(org.opentest4j.AssertionFailedError.class,
                        () -> assertWithinBound("too far", new float[] {separate[at]}, new float[] {tooFar[at]}, 2, new float[] {magnitude[at]}));
                caught++;
            }
        }
        assertTrue(caught > n / 2, "values beyond the bound are caught: " + caught);
    }

    /** The self-check gives a verdict, and where it says "separate" the kernel really rounds like Java. */
    @Test
    void theMultiplyAddSelfCheckMatchesTheKernels() {
        OpenClBackend cl = (OpenClBackend) TestBackends.get("opencl");
        String verdict = cl.multiplyAdd();
        assertTrue(List.of("separate", "fused", "mixed").contains(verdict), verdict);
        float[] x = randoms(new SplittableRandom(22), 4096, -2, 2), y = randoms(new SplittableRandom(23), 4096, -2, 2);
        Tensor yCl = Tensors.fromArray(cl, y.clone(), 4096);
        cl.axpy(1.1f, Tensors.fromArray(cl, x, 4096), yCl);
        float[] got = Tensors.toArray(cl, yCl);
        int sameAsJava = 0;
        for (int i = 0; i < x.length; i++) if (got[i] == y[i] + 1.1f * x[i]) sameAsJava++;
        if (verdict.equals("separate")) assertEquals(x.length, sameAsJava, "axpy rounds like Java where the self-check says so");
        else assertTrue(sameAsJava < x.length, "axpy does not round like Java everywhere where the self-check says " + verdict);
    }

    // ---- memory -----------------------------------------------------------------------------------

    @ParameterizedTest @ValueSource(strings = {"opencl-tiled", "opencl-rows", "opencl-plain"})
    void writeAndReadKeepValuesAndOffsets(String variant) {
        Backend cl = opencl(variant);
        float[] host = randoms(new SplittableRandom(1), 1000, -5, 5);
        Tensor t = cl.allocate(Shape.of(7, 11));
        cl.write(t, host, 13);
        float[] back = new float[100];
        cl.read(t, back, 3);
        for (int i = 0; i < 77; i++) assertEquals(host[13 + i], back[3 + i]);
        assertEquals(0f, back[0]);
        assertArrayEquals(new float[6], Tensors.toArray(cl, cl.allocate(Shape.of(2, 3))), "allocate gives zeros");
        Tensor empty = cl.allocate(Shape.of(0, 4));
        cl.fill(empty, 3f);
        assertEquals(0, Tensors.toArray(cl, empty).length);
        cl.release(t);
        assertThrows(IllegalStateException.class, () -> Tensors.toArray(cl, t));
        assertThrows(IllegalArgumentException.class, () -> Tensors.toArray(cl, java.allocate(Shape.of(2))), "a Java tensor");
    }

    @ParameterizedTest @ValueSource(strings = {"opencl-tiled", "opencl-rows", "opencl-plain"})
    void fillAndCopy(String variant) {
        Backend cl = opencl(variant);
        Pair a = random(cl, new SplittableRandom(2), 5, 13), b = zeros(cl, 65);
        both(cl, be -> be.fill(be == java ? a.java : a.cl, -2.5f));
        assertSameBits("fill", a.java, cl, a.cl);
        Pair c = random(cl, new SplittableRandom(3), 5, 13);
        both(cl, be -> be.copy(be == java ? c.java : c.cl, be == java ? b.java : b.cl));
        assertSameBits("copy", b.java, cl, b.cl);
    }

    // ---- elementwise ------------------------------------------------------------------------------

    /** Inputs with the awkward values: zeros of both signs, NaN, infinities, ties. */
    private static float[] awkward(int n, long seed) {
        float[] v = randoms(new SplittableRandom(seed), n, -3, 3);
        float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f, -1f, 0.5f};
        for (int i = 0; i < specials.length && i * 7 < n; i++) v[i * 7] = specials[i];
        return v;
    }

    @ParameterizedTest @ValueSource(strings = {"opencl-tiled", "opencl-rows", "opencl-plain"})
    void elementwiseOpsAreBitExact(String variant) {
        Backend cl = opencl(variant);
        int n = 1037;
        Pair a = pair(cl, awkward(n, 4), n), b = pair(cl, awkward(n, 5), n);
        record Op(String name, Consumer<Pair[]> run) {}
        List<Op> ops = List.of(
                new Op("add", p -> { java.binary(BinaryOp.ADD, a.java, b.java, p[0].java); cl.binary(BinaryOp.ADD, a.cl, b.cl, p[0].cl); }),
                new Op("mul", p -> { java.binary(BinaryOp.MUL, a.java, b.java, p[0].java); cl.binary(BinaryOp.MUL, a.cl, b.cl, p[0].cl); }),
                new Op("sign", p -> { java.unary(UnaryOp.SIGN, a.java, p[0].java); cl.unary(UnaryOp.SIGN, a.cl, p[0].cl); }),
                new Op("clamp", p -> { java.clamp(a.java, -0.5f, 0.75f, p[0].java); cl.clamp(a.cl, -0.5f, 0.75f, p[0].cl); }),
                new Op("minimum", p -> { java.binary(BinaryOp.MIN, a.java, b.java, p[0].java); cl.binary(BinaryOp.MIN, a.cl, b.cl, p[0].cl); }),
                new Op("maximum", p -> { java.binary(BinaryOp.MAX, a.java, b.java, p[0].java); cl.binary(BinaryOp.MAX, a.cl, b.cl, p[0].cl); }),
                new Op("relu", p -> { java.unary(UnaryOp.RELU, a.java, p[0].java); cl.unary(UnaryOp.RELU, a.cl, p[0].cl); }),
                new Op("reluBackward", p -> { java.copy(b.java, p[0].java); cl.copy(b.cl, p[0].cl);
                    java.reluBackward(a.java, b.java, p[0].java); cl.reluBackward(a.cl, b.cl, p[0].cl); }));
        for (Op op : ops) {
            Pair out = random(cl, new SplittableRandom(6), n);
            op.run.accept(new Pair[] {out});
            assertSameBits(op.name, out.java, cl, out.cl);
        }
        // the two that multiply and add: bit for bit where the device rounds like Java, else K = 2
        Pair axpy = pair(cl, b.values.clone(), n);
        both(cl, be -> be.axpy(0.37f, be == java ? a.java : a.cl, be == java ? axpy.java : axpy.cl));
        assertSameBitsOrBound("axpy", axpy.java, cl, axpy.cl, 2, magnitude(a.values, 0.37f, b.values));
        Pair affine = random(cl, new SplittableRandom(6), n);
        both(cl, be -> be.affine(be == java ? a.java : a.cl, 2.1f, -0.3f, be == java ? affine.java : affine.cl));
        assertSameBitsOrBound("affine", affine.java, cl, affine.cl, 2, magnitude(a.values, 2.1f, constant(n, -0.3f)));
        // in place: out is an input
        Pair inPlace = pair(cl, a.values.clone(), n);
        both(cl, be -> be.affine(be == java ? inPlace.java : inPlace.cl, -1.5f, 0.25f, be == java ? inPlace.java : inPlace.cl));
        assertSameBitsOrBound("affine in place", inPlace.java, cl, inPlace.cl, 2, magnitude(a.values, -1.5f, constant(n, 0.25f)));
    }

    @ParameterizedTest @ValueSource(strings = {"opencl-tiled", "opencl-rows", "opencl-plain"})
    void reductionsAndRowOps(String variant) {
        Backend cl = opencl(variant);
        SplittableRandom random = new SplittableRandom(7);
        for (int n : new int[] {1, 10, 255, 256, 257, 100_003}) {
            Pair x = random(cl, random, n), sum = zeros(cl, 1);
            both(cl, be -> be.reduce(ReduceOp.SUM, be == java ? x.java : x.cl, be == java ? sum.java : sum.cl));
            assertClose("sum of " + n, sum.java, cl, sum.cl, 1e-5 * Math.sqrt(n));
        }
        Pair scalar = pair(cl, new float[] {1.75f}, 1), out = random(cl, random, 3, 41);
        both(cl, be -> be.axpy(0.3f, be == java ? scalar.java : scalar.cl, be == java ? out.java : out.cl));
        assertSameBitsOrBound("axpy of a scalar", out.java, cl, out.cl, 2, magnitude(constant(out.values.length, 1.75f), 0.3f, out.values));

        for (int[] dims : new int[][] {{1, 1}, {5, 3, 7, 9}, {33, 3072}, {3, 1000}}) {
            Pair x = random(cl, random, dims);
            int rows = dims[0];
            Pair squares = zeros(cl, rows);
            both(cl, be -> be.reduce(ReduceOp.SUM_SQUARES, be == java ? x.java : x.cl, be == java ? squares.java : squares.cl));
            assertClose("row sums of squares " + Shape.of(dims), squares.java, cl, squares.cl, 1e-5);
            Pair sums = zeros(cl, rows);
            both(cl, be -> be.reduce(ReduceOp.SUM, be == java ? x.java : x.cl, be == java ? sums.java : sums.cl));
            assertClose("row sums " + Shape.of(dims), sums.java, cl, sums.cl, 1e-5);
            Pair scales = random(cl, random, rows);
            for (BinaryOp op : BinaryOp.values()) {
                Pair scaled = zeros(cl, dims);
                both(cl, be -> be.binary(op, be == java ? x.java : x.cl, be == java ? scales.java : scales.cl, be == java ? scaled.java : scaled.cl));
                assertSameBits(op + " by rows " + Shape.of(dims), scaled.java, cl, scaled.cl);
            }
            Pair grad = random(cl, random, dims);
            both(cl, be -> be.axpy(-0.7f, be == java ? scales.java : scales.cl, be == java ? grad.java : grad.cl));
            float[] rowScales = new float[grad.values.length];  // element i of row i / cols is scaled by scales[row]
            for (int i = 0; i < rowScales.length; i++) rowScales[i] = scales.values[i / (rowScales.length / rows)];
            assertSameBitsOrBound("axpy by rows " + Shape.of(dims), grad.java, cl, grad.cl, 2, magnitude(rowScales, -0.7f, grad.values));
        }

        // rsqrt of row norms, with a zero row (infinity)
        float[] norms = randoms(random, 64, 0, 50);
        norms[0] = 0f;
        Pair squaredNorms = pair(cl, norms, 64), inverse = zeros(cl, 64);
        both(cl, be -> be.unary(UnaryOp.RSQRT, be == java ? squaredNorms.java : squaredNorms.cl, be == java ? inverse.java : inverse.cl));
        assertClose("rsqrt", inverse.java, cl, inverse.cl, 1e-6);

        // argmax with ties (quantised values) and a NaN, which is never the largest
        float[] logits = randoms(random, 37 * 10, 0, 4);
        for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.floor(logits[i]);
        logits[3] = Float.NaN;
        Pair x = pair(cl, logits, 37, 10), arg = zeros(cl, 37);
        both(cl, be -> be.reduce(ReduceOp.ARGMAX, be == java ? x.java : x.cl, be == java ? arg.java : arg.cl));
        assertSameBits("argmax of rows", arg.java, cl, arg.cl);
    }

    @ParameterizedTest @ValueSource(strings = {"opencl-tiled", "opencl-rows", "opencl-plain"})
    void uniformIsBitExactWithRng(String variant) {
        Backend cl = opencl(variant);
        long[] seeds = {0L, 1L, -1L, 42L, Long.MIN_VALUE, 0x9E3779B97F4A7C15L};
        float[][] ranges = {{0f, 1f}, {-8f / 255f, 8f / 255f}, {-0.031f, 0.031f}, {3f, 7.5f}};
        for (long seed : seeds) {
            for (float[] range : ranges) {
                Tensor t = cl.allocate(Shape.of(4099));
                cl.uniform(t, range[0], range[1], seed);
                float[] got = Tensors.toArray(cl, t);
                // lo + (hi - lo) * u: K = 2 terms of magnitude at most |lo| + |hi - lo| where the device fuses
                double bound = roundsLikeJava(cl) ? 0 : 2 * 2 * 0x1p-24 * (Math.abs(range[0]) + Math.abs(range[1] - range[0]));
                for (int i = 0; i < got.length; i++) {
                    float expected = Rng.uniform(seed, i, range[0], range[1]);
                    if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(got[i]) && !(Math.abs(expected - got[i]) <= bound)) {
                        fail("uniform seed " + seed + " range [" + range[0] + ", " + range[1] + ") element " + i
                                + ": Rng gives " + expected + ", OpenCL " + got[i]);
                    }
                }
                cl.release(t);
            }
        }
        Pair viaJava = zeros(cl, 3, 5, 7);
        both(cl, be -> be.uniform(be == java ? viaJava.java : viaJava.cl, -1f, 1f, 123));
        assertSameBitsOrBound("uniform vs Java backend", viaJava.java, cl, viaJava.cl, 2, constant(3 * 5 * 7, 1f + 2f));
    }

    // ---- pooling ----------------------------------------------------------------------------------

    @ParameterizedTest @ValueSource(strings = {"opencl-tiled", "opencl-rows", "opencl-plain"})
    void maxPoolForwardAndBackward(String variant) {
        Backend cl = opencl(variant);
        SplittableRandom random = new SplittableRandom(11);
        // 2 x 2 pools with whole vectors of 8 windows and a tail (28 wide), a tail only (10), two
        // vectors and an unused last column (33); then other windows and strides
        int[][] cases = {{4, 6, 28, 28, 2, 2}, {3, 4, 10, 10, 2, 2}, {2, 3, 9, 33, 2, 2},
                {3, 5, 11, 9, 3, 2}, {2, 3, 7, 8, 3, 1}, {1, 2, 5, 5, 5, 5}, {2, 2, 9, 9, 2, 3}};
        for (int[] c : cases) {
            float[] values = randoms(random, c[0] * c[1] * c[2] * c[3], 0, 4);
            for (int i = 0; i < values.length; i++) values[i] = (float) Math.floor(values[i]);  // many ties
            values[5] = Float.NaN;
            values[values.length - 2] = Float.NaN;  // in the last window, where the rows kernel reads lane by lane
            Pair input = pair(cl, values, c[0], c[1], c[2], c[3]);
            int outH = (c[2] - c[4]) / c[5] + 1, outW = (c[3] - c[4]) / c[5] + 1;
            Pair out = random(cl, random, c[0], c[1], outH, outW);
            both(cl, be -> be.maxPool2d(be == java ? input.java : input.cl, be == java ? out.java : out.cl, c[4], c[5]));
            assertSameBits("maxPool2d " + Arrays.toString(c), out.java, cl, out.cl);
            Pair outGrad = random(cl, random, c[0], c[1], outH, outW), inGrad = random(cl, random, c[0], c[1], c[2], c[3]);
            both(cl, be -> be.maxPool2dBackward(be == java ? input.java : input.cl, be == java ? outGrad.java : outGrad.cl,
                    be == java ? inGrad.java : inGrad.cl, c[4], c[5]));
            assertSameBits("maxPool2dBackward " + Arrays.toString(c), inGrad.java, cl, inGrad.cl);
        }
    }

    // ---- linear -----------------------------------------------------------------------------------

    static Stream<Arguments> linearShapes() {
        List<Arguments> cases = new ArrayList<>();
        int[][] shapes = {{32, 400, 120}, {32, 120, 84}, {32, 84, 10}, {1, 1, 1}, {33, 401, 130}, {7, 3, 65}, {70, 37, 5}};
        for (String variant : VARIANTS) {
            for (int[] s : shapes) cases.add(Arguments.of(variant, s));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}") @MethodSource("linearShapes")
    void linearForwardAndBackward(String variant, int[] s) {
        Backend cl = opencl(variant);
        SplittableRandom random = new SplittableRandom(12);
        int batch = s[0], in = s[1], out = s[2];
        Pair x = random(cl, random, batch, in), w = random(cl, random, out, in), b = random(cl, random, out);
        for (boolean withBias : new boolean[] {true, false}) {
            Pair y = random(cl, random, batch, out);
            both(cl, be -> be.linear(be == java ? x.java : x.cl, be == java ? w.java : w.cl,
                    withBias ? (be == java ? b.java : b.cl) : null, be == java ? y.java : y.cl));
            assertClose("linear " + (withBias ? "with" : "without") + " bias", y.java, cl, y.cl, 2e-5);
        }
        Pair dy = random(cl, random, batch, out);
        for (int mask = 1; mask < 8; mask++) {
            boolean wantInput = (mask & 1) != 0, wantWeight = (mask & 2) != 0, wantBias = (mask & 4) != 0;
            Pair dx = random(cl, random, batch, in), dw = random(cl, random, out, in), db = random(cl, random, out);
            both(cl, be -> {
                boolean j = be == java;
                be.linearBackward(j ? x.java : x.cl, j ? w.java : w.cl, j ? dy.java : dy.cl, wantInput ? (j ? dx.java : dx.cl) : null,
                        wantWeight ? (j ? dw.java : dw.cl) : null, wantBias ? (j ? db.java : db.cl) : null);
            });
            String what = "linearBackward mask " + mask + " ";
            if (wantInput) assertClose(what + "inputGrad", dx.java, cl, dx.cl, 1e-4);
            else assertArrayEquals(dx.values, Tensors.toArray(cl, dx.cl), what + "inputGrad must stay untouched");
            if (wantWeight) assertClose(what + "weightGrad", dw.java, cl, dw.cl, 1e-4);
            else assertArrayEquals(dw.values, Tensors.toArray(cl, dw.cl), what + "weightGrad must stay untouched");
            if (wantBias) assertClose(what + "biasGrad", db.java, cl, db.cl, 1e-5);
            else assertArrayEquals(db.values, Tensors.toArray(cl, db.cl), what + "biasGrad must stay untouched");
        }
    }

    @ParameterizedTest @ValueSource(strings = {"opencl-tiled", "opencl-rows", "opencl-plain"})
    void linearTakesFlattenedImages(String variant) {
        Backend cl = opencl(variant);
        SplittableRandom random = new SplittableRandom(13);
        Pair x = random(cl, random, 6, 16, 5, 5), w = random(cl, random, 12, 400), y = zeros(cl, 6, 12);
        both(cl, be -> be.linear(be == java ? x.java : x.cl, be == java ? w.java : w.cl, null, be == java ? y.java : y.cl));
        assertClose("linear of [N, C, H, W]", y.java, cl, y.cl, 2e-5);
    }

    // ---- softmax, loss, optimiser -------------------------------------------------------------------

    @ParameterizedTest @ValueSource(strings = {"opencl-tiled", "opencl-rows", "opencl-plain"})
    void logSoftmaxAndNllLoss(String variant) {
        Backend cl = opencl(variant);
        SplittableRandom random = new SplittableRandom(14);
        for (int[] dims : new int[][] {{32, 10}, {1, 1}, {5, 37}, {3, 2}}) {
            int rows = dims[0], cols = dims[1];
            float[] logits = randoms(random, rows * cols, -20, 20);
            Pair x = pair(cl, logits, rows, cols), y = random(cl, random, rows, cols);
            both(cl, be -> be.logSoftmax(be == java ? x.java : x.cl, be == java ? y.java : y.cl));
            assertClose("logSoftmax " + rows + "x" + cols, y.java, cl, y.cl, 1e-5);
            Pair dy = random(cl, random, rows, cols), dx = random(cl, random, rows, cols);
            both(cl, be -> be.logSoftmaxBackward(be == java ? y.java : y.cl, be == java ? dy.java : dy.cl, be == java ? dx.java : dx.cl));
            assertClose("logSoftmaxBackward", dx.java, cl, dx.cl, 1e-5);

            float[] labelValues = new float[rows];
            for (int r = 0; r < rows; r++) labelValues[r] = random.nextInt(cols);
            Pair labels = pair(cl, labelValues, rows), losses = random(cl, random, rows);
            both(cl, be -> be.nllLoss(be == java ? y.java : y.cl, be == java ? labels.java : labels.cl, be == java ? losses.java : losses.cl));
            assertClose("nllLoss", losses.java, cl, losses.cl, 1e-5);
            Pair lossGrad = random(cl, random, rows), logProbGrad = random(cl, random, rows, cols);
            both(cl, be -> be.nllLossBackward(be == java ? labels.java : labels.cl, be == java ? lossGrad.java : lossGrad.cl,
                    be == java ? logProbGrad.java : logProbGrad.cl));
            assertSameBits("nllLossBackward", logProbGrad.java, cl, logProbGrad.cl);
        }
        // a label that is no class index: Java throws, OpenCL (which cannot throw) gives NaN
        Tensor logProbs = Tensors.fromArray(cl, new float[] {-1f, -2f, -3f, -4f}, 2, 2), labels = Tensors.fromArray(cl, new float[] {1f, 2.5f}, 2);
        Tensor losses = cl.allocate(Shape.of(2));
        cl.nllLoss(logProbs, labels, losses);
        float[] l = Tensors.toArray(cl, losses);
        assertEquals(2f, l[0]);
        assertTrue(Float.isNaN(l[1]), "an invalid label gives NaN, got " + l[1]);
    }

    @ParameterizedTest @ValueSource(strings = {"opencl-tiled", "opencl-rows", "opencl-plain"})
    void sgdStepIsBitExact(String variant) {
        sgdStepIsBitExact(variant, 0f);
        sgdStepIsBitExact(variant, 5e-4f);
    }

    private void sgdStepIsBitExact(String variant, float decay) {
        Backend cl = opencl(variant);
        SplittableRandom random = new SplittableRandom(15);
        Pair p = random(cl, random, 16, 6, 5, 5), g = random(cl, random, 16, 6, 5, 5), v = random(cl, random, 16, 6, 5, 5);
        float lr = 0.001f, momentum = 0.9f;
        if (roundsLikeJava(cl)) {
            for (int step = 0; step < 3; step++) {
                both(cl, be -> sgdStep(be, be == java ? p.java : p.cl, be == java ? g.java : g.cl, be == java ? v.java : v.cl, lr, momentum, decay));
            }
            assertSameBits("sgd param, decay " + decay, p.java, cl, p.cl);
            assertSameBits("sgd velocity, decay " + decay, v.java, cl, v.cl);
            assertSameBits("sgd gradient (only read), decay " + decay, g.java, cl, g.cl);
            return;
        }
        if (decay != 0f) return;  // the bound below is for the step without decay; the goldens check decay on such devices
        // A device that fuses: one step from the same state. v' = momentum * v + g (K = 2); p' = p - lr * v'
        // (K = 2), whose v' may itself be off by 4 * 2^-24 * (|momentum v| + |g|), which lr scales:
        // sum|a_i b_i| of p' taken as |p| + |lr| (|v'| + |momentum v| + |g|).
        float[] p0 = p.values, g0 = g.values, v0 = v.values;
        both(cl, be -> sgdStep(be, be == java ? p.java : p.cl, be == java ? g.java : g.cl, be == java ? v.java : v.cl, lr, momentum, 0f));
        float[] v1 = Tensors.toArray(java, v.java), velocityMagnitude = new float[v0.length], paramMagnitude = new float[v0.length];
        for (int i = 0; i < v0.length; i++) {
            velocityMagnitude[i] = Math.abs(momentum * v0[i]) + Math.abs(g0[i]);
            paramMagnitude[i] = Math.abs(p0[i]) + lr * (Math.abs(v1[i]) + velocityMagnitude[i]);
        }
        assertWithinBound("sgd velocity", v1, Tensors.toArray(cl, v.cl), 2, velocityMagnitude);
        assertWithinBound("sgd param", Tensors.toArray(java, p.java), Tensors.toArray(cl, p.cl), 2, paramMagnitude);
    }

    /** One SGD step: the backend's fused kernel where it has one, else optim.Sgd's plain path (the reference's). */
    private static void sgdStep(Backend be, Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float decay) {
        if (be instanceof OptimizerKernels fused) {
            fused.sgdStep(param, grad, velocity, lr, momentum, decay);
            return;
        }
        if (decay != 0f) {   // g = grad + decay * param, beside the gradient (which is only read)
            Tensor decayed = be.allocate(grad.shape());
            be.copy(grad, decayed);
            be.axpy(decay, param, decayed);
            grad = decayed;
        }
        be.affine(velocity, momentum, 0f, velocity);
        be.axpy(1f, grad, velocity);
        be.axpy(-lr, velocity, param);
    }
}
