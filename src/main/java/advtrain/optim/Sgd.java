package advtrain.optim;

import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.OptimizerKernels;
import advtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Stochastic gradient descent with torch.optim.SGD's semantics (no dampening, no Nesterov):
 * g = grad + weightDecay * param; v = momentum * v + g; param -= lr * v. The velocity starts at
 * zero, which makes the first step v = g, exactly as PyTorch's lazily created momentum buffer.
 * Weight decay applies to every parameter, as torch.optim.SGD(model.parameters(), ...) does.
 *
 * <p>The learning rate may change between steps ({@link #setLr}, what a {@link LrSchedule} does
 * every iteration); it is a float passed to the kernel, so changing it allocates nothing.
 */
public final class Sgd {
    private final Backend backend;
    private final List<Variable> params;
    private final List<Tensor> velocities = new ArrayList<>();
    /** The plain path's g = grad + weightDecay * param, one per parameter; empty when not needed. */
    private final List<Tensor> decayedGrads = new ArrayList<>();
    private final float momentum, weightDecay;
    private float lr;

    public Sgd(Backend backend, List<Variable> params, float lr, float momentum) {
        this(backend, params, lr, momentum, 0f);
    }

    public Sgd(Backend backend, List<Variable> params, float lr, float momentum, float weightDecay) {
        if (!(lr > 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) {
            throw new IllegalArgumentException("weight decay must be a number >= 0, got " + weightDecay);
        }
        this.backend = backend;
        this.params = List.copyOf(params);
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        for (Variable p : params) velocities.add(backend.allocate(p.shape()));
        if (weightDecay != 0f && !(backend instanceof OptimizerKernels)) {
            for (Variable p : params) decayedGrads.add(backend.allocate(p.shape()));
        }
    }

    /**
     * One update of every parameter: in one kernel where the backend has one, else in a few
     * elementwise calls that round in the same order (so both give the same bits). The gradients
     * are only read.
     */
    public void step() {
        for (int i = 0; i < params.size(); i++) {
            Variable p = params.get(i);
            Tensor velocity = velocities.get(i);
            if (backend instanceof OptimizerKernels fused) {
                fused.sgdStep(p.data(), p.grad(), velocity, lr, momentum, weightDecay);
                continue;
            }
            Tensor grad = p.grad();
            if (weightDecay != 0f) {
                grad = decayedGrads.get(i);
                backend.copy(p.grad(), grad);
                backend.axpy(weightDecay, p.data(), grad);      // g = grad + weightDecay * param
            }
            backend.affine(velocity, momentum, 0f, velocity);   // v = momentum * v
            backend.axpy(1f, grad, velocity);                   //   + g
            backend.axpy(-lr, velocity, p.data());              // param -= lr * v
        }
    }

    /** The learning rate of the following steps (a schedule sets it before each step). */
    public void setLr(float lr) {
        checkLr(lr);
        this.lr = lr;
    }

    /** The momentum buffers, in parameter order (saved with checkpoints to resume exactly). */
    public List<Tensor> velocities() { return velocities; }

    /** The learning rate of the next step. */
    public float lr() { return lr; }

    public float momentum() { return momentum; }

    public float weightDecay() { return weightDecay; }

    /** A schedule may reach 0 (one-cycle's last step); a negative or non-finite rate is a mistake. */
    private static void checkLr(float lr) {
        if (!(lr >= 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("learning rate must be >= 0, got " + lr);
    }
}
