package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

/**
 * The WINOGRAD weight gradient: 3x3 filters at stride 1 by F(2x2, 3x3), the forward's minimal
 * filtering ({@link Winograd}) turned around. The forward's output tile is y = A' [U * V] A with
 * U = G g G' and V = B' d B; the gradient of a loss with respect to U is (A dy A') * V,
 * elementwise, and with respect to the filter g it is G' of that times G. The sum over tiles
 * moves inside, so per pair of channels:
 * <pre>
 *   V = B' d B       each tile's 4x4 input patch transformed, as in the forward
 *   Y = A dy A'      each tile's 2x2 output gradient transformed: 16 numbers per tile and output channel
 *   M = sum over every tile of every image of Y * V, elementwise     (16 matrix products, one per xi)
 *   dg = G' M G      once per pair of channels, at the end
 *
 *   A = | 1  0 |    so along a row (dy0, dy1) becomes (dy0, dy0 + dy1, dy0 - dy1, -dy1)
 *       | 1  1 |
 *       | 1 -1 |
 *       | 0 -1 |
 * </pre>
 * In one dimension: dg0 = dy0 d0 + dy1 d1 = m1 + (m2 + m3)/2, dg1 = dy0 d1 + dy1 d2 = (m2 - m3)/2,
 * dg2 = dy0 d2 + dy1 d3 = (m2 + m3)/2 + m4, with m1 = dy0 (d0 - d2), m2 = (dy0 + dy1)(d1 + d2),
 * m3 = (dy0 - dy1)(d2 - d1), m4 = -dy1 (d1 - d3): 4 products per 2 outputs and 3 taps where the
 * direct sums take 6, so 16 per tile and pair of channels instead of 36. Unlike the forward's
 * products, which sum over the input channels only, these sum over every tile of the batch: long
 * sums, whose accumulators stay in registers over a whole chunk of tiles. The transforms and
 * transposes cost per pixel and channel, the products per pair of channels, so this pays only
 * with many channels ({@link ConvPlan#weightGradient}: 64, the size measured).
 *
 * <p>Layout: channels in a vector's lanes, tiles one after another. Each chunk of images is laid
 * out pixel-major, [image][row][column][channel]: the input zero-padded ({@link #padPixelMajor},
 * its channels rounded up to whole vectors) and the output gradient ({@link Vec#pixelMajor}). Then V is
 * [xi][tile][input channel] ({@link Winograd#transformB}) and Y [xi][tile][output channel]
 * ({@link #gradientTile}), all whole-vector arithmetic. The register tile ({@link #tile}) loads a
 * vector of V's input channels and broadcasts 16 output channels' Y, which lie side by side. The
 * first layout tried, V with tiles in the lanes as the forward makes it and 16 input channels'
 * values broadcast from 16 rows, was slower: each of those reads is bounds-checked on its own,
 * where C2 checks 16 neighbours at once.
 *
 * <p>The batch is cut into at most GROUPS groups of images, a fixed cut, each group one task
 * with its own M, walked in chunks whose V and Y stay in a core's L2; the groups' M are added up
 * in order at the end, so the bits do not depend on the number of threads.
 */
final class WinogradWeightGradient {
    private static final int VL = Gemm.VL;
    /** Elements of a transformed tile (4 x 4). */
    private static final int XI = 16;
    /** Groups of images: the batch in at most GROUPS groups (as ConvWeightGradient's). */
    private static final int GROUPS = 8;
    /** Output channels per register tile: 16 sums of one vector of input channels. */
    private static final int TILE_FILTERS = 16;
    /** Floats of a chunk's V and Y together: 512 KB, half a core's L2. */
    private static final int CHUNK_FLOATS = 128 * 1024;

    private final ConvShape shape;
    private final WorkerScratch scratch = new WorkerScratch();
    /** Each group's M, [group][xi][output channel][input channel, rounded up to whole vectors]. */
    private float[] sums = new float[0];

