package advtrain.backend.cpu;

import advtrain.tensor.Shape;
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
 * <p>The residual is the block's input as it is, or He et al.'s option-A shortcut of it read in
 * place: every other pixel of every other row (a gather), channel k - offset, and zero for the
 * channels the shortcut pads. Unfused, that shortcut is a 1x1 stride-2 convolution with 0/1 weights
 * whose output is written and read back; its sums are the same values (x * 1 plus zeros), but for
 * the sign of a zero, which a ReLU after it does not keep.
 *
 * <p>One per {@link Conv} (per calling thread); {@link #set} grows its per-channel arrays on first
 * use only.
 */
final class ConvEpilogue {
    private static final int VL = Gemm.VL;

    private float[] mean = new float[0], scale = new float[0], shift = new float[0];
    /** The residual [N, C', H', W'], or null. */
    private float[] residual;
    /** Output channel k adds residual channel k - residualOffset (every residualStride-th row and column: residualIndex). */
    private int residualChannels, residualPlane, residualOffset;
    /** Strided residual: where in its plane each output pixel reads; null for stride 1. */
    private int[] residualIndex = new int[0];
    private boolean strided;
    /** Zeros, added where a strided residual has no channel (as the option-A shortcut's padding channels). */
    private float[] zeros = new float[0];
    private boolean relu;
    private int channels, pixels;

    /**
     * This call's batch norm (gamma and beta may be null: 1 and 0), residual (or null) and ReLU,
     * for an output of `channels` planes of outHeight x outWidth. The residual is
     * [N, C', H', W'] (residualShape); output pixel (k, y, x) adds its element
     * (k - residualOffset, residualStride * y, residualStride * x), or 0 where k - residualOffset is
     * not one of its channels. Stride 1 and offset 0: the residual has the output's shape.
     */
    void set(float[] gamma, float[] beta, float[] runningMean, float[] runningVar, float eps, boolean relu,
             float[] residual, Shape residualShape, int residualStride, int residualOffset, int channels, int outHeight, int outWidth) {
        mean = WorkerScratch.atLeast(mean, channels);
        scale = WorkerScratch.atLeast(scale, channels);
        shift = WorkerScratch.atLeast(shift, channels);
        for (int k = 0; k < channels; k++) {
            mean[k] = runningMean[k];
            scale[k] = (gamma == null ? 1f : gamma[k]) * BatchNorm.invStd(runningVar[k], eps);
            shift[k] = beta == null ? 0f : beta[k];
        }
        this.relu = relu;
        this.channels = channels;
        this.pixels = outHeight * outWidth;
        this.residual = residual;
        this.residualOffset = residualOffset;
        strided = residual != null && (residualStride != 1 || residualOffset != 0 || residualShape.dim(1) != channels);
        if (strided) {
            int residualWidth = residualShape.dim(3);
            residualChannels = residualShape.dim(1);
            residualPlane = residualShape.dim(2) * residualWidth;
            residualIndex = WorkerScratch.atLeast(residualIndex, pixels);
            for (int p = 0; p < pixels; p++) {
                residualIndex[p] = residualStride * (p / outWidth) * residualWidth + residualStride * (p % outWidth);
            }
            zeros = WorkerScratch.atLeast(zeros, pixels);
        }
    }

    /** Drops the reference to the residual. */
    void clear() { residual = null; }

    /** Every plane of image n of out [N, K, H, W]. */
    void image(float[] out, int n) {
        for (int k = 0; k < channels; k++) plane(out, n, k);
    }

    /** Plane (n, k) of out, in place. */
    void plane(float[] out, int n, int k) {
        int off = (n * channels + k) * pixels, c = k - residualOffset;
        if (!strided) apply(out, off, pixels, mean[k], scale[k], shift[k], residual, off, null, relu);
        else if (c < 0 || c >= residualChannels) apply(out, off, pixels, mean[k], scale[k], shift[k], zeros, 0, null, relu);
        else apply(out, off, pixels, mean[k], scale[k], shift[k], residual, (n * residualChannels + c) * residualPlane, residualIndex, relu);
    }

    /**
     * y[off + i] = relu((y[off + i] - mu) * scale + shift + r), i in [0, len), r = residual[rOff + i],
     * or residual[rOff + index[i]] (a gather) with an index, or nothing with no residual.
     */
    private static void apply(float[] y, int off, int len, float mu, float scale, float shift, float[] residual, int rOff, int[] index,
                              boolean relu) {
        FloatVector muV = FloatVector.broadcast(Gemm.S, mu), scaleV = FloatVector.broadcast(Gemm.S, scale);
        FloatVector shiftV = FloatVector.broadcast(Gemm.S, shift), zero = FloatVector.zero(Gemm.S);
        int i = 0;
        for (int whole = len - len % VL; i < whole; i += VL) {
            FloatVector v = FloatVector.fromArray(Gemm.S, y, off + i).sub(muV).fma(scaleV, shiftV);
            if (residual != null) {
                v = v.add(index == null ? FloatVector.fromArray(Gemm.S, residual, rOff + i) : FloatVector.fromArray(Gemm.S, residual, rOff, index, i));
            }
            if (relu) v = zero.blend(v, v.compare(VectorOperators.GT, 0f));
            v.intoArray(y, off + i);
        }
        for (; i < len; i++) {
            float v = Math.fma(y[off + i] - mu, scale, shift);
            if (residual != null) v += residual[rOff + (index == null ? i : index[i])];
            y[off + i] = relu && !(v > 0) ? 0f : v;
        }
    }
}
