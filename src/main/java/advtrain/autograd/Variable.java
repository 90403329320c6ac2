package advtrain.autograd;

import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * A node of the computation graph: a tensor value, and the gradient of the loss with respect to
 * it once {@link Tape#backward} has run. Parameters are Variables that live across steps (their
 * tape is null and their gradient tensor is their own); everything else is made by a {@link Tape}
 * and lives until its {@link Tape#reset}.
 */
public final class Variable {
    private final Tensor data;
    final Tape tape;
    Tensor grad;
    boolean requiresGrad;

    Variable(Tensor data, Tape tape, boolean requiresGrad) {
        this.data = data;
        this.tape = tape;
        this.requiresGrad = requiresGrad;
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
