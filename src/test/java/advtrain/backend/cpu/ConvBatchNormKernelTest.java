package advtrain.backend.cpu;

import advtrain.backend.Backend.BinaryOp;
import advtrain.backend.Backend.UnaryOp;
import advtrain.backend.cpu.CpuConvKernelsTest.Conv;
import advtrain.backend.reference.HeapStorage;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The fused inference kernel {@link CpuBackend#conv2dBatchNorm} gives the bits of the kernels it
 * replaces, run one after the other: conv2d, batchNorm with frozen statistics, the residual sum,
 * ReLU. With every convolution algorithm (each path applies the epilogue in its own place: per
 * image on the direct paths, per output plane in Winograd's groups), with and without residual,
 * ReLU, bias, gamma and beta.
 */
class ConvBatchNormKernelTest {
    private static final String[] ALGORITHMS = {"auto", "direct", "im2col", "channels", "groups", "lanes", "winograd"};
    private final SplittableRandom random = new SplittableRandom(20261203);

    private Tensor random(CpuBackend be, float lo, float hi, int... dims) {
        Tensor t = be.allocate(Shape.of(dims));
        float[] v = new float[t.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * random.nextDouble());
        be.write(t, v, 0);
        return t;
    }

    static java.util.stream.Stream<Conv> shapes() {
        return java.util.stream.Stream.concat(CpuConvKernelsTest.convs(), CpuConvKernelsTest.resNetConvs());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void fusedIsTheKernelsOneAfterAnother(Conv cv) {
        for (String algorithm : ALGORITHMS) {
            CpuBackend be = CpuBackend.withConvAlgorithm(algorithm);
            Shape outShape = cv.out();
            int k = cv.k();
            Tensor x = random(be, -1, 1, cv.n(), cv.c(), cv.h(), cv.w()), w = random(be, -0.5f, 0.5f, k, cv.c(), cv.r(), cv.s());
            Tensor bias = random(be, -1, 1, k), gamma = random(be, 0.5f, 1.5f, k), beta = random(be, -0.5f, 0.5f, k);
            Tensor mean = random(be, -0.3f, 0.3f, k), var = random(be, 0.2f, 2f, k), residual = random(be, -1, 1, outShape.dims());
            for (int variant = 0; variant < 4; variant++) {
                boolean withResidual = (variant & 1) != 0, relu = (variant & 2) != 0, affine = variant != 1;
                Tensor b = variant == 3 ? bias : null, g = affine ? gamma : null, bt = affine ? beta : null, r = withResidual ? residual : null;
                Tensor expected = be.allocate(outShape);
                be.conv2d(x, w, b, expected, cv.stride(), cv.padding());
                be.batchNorm(expected, g, bt, mean, var, 1e-5f, false, expected);
                if (withResidual) be.binary(BinaryOp.ADD, expected, residual, expected);
                if (relu) be.unary(UnaryOp.RELU, expected, expected);
                Tensor actual = random(be, -9, 9, outShape.dims());
                be.conv2dBatchNorm(x, w, b, cv.stride(), cv.padding(), g, bt, mean, var, 1e-5f, r, 1, 0, relu, actual);
                String what = "conv2dBatchNorm " + algorithm + " " + cv + (b != null ? " bias" : "") + (affine ? "" : " no gamma/beta")
                        + (withResidual ? " residual" : "") + (relu ? " relu" : "");
                assertArrayEquals(HeapStorage.array(expected), HeapStorage.array(actual), what);
            }
        }
    }

    /**
     * The residual read as an option-A shortcut (every other pixel, channel k - K/4, zeros for the
     * channels outside) gives the bits of the shortcut as a 1x1 stride-2 convolution with 0/1
     * weights added after the batch norm, then the ReLU: on residuals of twice the output's size and
     * one less (odd sizes, whose last row and column are read).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void shortcutResidualIsTheStridedConvolution(Conv cv) {
        Shape outShape = cv.out();
        int k = cv.k(), oh = outShape.dim(2), ow = outShape.dim(3);
        if (k < 2) return;
        for (String algorithm : ALGORITHMS) {
            CpuBackend be = CpuBackend.withConvAlgorithm(algorithm);
            Tensor x = random(be, -1, 1, cv.n(), cv.c(), cv.h(), cv.w()), w = random(be, -0.5f, 0.5f, k, cv.c(), cv.r(), cv.s());
            Tensor gamma = random(be, 0.5f, 1.5f, k), beta = random(be, -0.5f, 0.5f, k);
            Tensor mean = random(be, -0.3f, 0.3f, k), var = random(be, 0.2f, 2f, k);
            int channels = k / 2, offset = k / 4;
            float[] select = new float[k * channels];
            for (int c = 0; c < channels; c++) select[(c + offset) * channels + c] = 1f;
            Tensor selection = be.allocate(Shape.of(k, channels, 1, 1));
            be.write(selection, select, 0);
            for (int extra = 0; extra >= -1; extra--) {  // even sizes, and odd ones (the last row and column read)
                Tensor residual = random(be, -1, 1, cv.n(), channels, 2 * oh + extra, 2 * ow + extra), shortcut = be.allocate(outShape);
                be.conv2d(residual, selection, null, shortcut, 2, 0);
                Tensor expected = be.allocate(outShape);
                be.conv2d(x, w, null, expected, cv.stride(), cv.padding());
                be.batchNorm(expected, gamma, beta, mean, var, 1e-5f, false, expected);
                be.binary(BinaryOp.ADD, expected, shortcut, expected);
                be.unary(UnaryOp.RELU, expected, expected);
                Tensor actual = random(be, -9, 9, outShape.dims());
                be.conv2dBatchNorm(x, w, null, cv.stride(), cv.padding(), gamma, beta, mean, var, 1e-5f, residual, 2, offset, true, actual);
                assertArrayEquals(HeapStorage.array(expected), HeapStorage.array(actual),
                        "conv2dBatchNorm " + algorithm + " " + cv + " shortcut residual " + residual.shape());
            }
        }
    }

    @Test
    void shapesThatDoNotFitAreRefused() {
        CpuBackend be = new CpuBackend();
        Tensor x = random(be, -1, 1, 2, 3, 8, 8), w = random(be, -1, 1, 4, 3, 3, 3), out = be.allocate(Shape.of(2, 4, 8, 8));
        Tensor stats = random(be, 0.5f, 1, 4), wrongStats = random(be, 0.5f, 1, 3);
        assertThrows(IllegalArgumentException.class,
                () -> be.conv2dBatchNorm(x, w, null, 1, 1, null, null, wrongStats, stats, 1e-5f, null, 1, 0, true, out));
        Tensor wrongResidual = be.allocate(Shape.of(2, 4, 8, 7));
        assertThrows(IllegalArgumentException.class,
                () -> be.conv2dBatchNorm(x, w, null, 1, 1, null, null, stats, stats, 1e-5f, wrongResidual, 1, 0, true, out));
        Tensor smallShortcut = be.allocate(Shape.of(2, 2, 14, 16)), wideShortcut = be.allocate(Shape.of(2, 3, 16, 16));
        assertThrows(IllegalArgumentException.class,
                () -> be.conv2dBatchNorm(x, w, null, 1, 1, null, null, stats, stats, 1e-5f, smallShortcut, 2, 1, true, out));
        assertThrows(IllegalArgumentException.class,
                () -> be.conv2dBatchNorm(x, w, null, 1, 1, null, null, stats, stats, 1e-5f, wideShortcut, 2, 2, true, out));
    }
}
