package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

/**
 * The convolution's input gradient, inputGrad += conv2d's gradient with respect to its input
 * (added, as every backward kernel does). Four paths, chosen by {@link ConvPlan#inputGradient}:
 * WIDE_ROWS and WIDE_ROWS_BY_FILTER_ROW ({@link #wideImage}, image by image, or inside
 * {@link ConvWeightGradient}'s groups), LANES ({@link #lanes}), FLIPPED ({@link #flipped},
 * a forward convolution of the output gradient) and COL2IM ({@link #col2im}).
 * One instance per calling thread (inside {@link Conv}); workspaces grow on first use.
 */
final class ConvInputGradient {
    private static final int VL = Gemm.VL;
    private static final int CHANNEL_TILE = ConvPlan.LANES_CHANNEL_TILE;

    private final ConvShape shape;
    private final WorkerScratch scratch = new WorkerScratch();
    /** LANES: the output gradient with images in lanes, [group of VL images][output channel][pixel][image]. */
    private float[] gradsByLane = new float[0];
    /** Gemm's row offsets: into the weights (A) and into the laid-out output gradient (B), per product row q. */
    private int[] weightAt = new int[0], gradAt = new int[0];

    // ---- the call in progress ------------------------------------------------------------------
    private float[] weights, outputGrad, inputGrad;
    /**
     * WIDE_ROWS: each output-gradient plane laid out wide (rows of paddedWidth) after `lead` zeros
     * and followed by zeros, planes gradPlane apart (gradImage floats in all); the result covers the
     * padded input, resultPlane floats per channel (paddedHeight * paddedWidth and more, rounded up
     * to whole vectors); rowsLength = outHeight * paddedWidth rounded up: the rows one filter row reaches.
     */
    private int lead, gradPlane, gradImage, resultPlane, rowsLength;
    private boolean byFilterRow;
    /** The algorithm the backend asked for (FLIPPED passes it on to its forward convolution). */
    ConvPlan.Algorithm algorithm = ConvPlan.Algorithm.AUTO;
    /** FLIPPED: the input gradient as a forward convolution, its sizes, and the filters it takes. */
    private final ConvShape flippedShape = new ConvShape();
    private final ConvForward flippedForward = new ConvForward(flippedShape);
    private float[] flippedWeights = new float[0];

    /** COL2IM: whether the call's scatter runs by phases (byPhases), decided once per call. */
    private boolean scatterByPhases;
    /** addByPhases: 0 in the lanes of a vector that hold an output row's first column, 1 elsewhere. */
    private final float[] firstColumnZero = new float[VL];

    ConvInputGradient(ConvShape shape) { this.shape = shape; }

    /** Whether the path `path` can write inputGrad rather than add to it ({@link #run} with add false). */
    static boolean writes(ConvPlan.InputGradient path) { return path == ConvPlan.InputGradient.FLIPPED; }

    /**
     * inputGrad += the input gradient (add), or inputGrad = it, old contents ignored (not add: only
     * on a path that {@link #writes}), on the path `path` (shape already set).
     */
    void run(ConvPlan.InputGradient path, float[] weights, float[] outputGrad, float[] inputGrad, boolean add) {
        if (!add && !writes(path)) throw new IllegalArgumentException(path + " adds to the input gradient");
        begin(path, weights, outputGrad, inputGrad);
        ConvShape s = shape;
        long flopsPerImage = 2L * s.outChannels * s.taps * s.pixels;
        switch (path) {
            case LANES -> lanes();
            case FLIPPED -> flipped(add);
            case COL2IM -> {
                scatterByPhases = byPhases();
                if (scatterByPhases) for (int l = 0; l < VL; l++) firstColumnZero[l] = l % s.outWidth == 0 ? 0f : 1f;
                Parallel.range(s.batch, flopsPerImage, col2im);
            }
            case WIDE_ROWS, WIDE_ROWS_BY_FILTER_ROW -> Parallel.range(s.batch, flopsPerImage, wideImages);
        }
        end();
    }

