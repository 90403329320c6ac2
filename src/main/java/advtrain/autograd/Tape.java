package advtrain.autograd;

import advtrain.backend.Backend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.ArrayList;

/**
 * Reverse-mode automatic differentiation on a tape. Each op, as it runs forward, records its
 * output, which knows its backward step; {@link #backward} replays the tape from the end, which
 * visits every op after all the ops that consumed its output (the order they ran in is already a
 * topological order).
 *
 * <p>One tape serves a whole training loop: {@link #reset} after each step returns the step's
 * tensors to a pool that the next step draws from, and its Variable objects to a list the next
 * step reuses, so a steady-state step allocates nothing at all.
 */
public final class Tape implements AutoCloseable {
    private final Backend backend;
    private final TensorPool pool;
    private final ArrayList<Variable> recorded = new ArrayList<>();  // outputs of ops that need backward, in order
    private final ArrayList<Variable> variables = new ArrayList<>(); // every Variable this tape made; [0, used) are live
    private int used;
    private final NoGrad noGradScope = new NoGrad();
    private int noGradDepth;  // > 0 inside noGrad() scopes

    public Tape(Backend backend) {
        this.backend = backend;
        this.pool = new TensorPool(backend);
    }

    public Backend backend() { return backend; }

    /** A graph input: a batch of images or labels. The tensor is not copied. */
    public Variable input(Tensor data, boolean requiresGrad) {
        return variable(data, requiresGrad);
    }

    public Variable constant(Tensor data) { return input(data, false); }

    /** A tensor from this tape's pool, valid until {@link #reset}; contents unspecified. */
    public Tensor scratch(Shape shape) { return pool.take(shape); }

    /**
     * Runs backward from a scalar: seeds d(root)/d(root) = 1, then calls the recorded backward
     * steps in reverse order. Gradients accumulate into parameters and into inputs that require them.
     * Once per recording (then {@link #reset}): a second pass would start from the intermediate
     * gradients the first one left.
     */
    public void backward(Variable root) {
        if (root.shape().size() != 1) throw new IllegalArgumentException("backward: needs a scalar, got " + root.shape());
        if (!root.requiresGrad) throw new IllegalStateException("backward: the root does not depend on anything that requires grad");
        backend.fill(gradOf(root), 1f);
        replay();
    }

    /**
     * Runs backward from a non-scalar output, seeded with a given gradient of some scalar with
     * respect to it (PyTorch's {@code y.backward(gradient)}): how tests and {@link GradCheck} push
     * a chosen upstream gradient through an op.
     */
    public void backward(Variable root, Tensor rootGrad) {
        if (!root.shape().equals(rootGrad.shape())) {
            throw new IllegalArgumentException("backward: gradient " + rootGrad.shape() + " for output " + root.shape());
        }
        if (!root.requiresGrad) throw new IllegalStateException("backward: the root does not depend on anything that requires grad");
        backend.copy(rootGrad, gradOf(root));
        replay();
    }

    private void replay() {
        for (int i = recorded.size() - 1; i >= 0; i--) {
            Variable y = recorded.get(i);
            if (y.grad != null) y.op.backward(y, backend, this);
        }
    }

    /**
     * Forgets the recorded ops and recycles every tensor and Variable this tape handed out: they
     * must not be used afterwards.
     */
    public void reset() {
        recorded.clear();
        for (int i = 0; i < used; i++) variables.get(i).reset(null, false);  // drop references to the step's tensors
        used = 0;
        pool.releaseAll();
    }

    /**
     * Inside this scope ops record nothing: for evaluation and for building attack images. Scopes
     * nest; the tape keeps one scope object and a depth, so entering one allocates nothing.
     */
    public NoGrad noGrad() {
        noGradDepth++;
        return noGradScope;
    }

    /** The guard returned by {@link #noGrad}; closing it leaves the innermost scope. */
    public final class NoGrad implements AutoCloseable {
        private NoGrad() {}
        @Override public void close() { if (noGradDepth > 0) noGradDepth--; }
    }

