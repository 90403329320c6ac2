package advtrain.backend.cpu;

import java.util.Arrays;

/**
 * Linear layers, y = x . w^T + b with x [batch, in], w [out, in], on {@link Gemm}'s micro-kernels.
 * Where `in` is not a whole number of vectors (the seed's 120 and 84), x and w are first copied
 * with zero-padded rows, so the kernels never meet a partial vector, and the backward products are
 * computed into padded scratch and then added to the gradients. One instance per calling thread
 * keeps the scratch and offset tables; nothing is allocated per call once they have grown.
 */
final class Linear {
    private static final ThreadLocal<Linear> PER_THREAD = ThreadLocal.withInitial(Linear::new);

    static Linear forThisThread() { return PER_THREAD.get(); }

    private int batch, inF, outF, stride, qTiles, jBlock, jBlocks;
    /** The operands as the kernels see them: x and w themselves, or their padded copies. */
    private float[] x, w, y, dy, dx, dw;
    private boolean padded;
    private float[] xPadded = new float[0], wPadded = new float[0], gradPadded = new float[0];
    private int[] rowsOfW = new int[0], columnsOfDy = new int[0], rowsOfDy = new int[0], rowsOfX = new int[0];

    private Linear() {}

    private static int[] ints(int[] buffer, int size) { return buffer.length >= size ? buffer : new int[size]; }

    private static float[] floats(float[] buffer, int size) { return buffer.length >= size ? buffer : new float[size]; }

    /** Sizes, row offsets (rows `stride` apart), and padded copies of x and w where needed. */
    private void setUp(float[] x, float[] w, int batch, int inF, int outF) {
        this.batch = batch; this.inF = inF; this.outF = outF;
        stride = Gemm.roundUp(inF, Gemm.VL);
        padded = stride != inF;
        if (padded) {
            xPadded = floats(xPadded, batch * stride);
            wPadded = floats(wPadded, outF * stride);
            padRows(x, batch, xPadded);
            padRows(w, outF, wPadded);
            this.x = xPadded;
            this.w = wPadded;
        } else {
            this.x = x;
            this.w = w;
        }
        rowsOfW = ints(rowsOfW, outF);
        columnsOfDy = ints(columnsOfDy, outF);
        for (int o = 0; o < outF; o++) { rowsOfW[o] = o * stride; columnsOfDy[o] = o; }
        rowsOfDy = ints(rowsOfDy, batch);
        rowsOfX = ints(rowsOfX, batch);
        for (int n = 0; n < batch; n++) { rowsOfDy[n] = n * outF; rowsOfX[n] = n * stride; }
    }

    /** rows rows of inF floats into rows of `stride`, the rest of each row zero. */
    private void padRows(float[] src, int rows, float[] dst) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(src, r * inF, dst, r * stride, inF);
            Arrays.fill(dst, r * stride + inF, (r + 1) * stride, 0f);
        }
    }

    void forward(float[] x, float[] w, float[] b, float[] y, int batch, int inF, int outF) {
        setUp(x, w, batch, inF, outF);
        for (int n = 0; n < batch; n++) {
            if (b == null) Arrays.fill(y, n * outF, (n + 1) * outF, 0f);
            else System.arraycopy(b, 0, y, n * outF, outF);
        }
        this.y = y;
        qTiles = (outF + Gemm.NR - 1) / Gemm.NR;
        int mTiles = (batch + Gemm.MR - 1) / Gemm.MR;
        Parallel.range(mTiles * qTiles, 2L * Gemm.MR * Gemm.NR * stride, forwardTiles);
        this.x = this.w = this.y = null;
    }

    /**
     * Item t = the tile of y rows n0 = t / qTiles * 6 (6 rows) and columns o0 = t % qTiles * 4 (4
     * columns): y[n, o] += dot(x[n, :], w[o, :]), both rows read contiguously.
     */
    private final Parallel.Task forwardTiles = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int t = from; t < to; t++) {
                Gemm.dotTile(t / qTiles * Gemm.MR, batch, t % qTiles * Gemm.NR, outF, stride, 0, 1,
                        x, 0, stride, w, 0, 0, rowsOfW, y, 0, outF);
            }
        }
    };

    void backward(float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db, int batch, int inF, int outF) {
        setUp(x, w, batch, inF, outF);
        this.dy = dy;
        if (padded) gradPadded = floats(gradPadded, Math.max(batch, outF) * stride);
        if (dx != null) {
            this.dx = dx;
            splitColumns(batch);
            Parallel.range(jBlocks, 2L * batch * jBlock * outF, inputGradBlocks);
        }
        if (dw != null) {
            this.dw = dw;
            splitColumns(outF);
            Parallel.range(jBlocks, 2L * outF * jBlock * batch, weightGradBlocks);
        }
        if (db != null) {
            for (int n = 0; n < batch; n++) for (int o = 0; o < outF; o++) db[o] += dy[n * outF + o];
        }
        this.x = this.w = this.dy = this.dx = this.dw = null;
    }

    /** Splits the (padded) columns of a backward product with `rows` rows into blocks of whole register tiles. */
    private void splitColumns(int rows) {
        jBlock = Gemm.tileColumns(rows);
        jBlocks = (stride + jBlock - 1) / jBlock;
    }

    /**
     * A block of a backward product into gradient g [rows, inF]: computed straight into g when the
     * rows are not padded, else into the padded scratch and then its first inF columns added to g.
     */
    private void product(int rows, int j0, int q, float[] a, int[] aOff, int aRowStride, int[] bRows, float[] b,
                         float[] g) {
        int width = Math.min(jBlock, stride - j0);
        if (!padded) {
            Gemm.shiftedRows(rows, width, q, a, 0, aOff, aRowStride, b, j0, bRows, g, j0, inF, true);
            return;
        }
        Gemm.shiftedRows(rows, width, q, a, 0, aOff, aRowStride, b, j0, bRows, gradPadded, j0, stride, false);
        int valid = Math.min(width, inF - j0);
        if (valid > 0) Vec.addRows(gradPadded, j0, stride, g, j0, inF, rows, valid);
    }

    /**
     * Item t = columns i0 = t * jBlock (a whole number of register tiles) of
     * dx[n, i] += sum over o of dy[n, o] * w[o, i], all rows n: B rows are w's rows, read contiguously.
     */
    private final Parallel.Task inputGradBlocks = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int t = from; t < to; t++) product(batch, t * jBlock, outF, dy, columnsOfDy, outF, rowsOfW, w, dx);
        }
    };

    /**
     * Item t = columns i0 = t * jBlock of dw[o, i] += sum over n of dy[n, o] * x[n, i], all rows o:
     * B rows are x's rows, read contiguously.
     */
    private final Parallel.Task weightGradBlocks = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int t = from; t < to; t++) product(outF, t * jBlock, batch, dy, rowsOfDy, 1, rowsOfX, x, dw);
        }
    };
}
