package advtrain.backend;

import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * The kernels the engine needs, once per backend: {@code reference} (plain loops, the definition),
 * {@code cpu} (tuned Java) and {@code opencl} (OpenCL C). Kept narrow on purpose (30 methods, at
 * most 30): a new backend implements these and runs the same test suite. Faster ways to do the same
 * work are optional capabilities a backend may add ({@link FusedKernels}, {@link OptimizerKernels});
 * the engine uses them when present and the plain kernels otherwise.
 *
 * <p>Conventions, shared by every implementation:
 * <ul>
 *   <li>Tensors are float32, contiguous, row-major; images are NCHW.</li>
 *   <li>Forward kernels overwrite their output. Backward kernels ADD into the gradient tensors they
 *       are given ({@code grad += ...}), the way PyTorch accumulates; a null gradient argument
 *       means "not needed" and is skipped.</li>
 *   <li>A smaller second operand is repeated over consecutive groups ({@link #binary}, {@link #axpy}):
 *       with n elements in the output and m in the operand (m divides n), output element i uses
 *       operand element {@code i / (n / m)}. A scalar [1] goes with every element, scales [N] with
 *       the rows of an [N, ...] tensor, [N, C] with the planes of an [N, C, H, W] one.</li>
 *   <li>Labels are class indices stored as floats (exact for any realistic class count).</li>
 *   <li>Calls may run asynchronously; {@link #read} waits for the work queued before it.</li>
 * </ul>
 *
 * <p>Adding a kernel: declare it here with its shapes and whether it adds or overwrites, write it
 * first in {@code backend.reference.ReferenceBackend} as one plain loop nest (that is its definition),
 * then in {@code OpenClBackend} (the tuned Java backend inherits the reference's until it overrides
 * it); the autograd op that uses it goes in {@code autograd.Ops}, with a gradient check and a PyTorch
 * golden. Before adding one, see whether the ones here compose to it: a global average pooling, for
 * instance, is {@link #reduce} (sums of each plane) then {@link #affine}, and its backward is
 * {@link #axpy} with the gradient repeated over each plane.
 */
public interface Backend extends AutoCloseable {

    /** "reference", "java" or "opencl". */
    String name();

    /** A human-readable name of the device the kernels run on. */
    String deviceName();

    // ---- memory -------------------------------------------------------------------------------

    /** A new tensor of this shape, filled with zeros. */
    Tensor allocate(Shape shape);

    /** Gives the tensor's memory back (device buffers); the tensor must not be used afterwards. */
    void release(Tensor tensor);

    /** Copies {@code dst.size()} floats from the host array, starting at {@code srcOffset}. */
    void write(Tensor dst, float[] src, int srcOffset);

    /** Copies the tensor's elements into the host array, starting at {@code dstOffset}. */
    void read(Tensor src, float[] dst, int dstOffset);

    void fill(Tensor tensor, float value);

    void copy(Tensor src, Tensor dst);

    // ---- elementwise (out may be the same tensor as an input) ---------------------------------

    /** Elementwise functions of one tensor. */
    enum UnaryOp {
        /** -1, 0 or +1 (0 for 0 and NaN, as torch.sign gives 0 for 0) */
        SIGN,
        /** 1 / sqrt(x): with sums of squares it scales rows to unit L2 norm (clamp x away from 0 first) */
        RSQRT,
        /** max(x, 0); NaN gives 0 */
        RELU
    }

    /** out = op(x), elementwise. */
    void unary(UnaryOp op, Tensor x, Tensor out);

    /** Elementwise functions of two tensors. */
    enum BinaryOp { ADD, MUL, MIN, MAX }

    /** out = op(a, b), elementwise; b may be smaller and is then repeated over groups (see above). */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** y += alpha * x; x may be smaller and is then repeated over groups (see above). */
    void axpy(float alpha, Tensor x, Tensor y);

    /** out = alpha * x + beta (an affine map: scaling, normalisation) */
    void affine(Tensor x, float alpha, float beta, Tensor out);

    /** out = min(max(x, lo), hi) */
    void clamp(Tensor x, float lo, float hi, Tensor out);

    // ---- reductions and random numbers --------------------------------------------------------

    /** How {@link #reduce} combines a group. */
    enum ReduceOp {
        /** the sum (accumulated in double) */
        SUM,
        /** the sum of squares (accumulated in double): squared L2 norms of rows */
        SUM_SQUARES,
        /** the index of the group's first largest element, as a float (NaN is never the largest) */
        ARGMAX
    }

    /**
     * x split into out.size() equal consecutive groups; out[g] = op over group g. out [1] reduces the
     * whole tensor, out [N] each row of an [N, ...] tensor.
     */
    void reduce(ReduceOp op, Tensor x, Tensor out);

    /**
     * Fills with uniform numbers in [lo, hi) from a counter-based generator: element i gets
     * hash(seed, i) ({@link Rng}), so every backend draws exactly the same numbers.
     */
    void uniform(Tensor out, float lo, float hi, long seed);

    // ---- neural-network kernels ----------------------------------------------------------------

    /**
     * 2-D convolution (cross-correlation, as PyTorch): input [N, C, H, W], weight [K, C, R, S],
     * bias [K] or null, output [N, K, (H + 2p - R)/s + 1, (W + 2p - S)/s + 1].
     */
    void conv2d(Tensor input, Tensor weight, Tensor bias, Tensor output, int stride, int padding);

    /** Accumulates the gradients of {@link #conv2d} for whichever of the three are non-null. */
    void conv2dBackward(Tensor input, Tensor weight, Tensor outputGrad,
                        Tensor inputGrad, Tensor weightGrad, Tensor biasGrad, int stride, int padding);

    /** Max pooling over kernel x kernel windows moved by stride; no padding. */
    void maxPool2d(Tensor input, Tensor output, int kernel, int stride);

    /**
     * Sends each output gradient to the first maximum of its window (PyTorch's choice on ties),
     * found again from the input, so the forward pass keeps no index tensor.
     */
    void maxPool2dBackward(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride);

    /** output = input . weight^T + bias: input [N, in], weight [out, in], bias [out] or null. */
    void linear(Tensor input, Tensor weight, Tensor bias, Tensor output);

    void linearBackward(Tensor input, Tensor weight, Tensor outputGrad,
                        Tensor inputGrad, Tensor weightGrad, Tensor biasGrad);

    /** inputGrad += outputGrad where output > 0 (the backward of {@link UnaryOp#RELU}) */
    void reluBackward(Tensor output, Tensor outputGrad, Tensor inputGrad);

    /** Row-wise log-softmax of [N, C], computed stably (max subtracted first). */
    void logSoftmax(Tensor input, Tensor output);

    /** inputGrad += outputGrad - exp(output) * rowSum(outputGrad) */
    void logSoftmaxBackward(Tensor output, Tensor outputGrad, Tensor inputGrad);

    /** losses[n] = -logProbs[n, labels[n]] (per sample; the mean is a separate op). */
    void nllLoss(Tensor logProbs, Tensor labels, Tensor losses);

    /** logProbsGrad[n, labels[n]] -= lossesGrad[n] */
    void nllLossBackward(Tensor labels, Tensor lossesGrad, Tensor logProbsGrad);

    /**
     * Batch normalisation of x [N, C, H, W] into out (same shape, overwritten), channel by channel,
     * PyTorch's formula: {@code out = gamma[c] * (x - mean[c]) / sqrt(var[c] + eps) + beta[c]};
     * gamma and beta [C] may be null (1 and 0). With {@code batchStats} the kernel first OVERWRITES
     * mean [C] and var [C] with the batch's statistics over N, H and W (the mean and the biased
     * variance, accumulated in double), then normalises with them (training); without, it uses them
     * as given (running statistics: evaluation, or a fixed per-channel normalisation).
     */
    void batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, boolean batchStats, Tensor out);

    /**
     * The gradients of {@link #batchNorm}, ADDED into whichever of inputGrad [N, C, H, W], gammaGrad
     * and betaGrad [C] are non-null, given the mean and var [C] the forward pass normalised with.
     * With xhat = (x - mean) * invStd, invStd = 1 / sqrt(var + eps) and M = N * H * W:
     * gammaGrad += sum of outGrad * xhat, betaGrad += sum of outGrad (over N, H, W); with
     * {@code batchStats} (mean and var were the batch's own, so they depend on x)
     * inputGrad += gamma * invStd / M * (M * outGrad - sum(outGrad) - xhat * sum(outGrad * xhat)),
     * without it inputGrad += outGrad * gamma * invStd.
     */
    void batchNormBackward(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                           Tensor outGrad, Tensor inputGrad, Tensor gammaGrad, Tensor betaGrad);

    /** Waits until every queued kernel has finished (for timing). */
    default void synchronize() {}

    @Override
    default void close() {}
}
