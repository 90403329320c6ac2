package advtrain.backend.cpu;

import java.util.Arrays;

/**
 * The convolution's weight and bias gradients, weightGrad += and biasGrad += (either may be null).
 * Six paths, chosen by {@link ConvPlan#weightGradient}: IM2COL and WIDE_ROWS ({@link #byTiles}),
 * WIDE_ROWS_IN_GROUPS ({@link #inGroups}, which also runs the input gradient of its images),
 * CHANNELS ({@link #byTaps}, or {@link #inImageGroups} for channels in pairs of vectors), ROW_TAPS
 * ({@link #inImageGroups}) and WINOGRAD ({@link WinogradWeightGradient}); the register tiles of the
 * CHANNELS paths are in {@link WeightGradientTiles}. Every path sums each
 * gradient element in a fixed order, whatever the number of threads, so results do not depend on
 * it. One instance per calling thread (inside {@link Conv}); workspaces grow on first use.
 */
final class ConvWeightGradient {
    private static final int VL = Gemm.VL;
    /** Groups of WIDE_ROWS_IN_GROUPS and of inImageGroups: the batch in at most GROUPS groups. */
    private static final int GROUPS = 8;
    private static final int TAPS = ConvPlan.CHANNELS_TAP_TILE;
    /** Taps per two-vector register tile of CHANNELS (2 x 12 accumulators). */
    private static final int PAIR_TAPS = ConvPlan.PAIR_TAP_TILE;
    /** Filter rows (c, r) per register tile of ROW_TAPS (8 x 3 accumulators). */
    private static final int ROW_TAP_ROWS = 8;
    /** Floats of operands (output gradients and padded inputs) per chunk of images of inImageGroups: 512 KB. */
    private static final int CHUNK_FLOATS = 128 * 1024;

    private final ConvShape shape;
    private final WinogradWeightGradient winograd;
    private final WorkerScratch scratch = new WorkerScratch();
    /** Every image's B operand of the products: padded input (WIDE_ROWS, CHANNELS) or im2col matrix (IM2COL). */
    private float[] inputsByImage = new float[0];
    /** Every image's output gradient laid out like the forward's result: wide (WIDE_ROWS) or compact (IM2COL). */
    private float[] gradsByImage = new float[0];
    /** CHANNELS: the output gradient pixel-major, [image][pixel][output channel]. */
    private float[] gradsByPixel = new float[0];
    /** Each image's bias gradient, [image][output channel], added up in order afterwards. */
    private float[] biasByImage = new float[0];
    /** The call's biasByImage, or null where no bias gradient is asked for (the sums are skipped). */
    private float[] imageBias;
    /** WIDE_ROWS_IN_GROUPS: each group's weight gradient, [group][outChannels * taps], added up in order afterwards. */
    private float[] weightsByGroup = new float[0];

    // ---- the call in progress ------------------------------------------------------------------
    private ConvPlan.WeightGradient path;
    private float[] input, outputGrad, weightGrad;
    /** Per-image slices: of the B operand, of the laid-out output gradient, and that gradient's row length. */
    private int inputSlice, gradSlice, gradRow;
    /** Register tiles of the result [outChannels, taps]: tiles in all, and tiles across the taps. */
    private int weightTiles, tapTiles;
    private int groupSize, groups;
    /** inImageGroups: images per chunk, whose operands stay in a core's L2 while every tile uses them. */
    private int chunkImages;
    /** inImageGroups: one image's laid-out output gradient; one register tile's floats. */
    private int gradImage, tileFloats;
    /** WIDE_ROWS_IN_GROUPS: the input gradient computed in the groups too, or null. */
    private ConvInputGradient inputGradient;

    ConvWeightGradient(ConvShape shape) {
        this.shape = shape;
        winograd = new WinogradWeightGradient(shape);
    }

