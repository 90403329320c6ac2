package advtrain.backend.cpu;

import advtrain.tensor.Shape;
import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

/**
 * 2-D convolution on the CPU, forward and backward, as matrix products on {@link Gemm}'s
 * micro-kernels. Two ways to present the input to the product:
 *
 * <ul>
 *   <li><b>direct</b> (stride 1): the output is computed in a "wide" layout whose rows have the
 *       padded input's width Wp, so that output j = oy * Wp + ox needs input c at
 *       c * plane + r * Wp + s + j for every (c, r, s): each row of the im2col matrix is the padded
 *       input itself, read from an offset. No im2col copy; the price is Wp - OW wasted columns per
 *       output row, dropped when the wide result is copied out (bias added on the way).</li>
 *   <li><b>im2col</b> (any stride): the im2col matrix is built per image, then multiplied.</li>
 * </ul>
 *
 * Which one runs for a layer was chosen by measurement (see {@link #chooseDirect}); tests and
 * benchmarks can force either. The weight gradient is a product over the same shifted rows, summed
 * over the batch; or, where the output channels fill whole vectors (conv2), a vector of output
 * channels' gradients times broadcast inputs (weightByTaps), over real output pixels only. The
 * input gradient is (direct) a correlation of the output gradient, laid out in the padded input's
 * wide rows with zeros around it, with the filters; or, where the batch fills the vector lanes
 * (conv2 at batch 16 and more), the same sums with images in the lanes (inputGradLanes), over only
 * the taps that reach each input pixel; or (im2col) the im2col matrix's gradient, scattered back
 * (col2im).
 *
 * <p>One instance per calling thread holds the scratch buffers, grown on first use and reused after,
 * so steady-state calls allocate nothing. Per-image work runs in parallel over images. The weight
 * gradient runs either in parallel over register tiles of the [outChannels, inChannels * R * S]
 * result, each summing over the whole batch, so no two threads write the same gradient element; or,
 * where the batch's operands outgrow a core's cache ({@link #chooseGroups}), in 8 fixed groups of
 * images, each group's partial sums added up in order afterwards.
 */
final class Conv {
    enum Algorithm { AUTO, DIRECT, IM2COL, CHANNELS, GROUPS, LANES }

    private static final ThreadLocal<Conv> PER_THREAD = ThreadLocal.withInitial(Conv::new);

    static Conv forThisThread() { return PER_THREAD.get(); }

    private static final int VL = Gemm.VL;

    // ---- the call in progress (fields, not lambdas: the parallel tasks below read them) ----------
    private int batch, inC, inH, inW, outC, kH, kW, stride, pad, outH, outW, reduce;
    private float[] in, weight, bias, out, dOut, dIn, dW;
    /**
     * Fused forward (forwardPooled): the pooling window and stride (0: no pooling, the output is
     * the convolution's own), and the pooled planes' size.
     */
    private int poolKernel, poolStride, pooledH, pooledW;
    /** Fused forward: where the convolution's output is kept (for the backward pass), or null. */
    private float[] convOut;
    private boolean direct;
    /** Direct backward in groups of images (backwardInGroups) rather than batch-wide passes. */
    private boolean grouped;
    /** Forward vectorised over output channels (stride 1, outC a multiple of VL): see forwardChannels. */
    private boolean channels;
    /** The weights as [q = (c, r, s)][k], for forwardChannels (grown on first use). */
    private float[] weightsByTap = new float[0];
    /** Direct: the padded input image (inC planes padH x padW, then VL floats of slack). */
    private int padH, padW, padPlane, inSlice;
    /** Direct: wide output length (outH - 1) * padW + outW, rounded up to whole vectors. */
    private int wideLen;
    /** im2col: output pixels per image rounded up to whole vectors; one im2col matrix. */
    private int colsPad, colSlice;
    /**
     * Direct input gradient: each output-gradient plane laid out wide (rows of padW) after `lead`
     * zeros and followed by zeros, planes gradPlane apart; the result covers the padded input,
     * inWideLen floats per channel (padH * padW and more, rounded up to whole vectors); rowsLen =
     * outH * padW rounded up: the rows one filter row reaches.
     */
    private int lead, gradPlane, gradSlice, inWideLen, rowsLen;
    private boolean byTapRows;
    /** Weight gradient: per-image slices of the B operand and of the output gradient. */
    private int xSlice, gSlice, gStride, weightTiles, qTiles;
    /** Weight gradient vectorised over output channels (weightByTaps), from gradsByPixel. */
    private boolean weightByChannels;
    /** Input gradient with images in vector lanes (inputGradLanes); the batch's groups of VL images. */
    private boolean lanes;
    private int laneGroups;

    // ---- scratch, kept between calls ---------------------------------------------------------------
    private final float[][] perWorker = new float[Parallel.threads()][0];
    private float[] inputs = new float[0], grads = new float[0], biasPartial = new float[0];
    /** The output gradient pixel-major, [image][pixel][output channel], for weightByTaps. */
    private float[] gradsByPixel = new float[0];
    /** The output gradient with images in lanes, [group][output channel][pixel][image], for inputGradLanes. */
    private float[] gradsByLane = new float[0];
    private int[] aOff = new int[0], bOff = new int[0], aGrad = new int[0], bGrad = new int[0];

    private Conv() {}

    private float[] scratch(int worker, int size) {
        if (perWorker[worker].length < size) perWorker[worker] = new float[size];
        return perWorker[worker];
    }

    private static int[] ints(int[] buffer, int size) { return buffer.length >= size ? buffer : new int[size]; }

    private static float[] floats(float[] buffer, int size) { return buffer.length >= size ? buffer : new float[size]; }

    private static int roundUp(int n, int multiple) { return Gemm.roundUp(n, multiple); }

    /**
     * The choice, by measurement on the seed's layers (benchmarks/README.md): direct wherever it
     * applies (stride 1). For 5x5 filters it beat im2col about 3x both on conv1 (outputs 28 wide in
     * rows of 32: 12 % of the wide layout wasted) and on conv2 (10 wide in rows of 14: 29 % wasted):
     * building the im2col matrix costs more than the wasted columns.
     */
    static boolean chooseDirect(int stride) { return stride == 1; }

