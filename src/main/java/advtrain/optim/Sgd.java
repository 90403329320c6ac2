package advtrain.optim;

import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.OptimizerKernels;
import advtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Stochastic gradient descent with PyTorch's momentum semantics (no dampening, no Nesterov):
 * v = momentum * v + grad; param -= lr * v. The velocity starts at zero, which makes the first
 * step v = grad, exactly as PyTorch's lazily created momentum buffer.
 */
public final class Sgd {
    private final Backend backend;
    private final List<Variable> params;
    private final List<Tensor> velocities = new ArrayList<>();
    private final float lr, momentum;

    public Sgd(Backend backend, List<Variable> params, float lr, float momentum) {
        if (!(lr > 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        this.backend = backend;
        this.params = List.copyOf(params);
        this.lr = lr;
        this.momentum = momentum;
        for (Variable p : params) velocities.add(backend.allocate(p.shape()));
    }

    /** One update of every parameter: in one kernel where the backend has one, else in three. */
    public void step() {
        for (int i = 0; i < params.size(); i++) {
            Variable p = params.get(i);
            Tensor velocity = velocities.get(i);
            if (backend instanceof OptimizerKernels fused) {
                fused.sgdStep(p.data(), p.grad(), velocity, lr, momentum);
            } else {
                backend.affine(velocity, momentum, 0f, velocity);   // v = momentum * v
                backend.axpy(1f, p.grad(), velocity);               //   + grad
                backend.axpy(-lr, velocity, p.data());              // param -= lr * v
            }
        }
    }

    /** The momentum buffers, in parameter order (saved with checkpoints to resume exactly). */
    public List<Tensor> velocities() { return velocities; }

    public float lr() { return lr; }

    public float momentum() { return momentum; }
}
