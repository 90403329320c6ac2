package advtrain.autograd;

import advtrain.backend.Backend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * A node of the computation graph: a tensor value, and the gradient of the loss with respect to
 * it once {@link Tape#backward} has run. Parameters are Variables that live across steps (their
 * tape is null and their gradient tensor is their own); everything else is made by a {@link Tape}
 * and lives until its {@link Tape#reset}, after which the tape reuses the object for the next step.
 *
 * <p>A variable made by an op also remembers how it was made, which is what its backward step
 * needs: the op's inputs ({@link #a}, {@link #b}, {@link #c}, in the order the op took them) and
 * its settings ({@link #i0}, {@link #i1}, {@link #f0}). PyTorch keeps the same on a "ctx"; keeping
 * it here, instead of in a closure, is what lets a steady-state step allocate nothing.
 */
public final class Variable {
    private Tensor data;
    final Tape tape;
    Tensor grad;
    boolean requiresGrad;

    // How an op made this variable (see Ops): its backward step, inputs and settings.
    Backward backward;
    Variable a, b, c;
    int i0, i1;
    float f0;

    Variable(Tensor data, Tape tape, boolean requiresGrad) {
        this.data = data;
        this.tape = tape;
        this.requiresGrad = requiresGrad;
    }

    /**
     * An op's backward step: given its output y (whose gradient is complete when it runs), it
     * accumulates into the gradients of y's inputs, which {@code tape.gradOf} hands out. Ops pass
     * lambdas that capture nothing, so the JVM makes each one once.
     */
    @FunctionalInterface
    interface Backward {
        void run(Variable y, Backend be, Tape tape);
    }

    /** Reuse by the tape: a fresh node around {@code tensor}, remembering nothing. */
    Variable reset(Tensor tensor, boolean needsGrad) {
        data = tensor;
        grad = null;
        requiresGrad = needsGrad;
        backward = null;
        a = b = c = null;
        return this;
    }

    /**
     * A trainable parameter: its gradient tensor is allocated by the caller, kept across steps and
     * accumulated into by every backward pass until zeroed, as in PyTorch.
     */
    public static Variable parameter(Tensor data, Tensor grad) {
        if (!data.shape().equals(grad.shape())) throw new IllegalArgumentException("parameter: grad " + grad.shape() + " vs data " + data.shape());
        Variable p = new Variable(data, null, true);
        p.grad = grad;
        return p;
    }

    public Tensor data() { return data; }

    /** The accumulated gradient, or null when no gradient reached this variable. */
    public Tensor grad() { return grad; }

    public Shape shape() { return data.shape(); }

    public boolean requiresGrad() { return requiresGrad; }

    /** For parameters: whether backward computes their gradient (off while attacking, say). */
    public void setRequiresGrad(boolean requiresGrad) {
        if (tape != null) throw new IllegalStateException("only parameters can change requiresGrad");
        this.requiresGrad = requiresGrad;
    }

    boolean isParameter() { return tape == null; }

    @Override public String toString() { return "Variable" + data.shape() + (requiresGrad ? " (requires grad)" : ""); }
}
