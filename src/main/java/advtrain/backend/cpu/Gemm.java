package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two matrix-product micro-kernels every heavy kernel of the CPU backend runs on, written with
 * the Vector API and blocked in registers: 24 vector accumulators of the 32 registers, the rest for
 * operands.
 *
 * <p>Both read their "B" operand as rows that start at arbitrary offsets {@code bOff[q]} into one
 * array. That one idea serves every layer: for a stride-1 convolution, row q = (c, r, s) of the
 * im2col matrix is the input plane c seen from offset r * W + s, so the input is used in place, no
 * im2col copy; for a linear layer, the rows are the weight's rows. The "A" operand is read through
 * an offset table too, {@code a[aOff[q] + m * aRowStride]}, so a transposed or strided A (the
 * weights seen per input channel, an output gradient seen per column) needs no copy either.
 *
 * <ul>
 *   <li>{@link #shiftedRows}: C[m][j] (=|+=) sum over q of A(m, q) * B[bOff[q] + j], vectorised
 *       over j, in tiles of 6 rows x 4 vectors, 8 x 3 or 3 x 8, whichever wastes fewest rows.
 *       Convolution forward and input gradient, linear backward.</li>
 *   <li>{@link #dotTile}: C[m][q] += sum over images and j of D[m][j] * B[bOff[q] + j], vectorised
 *       over j and reduced at the end, in tiles of 6 rows x 4 B rows. Convolution weight gradient,
 *       linear forward.</li>
 * </ul>
 *
 * <p>C2 compiles a Vector API loop to plain vector instructions only when the vectors stay inside
 * one compiled method and one loop: a vector passed to a call that is not inlined, or a loop of
 * vector accumulators nested in another loop, gets boxed (allocated on every iteration). So each
 * tile kernel is one flat loop whose results leave through a small per-thread buffer.
 */
final class Gemm {
    /**
     * The one vector species of the whole backend (a second one in the same program made C2 box
     * vectors): the machine's widest, or 256-bit with -Dadvtrain.vector256=true, for measurements.
     */
    static final VectorSpecies<Float> S = Boolean.getBoolean("advtrain.vector256") ? FloatVector.SPECIES_256 : FloatVector.SPECIES_PREFERRED;
    /** Floats per vector (16 with AVX-512). */
    static final int VL = S.length();
    /** dotTile's tile: MR rows of D by NR rows of B. */
    static final int MR = 6, NR = 4;

    private Gemm() {}

    /**
     * C[cBase + m * cStride + j] = (accumulate ? that : 0) + sum over q in [0, Q) of
     *     a[aBase + aOff[q] + m * aRowStride] * b[bBase + bOff[q] + j]
     * for m in [0, M), j in [0, J).
     *
     * <p>Loop order: tiles of R rows (m) by V vectors (j), (R, V) = (6, 4), (8, 3) or (3, 8) chosen by
     * M; inside a tile, q runs over the whole reduction with the 24 partial sums in registers; each
     * q step reads V vectors of B row q (contiguous from bOff[q] + j) and broadcasts R values of A
     * column q. Columns left after whole tiles are done one vector at a time (8 rows at once), then
     * the last J % VL one by one (no masked loads: C2 in JDK 17 boxes them in some compilations).
     * Rows past M read row M - 1 and are not stored.
     */
    static void shiftedRows(int M, int J, int Q, float[] a, int aBase, int[] aOff, int aRowStride,
                            float[] b, int bBase, int[] bOff, float[] c, int cBase, int cStride, boolean accumulate) {
        int tileRows = tileRows(M), tileVectors = 24 / tileRows;
        int jTiles = J - J % (tileVectors * VL), jVectors = J - J % VL;
        float[] tile = TILE.get();
        for (int m0 = 0; m0 < M; m0 += tileRows) {
            int rows = Math.min(tileRows, M - m0);
            int a0 = aBase + m0 * aRowStride, last = (rows - 1) * aRowStride;
            // Tile row r computes row m0 + k_r, k_r = min(r, rows - 1): rows past M repeat the last.
            int k1 = Math.min(1, rows - 1), k2 = Math.min(2, rows - 1), k3 = Math.min(3, rows - 1);
            int k4 = Math.min(4, rows - 1), k5 = Math.min(5, rows - 1), k6 = Math.min(6, rows - 1), k7 = Math.min(7, rows - 1);
            // Offsets of the tile's A rows from a0.
            int r1 = k1 * aRowStride, r2 = k2 * aRowStride, r3 = k3 * aRowStride, r4 = k4 * aRowStride;
            int r5 = k5 * aRowStride, r6 = k6 * aRowStride, r7 = k7 * aRowStride;
            // Where the tile's rows go: straight into C when C is overwritten, through the tile
            // buffer, to be added, when C accumulates. (Stored and reloaded, the tile cost a
            // store-forwarding wait per vector.) Row r goes to out[o + k_r * step]: a row past M
            // writes row M - 1's values over it again.
            float[] out = accumulate ? tile : c;
            int outBase = accumulate ? 0 : cBase + m0 * cStride, jStep = accumulate ? 0 : 1;
            int step = accumulate ? tileVectors * VL : cStride, step1 = accumulate ? VL : cStride;  // step1: tile8x1's
            for (int j = 0; j < jTiles; j += tileVectors * VL) {
                int o = outBase + jStep * j;
                if (tileRows == 6) {
                    tile6x4(Q, a, aOff, a0, r1, r2, r3, r4, r5, b, bBase + j, bOff,
                            out, o, o + k1 * step, o + k2 * step, o + k3 * step, o + k4 * step, o + k5 * step);
                } else if (tileRows == 8) {
                    tile8x3(Q, a, aOff, a0, r1, r2, r3, r4, r5, r6, r7, b, bBase + j, bOff,
                            out, o, o + k1 * step, o + k2 * step, o + k3 * step, o + k4 * step, o + k5 * step, o + k6 * step, o + k7 * step);
                } else {
                    tile3x8(Q, a, aOff, a0, r1, r2, b, bBase + j, bOff, out, o, o + k1 * step, o + k2 * step);
                }
                if (accumulate) mergeTile(tile, tileVectors, c, cBase + j + m0 * cStride, cStride, rows);
            }
            for (int j = jTiles; j < jVectors; j += VL) {
                int o = outBase + jStep * j;
                tile8x1(Q, a, aOff, a0, r1, r2, r3, r4, r5, r6, r7, b, bBase + j, bOff, out, o, o + k1 * step1,
                        o + k2 * step1, o + k3 * step1, o + k4 * step1, o + k5 * step1, o + k6 * step1, o + k7 * step1);
                if (accumulate) mergeTile(tile, 1, c, cBase + j + m0 * cStride, cStride, rows);
            }
            for (int j = jVectors; j < J; j++) {   // the last J % VL columns (the callers pad to avoid them)
                for (int m = 0; m < rows; m++) {
                    float sum = 0;
                    for (int q = 0; q < Q; q++) sum += a[a0 + aOff[q] + Math.min(m * aRowStride, last)] * b[bBase + bOff[q] + j];
                    int ci = cBase + (m0 + m) * cStride + j;
                    c[ci] = accumulate ? c[ci] + sum : sum;
                }
            }
        }
    }

    static int roundUp(int n, int multiple) { return (n + multiple - 1) / multiple * multiple; }

    /** Rows of the register tile shiftedRows uses for M rows: the shape that wastes fewest rows. */
    static int tileRows(int M) { return M <= 3 ? 3 : (roundUp(M, 8) - M <= roundUp(M, 6) - M ? 8 : 6); }

    /** Columns of the register tile shiftedRows uses for M rows (a good width for splitting J). */
    static int tileColumns(int M) { return 24 / tileRows(M) * VL; }

    /**
     * The 6 rows x 4 vectors register tile: accumulator c[r][v], lane l, sums over q in [0, Q)
     *     a[a0 + aOff[q] + row r's offset (0, r1 .. r5)] * b[bBase + bOff[q] + v * VL + l],
     * the output C[m0 + r][j0 + v * VL + l]. Each q step loads 4 consecutive vectors of B row q
     * (from bBase + bOff[q]) and broadcasts column q's 6 A values: 24 FMAs for 10 loads. Row r's
     * sums go to t[o_r + v * VL + l].
     */
    private static void tile6x4(int Q, float[] a, int[] aOff, int a0, int r1, int r2, int r3, int r4, int r5,
                                float[] b, int bBase, int[] bOff,
                                float[] t, int o0, int o1, int o2, int o3, int o4, int o5) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        for (int q = 0; q < Q; q++) {
            int bi = bBase + bOff[q], ai = aOff[q] + a0;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + VL);
            FloatVector b2 = FloatVector.fromArray(S, b, bi + 2 * VL), b3 = FloatVector.fromArray(S, b, bi + 3 * VL);
            FloatVector av = FloatVector.broadcast(S, a[ai]);
            c00 = av.fma(b0, c00); c01 = av.fma(b1, c01); c02 = av.fma(b2, c02); c03 = av.fma(b3, c03);
            av = FloatVector.broadcast(S, a[ai + r1]);
            c10 = av.fma(b0, c10); c11 = av.fma(b1, c11); c12 = av.fma(b2, c12); c13 = av.fma(b3, c13);
            av = FloatVector.broadcast(S, a[ai + r2]);
            c20 = av.fma(b0, c20); c21 = av.fma(b1, c21); c22 = av.fma(b2, c22); c23 = av.fma(b3, c23);
            av = FloatVector.broadcast(S, a[ai + r3]);
            c30 = av.fma(b0, c30); c31 = av.fma(b1, c31); c32 = av.fma(b2, c32); c33 = av.fma(b3, c33);
            av = FloatVector.broadcast(S, a[ai + r4]);
            c40 = av.fma(b0, c40); c41 = av.fma(b1, c41); c42 = av.fma(b2, c42); c43 = av.fma(b3, c43);
            av = FloatVector.broadcast(S, a[ai + r5]);
            c50 = av.fma(b0, c50); c51 = av.fma(b1, c51); c52 = av.fma(b2, c52); c53 = av.fma(b3, c53);
        }
        c00.intoArray(t, o0); c01.intoArray(t, o0 + VL); c02.intoArray(t, o0 + 2 * VL); c03.intoArray(t, o0 + 3 * VL);
        c10.intoArray(t, o1); c11.intoArray(t, o1 + VL); c12.intoArray(t, o1 + 2 * VL); c13.intoArray(t, o1 + 3 * VL);
        c20.intoArray(t, o2); c21.intoArray(t, o2 + VL); c22.intoArray(t, o2 + 2 * VL); c23.intoArray(t, o2 + 3 * VL);
        c30.intoArray(t, o3); c31.intoArray(t, o3 + VL); c32.intoArray(t, o3 + 2 * VL); c33.intoArray(t, o3 + 3 * VL);
        c40.intoArray(t, o4); c41.intoArray(t, o4 + VL); c42.intoArray(t, o4 + 2 * VL); c43.intoArray(t, o4 + 3 * VL);
        c50.intoArray(t, o5); c51.intoArray(t, o5 + VL); c52.intoArray(t, o5 + 2 * VL); c53.intoArray(t, o5 + 3 * VL);
    }

    /**
     * As tile6x4 with 8 rows (offsets 0, r1 .. r7) and 3 vectors: per q step, 3 loads of B row q and
     * 8 broadcasts for 24 FMAs. Row r's sums go to t[o_r + v * VL + l].
     */
    private static void tile8x3(int Q, float[] a, int[] aOff, int a0, int r1, int r2, int r3, int r4, int r5, int r6, int r7,
                                float[] b, int bBase, int[] bOff,
                                float[] t, int o0, int o1, int o2, int o3, int o4, int o5, int o6, int o7) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z;
        FloatVector c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
        for (int q = 0; q < Q; q++) {
            int bi = bBase + bOff[q], ai = aOff[q] + a0;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + VL);
            FloatVector b2 = FloatVector.fromArray(S, b, bi + 2 * VL);
            FloatVector av = FloatVector.broadcast(S, a[ai]);
            c00 = av.fma(b0, c00); c01 = av.fma(b1, c01); c02 = av.fma(b2, c02);
            av = FloatVector.broadcast(S, a[ai + r1]);
            c10 = av.fma(b0, c10); c11 = av.fma(b1, c11); c12 = av.fma(b2, c12);
            av = FloatVector.broadcast(S, a[ai + r2]);
            c20 = av.fma(b0, c20); c21 = av.fma(b1, c21); c22 = av.fma(b2, c22);
            av = FloatVector.broadcast(S, a[ai + r3]);
            c30 = av.fma(b0, c30); c31 = av.fma(b1, c31); c32 = av.fma(b2, c32);
            av = FloatVector.broadcast(S, a[ai + r4]);
            c40 = av.fma(b0, c40); c41 = av.fma(b1, c41); c42 = av.fma(b2, c42);
            av = FloatVector.broadcast(S, a[ai + r5]);
            c50 = av.fma(b0, c50); c51 = av.fma(b1, c51); c52 = av.fma(b2, c52);
            av = FloatVector.broadcast(S, a[ai + r6]);
            c60 = av.fma(b0, c60); c61 = av.fma(b1, c61); c62 = av.fma(b2, c62);
            av = FloatVector.broadcast(S, a[ai + r7]);
            c70 = av.fma(b0, c70); c71 = av.fma(b1, c71); c72 = av.fma(b2, c72);
        }
        c00.intoArray(t, o0); c01.intoArray(t, o0 + VL); c02.intoArray(t, o0 + 2 * VL);
        c10.intoArray(t, o1); c11.intoArray(t, o1 + VL); c12.intoArray(t, o1 + 2 * VL);
        c20.intoArray(t, o2); c21.intoArray(t, o2 + VL); c22.intoArray(t, o2 + 2 * VL);
        c30.intoArray(t, o3); c31.intoArray(t, o3 + VL); c32.intoArray(t, o3 + 2 * VL);
        c40.intoArray(t, o4); c41.intoArray(t, o4 + VL); c42.intoArray(t, o4 + 2 * VL);
        c50.intoArray(t, o5); c51.intoArray(t, o5 + VL); c52.intoArray(t, o5 + 2 * VL);
        c60.intoArray(t, o6); c61.intoArray(t, o6 + VL); c62.intoArray(t, o6 + 2 * VL);
        c70.intoArray(t, o7); c71.intoArray(t, o7 + VL); c72.intoArray(t, o7 + 2 * VL);
    }

    /**
     * As tile6x4 with 3 rows (offsets 0, r1, r2) and 8 vectors (128 consecutive B floats per q step),
     * for 3-row products such as conv1's input gradient. Row r's sums go to t[o_r + v * VL + l].
     */
    private static void tile3x8(int Q, float[] a, int[] aOff, int a0, int r1, int r2,
                                float[] b, int bBase, int[] bOff,
                                float[] t, int o0, int o1, int o2) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c04 = z, c05 = z, c06 = z, c07 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z, c14 = z, c15 = z, c16 = z, c17 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c24 = z, c25 = z, c26 = z, c27 = z;
        for (int q = 0; q < Q; q++) {
            int bi = bBase + bOff[q], ai = aOff[q] + a0;
            FloatVector x0 = FloatVector.broadcast(S, a[ai]), x1 = FloatVector.broadcast(S, a[ai + r1]);
            FloatVector x2 = FloatVector.broadcast(S, a[ai + r2]);
            FloatVector bv = FloatVector.fromArray(S, b, bi);
            c00 = x0.fma(bv, c00); c10 = x1.fma(bv, c10); c20 = x2.fma(bv, c20);
            bv = FloatVector.fromArray(S, b, bi + VL);
            c01 = x0.fma(bv, c01); c11 = x1.fma(bv, c11); c21 = x2.fma(bv, c21);
            bv = FloatVector.fromArray(S, b, bi + 2 * VL);
            c02 = x0.fma(bv, c02); c12 = x1.fma(bv, c12); c22 = x2.fma(bv, c22);
            bv = FloatVector.fromArray(S, b, bi + 3 * VL);
            c03 = x0.fma(bv, c03); c13 = x1.fma(bv, c13); c23 = x2.fma(bv, c23);
            bv = FloatVector.fromArray(S, b, bi + 4 * VL);
            c04 = x0.fma(bv, c04); c14 = x1.fma(bv, c14); c24 = x2.fma(bv, c24);
            bv = FloatVector.fromArray(S, b, bi + 5 * VL);
            c05 = x0.fma(bv, c05); c15 = x1.fma(bv, c15); c25 = x2.fma(bv, c25);
            bv = FloatVector.fromArray(S, b, bi + 6 * VL);
            c06 = x0.fma(bv, c06); c16 = x1.fma(bv, c16); c26 = x2.fma(bv, c26);
            bv = FloatVector.fromArray(S, b, bi + 7 * VL);
            c07 = x0.fma(bv, c07); c17 = x1.fma(bv, c17); c27 = x2.fma(bv, c27);
        }
        c00.intoArray(t, o0); c01.intoArray(t, o0 + VL); c02.intoArray(t, o0 + 2 * VL); c03.intoArray(t, o0 + 3 * VL);
        c04.intoArray(t, o0 + 4 * VL); c05.intoArray(t, o0 + 5 * VL); c06.intoArray(t, o0 + 6 * VL); c07.intoArray(t, o0 + 7 * VL);
        c10.intoArray(t, o1); c11.intoArray(t, o1 + VL); c12.intoArray(t, o1 + 2 * VL); c13.intoArray(t, o1 + 3 * VL);
        c14.intoArray(t, o1 + 4 * VL); c15.intoArray(t, o1 + 5 * VL); c16.intoArray(t, o1 + 6 * VL); c17.intoArray(t, o1 + 7 * VL);
        c20.intoArray(t, o2); c21.intoArray(t, o2 + VL); c22.intoArray(t, o2 + 2 * VL); c23.intoArray(t, o2 + 3 * VL);
        c24.intoArray(t, o2 + 4 * VL); c25.intoArray(t, o2 + 5 * VL); c26.intoArray(t, o2 + 6 * VL); c27.intoArray(t, o2 + 7 * VL);
    }

    /**
     * 8 rows x 1 vector, for the columns left after whole tiles: per q step one B vector and 8
     * broadcasts (rows past M repeat the last). Row r's sums go to t[o_r + l].
     */
    private static void tile8x1(int Q, float[] a, int[] aOff, int a0, int r1, int r2, int r3, int r4, int r5, int r6, int r7,
                                float[] b, int bBase, int[] bOff,
                                float[] t, int o0, int o1, int o2, int o3, int o4, int o5, int o6, int o7) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
        for (int q = 0; q < Q; q++) {
            int ai = aOff[q] + a0;
            FloatVector bv = FloatVector.fromArray(S, b, bBase + bOff[q]);
            c0 = bv.fma(FloatVector.broadcast(S, a[ai]), c0);
            c1 = bv.fma(FloatVector.broadcast(S, a[ai + r1]), c1);
            c2 = bv.fma(FloatVector.broadcast(S, a[ai + r2]), c2);
            c3 = bv.fma(FloatVector.broadcast(S, a[ai + r3]), c3);
            c4 = bv.fma(FloatVector.broadcast(S, a[ai + r4]), c4);
            c5 = bv.fma(FloatVector.broadcast(S, a[ai + r5]), c5);
            c6 = bv.fma(FloatVector.broadcast(S, a[ai + r6]), c6);
            c7 = bv.fma(FloatVector.broadcast(S, a[ai + r7]), c7);
        }
        c0.intoArray(t, o0); c1.intoArray(t, o1); c2.intoArray(t, o2); c3.intoArray(t, o3);
        c4.intoArray(t, o4); c5.intoArray(t, o5); c6.intoArray(t, o6); c7.intoArray(t, o7);
    }

    /** Per-thread buffer a register tile is written to on its way out (24 vectors). */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[24 * VL]);

    /** C rows [0, rows) at cOff, rows cStride apart, += the tile's rows of `vectors` vectors each. */
    private static void mergeTile(float[] t, int vectors, float[] c, int cOff, int cStride, int rows) {
        for (int r = 0; r < rows; r++) {
            for (int v = 0, at = cOff + r * cStride, from = r * vectors * VL; v < vectors; v++, at += VL, from += VL) {
                FloatVector.fromArray(S, t, from).add(FloatVector.fromArray(S, c, at)).intoArray(c, at);
            }
        }
    }

    /**
     * One tile of C[m][q] += sum over images n in [n0, n1) and j in [0, J) of
     *     d[n * dImage + m * dStride + j] * b[bBase + n * bImage + bOff[q] + j]
     * for the 6 rows m0..m0+5 and the 4 B rows q0..q0+3, stored at c[cBase + m * cRowStride + q].
     * Rows m >= M and q >= Q read row M - 1 and row Q - 1 and are not stored.
     *
     * <p>Loop order: images, then j a vector at a time ({@link #dotImages}): 6 vectors of D and 4
     * of B are loaded and multiplied pairwise into 24 vector accumulators, which are summed across
     * their lanes once at the end ({@link #sumLanes}).
     */
    static void dotTile(int m0, int M, int q0, int Q, int J, int n0, int n1,
                        float[] d, int dImage, int dStride, float[] b, int bBase, int bImage, int[] bOff,
                        float[] c, int cBase, int cRowStride) {
        int rows = Math.min(MR, M - m0), cols = Math.min(NR, Q - q0);
        int d0 = m0 * dStride, last = (m0 + rows - 1) * dStride;
        int d1 = Math.min(d0 + dStride, last), d2 = Math.min(d0 + 2 * dStride, last), d3 = Math.min(d0 + 3 * dStride, last);
        int d4 = Math.min(d0 + 4 * dStride, last), d5 = Math.min(d0 + 5 * dStride, last);
        int b0 = bBase + bOff[q0], b1 = bBase + bOff[q0 + Math.min(1, cols - 1)];
        int b2 = bBase + bOff[q0 + Math.min(2, cols - 1)], b3 = bBase + bOff[q0 + Math.min(3, cols - 1)];
        float[] t = TILE.get();
        dotImages(J, n1 - n0, dImage, bImage, d, n0 * dImage + d0, n0 * dImage + d1, n0 * dImage + d2,
                n0 * dImage + d3, n0 * dImage + d4, n0 * dImage + d5, b, n0 * bImage + b0, n0 * bImage + b1,
                n0 * bImage + b2, n0 * bImage + b3, t);
        sumLanes(t);
        int whole = J - J % VL;
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < cols; col++) {
                float sum = t[r * VL + col];
                int dRow = d0 + r * dStride, bRow = bBase + bOff[q0 + col];
                for (int n = n0; n < n1 && whole < J; n++) {   // the last J % VL columns (the callers pad to avoid them)
                    for (int j = whole; j < J; j++) sum += d[n * dImage + dRow + j] * b[n * bImage + bRow + j];
                }
                c[cBase + (m0 + r) * cRowStride + q0 + col] += sum;
            }
        }
    }

    /**
     * t[(r * 4 + q) * VL + lane] = the lane-wise sum, over `images` images and j in [0, J) each, of
     * d[dr + j] * b[bq + j], for the 6 D rows starting at d0..d5 and the 4 B rows at b0..b3; each
     * image moves the D rows by dImage and the B rows by bImage. Columns past the last whole vector
     * are left to the caller.
     *
     * <p>One flat loop over (image, vector) with the image's offsets bumped when its vectors are done:
     * C2 keeps the 24 accumulators of a single loop in registers, but boxes them (allocates on every
     * iteration) when the j loop sits inside a loop over images. (A call per image, accumulators
     * passing through t, measured 20-35 % slower on the seed's conv weight gradients: its loads and
     * stores of the 24 accumulators, and a call, per image.)
     */
    private static void dotImages(int J, int images, int dImage, int bImage, float[] d, int d0, int d1, int d2,
                                  int d3, int d4, int d5, float[] b, int b0, int b1, int b2, int b3, float[] t) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        int whole = J - J % VL, dShift = 0, bShift = 0, j = 0;
        for (int step = 0, steps = whole / VL * images; step < steps; step++) {
            int dj = dShift + j, bj = bShift + j;
            FloatVector v0 = FloatVector.fromArray(S, b, b0 + bj), v1 = FloatVector.fromArray(S, b, b1 + bj);
            FloatVector v2 = FloatVector.fromArray(S, b, b2 + bj), v3 = FloatVector.fromArray(S, b, b3 + bj);
            FloatVector u = FloatVector.fromArray(S, d, d0 + dj);
            c00 = u.fma(v0, c00); c01 = u.fma(v1, c01); c02 = u.fma(v2, c02); c03 = u.fma(v3, c03);
            u = FloatVector.fromArray(S, d, d1 + dj);
            c10 = u.fma(v0, c10); c11 = u.fma(v1, c11); c12 = u.fma(v2, c12); c13 = u.fma(v3, c13);
            u = FloatVector.fromArray(S, d, d2 + dj);
            c20 = u.fma(v0, c20); c21 = u.fma(v1, c21); c22 = u.fma(v2, c22); c23 = u.fma(v3, c23);
            u = FloatVector.fromArray(S, d, d3 + dj);
            c30 = u.fma(v0, c30); c31 = u.fma(v1, c31); c32 = u.fma(v2, c32); c33 = u.fma(v3, c33);
            u = FloatVector.fromArray(S, d, d4 + dj);
            c40 = u.fma(v0, c40); c41 = u.fma(v1, c41); c42 = u.fma(v2, c42); c43 = u.fma(v3, c43);
            u = FloatVector.fromArray(S, d, d5 + dj);
            c50 = u.fma(v0, c50); c51 = u.fma(v1, c51); c52 = u.fma(v2, c52); c53 = u.fma(v3, c53);
            j += VL;
            if (j == whole) { j = 0; dShift += dImage; bShift += bImage; }
        }
        c00.intoArray(t, 0); c01.intoArray(t, VL); c02.intoArray(t, 2 * VL); c03.intoArray(t, 3 * VL);
        c10.intoArray(t, 4 * VL); c11.intoArray(t, 5 * VL); c12.intoArray(t, 6 * VL); c13.intoArray(t, 7 * VL);
        c20.intoArray(t, 8 * VL); c21.intoArray(t, 9 * VL); c22.intoArray(t, 10 * VL); c23.intoArray(t, 11 * VL);
        c30.intoArray(t, 12 * VL); c31.intoArray(t, 13 * VL); c32.intoArray(t, 14 * VL); c33.intoArray(t, 15 * VL);
        c40.intoArray(t, 16 * VL); c41.intoArray(t, 17 * VL); c42.intoArray(t, 18 * VL); c43.intoArray(t, 19 * VL);
        c50.intoArray(t, 20 * VL); c51.intoArray(t, 21 * VL); c52.intoArray(t, 22 * VL); c53.intoArray(t, 23 * VL);
    }

    // ---- summing accumulators across their lanes ----------------------------------------------------
    //
    // dotTile's 24 accumulators summed lane by lane are 24 * 16 dependent scalar adds: as many
    // cycles as the products for a short tile (a linear layer's 120-feature rows, 8 vector steps;
    // a convolution's weight gradient over a group of 4 images). Instead, pairs of accumulators are
    // folded together: lanes whose bit k is clear keep x's sums of lane pairs (i, i ^ k), the others
    // y's. Two rounds fold 4 accumulators into one vector whose lane i holds a quarter of
    // accumulator i % 4's sum; adding the vector to itself rotated by 4, then 8 lanes completes the
    // sums in lanes 0..3. About 90 vector operations for the 24 sums.

    private static final VectorMask<Float> BIT0 = VectorMask.fromLong(S, 0xAAAA_AAAA_AAAA_AAAAL);
    private static final VectorMask<Float> BIT1 = VectorMask.fromLong(S, 0xCCCC_CCCC_CCCC_CCCCL);
    private static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromOp(S, i -> i ^ 1);
    private static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromOp(S, i -> i ^ 2);
    private static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromOp(S, i -> (i ^ 4) % VL);
    private static final VectorShuffle<Float> SWAP8 = VectorShuffle.fromOp(S, i -> (i ^ 8) % VL);

    /**
     * For each of the 6 rows r of dotImages's accumulators (t[(r * 4 + q) * VL + lane]), puts the sums
     * of its 4 accumulators in t[r * VL + q], q < 4 (row r's 4 vectors are read before it is written).
     * The vectors live inside one loop iteration: passed between methods, C2 boxed them.
     */
    private static void sumLanes(float[] t) {
        for (int r = 0; r < MR; r++) {
            int at = r * NR * VL;
            FloatVector a = FloatVector.fromArray(S, t, at), b = FloatVector.fromArray(S, t, at + VL);
            FloatVector c = FloatVector.fromArray(S, t, at + 2 * VL), d = FloatVector.fromArray(S, t, at + 3 * VL);
            FloatVector ab = a.blend(b, BIT0).add(a.rearrange(SWAP1).blend(b.rearrange(SWAP1), BIT0));
            FloatVector cd = c.blend(d, BIT0).add(c.rearrange(SWAP1).blend(d.rearrange(SWAP1), BIT0));
            FloatVector all = ab.blend(cd, BIT1).add(ab.rearrange(SWAP2).blend(cd.rearrange(SWAP2), BIT1));
            if (VL >= 8) all = all.add(all.rearrange(SWAP4));
            if (VL >= 16) all = all.add(all.rearrange(SWAP8));
            all.intoArray(t, r * VL);
        }
    }
}
