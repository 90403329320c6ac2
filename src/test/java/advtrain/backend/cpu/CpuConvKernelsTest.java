package advtrain.backend.cpu;

import advtrain.backend.FusedKernels;
import advtrain.backend.reference.HeapStorage;
import advtrain.backend.reference.ReferenceBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fast {@link CpuBackend}'s convolutions against the {@link ReferenceBackend}'s, with every
 * algorithm (the automatic choice, and each one forced where it applies): the seed's shapes at
 * batch 32 and 4, odd sizes, strides 2 and 3, padding 1 and 2, non-square and 1x1 kernels, the
 * CIFAR ResNets' layers, null bias and null gradient arguments, the fused max-pool, and the
 * accumulation contract (backward kernels ADD into gradients that already hold values).
 */
class CpuConvKernelsTest extends KernelTestSupport {
    /** Convolutions are checked with each algorithm, the automatic choice and each one forced. */
    private final CpuBackend[] convBackends = {fast, CpuBackend.withConvAlgorithm("direct"), CpuBackend.withConvAlgorithm("im2col"),
            CpuBackend.withConvAlgorithm("channels"), CpuBackend.withConvAlgorithm("groups"), CpuBackend.withConvAlgorithm("lanes"),
            CpuBackend.withConvAlgorithm("winograd")};
    private static final String[] CONV_ALGORITHMS = {"auto", "direct", "im2col", "channels", "groups", "lanes", "winograd"};

    /** One convolution: input [n, c, h, w], weight [k, c, r, s], stride, padding. */
    record Conv(int n, int c, int h, int w, int k, int r, int s, int stride, int padding) {
        /** The convolution's output shape. */
        Shape out() {
            return advtrain.backend.ConvGeometry.outputShape("conv2d", Shape.of(n, c, h, w), Shape.of(k, c, r, s), stride, padding);
        }

        @Override public String toString() {
            return "in[" + n + "," + c + "," + h + "," + w + "] w[" + k + "," + c + "," + r + "," + s + "] stride "
                    + stride + " pad " + padding;
        }
    }

    static Stream<Conv> convs() {
        return Stream.of(
                new Conv(32, 3, 32, 32, 6, 5, 5, 1, 0),    // the seed's conv1, batch 32
                new Conv(32, 6, 14, 14, 16, 5, 5, 1, 0),   // the seed's conv2, batch 32
                new Conv(4, 3, 32, 32, 6, 5, 5, 1, 0),     // batch 4
                new Conv(4, 6, 14, 14, 16, 5, 5, 1, 0),
                new Conv(1, 3, 32, 32, 6, 5, 5, 1, 0),     // a single image
                new Conv(3, 5, 11, 9, 7, 3, 3, 1, 1),      // odd sizes, padding 1
                new Conv(2, 2, 9, 13, 3, 5, 5, 1, 2),      // padding 2
                new Conv(3, 4, 13, 10, 5, 5, 3, 1, 1),     // non-square kernel
                new Conv(3, 3, 17, 15, 4, 3, 3, 2, 1),     // stride 2, padding 1
                new Conv(2, 3, 16, 16, 5, 5, 5, 2, 2),     // stride 2, padding 2
                new Conv(2, 3, 12, 12, 4, 4, 4, 3, 0),     // stride 3
                new Conv(2, 3, 6, 48, 4, 3, 3, 2, 1),      // stride 2 on rows of 3 vectors: split element by element
                new Conv(2, 7, 6, 5, 9, 1, 1, 1, 0),       // 1x1
                new Conv(2, 3, 7, 9, 32, 3, 3, 1, 1),      // two vectors of output channels, padded (the channels forward)
                new Conv(3, 2, 4, 4, 16, 3, 3, 1, 0),      // fewer output pixels than one register tile
                new Conv(3, 2, 4, 4, 32, 3, 3, 1, 0),      // the same with the two-vector tile (AVX-512)
                new Conv(2, 5, 9, 9, 64, 3, 3, 2, 1),      // two-vector tiles, stride 2, 25 pixels: the last tile overlaps
                new Conv(2, 8, 7, 6, 16, 2, 3, 1, 1),      // the weight gradient by filter rows: 16 of them, 2x3 filters
                new Conv(3, 6, 5, 4, 16, 3, 3, 1, 2),      // 18 filter rows (the last tile overlaps), padding 2
                new Conv(2, 2, 5, 5, 3, 1, 1, 1, 1),       // padding wider than the kernel
                new Conv(2, 1, 5, 5, 2, 5, 5, 1, 0),       // a single output pixel
                new Conv(2, 17, 7, 40, 19, 3, 2, 1, 1),    // many channels, wide rows
                // input channels in whole vectors: the input gradient as a forward convolution with flipped filters
                new Conv(3, 16, 9, 7, 5, 3, 3, 1, 0),      // padded by 2 there
                new Conv(2, 32, 6, 6, 4, 5, 5, 1, 2),
                new Conv(2, 16, 5, 5, 3, 1, 1, 1, 0));     // 1x1: flipped, the same filters, no padding
    }