    /** Sets up the call: the arrays and (wide rows, col2im) the products' layouts. {@link #end} forgets the arrays. */
    void begin(ConvPlan.InputGradient path, float[] weights, float[] outputGrad, float[] inputGrad) {
        this.weights = weights; this.outputGrad = outputGrad; this.inputGrad = inputGrad;
        ConvShape s = shape;
        int taps = s.kernelHeight * s.kernelWidth;
        weightAt = WorkerScratch.atLeast(weightAt, s.outChannels * taps);
        gradAt = WorkerScratch.atLeast(gradAt, s.outChannels * taps);
        if (path == ConvPlan.InputGradient.WIDE_ROWS || path == ConvPlan.InputGradient.WIDE_ROWS_BY_FILTER_ROW) {
            // inputGradPadded[c, j] = sum over (k, r, s) of weight[k, c, r, s] * outputGradWide[k, j - r * paddedWidth - s],
            // j = y * paddedWidth + x: one product over every j, q = (k, r, s); or (by filter row) one per filter row r over
            // j = r * paddedWidth + j', j' < rowsLength, q = (k, s).
            int padW = s.paddedWidth;
            byFilterRow = path == ConvPlan.InputGradient.WIDE_ROWS_BY_FILTER_ROW;
            lead = (s.kernelHeight - 1) * padW + (s.kernelWidth - 1);
            rowsLength = Gemm.roundUp(s.outHeight * padW, VL);
            resultPlane = Gemm.roundUp(Math.max(s.paddedPlane, (s.kernelHeight - 1) * padW + rowsLength), VL);
            gradPlane = lead + resultPlane;
            gradImage = s.outChannels * gradPlane;
            for (int k = 0, q = 0; k < s.outChannels; k++) {
                for (int r = 0; r < (byFilterRow ? 1 : s.kernelHeight); r++) {
                    for (int c = 0; c < s.kernelWidth; c++, q++) {
                        weightAt[q] = k * s.taps + r * s.kernelWidth + c;
                        gradAt[q] = k * gradPlane + lead - r * padW - c;
                    }
                }
            }
        } else if (path == ConvPlan.InputGradient.COL2IM) {
            // im2colGrad[q, p] = sum over k of weight[k, q] * outputGrad[k, p]
            for (int k = 0; k < s.outChannels; k++) {
                weightAt[k] = k * s.taps;
                gradAt[k] = k * s.pixelsPadded;
            }
        }
    }

    void end() { weights = outputGrad = inputGrad = null; }

    /** Floats of scratch wideImage needs from its `at`. */
    int wideScratch() { return gradImage + shape.inChannels * resultPlane; }

