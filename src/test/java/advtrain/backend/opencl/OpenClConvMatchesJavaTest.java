package advtrain.backend.opencl;

import advtrain.backend.Tensors;
import advtrain.backend.Backend;
import advtrain.backend.Backend.ReduceOp;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The convolutions, forward and backward, run on OpenCL and on the reference backend with the same
 * random inputs, on every version of the OpenCL kernels (tiled, rows and plain): the seed's
 * shapes, odd sizes, strides and padding, shapes that take the tiled kernels through several
 * slices of local memory, and the CIFAR ResNets' layers; and the weight gradient's fixed-order
 * sums, the same bits every run. Without an OpenCL device the tests are skipped (TestBackends).
 */
class OpenClConvMatchesJavaTest extends OpenClTestSupport {
    /** batch, inChannels, inH, inW, outChannels, kernelH, kernelW, stride, padding */
    static Stream<Arguments> convShapes() {
        List<Arguments> cases = new ArrayList<>();
        int[][] shapes = {
                {4, 3, 32, 32, 6, 5, 5, 1, 0},    // the seed's conv1
                {4, 6, 14, 14, 16, 5, 5, 1, 0},   // the seed's conv2
                {3, 5, 11, 7, 7, 3, 2, 2, 1},     // odd everything, stride and padding
                {2, 4, 9, 10, 3, 3, 3, 3, 2},     // stride 3 with wide padding
                {1, 1, 1, 1, 1, 1, 1, 1, 0},      // 1x1
                {2, 20, 8, 8, 33, 3, 3, 1, 1},    // more channels than one tile, taps > 64
                {5, 2, 6, 5, 2, 6, 5, 1, 0},      // kernel the size of the image
                {3, 13, 9, 12, 11, 3, 4, 1, 0},   // stride 1 unpadded (the rows kernels), channels not a multiple of their blocks
                // big enough that the tiled kernels work in several slices of local memory
                // (8192 floats at most): input channels (forward), output channels (backward input),
                // output-gradient rows (backward weight)
                {1, 130, 5, 5, 9, 3, 3, 1, 1},
                {1, 3, 5, 6, 240, 3, 3, 1, 1},
                {2, 2, 30, 40, 3, 3, 3, 1, 1},
        };
        for (String variant : VARIANTS) {
            for (int[] s : shapes) cases.add(Arguments.of(variant, s));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}") @MethodSource("convShapes")
    void conv2dForward(String variant, int[] s) {
        Backend cl = opencl(variant);
        SplittableRandom random = new SplittableRandom(8);
        Pair input = random(cl, random, s[0], s[1], s[2], s[3]), weight = random(cl, random, s[4], s[1], s[5], s[6]);
        Pair bias = random(cl, random, s[4]);
        int outH = (s[2] + 2 * s[8] - s[5]) / s[7] + 1, outW = (s[3] + 2 * s[8] - s[6]) / s[7] + 1;
        for (boolean withBias : new boolean[] {true, false}) {
            Pair out = random(cl, random, s[0], s[4], outH, outW);  // garbage: forward must overwrite
            both(cl, be -> be.conv2d(be == java ? input.java : input.cl, be == java ? weight.java : weight.cl,
                    withBias ? (be == java ? bias.java : bias.cl) : null, be == java ? out.java : out.cl, s[7], s[8]));
            assertClose("conv2d " + (withBias ? "with" : "without") + " bias", out.java, cl, out.cl, 2e-5);
        }
    }

    @ParameterizedTest(name = "{0} {1}") @MethodSource("convShapes")
    void conv2dBackwardAccumulatesEachGradient(String variant, int[] s) {
        Backend cl = opencl(variant);
        SplittableRandom random = new SplittableRandom(9);
        Pair input = random(cl, random, s[0], s[1], s[2], s[3]), weight = random(cl, random, s[4], s[1], s[5], s[6]);
        int outH = (s[2] + 2 * s[8] - s[5]) / s[7] + 1, outW = (s[3] + 2 * s[8] - s[6]) / s[7] + 1;
        Pair outGrad = random(cl, random, s[0], s[4], outH, outW);
        // every subset of the three gradients, each starting from non-zero values
        for (int mask = 1; mask < 8; mask++) {
            boolean wantInput = (mask & 1) != 0, wantWeight = (mask & 2) != 0, wantBias = (mask & 4) != 0;
            Pair inGrad = random(cl, random, s[0], s[1], s[2], s[3]), wGrad = random(cl, random, s[4], s[1], s[5], s[6]);
            Pair bGrad = random(cl, random, s[4]);
            Tensor[] untouched = {cl.allocate(inGrad.cl.shape()), cl.allocate(wGrad.cl.shape()), cl.allocate(bGrad.cl.shape())};
            cl.copy(inGrad.cl, untouched[0]);
            cl.copy(wGrad.cl, untouched[1]);
            cl.copy(bGrad.cl, untouched[2]);
            both(cl, be -> {
                boolean j = be == java;
                be.conv2dBackward(j ? input.java : input.cl, j ? weight.java : weight.cl, j ? outGrad.java : outGrad.cl,
                        wantInput ? (j ? inGrad.java : inGrad.cl) : null, wantWeight ? (j ? wGrad.java : wGrad.cl) : null,
                        wantBias ? (j ? bGrad.java : bGrad.cl) : null, s[7], s[8]);
            });
            String what = "conv2dBackward mask " + mask + " ";
            double tolerance = 1e-4;
            if (wantInput) assertClose(what + "inputGrad", inGrad.java, cl, inGrad.cl, tolerance);
            else assertArrayEquals(inGrad.values, Tensors.toArray(cl, inGrad.cl), what + "inputGrad must stay untouched");
            if (wantWeight) assertClose(what + "weightGrad", wGrad.java, cl, wGrad.cl, tolerance);
            else assertArrayEquals(wGrad.values, Tensors.toArray(cl, wGrad.cl), what + "weightGrad must stay untouched");
            if (wantBias) assertClose(what + "biasGrad", bGrad.java, cl, bGrad.cl, tolerance);
            else assertArrayEquals(bGrad.values, Tensors.toArray(cl, bGrad.cl), what + "biasGrad must stay untouched");
            for (Tensor t : untouched) cl.release(t);
        }
    }

    /**
     * The convolutions of the CIFAR ResNets, without bias as there (3x3 with padding 1, stride 2
     * where a stage halves the image, 1x1 stride-2 shortcuts; PreAct-ResNet-18's up to 512
     * channels), forward and all three gradients at once, at batch 2 and 1.
     */
    static Stream<Arguments> resNetConvShapes() {
        List<Arguments> cases = new ArrayList<>();
        int[][] shapes = {
                {2, 3, 32, 32, 16, 3, 3, 1, 1}, {2, 16, 32, 32, 16, 3, 3, 1, 1}, {2, 16, 32, 32, 32, 3, 3, 2, 1},   // ResNet-20
                {2, 32, 16, 16, 32, 3, 3, 1, 1}, {2, 32, 16, 16, 64, 3, 3, 2, 1}, {2, 64, 8, 8, 64, 3, 3, 1, 1},
                {2, 16, 32, 32, 32, 1, 1, 2, 0},                                                                 // option A's subsampling
                {1, 64, 32, 32, 128, 3, 3, 2, 1}, {1, 64, 32, 32, 128, 1, 1, 2, 0}, {1, 128, 16, 16, 128, 3, 3, 1, 1}, // PreAct-ResNet-18
                {1, 256, 8, 8, 512, 3, 3, 2, 1}, {1, 512, 4, 4, 512, 3, 3, 1, 1},
        };
        for (String variant : VARIANTS) {
            for (int[] s : shapes) cases.add(Arguments.of(variant, s));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}") @MethodSource("resNetConvShapes")
    void resNetConvolutions(String variant, int[] s) {
        Backend cl = opencl(variant);
        SplittableRandom random = new SplittableRandom(11);
        Pair input = random(cl, random, s[0], s[1], s[2], s[3]), weight = random(cl, random, s[4], s[1], s[5], s[6]);
        int outH = (s[2] + 2 * s[8] - s[5]) / s[7] + 1, outW = (s[3] + 2 * s[8] - s[6]) / s[7] + 1;
        Pair out = random(cl, random, s[0], s[4], outH, outW), outGrad = random(cl, random, s[0], s[4], outH, outW);
        Pair inGrad = random(cl, random, s[0], s[1], s[2], s[3]), wGrad = random(cl, random, s[4], s[1], s[5], s[6]);
        both(cl, be -> {
            boolean j = be == java;
            be.conv2d(j ? input.java : input.cl, j ? weight.java : weight.cl, null, j ? out.java : out.cl, s[7], s[8]);
            be.conv2dBackward(j ? input.java : input.cl, j ? weight.java : weight.cl, j ? outGrad.java : outGrad.cl,
                    j ? inGrad.java : inGrad.cl, j ? wGrad.java : wGrad.cl, null, s[7], s[8]);
        });
        // Sums of up to 4,608 products that partly cancel: an element may be far smaller than the
        // tensor's typical one, and the two summation orders' difference scales with the latter.
        assertCloseToScale("conv2d", out.java, cl, out.cl, 1e-5);
        assertCloseToScale("conv2dBackward inputGrad", inGrad.java, cl, inGrad.cl, 1e-5);
        assertCloseToScale("conv2dBackward weightGrad", wGrad.java, cl, wGrad.cl, 5e-5);
    }

    /**
     * |expected - actual| <= tolerance * (|expected| + rms(expected)) everywhere (KernelTestSupport's
     * measure in the Java backend's tests): relative to the element, and to the tensor's typical size where sums cancel.
     * Dropping one of 4,608 products of values in [-1, 1) misses by about 1/4, far beyond it.
     */
    static void assertCloseToScale(String what, Tensor expected, Backend cl, Tensor actual, double tolerance) {
        float[] e = Tensors.toArray(java, expected), a = Tensors.toArray(cl, actual);
        double squares = 0;
        for (float v : e) squares += (double) v * v;
        double rms = Math.sqrt(squares / e.length);
        for (int i = 0; i < e.length; i++) {
            double allowed = tolerance * (Math.abs(e[i]) + rms);
            if (!(Math.abs((double) e[i] - a[i]) <= allowed)) {
                fail(what + ": element " + i + " expected " + e[i] + " got " + a[i] + " (allowed " + allowed + ")");
            }
        }
    }

    @ParameterizedTest @ValueSource(strings = {"opencl-tiled", "opencl-rows", "opencl-plain"})
    void gradientsAreTheSameBitsEveryRun(String variant) {
        Backend cl = opencl(variant);
        SplittableRandom random = new SplittableRandom(10);
        Pair input = random(cl, random, 8, 3, 32, 32), weight = random(cl, random, 6, 3, 5, 5);
        Pair outGrad = random(cl, random, 8, 6, 28, 28);
        float[] first = null, firstBias = null;
        for (int run = 0; run < 3; run++) {
            Tensor wGrad = cl.allocate(weight.cl.shape()), bGrad = cl.allocate(Shape.of(6));
            cl.conv2dBackward(input.cl, weight.cl, outGrad.cl, null, wGrad, bGrad, 1, 0);
            float[] w = Tensors.toArray(cl, wGrad), b = Tensors.toArray(cl, bGrad);
            if (first == null) { first = w; firstBias = b; }
            else {
                assertArrayEquals(first, w, "weight gradient differs between runs");
                assertArrayEquals(firstBias, b, "bias gradient differs between runs");
            }
        }
        Pair x = random(cl, random, 100_000), sum = zeros(cl, 1);
        float firstSum = Float.NaN;
        for (int run = 0; run < 3; run++) {
            cl.reduce(ReduceOp.SUM, x.cl, sum.cl);
            float s = Tensors.toArray(cl, sum.cl)[0];
            if (run == 0) firstSum = s;
            else assertEquals(Float.floatToRawIntBits(firstSum), Float.floatToRawIntBits(s), "sum differs between runs");
        }
    }
}
