package advtrain.backend.cpu;

/**
 * Linear layers, y = x . w^T + b with x [batch, in], w [out, in], on {@link Gemm}'s micro-kernels.
 * One instance per calling thread keeps the offset tables; nothing is allocated per call once
 * the tables have grown to the layer sizes.
 */
final class Linear {
    private static final ThreadLocal<Linear> PER_THREAD = ThreadLocal.withInitial(Linear::new);

    static Linear forThisThread() { return PER_THREAD.get(); }

    private int batch, inF, outF, mTiles, qTiles, jBlock, jBlocks;
    private float[] x, w, y, dy, dx, dw;
    private int[] rowsOfW = new int[0], columnsOfDy = new int[0], rowsOfDy = new int[0], rowsOfX = new int[0];

    private Linear() {}

    private static int[] ints(int[] buffer, int size) { return buffer.length >= size ? buffer : new int[size]; }

    private void setUp(int batch, int inF, int outF) {
        this.batch = batch; this.inF = inF; this.outF = outF;
        rowsOfW = ints(rowsOfW, outF);
        columnsOfDy = ints(columnsOfDy, outF);
        for (int o = 0; o < outF; o++) { rowsOfW[o] = o * inF; columnsOfDy[o] = o; }
        rowsOfDy = ints(rowsOfDy, batch);
        rowsOfX = ints(rowsOfX, batch);
        for (int n = 0; n < batch; n++) { rowsOfDy[n] = n * outF; rowsOfX[n] = n * inF; }
    }

    /** Splits the inF columns of a backward product with `rows` rows into blocks of whole register tiles. */
    private void splitColumns(int rows) {
        jBlock = Gemm.tileColumns(rows);
        jBlocks = (inF + jBlock - 1) / jBlock;
    }

    void forward(float[] x, float[] w, float[] b, float[] y, int batch, int inF, int outF) {
        setUp(batch, inF, outF);
        for (int n = 0; n < batch; n++) {
            if (b == null) java.util.Arrays.fill(y, n * outF, (n + 1) * outF, 0f);
            else System.arraycopy(b, 0, y, n * outF, outF);
        }
        this.x = x; this.w = w; this.y = y;
        mTiles = (batch + Gemm.MR - 1) / Gemm.MR;
        qTiles = (outF + Gemm.NR - 1) / Gemm.NR;
        Parallel.range(mTiles * qTiles, 2L * Gemm.MR * Gemm.NR * inF, forwardTiles);
        this.x = this.w = this.y = null;
    }

    /**
     * Item t = the tile of y rows n0 = t / qTiles * 6 (6 rows) and columns o0 = t % qTiles * 4 (4
     * columns): y[n, o] += dot(x[n, :], w[o, :]), both rows read contiguously.
     */
    private final Parallel.Task forwardTiles = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int t = from; t < to; t++) {
                Gemm.dotTile(t / qTiles * Gemm.MR, batch, t % qTiles * Gemm.NR, outF, inF, 0, 1,
                        x, 0, inF, w, 0, rowsOfW, y, 0, outF);
            }
        }
    };

    void backward(float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db, int batch, int inF, int outF) {
        setUp(batch, inF, outF);
        this.x = x; this.w = w; this.dy = dy; this.dx = dx; this.dw = dw;
        if (dx != null) {
            splitColumns(batch);
            Parallel.range(jBlocks, 2L * batch * jBlock * outF, inputGradBlocks);
        }
        if (dw != null) {
            splitColumns(outF);
            Parallel.range(jBlocks, 2L * outF * jBlock * batch, weightGradBlocks);
        }
        if (db != null) {
            for (int n = 0; n < batch; n++) for (int o = 0; o < outF; o++) db[o] += dy[n * outF + o];
        }
        this.x = this.w = this.dy = this.dx = this.dw = null;
    }

    /**
     * Item t = columns i0 = t * jBlock (a whole number of register tiles) of
     * dx[n, i] += sum over o of dy[n, o] * w[o, i], all rows n: B rows are w's rows, read contiguously.
     */
    private final Parallel.Task inputGradBlocks = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int t = from; t < to; t++) {
                int j0 = t * jBlock;
                Gemm.shiftedRows(batch, Math.min(jBlock, inF - j0), outF, dy, 0, columnsOfDy, outF, w, j0, rowsOfW,
                        dx, j0, inF, true);
            }
        }
    };

    /**
     * Item t = columns i0 = t * jBlock of dw[o, i] += sum over n of dy[n, o] * x[n, i], all rows o:
     * B rows are x's rows, read contiguously.
     */
    private final Parallel.Task weightGradBlocks = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int t = from; t < to; t++) {
                int j0 = t * jBlock;
                Gemm.shiftedRows(outF, Math.min(jBlock, inF - j0), batch, dy, 0, rowsOfDy, 1, x, j0, rowsOfX,
                        dw, j0, inF, true);
            }
        }
    };
}
