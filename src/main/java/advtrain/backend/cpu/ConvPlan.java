package advtrain.backend.cpu;

/**
 * Which algorithm each part of a convolution runs, and why: the one place the choice is made.
 * {@link ConvForward}, {@link ConvWeightGradient} and {@link ConvInputGradient} hold the kernels;
 * they run what this class says. The rules look at the layer's shape and the batch only: none
 * depends on the thread count (they were measured with 2 threads, on the seed's layers; see
 * docs/WHAT-PAID.md). The table of what the seed's layers take is in package-info.java, and a
 * test checks it against these rules.
 *
 * <p>Tests and benchmarks force a path with {@link Algorithm} (CpuBackend.withConvAlgorithm):
 * a forced path that does not apply to the layer (a stride other than 1, output channels that do
 * not fill whole vectors) falls back as the rules below say.
 */
final class ConvPlan {
    /** The plan for this machine's vectors ({@link Gemm#VL} floats). */
    static final ConvPlan HERE = new ConvPlan(Gemm.VL);

    /** Floats per vector: the rules ask whether channels or images fill whole vectors. */
    private final int vectorLength;

    /** The plan for vectors of `vectorLength` floats (16 with AVX-512, 8 with AVX2): tests ask about other machines. */
    ConvPlan(int vectorLength) { this.vectorLength = vectorLength; }

    /** What a backend asks for: the measured choice (AUTO), or one path forced everywhere it applies. */
    enum Algorithm { AUTO, DIRECT, IM2COL, CHANNELS, GROUPS, LANES, WINOGRAD }

    /** Forward paths. */
    enum Forward {
        /** Any stride: each image's im2col matrix, times the weights. */
        IM2COL,
        /** The padded image's rows (phase planes' rows, with a stride) read at shifted offsets (no im2col copy), a "wide" result. */
        WIDE_ROWS,
        /** Output channels filling whole vectors: a vector of output channels per pixel. */
        CHANNELS,
        /** 3x3 filters at stride 1: Winograd's F(2x2, 3x3), 16 products per 2x2 outputs instead of 36. */
        WINOGRAD
    }

    /** Weight (and bias) gradient paths. */
    enum WeightGradient {
        /** Any stride: each image's im2col matrix, times the output gradient, summed over the batch. */
        IM2COL,
        /** The forward's shifted rows, times the wide output gradient, each tile over the whole batch. */
        WIDE_ROWS,
        /** The same products in 8 groups of images, each group's operands used while in cache. */
        WIDE_ROWS_IN_GROUPS,
        /** Output channels filling whole vectors: a vector of output channels' gradients times 15 taps. */
        CHANNELS,
        /**
         * 3x3 filters at stride 1, one vector of output channels (AVX-512): each input value broadcast
         * once for the three taps of its filter row, 8 filter rows per tile.
         */
        ROW_TAPS,
        /** 3x3 filters at stride 1, output channels in whole vectors: F(2x2, 3x3) turned around, 16 products per tile instead of 36. */
        WINOGRAD
    }

    /** Input gradient paths. */
    enum InputGradient {
        /** Any stride: the im2col matrix's gradient, scattered back (col2im). */
        COL2IM,
        /** Stride 1: a correlation of the wide output gradient with the filters, over every padded row. */
        WIDE_ROWS,
        /** Stride 1: the same, one product per filter row over only the rows it reaches. */
        WIDE_ROWS_BY_FILTER_ROW,
        /** Stride 1, batch filling the vector lanes: images in lanes, only the products that reach the input. */
        LANES,
        /**
         * Stride 1, square filters, input channels filling whole vectors: a forward convolution of
         * the output gradient with the filters transposed and flipped, on the forward path
         * {@link #forward} picks for it.
         */
        FLIPPED
    }

    /** Input channels per register tile of the LANES input gradient: with fewer, the tile repeats a channel (wasted work). */
    static final int LANES_CHANNEL_TILE = 6;
    /** Taps per register tile of the CHANNELS weight gradient: it needs a layer with at least this many (inChannels * kH * kW). */
    static final int CHANNELS_TAP_TILE = 15;
    /** Input channels from which WINOGRAD's products outweigh its transforms (see forward). */
    static final int WINOGRAD_MIN_CHANNELS = 16;
    /** Input channels from which the WINOGRAD weight gradient's products outweigh its transforms and transposes (see weightGradient). */
    static final int WINOGRAD_GRADIENT_MIN_CHANNELS = 64;
    /**
     * Pairs of channels up to which the WINOGRAD weight gradient is taken (see weightGradient): 64 x 64,
     * the only size measured; each of its groups of images keeps 16 sums per pair.
     */
    static final int WINOGRAD_GRADIENT_MAX_PAIRS = 64 * 64;
    /** Taps per two-vector register tile of the CHANNELS weight gradient (ConvWeightGradient's PAIR_TAPS). */
    static final int PAIR_TAP_TILE = 12;