    /** Item n = image n: wideImage in this worker's scratch. */
    private final Parallel.Task wideImages = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            float[] buf = scratch.get(worker, wideScratch());
            for (int n = from; n < to; n++) wideImage(n, buf, 0);
        }
    };

    /**
     * WIDE_ROWS and WIDE_ROWS_BY_FILTER_ROW: image n's input gradient as a correlation in the padded
     * input's own wide layout. The reference backend's conv2d backward scatters weight * outputGrad into
     * inputGrad one product at a time, with bounds checks; here every input position gathers its
     * sum in one matrix product on Gemm's micro-kernel, with zeros in place of the bounds checks.
     * Forward, input position j = y * paddedWidth + x received weight[k, c, r, s] * outputGrad[k, oy, ox]
     * from every output (oy, ox) = (y - r, x - s); so with outputGrad[n, k] laid out wide (rows of
     * paddedWidth, zeros in the columns past outWidth, `lead` zeros before and zeros after), row
     * q = (k, r, s) of the B operand is that plane read from offset lead - r * paddedWidth - s:
     * out-of-range (y - r, x - s) land on zeros, rows wrapping included, as paddedWidth - outWidth =
     * kernelWidth - 1. A(m = c, q) = weight[k, c, r, s].
     *
     * <p>Filter row r reaches only input rows y = oy + r, oy < outHeight, so by filter row the
     * product runs once per r over those rows alone (j from r * paddedWidth, rowsLength long;
     * q = (k, s)), each added into the zeroed [inChannels, resultPlane] result: conv2's 10 of its 14
     * rows, where one product over every row multiplied 29 % zeros. The interior of the result is
     * then added into inputGrad[n]. Scratch: buf from `at`, {@link #wideScratch} floats.
     */
    void wideImage(int n, float[] buf, int at) {
        ConvShape s = shape;
        int padW = s.paddedWidth, kernelArea = s.kernelHeight * s.kernelWidth, result = at + gradImage;
        Arrays.fill(buf, at, byFilterRow ? result + s.inChannels * resultPlane : result, 0f);  // the per-row products add up
        for (int k = 0; k < s.outChannels; k++) {
            int src = (n * s.outChannels + k) * s.pixels, dst = at + k * gradPlane + lead;
            for (int oy = 0; oy < s.outHeight; oy++) System.arraycopy(outputGrad, src + oy * s.outWidth, buf, dst + oy * padW, s.outWidth);
        }
        if (!byFilterRow) {
            Gemm.shiftedRows(s.inChannels, resultPlane, s.outChannels * kernelArea, weights, 0, weightAt, kernelArea, buf, at, gradAt,
                    buf, result, resultPlane, false);
        } else {
            for (int r = 0; r < s.kernelHeight; r++) {
                Gemm.shiftedRows(s.inChannels, rowsLength, s.outChannels * s.kernelWidth, weights, r * s.kernelWidth, weightAt,
                        kernelArea, buf, at, gradAt, buf, result + r * padW, resultPlane, true);
            }
        }
        for (int c = 0; c < s.inChannels; c++) {
            int src = result + c * resultPlane + s.pad * padW + s.pad, dst = (n * s.inChannels + c) * s.inHeight * s.inWidth;
            Vec.addRows(buf, src, padW, inputGrad, dst, s.inWidth, s.inHeight, s.inWidth);
        }
    }

    // ---- FLIPPED: as a forward convolution -------------------------------------------------------

    /**
     * FLIPPED, stride 1, square filters, padding below the filter size. The input gradient
     * is itself a convolution: input pixel (y, x) of channel c receives weight[k, c, r, s] *
     * outputGrad[k, y + pad - r, x + pad - s] over k, r, s, which with r' = R-1-r and s' = S-1-s is
     * flipped[c, k, r', s'] * outputGrad[k, y - (R-1-pad) + r', x - (S-1-pad) + s']: the output
     * gradient [N, K, outH, outW] convolved with the filters transposed and flipped,
     * flipped[c, k, r', s'] = weight[k, c, R-1-r', S-1-s'], padded by R-1-pad, which gives
     * [N, C, H, W] exactly. So it runs as a forward pass, adding into inputGrad (or writing it,
     * without add), on the path the plan picks for that convolution (wide rows, or CHANNELS where
     * they waste a quarter of their columns): only real products, at the forward pass's speed,
     * where LANES walks a different set of taps for every pixel near the border. (Used where the
     * input channels fill whole vectors: measured on ResNet-20's layers only.)
     */
    private void flipped(boolean add) {
        ConvShape s = shape;
        int kH = s.kernelHeight, kW = s.kernelWidth, inC = s.inChannels, outC = s.outChannels;
        flippedWeights = WorkerScratch.atLeast(flippedWeights, outC * s.taps);
        for (int k = 0, i = 0; k < outC; k++) {
            for (int c = 0; c < inC; c++) {
                for (int r = 0; r < kH; r++) {
                    for (int x = 0; x < kW; x++, i++) flippedWeights[((c * outC + k) * kH + kH - 1 - r) * kW + kW - 1 - x] = weights[i];
                }
            }
        }
        int flippedPad = kH - 1 - s.pad;
        flippedShape.set(s.batch, outC, s.outHeight, s.outWidth, inC, kH, kW, 1, flippedPad, true);
        ConvPlan.Forward path = ConvPlan.HERE.forward(1, outC, inC, s.outHeight, s.outWidth, kH, kW, flippedPad, algorithm);
        if (add) flippedForward.runAdding(path, outputGrad, flippedWeights, inputGrad);
        else flippedForward.run(path, outputGrad, flippedWeights, null, inputGrad);
    }

    // ---- LANES: images in vector lanes -----------------------------------------------------------

    /**
     * LANES, stride 1. inputGrad[n, c, y, x] = sum over k and the taps (r, s) that reach it,
     * oy = y + pad - r in [0, outHeight) and ox = x + pad - s in [0, outWidth), of
     * weight[k, c, r, s] * outputGrad[n, k, oy, ox]. Like the reference backend's conv2d backward, and unlike
     * the wide paths, it computes only those products, none with zeros; unlike the reference, it
     * gathers each input pixel's sum rather than scattering into it, and it does so for VL images at
     * once: lane l of a vector holds image g * VL + l of group g. The output gradient is laid out so
     * (gradsByLane, by laneRows), then each input pixel's sums are a chain of vector FMAs, a broadcast
     * weight times a vector of VL images' output gradients, six input channels at a time.
     */
    private void lanes() {
        ConvShape s = shape;
        int laneGroups = (s.batch + VL - 1) / VL;
        gradsByLane = WorkerScratch.atLeast(gradsByLane, laneGroups * s.outChannels * s.pixels * VL);
        Parallel.range(laneGroups * s.outChannels, (long) VL * s.pixels, laneRows);
        Parallel.range(laneGroups * s.inHeight, 2L * VL * s.inWidth * s.outChannels * s.taps * s.pixels / (s.inHeight * s.inWidth),
                byLanes);
    }

    /**
     * Item (g, k): gradsByLane[g][k][p][l] = outputGrad[g * VL + l, k, p], zeros in the lanes past
     * the batch. Each item writes its own 64-byte lines (one pixel's VL lanes), so threads share none.
     */
    private final Parallel.Task laneRows = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            int pixels = s.pixels, outChannels = s.outChannels;
            for (int item = from; item < to; item++) {
                int g = item / outChannels, k = item % outChannels, dst = item * pixels * VL, images = Math.min(VL, s.batch - g * VL);
                if (images < VL) Arrays.fill(gradsByLane, dst, dst + pixels * VL, 0f);
                for (int l = 0; l < images; l++) {
                    int src = ((g * VL + l) * outChannels + k) * pixels;
                    for (int p = 0; p < pixels; p++) gradsByLane[dst + p * VL + l] = outputGrad[src + p];
                }
            }
        }
    };

    /**
     * Item (g, y): input row y of group g's images. For each pixel x and each tile of 6 input
     * channels (the last tile overlapping the one before, or repeating the last channel where there
     * are fewer than 6), tileLanes sums the products over k and the taps that reach (y, x), then each
     * lane's sum is added to its image's inputGrad. Items own whole rows, so no two threads add to one element.
     */
    private final Parallel.Task byLanes = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            int inC = s.inChannels, inH = s.inHeight, inW = s.inWidth, outH = s.outHeight, outW = s.outWidth, kH = s.kernelHeight;
            int kW = s.kernelWidth, pad = s.pad, outC = s.outChannels, pixels = s.pixels, kernelArea = kH * kW;
            int cTiles = (inC + CHANNEL_TILE - 1) / CHANNEL_TILE, imageStride = inC * inH * inW;
            float[] t = scratch.get(worker, CHANNEL_TILE * VL);
            for (int item = from; item < to; item++) {
                int g = item / inH, y = item % inH, images = Math.min(VL, s.batch - g * VL);
                int rLo = Math.max(0, y + pad - outH + 1), rows = Math.min(kH - 1, y + pad) - rLo + 1;
                for (int x = 0; x < inW && rows > 0; x++) {
                    int sLo = Math.max(0, x + pad - outW + 1), cols = Math.min(kW - 1, x + pad) - sLo + 1;
                    if (cols <= 0) continue;
                    // Tap (rLo, sLo) of output channel 0 reads output pixel (y + pad - rLo, x + pad - sLo).
                    int g0 = ((g * outC) * pixels + (y + pad - rLo) * outW + (x + pad - sLo)) * VL;
                    for (int ct = 0; ct < cTiles; ct++) {
                        int first = ct * CHANNEL_TILE, c0 = Math.max(0, Math.min(first, inC - CHANNEL_TILE));
                        int last = inC - 1 - c0;   // a tile's channel i is c0 + min(i, last)
                        tileLanes(outC * rows * cols, rows, cols, outW, pixels, gradsByLane, g0,
                                weights, c0 * kernelArea + rLo * kW + sLo, kW, s.taps,
                                Math.min(1, last) * kernelArea, Math.min(2, last) * kernelArea, Math.min(3, last) * kernelArea,
                                Math.min(4, last) * kernelArea, Math.min(5, last) * kernelArea, t);
                        for (int i = Math.max(0, first - c0); i < CHANNEL_TILE && c0 + i < inC; i++) {
                            int at = ((g * VL) * inC + c0 + i) * inH * inW + y * inW + x;
                            for (int l = 0; l < images; l++) inputGrad[at + l * imageStride] += t[i * VL + l];
                        }
                    }
                }
            }
        }
    };

    /**
     * The 6-channel register tile, one flat loop over (k, r, s): k in [0, outC), r and s over the
     * `rows` x `cols` taps that reach the pixel. t[i * VL + l] = sum of w[w0 + o_i + k * taps +
     * r * kW + s] (channel i's weight, broadcast) * g[g0 + (k * pixels - r * outW - s) * VL + l] (the
     * output gradient that tap saw, VL images). Six independent sums keep the FMA unit busy.
     */
    private static void tileLanes(int steps, int rows, int cols, int outW, int pixels, float[] g, int g0,
                                  float[] w, int w0, int kW, int taps, int o1, int o2, int o3, int o4, int o5, float[] t) {
        FloatVector z = FloatVector.zero(Gemm.S);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z;
        // Index steps: next s; next r (back to the first s); next k (back to the first r and s).
        int gNextR = (cols - 1) * VL - outW * VL, wNextR = kW - (cols - 1);
        int gNextK = (cols - 1) * VL + (rows - 1) * outW * VL + pixels * VL, wNextK = taps - (cols - 1) - (rows - 1) * kW;
        int gi = g0, wi = w0, s = 0, r = 0;
        for (int step = 0; step < steps; step++) {
            FloatVector gv = FloatVector.fromArray(Gemm.S, g, gi);
            a0 = gv.fma(FloatVector.broadcast(Gemm.S, w[wi]), a0);
            a1 = gv.fma(FloatVector.broadcast(Gemm.S, w[wi + o1]), a1);
            a2 = gv.fma(FloatVector.broadcast(Gemm.S, w[wi + o2]), a2);
            a3 = gv.fma(FloatVector.broadcast(Gemm.S, w[wi + o3]), a3);
            a4 = gv.fma(FloatVector.broadcast(Gemm.S, w[wi + o4]), a4);
            a5 = gv.fma(FloatVector.broadcast(Gemm.S, w[wi + o5]), a5);
            if (++s < cols) {
                gi -= VL;
                wi++;
            } else if (++r < rows) {
                s = 0;
                gi += gNextR;
                wi += wNextR;
            } else {
                s = 0;
                r = 0;
                gi += gNextK;
                wi += wNextK;
            }
        }
        a0.intoArray(t, 0); a1.intoArray(t, VL); a2.intoArray(t, 2 * VL);
        a3.intoArray(t, 3 * VL); a4.intoArray(t, 4 * VL); a5.intoArray(t, 5 * VL);
    }

    // ---- COL2IM: any stride ----------------------------------------------------------------------

    /**
     * COL2IM. Item n = image n. Like the reference backend's conv2d backward, it scatters each
     * product into inputGrad with a bounds check; the products themselves, though, are one matrix product on
     * Gemm's micro-kernel: im2colGrad [taps, pixelsPadded] = weights^T [taps, outChannels] .
     * outputGrad[n] [outChannels, pixelsPadded] (copied with a zero tail). Then col2im:
     * im2colGrad[(c, r, s), (oy, ox)] is added to inputGrad[n, c, oy * stride - pad + r, ox * stride - pad + s]
     * where that is inside the image.
     */
    private final Parallel.Task col2im = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            int pixels = s.pixels, colsPad = s.pixelsPadded, gradSize = s.outChannels * colsPad;
            int inH = s.inHeight, inW = s.inWidth, stride = s.stride, pad = s.pad;
            boolean byPhases = scatterByPhases;
            int phasesAt = gradSize + s.taps * colsPad + VL;
            float[] buf = scratch.get(worker, phasesAt + (byPhases ? 4 * phasePlane() + VL : 0));
            for (int n = from; n < to; n++) {
                for (int k = 0; k < s.outChannels; k++) {
                    System.arraycopy(outputGrad, (n * s.outChannels + k) * pixels, buf, k * colsPad, pixels);
                    Arrays.fill(buf, k * colsPad + pixels, (k + 1) * colsPad, 0f);
                }
                Gemm.shiftedRows(s.taps, colsPad, s.outChannels, weights, 0, weightAt, 1, buf, 0, gradAt, buf, gradSize, colsPad, false);
                if (byPhases) {
                    for (int c = 0; c < s.inChannels; c++) addByPhases(n, c, buf, gradSize, phasesAt);
                    continue;
                }
                for (int c = 0, q = 0; c < s.inChannels; c++) {
                    int plane = (n * s.inChannels + c) * inH * inW;
                    for (int r = 0; r < s.kernelHeight; r++) {
                        for (int sx = 0; sx < s.kernelWidth; sx++, q++) {
                            int row = gradSize + q * colsPad;
                            for (int oy = 0; oy < s.outHeight; oy++) {
                                int iy = oy * stride - pad + r;
                                if (iy < 0 || iy >= inH) continue;
                                for (int ox = 0; ox < s.outWidth; ox++) {
                                    int ix = ox * stride - pad + sx;
                                    if (ix >= 0 && ix < inW) inputGrad[plane + iy * inW + ix] += buf[row + oy * s.outWidth + ox];
                                }
                            }
                        }
                    }
                }
            }
        }
    };

    /**
     * Whether COL2IM's scatter runs by phases: stride 2, the input twice the output in each
     * dimension, output rows of whole vectors or of half a vector (in pairs), and every tap landing
     * at most one row or column before its output pixel's (ResNet's 3x3 and 1x1 stride-2 layers).
     */
    private boolean byPhases() {
        ConvShape s = shape;
        if (s.stride != 2 || s.inHeight != 2 * s.outHeight || s.inWidth != 2 * s.outWidth) return false;
        if (s.outWidth % VL != 0 && !(2 * s.outWidth == VL && s.outHeight % 2 == 0)) return false;
        for (int r = 0; r < Math.max(s.kernelHeight, s.kernelWidth); r++) {
            int shift = Math.floorDiv(r - s.pad, 2);
            if (shift < -1 || shift > 0) return false;
        }
        return true;
    }

    /** Floats of addByPhases' 4 phase planes: each a border (a row and one more) in front of its outH x outW pixels. */
    private int phasePlane() { return shape.outWidth + 1 + shape.outHeight * shape.outWidth; }

    /**
     * COL2IM's scatter for input channel c of image n, by phases: input pixel (oy * 2 - pad + r,
     * ox * 2 - pad + s) is pixel (oy + dr, ox + ds) of phase ((r - pad) mod 2, (s - pad) mod 2), with
     * dr, ds = floor((r - pad) / 2) in {-1, 0}. So each tap's row of the im2col gradient (at gradSize,
     * outH x outW) is added whole, a vector at a time, into its phase plane (rows outW long) shifted by
     * dr * outW + ds: a shift of -1 row lands in the border in front, and for ds = -1 the first
     * column's values, which fall outside the image, are multiplied by 0 first (else they would land
     * in the row before). Then each row of inputGrad is its two phases' rows interleaved
     * (Vec.interleave), added; with rows of half a vector, two at a time. The same sums as the
     * scatter, in another order.
     */
    private void addByPhases(int n, int c, float[] buf, int gradSize, int phasesAt) {
        ConvShape s = shape;
        int outH = s.outHeight, outW = s.outWidth, inW = s.inWidth, plane = phasePlane(), pixels = outH * outW;
        Arrays.fill(buf, phasesAt, phasesAt + 4 * plane, 0f);
        FloatVector keep = FloatVector.fromArray(Gemm.S, firstColumnZero, 0);
        for (int r = 0; r < s.kernelHeight; r++) {
            int a = Math.floorMod(r - s.pad, 2), dr = Math.floorDiv(r - s.pad, 2);
            for (int sx = 0; sx < s.kernelWidth; sx++) {
                int b = Math.floorMod(sx - s.pad, 2), ds = Math.floorDiv(sx - s.pad, 2);
                int row = gradSize + ((c * s.kernelHeight + r) * s.kernelWidth + sx) * s.pixelsPadded;
                int at = phasesAt + (a * 2 + b) * plane + outW + 1 + dr * outW + ds;
                for (int x = 0; x < pixels; x += VL) {
                    FloatVector v = FloatVector.fromArray(Gemm.S, buf, row + x), old = FloatVector.fromArray(Gemm.S, buf, at + x);
                    if (ds < 0 && x % outW == 0) v.mul(keep).add(old).intoArray(buf, at + x);  // (one store per path: no vector assigned twice)
                    else v.add(old).intoArray(buf, at + x);
                }
            }
        }
        int image = (n * s.inChannels + c) * s.inHeight * inW, even = phasesAt + outW + 1;
        for (int a = 0; a < 2; a++) {
            int evens = even + a * 2 * plane, odds = evens + plane;
            if (outW % VL == 0) {
                for (int i = 0; i < outH; i++) {
                    int dst = image + (2 * i + a) * inW;
                    for (int x = 0; x < outW; x += VL) Vec.interleave(buf, evens + i * outW + x, odds + i * outW + x, inputGrad, dst + 2 * x, dst + 2 * x + VL, true);
                }
            } else {  // rows of half a vector: phase rows i and i + 1 make input rows 2i + a and 2i + 2 + a
                for (int i = 0; i < outH; i += 2) {
                    int dst = image + (2 * i + a) * inW;
                    Vec.interleave(buf, evens + i * outW, odds + i * outW, inputGrad, dst, dst + 2 * inW, true);
                }
            }
        }
    }
}
