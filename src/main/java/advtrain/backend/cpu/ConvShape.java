package advtrain.backend.cpu;

import advtrain.tensor.Shape;

import java.util.Arrays;

/**
 * The sizes of the convolution in progress and the two layouts its kernels read the input in,
 * read from the (already checked) shapes without allocating. One per calling thread, shared by
 * its {@link ConvForward}, {@link ConvWeightGradient} and {@link ConvInputGradient}.
 *
 * <ul>
 *   <li><b>Padded</b> (stride 1): each image zero-padded into inChannels planes of paddedHeight x
 *       paddedWidth, then VL floats of slack (zeros; 2 VL at stride 2, see splitRows). Output
 *       pixel (oy, ox) reads tap (c, r, s) at c * paddedPlane + (oy + r) * paddedWidth + (ox + s):
 *       tap q's row of the im2col matrix is the padded image itself, read from offset {@code tapOffset[q]}, in the "wide" layout whose
 *       rows are paddedWidth long (j = oy * paddedWidth + ox; the columns past outWidth are wasted).
 *       <br>With a stride st > 1, each zero-padded channel is split into st * st phase planes:
 *       phase (a, b) holds the padded pixels (i * st + a, j * st + b) at (i, j), so its planes
 *       are paddedHeight x paddedWidth = ceil(h / st) x ceil(w / st) of the padded h x w. Output
 *       pixel (oy, ox) reads padded pixel (oy * st + r, ox * st + s), which is pixel
 *       (oy + r / st, ox + s / st) of phase (r % st, s % st): again tap q's row is one plane read
 *       from tapOffset[q] in the wide layout, and the stride-1 kernels run unchanged.</li>
 *   <li><b>im2col</b> (any stride): row q = (c, r, s) of the matrix, column p = oy * outWidth + ox,
 *       holds input[c, oy * stride - pad + r, ox * stride - pad + s]; rows are pixelsPadded long,
 *       and tap q's row starts at {@code tapOffset[q]}.</li>
 * </ul>
 */
final class ConvShape {
    private static final int VL = Gemm.VL;

    int batch, inChannels, inHeight, inWidth, outChannels, kernelHeight, kernelWidth, stride, pad, outHeight, outWidth;
    /** Taps per output channel, inChannels * kernelHeight * kernelWidth: the products' reduction length. */
    int taps;
    /** Output pixels per plane, outHeight * outWidth. */
    int pixels;
    /**
     * Padded layout: planes of paddedHeight x paddedWidth (phase planes with a stride), stride² of
     * them per channel; one image's floats, slack included (paddedImage).
     */
    int paddedHeight, paddedWidth, paddedPlane, paddedImage;
    /** Wide output rows: (outHeight - 1) * paddedWidth + outWidth, rounded up to whole vectors. */
    int wideLength;
    /** im2col: output pixels rounded up to whole vectors (a row of the matrix); one image's matrix. */
    int pixelsPadded, im2colImage;
    /** Where tap q = (c, r, s) starts: in the padded image (padded layout) or in the im2col matrix. */
    int[] tapOffset = new int[0];
    /** Whether tapOffset is laid out for the padded input (else for im2col). */
    boolean padded;

    /** Reads the sizes and lays out tapOffset for the padded input (direct) or the im2col matrix. */
    void set(Shape input, Shape weights, int stride, int padding, boolean direct) {
        set(input.dim(0), input.dim(1), input.dim(2), input.dim(3), weights.dim(0), weights.dim(2), weights.dim(3), stride, padding, direct);
    }

