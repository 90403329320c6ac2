package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

/**
 * The WINOGRAD forward: 3x3 filters at stride 1 by minimal filtering, F(2x2, 3x3) (Lavin and Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2016). The reference backend's conv2d takes
 * 9 products per output pixel, input channel and output channel; here a 2x2 block of output pixels
 * (a tile) takes 16 instead of 36, 2.25x fewer, paid for with additions before and after:
 * <pre>
 *   d: the tile's 4x4 input patch (one input channel)  g: one 3x3 filter (input channel, output channel)
 *   V = B' d B      (the input transformed: 16 numbers per tile and input channel)
 *   U = G g G'      (the filter transformed: 16 numbers per pair of channels)
 *   M = sum over input channels of U * V, elementwise     (16 matrix products, one per element xi)
 *   y = A' M A      (the tile's 2x2 outputs for one output channel)
 *
 *   B' = | 1  0 -1  0 |    G = |  1    0    0  |    A' = | 1  1  1  0 |
 *        | 0  1  1  0 |        | 1/2  1/2  1/2 |         | 0  1 -1 -1 |
 *        | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
 *        | 0  1  0 -1 |        |  0    0    1  |
 * </pre>
 * In one dimension: y0 = d0 g0 + d1 g1 + d2 g2 = m1 + m2 + m3 and y1 = d1 g0 + d2 g1 + d3 g2 =
 * m2 - m3 - m4 with m1 = (d0 - d2) g0, m2 = (d1 + d2)(g0 + g1 + g2)/2, m3 = (d2 - d1)(g0 - g1 + g2)/2,
 * m4 = (d1 - d3) g2: 4 products for 2 outputs instead of 6; the 2-D form nests it in rows and columns.
 * The sums differ from the direct ones by rounding only (the test tolerances of the other paths hold).
 *
 * <p>Layout: a vector holds VL tiles side by side (lanes over tiles), so every step but the first
 * and last is whole vectors: a row of tiles of one image, cut into vectors of VL tiles where it is
 * longer (32 x 32 outputs: 16 tiles), or the same row of several images where it is shorter (16 x 16:
 * 2 images of 8; 8 x 8: 4 of 4): a group of images is the unit of work. Per group and input channel,
 * {@link #inputTransform} makes each padded input row's 4 columns of every lane's tile and combines
 * them (d B): where the rows pack into two vectors ({@link #packs}), by splitting the row into its
 * even and odd columns with permutes ({@link #packedRow}), else one lane at a time
 * ({@link #gatheredRow}); then it combines rows (B' d B) into V[xi][c][vector] ({@link #columns}).
 * {@link #tile} multiplies: M[xi][k][t] = sum over c of U[xi][c][k] V[xi][c][t], 4 output channels
 * by 4 vectors of tiles per register tile, so each broadcast filter number meets 4 vectors.
 * {@link #outputTransform} turns each output channel's 16 vectors of M into the tiles' 2x2 outputs
 * ({@link #combine}) and writes them to the output planes: interleaved back into rows by permutes
 * ({@link #packedWrite}), or lane by lane. The steps are small methods on purpose: in one big
 * method C2 left some of the vector operations to the Vector API's slow Java fallback.
 */
final class Winograd {
    private static final int VL = Gemm.VL;
    /** Elements of a transformed tile (4 x 4): the products per tile and pair of channels. */
    private static final int XI = 16;
    /** Register tile of the products: output channels, and vectors of tiles. */
    private static final int TILE_CHANNELS = 4, TILE_VECTORS = 4;

