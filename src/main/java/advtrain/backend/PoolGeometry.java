package advtrain.backend;

import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/** The sizes of one max-pooling, read from its tensors and checked once. */
public final class PoolGeometry {
    public final int planes, inH, inW, outH, outW;
    private final Shape input, output;  // what it was made for: `of` reuses it for the same
    private final int kernel, stride;

    /** The last geometries made by {@link #of}, reused as in ConvGeometry (immutable, so shareable). */
    private static final PoolGeometry[] RECENT = new PoolGeometry[8];
    private static int nextRecent;

    private PoolGeometry(Shape in, Shape out, int kernel, int stride) {
        input = in; output = out; this.kernel = kernel; this.stride = stride;
        planes = in.dim(0) * in.dim(1); inH = in.dim(2); inW = in.dim(3);
        outH = (inH - kernel) / stride + 1;
        outW = (inW - kernel) / stride + 1;
    }

    public static Shape outputShape(String op, Shape input, int kernel, int stride) {
        if (input.rank() != 4 || kernel < 1 || stride < 1 || input.dim(2) < kernel || input.dim(3) < kernel) {
            throw new IllegalArgumentException(op + ": input " + input + " (N, C, H, W) does not fit kernel "
                    + kernel + " with stride " + stride);
        }
        return Shape.of(input.dim(0), input.dim(1), (input.dim(2) - kernel) / stride + 1,
                (input.dim(3) - kernel) / stride + 1);  // as the constructor computes them
    }

    public static PoolGeometry of(String op, Tensor input, Tensor output, int kernel, int stride) {
        for (PoolGeometry g : RECENT) {
            if (g != null && g.kernel == kernel && g.stride == stride && g.input.equals(input.shape())
                    && g.output.equals(output.shape())) {
                return g;
            }
        }
        Shape expected = outputShape(op, input.shape(), kernel, stride);
        if (!expected.equals(output.shape())) {
            throw new IllegalArgumentException(op + ": output " + output.shape() + " should be " + expected
                    + " for input " + input.shape());
        }
        PoolGeometry g = new PoolGeometry(input.shape(), expected, kernel, stride);
        RECENT[nextRecent++ & (RECENT.length - 1)] = g;
        return g;
    }
}