    /** The same from the sizes: input [batch, inChannels, inHeight, inWidth], weights [outChannels, inChannels, kernelHeight, kernelWidth]. */
    void set(int batch, int inChannels, int inHeight, int inWidth, int outChannels, int kernelHeight, int kernelWidth,
             int stride, int padding, boolean direct) {
        this.batch = batch; this.inChannels = inChannels; this.inHeight = inHeight; this.inWidth = inWidth;
        this.outChannels = outChannels; this.kernelHeight = kernelHeight; this.kernelWidth = kernelWidth;
        this.stride = stride; pad = padding;
        outHeight = (inHeight + 2 * pad - kernelHeight) / stride + 1;
        outWidth = (inWidth + 2 * pad - kernelWidth) / stride + 1;
        taps = inChannels * kernelHeight * kernelWidth;
        pixels = outHeight * outWidth;
        padded = direct;
        if (direct) {
            paddedHeight = (inHeight + 2 * pad + stride - 1) / stride; paddedWidth = (inWidth + 2 * pad + stride - 1) / stride;
            paddedPlane = paddedHeight * paddedWidth;
            paddedImage = inChannels * stride * stride * paddedPlane + slack(stride, VL);
            wideLength = Gemm.roundUp((outHeight - 1) * paddedWidth + outWidth, VL);
        }
        pixelsPadded = Gemm.roundUp(pixels, VL);
        im2colImage = taps * pixelsPadded;
        if (tapOffset.length < taps) tapOffset = new int[taps];
        for (int c = 0, q = 0; c < inChannels; c++) {
            for (int r = 0; r < kernelHeight; r++) {
                for (int s = 0; s < kernelWidth; s++, q++) {
                    int phase = (r % stride) * stride + s % stride;
                    tapOffset[q] = direct ? (c * stride * stride + phase) * paddedPlane + r / stride * paddedWidth + s / stride : q * pixelsPadded;
                }
            }
        }
    }

    /** Floats of zeros after a padded image's planes: 2 vectors at stride 2 (splitRows splits rows there), else 1. */
    static int slack(int stride, int vectorLength) { return stride == 2 ? 2 * vectorLength : vectorLength; }

    /** Image n of `input`, zero-padded into dst from dstBase (the padded layout, in phase planes with a stride). */
    void padImage(float[] input, int n, float[] dst, int dstBase) {
        if (stride == 1) padPlanes(input, n * inChannels * inHeight * inWidth, inChannels, inHeight, inWidth, pad, pad, dst, dstBase);
        else padPhases(input, n * inChannels * inHeight * inWidth, dst, dstBase);
    }

    /**
     * Stride > 1: each channel's padded plane as stride² phase planes. Phase (a, b) row i, column j
     * is padded pixel (i * stride + a, j * stride + b), input pixel (that - pad), or 0 outside the image.
     * Phases that no filter tap reads (a or b past the filter) are left as they are: ResNet's 1x1
     * stride-2 shortcut reads one phase of four.
     */
    private void padPhases(float[] src, int srcBase, float[] dst, int dstBase) {
        if (stride == 2 && (inWidth % (2 * VL) == 0 || inWidth == VL && inHeight % 2 == 0)) {
            splitRows(src, srcBase, dst, dstBase);
            return;
        }
        int ph = paddedHeight, pw = paddedWidth, plane = paddedPlane;
        for (int c = 0, to = dstBase; c < inChannels; c++) {
            int from = srcBase + c * inHeight * inWidth;
            for (int a = 0; a < stride; a++) {
                for (int b = 0; b < stride; b++, to += plane) {
                    if (a >= kernelHeight || b >= kernelWidth) continue;  // a phase no tap reads (a 1x1 filter reads only (0, 0))
                    for (int i = 0; i < ph; i++) {
                        int y = i * stride + a - pad, row = to + i * pw;
                        if (y < 0 || y >= inHeight) { Arrays.fill(dst, row, row + pw, 0f); continue; }
                        for (int j = 0; j < pw; j++) {
                            int x = j * stride + b - pad;
                            dst[row + j] = x >= 0 && x < inWidth ? src[from + y * inWidth + x] : 0f;
                        }
                    }
                }
            }
        }
        int end = dstBase + inChannels * stride * stride * plane;
        Arrays.fill(dst, end, end + slack(stride, VL), 0f);
    }

