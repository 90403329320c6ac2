package advtrain.attack;

import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Backend.BinaryOp;
import advtrain.backend.Backend.ReduceOp;
import advtrain.backend.Backend.UnaryOp;
import advtrain.backend.Tensors;
import advtrain.nn.Module;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.HashMap;
import java.util.Map;

/**
 * FGSM and PGD, in Foolbox's template:
 * <pre>
 *   x = x0, or a random point of the ε-ball around x0;  project; clip to [0,1]
 *   repeat steps times:
 *       g = ∇x L(θ, x, y)               (NLLLoss, mean over the batch, as PyTorch)
 *       g = normalize(g)                (sign for L∞, unit L2 norm per image for L2)
 *       x = x + α·g                     (x - α·g for a targeted attack: lower the target's loss)
 *       x = project onto the ε-ball around the ORIGINAL x0, then clip to [0,1]
 * </pre>
 * FGSM (the seed's Eq. 1) is one step with α = ε from x0; PGD (Eq. 2) is the loop. With restarts,
 * each image keeps the run whose final loss is highest (lowest, for a targeted attack).
 *
 * <p>The loop runs on the device: the attack owns a tape, whose pool serves the forward and backward
 * passes, and a {@link Workspace} per batch shape holding its own buffers; after the first call with
 * a shape nothing is allocated, and nothing is read back to the host.
 */
final class GradientAttack implements Attack {
    private final Backend backend;
    private AttackConfig config;  // replaced only by reseed, with the same settings and another seed
    private final Tape tape;
    private final Map<Shape, Workspace> workspaces = new HashMap<>();
    private final FrozenEval frozen = new FrozenEval();  // reused: an attack inside a training step allocates nothing
    private Workspace last;
    private int workspaceAllocations;
    private long calls;

    GradientAttack(Backend backend, AttackConfig config) {
        this.backend = backend;
        this.config = config;
        this.tape = new Tape(backend);
    }

    /** The attack's own buffers for one batch shape. */
    private final class Workspace {
        final Tensor result;      // [N, ...] what perturb returns
        final Tensor candidate;   // [N, ...] the current restart's x when there are several restarts, else null
        final Tensor scratch;     // [N, ...] the perturbation during projection
        final Tensor rows;        // [N] per-image numbers: norms, radii
        final Tensor targets;     // [N] the classes aimed at (targeted), else null
        final Tensor objective, bestObjective, keep;  // [N] restart selection, else null
        final Tensor firstGradNormsSquared;           // [N] ||∇x L||² at the first step, for the masking check
        boolean gradientMeasured;                     // false when the last call skipped the gradients (ε = 0)

        Workspace(Shape shape) {
            Shape perImage = Shape.of(shape.dim(0));
            boolean restarts = config.restarts() > 1;
            result = take(shape);
            candidate = restarts ? take(shape) : null;
            scratch = take(shape);
            rows = take(perImage);
            targets = config.targeted() ? take(perImage) : null;
            objective = restarts ? take(perImage) : null;
            bestObjective = restarts ? take(perImage) : null;
            keep = restarts ? take(perImage) : null;
            firstGradNormsSquared = take(perImage);
        }

        private Tensor take(Shape shape) {
            workspaceAllocations++;
            return backend.allocate(shape);
        }
    }

    @Override public AttackConfig config() { return config; }

    /** The random stream is (seed, call, restart): a new seed and the call count back at 0. */
    @Override public boolean reseed(long seed) {
        config = config.withSeed(seed);
        calls = 0;
        return true;
    }

    @Override public void setEvaluationMode(boolean on) { frozen.setEvaluationMode(on); }

    @Override public Tensor perturb(Module model, Tensor images, Tensor labels) {
        Shape shape = images.shape();
        if (shape.rank() < 2 || labels.size() != shape.dim(0)) {
            throw new IllegalArgumentException("perturb: " + labels.size() + " labels for images of shape " + shape);
        }
        Workspace w = workspaces.get(shape);
        if (w == null) workspaces.put(shape, w = new Workspace(shape));
        if (images.storage() == w.result.storage() || (w.candidate != null && images.storage() == w.candidate.storage())) {
            throw new IllegalArgumentException("perturb: the images are this attack's own result buffer; copy them first");
        }
        last = w;
        long call = calls++;
        try (FrozenEval guard = frozen.enter(model)) {
            Tensor goal = labels;
            if (config.targeted()) {
                chooseTargets(model, images, w.targets);
                goal = w.targets;
            }
            w.gradientMeasured = config.eps() > 0;
            if (!w.gradientMeasured) {  // every projection onto a ball of radius 0 lands on x0: skip the gradients
                backend.copy(images, w.result);
                return w.result;
            }
            for (int restart = 0; restart < config.restarts(); restart++) {
                Tensor x = w.candidate != null ? w.candidate : w.result;
                run(model, images, goal, x, w, seed(call, restart), restart == 0);
                if (w.candidate != null) keepBest(model, goal, w, restart == 0);
            }
        } finally {
            tape.reset();
        }
        return w.result;
    }

