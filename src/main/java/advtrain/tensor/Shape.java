package advtrain.tensor;

import java.util.Arrays;

/** The dimensions of a tensor, outermost first (NCHW for images). Immutable. */
public final class Shape {
    private final int[] dims;
    private final int size;

    private Shape(int[] dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            n *= d;
        }
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor too large: " + Arrays.toString(dims));
        this.dims = dims;
        this.size = (int) n;
    }

    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    public int rank() { return dims.length; }

    public int dim(int axis) { return dims[axis]; }

    /** Number of elements. */
    public int size() { return size; }

    public int[] dims() { return dims.clone(); }

    /** Elements per item of the first dimension (a row for [N, F], an image for [N, C, H, W]). */
    public int rowSize() { return dims.length == 0 || dims[0] == 0 ? 0 : size / dims[0]; }

    /** The same shape with a different first dimension (a batch of another size). */
    public Shape withBatch(int batch) {
        int[] d = dims.clone();
        d[0] = batch;
        return new Shape(d);
    }

    @Override public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override public int hashCode() { return Arrays.hashCode(dims); }

    @Override public String toString() { return Arrays.toString(dims); }
}