    /**
     * padPhases at stride 2 for rows a multiple of 2 VL floats long, or exactly VL: the channel's 4
     * phase planes zero-filled, then each input row split into its even and odd columns by vector shuffles (Vec.splitEvenOdd) and
     * stored into the row of the two phases it belongs to: input pixel (y, x) is padded pixel
     * (y + pad, x + pad), phase ((y + pad) % 2, (x + pad) % 2), row (y + pad) / 2, column (x + pad) / 2.
     * Rows of one vector are split two at a time (rows y and y + 1 lie side by side in the input),
     * through the image's slack (2 VL floats after the planes, zeroed at the end): workers pad their
     * images into their own scratch at once, so no buffer of this object's can serve. ResNet's
     * stride-2 layers, 128 images on one thread: 1.95 -> 0.51 ms (16 x 32 x 32), 1.23 -> 0.74
     * (32 x 16 x 16).
     */
    private void splitRows(float[] src, int srcBase, float[] dst, int dstBase) {
        int W = inWidth, half = W / 2, pw = paddedWidth, plane = paddedPlane;
        int evenPhase = pad % 2, oddPhase = (pad + 1) % 2;            // the column phase of even and of odd x
        int evenAt = pad / 2, oddAt = (pad + 1) / 2;                  // the column there of x = 0 and x = 1
        boolean pairs = W == VL;                                      // two rows per split
        int split = dstBase + inChannels * 4 * plane;
        for (int c = 0; c < inChannels; c++) {
            int from = srcBase + c * inHeight * W, planes = dstBase + c * 4 * plane;
            Arrays.fill(dst, planes, planes + 4 * plane, 0f);
            for (int y = 0; y < inHeight; y += pairs ? 2 : 1) {
                for (int r = 0; r < (pairs ? 2 : 1); r++) {
                    int py = y + r + pad, rowAt = planes + (py % 2) * 2 * plane + py / 2 * pw;
                    int evens = rowAt + evenPhase * plane + evenAt, odds = rowAt + oddPhase * plane + oddAt;
                    if (!pairs) {
                        for (int x = 0; x < W; x += 2 * VL) Vec.splitEvenOdd(src, from + y * W + x, dst, evens + x / 2, odds + x / 2);
                        continue;
                    }
                    if (r == 0) Vec.splitEvenOdd(src, from + y * W, dst, split, split + VL);  // evens of rows y, y + 1, then odds
                    System.arraycopy(dst, split + r * half, dst, evens, half);
                    System.arraycopy(dst, split + VL + r * half, dst, odds, half);
                }
            }
        }
        int end = dstBase + inChannels * 4 * plane;
        Arrays.fill(dst, end, end + 2 * VL, 0f);
    }

    /** Zero-pads `planes` planes of h x w from src into planes of (h + 2 padY) x (w + 2 padX), then VL zeros. */
    private static void padPlanes(float[] src, int srcBase, int planes, int h, int w, int padY, int padX, float[] dst, int dstBase) {
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
     * The im2col matrix of image n of `input` into dst from dstBase: row q = (c, r, s), column
     * p = oy * outWidth + ox holds input[n, c, oy * stride - pad + r, ox * stride - pad + s] (0
     * outside the image); columns from pixels to pixelsPadded are 0.
     */
    void im2col(float[] input, int n, float[] dst, int dstBase) {
        for (int c = 0, q = 0; c < inChannels; c++) {
            int plane = (n * inChannels + c) * inHeight * inWidth;
            for (int r = 0; r < kernelHeight; r++) {
                for (int s = 0; s < kernelWidth; s++, q++) {
                    int row = dstBase + q * pixelsPadded;
                    for (int oy = 0; oy < outHeight; oy++) {
                        int iy = oy * stride - pad + r, to = row + oy * outWidth;
                        if (iy < 0 || iy >= inHeight) { Arrays.fill(dst, to, to + outWidth, 0f); continue; }
                        for (int ox = 0; ox < outWidth; ox++) {
                            int ix = ox * stride - pad + s;
                            dst[to + ox] = ix >= 0 && ix < inWidth ? input[plane + iy * inWidth + ix] : 0f;
                        }
                    }
                    Arrays.fill(dst, row + pixels, row + pixelsPadded, 0f);
                }
            }
        }
    }

    /**
     * Image n of the output gradient laid out like the direct forward's wide result at dst from
     * `at`: outChannels rows of wideLength floats, output row oy at oy * paddedWidth, zeros in the
     * dropped columns and at the end.
     */
    void wideRows(float[] outputGrad, int n, float[] dst, int at) {
        Arrays.fill(dst, at, at + outChannels * wideLength, 0f);
        for (int k = 0; k < outChannels; k++) {
            int src = (n * outChannels + k) * pixels, row = at + k * wideLength;
            for (int oy = 0; oy < outHeight; oy++) System.arraycopy(outputGrad, src + oy * outWidth, dst, row + oy * paddedWidth, outWidth);
        }
    }
}
