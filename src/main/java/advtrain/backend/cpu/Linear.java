package advtrain.backend.cpu;

/**
 * Linear layers, y = x . w^T + b with x [batch, in], w [out, in], on {@link Gemm}'s micro-kernels.
 * One instance per calling thread keeps the offset tables; nothing is allocated per call once
 * the tables have grown to the layer sizes.
 */
final class Linear {
    private static final ThreadLocal<Linear> PER_THREAD = ThreadLocal.withInitial(Linear::new);

    static Linear forThisThread() { return PER_THREAD.get(); }

    /** Columns per parallel work item of the backward products (whole register tiles). */
    private static final int J_BLOCK = Gemm.NR * Gemm.VL;

    private int batch, inF, outF, mTiles, qTiles, jBlocks;
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
        jBlocks = (inF + J_BLOCK - 1) / J_BLOCK;
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
            mTiles = (batch + Gemm.MR - 1) / Gemm.MR;
            Parallel.range(mTiles * jBlocks, 2L * Gemm.MR * J_BLOCK * outF, inputGradBlocks);
        }
        if (dw != null) {
            mTiles = (outF + Gemm.MR - 1) / Gemm.MR;
            Parallel.range(mTiles * jBlocks, 2L * Gemm.MR * J_BLOCK * batch, weightGradBlocks);
        }
        if (db != null) {
            for (int n = 0; n < batch; n++) for (int o = 0; o < outF; o++) db[o] += dy[n * outF + o];
        }
        this.x = this.w = this.dy = this.dx = this.dw = null;
    }

    /**
     * Item t = rows n0 = t / jBlocks * 6 (6 rows) and columns i0 = t % jBlocks * 64 of
     * dx[n, i] += sum over o of dy[n, o] * w[o, i]: B rows are w's rows, read contiguously.
     */
    private final Parallel.Task inputGradBlocks = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int t = from; t < to; t++) {
                int m0 = t / jBlocks * Gemm.MR, j0 = t % jBlocks * J_BLOCK;
                Gemm.shiftedRows(Math.min(Gemm.MR, batch - m0), Math.min(J_BLOCK, inF - j0), outF,
                        dy, m0 * outF, columnsOfDy, outF, w, j0, rowsOfW, dx, m0 * inF + j0, inF, true);
            }
        }
    };

    /**
     * Item t = rows o0 = t / jBlocks * 6 (6 rows) and columns i0 = t % jBlocks * 64 of
     * dw[o, i] += sum over n of dy[n, o] * x[n, i]: B rows are x's rows, read contiguously.
     */
    private final Parallel.Task weightGradBlocks = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int t = from; t < to; t++) {
                int m0 = t / jBlocks * Gemm.MR, j0 = t % jBlocks * J_BLOCK;
                Gemm.shiftedRows(Math.min(Gemm.MR, outF - m0), Math.min(J_BLOCK, inF - j0), batch,
                        dy, m0, rowsOfDy, 1, x, j0, rowsOfX, dw, m0 * inF + j0, inF, true);
            }
        }
    };
}