    /*
     * Shuffles and masks for packed rows, each used as a single-vector rearrange (a permute
     * instruction) and a blend or multiply (see Vec.EVEN_LOW).
     */
    /** Lane i takes lane i - 1 (LATER) or i + 1 (EARLIER); the end lanes keep their own. */
    private static final VectorShuffle<Float> LATER = Vec.shuffle(i -> Math.max(i - 1, 0)), EARLIER = Vec.shuffle(i -> Math.min(i + 1, VL - 1));
    /**
     * By tiles per image row (1, 2, 4, ... VL at index log2): 0 in the lanes where LATER (KEEP_LATER)
     * or EARLIER (KEEP_EARLIER) would take a lane of another image's run of lanes, or its own, else 1.
     */
    private static final float[][] KEEP_LATER = new float[Integer.numberOfTrailingZeros(VL) + 1][VL],
            KEEP_EARLIER = new float[KEEP_LATER.length][VL];
    static {
        for (int b = 0; b < KEEP_LATER.length; b++) {
            int run = 1 << b;
            for (int i = 0; i < VL; i++) {
                KEEP_LATER[b][i] = i % run == 0 ? 0f : 1f;
                KEEP_EARLIER[b][i] = i % run == run - 1 ? 0f : 1f;
            }
        }
    }

    private final ConvShape shape;
    private final WorkerScratch scratch = new WorkerScratch();
    /** U[xi][c][k]: the filters transformed; the weights as [c][tap][k], their input; G g's rows for VL filters. */
    private float[] filters = new float[0], byTap = new float[0], rows = new float[12 * VL];
    /** Per lane of each vector of a row of tiles: the image in the group (-1: unused lane) and the tile's column. */
    private int[] laneImage = new int[0], laneTile = new int[0];

    // ---- the call in progress (fields: the parallel task reads them) ------------------------------
    private float[] input, bias, output;
    private boolean accumulate;
    /** Applied to each output plane once written (batch norm, residual, ReLU), or null. */
    private ConvEpilogue epilogue;
    /** Rows and columns of tiles, images per group, vectors per row of tiles, vectors of tiles per group (and as multiplied). */
    private int tileRows, tileCols, groupImages, rowVectors, vectors, productVectors;
    /**
     * Floats from one element xi's transformed tiles to the next in V ([xi][c][tiles]) and from its
     * products to the next in M ([xi][k][tiles]): a vector more than the channels' rows, so that a
     * tile's 16 elements are not a multiple of 4 KB apart (one set of the L1 cache, 12 lines).
     */
    private int vStep, mStep;
    /**
     * Whether a group's input rows pack into 2 VL floats (padding 1, even sizes, the width dividing
     * 2 VL): then the gathers and the writes are whole vectors (packedRow, packedWrite).
     */
    private boolean packed;
    /** packed: the KEEP_LATER and KEEP_EARLIER vectors for this width. */
    private float[] keepLater, keepEarlier;

    Winograd(ConvShape shape) { this.shape = shape; }

    /** Whether F(2x2, 3x3) applies: 3x3 filters, stride 1, output channels in groups of the register tile's 4. */
    static boolean applies(int stride, int kernelHeight, int kernelWidth, int outChannels) {
        return stride == 1 && kernelHeight == 3 && kernelWidth == 3 && outChannels % TILE_CHANNELS == 0;
    }

    /**
     * Whether a group's input rows pack into two vectors of `vectorLength` floats (see packed): padding
     * 1 (the output as large as the input), even sizes, and a width that divides 2 vectorLength.
     */
    static boolean packs(int vectorLength, int height, int width, int padding) {
        return padding == 1 && height % 2 == 0 && width % 2 == 0 && 2 * vectorLength % width == 0;
    }

    /**
     * output = conv(input, weights) + bias, or output += conv(input, weights) (accumulate; bias null);
     * with an epilogue, each output plane goes through it as soon as it is written.
     */
    void run(float[] input, float[] weights, float[] bias, float[] output, boolean accumulate, ConvEpilogue epilogue) {
        ConvShape s = shape;
        layOut(s);
        transformFilters(weights, s.inChannels, s.outChannels);
        this.input = input; this.bias = bias; this.output = output; this.accumulate = accumulate; this.epilogue = epilogue;
        long flopsPerGroup = 2L * XI * s.inChannels * s.outChannels * productVectors * VL;
        Parallel.range((s.batch + groupImages - 1) / groupImages, flopsPerGroup, byGroup);
        this.input = this.bias = this.output = null;
        this.epilogue = null;
    }