    // ---- the call in progress ------------------------------------------------------------------
    private float[] input, outputGrad, biasByImage;
    /** Rows and columns of tiles per image, and tiles; input channels rounded up to whole vectors. */
    private int tileRows, tileCols, imageTiles, channels;
    /** The padded pixel-major input's rows and columns per image (2 per tile, and 2 more). */
    private int paddedRows, paddedCols;
    /** Images per chunk, images per group, groups, floats of a group's M, from one xi's V (Y) to the next. */
    private int chunkImages, groupSize, groups, mSize, vStep, yStep;

    WinogradWeightGradient(ConvShape shape) { this.shape = shape; }

    /**
     * weightGrad += the weight gradient of the convolution set in the shape (3x3, stride 1, output
     * channels in whole vectors); each image's bias gradient (its output gradient's plane sums)
     * into biasByImage [image][output channel], unless that is null.
     */
    void run(float[] input, float[] outputGrad, float[] weightGrad, float[] biasByImage) {
        ConvShape s = shape;
        this.input = input; this.outputGrad = outputGrad; this.biasByImage = biasByImage;
        int C = s.inChannels, K = s.outChannels;
        tileRows = (s.outHeight + 1) / 2;
        tileCols = (s.outWidth + 1) / 2;
        imageTiles = tileRows * tileCols;
        channels = Gemm.roundUp(C, VL);
        paddedRows = 2 * tileRows + 2;
        paddedCols = 2 * tileCols + 2;
        chunkImages = Math.max(1, Math.min(s.batch, CHUNK_FLOATS / (XI * imageTiles * (channels + K))));
        int chunkTiles = chunkImages * imageTiles;
        vStep = chunkTiles * channels + VL;  // a vector more: a tile's 16 stores not a multiple of 4 KB apart
        yStep = chunkTiles * K + VL;
        mSize = XI * K * channels;
        groupSize = (s.batch + GROUPS - 1) / GROUPS;
        groups = (s.batch + groupSize - 1) / groupSize;
        sums = WorkerScratch.atLeast(sums, groups * mSize);
        Parallel.range(groups, 2L * mSize * imageTiles * groupSize, byGroup);
        for (int g = 1; g < groups; g++) {
            for (int i = 0; i < mSize; i++) sums[i] += sums[g * mSize + i];
        }
        for (int k = 0; k < K; k++) {
            for (int c = 0; c < C; c++) filterGradient(sums, k * channels + c, K * channels, weightGrad, (k * C + c) * 9);
        }
        this.input = this.outputGrad = this.biasByImage = null;
    }

    /** dw[to + 3 r + s] += (G' M G)[r][s], M's element xi = 4 i + j at m[at + xi * step]. */
    private static void filterGradient(float[] m, int at, int step, float[] dw, int to) {
        for (int r = 0; r < 3; r++) {  // row r of G' M, column j: a combination of M's rows
            float t0 = rowOfGTransposed(r, m[at], m[at + 4 * step], m[at + 8 * step], m[at + 12 * step]);
            float t1 = rowOfGTransposed(r, m[at + step], m[at + 5 * step], m[at + 9 * step], m[at + 13 * step]);
            float t2 = rowOfGTransposed(r, m[at + 2 * step], m[at + 6 * step], m[at + 10 * step], m[at + 14 * step]);
            float t3 = rowOfGTransposed(r, m[at + 3 * step], m[at + 7 * step], m[at + 11 * step], m[at + 15 * step]);
            for (int s = 0; s < 3; s++) dw[to + 3 * r + s] += rowOfGTransposed(s, t0, t1, t2, t3);
        }
    }

    /** Row r of G' times (m0, m1, m2, m3). */
    private static float rowOfGTransposed(int r, float m0, float m1, float m2, float m3) {
        return switch (r) {
            case 0 -> m0 + (m1 + m2) * 0.5f;
            case 1 -> (m1 - m2) * 0.5f;
            default -> (m1 + m2) * 0.5f + m3;
        };
    }

