package advtrain.attack;

import advtrain.autograd.Variable;
import advtrain.nn.Module;

import java.util.List;

/**
 * A scoped model mode, as advertorch's {@code ctx_noparamgrad_and_eval}: inside it the model is in
 * evaluation mode and its parameters do not require gradients, so the backward pass computes the
 * gradient with respect to the input only (the backward kernels skip the weight gradients) and the
 * parameters' accumulated gradients are left untouched. Closing it restores the mode and every
 * parameter's flag as they were, whatever happened inside:
 *
 * <pre>{@code
 * try (FrozenEval frozen = FrozenEval.of(model)) {
 *     ... forward and backward passes for the attack ...
 * }
 * }</pre>
 *
 * Only the model's own training flag is saved; {@link Module#train} sets it on every child, so a
 * model whose children were in different modes comes back with all of them in the root's mode.
 *
 * <p>An attack that runs inside every training step keeps one guard and {@link #enter}s it per
 * call, so that the step allocates nothing; the guard is not reentrant.
 */
public final class FrozenEval implements AutoCloseable {
    private Module model;  // null when not entered
    private boolean wasTraining;
    private List<Variable> parameters;
    private boolean[] requiredGrad = new boolean[0];
    private boolean evaluationMode = true;

    /**
     * Whether entering puts the model in evaluation mode (the default), or only freezes its
     * parameters and leaves its mode as it is: adversarial training crafts its examples in
     * training mode (see {@link Attack#setEvaluationMode}).
     */
    public FrozenEval setEvaluationMode(boolean on) {
        if (model != null) throw new IllegalStateException("FrozenEval: entered; change the mode between uses");
        evaluationMode = on;
        return this;
    }

    /** Puts the model in evaluation mode with frozen parameters until {@link #close}. */
    public static FrozenEval of(Module model) {
        return new FrozenEval().enter(model);
    }

    /** This guard, now holding the model in evaluation mode with frozen parameters until {@link #close}. */
    public FrozenEval enter(Module model) {
        if (this.model != null) throw new IllegalStateException("FrozenEval: already entered; close it first");
        this.model = model;
        this.wasTraining = model.isTraining();
        this.parameters = model.parameters();
        if (requiredGrad.length < parameters.size()) requiredGrad = new boolean[parameters.size()];
        for (int i = 0; i < parameters.size(); i++) requiredGrad[i] = parameters.get(i).requiresGrad();
        if (evaluationMode) model.eval();
        for (int i = 0; i < parameters.size(); i++) parameters.get(i).setRequiresGrad(false);
        return this;
    }

    @Override public void close() {
        if (model == null) return;
        for (int i = 0; i < parameters.size(); i++) parameters.get(i).setRequiresGrad(requiredGrad[i]);
        model.train(wasTraining);
        model = null;
        parameters = null;
    }
}