    /** Tiles, the group of images, and which tile each lane holds. */
    private void layOut(ConvShape s) {
        tileRows = (s.outHeight + 1) / 2;
        tileCols = (s.outWidth + 1) / 2;
        groupImages = tileCols >= VL ? 1 : VL / tileCols;
        rowVectors = (tileCols + VL - 1) / VL;
        vectors = tileRows * rowVectors;
        productVectors = Math.max(vectors, TILE_VECTORS);
        vStep = s.inChannels * productVectors * VL + VL;
        mStep = s.outChannels * productVectors * VL + VL;
        packed = packs(VL, s.inHeight, s.inWidth, s.pad);
        if (packed) {
            int b = Integer.numberOfTrailingZeros(tileCols);
            keepLater = KEEP_LATER[b];
            keepEarlier = KEEP_EARLIER[b];
        }
        laneImage = WorkerScratch.atLeast(laneImage, rowVectors * VL);
        laneTile = WorkerScratch.atLeast(laneTile, rowVectors * VL);
        for (int v = 0; v < rowVectors; v++) {
            for (int l = 0; l < VL; l++) {
                int i = v * VL + l;
                if (groupImages == 1) {
                    laneImage[i] = i < tileCols ? 0 : -1;
                    laneTile[i] = i;
                } else {
                    laneImage[i] = l / tileCols < groupImages ? l / tileCols : -1;
                    laneTile[i] = l % tileCols;
                }
            }
        }
    }

    /**
     * U = G g G' for every pair of channels, into filters[(xi * inChannels + c) * outChannels + k]:
     * VL output channels at a time, from the weights transposed to [c][tap][k] so that a tap of VL
     * filters is one vector load; the arithmetic is {@link #rowOfG}'s, lane by lane, so the same bits.
     */
    private void transformFilters(float[] weights, int inChannels, int outChannels) {
        filters = WorkerScratch.atLeast(filters, XI * inChannels * outChannels);
        byTap = WorkerScratch.atLeast(byTap, 9 * inChannels * outChannels);
        for (int k = 0; k < outChannels; k++) {
            for (int q = 0; q < 9 * inChannels; q++) byTap[q * outChannels + k] = weights[k * 9 * inChannels + q];
        }
        int whole = outChannels - outChannels % VL;
        for (int c = 0; c < inChannels; c++) {
            for (int k = 0; k < whole; k += VL) transformVector(inChannels, outChannels, c, k);
            for (int k = whole; k < outChannels; k++) {
                int w = c * 9 * outChannels + k;
                for (int i = 0; i < 4; i++) {
                    // row i of G g: a combination of the filter's rows
                    float a = rowOfG(i, byTap[w], byTap[w + 3 * outChannels], byTap[w + 6 * outChannels]);
                    float b = rowOfG(i, byTap[w + outChannels], byTap[w + 4 * outChannels], byTap[w + 7 * outChannels]);
                    float d = rowOfG(i, byTap[w + 2 * outChannels], byTap[w + 5 * outChannels], byTap[w + 8 * outChannels]);
                    for (int j = 0; j < 4; j++) filters[((i * 4 + j) * inChannels + c) * outChannels + k] = rowOfG(j, a, b, d);
                }
            }
        }
    }

