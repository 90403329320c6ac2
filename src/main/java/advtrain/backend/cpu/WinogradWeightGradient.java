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
 *   V = B' d B       each tile's 4x4 input patch transformed (the forward's inputTransform)
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
 * direct sum takes 6, so 16 per tile and pair of channels instead of 36. Unlike the forward, whose
 * products sum over the input channels only, these sum over every tile of the batch: long dot
 * products, so the multiplications run near the machine's peak and the transforms weigh little.
 *
 * <p>Layout: V as the forward lays it out, VL tiles in a vector's lanes, [xi][c][tile]; Y with VL
 * output channels in a vector's lanes, [xi][tile][k], from the output gradient transposed
 * pixel-major. The register tile ({@link #tile}) broadcasts 16 input channels' V and multiplies
 * each by a vector of output channels' Y: M[xi][c][k]. The batch is cut into at most GROUPS groups
 * of whole Winograd groups of images, a fixed cut, each group one task with its own M; the groups'
 * M are added up in order at the end, so the bits do not depend on the number of threads.
 */
final class WinogradWeightGradient {
    private static final int VL = Gemm.VL;
    /** Elements of a transformed tile (4 x 4). */
    private static final int XI = 16;
    /** Groups of images: the batch in at most GROUPS groups (as ConvWeightGradient's). */
    private static final int GROUPS = 8;
    /** Input channels per register tile: 16 sums of one vector of output channels. */
    private static final int TILE_CHANNELS = 16;

    private final ConvShape shape;
    /** The forward's layout of tiles and its input transform (its own instance: its filter buffers stay empty). */
    private final Winograd winograd;
    private final WorkerScratch scratch = new WorkerScratch();
    /** Each group's M, [group][xi][c][k]. */
    private float[] sums = new float[0];

    // ---- the call in progress ------------------------------------------------------------------
    private float[] outputGrad, biasByImage;
    /** Images per group (whole Winograd groups), groups, tiles per Winograd group, floats per group's M, from one xi's Y to the next. */
    private int groupSize, groups, tiles, mSize, yStep;

    WinogradWeightGradient(ConvShape shape) {
        this.shape = shape;
        winograd = new Winograd(shape);
    }

    /**
     * weightGrad += the weight gradient of the convolution set in the shape; each image's bias
     * gradient (the sums of its output gradient's planes) into biasByImage [image][output channel].
     */
    void run(float[] input, float[] outputGrad, float[] weightGrad, float[] biasByImage) {
        ConvShape s = shape;
        Winograd w = winograd;
        w.useInput(input);
        this.outputGrad = outputGrad; this.biasByImage = biasByImage;
        int C = s.inChannels, K = s.outChannels;
        tiles = w.vectors * VL;
        yStep = tiles * K + VL;  // a vector more: xi's 16 stores not a multiple of 4 KB apart
        mSize = XI * C * K;
        groupSize = Gemm.roundUp((s.batch + GROUPS - 1) / GROUPS, w.groupImages);
        groups = (s.batch + groupSize - 1) / groupSize;
        sums = WorkerScratch.atLeast(sums, groups * mSize);
        Parallel.range(groups, 2L * mSize * tiles * (groupSize / w.groupImages), byGroup);
        for (int g = 1; g < groups; g++) {
            for (int i = 0; i < mSize; i++) sums[i] += sums[g * mSize + i];
        }
        for (int k = 0; k < K; k++) {
            for (int c = 0; c < C; c++) filterGradient(sums, c * K + k, C * K, weightGrad, (k * C + c) * 9);
        }
        w.useInput(null);
        this.outputGrad = this.biasByImage = null;
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
     * Item g = group g, images [g * groupSize, + groupSize), one Winograd group of images at a time:
     * V by the forward's inputTransform, the output gradients pixel-major, Y (gradientTile), then
     * M[xi] += the products (tile), in the group's M. This worker's scratch holds V (from 0), Y
     * (yAt), the pixel-major gradients (pixelAt), a vector of zeros (zeroAt: the gradient of an
     * output pixel past the edge) and inputTransform's rows and gathers (rowsAt, gatherAt).
     */
    private final Parallel.Task byGroup = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            Winograd w = winograd;
            int C = s.inChannels, K = s.outChannels, pixels = s.pixels, rowLen = w.productVectors * VL;
            int yAt = XI * w.vStep, pixelAt = yAt + XI * yStep, zeroAt = pixelAt + w.groupImages * pixels * K;
            int rowsAt = zeroAt + VL, gatherAt = rowsAt + w.rowsFloats();
            float[] buf = scratch.get(worker, gatherAt + 6 * VL);
            Arrays.fill(buf, zeroAt, zeroAt + VL, 0f);
            for (int g = from; g < to; g++) {
                int m = g * mSize, first = g * groupSize, end = Math.min(s.batch, first + groupSize);
                Arrays.fill(sums, m, m + mSize, 0f);
                for (int n0 = first; n0 < end; n0 += w.groupImages) {
                    int images = Math.min(w.groupImages, s.batch - n0);
                    for (int i = 0; i < images; i++) {
                        int n = n0 + i;
                        for (int k = 0; k < K; k++) biasByImage[n * K + k] = Vec.sum(outputGrad, (n * K + k) * pixels, pixels);
                        byPixel(n, buf, pixelAt + i * pixels * K);
                    }
                    for (int c = 0; c < C; c++) w.inputTransform(n0, c, buf, rowsAt, gatherAt, 0, rowLen);
                    gradients(n0, buf, yAt, pixelAt, zeroAt);
                    for (int xi = 0; xi < XI; xi++) {
                        int v = xi * w.vStep, y = yAt + xi * yStep, mx = m + xi * C * K;
                        for (int kv = 0; kv < K; kv += VL) {
                            int c = 0;
                            for (; c + TILE_CHANNELS <= C; c += TILE_CHANNELS) {
                                tile(tiles, buf, v + c * rowLen, rowLen, buf, y + kv, K, sums, mx + c * K + kv, K);
                            }
                            for (; c < C; c++) channel(tiles, buf, v + c * rowLen, buf, y + kv, K, sums, mx + c * K + kv);
                        }
                    }
                }
            }
        }
    };

    /** Output gradient of image n transposed into to[at..] as [pixel][output channel]. */
    private void byPixel(int n, float[] to, int at) {
        int pixels = shape.pixels, K = shape.outChannels, src = n * K * pixels;
        for (int k = 0; k < K; k++) {
            for (int p = 0; p < pixels; p++) to[at + p * K + k] = outputGrad[src + k * pixels + p];
        }
    }

    /**
     * Y for every tile of the Winograd group starting at image n0, in the lanes' order of V (tile
     * t = vector * VL + lane), into buf[yAt + xi * yStep + t * K + k]: from the 2x2 output gradients
     * (pixel-major at pixelAt), zeros past the edges (zeroAt) and for lanes with no image.
     */
    private void gradients(int n0, float[] buf, int yAt, int pixelAt, int zeroAt) {
        ConvShape s = shape;
        Winograd w = winograd;
        int K = s.outChannels, outW = s.outWidth, outH = s.outHeight;
        for (int vector = 0; vector < w.vectors; vector++) {
            int ty = vector / w.rowVectors, v = vector % w.rowVectors, oy = 2 * ty;
            for (int l = 0; l < VL; l++) {
                int lane = v * VL + l, image = w.laneImage[lane], ox = 2 * w.laneTile[lane];
                int y = yAt + (vector * VL + l) * K;
                boolean live = image >= 0 && n0 + image < s.batch;
                int p = pixelAt + (image * s.pixels + oy * outW + ox) * K;
                for (int k = 0; k < K; k += VL) {
                    if (!live) {
                        for (int xi = 0; xi < XI; xi++) Arrays.fill(buf, y + xi * yStep + k, y + xi * yStep + k + VL, 0f);
                        continue;
                    }
                    boolean right = ox + 1 < outW, below = oy + 1 < outH;
                    gradientTile(buf, p + k, right ? p + K + k : zeroAt, below ? p + outW * K + k : zeroAt,
                            right && below ? p + (outW + 1) * K + k : zeroAt, y + k, yStep);
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
     * The register tile: m[mBase + i * mStride + l] += sum over t in [0, tiles) of
     * v[vBase + i * vStride + t] * y[yBase + t * yStride + l], for 16 input channels i and the VL
     * output channels l: per tile, one vector load, 16 broadcasts and 16 FMAs.
     */
    private static void tile(int tiles, float[] v, int vBase, int vStride, float[] y, int yBase, int yStride,
                             float[] m, int mBase, int mStride) {
        FloatVector a0 = FloatVector.fromArray(Gemm.S, m, mBase), a1 = FloatVector.fromArray(Gemm.S, m, mBase + mStride);
        FloatVector a2 = FloatVector.fromArray(Gemm.S, m, mBase + 2 * mStride), a3 = FloatVector.fromArray(Gemm.S, m, mBase + 3 * mStride);
        FloatVector a4 = FloatVector.fromArray(Gemm.S, m, mBase + 4 * mStride), a5 = FloatVector.fromArray(Gemm.S, m, mBase + 5 * mStride);
        FloatVector a6 = FloatVector.fromArray(Gemm.S, m, mBase + 6 * mStride), a7 = FloatVector.fromArray(Gemm.S, m, mBase + 7 * mStride);
        FloatVector a8 = FloatVector.fromArray(Gemm.S, m, mBase + 8 * mStride), a9 = FloatVector.fromArray(Gemm.S, m, mBase + 9 * mStride);
        FloatVector a10 = FloatVector.fromArray(Gemm.S, m, mBase + 10 * mStride), a11 = FloatVector.fromArray(Gemm.S, m, mBase + 11 * mStride);
        FloatVector a12 = FloatVector.fromArray(Gemm.S, m, mBase + 12 * mStride), a13 = FloatVector.fromArray(Gemm.S, m, mBase + 13 * mStride);
        FloatVector a14 = FloatVector.fromArray(Gemm.S, m, mBase + 14 * mStride), a15 = FloatVector.fromArray(Gemm.S, m, mBase + 15 * mStride);
        int s2 = 2 * vStride, s3 = 3 * vStride, s4 = 4 * vStride;
        for (int t = 0; t < tiles; t++) {
            FloatVector g = FloatVector.fromArray(Gemm.S, y, yBase + t * yStride);
            int i = vBase + t;
            a0 = g.fma(FloatVector.broadcast(Gemm.S, v[i]), a0);
            a1 = g.fma(FloatVector.broadcast(Gemm.S, v[i + vStride]), a1);
            a2 = g.fma(FloatVector.broadcast(Gemm.S, v[i + s2]), a2);
            a3 = g.fma(FloatVector.broadcast(Gemm.S, v[i + s3]), a3);
            i += s4;
            a4 = g.fma(FloatVector.broadcast(Gemm.S, v[i]), a4);
            a5 = g.fma(FloatVector.broadcast(Gemm.S, v[i + vStride]), a5);
            a6 = g.fma(FloatVector.broadcast(Gemm.S, v[i + s2]), a6);
            a7 = g.fma(FloatVector.broadcast(Gemm.S, v[i + s3]), a7);
            i += s4;
            a8 = g.fma(FloatVector.broadcast(Gemm.S, v[i]), a8);
            a9 = g.fma(FloatVector.broadcast(Gemm.S, v[i + vStride]), a9);
            a10 = g.fma(FloatVector.broadcast(Gemm.S, v[i + s2]), a10);
            a11 = g.fma(FloatVector.broadcast(Gemm.S, v[i + s3]), a11);
            i += s4;
            a12 = g.fma(FloatVector.broadcast(Gemm.S, v[i]), a12);
            a13 = g.fma(FloatVector.broadcast(Gemm.S, v[i + vStride]), a13);
            a14 = g.fma(FloatVector.broadcast(Gemm.S, v[i + s2]), a14);
            a15 = g.fma(FloatVector.broadcast(Gemm.S, v[i + s3]), a15);
        }
        a0.intoArray(m, mBase); a1.intoArray(m, mBase + mStride); a2.intoArray(m, mBase + 2 * mStride); a3.intoArray(m, mBase + 3 * mStride);
        a4.intoArray(m, mBase + 4 * mStride); a5.intoArray(m, mBase + 5 * mStride); a6.intoArray(m, mBase + 6 * mStride);
        a7.intoArray(m, mBase + 7 * mStride); a8.intoArray(m, mBase + 8 * mStride); a9.intoArray(m, mBase + 9 * mStride);
        a10.intoArray(m, mBase + 10 * mStride); a11.intoArray(m, mBase + 11 * mStride); a12.intoArray(m, mBase + 12 * mStride);
        a13.intoArray(m, mBase + 13 * mStride); a14.intoArray(m, mBase + 14 * mStride); a15.intoArray(m, mBase + 15 * mStride);
    }

    /** One input channel of the tile (the channels past the last whole tile): m[mBase + l] += sum over t of v[vBase + t] * y[yBase + t * yStride + l]. */
    private static void channel(int tiles, float[] v, int vBase, float[] y, int yBase, int yStride, float[] m, int mBase) {
        FloatVector a = FloatVector.fromArray(Gemm.S, m, mBase);
        for (int t = 0; t < tiles; t++) a = FloatVector.fromArray(Gemm.S, y, yBase + t * yStride).fma(FloatVector.broadcast(Gemm.S, v[vBase + t]), a);
        a.intoArray(m, mBase);
    }
}
