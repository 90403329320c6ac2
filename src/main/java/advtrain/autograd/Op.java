package advtrain.autograd;

import advtrain.backend.Backend;

/**
 * A differentiable operation, as the tape replays it. Each op in {@link Ops} is a small class whose
 * {@code apply} runs the forward kernel and records the op on its output, and whose
 * {@link #backward} sits right below it: read one class to see both directions. Settings (a
 * convolution's stride and padding, a pooling window) are the op object's final fields; a layer
 * makes its op once and every forward call records that same object, so recording allocates nothing.
 */
interface Op {

    /**
     * Given the op's output y, whose gradient {@code y.grad()} is complete when this runs, adds
     * the op's contribution to the gradients of its inputs ({@code y.input(i)}), which
     * {@code tape.gradOf} hands out (null when an input needs none).
     */
    void backward(Variable y, Backend backend, Tape tape);
}
