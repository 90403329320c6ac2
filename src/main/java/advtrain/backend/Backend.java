package advtrain.backend;

import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * The kernels the engine needs, once per backend (plain Java in {@code cpu}, OpenCL C in
 * {@code opencl}). Kept narrow on purpose: a new backend implements these methods and runs the same
 * test suite.
 *
 * <p>Conventions, shared by every implementation:
 * <ul>
 *   <li>Tensors are float32, contiguous, row-major; images are NCHW.</li>
 *   <li>Forward kernels overwrite their output. Backward kernels ADD into the gradient tensors they
 *       are given ({@code grad += ...}), the way PyTorch accumulates; a null gradient argument
 *       means "not needed" and is skipped.</li>
 *   <li>Labels are class indices stored as floats (exact for any realistic class count).</li>
 *   <li>Calls may run asynchronously; {@link #read} waits for the work queued before it.</li>
 * </ul>
 */
public interface Backend extends AutoCloseable {

    /** "java" or "opencl". */
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

    // ---- elementwise and reductions (out may be the same tensor as an input) ------------------

    /** out = a + b */
    void add(Tensor a, Tensor b, Tensor out);

    /** y += alpha * x */
    void axpy(float alpha, Tensor x, Tensor y);

    /** out = alpha * x + beta (an affine map: scaling, normalisation) */
    void affine(Tensor x, float alpha, float beta, Tensor out);

    /** out = sign(x): -1, 0 or +1 (0 for 0 and NaN, as torch.sign gives 0 for 0) */
    void sign(Tensor x, Tensor out);

    /** out = min(max(x, lo), hi) */
    void clamp(Tensor x, float lo, float hi, Tensor out);

    /** out = min(a, b), elementwise */
    void minimum(Tensor a, Tensor b, Tensor out);

    /** out = max(a, b), elementwise */
    void maximum(Tensor a, Tensor b, Tensor out);

    /** out[0] = sum of all elements of x */
    void sum(Tensor x, Tensor out);

    /** out[i] += alpha * scalar[0] for every i: the backward of a sum. */
    void addScalarTimes(Tensor scalar, float alpha, Tensor out);

    /** For x of shape [N, ...]: out[n] = sum of squares of row n. */
    void rowSumSquares(Tensor x, Tensor out);

    /** For x of shape [N, ...]: out[n, ...] = x[n, ...] * scales[n]. */
    void rowScale(Tensor x, Tensor scales, Tensor out);

    /** For x of shape [N, C]: out[n] = the first index of the largest element of row n. */
    void argmaxRows(Tensor x, Tensor out);

    /**
     * out = 1 / sqrt(max(x, floor)), elementwise: with {@link #rowSumSquares} and {@link #rowScale}
     * it normalises rows to unit L2 norm and projects them onto L2 balls (the L2 attacks).
     */
    void rsqrt(Tensor x, float floor, Tensor out);

    /**
     * Fills with uniform numbers in [lo, hi) from a counter-based generator: element i gets
     * hash(seed, i), so every backend draws exactly the same numbers.
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
     * {@link #conv2d} into convOutput, then {@link #maxPool2d} of it into output, in one call. When
     * the convolution's output is not needed afterwards (convOutputNeeded false: evaluation, no
     * backward pass), a backend may leave convOutput unwritten; the CPU backend then never stores
     * it, and either way pools each image's convolution output while it is still in cache. This
     * default runs the two kernels.
     */
    default void conv2dMaxPool(Tensor input, Tensor weight, Tensor bias, Tensor convOutput, Tensor output,
                               int stride, int padding, int kernel, int poolStride, boolean convOutputNeeded) {
        conv2d(input, weight, bias, convOutput, stride, padding);
        maxPool2d(convOutput, output, kernel, poolStride);
    }

    /**
     * Sends each output gradient to the first maximum of its window (PyTorch's choice on ties),
     * found again from the input, so the forward pass keeps no index tensor.
     */
    void maxPool2dBackward(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride);

    /**
     * {@link #maxPool2dBackward} into a gradient that holds nothing yet: inputGrad's old contents
     * are ignored and every element written (the output gradient at each window's first maximum,
     * zero elsewhere), so the caller need not zero-fill it first. This default fills, then adds.
     */
    default void maxPool2dBackwardFresh(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride) {
        fill(inputGrad, 0f);
        maxPool2dBackward(input, outputGrad, inputGrad, kernel, stride);
    }

    /** output = input . weight^T + bias: input [N, in], weight [out, in], bias [out] or null. */
    void linear(Tensor input, Tensor weight, Tensor bias, Tensor output);

    void linearBackward(Tensor input, Tensor weight, Tensor outputGrad,
                        Tensor inputGrad, Tensor weightGrad, Tensor biasGrad);

    /** output = max(input, 0) */
    void relu(Tensor input, Tensor output);

    /** inputGrad += outputGrad where output > 0 */
    void reluBackward(Tensor output, Tensor outputGrad, Tensor inputGrad);

    /**
     * inputGrad = outputGrad where output > 0, else 0: {@link #reluBackward} into a gradient that
     * holds nothing yet (its old contents are ignored). This default fills, then adds.
     */
    default void reluBackwardFresh(Tensor output, Tensor outputGrad, Tensor inputGrad) {
        fill(inputGrad, 0f);
        reluBackward(output, outputGrad, inputGrad);
    }

    /** Row-wise log-softmax of [N, C], computed stably (max subtracted first). */
    void logSoftmax(Tensor input, Tensor output);

    /** inputGrad += outputGrad - exp(output) * rowSum(outputGrad) */
    void logSoftmaxBackward(Tensor output, Tensor outputGrad, Tensor inputGrad);

    /** losses[n] = -logProbs[n, labels[n]] (per sample; the mean is a separate op). */
    void nllLoss(Tensor logProbs, Tensor labels, Tensor losses);

    /** logProbsGrad[n, labels[n]] -= lossesGrad[n] */
    void nllLossBackward(Tensor labels, Tensor lossesGrad, Tensor logProbsGrad);

    /** SGD with PyTorch's momentum: velocity = momentum * velocity + grad; param -= lr * velocity. */
    void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum);

    /** Waits until every queued kernel has finished (for timing). */
    default void synchronize() {}

    @Override
    default void close() {}

    // ---- conveniences built on the methods above -----------------------------------------------

    default float[] toArray(Tensor tensor) {
        float[] host = new float[tensor.size()];
        read(tensor, host, 0);
        return host;
    }

    default Tensor fromArray(float[] values, int... dims) {
        Tensor t = allocate(Shape.of(dims));
        write(t, values, 0);
        return t;
    }
}