    /**
     * Whether the forward pass vectorises over output channels (forwardChannels) rather than over
     * positions: where the output channels fill whole vectors (conv2's 16 with AVX-512), it computes
     * only real outputs, where the wide layout also computes conv2's 4 dropped columns of every 14.
     */
    static boolean chooseChannels(int outChannels) { return outChannels % VL == 0; }

    /**
     * Whether the direct backward runs in groups of images (backwardInGroups) rather than in
     * batch-wide passes (backwardBatch), given the floats of the whole batch's padded inputs and wide
     * output gradients. Measured at batch 32 (2 threads): conv1's operands, 1.1 MB, are more than a
     * core's 1 MB L2 holds, and in groups its weight gradient took 164-192 µs against 216-236;
     * conv2's, 0.45 MB, fit, and there the batch-wide pass's longer dot products won (184 against
     * 217-282 µs).
     */
    static boolean chooseGroups(long batchFloats) { return batchFloats * Float.BYTES > 1 << 20; }

    /**
     * Whether the direct input gradient runs one product per filter row (inputGradDirect), each over
     * the outH rows that filter row reaches, rather than one over all padH rows: where that skips at
     * least a quarter of the rows. conv2 (10 of 14 rows): 398-429 → 353-366 µs per batch-32 call on
     * one thread; conv1 (28 of 32) was slower by rows (461-566 against 353 µs): the per-row
     * products' partial sums pass through memory, which the 12 % it skips does not repay.
     */
    static boolean chooseTapRows(int kernelHeight, int paddedHeight) { return 4 * (kernelHeight - 1) >= paddedHeight; }

    /**
     * Whether the direct input gradient runs with images in vector lanes (inputGradLanes): where the
     * batch fills the lanes and the input channels fill the register tile. It computes only the
     * products that reach the input, where the wide layouts also multiply zeros (conv2 by filter
     * rows: 1.44x the necessary products).
     */
    static boolean chooseLanes(int batch, int inChannels) { return batch >= VL && inChannels >= CHANNEL_TILE; }

    /** Reads the sizes from the (already checked) shapes: no ConvGeometry, so nothing is allocated. */
    private void setUp(Shape input, Shape weights, int stride, int padding, Algorithm algorithm) {
        batch = input.dim(0); inC = input.dim(1); inH = input.dim(2); inW = input.dim(3);
        outC = weights.dim(0); kH = weights.dim(2); kW = weights.dim(3);
        this.stride = stride; pad = padding;
        outH = (inH + 2 * pad - kH) / stride + 1;
        outW = (inW + 2 * pad - kW) / stride + 1;
        reduce = inC * kH * kW;
        direct = stride == 1 && (algorithm == Algorithm.DIRECT || algorithm == Algorithm.CHANNELS
                || algorithm == Algorithm.GROUPS || algorithm == Algorithm.LANES || (algorithm == Algorithm.AUTO && chooseDirect(stride)));
        lanes = direct && (algorithm == Algorithm.LANES || (algorithm == Algorithm.AUTO && chooseLanes(batch, inC)));
        channels = direct && outC % VL == 0 && (algorithm == Algorithm.CHANNELS || (algorithm == Algorithm.AUTO && chooseChannels(outC)));
        if (direct) {
            padH = inH + 2 * pad; padW = inW + 2 * pad; padPlane = padH * padW;
            inSlice = inC * padPlane + VL;
            wideLen = roundUp((outH - 1) * padW + outW, VL);
        }
        colsPad = roundUp(outH * outW, VL);
        colSlice = reduce * colsPad;
        grouped = direct && (algorithm == Algorithm.GROUPS
                || (algorithm == Algorithm.AUTO && chooseGroups((long) batch * (inSlice + outC * wideLen))));
        // The forward product's tables: A(m = k, q = (c, r, s)) = weight[k * reduce + q].
        aOff = ints(aOff, reduce);
        bOff = ints(bOff, reduce);
        for (int c = 0, q = 0; c < inC; c++) {
            for (int r = 0; r < kH; r++) {
                for (int s = 0; s < kW; s++, q++) {
                    aOff[q] = q;
                    bOff[q] = direct ? c * padPlane + r * padW + s : q * colsPad;
                }
            }
        }
    }

    /** Zero-pads `planes` planes of h x w from src into planes of (h + 2 padY) x (w + 2 padX), then VL zeros. */
    private static void padPlanes(float[] src, int srcBase, int planes, int h, int w, int padY, int padX,
                                  float[] dst, int dstBase) {
        int ph = h + 2 * padY, pw = w + 2 * padX;
        if (padY == 0 && padX == 0) {
            System.arraycopy(src, srcBase, dst, dstBase, planes * h * w);
        } else {
            for (int p = 0; p < planes; p++) {
                int to = dstBase + p * ph * pw, from = srcBase + p * h * w;
                Arrays.fill(dst, to, to + padY * pw, 0f);
                for (int y = 0; y < h; y++) {
                    int row = to + (y + padY) * pw;
                    Arrays.fill(dst, row, row + padX, 0f);
                    System.arraycopy(src, from + y * w, dst, row + padX, w);
                    Arrays.fill(dst, row + padX + w, row + pw, 0f);
                }
                Arrays.fill(dst, to + (h + padY) * pw, to + ph * pw, 0f);
            }
        }
        int end = dstBase + planes * ph * pw;
        Arrays.fill(dst, end, end + VL, 0f);
    }

