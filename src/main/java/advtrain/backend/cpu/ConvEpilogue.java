package advtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The fused inference kernel's last steps ({@code CpuBackend.conv2dBatchNorm}), applied to each
 * output plane as soon as the convolution has written it, while it is still in cache:
 * <pre>
 *   y = (conv - mean[k]) * scale[k] + shift[k]     batch norm with running statistics
 *   y = y + residual                                 (optional) a residual block's sum
 *   y = max(y, 0)                                    (optional) ReLU
 * </pre>
 * with scale = gamma * invStd and shift = beta, as {@link BatchNorm}'s evaluation-mode forward
 * computes them. Unfused, these are three more passes over the whole batch's activations (at
 * batch 256, 16.8 MB each for ResNet-20's first stage), each reading from memory what the
 * previous pass wrote there. Every step is the separate kernel's own arithmetic (a subtraction and
 * a fused multiply-add, an addition, a compare), so the result is the same bits.
 *
 * <p>One per {@link Conv} (per calling thread); {@link #set} grows its per-channel arrays on first
 * use only.
 */
final class ConvEpilogue {
    private static final int VL = Gemm.VL;

    private float[] mean = new float[0], scale = new float[0], shift = new float[0];
    /** [N, K, H, W] like the output, or null. */
    private float[] residual;
    private boolean relu;
    private int channels, pixels;

    /** This call's batch norm (gamma and beta may be null: 1 and 0), residual (or null) and ReLU. */
    void set(float[] gamma, float[] beta, float[] runningMean, float[] runningVar, float eps, float[] residual, boolean relu,
             int channels, int pixels) {
        mean = WorkerScratch.atLeast(mean, channels);
        scale = WorkerScratch.atLeast(scale, channels);
        shift = WorkerScratch.atLeast(shift, channels);
        for (int k = 0; k < channels; k++) {
            mean[k] = runningMean[k];
            scale[k] = (gamma == null ? 1f : gamma[k]) * BatchNorm.invStd(runningVar[k], eps);
            shift[k] = beta == null ? 0f : beta[k];
        }
        this.residual = residual;
        this.relu = relu;
        this.channels = channels;
        this.pixels = pixels;
    }

    /** Drops the reference to the residual. */
    void clear() { residual = null; }

    /** Every plane of image n of out [N, K, H, W]. */
    void image(float[] out, int n) {
        for (int k = 0; k < channels; k++) plane(out, n, k);
    }

    /** Plane (n, k) of out, in place. */
    void plane(float[] out, int n, int k) {
        apply(out, (n * channels + k) * pixels, pixels, mean[k], scale[k], shift[k], residual, relu);
    }

    private static void apply(float[] y, int off, int len, float mu, float scale, float shift, float[] residual, boolean relu) {
        FloatVector muV = FloatVector.broadcast(Gemm.S, mu), scaleV = FloatVector.broadcast(Gemm.S, scale);
        FloatVector shiftV = FloatVector.broadcast(Gemm.S, shift), zero = FloatVector.zero(Gemm.S);
        int i = 0;
        for (int whole = len - len % VL; i < whole; i += VL) {
            FloatVector v = FloatVector.fromArray(Gemm.S, y, off + i).sub(muV).fma(scaleV, shiftV);
            if (residual != null) v = v.add(FloatVector.fromArray(Gemm.S, residual, off + i));
            if (relu) v = zero.blend(v, v.compare(VectorOperators.GT, 0f));
            v.intoArray(y, off + i);
        }
        for (; i < len; i++) {
            float v = Math.fma(y[off + i] - mu, scale, shift);
            if (residual != null) v += residual[off + i];
            y[off + i] = relu && !(v > 0) ? 0f : v;
        }
    }
}
