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
 */
public final class FrozenEval implements AutoCloseable {
    private final Module model;
    private final boolean wasTraining;
    private final List<Variable> parameters;
    private final boolean[] requiredGrad;
    private boolean closed;

    private FrozenEval(Module model) {
        this.model = model;
        this.wasTraining = model.isTraining();
        this.parameters = model.parameters();
        this.requiredGrad = new boolean[parameters.size()];
        for (int i = 0; i < requiredGrad.length; i++) requiredGrad[i] = parameters.get(i).requiresGrad();
        model.eval();
        for (Variable p : parameters) p.setRequiresGrad(false);
    }

    /** Puts the model in evaluation mode with frozen parameters until {@link #close}. */
    public static FrozenEval of(Module model) {
        return new FrozenEval(model);
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        for (int i = 0; i < requiredGrad.length; i++) parameters.get(i).setRequiresGrad(requiredGrad[i]);
        model.train(wasTraining);
    }
}