    /**
     * weightGrad += and biasGrad += the gradients, on the path `path` (shape already set). With
     * WIDE_ROWS_IN_GROUPS, `inputGradient` (already begun), if not null, computes the groups' images'
     * input gradients inside the groups.
     */
    void run(ConvPlan.WeightGradient path, float[] input, float[] outputGrad, float[] weightGrad, float[] biasGrad,
             ConvInputGradient inputGradient) {
        this.path = path; this.input = input; this.outputGrad = outputGrad; this.weightGrad = weightGrad;
        this.inputGradient = inputGradient;
        ConvShape s = shape;
        if (biasGrad != null) biasByImage = WorkerScratch.atLeast(biasByImage, s.batch * s.outChannels);
        imageBias = biasGrad != null ? biasByImage : null;
        if (path == ConvPlan.WeightGradient.WINOGRAD && weightGrad != null) winograd.run(input, outputGrad, weightGrad, imageBias);
        else if (path == ConvPlan.WeightGradient.WIDE_ROWS_IN_GROUPS) inGroups();
        else batchWide();
        if (biasGrad != null) {
            for (int n = 0; n < s.batch; n++) for (int k = 0; k < s.outChannels; k++) biasGrad[k] += biasByImage[n * s.outChannels + k];
        }
        this.input = this.outputGrad = this.weightGrad = this.imageBias = null;
        this.inputGradient = null;
    }

    /**
     * Image n's bias gradient, the sums of its output gradient's outC planes of `pixels`, into
     * to[n * outC..]; nothing where to is null (no bias gradient asked for: ResNets have none).
     */
    static void biasSums(float[] outputGrad, int n, int outC, int pixels, float[] to) {
        if (to == null) return;
        for (int k = 0; k < outC; k++) to[n * outC + k] = Vec.sum(outputGrad, (n * outC + k) * pixels, pixels);
    }

    // ---- IM2COL, WIDE_ROWS, CHANNELS: batch-wide passes ------------------------------------------

    /**
     * Every image's operands gathered (gatherImages), then the weight gradient's register tiles each
     * summed over the whole batch (byTiles, or byTaps for CHANNELS); ROW_TAPS and CHANNELS in pairs
     * of vectors run by groups of images instead (inImageGroups).
     */
    private void batchWide() {
        ConvShape s = shape;
        boolean channels = path == ConvPlan.WeightGradient.CHANNELS && weightGrad != null;
        boolean rowTaps = path == ConvPlan.WeightGradient.ROW_TAPS && weightGrad != null;
        inputSlice = s.padded ? s.paddedImage : s.im2colImage;
        gradRow = s.padded ? s.wideLength : s.pixelsPadded;
        gradSlice = s.outChannels * gradRow;
        if (rowTaps || channels && ConvPlan.HERE.channelVectors(s.outChannels) == 2) {
            inImageGroups();
            return;
        }
        if (weightGrad != null) inputsByImage = WorkerScratch.atLeast(inputsByImage, s.batch * inputSlice);
        if (channels) gradsByPixel = WorkerScratch.atLeast(gradsByPixel, s.batch * s.pixels * s.outChannels);
        else if (weightGrad != null) gradsByImage = WorkerScratch.atLeast(gradsByImage, s.batch * gradSlice);
        Parallel.range(s.batch, (long) s.outChannels * s.pixels + (weightGrad == null ? 0 : (long) s.taps * s.pixels), gatherImages);
        if (channels) {
            tapTiles = (s.taps + TAPS - 1) / TAPS;
            weightTiles = s.outChannels / VL * tapTiles;
            Parallel.range(weightTiles, 2L * TAPS * VL * s.batch * s.pixels, byTaps);
        } else if (weightGrad != null) {
            tapTiles = (s.taps + Gemm.NR - 1) / Gemm.NR;
            weightTiles = (s.outChannels + Gemm.MR - 1) / Gemm.MR * tapTiles;
            Parallel.range(weightTiles, 2L * Gemm.MR * Gemm.NR * s.batch * gradRow, byTiles);
        }
    }

