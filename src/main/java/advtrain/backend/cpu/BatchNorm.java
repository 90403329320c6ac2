package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

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
 *   <li>A residual block's batch norm, sum and ReLU run as one pass ({@link #forward} with a
 *       residual and relu; the backward pass with the output as a mask): the plain version is three
 *       kernels, each reading and writing the whole activation.</li>
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

    private float[] x, gamma, beta, mean, var, out, residual, dy, dx, dGamma, dBeta;
    private float eps;
    private boolean batchStats, relu;
    /** Backward: whether dx holds a gradient to add to (true), or nothing yet and is written (false). */
    private boolean addToDx;
    private int batch, channels, plane;
    /** Per worker thread: the two sums of the channel it is on, and two vectors' worth of partial sums. */
    private final double[][] sums = new double[Parallel.threads()][2];
    private final float[][] lanes = new float[Parallel.threads()][2 * VL];

    private BatchNorm() {}

    /**
     * out = batchNorm(x), or with a residual (same shape as x; null: none) and relu:
     * out = relu(batchNorm(x) + residual), each element rounded as the three kernels round it.
     */
    void forward(float[] x, float[] gamma, float[] beta, float[] mean, float[] var, float eps, boolean batchStats,
                 float[] residual, boolean relu, float[] out, int batch, int channels, int plane) {
        set(x, gamma, mean, var, eps, batchStats, batch, channels, plane);
        this.beta = beta; this.residual = residual; this.relu = relu;
        this.out = out;
        Parallel.range(channels, (batchStats ? 6L : 3L) * batch * plane, forwardChannels);
        clear();
    }

    /**
     * dx += the input gradient (addToDx), or dx = it (dx's old contents ignored: no fill, no read of
     * zeros). With reluOut (the output of {@link #forward} with relu; null: none), dy is first
     * zeroed in place where reluOut is not positive, in the pass that sums it: dy then holds the
     * gradient of the sum before the ReLU, which is the residual's.
     */
    void backward(float[] x, float[] gamma, float[] mean, float[] var, float eps, boolean batchStats, float[] reluOut,
                  float[] dy, float[] dx, boolean addToDx, float[] dGamma, float[] dBeta, int batch, int channels, int plane) {
        set(x, gamma, mean, var, eps, batchStats, batch, channels, plane);
        this.out = reluOut; this.dy = dy; this.dx = dx; this.addToDx = addToDx; this.dGamma = dGamma; this.dBeta = dBeta;
        Parallel.range(channels, 9L * batch * plane, backwardChannels);
        clear();
    }

    private void set(float[] x, float[] gamma, float[] mean, float[] var, float eps, boolean batchStats,
                     int batch, int channels, int plane) {
        this.x = x; this.gamma = gamma; this.mean = mean; this.var = var; this.eps = eps; this.batchStats = batchStats;
        this.batch = batch; this.channels = channels; this.plane = plane;
    }

    private void clear() { x = gamma = beta = mean = var = out = residual = dy = dx = dGamma = dBeta = null; }

    private float invStd(int c) { return invStd(var[c], eps); }

    /** 1 / sqrt(var + eps), rounded once from double: the evaluation-mode scale is gamma times this. */
    static float invStd(float var, float eps) { return (float) (1.0 / Math.sqrt((double) var + eps)); }

    // The vector loops are small static methods over arrays and offsets, as in Vec: inside the large
    // task bodies C2 did not inline the Vector API calls and boxed every vector (6 MB per call).

    /** Item c = channel c: its statistics (with batchStats), then out = (x - mean) * (gamma * invStd) + beta. */
    private final Parallel.Task forwardChannels = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int c = from; c < to; c++) {
                if (batchStats) statistics(c, sums[worker], lanes[worker]);
                float mu = mean[c], scale = (gamma == null ? 1f : gamma[c]) * invStd(c), shift = beta == null ? 0f : beta[c];
                for (int n = 0; n < batch; n++) {
                    int off = (n * channels + c) * plane;
                    if (residual == null && !relu) normalise(x, out, off, plane, mu, scale, shift);
                    else normaliseAddRelu(x, residual, relu, out, off, plane, mu, scale, shift);
                }
            }
        }
    };

    /** mean[c] and var[c] (biased) from one pass over the channel, shifted by its first element. */
    private void statistics(int c, double[] total, float[] partial) {
        float k = x[c * plane];
        total[0] = total[1] = 0;
        for (int block = 0, planes = planesPerFlush(); block < batch; block += planes) {
            shiftedSums(x, (block * channels + c) * plane, channels * plane, Math.min(planes, batch - block), plane, k, total, partial);
        }
        double count = (double) batch * plane, shiftedMean = total[0] / count;
        mean[c] = (float) (k + shiftedMean);
        var[c] = (float) Math.max(0.0, total[1] / count - shiftedMean * shiftedMean);
    }

    /** How many planes the float lanes add up before their totals go into a double (FLUSH elements). */
    private int planesPerFlush() { return Math.max(1, FLUSH / Math.max(1, plane)); }

    /**
     * Item c = channel c: the sums of dy and dy * (x - mean) (one pass), the parameter gradients,
     * then dx += p * dy - q * (x - mean) + r (or dx = ..., without addToDx) with p = gamma * invStd and, with batchStats,
     * q = p * invStd * sum(dy * xhat) / M and r = -p * sum(dy) / M (the terms through the batch's
     * mean and variance; zero in evaluation mode).
     */
    private final Parallel.Task backwardChannels = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            double[] total = sums[worker];
            for (int c = from; c < to; c++) {
                float mu = mean[c], invStd = invStd(c);
                total[0] = total[1] = 0;
                if (batchStats || dGamma != null || dBeta != null || out != null) {
                    for (int block = 0, planes = planesPerFlush(); block < batch; block += planes) {
                        gradientSums(dy, out, x, (block * channels + c) * plane, channels * plane, Math.min(planes, batch - block), plane,
                                mu, total, lanes[worker]);
                    }
                }
                double gradSum = total[0], gradDotXhat = total[1] * invStd, count = (double) batch * plane;
                if (dBeta != null) dBeta[c] += (float) gradSum;
                if (dGamma != null) dGamma[c] += (float) gradDotXhat;
                if (dx == null) continue;
                float p = (gamma == null ? 1f : gamma[c]) * invStd;
                float q = batchStats ? (float) (p * invStd * gradDotXhat / count) : 0f, r = batchStats ? (float) (-p * gradSum / count) : 0f;
                for (int n = 0; n < batch; n++) inputGradient(dy, x, dx, addToDx, (n * channels + c) * plane, plane, mu, p, q, r);
            }
        }
    };

    /** out[i] = (x[i] - mu) * scale + shift over [off, off + len). */
    private static void normalise(float[] x, float[] out, int off, int len, float mu, float scale, float shift) {
        FloatVector muV = FloatVector.broadcast(Gemm.S, mu), scaleV = FloatVector.broadcast(Gemm.S, scale),
                shiftV = FloatVector.broadcast(Gemm.S, shift);
        int i = 0;
        for (int whole = len - len % VL; i < whole; i += VL) {
            FloatVector.fromArray(Gemm.S, x, off + i).sub(muV).fma(scaleV, shiftV).intoArray(out, off + i);
        }
        for (; i < len; i++) out[off + i] = Math.fma(x[off + i] - mu, scale, shift);
    }

    /**
     * out[i] = relu((x[i] - mu) * scale + shift + residual[i]) over [off, off + len), the residual
     * only where given, the ReLU (x > 0 ? x : 0, as {@link Vec#relu}) only with relu.
     */
    private static void normaliseAddRelu(float[] x, float[] residual, boolean relu, float[] out, int off, int len, float mu,
                                         float scale, float shift) {
        FloatVector muV = FloatVector.broadcast(Gemm.S, mu), scaleV = FloatVector.broadcast(Gemm.S, scale),
                shiftV = FloatVector.broadcast(Gemm.S, shift), zero = FloatVector.zero(Gemm.S);
        int i = 0;
        for (int whole = len - len % VL; i < whole; i += VL) {
            FloatVector v = FloatVector.fromArray(Gemm.S, x, off + i).sub(muV).fma(scaleV, shiftV);
            if (residual != null) v = v.add(FloatVector.fromArray(Gemm.S, residual, off + i));
            if (relu) v = zero.blend(v, v.compare(VectorOperators.GT, 0f));
            v.intoArray(out, off + i);
        }
        for (; i < len; i++) {
            float v = Math.fma(x[off + i] - mu, scale, shift);
            if (residual != null) v += residual[off + i];
            out[off + i] = relu && !(v > 0) ? 0f : v;
        }
    }

    /**
     * total[0] += sum of d, total[1] += sum of d^2, d = x - k, over planes of len floats, stride apart.
     * The lanes' partial sums live in lanes[0 .. 2 VL) between planes: a vector carried through the
     * two nested loops was boxed on every step.
     */
    private static void shiftedSums(float[] x, int off, int stride, int planes, int len, float k, double[] total, float[] lanes) {
        java.util.Arrays.fill(lanes, 0f);
        double tail1 = 0, tail2 = 0;
        for (int plane = 0; plane < planes; plane++, off += stride) {
            shiftedPlaneSums(x, off, len, k, lanes);
            for (int i = len - len % VL; i < len; i++) {
                double d = x[off + i] - k;
                tail1 += d;
                tail2 += d * d;
            }
        }
        total[0] += tail1 + laneSum(lanes, 0);
        total[1] += tail2 + laneSum(lanes, VL);
    }

    /** lanes[0 .. VL) += d, lanes[VL .. 2 VL) += d^2, lane by lane over the whole vectors of one plane. */
    private static void shiftedPlaneSums(float[] x, int off, int len, float k, float[] lanes) {
        FloatVector kV = FloatVector.broadcast(Gemm.S, k);
        FloatVector s1 = FloatVector.fromArray(Gemm.S, lanes, 0), s2 = FloatVector.fromArray(Gemm.S, lanes, VL);
        for (int i = 0, whole = len - len % VL; i < whole; i += VL) {
            FloatVector d = FloatVector.fromArray(Gemm.S, x, off + i).sub(kV);
            s1 = s1.add(d);
            s2 = d.fma(d, s2);
        }
        s1.intoArray(lanes, 0);
        s2.intoArray(lanes, VL);
    }

    /**
     * total[0] += sum of dy, total[1] += sum of dy * (x - mu), over planes of len floats, stride apart;
     * with reluOut (not null), dy is first zeroed in place where reluOut is not positive.
     */
    private static void gradientSums(float[] dy, float[] reluOut, float[] x, int off, int stride, int planes, int len, float mu,
                                     double[] total, float[] lanes) {
        java.util.Arrays.fill(lanes, 0f);
        double tail1 = 0, tail2 = 0;
        for (int plane = 0; plane < planes; plane++, off += stride) {
            if (reluOut != null) maskedGradientPlaneSums(dy, reluOut, x, off, len, mu, lanes);
            else gradientPlaneSums(dy, x, off, len, mu, lanes);
            for (int i = len - len % VL; i < len; i++) {
                if (reluOut != null && !(reluOut[off + i] > 0)) dy[off + i] = 0f;
                tail1 += dy[off + i];
                tail2 += dy[off + i] * (x[off + i] - mu);
            }
        }
        total[0] += tail1 + laneSum(lanes, 0);
        total[1] += tail2 + laneSum(lanes, VL);
    }

    /** lanes[0 .. VL) += dy, lanes[VL .. 2 VL) += dy * (x - mu), over the whole vectors of one plane. */
    private static void gradientPlaneSums(float[] dy, float[] x, int off, int len, float mu, float[] lanes) {
        FloatVector muV = FloatVector.broadcast(Gemm.S, mu);
        FloatVector s1 = FloatVector.fromArray(Gemm.S, lanes, 0), s2 = FloatVector.fromArray(Gemm.S, lanes, VL);
        for (int i = 0, whole = len - len % VL; i < whole; i += VL) {
            FloatVector g = FloatVector.fromArray(Gemm.S, dy, off + i);
            s1 = s1.add(g);
            s2 = g.fma(FloatVector.fromArray(Gemm.S, x, off + i).sub(muV), s2);
        }
        s1.intoArray(lanes, 0);
        s2.intoArray(lanes, VL);
    }

    /**
     * {@link #gradientPlaneSums} of dy masked by the ReLU's output y (dy = y > 0 ? dy : 0, as
     * {@link Vec#reluBackwardFresh}), the masked dy stored back in place, over the whole vectors of one plane.
     */
    private static void maskedGradientPlaneSums(float[] dy, float[] y, float[] x, int off, int len, float mu, float[] lanes) {
        FloatVector muV = FloatVector.broadcast(Gemm.S, mu), zero = FloatVector.zero(Gemm.S);
        FloatVector s1 = FloatVector.fromArray(Gemm.S, lanes, 0), s2 = FloatVector.fromArray(Gemm.S, lanes, VL);
        for (int i = 0, whole = len - len % VL; i < whole; i += VL) {
            VectorMask<Float> on = FloatVector.fromArray(Gemm.S, y, off + i).compare(VectorOperators.GT, 0f);
            FloatVector g = zero.blend(FloatVector.fromArray(Gemm.S, dy, off + i), on);
            g.intoArray(dy, off + i);
            s1 = s1.add(g);
            s2 = g.fma(FloatVector.fromArray(Gemm.S, x, off + i).sub(muV), s2);
        }
        s1.intoArray(lanes, 0);
        s2.intoArray(lanes, VL);
    }

    private static double laneSum(float[] lanes, int from) {
        float total = 0;
        for (int lane = from; lane < from + VL; lane++) total += lanes[lane];
        return total;
    }

    /**
     * dx[i] += p * dy[i] - q * (x[i] - mu) + r over [off, off + len) (add), or dx[i] = it (dx's old
     * contents not read); with q = r = 0, x is not read.
     */
    private static void inputGradient(float[] dy, float[] x, float[] dx, boolean add, int off, int len, float mu, float p,
                                      float q, float r) {
        FloatVector pV = FloatVector.broadcast(Gemm.S, p), minusQ = FloatVector.broadcast(Gemm.S, -q),
                rV = FloatVector.broadcast(Gemm.S, r), muV = FloatVector.broadcast(Gemm.S, mu);
        int i = 0, whole = len - len % VL;
        if (q != 0f || r != 0f) {
            for (; i < whole; i += VL) {
                FloatVector centered = FloatVector.fromArray(Gemm.S, x, off + i).sub(muV);
                FloatVector step = FloatVector.fromArray(Gemm.S, dy, off + i).fma(pV, centered.fma(minusQ, rV));
                if (add) FloatVector.fromArray(Gemm.S, dx, off + i).add(step).intoArray(dx, off + i);
                else step.intoArray(dx, off + i);
            }
        } else {
            for (; i < whole; i += VL) {
                FloatVector grad = FloatVector.fromArray(Gemm.S, dy, off + i);
                if (add) grad.fma(pV, FloatVector.fromArray(Gemm.S, dx, off + i)).intoArray(dx, off + i);
                else grad.mul(pV).intoArray(dx, off + i);
            }
        }
        for (; i < len; i++) {
            float step = Math.fma(dy[off + i], p, Math.fma(x[off + i] - mu, -q, r));
            dx[off + i] = add ? dx[off + i] + step : step;
        }
    }
}
