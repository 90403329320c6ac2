package advtrain.autograd;

import advtrain.backend.Backend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.ArrayList;

/**
 * Reverse-mode automatic differentiation on a tape. Each op, as it runs forward, appends its
 * backward step; {@link #backward} replays the tape from the end, which visits every op after all
 * the ops that consumed its output (the order they ran in is already a topological order).
 *
 * <p>One tape serves a whole training loop: {@link #reset} after each step returns the step's
 * tensors to a pool that the next step draws from, so steady-state steps allocate no tensors.
 */
public final class Tape implements AutoCloseable {
    private final Backend backend;
    private final TensorPool pool;
    private final ArrayList<Variable> outputs = new ArrayList<>();
    private final ArrayList<Runnable> backwards = new ArrayList<>();
    private boolean gradEnabled = true;

    public Tape(Backend backend) {
        this.backend = backend;
        this.pool = new TensorPool(backend);
    }

    public Backend backend() { return backend; }

    /** A graph input: a batch of images or labels. The tensor is not copied. */
    public Variable input(Tensor data, boolean requiresGrad) {
        return new Variable(data, this, requiresGrad);
    }

    public Variable constant(Tensor data) { return input(data, false); }

    /** A tensor from this tape's pool, valid until {@link #reset}; contents unspecified. */
    public Tensor scratch(Shape shape) { return pool.take(shape); }

    /**
     * Runs backward from a scalar: seeds d(root)/d(root) = 1, then calls the recorded backward
     * steps in reverse order. Gradients accumulate into parameters and into inputs that require them.
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
        for (int i = backwards.size() - 1; i >= 0; i--) {
            if (outputs.get(i).grad != null) backwards.get(i).run();
        }
    }

    /** Forgets the recorded ops and recycles every tensor this tape handed out. */
    public void reset() {
        outputs.clear();
        backwards.clear();
        pool.releaseAll();
    }

    /** Inside this scope ops record nothing: for evaluation and for building attack images. */
    public NoGrad noGrad() {
        NoGrad scope = new NoGrad(gradEnabled);
        gradEnabled = false;
        return scope;
    }

    /** The guard returned by {@link #noGrad}; closing it restores the previous state. */
    public final class NoGrad implements AutoCloseable {
        private final boolean previous;
        private NoGrad(boolean previous) { this.previous = previous; }
        @Override public void close() { gradEnabled = previous; }
    }

    /** Tensors the backend had to allocate so far; constant across steady-state steps. */
    public int allocations() { return pool.allocations(); }

    @Override public void close() {
        reset();
        pool.clear();
    }

    // ---- used by Ops ----------------------------------------------------------------------------

    /** The output variable of an op whose inputs are given: it requires grad if any input does. */
    Variable result(Shape shape, Variable a, Variable b, Variable c) {
        boolean needsGrad = gradEnabled && (needs(a) || needs(b) || needs(c));
        return new Variable(pool.take(shape), this, needsGrad);
    }

    private static boolean needs(Variable v) { return v != null && v.requiresGrad; }

    /** Appends an op's backward step; it runs only if the output ends up with a gradient. */
    void record(Variable output, Runnable backward) {
        if (!output.requiresGrad) return;
        outputs.add(output);
        backwards.add(backward);
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
}