    /** One run of the template from the start to the last step, in x. */
    private void run(Module model, Tensor x0, Tensor goal, Tensor x, Workspace w, long seed, boolean recordGradient) {
        Norm norm = config.norm();
        float eps = config.eps();
        if (config.randomStart()) {
            norm.randomStart(backend, x0, x, eps, seed, w.rows);
            norm.project(backend, x0, x, eps, w.scratch, w.rows);
            backend.clamp(x, 0f, 1f, x);
        } else {
            backend.copy(x0, x);
        }
        float step = config.targeted() ? -config.alpha() : config.alpha();
        for (int i = 0; i < config.steps(); i++) {
            Variable input = tape.input(x, true);
            Variable loss = Ops.nllLoss(model.forward(input), tape.constant(goal));
            tape.backward(loss);
            Tensor grad = input.grad();
            if (grad == null) throw new IllegalStateException("the loss does not depend on the input: nothing to attack");
            if (recordGradient && i == 0) backend.reduce(ReduceOp.SUM_SQUARES, grad, w.firstGradNormsSquared);
            norm.normalize(backend, grad, w.rows);
            backend.axpy(step, grad, x);
            tape.reset();  // the gradient's tensor goes back to the pool; x is ours
            norm.project(backend, x0, x, eps, w.scratch, w.rows);
            backend.clamp(x, 0f, 1f, x);
        }
    }

    /** targets = the given class, or each image's least likely class under the model. */
    private void chooseTargets(Module model, Tensor images, Tensor targets) {
        if (config.targetClass() != AttackConfig.LEAST_LIKELY) {
            backend.fill(targets, config.targetClass());
            return;
        }
        try (Tape.NoGrad off = tape.noGrad()) {
            Tensor logProbs = model.forward(tape.input(images, false)).data();
            Tensor negated = tape.scratch(logProbs.shape());
            backend.affine(logProbs, -1f, 0f, negated);
            backend.reduce(ReduceOp.ARGMAX, negated, targets);
        } finally {
            tape.reset();
        }
    }

    /**
     * Per image, result = candidate where the candidate's objective (the loss, or minus the target's
     * loss) beats the best so far. The selection multiplies by a 0/1 mask, which is exact.
     */
    private void keepBest(Module model, Tensor goal, Workspace w, boolean first) {
        try (Tape.NoGrad off = tape.noGrad()) {
            Tensor losses = Ops.nllLosses(model.forward(tape.input(w.candidate, false)), tape.constant(goal)).data();
            backend.affine(losses, config.targeted() ? -1f : 1f, 0f, w.objective);
        } finally {
            tape.reset();
        }
        if (first) {
            backend.copy(w.candidate, w.result);
            backend.copy(w.objective, w.bestObjective);
            return;
        }
        backend.copy(w.objective, w.keep);                 // keep = 1 where objective > best, else 0
        backend.axpy(-1f, w.bestObjective, w.keep);
        backend.unary(UnaryOp.SIGN, w.keep, w.keep);
        backend.clamp(w.keep, 0f, 1f, w.keep);
        backend.binary(BinaryOp.MAX, w.bestObjective, w.objective, w.bestObjective);
        backend.binary(BinaryOp.MUL, w.candidate, w.keep, w.candidate);   // result = result·(1 - keep) + candidate·keep
        backend.affine(w.keep, -1f, 1f, w.keep);
        backend.binary(BinaryOp.MUL, w.result, w.keep, w.result);
        backend.binary(BinaryOp.ADD, w.result, w.candidate, w.result);
    }

    /** A different random stream for every call and restart, fixed by the seed. */
    private long seed(long call, int restart) {
        return config.seed() * 0x9E3779B97F4A7C15L + (call + 1) * 0xBF58476D1CE4E5B9L + (restart + 1) * 0x94D049BB133111EBL;
    }

    @Override public Tensor lastTargets() {
        return last == null ? null : last.targets;
    }

    @Override public GradientStats lastGradientStats() {
        if (last == null || !last.gradientMeasured) return GradientStats.NONE;
        float[] normsSquared = Tensors.toArray(backend, last.firstGradNormsSquared);
        int zero = 0, nonFinite = 0;
        for (float v : normsSquared) {
            if (!Float.isFinite(v)) nonFinite++;
            else if (v == 0f) zero++;
        }
        return new GradientStats(normsSquared.length, zero, nonFinite);
    }

    @Override public int allocations() { return tape.allocations() + workspaceAllocations; }

    @Override public void close() {
        tape.close();
        for (Workspace w : workspaces.values()) {
            for (Tensor t : new Tensor[] {w.result, w.candidate, w.scratch, w.rows, w.targets, w.objective,
                    w.bestObjective, w.keep, w.firstGradNormsSquared}) {
                if (t != null) backend.release(t);
            }
        }
        workspaces.clear();
        last = null;
    }

    @Override public String toString() { return config.describe(); }
}
