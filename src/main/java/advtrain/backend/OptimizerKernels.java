package advtrain.backend;

import advtrain.tensor.Tensor;

/**
 * An optional capability: an optimiser's update of one parameter in one kernel, instead of the
 * three elementwise calls {@code optim.Sgd} makes otherwise (each a pass over the parameter and,
 * on a GPU, a kernel launch). The tuned Java and the OpenCL backends implement it.
 */
public interface OptimizerKernels {

    /**
     * SGD with PyTorch's momentum and weight decay: g = grad + weightDecay * param;
     * velocity = momentum * velocity + g; param -= lr * velocity. {@code grad} is only read (g lives
     * in a register). Each product rounds before its sum, as {@code Sgd}'s plain path of
     * {@link Backend#affine} and {@link Backend#axpy} does, so both give the same bits; with
     * {@code weightDecay == 0} the decay term is skipped, not added as a zero.
     */
    void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay);
}
