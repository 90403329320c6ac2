package advtrain.backend.cpu;

/**
 * Max pooling, forward and backward, parallel over planes (image, channel). The 2x2 stride-2 case
 * of the seed has its own loop; other kernel sizes and strides take the general one. Both follow
 * the reference's rules: a NaN in a window wins, and the gradient goes to the first maximum.
 */
final class Pool {
    private static final ThreadLocal<Pool> PER_THREAD = ThreadLocal.withInitial(Pool::new);

    static Pool forThisThread() { return PER_THREAD.get(); }

    private int inH, inW, outH, outW, kernel, stride;
    private float[] in, out, dOut, dIn;

    private Pool() {}

    void forward(float[] in, float[] out, int planes, int inH, int inW, int outH, int outW, int kernel, int stride) {
        set(in, inH, inW, outH, outW, kernel, stride);
        this.out = out;
        Parallel.range(planes, (long) outH * outW * kernel * kernel, forwardPlanes);
        this.in = this.out = null;
    }

    void backward(float[] in, float[] dOut, float[] dIn, int planes, int inH, int inW, int outH, int outW, int kernel, int stride) {
        set(in, inH, inW, outH, outW, kernel, stride);
        this.dOut = dOut; this.dIn = dIn;
        Parallel.range(planes, 2L * outH * outW * kernel * kernel, backwardPlanes);
        this.in = this.dOut = this.dIn = null;
    }

    private void set(float[] in, int inH, int inW, int outH, int outW, int kernel, int stride) {
        this.in = in; this.inH = inH; this.inW = inW; this.outH = outH; this.outW = outW;
        this.kernel = kernel; this.stride = stride;
    }

    /**
     * Item p = plane p: out[p, oy, ox] = the largest of in[p, oy*stride + r, ox*stride + s] over the
     * kernel x kernel window (NaN if the window holds one).
     */
    private final Parallel.Task forwardPlanes = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int p = from; p < to; p++) {
                int inBase = p * inH * inW, outBase = p * outH * outW;
                if (kernel == 2 && stride == 2) {
                    for (int oy = 0; oy < outH; oy++) {
                        int row0 = inBase + 2 * oy * inW, row1 = row0 + inW, o = outBase + oy * outW;
                        for (int ox = 0; ox < outW; ox++) {
                            int i = 2 * ox;
                            out[o + ox] = Math.max(Math.max(in[row0 + i], in[row0 + i + 1]), Math.max(in[row1 + i], in[row1 + i + 1]));
                        }
                    }
                    continue;
                }
                for (int oy = 0; oy < outH; oy++) {
                    for (int ox = 0; ox < outW; ox++) {
                        float best = Float.NEGATIVE_INFINITY;
                        for (int r = 0; r < kernel; r++) {
                            int row = inBase + (oy * stride + r) * inW + ox * stride;
                            for (int s = 0; s < kernel; s++) {
                                float v = in[row + s];
                                if (v > best || Float.isNaN(v)) best = v;
                            }
                        }
                        out[outBase + oy * outW + ox] = best;
                    }
                }
            }
        }
    };

    /**
     * Item p = plane p: for each output (oy, ox), dIn at the window's first maximum (the first NaN,
     * if any; scanning rows, then columns) gets dOut[p, oy, ox] added.
     */
    private final Parallel.Task backwardPlanes = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int p = from; p < to; p++) {
                int inBase = p * inH * inW, outBase = p * outH * outW;
                if (kernel == 2 && stride == 2) {
                    for (int oy = 0; oy < outH; oy++) {
                        int row0 = inBase + 2 * oy * inW, row1 = row0 + inW, o = outBase + oy * outW;
                        for (int ox = 0; ox < outW; ox++) {
                            int i = row0 + 2 * ox, best = i;
                            float bestValue = in[i];
                            best = better(in[i + 1], bestValue) ? i + 1 : best;
                            bestValue = in[best];
                            best = better(in[row1 + 2 * ox], bestValue) ? row1 + 2 * ox : best;
                            bestValue = in[best];
                            best = better(in[row1 + 2 * ox + 1], bestValue) ? row1 + 2 * ox + 1 : best;
                            dIn[best] += dOut[o + ox];
                        }
                    }
                    continue;
                }
                for (int oy = 0; oy < outH; oy++) {
                    for (int ox = 0; ox < outW; ox++) {
                        int best = inBase + oy * stride * inW + ox * stride;
                        for (int r = 0; r < kernel; r++) {
                            int row = inBase + (oy * stride + r) * inW + ox * stride;
                            for (int s = 0; s < kernel; s++) if (better(in[row + s], in[best])) best = row + s;
                        }
                        dIn[best] += dOut[outBase + oy * outW + ox];
                    }
                }
            }
        }
    };

    /** Whether v replaces the best so far: larger, or the first NaN. */
    private static boolean better(float v, float best) {
        return v > best || (Float.isNaN(v) && !Float.isNaN(best));
    }
}
