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

    // Shapes of rank 1, 2 and 4 (vectors, matrices, image batches) come from a small table of
    // interned instances: ops compute their output shapes on every step, and this way a
    // steady-state step allocates none. A shape may sit in any of 4 slots from where it hashes, so
    // two shapes of one step that hash alike do not evict each other every step (one pair did: a
    // new Shape per step). Shapes are immutable, so sharing one between threads is safe, and a race
    // at worst makes a duplicate.
    private static final Shape[] INTERNED = new Shape[512];
    private static final int WAYS = 4;

    public static Shape of(int d0) { return interned(1, d0, 0, 0, 0); }

    public static Shape of(int d0, int d1) { return interned(2, d0, d1, 0, 0); }

    public static Shape of(int d0, int d1, int d2, int d3) { return interned(4, d0, d1, d2, d3); }

    private static Shape interned(int rank, int d0, int d1, int d2, int d3) {
        int h = (((rank * 31 + d0) * 31 + d1) * 31 + d2) * 31 + d3;
        int home = (h ^ (h >>> 9) ^ (h >>> 18)) & (INTERNED.length - 1), free = home;
        for (int way = 0; way < WAYS; way++) {
            int slot = (home + way) & (INTERNED.length - 1);
            Shape s = INTERNED[slot];
            if (s == null) {
                free = slot;
                break;
            }
            if (s.dims.length == rank && s.dims[0] == d0 && (rank < 2 || s.dims[1] == d1)
                    && (rank < 4 || (s.dims[2] == d2 && s.dims[3] == d3))) {
                return s;
            }
        }
        Shape s = new Shape(rank == 1 ? new int[] {d0} : rank == 2 ? new int[] {d0, d1} : new int[] {d0, d1, d2, d3});
        INTERNED[free] = s;  // the first empty slot of the four, or else the home slot
        return s;
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