    /**
     * transformFilters for input channel c and output channels [k, k + VL): rowOfG on vectors, in two
     * passes through `rows` (G g's 4 rows of 3 vectors), so that no vector crosses a method boundary
     * (C2 boxes one passed to a method it does not inline).
     */
    private void transformVector(int inChannels, int outChannels, int c, int k) {
        int w = c * 9 * outChannels + k;
        for (int col = 0; col < 3; col++) {  // row i of G g, column col: a combination of the filter's rows
            FloatVector top = FloatVector.fromArray(Gemm.S, byTap, w + col * outChannels);
            FloatVector middle = FloatVector.fromArray(Gemm.S, byTap, w + (3 + col) * outChannels);
            FloatVector bottom = FloatVector.fromArray(Gemm.S, byTap, w + (6 + col) * outChannels);
            top.intoArray(rows, col * VL);
            top.add(middle).add(bottom).mul(0.5f).intoArray(rows, (3 + col) * VL);
            top.sub(middle).add(bottom).mul(0.5f).intoArray(rows, (6 + col) * VL);
            bottom.intoArray(rows, (9 + col) * VL);
        }
        int step = inChannels * outChannels;
        for (int i = 0, at = c * outChannels + k; i < 4; i++, at += 4 * step) {  // (row i) G': elements xi = 4i .. 4i + 3
            FloatVector a = FloatVector.fromArray(Gemm.S, rows, 3 * i * VL), b = FloatVector.fromArray(Gemm.S, rows, (3 * i + 1) * VL);
            FloatVector d = FloatVector.fromArray(Gemm.S, rows, (3 * i + 2) * VL);
            a.intoArray(filters, at);
            a.add(b).add(d).mul(0.5f).intoArray(filters, at + step);
            a.sub(b).add(d).mul(0.5f).intoArray(filters, at + 2 * step);
            d.intoArray(filters, at + 3 * step);
        }
    }

    /** Row i of G times (g0, g1, g2). */
    private static float rowOfG(int i, float g0, float g1, float g2) {
        return switch (i) {
            case 0 -> g0;
            case 1 -> (g0 + g1 + g2) * 0.5f;
            case 2 -> (g0 - g1 + g2) * 0.5f;
            default -> g2;
        };
    }