    /** Tensors the backend had to allocate so far; constant across steady-state steps. */
    public int allocations() { return pool.allocations(); }

    @Override public void close() {
        reset();
        pool.clear();
    }

    // ---- used by Ops ----------------------------------------------------------------------------

    /**
     * The output variable of an op whose inputs are given (a, b, c in the op's order; null for
     * none): a pooled tensor of this shape, requiring grad if any input does.
     */
    Variable result(Shape shape, Variable a, Variable b, Variable c) { return result(shape, a, b, c, null); }

    /** {@link #result(Shape, Variable, Variable, Variable)} for an op of four inputs. */
    Variable result(Shape shape, Variable a, Variable b, Variable c, Variable d) {
        boolean needsGrad = records(a, b, c) || records(d, null, null);
        Variable y = variable(pool.take(shape), needsGrad);
        y.setInputs(a, b, c, d);
        return y;
    }

    private static boolean needs(Variable v) { return v != null && v.requiresGrad; }

    /** Whether an op with these inputs would be recorded: its output would require grad. */
    boolean records(Variable a, Variable b, Variable c) {
        return noGradDepth == 0 && (needs(a) || needs(b) || needs(c));
    }

    /** A Variable object from the reuse list, or a new one while the list is still growing. */
    private Variable variable(Tensor data, boolean requiresGrad) {
        if (used == variables.size()) variables.add(new Variable(null, this, false));
        return variables.get(used++).reset(data, requiresGrad);
    }

    /**
     * Records that op made output, for the backward pass; its backward runs only if the output ends
     * up with a gradient, and only outputs that require grad are recorded at all.
     */
    void record(Variable output, Op op) {
        if (!output.requiresGrad) return;
        output.op = op;
        recorded.add(output);
    }

    /**
     * The gradient tensor to accumulate into, zero-filled on first use; null when the variable
     * needs no gradient (the backward kernels then skip it).
     */
    Tensor gradOf(Variable v) {
        if (v == null || !v.requiresGrad) return null;
        if (v.grad == null) {
            v.grad = pool.take(v.shape());
            backend.fill(v.grad, 0f);
        }
        return v.grad;
    }

    /**
     * For a backward step that can write its whole gradient rather than add to it: v's gradient
     * tensor, not zero-filled, when v needs one and has none yet (the step must then write every
     * element); null otherwise, and the step adds to {@link #gradOf} instead. The first
     * contribution to an activation's gradient then costs no fill and no read of zeros.
     */
    Tensor freshGrad(Variable v) {
        if (v == null || !v.requiresGrad || v.grad != null) return null;
        v.grad = pool.take(v.shape());
        return v.grad;
    }

    /**
     * v's gradient += y's, for a step whose gradient to v is y's gradient itself (a residual sum):
     * when v has no gradient yet it takes over y's gradient tensor, with no copy. y's backward step
     * must be the caller, and must not write y's gradient afterwards: later steps add v's other
     * contributions into that tensor, which y's own backward step has no more use for. So after
     * backward, such a y's {@link Variable#grad} may hold v's (PyTorch keeps no gradient of an
     * intermediate result at all).
     */
    void passGrad(Variable v, Variable y) {
        if (v == null || !v.requiresGrad) return;
        if (v.grad == null && v.shape().equals(y.shape())) v.grad = y.grad;
        else addGrad(v, y.grad);
    }

    /**
     * v's gradient += g, for a step whose gradient to v is g itself (flatten, a residual sum): a
     * copy of g when v has no gradient yet (no fill, no read of zeros), else an add.
     */
    void addGrad(Variable v, Tensor g) {
        if (v == null || !v.requiresGrad) return;
        Tensor fresh = freshGrad(v);
        if (fresh != null) backend.copy(g, fresh);
        else backend.axpy(1f, g, v.grad);
    }
}
