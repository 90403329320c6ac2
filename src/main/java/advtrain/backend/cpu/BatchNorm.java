package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * Batch normalisation, forward and backward, parallel over channels: a thread takes whole channels
 * (each the N planes (n, c) of H * W floats) and makes every pass over a channel while its planes
 * are in its cache. How it differs from the reference's loops (same results within float rounding):
 * <ul>
 *   <li>The batch's statistics in one pass, not two: the sums of d = x - k and of d^2 with k the
 *       channel's first element, then mean = k + sum d / M and var = sum d^2 / M - (sum d / M)^2.
 *       Shifting by a value of the channel keeps the subtraction from cancelling digits (the
 *       textbook one-pass formula, k = 0, loses them when the mean is large next to the spread).</li>
 *   <li>Sums run in {@link Gemm#VL} float lanes over a few thousand elements (whole planes), whose
 *       totals are then added in double.</li>
 *   <li>The input gradient is folded into one multiply-add per term, dx += p * dy - q * (x - mean) + r,
 *       with p, q and r computed once per channel; in evaluation mode (q = r = 0) x is not read.</li>
 * </ul>
 * The arguments of the running call sit in fields, and the loop bodies are reusable task objects,
 * so a call allocates nothing.
 */
final class BatchNorm {
    private static final ThreadLocal<BatchNorm> PER_THREAD = ThreadLocal.withInitial(BatchNorm::new);
    private static final int VL = Gemm.VL;
    /**
     * Float lanes carry a channel's sums over this many elements (whole planes) before their total
     * goes into a double: a few hundred additions per lane at most, and a plane of 64 (the last
     * ResNet-20 stage) does not pay for a lane-by-lane reduction of its own.
     */
    private static final int FLUSH = 4096;

    static BatchNorm forThisThread() { return PER_THREAD.get(); }

    private float[] x, gamma, beta, mean, var, out, dy, dx, dGamma, dBeta;
    private float eps;
    private boolean batchStats;
    private int batch, channels, plane;

    private BatchNorm() {}

    void forward(float[] x, float[] gamma, float[] beta, float[] mean, float[] var, float eps, boolean batchStats, float[] out,
                 int batch, int channels, int plane) {
        set(x, gamma, mean, var, eps, batchStats, batch, channels, plane);
        this.beta = beta;
        this.out = out;
        Parallel.range(channels, (batchStats ? 6L : 3L) * batch * plane, forwardChannels);
        clear();
    }

    void backward(float[] x, float[] gamma, float[] mean, float[] var, float eps, boolean batchStats, float[] dy, float[] dx,
                  float[] dGamma, float[] dBeta, int batch, int channels, int plane) {
        set(x, gamma, mean, var, eps, batchStats, batch, channels, plane);
        this.dy = dy; this.dx = dx; this.dGamma = dGamma; this.dBeta = dBeta;
        Parallel.range(channels, 9L * batch * plane, backwardChannels);
        clear();
    }

    private void set(float[] x, float[] gamma, float[] mean, float[] var, float eps, boolean batchStats,
                     int batch, int channels, int plane) {
        this.x = x; this.gamma = gamma; this.mean = mean; this.var = var; this.eps = eps; this.batchStats = batchStats;
        this.batch = batch; this.channels = channels; this.plane = plane;
    }

    private void clear() { x = gamma = beta = mean = var = out = dy = dx = dGamma = dBeta = null; }

    private float invStd(int c) { return (float) (1.0 / Math.sqrt((double) var[c] + eps)); }

    /** Item c = channel c: its statistics (with batchStats), then out = (x - mean) * (gamma * invStd) + beta. */
    private final Parallel.Task forwardChannels = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int c = from; c < to; c++) {
                if (batchStats) statistics(c);
                float mu = mean[c], scale = (gamma == null ? 1f : gamma[c]) * invStd(c), shift = beta == null ? 0f : beta[c];
                FloatVector muV = FloatVector.broadcast(Gemm.S, mu), scaleV = FloatVector.broadcast(Gemm.S, scale),
                        shiftV = FloatVector.broadcast(Gemm.S, shift);
                for (int n = 0; n < batch; n++) {
                    int off = (n * channels + c) * plane, i = 0;
                    for (int whole = plane - plane % VL; i < whole; i += VL) {
                        FloatVector.fromArray(Gemm.S, x, off + i).sub(muV).fma(scaleV, shiftV).intoArray(out, off + i);
                    }
                    for (; i < plane; i++) out[off + i] = Math.fma(x[off + i] - mu, scale, shift);
                }
            }
        }
    };

    /** mean[c] and var[c] (biased) from one pass over the channel, shifted by its first element. */
    private void statistics(int c) {
        float k = x[c * plane];
        FloatVector kV = FloatVector.broadcast(Gemm.S, k), s1 = FloatVector.zero(Gemm.S), s2 = s1;
        double sum = 0, squares = 0;
        int pending = 0;
        for (int n = 0; n < batch; n++) {
            int off = (n * channels + c) * plane, i = 0;
            for (int whole = plane - plane % VL; i < whole; i += VL) {
                FloatVector d = FloatVector.fromArray(Gemm.S, x, off + i).sub(kV);
                s1 = s1.add(d);
                s2 = d.fma(d, s2);
            }
            for (; i < plane; i++) {
                double d = x[off + i] - k;
                sum += d;
                squares += d * d;
            }
            pending += plane;
            if (pending >= FLUSH || n == batch - 1) {
                sum += lanes(s1);
                squares += lanes(s2);
                s1 = s2 = FloatVector.zero(Gemm.S);
                pending = 0;
            }
        }
        double count = (double) batch * plane, shiftedMean = sum / count;
        mean[c] = (float) (k + shiftedMean);
        var[c] = (float) Math.max(0.0, squares / count - shiftedMean * shiftedMean);
    }

    /** The sum of a vector's lanes, one by one: reduceLanes is not compiled to vector code on every JDK 17 build. */
    private static double lanes(FloatVector v) {
        float total = 0;
        for (int lane = 0; lane < VL; lane++) total += v.lane(lane);
        return total;
    }

    /**
     * Item c = channel c: the sums of dy and dy * (x - mean) (one pass), the parameter gradients,
     * then dx += p * dy - q * (x - mean) + r with p = gamma * invStd and, with batchStats,
     * q = p * invStd * sum(dy * xhat) / M and r = -p * sum(dy) / M (the terms through the batch's
     * mean and variance; zero in evaluation mode).
     */
    private final Parallel.Task backwardChannels = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int c = from; c < to; c++) {
                float mu = mean[c], invStd = invStd(c);
                FloatVector muV = FloatVector.broadcast(Gemm.S, mu);
                boolean sums = batchStats || dGamma != null || dBeta != null;
                double gradSum = 0, gradDotCentered = 0;
                FloatVector s1 = FloatVector.zero(Gemm.S), s2 = s1;
                int pending = 0;
                for (int n = 0; n < batch && sums; n++) {
                    int off = (n * channels + c) * plane, i = 0;
                    for (int whole = plane - plane % VL; i < whole; i += VL) {
                        FloatVector g = FloatVector.fromArray(Gemm.S, dy, off + i);
                        s1 = s1.add(g);
                        s2 = g.fma(FloatVector.fromArray(Gemm.S, x, off + i).sub(muV), s2);
                    }
                    for (; i < plane; i++) {
                        gradSum += dy[off + i];
                        gradDotCentered += dy[off + i] * (x[off + i] - mu);
                    }
                    pending += plane;
                    if (pending >= FLUSH || n == batch - 1) {
                        gradSum += lanes(s1);
                        gradDotCentered += lanes(s2);
                        s1 = s2 = FloatVector.zero(Gemm.S);
                        pending = 0;
                    }
                }
                double gradDotXhat = gradDotCentered * invStd;
                if (dBeta != null) dBeta[c] += (float) gradSum;
                if (dGamma != null) dGamma[c] += (float) gradDotXhat;
                if (dx != null) inputGradient(c, mu, invStd, gradSum, gradDotXhat);
            }
        }
    };

    private void inputGradient(int c, float mu, float invStd, double gradSum, double gradDotXhat) {
        double count = (double) batch * plane;
        float p = (gamma == null ? 1f : gamma[c]) * invStd;
        float q = batchStats ? (float) (p * invStd * gradDotXhat / count) : 0f, r = batchStats ? (float) (-p * gradSum / count) : 0f;
        FloatVector pV = FloatVector.broadcast(Gemm.S, p), minusQ = FloatVector.broadcast(Gemm.S, -q),
                rV = FloatVector.broadcast(Gemm.S, r), muV = FloatVector.broadcast(Gemm.S, mu);
        for (int n = 0; n < batch; n++) {
            int off = (n * channels + c) * plane, i = 0, whole = plane - plane % VL;
            if (batchStats) {
                for (; i < whole; i += VL) {
                    FloatVector centered = FloatVector.fromArray(Gemm.S, x, off + i).sub(muV);
                    FloatVector step = FloatVector.fromArray(Gemm.S, dy, off + i).fma(pV, centered.fma(minusQ, rV));
                    FloatVector.fromArray(Gemm.S, dx, off + i).add(step).intoArray(dx, off + i);
                }
            } else {
                for (; i < whole; i += VL) {
                    FloatVector.fromArray(Gemm.S, dy, off + i).fma(pV, FloatVector.fromArray(Gemm.S, dx, off + i)).intoArray(dx, off + i);
                }
            }
            for (; i < plane; i++) dx[off + i] += Math.fma(dy[off + i], p, Math.fma(x[off + i] - mu, -q, r));
        }
    }
}
