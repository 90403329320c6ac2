package advtrain.backend.cpu;

import java.util.Arrays;

/**
 * He et al.'s option-A shortcut, as the copy it is: forward, every stride-th pixel of every
 * stride-th row of each input plane into the output plane `pad` channels further on, and zero
 * planes for the pad channels before and after; backward, the output gradient's planes added (or
 * written, with zeros between) back at those pixels. The reference backend runs it as a 1x1
 * convolution with 0/1 weights (autograd.ShortcutA): the same values, each x times 1 plus products
 * with 0, but for the sign of a zero; here there are no products. Items are planes, split over the
 * worker threads. One instance per calling thread; nothing allocated.
 */
final class Shortcut {
    private static final ThreadLocal<Shortcut> PER_THREAD = ThreadLocal.withInitial(Shortcut::new);

    static Shortcut forThisThread() { return PER_THREAD.get(); }

    private float[] from, to;
    private int channels, outChannels, height, width, outHeight, outWidth, stride, pad;
    private boolean fresh;

    private Shortcut() {}

    /** out [N, C + 2 pad, ceil(H / stride), ceil(W / stride)] from x [N, C, H, W]. */
    void forward(float[] x, float[] out, int batch, int channels, int height, int width, int stride, int pad) {
        set(x, out, channels, height, width, stride, pad, false);
        Parallel.range(batch * outChannels, outHeight * outWidth, forwardPlanes);
        from = to = null;
    }

    /**
     * inputGrad[n, c, stride y, stride x] += outGrad[n, c + pad, y, x]; with fresh, inputGrad is
     * written instead, zero at every other pixel (its old contents ignored).
     */
    void backward(float[] outGrad, float[] inputGrad, boolean fresh, int batch, int channels, int height, int width, int stride,
                  int pad) {
        set(outGrad, inputGrad, channels, height, width, stride, pad, fresh);
        Parallel.range(batch * channels, height * width, backwardPlanes);
        from = to = null;
    }

    private void set(float[] from, float[] to, int channels, int height, int width, int stride, int pad, boolean fresh) {
        this.from = from; this.to = to; this.channels = channels; this.height = height; this.width = width;
        this.stride = stride; this.pad = pad; this.fresh = fresh;
        outChannels = channels + 2 * pad;
        outHeight = (height + stride - 1) / stride;
        outWidth = (width + stride - 1) / stride;
    }

    /** Item = output plane (n, k): input channel k - pad subsampled, or zeros. */
    private final Parallel.Task forwardPlanes = new Parallel.Task() {
        @Override protected void run(int first, int last, int worker) {
            int outPlane = outHeight * outWidth;
            for (int p = first; p < last; p++) {
                int n = p / outChannels, c = p % outChannels - pad, o = p * outPlane;
                if (c < 0 || c >= channels) {
                    Arrays.fill(to, o, o + outPlane, 0f);
                    continue;
                }
                int in = (n * channels + c) * height * width;
                for (int y = 0; y < outHeight; y++) {
                    int row = in + y * stride * width;
                    for (int x = 0; x < outWidth; x++) to[o++] = from[row + x * stride];
                }
            }
        }
    };

    /** Item = input-gradient plane (n, c): output-gradient channel c + pad spread back to every stride-th pixel. */
    private final Parallel.Task backwardPlanes = new Parallel.Task() {
        @Override protected void run(int first, int last, int worker) {
            int plane = height * width;
            for (int p = first; p < last; p++) {
                int n = p / channels, c = p % channels, at = p * plane, g = (n * outChannels + c + pad) * outHeight * outWidth;
                if (fresh) Arrays.fill(to, at, at + plane, 0f);
                for (int y = 0; y < outHeight; y++) {
                    int row = at + y * stride * width;
                    for (int x = 0; x < outWidth; x++) to[row + x * stride] += from[g++];
                }
            }
        }
    };
}
