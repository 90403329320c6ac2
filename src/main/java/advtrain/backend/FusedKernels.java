package advtrain.backend;

import advtrain.tensor.Tensor;

/**
 * An optional capability: kernels that do in one call what {@link Backend}'s do in two or three,
 * for speed. A backend may implement it; the autograd ({@code autograd.Ops}) uses it when the
 * backend does ({@code backend instanceof FusedKernels f}) and the plain kernels otherwise, so the
 * results are the same either way (the tests check both). The tuned Java backend implements it.
 */
public interface FusedKernels {

    /**
     * {@link Backend#conv2d} into convOutput, then {@link Backend#maxPool2d} of it into output. When
     * the convolution's output is not needed afterwards (convOutputNeeded false: evaluation, no
     * backward pass), convOutput may be left unwritten; the Java backend then never stores it, and
     * either way pools each image's convolution output while it is still in cache.
     */
    void conv2dMaxPool(Tensor input, Tensor weight, Tensor bias, Tensor convOutput, Tensor output,
                       int stride, int padding, int kernel, int poolStride, boolean convOutputNeeded);

    /**
     * At inference, a convolution and what follows it in a residual network, in one call:
     * output = relu(batchNorm(conv2d(input, weight) + bias) + residual), batch norm with frozen
     * statistics ({@link Backend#batchNorm} with batchStats false: mean and var are the running
     * ones); bias, gamma, beta and residual may be null (none; 1; 0; no sum), relu false (no ReLU).
     * The residual [N, C', H', W'] is read as a ResNet's option-A shortcut: output element
     * (n, k, y, x) adds residual[n, k - residualOffset, residualStride * y, residualStride * x], or
     * 0 where k - residualOffset is outside [0, C'); with stride 1 and offset 0 it has the output's
     * shape and is added as it is. The same values as the separate kernels (the shortcut's as a
     * 1x1 convolution with 0/1 weights). Neither the convolution's nor the batch norm's output is
     * kept, so nothing can be differentiated through it: the autograd uses it only when no gradient
     * is recorded. The Java backend finishes each image while its output is in cache.
     */
    void conv2dBatchNorm(Tensor input, Tensor weight, Tensor bias, int stride, int padding, Tensor gamma, Tensor beta,
                         Tensor mean, Tensor var, float eps, Tensor residual, int residualStride, int residualOffset,
                         boolean relu, Tensor output);

    /**
     * {@link Backend#maxPool2dBackward} into a gradient that holds nothing yet: inputGrad's old
     * contents are ignored and every element written (the output gradient at each window's first
     * maximum, zero elsewhere), which saves filling it with zeros first.
     */
    void maxPool2dBackwardFresh(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride);

    /** inputGrad = outputGrad where output > 0, else 0: {@link Backend#reluBackward} into a gradient that holds nothing yet. */
    void reluBackwardFresh(Tensor output, Tensor outputGrad, Tensor inputGrad);

    /**
     * {@link Backend#conv2dBackward} into an input gradient that holds nothing yet: inputGrad (not
     * null) is written, its old contents ignored; weightGrad and biasGrad are added to as before.
     * The Java backend's input gradient as a forward convolution (its stride-1 3x3 path) writes
     * it directly, which saves filling it with zeros and reading them back.
     */
    void conv2dBackwardFresh(Tensor input, Tensor weight, Tensor outputGrad, Tensor inputGrad, Tensor weightGrad,
                             Tensor biasGrad, int stride, int padding);

    /**
     * {@link Backend#batchNormBackward} into an input gradient that holds nothing yet: inputGrad (not
     * null) is written, its old contents ignored; gammaGrad and betaGrad are added to as before.
     */
    void batchNormBackwardFresh(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                                Tensor outGrad, Tensor inputGrad, Tensor gammaGrad, Tensor betaGrad);

    /**
     * A residual block's batch norm, residual sum and ReLU in one pass over the activation:
     * out = relu(batchNorm(x) + residual), {@link Backend#batchNorm} (mean and var written with
     * batchStats, read without), then {@link Backend.BinaryOp#ADD} of residual (same shape as x; null:
     * no sum), then {@link Backend.UnaryOp#RELU}, each element rounded as those kernels round it.
     * Unlike them it keeps neither the batch norm's output nor the sum, only out.
     */
    void batchNormAddRelu(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, boolean batchStats,
                          Tensor residual, Tensor out);

    /**
     * The backward pass of {@link #batchNormAddRelu}, out being its output: first outGrad is zeroed
     * IN PLACE where out is not positive (the ReLU's backward), so that afterwards it holds the
     * gradient of the sum, which is also the residual's; then {@link Backend#batchNormBackward} from
     * it, inputGrad (null: not wanted) written when inputGradFresh (its old contents ignored), else
     * added to; gammaGrad and betaGrad added to.
     */
    void batchNormAddReluBackward(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats, Tensor out,
                                  Tensor outGrad, Tensor inputGrad, boolean inputGradFresh, Tensor gammaGrad, Tensor betaGrad);

    /**
     * He et al.'s option-A shortcut as a copy: output[n, k, y, x] = input[n, k - pad, stride y,
     * stride x] where k - pad is one of input's C channels, 0 in the pad channels before and after;
     * output is [N, C + 2 pad, ceil(H / stride), ceil(W / stride)]. The values of
     * {@link Backend#conv2d} with the 0/1 weight autograd.ShortcutA makes, but for the sign of a zero.
     */
    void shortcutA(Tensor input, int stride, int pad, Tensor output);

    /**
     * The backward pass of {@link #shortcutA}: inputGrad[n, c, stride y, stride x] +=
     * outputGrad[n, c + pad, y, x], the other elements of inputGrad left as they are; with
     * inputGradFresh, inputGrad is written instead (those other elements 0, its old contents ignored).
     */
    void shortcutABackward(Tensor outputGrad, int stride, int pad, Tensor inputGrad, boolean inputGradFresh);
}