    /**
     * Item n = image n. The bias gradient's per-image sums; then the weight gradient's operands for
     * image n into its slices: the B rows (padded input, or im2col matrix) and the output gradient
     * laid out like the forward result (wide, zeros in the dropped columns; compact, zero tail; or
     * pixel-major for CHANNELS).
     */
    private final Parallel.Task gatherImages = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            int pixels = s.pixels, outC = s.outChannels;
            for (int n = from; n < to; n++) {
                biasSums(outputGrad, n, outC, pixels, imageBias);
                if (weightGrad == null) continue;
                int base = n * gradSlice;
                if (s.padded) {
                    s.padImage(input, n, inputsByImage, n * inputSlice);
                    if (path == ConvPlan.WeightGradient.CHANNELS) byPixel(n, gradsByPixel, n * s.pixels * outC);
                    else s.wideRows(outputGrad, n, gradsByImage, base);
                } else {
                    s.im2col(input, n, inputsByImage, n * inputSlice);
                    for (int k = 0; k < outC; k++) {
                        System.arraycopy(outputGrad, (n * outC + k) * pixels, gradsByImage, base + k * gradRow, pixels);
                        Arrays.fill(gradsByImage, base + k * gradRow + pixels, base + (k + 1) * gradRow, 0f);
                    }
                }
            }
        }
    };

    /**
     * IM2COL and WIDE_ROWS. Item t = one register tile of weightGrad [outChannels, taps]: 6 output
     * channels (m0 = t / tapTiles * 6) by 4 taps q = (c, r, s) (q0 = t % tapTiles * 4). The
     * reference backend's conv2d backward sums each weight's gradient alone, one output pixel at a time with
     * a bounds check; here Gemm.dotTile keeps 24 sums in vector registers over every image and output
     * position j: grad[n][k][j] * input_n[tapOffset[q] + j], the same shifted rows (or im2col rows)
     * as the forward pass, so each loaded operand feeds several sums.
     */
    private final Parallel.Task byTiles = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            for (int t = from; t < to; t++) {
                int m0 = t / tapTiles * Gemm.MR, q0 = t % tapTiles * Gemm.NR;
                Gemm.dotTile(m0, s.outChannels, q0, s.taps, gradRow, 0, s.batch, gradsByImage, gradSlice, gradRow,
                        inputsByImage, 0, inputSlice, s.tapOffset, weightGrad, 0, s.taps);
            }
        }
    };

    /**
     * outputGrad[n] transposed into to[at..]: [pixel][output channel], element by element. By
     * Vec.transpose's blocks, as the row-tap and Winograd weight gradients do it, this path did not
     * pay: layer2's weight gradient 4.3 → 4.8-5.1 ms in one pair of runs (ResNetConvs --cpu-time,
     * builds taking turns), where this machine's noise on that layer is about 10 %.
     */
    private void byPixel(int n, float[] to, int at) {
        Vec.pixelMajor(outputGrad, n * shape.outChannels * shape.pixels, shape.outChannels, shape.pixels, to, at, null, 0);
    }

    /**
     * CHANNELS. Item = one tile of weightGrad: VL output channels k0.. (a vector's lanes) by 15 taps
     * q0.. (the last tile overlaps the one before and adds only its new taps). Where the reference
     * backend sums one weight's gradient at a time, here a vector of VL channels' output gradients at one
     * pixel (gradsByPixel) meets the 15 taps' input values that pixel saw: 15 independent vector FMAs
     * per pixel. It is the mirror of ConvForward's CHANNELS, summed over every real output pixel of
     * every image (no wide layout: the wide rows also multiplied conv2's 4 dropped columns of every
     * 14). Sums run over images, then pixels, in order, whichever thread runs the tile.
     * (15 taps: conv2's 150 make 10 tiles, 5 per thread; with 12, its 13 tiles split 7 / 6.)
     */
    private final Parallel.Task byTaps = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            int taps = s.taps;
            int[] o = s.tapOffset;
            float[] t = scratch.get(worker, TAPS * VL);
            for (int item = from; item < to; item++) {
                int k0 = item / tapTiles * VL, first = item % tapTiles * TAPS, q0 = Math.min(first, taps - TAPS);
                WeightGradientTiles.tileTaps(s.batch * s.pixels, s.outWidth, s.outHeight, s.paddedWidth, inputSlice, s.outChannels, gradsByPixel, k0,
                        inputsByImage, o[q0], o[q0 + 1], o[q0 + 2], o[q0 + 3], o[q0 + 4], o[q0 + 5], o[q0 + 6], o[q0 + 7],
                        o[q0 + 8], o[q0 + 9], o[q0 + 10], o[q0 + 11], o[q0 + 12], o[q0 + 13], o[q0 + 14], t);
                for (int i = first - q0; i < TAPS; i++) {
                    for (int l = 0; l < VL; l++) weightGrad[(k0 + l) * taps + q0 + i] += t[i * VL + l];
                }
            }
        }
    };

    // ---- ROW_TAPS and CHANNELS in pairs of vectors: by groups of images -------------------------

    /**
     * The batch is cut into at most GROUPS groups of consecutive images, a fixed cut (so the sums,
     * and the results' bits, do not depend on the number of threads), each group one task
     * (byImageGroup); the groups' weight gradients are then added up in order. A group walks its
     * images in chunks of chunkImages, lays each chunk's operands out in the worker's scratch (the
     * padded inputs, and the output gradients pixel-major: byPaddedRows or byPixel), and runs every
     * register tile over the chunk while it is in the core's L2. So the laid-out operands are
     * written to cache and read from it, never to and from memory: laying out the whole batch first
     * and then streaming it once per chunk of tiles cost ResNet-20's weight gradients 20-40 % of
     * their time.
     */
    private void inImageGroups() {
        ConvShape s = shape;
        int outC = s.outChannels, taps = s.taps;
        if (path == ConvPlan.WeightGradient.ROW_TAPS) {
            gradImage = s.outHeight * (s.outWidth + 4) * outC;
            weightTiles = (s.inChannels * s.kernelHeight + ROW_TAP_ROWS - 1) / ROW_TAP_ROWS;
            tileFloats = ROW_TAP_ROWS * 3 * VL;
        } else {
            gradImage = s.pixels * outC;
            tapTiles = (taps + PAIR_TAPS - 1) / PAIR_TAPS;
            weightTiles = outC / (2 * VL) * tapTiles;
            tileFloats = 2 * PAIR_TAPS * VL;
        }
        chunkImages = Math.max(1, CHUNK_FLOATS / (gradImage + inputSlice));
        groupSize = (s.batch + GROUPS - 1) / GROUPS;
        groups = (s.batch + groupSize - 1) / groupSize;
        weightsByGroup = WorkerScratch.atLeast(weightsByGroup, groups * outC * taps);
        Parallel.range(groups, 2L * outC * taps * s.pixels * groupSize, byImageGroup);
        addGroups();
    }

    /** weightGrad += each group's weight gradient (weightsByGroup), in group order. */
    private void addGroups() {
        int size = shape.outChannels * shape.taps;
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < size; i++) weightGrad[i] += weightsByGroup[g * size + i];
        }
    }

    /**
     * Item g = group g, images [g * groupSize, + groupSize). This worker's scratch holds a chunk's
     * output gradients (from 0), its padded inputs (from xAt) and every tile's running sums (from
     * sumsAt); a weight's sum runs over the group's images, then pixels, in order. Then the tiles'
     * sums become group g's weight gradient (each weight written by exactly one tile).
     */
    private final Parallel.Task byImageGroup = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            int outC = s.outChannels, pixels = s.pixels, xAt = chunkImages * gradImage, sumsAt = xAt + chunkImages * inputSlice;
            boolean rowTaps = path == ConvPlan.WeightGradient.ROW_TAPS;  // else CHANNELS in pairs of vectors
            int tmpAt = sumsAt + weightTiles * tileFloats;  // the transposes' blocks
            float[] buf = scratch.get(worker, tmpAt + 2 * VL * VL);
            for (int g = from; g < to; g++) {
                int first = g * groupSize, end = Math.min(s.batch, first + groupSize);
                Arrays.fill(buf, sumsAt, sumsAt + weightTiles * tileFloats, 0f);
                for (int n0 = first; n0 < end; n0 += chunkImages) {
                    int images = Math.min(chunkImages, end - n0);
                    for (int i = 0; i < images; i++) {
                        int n = n0 + i;
                        biasSums(outputGrad, n, outC, pixels, imageBias);
                        s.padImage(input, n, buf, xAt + i * inputSlice);
                        if (rowTaps) byPaddedRows(n, buf, i * gradImage, tmpAt);
                        else byPixel(n, buf, i * gradImage);
                    }
                    for (int t = 0; t < weightTiles; t++) {
                        if (rowTaps) rowTapTile(t, images, buf, xAt, sumsAt + t * tileFloats);
                        else pairTile(t, images, buf, xAt, sumsAt + t * tileFloats);
                    }
                }
                for (int t = 0; t < weightTiles; t++) {
                    if (rowTaps) rowTapSums(t, buf, sumsAt + t * tileFloats, g * outC * s.taps);
                    else pairSums(t, buf, sumsAt + t * tileFloats, g * outC * s.taps);
                }
            }
        }
    };

    /**
     * ROW_TAPS: outputGrad[n] transposed into to[at..] as [output row][column][output channel], each
     * row outWidth + 4 columns long: two zero columns before the row's pixels and two after, so that
     * the tile can read pixel j - s for every tap s of every input column j. Where the channels
     * and the row come in whole vectors, by VL x VL blocks (Vec.transpose, through to[tmpAt..]).
     */
    private void byPaddedRows(int n, float[] to, int at, int tmpAt) {
        int outW = shape.outWidth, outH = shape.outHeight, outC = shape.outChannels, pixels = shape.pixels;
        int rowFloats = (outW + 4) * outC, src = n * outC * pixels;
        for (int oy = 0; oy < outH; oy++) {
            int row = at + oy * rowFloats;
            Arrays.fill(to, row, row + 2 * outC, 0f);
            Arrays.fill(to, row + (outW + 2) * outC, row + rowFloats, 0f);
        }
        boolean blocks = outC % VL == 0 && outW % VL == 0;
        for (int k = 0; k < outC; k += blocks ? VL : 1) {
            for (int oy = 0; oy < outH; oy++) {
                int dst = at + oy * rowFloats + 2 * outC + k, from = src + k * pixels + oy * outW;
                if (blocks) {
                    for (int ox = 0; ox < outW; ox += VL) Vec.transpose(outputGrad, from + ox, pixels, to, dst + ox * outC, outC, to, tmpAt);
                } else {
                    for (int ox = 0; ox < outW; ox++) to[dst + ox * outC] = outputGrad[from + ox];
                }
            }
        }
    }

    /**
     * ROW_TAPS (3x3 filters at stride 1, one vector of output channels: ResNet's 16). Tile t = 8
     * filter rows (c, r) (the last tile overlapping the one before), each with its 3 taps s, by the
     * VL output channels in the lanes, over a chunk of images. Where byTaps broadcasts each tap's
     * input value at every output pixel (15 broadcasts per 15 FMAs), here the tile walks the padded
     * input's columns j and broadcasts each value once for the three taps that meet it, with the
     * output gradients of pixels j, j - 1 and j - 2 (zeros past the row's ends: byPaddedRows): 8
     * broadcasts and 3 loads per 24 FMAs.
     */
    private void rowTapTile(int t, int images, float[] buf, int xAt, int sumsAt) {
        ConvShape s = shape;
        int[] o = s.tapOffset;
        int r0 = Math.min(t * ROW_TAP_ROWS, s.inChannels * s.kernelHeight - ROW_TAP_ROWS) * 3;  // tap (c, r, 0) of its first row
        WeightGradientTiles.tileRowTaps(images * s.outHeight * (s.outWidth + 2), s.outWidth + 2, s.outHeight, s.paddedWidth,
                inputSlice, xAt, s.outChannels, buf, 0, buf, o[r0], o[r0 + 3], o[r0 + 6], o[r0 + 9], o[r0 + 12], o[r0 + 15],
                o[r0 + 18], o[r0 + 21], buf, sumsAt);
    }

    /** Tile t's sums (rowTapTile) into to[at..], [outChannels][taps], the rows an earlier tile did not have. */
    private void rowTapSums(int t, float[] sums, int sumsAt, int at) {
        int taps = shape.taps, first = t * ROW_TAP_ROWS, r0 = Math.min(first, shape.inChannels * shape.kernelHeight - ROW_TAP_ROWS);
        for (int i = first - r0; i < ROW_TAP_ROWS; i++) {
            for (int tap = 0; tap < 3; tap++) {
                int q = (r0 + i) * 3 + tap;
                for (int l = 0; l < VL; l++) weightsByGroup[at + l * taps + q] = sums[sumsAt + (i * 3 + tap) * VL + l];
            }
        }
    }

    /**
     * CHANNELS with output channels in pairs of vectors (AVX-512; ResNet's 32 and 64). Tile t = 2 x VL
     * output channels k0.. by 12 taps q0.. (the last tile overlapping), over a chunk of images: at
     * each pixel, 12 broadcast input values meet two vectors of output gradients (24 FMAs per 12
     * broadcasts, against byTaps' 15 per 15).
     */
    private void pairTile(int t, int images, float[] buf, int xAt, int sumsAt) {
        ConvShape s = shape;
        int[] o = s.tapOffset;
        int k0 = t / tapTiles * 2 * VL, q0 = Math.min(t % tapTiles * PAIR_TAPS, s.taps - PAIR_TAPS);
        WeightGradientTiles.tilePairTaps(images * s.pixels, s.outWidth, s.outHeight, s.paddedWidth, inputSlice, xAt, s.outChannels,
                buf, k0, buf, o[q0], o[q0 + 1], o[q0 + 2], o[q0 + 3], o[q0 + 4], o[q0 + 5], o[q0 + 6], o[q0 + 7], o[q0 + 8],
                o[q0 + 9], o[q0 + 10], o[q0 + 11], buf, sumsAt);
    }

    /** Tile t's sums (pairTile) into weightsByGroup[at..], [outChannels][taps], the taps an earlier tile did not have. */
    private void pairSums(int t, float[] sums, int sumsAt, int at) {
        int taps = shape.taps, k0 = t / tapTiles * 2 * VL, first = t % tapTiles * PAIR_TAPS, q0 = Math.min(first, taps - PAIR_TAPS);
        for (int i = first - q0; i < PAIR_TAPS; i++) {
            for (int l = 0; l < VL; l++) {
                weightsByGroup[at + (k0 + l) * taps + q0 + i] = sums[sumsAt + i * VL + l];
                weightsByGroup[at + (k0 + VL + l) * taps + q0 + i] = sums[sumsAt + (PAIR_TAPS + i) * VL + l];
            }
        }
    }

    // ---- WIDE_ROWS_IN_GROUPS ---------------------------------------------------------------------

    /**
     * Stride 1. The batch is cut into at most 8 groups of consecutive images, a fixed cut (so the
     * sums, and the results' bits, do not depend on the number of threads), and each group is one
     * task (byGroup) that lays out its images' output gradients wide and their inputs padded, sums
     * its part of the weight gradient from them while they are in cache, and computes its images'
     * input gradients. The groups' weight gradients are then added up in order. The products are
     * byTiles' register tiles; what differs from byTiles is the order of the work: byTiles streams
     * the whole batch's operands once per tile, which for conv1 at batch 32 (1.1 MB) no longer fit
     * a core's L2, where a group's do.
     */
    private void inGroups() {
        ConvShape s = shape;
        groupSize = (s.batch + GROUPS - 1) / GROUPS;
        groups = (s.batch + groupSize - 1) / groupSize;
        inputSlice = s.paddedImage;
        gradRow = s.wideLength;
        gradSlice = s.outChannels * gradRow;
        if (weightGrad != null) {
            tapTiles = (s.taps + Gemm.NR - 1) / Gemm.NR;
            weightTiles = (s.outChannels + Gemm.MR - 1) / Gemm.MR * tapTiles;
            weightsByGroup = WorkerScratch.atLeast(weightsByGroup, groups * s.outChannels * s.taps);
        }
        long flops = 2L * s.outChannels * s.taps * s.pixels;
        long flopsPerImage = (weightGrad == null ? 0 : flops) + (inputGradient != null ? flops : 0);
        Parallel.range(groups, Math.max((long) s.outChannels * s.pixels, flopsPerImage) * groupSize, byGroup);
        if (weightGrad != null) addGroups();
    }

    /**
     * Item g = group g, images [g * groupSize, + groupSize). In this worker's scratch: the group's
     * output gradients laid out like the forward's wide result (rows of paddedWidth, zeros in the
     * dropped columns and at the end), and (for the weight gradient) its padded inputs. The weight
     * gradient's register tiles (as byTiles: 6 output channels by 4 taps) then sum over the group's
     * images. Then each image's input gradient (ConvInputGradient.wideImage).
     */
    private final Parallel.Task byGroup = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            int pixels = s.pixels, outC = s.outChannels, taps = s.taps;
            int inputsAt = groupSize * gradSlice, inputGradAt = inputsAt + (weightGrad == null ? 0 : groupSize * inputSlice);
            float[] buf = scratch.get(worker, inputGradAt + (inputGradient == null ? 0 : inputGradient.wideScratch()));
            for (int g = from; g < to; g++) {
                int n0 = g * groupSize, images = Math.min(s.batch, n0 + groupSize) - n0;
                for (int i = 0; i < images; i++) {
                    int n = n0 + i;
                    biasSums(outputGrad, n, outC, pixels, imageBias);
                    if (weightGrad != null) {
                        s.wideRows(outputGrad, n, buf, i * gradSlice);
                        s.padImage(input, n, buf, inputsAt + i * inputSlice);
                    }
                }
                if (weightGrad != null) {
                    int partial = g * outC * taps;
                    Arrays.fill(weightsByGroup, partial, partial + outC * taps, 0f);
                    for (int t = 0; t < weightTiles; t++) {
                        Gemm.dotTile(t / tapTiles * Gemm.MR, outC, t % tapTiles * Gemm.NR, taps, gradRow, 0, images,
                                buf, gradSlice, gradRow, buf, inputsAt, inputSlice, s.tapOffset, weightsByGroup, partial, taps);
                    }
                }
                if (inputGradient == null) continue;
                for (int i = 0; i < images; i++) inputGradient.wideImage(n0 + i, buf, inputGradAt);
            }
        }
    };
}