    /**
     * Shifted rows (no im2col matrix) for the forward pass and the weight gradient, at any stride
     * (a stride reads the padded image split into phase planes, see ConvShape). For 5x5 filters
     * they beat im2col about 3x both on conv1 (outputs 28 wide in rows of 32: 12 % of the wide
     * layout wasted) and on conv2 (10 wide in rows of 14: 29 % wasted): building the im2col matrix
     * costs more than the wasted columns. ResNet-20's stride-2 layers, batch 64 on one thread:
     * see {@link #forward}.
     */
    static boolean direct(int stride, Algorithm forced) {
        return forced != Algorithm.IM2COL;
    }

    /**
     * WINOGRAD for 3x3 filters at stride 1 with at least 16 input channels where a group's rows pack
     * into two vectors (Winograd.packs: padding 1, even sizes, the width dividing 2 VL): ResNet-20's
     * stride-1 layers after conv1, and their input gradients (FLIPPED runs on this rule). Batch 128
     * on one thread (CPU time, ResNetConvs in one JVM with all six layers, load 1-2), ms by WINOGRAD
     * against the direct path below, forward: 16-16 32x32 4.1-4.3, 4.4; 32-32 16x16 3.3-3.5, 4.2-4.3;
     * 64-64 8x8 2.7-3.0, 4.2; input gradient 3.7-4.5, 4.4-4.6; 3.4-3.8, 4.4; 2.9-3.2, 4.3-4.4. Its
     * transforms cost per pixel and channel where the products cost per pair of channels, so with
     * conv1's 3 input channels it lost (1.7 ms against 1.05). Elsewhere the gathered layout (one
     * lane at a time) makes the transforms slower still: not measured on a network, it runs only
     * when forced.
     *
     * <p>Otherwise CHANNELS where the output channels fill whole vectors and the wide rows would waste at least
     * a quarter of their columns (the seed's conv2 with AVX-512: 4 of every 14), since it computes
     * only real outputs; also where they fill pairs of vectors (AVX-512 only, see channelVectors)
     * and the filter is wider than 1 (ResNet's 3x3 layers with 32 and 64 channels), whose two-vector
     * tile feeds each broadcast input to two FMAs; WIDE_ROWS otherwise, whose 6 x 4 register tile
     * reuses each load more. ResNet-20's 3x3 padding-1 layers (2 of 34, 18 or 10 columns wasted;
     * stride 2: 1 of 17 or 9), batch 128 on one thread (CPU time, load 2-3,
     * benchmarks/java/advtrain/bench/ResNetConvs.java --backend java-direct against java), GFLOP/s
     * by wide rows and by channels' two-vector tile: 32-32 16x16 139, 140; 64-64 8x8 100, 142;
     * 32-64 stride 2 66, 85; 16-32 stride 2 70, 65 (the one loss, 144 taps per sum). The 1x1
     * shortcuts (16 or 32 taps) stay on wide rows. With one vector (16 channels, or AVX2), by
     * channels lost to wide rows on every 3x3 layer: at load 17, conv1 3-16 7.0 ms by channels,
     * 2.3 by wide rows; 16-16 32x32 11.4, 6.3; 32-32 16x16 8.0, 6.6; 64-64 8x8 8.1, 7.5.
     */
    Forward forward(int stride, int inChannels, int outChannels, int height, int width, int kernelHeight, int kernelWidth,
                    int padding, Algorithm forced) {
        boolean winograd = Winograd.applies(stride, kernelHeight, kernelWidth, outChannels);
        if (forced == Algorithm.WINOGRAD && winograd
                || forced == Algorithm.AUTO && winograd && inChannels >= WINOGRAD_MIN_CHANNELS && Winograd.packs(vectorLength, height, width, padding)) {
            return Forward.WINOGRAD;
        }
        return directForward(stride, outChannels, width, kernelWidth, padding, forced);
    }