    /**
     * Item g = group g, images [g * groupSize, + groupSize), chunk by chunk: the chunk laid out
     * pixel-major, V and Y made, then M[xi] += the products, into the group's M. This worker's
     * scratch holds V (from 0), Y (yAt), the padded inputs (paddedAt), the output gradients
     * (pixelAt), a vector of zeros (zeroAt: the gradient of an output pixel past the edge), the
     * transposes' blocks (tmpAt) and one image's rows of d B (rowsAt).
     */
    private final Parallel.Task byGroup = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            int K = s.outChannels, pixels = s.pixels, paddedImage = paddedRows * paddedCols * channels;
            int yAt = XI * vStep, paddedAt = yAt + XI * yStep, pixelAt = paddedAt + chunkImages * paddedImage;
            int zeroAt = pixelAt + chunkImages * pixels * K, tmpAt = zeroAt + VL, rowsAt = tmpAt + 2 * VL * VL;
            float[] buf = scratch.get(worker, rowsAt + paddedRows * tileCols * 4 * channels);
            Arrays.fill(buf, zeroAt, zeroAt + VL, 0f);
            for (int g = from; g < to; g++) {
                int m = g * mSize, first = g * groupSize, end = Math.min(s.batch, first + groupSize);
                Arrays.fill(sums, m, m + mSize, 0f);
                for (int n0 = first; n0 < end; n0 += chunkImages) {
                    int images = Math.min(chunkImages, end - n0), tiles = images * imageTiles;
                    for (int i = 0; i < images; i++) {
                        int n = n0 + i;
                        ConvWeightGradient.biasSums(outputGrad, n, K, pixels, biasByImage);
                        padPixelMajor(n, buf, paddedAt + i * paddedImage, tmpAt);
                        Vec.pixelMajor(outputGrad, n * K * pixels, K, pixels, buf, pixelAt + i * pixels * K, buf, tmpAt);
                    }
                    transform(images, buf, paddedAt, pixelAt, zeroAt, yAt, rowsAt);
                    for (int xi = 0; xi < XI; xi++) {
                        int v = xi * vStep, y = yAt + xi * yStep, mx = m + xi * K * channels;
                        for (int cv = 0; cv < channels; cv += VL) {
                            int k = 0;
                            for (; k + TILE_FILTERS <= K; k += TILE_FILTERS) tile(tiles, buf, y + k, K, buf, v + cv, channels, sums, mx + k * channels + cv, channels);
                            for (; k < K; k++) filter(tiles, buf, y + k, K, buf, v + cv, channels, sums, mx + k * channels + cv);
                        }
                    }
                }
            }
        }
    };

    /**
     * Input image n zero-padded into to[at..] as [row][column][channel]: paddedRows x paddedCols
     * pixels of `channels` floats. Where the channels come in whole vectors and a block of VL
     * pixels is part of a row (the width a multiple of VL) or two half rows (the width VL/2), by
     * blocks of VL x VL (Vec.transpose, through to[tmpAt..]); else element by element.
     */
    private void padPixelMajor(int n, float[] to, int at, int tmpAt) {
        ConvShape s = shape;
        int C = s.inChannels, H = s.inHeight, W = s.inWidth, pad = s.pad, plane = H * W;
        Arrays.fill(to, at, at + paddedRows * paddedCols * channels, 0f);
        if (C % VL == 0 && (W % VL == 0 || 2 * W == VL && H % 2 == 0)) {
            for (int c = 0; c < C; c += VL) {
                for (int p = 0; p < plane; p += VL) {
                    int iy = p / W, ix = p % W, dst = at + ((iy + pad) * paddedCols + ix + pad) * channels + c;
                    int high = W % VL == 0 ? dst + VL / 2 * channels : dst + paddedCols * channels;  // a half row on, or the next row
                    Vec.transpose(input, (n * C + c) * plane + p, plane, to, dst, high, channels, to, tmpAt);
                }
            }
            return;
        }
        for (int c = 0; c < C; c++) {
            for (int iy = 0; iy < H; iy++) {
                int dst = at + ((iy + pad) * paddedCols + pad) * channels + c, src = ((n * C + c) * H + iy) * W;
                for (int ix = 0; ix < W; ix++) to[dst + ix * channels] = input[src + ix];
            }
        }
    }

    /**
     * V and Y of every tile of the chunk's `images` images, tile t = (image, tile row, tile column)
     * in that order: V into buf[xi * vStep + t * channels + c], Y into buf[yAt + xi * yStep + t * K
     * + k], from the padded inputs (paddedAt) and the output gradients (pixelAt), zeros past the
     * output's edges (zeroAt). V in two passes, as the forward makes it: each padded row's d B for
     * every tile column into buf[rowsAt..] ([row][tile column][j][channel]), then B' down the
     * columns, 4 rows at a time; a row serves the two rows of tiles that overlap on it.
     */
    private void transform(int images, float[] buf, int paddedAt, int pixelAt, int zeroAt, int yAt, int rowsAt) {
        ConvShape s = shape;
        int K = s.outChannels, outW = s.outWidth, outH = s.outHeight, rowFloats = paddedCols * channels;
        int rowOfTiles = tileCols * 4 * channels;  // one padded row's d B
        for (int i = 0, t = 0; i < images; i++) {
            for (int y = 0; y < paddedRows; y++) {  // d B along each padded row: (x0, x1, x2, x3) of tile column tx
                int d = paddedAt + (i * paddedRows + y) * rowFloats, r = rowsAt + y * rowOfTiles;
                for (int tx = 0; tx < tileCols; tx++) {
                    for (int c = 0; c < channels; c += VL) Winograd.transformB(buf, d + 2 * tx * channels + c, channels, r + tx * 4 * channels + c, channels);
                }
            }
            for (int ty = 0; ty < tileRows; ty++) {
                for (int tx = 0; tx < tileCols; tx++, t++) {
                    int r = rowsAt + 2 * ty * rowOfTiles + tx * 4 * channels;
                    for (int j = 0; j < 4; j++) {  // B' down column j: elements xi = 4 i + j
                        for (int c = 0; c < channels; c += VL) Winograd.transformB(buf, r + j * channels + c, rowOfTiles, j * vStep + t * channels + c, 4 * vStep);
                    }
                    int oy = 2 * ty, ox = 2 * tx, p = pixelAt + (i * s.pixels + oy * outW + ox) * K;
                    boolean right = ox + 1 < outW, below = oy + 1 < outH;
                    for (int k = 0; k < K; k += VL) {
                        gradientTile(buf, p + k, right ? p + K + k : zeroAt, below ? p + outW * K + k : zeroAt,
                                right && below ? p + (outW + 1) * K + k : zeroAt, yAt + t * K + k, yStep);
                    }
                }
            }
        }
    }

    /** Y = A dy A' for VL output channels: the gradients at p00 p01 (row 0) and p10 p11 (row 1) into the 16 vectors at y + xi * step. */
    private static void gradientTile(float[] b, int p00, int p01, int p10, int p11, int y, int step) {
        FloatVector a = FloatVector.fromArray(Gemm.S, b, p00), c = FloatVector.fromArray(Gemm.S, b, p01);
        FloatVector d = FloatVector.fromArray(Gemm.S, b, p10), e = FloatVector.fromArray(Gemm.S, b, p11);
        // along each row: (a, c) -> (a, a + c, a - c, -c)
        FloatVector r01 = a.add(c), r02 = a.sub(c), r03 = c.neg();
        FloatVector r11 = d.add(e), r12 = d.sub(e), r13 = e.neg();
        // down each column: (r0j, r1j) -> (r0j, r0j + r1j, r0j - r1j, -r1j), element xi = 4 i + j
        a.intoArray(b, y); r01.intoArray(b, y + step); r02.intoArray(b, y + 2 * step); r03.intoArray(b, y + 3 * step);
        a.add(d).intoArray(b, y + 4 * step); r01.add(r11).intoArray(b, y + 5 * step);
        r02.add(r12).intoArray(b, y + 6 * step); r03.add(r13).intoArray(b, y + 7 * step);
        a.sub(d).intoArray(b, y + 8 * step); r01.sub(r11).intoArray(b, y + 9 * step);
        r02.sub(r12).intoArray(b, y + 10 * step); r03.sub(r13).intoArray(b, y + 11 * step);
        d.neg().intoArray(b, y + 12 * step); r11.neg().intoArray(b, y + 13 * step);
        r12.neg().intoArray(b, y + 14 * step); r13.neg().intoArray(b, y + 15 * step);
    }

    /**
     * The register tile: m[mBase + j * mStride + l] += sum over t in [0, tiles) of
     * y[yBase + t * yStride + j] * v[vBase + t * vStride + l], for 16 output channels j and the VL
     * input channels l: per tile, one vector load, 16 broadcasts of neighbouring floats and 16 FMAs.
     */
    private static void tile(int tiles, float[] y, int yBase, int yStride, float[] v, int vBase, int vStride,
                             float[] m, int mBase, int mStride) {
        FloatVector a0 = FloatVector.fromArray(Gemm.S, m, mBase), a1 = FloatVector.fromArray(Gemm.S, m, mBase + mStride);
        FloatVector a2 = FloatVector.fromArray(Gemm.S, m, mBase + 2 * mStride), a3 = FloatVector.fromArray(Gemm.S, m, mBase + 3 * mStride);
        FloatVector a4 = FloatVector.fromArray(Gemm.S, m, mBase + 4 * mStride), a5 = FloatVector.fromArray(Gemm.S, m, mBase + 5 * mStride);
        FloatVector a6 = FloatVector.fromArray(Gemm.S, m, mBase + 6 * mStride), a7 = FloatVector.fromArray(Gemm.S, m, mBase + 7 * mStride);
        FloatVector a8 = FloatVector.fromArray(Gemm.S, m, mBase + 8 * mStride), a9 = FloatVector.fromArray(Gemm.S, m, mBase + 9 * mStride);
        FloatVector a10 = FloatVector.fromArray(Gemm.S, m, mBase + 10 * mStride), a11 = FloatVector.fromArray(Gemm.S, m, mBase + 11 * mStride);
        FloatVector a12 = FloatVector.fromArray(Gemm.S, m, mBase + 12 * mStride), a13 = FloatVector.fromArray(Gemm.S, m, mBase + 13 * mStride);
        FloatVector a14 = FloatVector.fromArray(Gemm.S, m, mBase + 14 * mStride), a15 = FloatVector.fromArray(Gemm.S, m, mBase + 15 * mStride);
        for (int t = 0; t < tiles; t++) {
            FloatVector x = FloatVector.fromArray(Gemm.S, v, vBase + t * vStride);
            int i = yBase + t * yStride;
            a0 = x.fma(FloatVector.broadcast(Gemm.S, y[i]), a0); a1 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 1]), a1);
            a2 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 2]), a2); a3 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 3]), a3);
            a4 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 4]), a4); a5 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 5]), a5);
            a6 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 6]), a6); a7 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 7]), a7);
            a8 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 8]), a8); a9 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 9]), a9);
            a10 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 10]), a10); a11 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 11]), a11);
            a12 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 12]), a12); a13 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 13]), a13);
            a14 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 14]), a14); a15 = x.fma(FloatVector.broadcast(Gemm.S, y[i + 15]), a15);
        }
        a0.intoArray(m, mBase); a1.intoArray(m, mBase + mStride); a2.intoArray(m, mBase + 2 * mStride); a3.intoArray(m, mBase + 3 * mStride);
        a4.intoArray(m, mBase + 4 * mStride); a5.intoArray(m, mBase + 5 * mStride); a6.intoArray(m, mBase + 6 * mStride);
        a7.intoArray(m, mBase + 7 * mStride); a8.intoArray(m, mBase + 8 * mStride); a9.intoArray(m, mBase + 9 * mStride);
        a10.intoArray(m, mBase + 10 * mStride); a11.intoArray(m, mBase + 11 * mStride); a12.intoArray(m, mBase + 12 * mStride);
        a13.intoArray(m, mBase + 13 * mStride); a14.intoArray(m, mBase + 14 * mStride); a15.intoArray(m, mBase + 15 * mStride);
    }

    /** One output channel (those past the last whole tile): m[mBase + l] += sum over t of y[yBase + t * yStride] * v[vBase + t * vStride + l]. */
    private static void filter(int tiles, float[] y, int yBase, int yStride, float[] v, int vBase, int vStride, float[] m, int mBase) {
        FloatVector a = FloatVector.fromArray(Gemm.S, m, mBase);
        for (int t = 0; t < tiles; t++) {
            a = FloatVector.fromArray(Gemm.S, v, vBase + t * vStride).fma(FloatVector.broadcast(Gemm.S, y[yBase + t * yStride]), a);
        }
        a.intoArray(m, mBase);
    }
}
