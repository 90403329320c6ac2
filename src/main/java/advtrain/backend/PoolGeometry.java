package advtrain.backend;

import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/** The sizes of one max-pooling, read from its tensors and checked once. */
public final class PoolGeometry {
    public final int planes, inH, inW, outH, outW;

    private PoolGeometry(Shape in, int kernel, int stride) {
        planes = in.dim(0) * in.dim(1); inH = in.dim(2); inW = in.dim(3);
        outH = (inH - kernel) / stride + 1;
        outW = (inW - kernel) / stride + 1;
    }

    public static Shape outputShape(String op, Shape input, int kernel, int stride) {
        if (input.rank() != 4 || kernel < 1 || stride < 1 || input.dim(2) < kernel || input.dim(3) < kernel) {
            throw new IllegalArgumentException(op + ": input " + input + " (N, C, H, W) does not fit kernel "
                    + kernel + " with stride " + stride);
        }
        PoolGeometry g = new PoolGeometry(input, kernel, stride);
        return Shape.of(input.dim(0), input.dim(1), g.outH, g.outW);
    }

    public static PoolGeometry of(String op, Tensor input, Tensor output, int kernel, int stride) {
        Shape expected = outputShape(op, input.shape(), kernel, stride);
        if (!expected.equals(output.shape())) {
            throw new IllegalArgumentException(op + ": output " + output.shape() + " should be " + expected
                    + " for input " + input.shape());
        }
        return new PoolGeometry(input.shape(), kernel, stride);
    }
}