    /** The forward without WINOGRAD (what the weight gradient's rule asks about): the rule above, after Winograd's. */
    Forward directForward(int stride, int outChannels, int width, int kernelWidth, int padding, Algorithm forced) {
        if (!direct(stride, forced)) return Forward.IM2COL;
        int rowWidth = (width + 2 * padding + stride - 1) / stride, outWidth = (width + 2 * padding - kernelWidth) / stride + 1;
        boolean wasteful = 4 * (rowWidth - outWidth) >= rowWidth;
        boolean channels = outChannels % vectorLength == 0
                && (forced == Algorithm.CHANNELS || forced == Algorithm.AUTO && (wasteful || channelVectors(outChannels) == 2 && kernelWidth > 1));
        return channels ? Forward.CHANNELS : Forward.WIDE_ROWS;
    }

    /**
     * ROW_TAPS where its tile applies: stride 1, 3-wide filters, one AVX-512 vector of output
     * channels (its 24 sums, 3 gradient vectors and a broadcast need 28 registers), and at least
     * 16 filter rows (input channels x filter height), two tiles of 8: with conv1's 9 rows (two
     * overlapping tiles) it took 2.8 ms against 1.9 in groups. ResNet-20's 16-channel layers,
     * batch 128 on one thread: see package-info.java's table.
     */
    boolean rowTaps(int stride, int outChannels, int inChannels, int kernelHeight, int kernelWidth) {
        return vectorLength == 16 && stride == 1 && kernelWidth == 3 && outChannels == vectorLength
                && inChannels * kernelHeight >= 16;
    }

    /**
     * Vectors of output channels in CHANNELS' register tile: 2 where the output channels come in
     * pairs of 16-float vectors (its 24 accumulators need AVX-512's 32 registers; AVX2 has 16), else 1.
     */
    int channelVectors(int outChannels) {
        return vectorLength == 16 && outChannels % (2 * vectorLength) == 0 ? 2 : 1;
    }

    /**
     * WINOGRAD where the forward's AUTO takes it (3x3 at stride 1, rows that pack) with at least 64
     * input channels, output channels in whole vectors and at most 64 x 64 pairs of channels:
     * ResNet-20's layer3 (larger layers, such as PreAct ResNet-18's, were not measured, and each of
     * the 8 groups' sums, 16 per pair of channels, would take 32 MB at 256 x 256). Its products cost
     * per pair of channels and its transforms and transposes per pixel and channel, so it gains
     * with the channels. Batch 128 on one thread (CPU time, ResNetConvs with all six layers in one
     * JVM, builds taking turns), ms by WINOGRAD against the paths below: 64-64 8x8 3.7-4.0 against
     * 4.6-4.9 by channels' two-vector tile (four runs each); 32-32 16x16 4.6-5.1 against 4.0-4.8;
     * 16-16 32x32 8.5-9.8 against 5.1-5.7 by ROW_TAPS. Timed alone in a JVM of their own, the last
     * two won, and with this threshold at 16 layer2 won (3.7-4.2 against 4.6-4.7) while layer1 lost;
     * at 32, layer2 lost (4.85 against 4.4): why C2's code differs is not understood (docs/WHAT-PAID.md).
     *
     * <p>Else CHANNELS with the two-vector tile where the forward takes it (output channels in pairs of
     * AVX-512 vectors, filters wider than 1) and there are taps for its 12: ResNet-20's 32- and
     * 64-channel layers, batch 128 on one thread (CPU time, load 1-3, ResNetConvs), 4.4 ms against
     * 8.4 in groups (32-32 16x16), 4.4 against 10.2 (64-64 8x8), 4.7 against 7.0 and 3.6 against 6.6
     * (the stride-2 layers). Then ROW_TAPS where it applies (rowTaps). Otherwise in groups where
     * the whole batch's padded inputs and wide output gradients are more than a core's 1 MB L2 holds. Measured at batch 32 (2 threads): conv1's operands, 1.1 MB, outgrow it,
     * and in groups its weight gradient took 164-192 µs against 216-236; conv2's, 0.45 MB, fit, and
     * there the batch-wide pass's longer dot products won (184 against 217-282 µs). Otherwise
     * CHANNELS where the forward runs by channels and the taps fill the register tile (conv2):
     * it multiplies only real output pixels, where the wide rows also multiply conv2's 4 dropped
     * columns of every 14.
     */
    WeightGradient weightGradient(int batch, int inChannels, int height, int width, int outChannels,
                                         int kernelHeight, int kernelWidth, int stride, int padding, Algorithm forced) {
        if (!direct(stride, forced)) return WeightGradient.IM2COL;
        boolean winograd = Winograd.applies(stride, kernelHeight, kernelWidth, outChannels) && outChannels % vectorLength == 0;
        if (winograd && (forced == Algorithm.WINOGRAD || forced == Algorithm.AUTO && inChannels >= WINOGRAD_GRADIENT_MIN_CHANNELS
                && inChannels * outChannels <= WINOGRAD_GRADIENT_MAX_PAIRS && Winograd.packs(vectorLength, height, width, padding))) {
            return WeightGradient.WINOGRAD;
        }
        if (forced == Algorithm.AUTO && channelVectors(outChannels) == 2 && kernelWidth > 1
                && inChannels * kernelHeight * kernelWidth >= PAIR_TAP_TILE) {
            return WeightGradient.CHANNELS;
        }
        if (forced == Algorithm.AUTO && rowTaps(stride, outChannels, inChannels, kernelHeight, kernelWidth)) {
            return WeightGradient.ROW_TAPS;
        }
        if (forced == Algorithm.GROUPS || forced == Algorithm.AUTO
                && batchBytes(batch, inChannels, height, width, outChannels, kernelHeight, kernelWidth, stride, padding) > 1 << 20) {
            return WeightGradient.WIDE_ROWS_IN_GROUPS;
        }
        boolean channels = directForward(stride, outChannels, width, kernelWidth, padding, forced) == Forward.CHANNELS
                && inChannels * kernelHeight * kernelWidth >= CHANNELS_TAP_TILE;
        return channels ? WeightGradient.CHANNELS : WeightGradient.WIDE_ROWS;
    }