    /** Item = a group of groupImages images: transform, multiply, transform back. */
    private final Parallel.Task byGroup = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            int C = s.inChannels, K = s.outChannels, rowLen = productVectors * VL;
            int paddedRows = 2 * tileRows + 2;
            int vAt = 0, mAt = vAt + XI * vStep, rowsAt = mAt + XI * mStep, gatherAt = rowsAt + paddedRows * rowVectors * 4 * VL;
            float[] buf = scratch.get(worker, gatherAt + 6 * VL);
            for (int group = from; group < to; group++) {
                int n0 = group * groupImages;
                for (int c = 0; c < C; c++) inputTransform(n0, c, buf, rowsAt, gatherAt, vAt, rowLen);
                if (productVectors > vectors) {  // rows of fewer than 4 vectors: the tile's extra columns read zeros
                    for (int xi = 0; xi < XI; xi++) {
                        for (int c = 0; c < C; c++) {
                            int row = vAt + xi * vStep + c * rowLen;
                            java.util.Arrays.fill(buf, row + vectors * VL, row + rowLen, 0f);
                        }
                    }
                }
                for (int xi = 0; xi < XI; xi++) {
                    for (int k0 = 0; k0 < K; k0 += TILE_CHANNELS) {
                        for (int v = 0; v < productVectors; v += TILE_VECTORS) {
                            int v0 = Math.min(v, productVectors - TILE_VECTORS);  // the last tile overlaps
                            tile(C, filters, xi * C * K + k0, K, buf, vAt + xi * vStep + v0 * VL, rowLen,
                                    buf, mAt + xi * mStep + k0 * rowLen + v0 * VL, rowLen);
                        }
                    }
                }
                for (int k = 0; k < K; k++) {
                    outputTransform(n0, k, buf, mAt, gatherAt, rowLen);
                    if (epilogue == null) continue;
                    for (int n = n0; n < Math.min(n0 + groupImages, s.batch); n++) epilogue.plane(output, n, k);
                }
            }
        }
    };

    /** Input channel c of the group starting at image n0 into V[xi][c][vector] (at vAt): rows, then columns. */
    private void inputTransform(int n0, int c, float[] buf, int rowsAt, int gatherAt, int vAt, int rowLen) {
        for (int y = 0; y < 2 * tileRows + 2; y++) {
            int iy = y - shape.pad, to = rowsAt + y * rowVectors * 4 * VL;
            if (iy < 0 || iy >= shape.inHeight) java.util.Arrays.fill(buf, to, to + rowVectors * 4 * VL, 0f);  // a row of padding
            else if (packed) packedRow(n0, c, iy, buf, to, gatherAt);
            else gatheredRow(n0, c, iy, buf, to, gatherAt);
        }
        columns(c, buf, rowsAt, vAt, rowLen);
    }

    /**
     * packed: input row iy of channel c of the group's images, 2 VL floats side by side, by
     * {@link #split}: the row itself for one image, two images' rows as they lie for rows of VL,
     * four images' rows joined in pairs ({@link Vec#joinHalves}) for rows of VL / 2; else (other
     * widths, a group past the end of the batch) the rows copied to `stage` one by one. Those copies
     * cost more than their own time: layer2's forward (16 x 16, two images to a group) took 22 % less
     * without them, where copies of 16 floats by themselves take 3-4 ns each; a vector load of floats
     * just stored by a copy of another width waiting for the stores is the likely cause.
     */
    private void packedRow(int n0, int c, int iy, float[] buf, int to, int stage) {
        ConvShape s = shape;
        int W = s.inWidth, image = s.inChannels * s.inHeight * W, at = (n0 * s.inChannels + c) * s.inHeight * W + iy * W;
        boolean whole = n0 + groupImages <= s.batch;
        if (groupImages == 1) {
            split(input, at, input, at + VL, buf, to);
        } else if (whole && W == VL) {  // two images, a vector each
            split(input, at, input, at + image, buf, to);
        } else if (whole && 2 * W == VL && at + 3 * image + VL <= input.length) {  // four images, two to a vector
            Vec.joinHalves(input, at, at + image, buf, stage);
            Vec.joinHalves(input, at + 2 * image, at + 3 * image, buf, stage + VL);
            split(buf, stage, buf, stage + VL, buf, to);
        } else {  // any other width, or images past the batch: the rows copied side by side
            for (int g = 0; g < groupImages; g++) {
                if (n0 + g < s.batch) System.arraycopy(input, at + g * image, buf, stage + g * W, W);
                else java.util.Arrays.fill(buf, stage + g * W, stage + (g + 1) * W, 0f);
            }
            split(buf, stage, buf, stage + VL, buf, to);
        }
    }

    /**
     * One packed row, its first VL floats at lo[loAt] and the next VL at hi[hiAt]: split into its
     * even and odd columns, each lane's tile's 4 columns made from those by shifting a lane within
     * the image's run of lanes (the tile at column t reads input columns 2t - 1, 2t, 2t + 1, 2t + 2),
     * and combined along the row (d B) into 4 vectors at out[to].
     */
    private void split(float[] lo, int loAt, float[] hi, int hiAt, float[] out, int to) {
        FloatVector l = FloatVector.fromArray(Gemm.S, lo, loAt), h = FloatVector.fromArray(Gemm.S, hi, hiAt);
        FloatVector d1 = l.rearrange(Vec.EVEN_LOW).blend(h.rearrange(Vec.EVEN_LOW), Vec.UPPER);  // columns 2t
        FloatVector d2 = l.rearrange(Vec.ODD_LOW).blend(h.rearrange(Vec.ODD_LOW), Vec.UPPER);    // columns 2t + 1
        FloatVector d0 = d2.rearrange(LATER).mul(FloatVector.fromArray(Gemm.S, keepLater, 0));     // columns 2t - 1
        FloatVector d3 = d1.rearrange(EARLIER).mul(FloatVector.fromArray(Gemm.S, keepEarlier, 0)); // columns 2t + 2
        d0.sub(d2).intoArray(out, to);
        d1.add(d2).intoArray(out, to + VL);
        d2.sub(d1).intoArray(out, to + 2 * VL);
        d1.sub(d3).intoArray(out, to + 3 * VL);
    }

    /**
     * Any size and padding: input row iy of channel c, each lane's 4 columns 2 * tile - pad + j
     * gathered one by one into `stage` (0 outside the image or past the batch), combined along the
     * row (d B) into 4 vectors per vector of tiles at `to`.
     */
    private void gatheredRow(int n0, int c, int iy, float[] buf, int to, int stage) {
        ConvShape s = shape;
        int W = s.inWidth, plane = s.inHeight * W;
        for (int v = 0; v < rowVectors; v++) {
            for (int l = 0; l < VL; l++) {
                int lane = v * VL + l, g = laneImage[lane], x0 = 2 * laneTile[lane] - s.pad;
                boolean live = g >= 0 && n0 + g < s.batch;
                int row = ((n0 + g) * s.inChannels + c) * plane + iy * W;
                for (int j = 0; j < 4; j++) {
                    int x = x0 + j;
                    buf[stage + j * VL + l] = live && x >= 0 && x < W ? input[row + x] : 0f;
                }
            }
            transformB(buf, stage, VL, to + v * 4 * VL, VL);
        }
    }

    /** Each row of tiles' 4 rows of d B (at rowsAt) combined (B' (d B)) into V[xi][c][vector] at vAt. */
    private void columns(int c, float[] buf, int rowsAt, int vAt, int rowLen) {
        int step = rowVectors * 4 * VL;
        for (int ty = 0; ty < tileRows; ty++) {
            for (int v = 0; v < rowVectors; v++) {
                int r0 = rowsAt + 2 * ty * step + v * 4 * VL, to = vAt + c * rowLen + (ty * rowVectors + v) * VL;
                for (int j = 0; j < 4; j++) transformB(buf, r0 + j * VL, step, to + j * vStep, 4 * vStep);  // elements xi = 4 i + j
            }
        }
    }

    /**
     * B' x for a vector of VL lanes (tiles here, channels in {@link WinogradWeightGradient}): the 4
     * vectors at in + i * inStride, (x0, x1, x2, x3), become (x0 - x2, x1 + x2, x2 - x1, x1 - x3)
     * at out + i * outStride. Along a row it makes d B, down a column B' (d B). {@link #split} makes
     * the same sums from vectors it has in registers.
     */
    static void transformB(float[] b, int in, int inStride, int out, int outStride) {
        FloatVector x0 = FloatVector.fromArray(Gemm.S, b, in), x1 = FloatVector.fromArray(Gemm.S, b, in + inStride);
        FloatVector x2 = FloatVector.fromArray(Gemm.S, b, in + 2 * inStride), x3 = FloatVector.fromArray(Gemm.S, b, in + 3 * inStride);
        x0.sub(x2).intoArray(b, out);
        x1.add(x2).intoArray(b, out + outStride);
        x2.sub(x1).intoArray(b, out + 2 * outStride);
        x1.sub(x3).intoArray(b, out + 3 * outStride);
    }

    /**
     * Output channel k of the group starting at image n0: each vector of tiles' 16 vectors of M
     * (at mAt) combined into its 2x2 outputs (A' M A), bias added, into `stage`; then written (or
     * added) to the output planes: by packedWrite, or lane by lane.
     */
    private void outputTransform(int n0, int k, float[] buf, int mAt, int stage, int rowLen) {
        ConvShape s = shape;
        int K = s.outChannels, outH = s.outHeight, outW = s.outWidth;
        float b = bias == null ? 0f : bias[k];
        for (int ty = 0; ty < tileRows; ty++) {
            for (int v = 0; v < rowVectors; v++) {
                combine(buf, mAt + k * rowLen + (ty * rowVectors + v) * VL, b, stage);
                if (packed) {
                    packedWrite(n0, ((n0 * K + k) * outH + 2 * ty) * outW, buf, stage);
                    continue;
                }
                for (int l = 0; l < VL; l++) {
                    int lane = v * VL + l, g = laneImage[lane];
                    if (g < 0 || n0 + g >= s.batch) continue;
                    int ox = 2 * laneTile[lane], oy = 2 * ty;
                    int o = (((n0 + g) * K + k) * outH + oy) * outW + ox;
                    boolean right = ox + 1 < outW, below = oy + 1 < outH;
                    if (accumulate) {
                        output[o] += buf[stage + l];
                        if (right) output[o + 1] += buf[stage + VL + l];
                        if (below) output[o + outW] += buf[stage + 2 * VL + l];
                        if (right && below) output[o + outW + 1] += buf[stage + 3 * VL + l];
                    } else {
                        output[o] = buf[stage + l];
                        if (right) output[o + 1] = buf[stage + VL + l];
                        if (below) output[o + outW] = buf[stage + 2 * VL + l];
                        if (right && below) output[o + outW + 1] = buf[stage + 3 * VL + l];
                    }
                }
            }
        }
    }

    /** A' M A + bias for one vector of tiles: M's 16 vectors at m (mStep apart), y[a][b] to stage + (2a + b) * VL. */
    private void combine(float[] buf, int m, float bias, int stage) {
        int x = mStep;
        // A' M: the rows of each column j combined into 2, t0j and t1j
        FloatVector m0 = FloatVector.fromArray(Gemm.S, buf, m), m4 = FloatVector.fromArray(Gemm.S, buf, m + 4 * x);
        FloatVector m8 = FloatVector.fromArray(Gemm.S, buf, m + 8 * x), m12 = FloatVector.fromArray(Gemm.S, buf, m + 12 * x);
        FloatVector t00 = m0.add(m4).add(m8), t10 = m4.sub(m8).sub(m12);
        FloatVector m1 = FloatVector.fromArray(Gemm.S, buf, m + x), m5 = FloatVector.fromArray(Gemm.S, buf, m + 5 * x);
        FloatVector m9 = FloatVector.fromArray(Gemm.S, buf, m + 9 * x), m13 = FloatVector.fromArray(Gemm.S, buf, m + 13 * x);
        FloatVector t01 = m1.add(m5).add(m9), t11 = m5.sub(m9).sub(m13);
        FloatVector m2 = FloatVector.fromArray(Gemm.S, buf, m + 2 * x), m6 = FloatVector.fromArray(Gemm.S, buf, m + 6 * x);
        FloatVector m10 = FloatVector.fromArray(Gemm.S, buf, m + 10 * x), m14 = FloatVector.fromArray(Gemm.S, buf, m + 14 * x);
        FloatVector t02 = m2.add(m6).add(m10), t12 = m6.sub(m10).sub(m14);
        FloatVector m3 = FloatVector.fromArray(Gemm.S, buf, m + 3 * x), m7 = FloatVector.fromArray(Gemm.S, buf, m + 7 * x);
        FloatVector m11 = FloatVector.fromArray(Gemm.S, buf, m + 11 * x), m15 = FloatVector.fromArray(Gemm.S, buf, m + 15 * x);
        FloatVector t03 = m3.add(m7).add(m11), t13 = m7.sub(m11).sub(m15);
        // (A' M) A: the columns combined; y[a][b] is the tile's output (2 ty + a, 2 tile + b)
        FloatVector b = FloatVector.broadcast(Gemm.S, bias);
        t00.add(t01).add(t02).add(b).intoArray(buf, stage);
        t01.sub(t02).sub(t03).add(b).intoArray(buf, stage + VL);
        t10.add(t11).add(t12).add(b).intoArray(buf, stage + 2 * VL);
        t11.sub(t12).sub(t13).add(b).intoArray(buf, stage + 3 * VL);
    }

    /**
     * packed: the 4 vectors of outputs at `stage` (y[a][b] of each lane's tile) interleaved into two
     * output rows of 2 VL floats each (y00 y01 y00 y01 ..., y10 y11 ...), written (or added) to the
     * rows at o and o + outW of the group's images: straight from the interleave for one image, or
     * two with rows of VL (a vector each); else through `stage`, an image's row at a time.
     */
    private void packedWrite(int n0, int o, float[] buf, int stage) {
        ConvShape s = shape;
        int W = s.outWidth, image = s.outChannels * s.outHeight * W;
        for (int a = 0; a < 2; a++) {
            int row = o + a * W;
            if (groupImages == 1) {  // one image's row
                Vec.interleave(buf, stage + 2 * a * VL, stage + (2 * a + 1) * VL, output, row, row + VL, accumulate);
                continue;
            }
            if (W == VL && n0 + 1 < s.batch) {  // two images' rows: each half its own image's
                Vec.interleave(buf, stage + 2 * a * VL, stage + (2 * a + 1) * VL, output, row, row + image, accumulate);
                continue;
            }
            int rows = stage + 4 * VL;  // several images' rows side by side: copied out one by one
            Vec.interleave(buf, stage + 2 * a * VL, stage + (2 * a + 1) * VL, buf, rows, rows + VL, false);
            for (int g = 0; g < groupImages && n0 + g < s.batch; g++) {
                int to = row + g * image, from = rows + g * W;
                if (accumulate) for (int x = 0; x < W; x++) output[to + x] += buf[from + x];
                else System.arraycopy(buf, from, output, to, W);
            }
        }
    }

    /**
     * The register tile: m[mBase + kk * mStride + i * VL + l] = sum over c in [0, C) of
     * u[uBase + c * uStride + kk] * v[vBase + c * vStride + i * VL + l], for 4 output channels kk and
     * 4 vectors i of tiles: per input channel, 4 vector loads, 4 broadcasts and 16 FMAs.
     */
    private static void tile(int C, float[] u, int uBase, int uStride, float[] v, int vBase, int vStride, float[] m, int mBase, int mStride) {
        FloatVector z = FloatVector.zero(Gemm.S);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, d0 = z, d1 = z, d2 = z, d3 = z;
        for (int c = 0; c < C; c++) {
            int vo = vBase + c * vStride, uo = uBase + c * uStride;
            FloatVector x0 = FloatVector.fromArray(Gemm.S, v, vo), x1 = FloatVector.fromArray(Gemm.S, v, vo + VL);
            FloatVector x2 = FloatVector.fromArray(Gemm.S, v, vo + 2 * VL), x3 = FloatVector.fromArray(Gemm.S, v, vo + 3 * VL);
            FloatVector w = FloatVector.broadcast(Gemm.S, u[uo]);
            a0 = x0.fma(w, a0); a1 = x1.fma(w, a1); a2 = x2.fma(w, a2); a3 = x3.fma(w, a3);
            w = FloatVector.broadcast(Gemm.S, u[uo + 1]);
            b0 = x0.fma(w, b0); b1 = x1.fma(w, b1); b2 = x2.fma(w, b2); b3 = x3.fma(w, b3);
            w = FloatVector.broadcast(Gemm.S, u[uo + 2]);
            c0 = x0.fma(w, c0); c1 = x1.fma(w, c1); c2 = x2.fma(w, c2); c3 = x3.fma(w, c3);
            w = FloatVector.broadcast(Gemm.S, u[uo + 3]);
            d0 = x0.fma(w, d0); d1 = x1.fma(w, d1); d2 = x2.fma(w, d2); d3 = x3.fma(w, d3);
        }
        a0.intoArray(m, mBase); a1.intoArray(m, mBase + VL); a2.intoArray(m, mBase + 2 * VL); a3.intoArray(m, mBase + 3 * VL);
        int mb = mBase + mStride;
        b0.intoArray(m, mb); b1.intoArray(m, mb + VL); b2.intoArray(m, mb + 2 * VL); b3.intoArray(m, mb + 3 * VL);
        mb += mStride;
        c0.intoArray(m, mb); c1.intoArray(m, mb + VL); c2.intoArray(m, mb + 2 * VL); c3.intoArray(m, mb + 3 * VL);
        mb += mStride;
        d0.intoArray(m, mb); d1.intoArray(m, mb + VL); d2.intoArray(m, mb + 2 * VL); d3.intoArray(m, mb + 3 * VL);
    }
}
