package advtrain.autograd;

import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * A node of the computation graph: a tensor value, and the gradient of the loss with respect to
 * it once {@link Tape#backward} has run. Parameters are Variables that live across steps (their
 * tape is null and their gradient tensor is their own); everything else is made by a {@link Tape}
 * and lives until its {@link Tape#reset}, after which the tape reuses the object for the next step.
 *
 * <p>A variable made by an op also remembers how it was made, which is what its backward step
 * needs: the {@link Op} (an object holding the op's settings under their own names: a
 * convolution's stride and padding), the op's inputs, in the order it took them, and what else its
 * forward pass computed for the backward one (a batch norm's statistics: {@link #save}). PyTorch
 * keeps the same on a "ctx"; here the op object is made once by its layer, and the input and saved
 * slots are reused with the variable (saved tensors come from the tape's pool), so a steady-state
 * step allocates nothing.
 */
public final class Variable {
    private Tensor data;
    final Tape tape;
    Tensor grad;
    boolean requiresGrad;

    // How an op made this variable: the op, its inputs in the op's order (up to 4, null where it took fewer),
    // and up to two tensors the op's forward computed for its backward (a batch norm's statistics).
    Op op;
    private final Variable[] inputs = new Variable[4];
    private final Tensor[] saved = new Tensor[2];

    Variable(Tensor data, Tape tape, boolean requiresGrad) {
        this.data = data;
        this.tape = tape;
        this.requiresGrad = requiresGrad;
    }

    /** Reuse by the tape: a fresh node around {@code tensor}, remembering nothing. */
    Variable reset(Tensor tensor, boolean needsGrad) {
        data = tensor;
        grad = null;
        requiresGrad = needsGrad;
        op = null;
        inputs[0] = inputs[1] = inputs[2] = inputs[3] = null;
        saved[0] = saved[1] = null;
        return this;
    }

    /** Tensor i (0, 1) that the op which made this variable saved for its backward. */
    Tensor saved(int i) { return saved[i]; }

    /** Keeps tensors (from the tape's pool, so they live until its reset) for the op's backward. */
    void save(Tensor first, Tensor second) {
        saved[0] = first;
        saved[1] = second;
    }

    /** Input i (0 to 3) of the op that made this variable. */
    Variable input(int i) { return inputs[i]; }

    void setInputs(Variable a, Variable b, Variable c, Variable d) {
        inputs[0] = a;
        inputs[1] = b;
        inputs[2] = c;
        inputs[3] = d;
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

    /**
     * The accumulated gradient, or null when no gradient reached this variable. For a leaf (a
     * parameter, a tape input) it is the gradient; for an intermediate result it is what the
     * backward pass left there: a residual sum's gradient tensor is handed on to its first input,
     * and a fused batch norm + sum + ReLU leaves its output's gradient masked by the ReLU and hands
     * it on to the residual.
     */
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
