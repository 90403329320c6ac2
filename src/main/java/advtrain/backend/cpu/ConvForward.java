package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * The convolution's forward pass, alone or followed by max pooling (fused: each image's output is
 * pooled while it is in cache). Three paths, chosen by {@link ConvPlan#forward}:
 * <ul>
 *   <li>WIDE_ROWS and IM2COL ({@link #byImage}): weights [outChannels, taps] times the image's
 *       padded rows read at shifted offsets, or its im2col matrix, on {@link Gemm}'s micro-kernel;</li>
 *   <li>CHANNELS ({@link #byChannels}): a vector of output channels per output pixel.</li>
 * </ul>
 * Per-image work runs in parallel over images. One instance per calling thread (inside
 * {@link Conv}); its workspaces grow on first use, so steady-state calls allocate nothing.
 */
final class ConvForward {
    private static final int VL = Gemm.VL;
    /** Output pixels per register tile of byChannels. */
    private static final int PIXELS = 12;

    private final ConvShape shape;
    private final Winograd winograd;
    private final WorkerScratch scratch = new WorkerScratch();
    /** The weights as [tap q = (c, r, s)][output channel k], for byChannels. */
    private float[] weightsByTap = new float[0];
    /** WINOGRAD with fused pooling and no stored output: the convolution's output, pooled after. */
    private float[] winogradOutput = new float[0];
    /** Gemm's row offsets into the weights [outChannels, taps]: tap q at q. */
    private int[] weightColumn = new int[0];

    // ---- the call in progress (fields, not lambdas: the parallel tasks read them) ----------------
    private float[] input, weights, bias, output;
    /** Fused pooling: the window and stride (0: no pooling, output is the convolution's own), pooled plane size. */
    private int poolKernel, poolStride, pooledHeight, pooledWidth;
    /** Fused pooling: where the convolution's output is kept for the backward pass, or null (scratch only). */
    private float[] convOutput;
    /** Whether the result is added to output (runAdding) rather than written. */
    private boolean accumulate;
    /** runNormalized: batch norm, residual and ReLU applied to each image's output once written; else null. */
    private ConvEpilogue epilogue;

    ConvForward(ConvShape shape) { this.shape = shape; winograd = new Winograd(shape); }

    /** output = conv(input, weights) + bias, on the path `path` (shape already set). */
    void run(ConvPlan.Forward path, float[] input, float[] weights, float[] bias, float[] output) {
        poolKernel = 0;
        start(path, input, weights, bias, output);
    }

    /**
     * output = epilogue(conv(input, weights) + bias): each image's output (each group's, on the
     * WINOGRAD path) goes through the epilogue's batch norm, residual sum and ReLU right after it is
     * written, while it is in cache.
     */
    void runNormalized(ConvPlan.Forward path, float[] input, float[] weights, float[] bias, float[] output, ConvEpilogue epilogue) {
        poolKernel = 0;
        this.epilogue = epilogue;
        start(path, input, weights, bias, output);
        this.epilogue = null;
    }

    /**
     * output += conv(input, weights), on the path `path` (WIDE_ROWS or CHANNELS; shape already set):
     * how {@link ConvInputGradient} runs an input gradient as a forward convolution.
     */
    void runAdding(ConvPlan.Forward path, float[] input, float[] weights, float[] output) {
        poolKernel = 0;
        accumulate = true;
        start(path, input, weights, null, output);
        accumulate = false;
    }

    /**
     * The convolution followed by max pooling, image by image: each image's convolution output is
     * pooled into `pooled` as soon as it is made, while it is in cache. With convOutput null (no
     * backward pass will need it) that output is made in this worker's scratch and never stored:
     * at batch 256 conv1's is 4.8 MB that need not go to memory and back. Same values as conv2d
     * then maxPool2d: the same sums, then the same maxima.
     */
    void runPooled(ConvPlan.Forward path, float[] input, float[] weights, float[] bias, float[] convOutput, float[] pooled,
                   int poolKernel, int poolStride) {
        this.poolKernel = poolKernel;
        this.poolStride = poolStride;
        this.convOutput = convOutput;
        pooledHeight = (shape.outHeight - poolKernel) / poolStride + 1;
        pooledWidth = (shape.outWidth - poolKernel) / poolStride + 1;
        if (path == ConvPlan.Forward.WINOGRAD) {
            // whole-batch transforms: the convolution's output made first (kept, or in scratch), then pooled
            ConvShape s = shape;
            float[] full = convOutput;
            if (full == null) full = winogradOutput = WorkerScratch.atLeast(winogradOutput, s.batch * s.outChannels * s.pixels);
            winograd.run(input, weights, bias, full, false, null);
            for (int plane = 0; plane < s.batch * s.outChannels; plane++) {
                Pool.forwardPlane(full, plane * s.pixels, s.outHeight, s.outWidth, pooled, plane * pooledHeight * pooledWidth,
                        pooledHeight, pooledWidth, poolKernel, poolStride);
            }
        } else {
            start(path, input, weights, bias, pooled);
        }
        this.poolKernel = 0;
        this.convOutput = null;
    }

    private void start(ConvPlan.Forward path, float[] input, float[] weights, float[] bias, float[] output) {
        ConvShape s = shape;
        this.input = input; this.weights = weights; this.bias = bias; this.output = output;
        long flopsPerImage = 2L * s.outChannels * s.taps * s.pixels;
        if (path == ConvPlan.Forward.WINOGRAD) {
            winograd.run(input, weights, bias, output, accumulate, epilogue);
        } else if (path == ConvPlan.Forward.CHANNELS) {
            weightsByTap = WorkerScratch.atLeast(weightsByTap, s.taps * s.outChannels);
            for (int k = 0; k < s.outChannels; k++) {
                for (int q = 0; q < s.taps; q++) weightsByTap[q * s.outChannels + k] = weights[k * s.taps + q];
            }
            Parallel.range(s.batch, flopsPerImage, byChannels);
        } else {
            weightColumn = WorkerScratch.atLeast(weightColumn, s.taps);
            for (int q = 0; q < s.taps; q++) weightColumn[q] = q;
            Parallel.range(s.batch, flopsPerImage, byImage);
        }
        this.input = this.weights = this.bias = this.output = null;
    }

    /** The array the convolution's output is stored in: output (unfused), convOutput (kept), or null (scratch only). */
    private float[] stored() { return poolKernel == 0 ? output : convOutput; }

    /** Floats of scratch the fused forward needs for one image's convolution output (0 when stored). */
    private int imageScratch() { return stored() != null ? 0 : shape.outChannels * shape.pixels; }

    /** Where image n's convolution output goes: the stored array, or this worker's scratch. */
    private float[] imageDst(float[] buf) { return stored() != null ? stored() : buf; }

    /** Where in imageDst image n's convolution output starts (scratch: at imageAt). */
    private int imageBase(int n, int imageAt) { return stored() != null ? n * shape.outChannels * shape.pixels : imageAt; }

    /** Fused forward: pools image n's convolution output (imageDst at imageBase) into output[n]. */
    private void poolImage(int n, float[] buf, int imageAt) {
        if (poolKernel == 0) return;
        ConvShape s = shape;
        float[] src = imageDst(buf);
        for (int k = 0, image = imageBase(n, imageAt); k < s.outChannels; k++) {
            Pool.forwardPlane(src, image + k * s.pixels, s.outHeight, s.outWidth, output,
                    (n * s.outChannels + k) * pooledHeight * pooledWidth, pooledHeight, pooledWidth, poolKernel, poolStride);
        }
    }

    /**
     * WIDE_ROWS and IM2COL. Item n = image n. Where the reference backend's conv2d walks each
     * output plane tap by tap, one multiply-add at a time with a bounds check per pixel, this is one matrix
     * product per image on Gemm's register-blocked vector micro-kernel: weights [outChannels, taps]
     * times B [taps, pixels], each weight loaded once per tile of outputs. WIDE_ROWS: pad the image
     * into scratch; row q of B is that padded image read from tapOffset[q] (no im2col copy, no
     * bounds checks: padding supplies the zeros), the result is wide ([outChannels, wideLength],
     * rows paddedWidth apart), and the outWidth valid columns of each row are copied to
     * output[n, k, oy, :] with bias[k] added. IM2COL: B is the image's im2col matrix, the result
     * compact (pixelsPadded wide).
     */
    private final Parallel.Task byImage = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            boolean padded = s.padded;
            int bSize = padded ? s.paddedImage : s.im2colImage, rowLen = padded ? s.wideLength : s.pixelsPadded;
            int imageAt = bSize + s.outChannels * rowLen;
            float[] buf = scratch.get(worker, imageAt + imageScratch()), dst = imageDst(buf);
            int rowStride = padded ? s.paddedWidth : s.outWidth, rows = padded ? s.outHeight : 1, cols = padded ? s.outWidth : s.pixels;
            for (int n = from; n < to; n++) {
                if (padded) s.padImage(input, n, buf, 0);
                else s.im2col(input, n, buf, 0);
                Gemm.shiftedRows(s.outChannels, rowLen, s.taps, weights, 0, weightColumn, s.taps, buf, 0, s.tapOffset,
                        buf, bSize, rowLen, false);
                for (int k = 0, image = imageBase(n, imageAt); k < s.outChannels; k++) {
                    if (accumulate) Vec.addRows(buf, bSize + k * rowLen, rowStride, dst, image + k * s.pixels, cols, rows, cols);
                    else Vec.copyRows(buf, bSize + k * rowLen, rowStride, dst, image + k * s.pixels, cols, rows, cols, bias == null ? 0f : bias[k]);
                }
                poolImage(n, buf, imageAt);
                if (epilogue != null) epilogue.image(output, n);
            }
        }
    };

    /**
     * CHANNELS. Item n = image n, vectorised over output channels: a vector holds VL output
     * channels of one pixel. Where the reference backend's conv2d reads each weight once per
     * output plane and multiplies one pixel at a time, here a vector of VL channels' weights for one tap meets
     * 12 broadcast input pixels: 12 independent vector FMAs per tap keep the FMA unit busy, and
     * only real output pixels are computed (the wide layout also computes the dropped columns).
     * Pad the image into scratch as WIDE_ROWS does; then for each block of VL channels and each tile
     * of 12 output pixels (the last tile overlapping the one before), tileChannels sums
     * weightsByTap[q][k] * padded[tapOffset[q] + the pixel's offset] over the taps q, and the tile
     * is written to output[n, k, pixel] with bias[k] added. The sums run in the same order as
     * WIDE_ROWS's, so the results are the same bits.
     */
    private final Parallel.Task byChannels = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            ConvShape s = shape;
            int pixels = s.pixels, outChannels = s.outChannels, tileAt = s.paddedImage, imageAt = tileAt + 2 * PIXELS * VL;
            int vectors = ConvPlan.HERE.channelVectors(outChannels);  // vectors of output channels per tile: 1 or 2
            int outW = s.outWidth, padW = s.paddedWidth;
            // Fused 2x2 pooling (poolByPixel) reads the output pixel-major from scratch at imageAt.
            boolean byPixel = poolKernel == 2 && poolStride == 2, planar = !byPixel || convOutput != null;
            float[] buf = scratch.get(worker, imageAt + (byPixel ? (pixels + pooledHeight * pooledWidth) * outChannels : imageScratch()));
            float[] dst = imageDst(buf);
            for (int n = from; n < to; n++) {
                int image = imageBase(n, imageAt);
                s.padImage(input, n, buf, 0);
                for (int k0 = 0; k0 < outChannels; k0 += vectors * VL) {
                    for (int p0 = 0; p0 < pixels; p0 += PIXELS) {
                        int first = Math.max(0, Math.min(p0, pixels - PIXELS));  // the last tile overlaps
                        int last = pixels - 1;
                        int a0 = at(outW, padW, first), a1 = at(outW, padW, Math.min(first + 1, last));
                        int a2 = at(outW, padW, Math.min(first + 2, last)), a3 = at(outW, padW, Math.min(first + 3, last));
                        int a4 = at(outW, padW, Math.min(first + 4, last)), a5 = at(outW, padW, Math.min(first + 5, last));
                        int a6 = at(outW, padW, Math.min(first + 6, last)), a7 = at(outW, padW, Math.min(first + 7, last));
                        int a8 = at(outW, padW, Math.min(first + 8, last)), a9 = at(outW, padW, Math.min(first + 9, last));
                        int a10 = at(outW, padW, Math.min(first + 10, last)), a11 = at(outW, padW, Math.min(first + 11, last));
                        if (vectors == 2) {
                            tileTwoVectors(s.taps, weightsByTap, k0, outChannels, buf, s.tapOffset,
                                    a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, buf, tileAt);
                        } else {
                            tileChannels(s.taps, weightsByTap, k0, outChannels, buf, s.tapOffset,
                                    a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, buf, tileAt);
                        }
                        // The tile holds `vectors` blocks of PIXELS x VL: channels k0 + v * VL + l of pixel first + t
                        // at tileAt + (v * PIXELS + t) * VL + l.
                        for (int v = 0; v < vectors; v++) {
                            int kv = k0 + v * VL, block = tileAt + v * PIXELS * VL;
                            if (byPixel) {
                                FloatVector b = bias == null ? FloatVector.zero(Gemm.S) : FloatVector.fromArray(Gemm.S, bias, kv);
                                for (int t = 0, p = first; t < PIXELS && p < pixels; t++, p++) {
                                    FloatVector.fromArray(Gemm.S, buf, block + t * VL).add(b).intoArray(buf, imageAt + p * outChannels + kv);
                                }
                            }
                            if (!planar) continue;
                            // From p0: the pixels before it, in an overlapping last tile, are written already (and added, by runAdding).
                            for (int t = p0 - first, p = p0; t < PIXELS && p < pixels; t++, p++) {
                                int o = image + kv * pixels + p, ti = block + t * VL;
                                if (accumulate) for (int l = 0; l < VL; l++) dst[o + l * pixels] += buf[ti + l];
                                else for (int l = 0; l < VL; l++) dst[o + l * pixels] = buf[ti + l] + (bias == null ? 0f : bias[kv + l]);
                            }
                        }
                    }
                }
                if (byPixel) poolByPixel(n, buf, imageAt);
                else poolImage(n, buf, imageAt);
                if (epilogue != null) epilogue.image(output, n);
            }
        }

        /** Where output pixel p = oy * outW + ox reads tap (0, 0, 0) in the padded image (rows of padW). */
        private static int at(int outW, int padW, int p) { return p / outW * padW + p % outW; }
    };

    /**
     * Fused 2x2 stride-2 pooling of image n from byChannels' pixel-major layout: its output, bias
     * added, lies in scratch at imageAt as [pixel][channel], so a window's maximum over VL channels
     * is three vector max of its four pixels' vectors, in the order of Pool's 2x2 kernel
     * (max(max(top left, top right), max(bottom left, bottom right)), so the same bits). The
     * windows' maxima go to scratch as [window][channel] after the image, then to output[n] as planes.
     */
    private void poolByPixel(int n, float[] buf, int imageAt) {
        int outChannels = shape.outChannels, outWidth = shape.outWidth;
        int windows = pooledHeight * pooledWidth, pooledAt = imageAt + shape.pixels * outChannels, row = outWidth * outChannels;
        for (int py = 0; py < pooledHeight; py++) {
            for (int px = 0; px < pooledWidth; px++) {
                int topLeft = imageAt + (2 * py * outWidth + 2 * px) * outChannels, window = pooledAt + (py * pooledWidth + px) * outChannels;
                for (int k0 = 0; k0 < outChannels; k0 += VL) {
                    int at = topLeft + k0;
                    FloatVector top = FloatVector.fromArray(Gemm.S, buf, at).max(FloatVector.fromArray(Gemm.S, buf, at + outChannels));
                    FloatVector bottom = FloatVector.fromArray(Gemm.S, buf, at + row)
                            .max(FloatVector.fromArray(Gemm.S, buf, at + row + outChannels));
                    top.max(bottom).intoArray(buf, window + k0);
                }
            }
        }
        for (int k = 0; k < outChannels; k++) {
            int to = (n * outChannels + k) * windows;
            for (int w = 0; w < windows; w++) output[to + w] = buf[pooledAt + w * outChannels + k];
        }
    }

    /**
     * The 12-pixel register tile: t[tBase + i * VL + l] = sum over q in [0, Q) of
     * w[wBase + q * wStride + l] * x[tapOffset[q] + pi] for pixels i = 0..11 at offsets p0..p11:
     * per tap, one vector of VL channels' weights and 12 broadcast inputs, 12 FMAs.
     */
    private static void tileChannels(int Q, float[] w, int wBase, int wStride, float[] x, int[] tapOffset,
                                     int p0, int p1, int p2, int p3, int p4, int p5, int p6, int p7, int p8,
                                     int p9, int p10, int p11, float[] t, int tBase) {
        FloatVector z = FloatVector.zero(Gemm.S);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z, c8 = z, c9 = z, c10 = z, c11 = z;
        for (int q = 0; q < Q; q++) {
            FloatVector wv = FloatVector.fromArray(Gemm.S, w, wBase + q * wStride);
            int o = tapOffset[q];
            c0 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p0]), c0);
            c1 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p1]), c1);
            c2 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p2]), c2);
            c3 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p3]), c3);
            c4 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p4]), c4);
            c5 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p5]), c5);
            c6 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p6]), c6);
            c7 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p7]), c7);
            c8 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p8]), c8);
            c9 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p9]), c9);
            c10 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p10]), c10);
            c11 = wv.fma(FloatVector.broadcast(Gemm.S, x[o + p11]), c11);
        }
        c0.intoArray(t, tBase); c1.intoArray(t, tBase + VL); c2.intoArray(t, tBase + 2 * VL);
        c3.intoArray(t, tBase + 3 * VL); c4.intoArray(t, tBase + 4 * VL); c5.intoArray(t, tBase + 5 * VL);
        c6.intoArray(t, tBase + 6 * VL); c7.intoArray(t, tBase + 7 * VL); c8.intoArray(t, tBase + 8 * VL);
        c9.intoArray(t, tBase + 9 * VL); c10.intoArray(t, tBase + 10 * VL); c11.intoArray(t, tBase + 11 * VL);
    }

    /**
     * The 2 x 12 register tile, for output channels in pairs of vectors (ResNet's 32 and 64): how it
     * differs from {@link #tileChannels} is only that each broadcast input pixel meets two vectors of
     * weights, so a tap is 2 vector loads, 12 broadcasts and 24 FMAs instead of 1, 12 and 12. The
     * broadcasts, not the FMAs, were what limited the one-vector tile: on one core of the development
     * machine 108 GFLOP/s against 172-190 for this one (ResNet-20's 32- and 64-channel layers). The
     * sums run over q in the same order, so the results are the same bits. Vector a of the pair goes
     * to t[tBase + i * VL + l], vector b to t[tBase + (12 + i) * VL + l]. 24 accumulators, 2 weight
     * vectors and a broadcast: 27 of AVX-512's 32 vector registers (ConvPlan uses it only there).
     */
    private static void tileTwoVectors(int Q, float[] w, int wBase, int wStride, float[] x, int[] tapOffset,
                                       int p0, int p1, int p2, int p3, int p4, int p5, int p6, int p7, int p8,
                                       int p9, int p10, int p11, float[] t, int tBase) {
        FloatVector z = FloatVector.zero(Gemm.S);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z, a8 = z, a9 = z, a10 = z, a11 = z;
        FloatVector b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z, b6 = z, b7 = z, b8 = z, b9 = z, b10 = z, b11 = z;
        for (int q = 0; q < Q; q++) {
            int wq = wBase + q * wStride, o = tapOffset[q];
            FloatVector wa = FloatVector.fromArray(Gemm.S, w, wq), wb = FloatVector.fromArray(Gemm.S, w, wq + VL);
            FloatVector x0 = FloatVector.broadcast(Gemm.S, x[o + p0]); a0 = wa.fma(x0, a0); b0 = wb.fma(x0, b0);
            FloatVector x1 = FloatVector.broadcast(Gemm.S, x[o + p1]); a1 = wa.fma(x1, a1); b1 = wb.fma(x1, b1);
            FloatVector x2 = FloatVector.broadcast(Gemm.S, x[o + p2]); a2 = wa.fma(x2, a2); b2 = wb.fma(x2, b2);
            FloatVector x3 = FloatVector.broadcast(Gemm.S, x[o + p3]); a3 = wa.fma(x3, a3); b3 = wb.fma(x3, b3);
            FloatVector x4 = FloatVector.broadcast(Gemm.S, x[o + p4]); a4 = wa.fma(x4, a4); b4 = wb.fma(x4, b4);
            FloatVector x5 = FloatVector.broadcast(Gemm.S, x[o + p5]); a5 = wa.fma(x5, a5); b5 = wb.fma(x5, b5);
            FloatVector x6 = FloatVector.broadcast(Gemm.S, x[o + p6]); a6 = wa.fma(x6, a6); b6 = wb.fma(x6, b6);
            FloatVector x7 = FloatVector.broadcast(Gemm.S, x[o + p7]); a7 = wa.fma(x7, a7); b7 = wb.fma(x7, b7);
            FloatVector x8 = FloatVector.broadcast(Gemm.S, x[o + p8]); a8 = wa.fma(x8, a8); b8 = wb.fma(x8, b8);
            FloatVector x9 = FloatVector.broadcast(Gemm.S, x[o + p9]); a9 = wa.fma(x9, a9); b9 = wb.fma(x9, b9);
            FloatVector x10 = FloatVector.broadcast(Gemm.S, x[o + p10]); a10 = wa.fma(x10, a10); b10 = wb.fma(x10, b10);
            FloatVector x11 = FloatVector.broadcast(Gemm.S, x[o + p11]); a11 = wa.fma(x11, a11); b11 = wb.fma(x11, b11);
        }
        int b = tBase + 12 * VL;
        a0.intoArray(t, tBase); a1.intoArray(t, tBase + VL); a2.intoArray(t, tBase + 2 * VL); a3.intoArray(t, tBase + 3 * VL);
        a4.intoArray(t, tBase + 4 * VL); a5.intoArray(t, tBase + 5 * VL); a6.intoArray(t, tBase + 6 * VL); a7.intoArray(t, tBase + 7 * VL);
        a8.intoArray(t, tBase + 8 * VL); a9.intoArray(t, tBase + 9 * VL); a10.intoArray(t, tBase + 10 * VL); a11.intoArray(t, tBase + 11 * VL);
        b0.intoArray(t, b); b1.intoArray(t, b + VL); b2.intoArray(t, b + 2 * VL); b3.intoArray(t, b + 3 * VL);
        b4.intoArray(t, b + 4 * VL); b5.intoArray(t, b + 5 * VL); b6.intoArray(t, b + 6 * VL); b7.intoArray(t, b + 7 * VL);
        b8.intoArray(t, b + 8 * VL); b9.intoArray(t, b + 9 * VL); b10.intoArray(t, b + 10 * VL); b11.intoArray(t, b + 11 * VL);
    }
}