    /**
     * The convolutions of the CIFAR ResNets (all 3x3 with padding 1, or 1x1; stride 2 where a stage
     * halves the image), at small batches: ResNet-20's, also at batch 16 (where the batch fills
     * AVX-512's lanes), and PreAct-ResNet-18's, whose 3x3 convolutions have 64 to 512 channels.
     * Forward and backward only (the fused pooling is no part of a ResNet).
     */
    static Stream<Conv> resNetConvs() {
        return Stream.of(
                new Conv(2, 3, 32, 32, 16, 3, 3, 1, 1),     // ResNet-20: conv1
                new Conv(2, 16, 32, 32, 16, 3, 3, 1, 1),    // layer1
                new Conv(2, 16, 32, 32, 32, 3, 3, 2, 1),    // layer2.0.conv1: 32x32 -> 16x16
                new Conv(2, 32, 16, 16, 32, 3, 3, 1, 1),    // layer2
                new Conv(2, 32, 16, 16, 64, 3, 3, 2, 1),    // layer3.0.conv1: 16x16 -> 8x8
                new Conv(2, 64, 8, 8, 64, 3, 3, 1, 1),      // layer3
                new Conv(16, 16, 32, 32, 16, 3, 3, 1, 1),   // batch 16
                new Conv(16, 16, 32, 32, 32, 3, 3, 2, 1),
                new Conv(16, 64, 8, 8, 64, 3, 3, 1, 1),
                new Conv(16, 32, 16, 16, 64, 3, 3, 2, 1),   // stride 2 on rows of one vector: split two rows at a time, on both threads
                new Conv(16, 16, 32, 32, 32, 1, 1, 2, 0),   // option A's subsampling as a 1x1 stride-2 convolution
                new Conv(3, 32, 16, 16, 32, 3, 3, 1, 1),    // Winograd groups of 2 images (rows of one vector), the last group 1 image
                new Conv(6, 64, 8, 8, 64, 3, 3, 1, 1),      // groups of 4 images (rows of half a vector), the last group 2
                new Conv(37, 16, 32, 32, 16, 3, 3, 1, 1),   // weight gradient by groups of 5 images (the last of 2), in chunks of 3
                new Conv(37, 16, 32, 32, 32, 3, 3, 2, 1),   // the same with two-vector tiles, in chunks of 4
                new Conv(1, 3, 32, 32, 64, 3, 3, 1, 1),     // PreAct-ResNet-18: conv1
                new Conv(1, 64, 32, 32, 64, 3, 3, 1, 1),    // layer1
                new Conv(1, 64, 32, 32, 128, 3, 3, 2, 1),   // layer2.0.conv1
                new Conv(1, 64, 32, 32, 128, 1, 1, 2, 0),   // layer2.0.shortcut
                new Conv(1, 128, 16, 16, 128, 3, 3, 1, 1),
                new Conv(1, 128, 16, 16, 256, 3, 3, 2, 1),
                new Conv(1, 128, 16, 16, 256, 1, 1, 2, 0),
                new Conv(1, 256, 8, 8, 256, 3, 3, 1, 1),
                new Conv(1, 256, 8, 8, 512, 3, 3, 2, 1),
                new Conv(1, 256, 8, 8, 512, 1, 1, 2, 0),
                new Conv(1, 512, 4, 4, 512, 3, 3, 1, 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"convs", "resNetConvs"})
    void conv2dForwardMatchesReference(Conv cv) {
        Tensor x = random(-1, 1, cv.n, cv.c, cv.h, cv.w), w = random(-0.5f, 0.5f, cv.k, cv.c, cv.r, cv.s);
        Tensor b = random(-1, 1, cv.k);
        Shape outShape = cv.out();
        for (Tensor bias : new Tensor[] {b, null}) {
            Tensor expected = ref.allocate(outShape);
            ref.conv2d(x, w, bias, expected, cv.stride, cv.padding);
            for (int a = 0; a < convBackends.length; a++) {
                Tensor actual = random(-9, 9, outShape.dims());  // overwritten
                convBackends[a].conv2d(x, w, bias, actual, cv.stride, cv.padding);
                assertClose("conv2d " + CONV_ALGORITHMS[a] + " " + cv + (bias == null ? " no bias" : ""), expected, actual, SUMS);
            }
        }
    }

    /**
     * The fused convolution and max-pool gives the bits of the two kernels run one after the other
     * (the same sums, then the same maxima), and when asked to keep the convolution's output, that
     * output too: with every algorithm, for 2x2/2 and 3x3/2 pooling wherever the convolution's
     * output is large enough.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("convs")
    void conv2dMaxPoolIsConvThenPool(Conv cv) {
        Tensor x = random(-1, 1, cv.n, cv.c, cv.h, cv.w), w = random(-0.5f, 0.5f, cv.k, cv.c, cv.r, cv.s);
        Tensor b = random(-1, 1, cv.k);
        Shape outShape = cv.out();
        int checked = 0;
        for (int[] pool : new int[][] {{2, 2}, {3, 2}}) {
            if (outShape.dim(2) < pool[0] || outShape.dim(3) < pool[0]) continue;
            Shape pooledShape = advtrain.backend.PoolGeometry.outputShape("maxPool2d", outShape, pool[0], pool[1]);
            for (int a = 0; a < convBackends.length; a++) {
                CpuBackend be = convBackends[a];
                Tensor conv = be.allocate(outShape), expected = be.allocate(pooledShape);
                be.conv2d(x, w, b, conv, cv.stride, cv.padding);
                be.maxPool2d(conv, expected, pool[0], pool[1]);
                for (boolean keep : new boolean[] {false, true}) {
                    Tensor actual = random(-9, 9, pooledShape.dims()), convOut = random(-9, 9, outShape.dims());
                    be.conv2dMaxPool(x, w, b, convOut, actual, cv.stride, cv.padding, pool[0], pool[1], keep);
                    String what = "conv2dMaxPool " + CONV_ALGORITHMS[a] + " " + cv + " pool " + pool[0] + "/" + pool[1]
                            + (keep ? " keeping the convolution" : "");
                    assertArrayEquals(HeapStorage.array(expected), HeapStorage.array(actual), what);
                    if (keep) assertArrayEquals(HeapStorage.array(conv), HeapStorage.array(convOut), what + ": its output");
                }
                checked++;
            }
        }
        if (outShape.dim(2) >= 2 && outShape.dim(3) >= 2) assertEquals(true, checked > 0, "no pooling fits " + cv);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"convs", "resNetConvs"})
    void conv2dBackwardAccumulatesLikeReference(Conv cv) {
        Tensor x = random(-1, 1, cv.n, cv.c, cv.h, cv.w), w = random(-0.5f, 0.5f, cv.k, cv.c, cv.r, cv.s);
        Shape outShape = cv.out();
        Tensor dy = random(-1, 1, outShape.dims());
        // Gradients that already hold values: the kernels must add to them.
        Tensor dx = random(-1, 1, x.shape().dims()), dw = random(-1, 1, w.shape().dims()), db = random(-1, 1, cv.k);
        Tensor dxRef = copyOf(dx), dwRef = copyOf(dw), dbRef = copyOf(db);
        ref.conv2dBackward(x, w, dy, dxRef, dwRef, dbRef, cv.stride, cv.padding);
        for (int a = 0; a < convBackends.length; a++) {
            Tensor dxA = copyOf(dx), dwA = copyOf(dw), dbA = copyOf(db);
            convBackends[a].conv2dBackward(x, w, dy, dxA, dwA, dbA, cv.stride, cv.padding);
            assertClose("conv2dBackward inputGrad " + CONV_ALGORITHMS[a] + " " + cv, dxRef, dxA, SUMS);
            assertClose("conv2dBackward weightGrad " + CONV_ALGORITHMS[a] + " " + cv, dwRef, dwA, LONG_SUMS);
            assertClose("conv2dBackward biasGrad " + CONV_ALGORITHMS[a] + " " + cv, dbRef, dbA, LONG_SUMS);
            // Into an input gradient not yet written (garbage here): the same values as added to zeros.
            Tensor zeros = fast.allocate(x.shape()), fresh = random(-9, 9, x.shape().dims());
            fast.fill(zeros, 0f);
            Tensor dwZ = copyOf(dw), dbZ = copyOf(db), dwF = copyOf(dw), dbF = copyOf(db);
            convBackends[a].conv2dBackward(x, w, dy, zeros, dwZ, dbZ, cv.stride, cv.padding);
            ((FusedKernels) convBackends[a]).conv2dBackwardFresh(x, w, dy, fresh, dwF, dbF, cv.stride, cv.padding);
            String what = "conv2dBackwardFresh " + CONV_ALGORITHMS[a] + " " + cv;
            assertArrayEquals(HeapStorage.array(zeros), HeapStorage.array(fresh), what + ": inputGrad");
            assertArrayEquals(HeapStorage.array(dwZ), HeapStorage.array(dwF), what + ": weightGrad");
            assertArrayEquals(HeapStorage.array(dbZ), HeapStorage.array(dbF), what + ": biasGrad");
        }
    }

    /** Every combination of null gradient arguments: the missing ones are skipped, the others computed. */
    @ParameterizedTest(name = "gradients present: {0}")
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7})
    void conv2dBackwardSkipsNullGradients(int present) {
        for (Conv cv : List.of(new Conv(4, 3, 32, 32, 6, 5, 5, 1, 0), new Conv(3, 5, 11, 9, 7, 3, 3, 1, 1),
                new Conv(3, 3, 17, 15, 4, 3, 3, 2, 1))) {
            Tensor x = random(-1, 1, cv.n, cv.c, cv.h, cv.w), w = random(-0.5f, 0.5f, cv.k, cv.c, cv.r, cv.s);
            Shape outShape = cv.out();
            Tensor dy = random(-1, 1, outShape.dims());
            Tensor dx = (present & 1) != 0 ? random(-1, 1, x.shape().dims()) : null;
            Tensor dw = (present & 2) != 0 ? random(-1, 1, w.shape().dims()) : null;
            Tensor db = (present & 4) != 0 ? random(-1, 1, cv.k) : null;
            Tensor dxRef = copyOrNull(fast, dx), dwRef = copyOrNull(fast, dw), dbRef = copyOrNull(fast, db);
            ref.conv2dBackward(x, w, dy, dxRef, dwRef, dbRef, cv.stride, cv.padding);
            for (int a = 0; a < convBackends.length; a++) {
                Tensor dxA = copyOrNull(fast, dx), dwA = copyOrNull(fast, dw), dbA = copyOrNull(fast, db);
                convBackends[a].conv2dBackward(x, w, dy, dxA, dwA, dbA, cv.stride, cv.padding);
                if (dx != null) assertClose("inputGrad " + CONV_ALGORITHMS[a] + " " + cv, dxRef, dxA, SUMS);
                if (dw != null) assertClose("weightGrad " + CONV_ALGORITHMS[a] + " " + cv, dwRef, dwA, LONG_SUMS);
                if (db != null) assertClose("biasGrad " + CONV_ALGORITHMS[a] + " " + cv, dbRef, dbA, LONG_SUMS);
            }
        }
    }

    /** Repeated calls give the same answers: scratch buffers kept between calls hold nothing over. */
    @Test
    void convolutionsRepeatWithReusedScratch() {
        Conv small = new Conv(2, 6, 14, 14, 16, 5, 5, 1, 0), big = new Conv(32, 6, 14, 14, 16, 5, 5, 1, 0);
        for (int round = 0; round < 3; round++) {
            for (Conv cv : List.of(big, small, new Conv(5, 6, 14, 14, 16, 5, 5, 1, 1))) {
                conv2dForwardMatchesReference(cv);
                conv2dBackwardAccumulatesLikeReference(cv);
            }
        }
    }

    /**
     * The option-A shortcut as a copy (FusedKernels.shortcutA) against the reference backend's 1x1
     * convolution with the shifted identity as weight, which autograd.ShortcutA runs elsewhere:
     * forward, the gradient added to one that holds values, and written fresh. ResNet-20's two
     * shortcuts at batch 3, odd sizes, and stride 3.
     */
    @ParameterizedTest(name = "in{0} stride {1} pad {2}")
    @MethodSource("shortcuts")
    void shortcutAIsTheOneByOneConvolution(int[] d, int stride, int pad) {
        int n = d[0], c = d[1], h = d[2], w = d[3], k = c + 2 * pad;
        Tensor x = random(-1, 1, n, c, h, w), weight = fast.allocate(Shape.of(k, c, 1, 1));
        fast.write(weight, advtrain.autograd.ShortcutA.shiftedIdentity(c, pad), 0);
        Shape outShape = advtrain.backend.ConvGeometry.outputShape("shortcut", x.shape(), weight.shape(), stride, 0);
        Tensor expected = ref.allocate(outShape), actual = random(-9, 9, outShape.dims());
        ref.conv2d(x, weight, null, expected, stride, 0);
        fast.shortcutA(x, stride, pad, actual);
        assertClose("shortcutA", expected, actual, 0f);

        Tensor dy = random(-1, 1, outShape.dims()), dx = random(-1, 1, n, c, h, w);
        Tensor dxRef = copyOf(dx), dxAdded = copyOf(dx), zeros = fast.allocate(x.shape()), fresh = random(-9, 9, n, c, h, w);
        ref.conv2dBackward(x, weight, dy, dxRef, null, null, stride, 0);
        fast.shortcutABackward(dy, stride, pad, dxAdded, false);
        assertClose("shortcutABackward, added", dxRef, dxAdded, 0f);
        fast.fill(zeros, 0f);
        ref.conv2dBackward(x, weight, dy, zeros, null, null, stride, 0);
        fast.shortcutABackward(dy, stride, pad, fresh, true);
        assertClose("shortcutABackward, fresh", zeros, fresh, 0f);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> fast.shortcutA(x, stride, pad + 1, actual));
        assertEquals(true, e.getMessage().startsWith("shortcutA: input " + x.shape()), e.getMessage());
    }

    static Stream<Arguments> shortcuts() {
        return Stream.of(
                Arguments.of(new int[] {3, 16, 32, 32}, 2, 8),   // ResNet-20's first
                Arguments.of(new int[] {3, 32, 16, 16}, 2, 16),  // and second
                Arguments.of(new int[] {2, 3, 7, 5}, 2, 1),      // odd sizes: the last row and column taken
                Arguments.of(new int[] {2, 2, 7, 8}, 3, 0),      // stride 3, no padding channels
                Arguments.of(new int[] {1, 2, 1, 1}, 2, 2));     // a single pixel
    }
}