    /**
     * The im2col matrix of image n: row q = (c, r, s), column p = oy * outW + ox holds
     * input[n, c, oy * stride - pad + r, ox * stride - pad + s] (0 outside the image); columns from
     * outH * outW to colsPad are 0.
     */
    private void im2col(int n, float[] dst, int dstBase) {
        int pixels = outH * outW;
        for (int c = 0, q = 0; c < inC; c++) {
            int plane = (n * inC + c) * inH * inW;
            for (int r = 0; r < kH; r++) {
                for (int s = 0; s < kW; s++, q++) {
                    int row = dstBase + q * colsPad;
                    for (int oy = 0; oy < outH; oy++) {
                        int iy = oy * stride - pad + r, to = row + oy * outW;
                        if (iy < 0 || iy >= inH) { Arrays.fill(dst, to, to + outW, 0f); continue; }
                        for (int ox = 0; ox < outW; ox++) {
                            int ix = ox * stride - pad + s;
                            dst[to + ox] = ix >= 0 && ix < inW ? in[plane + iy * inW + ix] : 0f;
                        }
                    }
                    Arrays.fill(dst, row + pixels, row + colsPad, 0f);
                }
            }
        }
    }

    // ---- forward ----------------------------------------------------------------------------------

    void forward(Shape inShape, Shape wShape, int stride, int padding, float[] in, float[] weight, float[] bias, float[] out,
                 Algorithm algorithm) {
        poolKernel = 0;
        run(inShape, wShape, stride, padding, in, weight, bias, out, algorithm);
    }

    /**
     * The convolution followed by max pooling, image by image: each image's convolution output is
     * pooled into `pooled` as soon as it is made, while it is in cache. With convOut null (no
     * backward pass will need it) that output is made in this worker's scratch and never stored:
     * at batch 256 conv1's is 4.8 MB that need not go to memory and back. Same values as conv2d
     * then maxPool2d: the same sums, then the same maxima.
     */
    void forwardPooled(Shape inShape, Shape wShape, int stride, int padding, float[] in, float[] weight, float[] bias,
                       float[] convOut, float[] pooled, int poolKernel, int poolStride, Algorithm algorithm) {
        this.poolKernel = poolKernel;
        this.poolStride = poolStride;
        this.convOut = convOut;
        run(inShape, wShape, stride, padding, in, weight, bias, pooled, algorithm);
        this.poolKernel = 0;
        this.convOut = null;
    }

    private void run(Shape inShape, Shape wShape, int stride, int padding, float[] in, float[] weight, float[] bias, float[] out,
                     Algorithm algorithm) {
        setUp(inShape, wShape, stride, padding, algorithm);
        if (poolKernel != 0) {
            pooledH = (outH - poolKernel) / poolStride + 1;
            pooledW = (outW - poolKernel) / poolStride + 1;
        }
        this.in = in; this.weight = weight; this.bias = bias; this.out = out;
        if (channels) {
            weightsByTap = floats(weightsByTap, reduce * outC);
            for (int k = 0; k < outC; k++) {
                for (int q = 0; q < reduce; q++) weightsByTap[q * outC + k] = weight[k * reduce + q];
            }
            Parallel.range(batch, 2L * outC * reduce * outH * outW, forwardChannels);
        } else {
            Parallel.range(batch, 2L * outC * reduce * outH * outW, forwardImages);
        }
        this.in = this.weight = this.bias = this.out = null;
    }

    /** The array the convolution's output is stored in: out (unfused), convOut (kept), or null (scratch only). */
    private float[] stored() { return poolKernel == 0 ? out : convOut; }

    /** Floats of scratch the fused forward needs for one image's convolution output (0 when stored). */
    private int imageScratch() { return stored() != null ? 0 : outC * outH * outW; }

    /** Where image n's convolution output goes: the stored array, or this worker's scratch. */
    private float[] imageDst(float[] buf) { return stored() != null ? stored() : buf; }

    /** Where in imageDst image n's convolution output starts (scratch: at imageAt). */
    private int imageBase(int n, int imageAt) { return stored() != null ? n * outC * outH * outW : imageAt; }

    /** Fused forward: pools image n's convolution output (imageDst at imageBase) into out[n]. */
    private void poolImage(int n, float[] buf, int imageAt) {
        if (poolKernel == 0) return;
        float[] src = imageDst(buf);
        for (int k = 0, image = imageBase(n, imageAt); k < outC; k++) {
            Pool.forwardPlane(src, image + k * outH * outW, outH, outW, out, (n * outC + k) * pooledH * pooledW,
                    pooledH, pooledW, poolKernel, poolStride);
        }
    }