    /**
     * LANES where the batch fills the vector lanes and the input channels fill the register tile
     * (conv2 at batch 16 and more): it computes only the products that reach the input, where the
     * wide layouts also multiply zeros (conv2 by filter rows: 1.44x the necessary products).
     * Otherwise by filter row where that skips at least a quarter of the padded rows: conv2 (10 of
     * 14 rows) 398-429 → 353-366 µs per batch-32 call on one thread; conv1 (28 of 32) was slower
     * by rows (461-566 against 353 µs): the per-row products' partial sums pass through memory,
     * which the 12 % it skips does not repay.
     */
    InputGradient inputGradient(int batch, int inChannels, int height, int kernelHeight, int kernelWidth, int stride,
                                int padding, Algorithm forced) {
        if (stride != 1 || !direct(stride, forced)) return InputGradient.COL2IM;
        if ((forced == Algorithm.CHANNELS || forced == Algorithm.DIRECT || forced == Algorithm.WINOGRAD || forced == Algorithm.AUTO)
                && flippedApplies(inChannels, kernelHeight, kernelWidth, padding)) {
            return InputGradient.FLIPPED;
        }
        if (forced == Algorithm.LANES || forced == Algorithm.AUTO && batch >= vectorLength && inChannels >= LANES_CHANNEL_TILE) {
            return InputGradient.LANES;
        }
        return byFilterRow(kernelHeight, height + 2 * padding) ? InputGradient.WIDE_ROWS_BY_FILTER_ROW : InputGradient.WIDE_ROWS;
    }

    /** Whether FLIPPED applies: input channels in whole vectors, square filters, padding under their size. */
    boolean flippedApplies(int inChannels, int kernelHeight, int kernelWidth, int padding) {
        return inChannels % vectorLength == 0 && kernelHeight == kernelWidth && padding < kernelHeight;
    }

    /** Whether one product per filter row skips at least a quarter of the padded rows (see inputGradient). */
    static boolean byFilterRow(int kernelHeight, int paddedHeight) { return 4 * (kernelHeight - 1) >= paddedHeight; }

    /** Bytes of the whole batch's padded inputs and wide output gradients: the direct weight gradient's operands. */
    long batchBytes(int batch, int inChannels, int height, int width, int outChannels, int kernelHeight, int kernelWidth,
                    int stride, int padding) {
        // as ConvShape lays them out: phase planes of the padded image, wide rows as long as a phase plane's
        int planeHeight = (height + 2 * padding + stride - 1) / stride, planeWidth = (width + 2 * padding + stride - 1) / stride;
        int outHeight = (height + 2 * padding - kernelHeight) / stride + 1, outWidth = (width + 2 * padding - kernelWidth) / stride + 1;
        long paddedImage = (long) inChannels * stride * stride * planeHeight * planeWidth + ConvShape.slack(stride, vectorLength);
        long wideGradient = (long) outChannels * Gemm.roundUp((outHeight - 1) * planeWidth + outWidth, vectorLength);
        return (long) batch * (paddedImage + wideGradient) * Float.BYTES;
    }
}
