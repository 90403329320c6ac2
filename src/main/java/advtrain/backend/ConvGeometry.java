package advtrain.backend;

import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/** The sizes of one convolution, read from its tensors and checked once. */
public final class ConvGeometry {
    public final int batch, inChannels, inH, inW, outChannels, kernelH, kernelW, outH, outW, stride, padding;
    private final Shape input, weight, output;  // what it was made for: `of` reuses it for the same

    /**
     * The last geometries made by {@link #of}: a training step asks for the same few every time, and
     * this way gets them without allocating. They are immutable, so threads may share them; a race
     * at worst makes one twice.
     */
    private static final ConvGeometry[] RECENT = new ConvGeometry[8];
    private static int nextRecent;

    private ConvGeometry(Shape in, Shape w, Shape out, int stride, int padding) {
        input = in; weight = w; output = out;
        batch = in.dim(0); inChannels = in.dim(1); inH = in.dim(2); inW = in.dim(3);
        outChannels = w.dim(0); kernelH = w.dim(2); kernelW = w.dim(3);
        this.stride = stride; this.padding = padding;
        outH = (inH + 2 * padding - kernelH) / stride + 1;
        outW = (inW + 2 * padding - kernelW) / stride + 1;
    }

    /** Output shape of a convolution of this input with this weight. */
    public static Shape outputShape(String op, Shape input, Shape weight, int stride, int padding) {
        check(op, input, weight, stride, padding);
        return Shape.of(input.dim(0), weight.dim(0), (input.dim(2) + 2 * padding - weight.dim(2)) / stride + 1,
                (input.dim(3) + 2 * padding - weight.dim(3)) / stride + 1);  // as the constructor computes them
    }

    /** Checks input, weight and output (or output gradient) against each other. */
    public static ConvGeometry of(String op, Tensor input, Tensor weight, Tensor output, int stride, int padding) {
        for (ConvGeometry g : RECENT) {
            if (g != null && g.stride == stride && g.padding == padding && g.input.equals(input.shape())
                    && g.weight.equals(weight.shape()) && g.output.equals(output.shape())) {
                return g;
            }
        }
        Shape expected = outputShape(op, input.shape(), weight.shape(), stride, padding);
        if (!expected.equals(output.shape())) {
            throw new IllegalArgumentException(op + ": output " + output.shape() + " should be " + expected
                    + " for input " + input.shape() + " and weight " + weight.shape());
        }
        ConvGeometry g = new ConvGeometry(input.shape(), weight.shape(), expected, stride, padding);
        RECENT[nextRecent++ & (RECENT.length - 1)] = g;
        return g;
    }

    private static void check(String op, Shape in, Shape w, int stride, int padding) {
        if (in.rank() != 4 || w.rank() != 4 || in.dim(1) != w.dim(1) || stride < 1 || padding < 0
                || in.dim(2) + 2 * padding < w.dim(2) || in.dim(3) + 2 * padding < w.dim(3)) {
            throw new IllegalArgumentException(op + ": input " + in + " (N, C, H, W) does not fit weight " + w
                    + " (K, C, R, S) with stride " + stride + " and padding " + padding);
        }
    }

    /** Multiply-adds times two for one output plane: a cost hint for splitting work. */
    public long flopsPerOutputPlane() {
        return 2L * outH * outW * inChannels * kernelH * kernelW;
    }
}