    /**
     * Item n = image n. Direct: pad the image into scratch, multiply weight [outC, reduce] by the
     * shifted input rows into the wide output [outC, wideLen] (also scratch), then copy the outW
     * valid columns of each output row to output[n, k, oy, :] adding bias[k]. im2col: the same with
     * the im2col matrix as B and a compact (colsPad-wide) result.
     */
    private final Parallel.Task forwardImages = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            int bSize = direct ? inSlice : colSlice, rowLen = direct ? wideLen : colsPad, imageAt = bSize + outC * rowLen;
            float[] buf = scratch(worker, imageAt + imageScratch()), dst = imageDst(buf);
            for (int n = from; n < to; n++) {
                if (direct) padPlanes(in, n * inC * inH * inW, inC, inH, inW, pad, pad, buf, 0);
                else im2col(n, buf, 0);
                Gemm.shiftedRows(outC, rowLen, reduce, weight, 0, aOff, reduce, buf, 0, bOff, buf, bSize, rowLen, false);
                int rowStride = direct ? padW : outW, rows = direct ? outH : 1, cols = direct ? outW : outH * outW;
                for (int k = 0, image = imageBase(n, imageAt); k < outC; k++) {
                    Vec.copyRows(buf, bSize + k * rowLen, rowStride, dst, image + k * outH * outW, cols,
                            rows, cols, bias == null ? 0f : bias[k]);
                }
                poolImage(n, buf, imageAt);
            }
        }
    };

    /** Output pixels per register tile of forwardChannels. */
    private static final int PIXELS = 12;

    /**
     * Item n = image n, vectorised over output channels: a vector holds VL output channels of one
     * pixel. Pad the image into scratch as the direct forward does; then for each block of VL
     * channels and each tile of 12 output pixels (the last tile overlapping the one before),
     * tileChannels sums weightsByTap[q][k] * padded[bOff[q] + the pixel's offset] over the taps q,
     * and the tile is written to output[n, k, pixel] with bias[k] added. Only real output pixels are
     * computed (no wide layout), and the sums run in the same order as the direct forward's, so the
     * results are the same bits.
     */
    private final Parallel.Task forwardChannels = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            int pixels = outH * outW, tileAt = inSlice, imageAt = inSlice + PIXELS * VL;
            // Fused 2x2 pooling (poolByPixel) reads the output pixel-major from scratch at imageAt.
            boolean byPixel = poolKernel == 2 && poolStride == 2, planar = !byPixel || convOut != null;
            float[] buf = scratch(worker, imageAt + (byPixel ? (pixels + pooledH * pooledW) * outC : imageScratch()));
            float[] dst = imageDst(buf);
            for (int n = from; n < to; n++) {
                int image = imageBase(n, imageAt);
                padPlanes(in, n * inC * inH * inW, inC, inH, inW, pad, pad, buf, 0);
                for (int k0 = 0; k0 < outC; k0 += VL) {
                    for (int p0 = 0; p0 < pixels; p0 += PIXELS) {
                        int first = Math.max(0, Math.min(p0, pixels - PIXELS));  // the last tile overlaps
                        int last = pixels - 1;
                        tileChannels(reduce, weightsByTap, k0, outC, buf, bOff,
                                at(first), at(Math.min(first + 1, last)), at(Math.min(first + 2, last)),
                                at(Math.min(first + 3, last)), at(Math.min(first + 4, last)), at(Math.min(first + 5, last)),
                                at(Math.min(first + 6, last)), at(Math.min(first + 7, last)), at(Math.min(first + 8, last)),
                                at(Math.min(first + 9, last)), at(Math.min(first + 10, last)), at(Math.min(first + 11, last)),
                                buf, tileAt);
                        if (byPixel) {
                            FloatVector b = bias == null ? FloatVector.zero(Gemm.S) : FloatVector.fromArray(Gemm.S, bias, k0);
                            for (int t = 0, p = first; t < PIXELS && p < pixels; t++, p++) {
                                FloatVector.fromArray(Gemm.S, buf, tileAt + t * VL).add(b).intoArray(buf, imageAt + p * outC + k0);
                            }
                        }
                        if (!planar) continue;
                        for (int t = 0, p = first; t < PIXELS && p < pixels; t++, p++) {
                            int o = image + k0 * pixels + p, ti = tileAt + t * VL;
                            for (int l = 0; l < VL; l++) dst[o + l * pixels] = buf[ti + l] + (bias == null ? 0f : bias[k0 + l]);
                        }
                    }
                }
                if (byPixel) poolByPixel(n, buf, imageAt);
                else poolImage(n, buf, imageAt);
            }
        }

        /** Where output pixel p = oy * outW + ox reads tap (0, 0, 0) in the padded image. */
        private int at(int p) { return p / outW * padW + p % outW; }
    };

    /**
     * Fused 2x2 stride-2 pooling of image n from forwardChannels' pixel-major layout: its output,
     * bias added, lies in scratch at imageAt as [pixel][channel], so a window's maximum over VL
     * channels is three vector max of its four pixels' vectors, in the order of Pool's 2x2 kernel
     * (max(max(top left, top right), max(bottom left, bottom right)), so the same bits). The
     * windows' maxima go to scratch as [window][channel] after the image, then to out[n] as planes.
     */
    private void poolByPixel(int n, float[] buf, int imageAt) {
        int windows = pooledH * pooledW, pooledAt = imageAt + outH * outW * outC, row = outW * outC;
        for (int py = 0; py < pooledH; py++) {
            for (int px = 0; px < pooledW; px++) {
                int topLeft = imageAt + (2 * py * outW + 2 * px) * outC, window = pooledAt + (py * pooledW + px) * outC;
                for (int k0 = 0; k0 < outC; k0 += VL) {
                    int at = topLeft + k0;
                    FloatVector top = FloatVector.fromArray(Gemm.S, buf, at).max(FloatVector.fromArray(Gemm.S, buf, at + outC));
                    FloatVector bottom = FloatVector.fromArray(Gemm.S, buf, at + row).max(FloatVector.fromArray(Gemm.S, buf, at + row + outC));
                    top.max(bottom).intoArray(buf, window + k0);
                }
            }
        }
        for (int k = 0; k < outC; k++) {
            int to = (n * outC + k) * windows;
            for (int w = 0; w < windows; w++) out[to + w] = buf[pooledAt + w * outC + k];
        }
    }

    /**
     * The 12-pixel register tile: t[tBase + i * VL + l] = sum over q in [0, Q) of
     * w[wBase + q * wStride + l] * x[bOff[q] + pi] for pixels i = 0..11 at offsets p0..p11: per tap,
     * one vector of VL channels' weights and 12 broadcast inputs, 12 FMAs.
     */
    private static void tileChannels(int Q, float[] w, int wBase, int wStride, float[] x, int[] bOff,
                                     int p0, int p1, int p2, int p3, int p4, int p5, int p6, int p7, int p8,
                                     int p9, int p10, int p11, float[] t, int tBase) {
        FloatVector z = FloatVector.zero(Gemm.S);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z, c8 = z, c9 = z, c10 = z, c11 = z;
        for (int q = 0; q < Q; q++) {
            FloatVector wv = FloatVector.fromArray(Gemm.S, w, wBase + q * wStride);
            int o = bOff[q];
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

    // ---- backward ---------------------------------------------------------------------------------

    void backward(Shape inShape, Shape wShape, int stride, int padding, float[] in, float[] weight, float[] dOut,
                  float[] dIn, float[] dW, float[] dB, Algorithm algorithm) {
        setUp(inShape, wShape, stride, padding, algorithm);
        this.in = in; this.weight = weight; this.dOut = dOut; this.dIn = dIn; this.dW = dW;
        if (grouped) {
            backwardInGroups(dB);
        } else {
            backwardBatch(dB);
        }
        this.in = this.weight = this.dOut = this.dIn = this.dW = null;
    }

    /** Images per group of the direct backward: the batch in at most GROUPS groups. */
    private static final int GROUPS = 8;
    private int groupSize, groups;
    /** The direct backward's weight gradient, one partial sum per group: [group][outC * reduce]. */
    private float[] weightPartial = new float[0];

    /**
     * Stride 1. The batch is cut into at most 8 groups of consecutive images, a fixed cut (so the
     * sums, and the results' bits, do not depend on the number of threads), and each group is one
     * task (backwardGroups) that lays out its images' output gradients wide and their inputs padded,
     * sums its part of the weight gradient from them while they are in cache, and computes its
     * images' input gradients. The groups' weight gradients are then added up in order.
     */
    private void backwardInGroups(float[] dB) {
        int pixels = outH * outW;
        groupSize = (batch + GROUPS - 1) / GROUPS;
        groups = (batch + groupSize - 1) / groupSize;
        xSlice = inSlice;
        gStride = wideLen;
        gSlice = outC * gStride;
        biasPartial = floats(biasPartial, batch * outC);
        if (dW != null) {
            qTiles = (reduce + Gemm.NR - 1) / Gemm.NR;
            weightTiles = (outC + Gemm.MR - 1) / Gemm.MR * qTiles;
            weightPartial = floats(weightPartial, groups * outC * reduce);
        }
        boolean inputGradInGroups = dIn != null && !lanes;
        if (inputGradInGroups) setUpInputGradient(true);
        long flopsPerImage = (dW == null ? 0 : 2L * outC * reduce * pixels) + (inputGradInGroups ? 2L * outC * reduce * pixels : 0);
        Parallel.range(groups, Math.max(outC * pixels, flopsPerImage) * groupSize, backwardGroups);
        if (dIn != null && lanes) inputGradLanes();
        if (dW != null) {
            int size = outC * reduce;
            for (int g = 0; g < groups; g++) {
                for (int i = 0; i < size; i++) dW[i] += weightPartial[g * size + i];
            }
        }
        if (dB != null) {
            for (int n = 0; n < batch; n++) for (int k = 0; k < outC; k++) dB[k] += biasPartial[n * outC + k];
        }
    }

    /**
     * Item g = group g, images [g * groupSize, + groupSize). In this worker's scratch: the group's
     * output gradients laid out like the forward's wide result (rows of padW, zeros in the dropped
     * columns and at the end), and (for the weight gradient) its padded inputs. The weight gradient's
     * register tiles (6 output channels by 4 columns q = (c, r, s)) then sum, over the group's images
     * and every wide position j, grad[n][k][j] * input_n[bOff[q] + j]: the forward's shifted rows.
     * Then each image's input gradient (inputGradDirect).
     */
    private final Parallel.Task backwardGroups = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            int pixels = outH * outW, inputsAt = groupSize * gSlice, inputGradAt = inputsAt + (dW == null ? 0 : groupSize * xSlice);
            int inputGradSize = dIn == null || lanes ? 0 : gradSlice + inC * inWideLen;
            float[] buf = scratch(worker, inputGradAt + inputGradSize);
            for (int g = from; g < to; g++) {
                int n0 = g * groupSize, images = Math.min(batch, n0 + groupSize) - n0;
                for (int i = 0; i < images; i++) {
                    int n = n0 + i;
                    for (int k = 0; k < outC; k++) biasPartial[n * outC + k] = Vec.sum(dOut, (n * outC + k) * pixels, pixels);
                    if (dW != null) {
                        wideRows(n, buf, i * gSlice);
                        padPlanes(in, n * inC * inH * inW, inC, inH, inW, pad, pad, buf, inputsAt + i * xSlice);
                    }
                }
                if (dW != null) {
                    int partial = g * outC * reduce;
                    Arrays.fill(weightPartial, partial, partial + outC * reduce, 0f);
                    for (int t = 0; t < weightTiles; t++) {
                        Gemm.dotTile(t / qTiles * Gemm.MR, outC, t % qTiles * Gemm.NR, reduce, gStride, 0, images,
                                buf, gSlice, gStride, buf, inputsAt, xSlice, bOff, weightPartial, partial, reduce);
                    }
                }
                if (dIn == null || lanes) continue;
                for (int i = 0; i < images; i++) inputGradDirect(n0 + i, buf, inputGradAt);
            }
        }
    };

    /**
     * dOut[n] laid out like the direct forward's wide result at dst: outC rows of wideLen floats,
     * output row oy at oy * padW, zeros in the dropped columns and at the end.
     */
    private void wideRows(int n, float[] dst, int at) {
        int pixels = outH * outW;
        Arrays.fill(dst, at, at + outC * wideLen, 0f);
        for (int k = 0; k < outC; k++) {
            int src = (n * outC + k) * pixels, row = at + k * wideLen;
            for (int oy = 0; oy < outH; oy++) System.arraycopy(dOut, src + oy * outW, dst, row + oy * padW, outW);
        }
    }

    /**
     * Batch-wide passes, any stride: every image's weight-gradient operands gathered (padded input
     * and wide output gradient, or im2col matrix and compact output gradient), then the weight
     * gradient's register tiles each summed over the whole batch, then the input gradients image
     * by image.
     */
    private void backwardBatch(float[] dB) {
        int pixels = outH * outW;
        if (dW != null || dB != null) {
            weightByChannels = channels && dW != null && reduce >= TAPS;
            xSlice = direct ? inSlice : colSlice;
            gStride = direct ? wideLen : colsPad;
            gSlice = outC * gStride;
            inputs = dW == null ? inputs : floats(inputs, batch * xSlice);
            if (weightByChannels) gradsByPixel = floats(gradsByPixel, batch * pixels * outC);
            else if (dW != null) grads = floats(grads, batch * gSlice);
            biasPartial = floats(biasPartial, batch * outC);
            Parallel.range(batch, (long) outC * pixels + (dW == null ? 0 : (long) reduce * pixels), gatherImages);
            if (weightByChannels) {
                qTiles = (reduce + TAPS - 1) / TAPS;
                weightTiles = outC / VL * qTiles;
                Parallel.range(weightTiles, 2L * TAPS * VL * batch * pixels, weightByTaps);
            } else if (dW != null) {
                qTiles = (reduce + Gemm.NR - 1) / Gemm.NR;
                weightTiles = (outC + Gemm.MR - 1) / Gemm.MR * qTiles;
                Parallel.range(weightTiles, 2L * Gemm.MR * Gemm.NR * batch * gStride, weightTilesTask);
            }
            if (dB != null) {
                for (int n = 0; n < batch; n++) for (int k = 0; k < outC; k++) dB[k] += biasPartial[n * outC + k];
            }
        }
        if (dIn != null && lanes) {
            inputGradLanes();
        } else if (dIn != null) {
            setUpInputGradient(direct);
            Parallel.range(batch, 2L * outC * reduce * pixels, direct ? inputGradImages : inputGradIm2col);
        }
    }

    /** Item n = image n: inputGradDirect in this worker's scratch. */
    private final Parallel.Task inputGradImages = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            float[] buf = scratch(worker, gradSlice + inC * inWideLen);
            for (int n = from; n < to; n++) inputGradDirect(n, buf, 0);
        }
    };

    /**
     * Item n = image n. Writes the weight gradient's operands for image n into the per-image slices:
     * the B rows (padded input, or im2col matrix) and the output gradient laid out like the forward
     * result (wide, zeros in the dropped columns; or compact, zero tail), and the bias gradient's
     * per-image sums.
     */
    private final Parallel.Task gatherImages = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            int pixels = outH * outW;
            for (int n = from; n < to; n++) {
                for (int k = 0; k < outC; k++) biasPartial[n * outC + k] = Vec.sum(dOut, (n * outC + k) * pixels, pixels);
                if (dW == null) continue;
                int base = n * gSlice;
                if (direct) {
                    padPlanes(in, n * inC * inH * inW, inC, inH, inW, pad, pad, inputs, n * xSlice);
                    if (weightByChannels) byPixel(n);
                    else wideRows(n, grads, base);
                } else {
                    im2col(n, inputs, n * xSlice);
                    for (int k = 0; k < outC; k++) {
                        System.arraycopy(dOut, (n * outC + k) * pixels, grads, base + k * gStride, pixels);
                        Arrays.fill(grads, base + k * gStride + pixels, base + (k + 1) * gStride, 0f);
                    }
                }
            }
        }
    };

    /**
     * Item t = one register tile of dW [outC, reduce]: 6 output channels (m0 = t / qTiles * 6) by 4
     * columns q = (c, r, s) (q0 = t % qTiles * 4). It sums, over every image and every output
     * position j, grad[n][k][j] * input_n[bOff[q] + j]: the same shifted rows as the forward pass.
     */
    private final Parallel.Task weightTilesTask = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int t = from; t < to; t++) {
                int m0 = t / qTiles * Gemm.MR, q0 = t % qTiles * Gemm.NR;
                Gemm.dotTile(m0, outC, q0, reduce, gStride, 0, batch, grads, gSlice, gStride,
                        inputs, 0, xSlice, bOff, dW, 0, reduce);
            }
        }
    };

    /** dOut[n] transposed into gradsByPixel[n]: [pixel][output channel]. */
    private void byPixel(int n) {
        int pixels = outH * outW, src = n * outC * pixels, dst = n * pixels * outC;
        for (int k = 0; k < outC; k++) {
            for (int p = 0; p < pixels; p++) gradsByPixel[dst + p * outC + k] = dOut[src + k * pixels + p];
        }
    }

    /**
     * Taps (weight-gradient columns q = (c, r, s)) per register tile of weightByTaps: 15 vector
     * accumulators. conv2's 150 taps make 10 tiles, 5 per thread (with 12, its 13 tiles split 7 / 6).
     */
    private static final int TAPS = 15;

    /**
     * Item = one tile of dW: VL output channels k0.. (a vector's lanes) by 15 taps q0.. (the last
     * tile overlaps the one before and adds only its new taps). The mirror of forwardChannels: there
     * a vector of VL channels' weights met 12 broadcast input pixels; here a vector of VL channels'
     * output gradients at one pixel (gradsByPixel) meets the 15 taps' input values that pixel saw,
     * summed over every real output pixel of every image (no wide layout: conv2's backward by wide
     * rows also multiplied 4 dropped columns of every 14). Sums run over images, then pixels, in
     * order, whichever thread runs the tile.
     */
    private final Parallel.Task weightByTaps = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            float[] t = scratch(worker, TAPS * VL);
            for (int item = from; item < to; item++) {
                int k0 = item / qTiles * VL, first = item % qTiles * TAPS, q0 = Math.min(first, reduce - TAPS);
                tileTaps(batch * outH * outW, outW, outH, padW, xSlice, outC, gradsByPixel, k0, inputs,
                        bOff[q0], bOff[q0 + 1], bOff[q0 + 2], bOff[q0 + 3], bOff[q0 + 4], bOff[q0 + 5],
                        bOff[q0 + 6], bOff[q0 + 7], bOff[q0 + 8], bOff[q0 + 9], bOff[q0 + 10], bOff[q0 + 11],
                        bOff[q0 + 12], bOff[q0 + 13], bOff[q0 + 14], t);
                for (int i = first - q0; i < TAPS; i++) {
                    for (int l = 0; l < VL; l++) dW[(k0 + l) * reduce + q0 + i] += t[i * VL + l];
                }
            }
        }
    };

    /**
     * The 15-tap register tile, one flat loop over (image, output pixel) (a nested loop made C2 box
     * the accumulators): t[i * VL + l] = sum over steps of g[g0 + step * gStep + l] * x[pixel's
     * offset + o_i], where step = (n * outH + oy) * outW + ox and the pixel's offset is
     * n * xSlice + oy * padW + ox, the padded input's tap (0, 0, 0) for that output pixel.
     */
    private static void tileTaps(int steps, int outW, int outH, int padW, int xSlice, int gStep, float[] g, int g0,
                                 float[] x, int o0, int o1, int o2, int o3, int o4, int o5, int o6, int o7, int o8,
                                 int o9, int o10, int o11, int o12, int o13, int o14, float[] t) {
        FloatVector z = FloatVector.zero(Gemm.S);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z, c8 = z, c9 = z, c10 = z, c11 = z;
        FloatVector c12 = z, c13 = z, c14 = z;
        int gi = g0, image = 0, row = 0, ox = 0, oy = 0;
        for (int step = 0; step < steps; step++) {
            FloatVector gv = FloatVector.fromArray(Gemm.S, g, gi);
            int xi = row + ox;
            c0 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o0]), c0);
            c1 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o1]), c1);
            c2 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o2]), c2);
            c3 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o3]), c3);
            c4 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o4]), c4);
            c5 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o5]), c5);
            c6 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o6]), c6);
            c7 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o7]), c7);
            c8 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o8]), c8);
            c9 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o9]), c9);
            c10 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o10]), c10);
            c11 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o11]), c11);
            c12 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o12]), c12);
            c13 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o13]), c13);
            c14 = gv.fma(FloatVector.broadcast(Gemm.S, x[xi + o14]), c14);
            gi += gStep;
            if (++ox == outW) {
                ox = 0;
                row += padW;
                if (++oy == outH) { oy = 0; image += xSlice; row = image; }
            }
        }
        c0.intoArray(t, 0); c1.intoArray(t, VL); c2.intoArray(t, 2 * VL); c3.intoArray(t, 3 * VL);
        c4.intoArray(t, 4 * VL); c5.intoArray(t, 5 * VL); c6.intoArray(t, 6 * VL); c7.intoArray(t, 7 * VL);
        c8.intoArray(t, 8 * VL); c9.intoArray(t, 9 * VL); c10.intoArray(t, 10 * VL); c11.intoArray(t, 11 * VL);
        c12.intoArray(t, 12 * VL); c13.intoArray(t, 13 * VL); c14.intoArray(t, 14 * VL);
    }

    // ---- input gradient with images in vector lanes ------------------------------------------------

    /** Input channels per register tile of inputGradLanes. */
    private static final int CHANNEL_TILE = 6;

    /**
     * Stride 1. dIn[n, c, y, x] = sum over k and the taps (r, s) that reach it, oy = y + pad - r in
     * [0, outH) and ox = x + pad - s in [0, outW), of weight[k, c, r, s] * dOut[n, k, oy, ox]: only
     * those products, none with zeros. Lane l of a vector holds image g * VL + l of group g: the
     * output gradient is laid out so (gradsByLane, by laneRows), then each input pixel's sums are a
     * chain of vector FMAs, a broadcast weight times a vector of VL images' output gradients.
     */
    private void inputGradLanes() {
        int pixels = outH * outW;
        laneGroups = (batch + VL - 1) / VL;
        gradsByLane = floats(gradsByLane, laneGroups * outC * pixels * VL);
        Parallel.range(laneGroups * outC, (long) VL * pixels, laneRows);
        Parallel.range(laneGroups * inH, 2L * VL * inW * outC * reduce * pixels / (inH * inW), inputGradByLanes);
    }

    /**
     * Item (g, k): gradsByLane[g][k][p][l] = dOut[g * VL + l, k, p], zeros in the lanes past the
     * batch. Each item writes its own 64-byte lines (one pixel's VL lanes), so threads share none.
     */
    private final Parallel.Task laneRows = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            int pixels = outH * outW;
            for (int item = from; item < to; item++) {
                int g = item / outC, k = item % outC, dst = item * pixels * VL, images = Math.min(VL, batch - g * VL);
                if (images < VL) Arrays.fill(gradsByLane, dst, dst + pixels * VL, 0f);
                for (int l = 0; l < images; l++) {
                    int src = ((g * VL + l) * outC + k) * pixels;
                    for (int p = 0; p < pixels; p++) gradsByLane[dst + p * VL + l] = dOut[src + p];
                }
            }
        }
    };

    /**
     * Item (g, y): input row y of group g's images. For each pixel x and each tile of 6 input
     * channels (the last tile overlapping the one before, or repeating the last channel where there
     * are fewer than 6), tileLanes sums the products over k and the taps that reach (y, x), then each
     * lane's sum is added to its image's dIn. Items own whole rows, so no two threads add to one element.
     */
    private final Parallel.Task inputGradByLanes = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            int pixels = outH * outW, taps = kH * kW, cTiles = (inC + CHANNEL_TILE - 1) / CHANNEL_TILE, imageStride = inC * inH * inW;
            float[] t = scratch(worker, CHANNEL_TILE * VL);
            for (int item = from; item < to; item++) {
                int g = item / inH, y = item % inH, images = Math.min(VL, batch - g * VL);
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
                                weight, c0 * taps + rLo * kW + sLo, kW, reduce,
                                Math.min(1, last) * taps, Math.min(2, last) * taps, Math.min(3, last) * taps,
                                Math.min(4, last) * taps, Math.min(5, last) * taps, t);
                        for (int i = Math.max(0, first - c0); i < CHANNEL_TILE && c0 + i < inC; i++) {
                            int at = ((g * VL) * inC + c0 + i) * inH * inW + y * inW + x;
                            for (int l = 0; l < images; l++) dIn[at + l * imageStride] += t[i * VL + l];
                        }
                    }
                }
            }
        }
    };

    /**
     * The 6-channel register tile, one flat loop over (k, r, s): k in [0, outC), r and s over the
     * `rows` x `cols` taps that reach the pixel. t[i * VL + l] = sum of w[w0 + o_i + k * reduce +
     * r * kW + s] (channel i's weight, broadcast) * g[g0 + (k * pixels - r * outW - s) * VL + l] (the
     * output gradient that tap saw, VL images). Six independent sums keep the FMA unit busy.
     */
    private static void tileLanes(int steps, int rows, int cols, int outW, int pixels, float[] g, int g0,
                                  float[] w, int w0, int kW, int reduce, int o1, int o2, int o3, int o4, int o5, float[] t) {
        FloatVector z = FloatVector.zero(Gemm.S);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z;
        // Index steps: next s; next r (back to the first s); next k (back to the first r and s).
        int gNextR = (cols - 1) * VL - outW * VL, wNextR = kW - (cols - 1);
        int gNextK = (cols - 1) * VL + (rows - 1) * outW * VL + pixels * VL, wNextK = reduce - (cols - 1) - (rows - 1) * kW;
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

    private void setUpInputGradient(boolean direct) {
        int taps = kH * kW;
        aGrad = ints(aGrad, outC * taps);
        bGrad = ints(bGrad, outC * taps);
        if (direct) {
            // dInPadded[c, j] = sum over (k, r, s) of weight[k, c, r, s] * dOutWide[k, j - r * padW - s], j = y * padW + x:
            // one product over every j, q = (k, r, s); or (byTapRows) one per filter row r over j = r * padW + j',
            // j' < rowsLen, q = (k, s).
            lead = (kH - 1) * padW + (kW - 1);
            byTapRows = chooseTapRows(kH, padH);
            rowsLen = roundUp(outH * padW, VL);
            inWideLen = roundUp(Math.max(padH * padW, (kH - 1) * padW + rowsLen), VL);
            gradPlane = lead + inWideLen;
            gradSlice = outC * gradPlane;
            for (int k = 0, q = 0; k < outC; k++) {
                for (int r = 0; r < (byTapRows ? 1 : kH); r++) {
                    for (int s = 0; s < kW; s++, q++) {
                        aGrad[q] = k * reduce + r * kW + s;
                        bGrad[q] = k * gradPlane + lead - r * padW - s;
                    }
                }
            }
        } else {
            // dCol[q, p] = sum over k of weight[k, q] * dOut[k, p]
            for (int k = 0; k < outC; k++) {
                aGrad[k] = k * reduce;
                bGrad[k] = k * colsPad;
            }
        }
    }

    /**
     * Image n's input gradient as a correlation in the padded input's own wide layout: forward,
     * input position j = y * padW + x received weight[k, c, r, s] * dOut[k, oy, ox] from every output
     * (oy, ox) = (y - r, x - s); so with dOut[n, k] laid out wide (rows of padW, zeros in the columns
     * past outW, `lead` zeros before and zeros after), row q = (k, r, s) of the B operand is that
     * plane read from offset lead - r * padW - s: out-of-range (y - r, x - s) land on zeros, rows
     * wrapping included, as padW - outW = kW - 1. A(m = c, q) = weight[k, c, r, s].
     *
     * <p>Filter row r reaches only input rows y = oy + r, oy < outH, so where that saves enough
     * (chooseTapRows) the product runs once per r over those rows alone (j from r * padW, rowsLen
     * long; q = (k, s)), each added into the zeroed [inC, inWideLen] result: conv2's 10 of its 14
     * rows, where one product over every row multiplied 29 % zeros. The interior of the result is
     * then added into dIn[n]. Scratch: buf from `at`.
     */
    private void inputGradDirect(int n, float[] buf, int at) {
        int pixels = outH * outW, result = at + gradSlice;
        Arrays.fill(buf, at, byTapRows ? result + inC * inWideLen : result, 0f);  // the per-row products add up
        for (int k = 0; k < outC; k++) {
            int src = (n * outC + k) * pixels, dst = at + k * gradPlane + lead;
            for (int oy = 0; oy < outH; oy++) System.arraycopy(dOut, src + oy * outW, buf, dst + oy * padW, outW);
        }
        if (!byTapRows) {
            Gemm.shiftedRows(inC, inWideLen, outC * kH * kW, weight, 0, aGrad, kH * kW, buf, at, bGrad,
                    buf, result, inWideLen, false);
        } else {
            for (int r = 0; r < kH; r++) {
                Gemm.shiftedRows(inC, rowsLen, outC * kW, weight, r * kW, aGrad, kH * kW, buf, at, bGrad,
                        buf, result + r * padW, inWideLen, true);
            }
        }
        for (int c = 0; c < inC; c++) {
            int src = result + c * inWideLen + pad * padW + pad, dst = (n * inC + c) * inH * inW;
            Vec.addRows(buf, src, padW, dIn, dst, inW, inH, inW);
        }
    }

    /**
     * Item n = image n. dCol [reduce, colsPad] = weight^T [reduce, outC] . dOut[n] [outC, colsPad]
     * (dOut copied with a zero tail), then col2im: dCol[(c, r, s), (oy, ox)] is added to
     * dIn[n, c, oy * stride - pad + r, ox * stride - pad + s] where that is inside the image.
     */
    private final Parallel.Task inputGradIm2col = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            int pixels = outH * outW, dSize = outC * colsPad;
            float[] buf = scratch(worker, dSize + reduce * colsPad + VL);
            for (int n = from; n < to; n++) {
                for (int k = 0; k < outC; k++) {
                    System.arraycopy(dOut, (n * outC + k) * pixels, buf, k * colsPad, pixels);
                    Arrays.fill(buf, k * colsPad + pixels, (k + 1) * colsPad, 0f);
                }
                Gemm.shiftedRows(reduce, colsPad, outC, weight, 0, aGrad, 1, buf, 0, bGrad, buf, dSize, colsPad, false);
                for (int c = 0, q = 0; c < inC; c++) {
                    int plane = (n * inC + c) * inH * inW;
                    for (int r = 0; r < kH; r++) {
                        for (int s = 0; s < kW; s++, q++) {
                            int row = dSize + q * colsPad;
                            for (int oy = 0; oy < outH; oy++) {
                                int iy = oy * stride - pad + r;
                                if (iy < 0 || iy >= inH) continue;
                                for (int ox = 0; ox < outW; ox++) {
                                    int ix = ox * stride - pad + s;
                                    if (ix >= 0 && ix < inW) dIn[plane + iy * inW + ix] += buf[row + oy * outW + ox];
                                }
                            }
                        }
                    }
                }
            }
        }
    };
}
