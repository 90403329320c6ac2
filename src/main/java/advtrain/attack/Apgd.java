package advtrain.attack;

import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.nn.Module;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Auto-PGD (Croce and Hein, "Reliable evaluation of adversarial robustness with an ensemble of
 * diverse parameter-free attacks", ICML 2020), L∞ and L2, with the cross-entropy (APGD-CE), the DLR
 * loss (APGD-DLR) or the targeted DLR loss toward each of the 9 most likely other classes in turn
 * (APGD-T). No step size to tune: it starts at 2ε and halves at checkpoints when progress stalls.
 *
 * <pre>
 *   x(0) = a random point of the ε-ball, clipped to [0,1]
 *   x(1) = P(x(0) + η·dir(∇f(x(0))))                                 dir: sign (L∞), unit vector (L2)
 *   z    = P(x(k) + η·dir(∇f(x(k))))
 *   x(k+1) = P(x(k) + α·(z − x(k)) + (1 − α)·(x(k) − x(k−1)))       momentum α = 0.75
 * </pre>
 * P projects onto the ε-ball around the clean image and clips to [0,1]. At the checkpoints w_j (after
 * 22 % of the iterations, then intervals shrinking by 3 % down to 6 %: 22, 41, 57, 70, 80, 87, 93, 99 of
 * 100), an image's step size halves, and it restarts from its best point so far (with that point's
 * gradient), when either (1) at most ρ = 0.75 of the interval's iterations raised its loss, or (2) its
 * step size did not halve at the last checkpoint and its best loss has not grown since. (The paper
 * writes condition 1 with "<", its code with "<="; this follows the code, as AutoAttack runs it.)
 *
 * <p>Per image the attack returns the point where it was first found misclassified, else the point of
 * highest loss. The iterates live on the device; losses, step sizes and the checkpoint rule are
 * per-image numbers on the host.
 */
final class Apgd extends HostAttack {
    /** APGD-T's target classes: the most likely other classes of the clean image, in order (AutoAttack: 9). */
    static final int TARGETS = 9;
    static final float MOMENTUM = 0.75f;
    static final double RHO = 0.75;
    static final float INITIAL_STEP = 2f;   // η(0) = 2ε

    private final Losses loss;
    private Workspace workspace;
    private long calls;
    /** Tests: records the step sizes and checkpoints of each chunk run. */
    Trace trace;
    /** Tests: the start point of the next runs, [count, C, H, W] of the attacked images in order, instead of a random one. */
    float[] fixedStart;

    /** The step sizes used at each iteration ([iterations][images]) and the iterations after which the rule was checked. */
    static final class Trace {
        final List<float[]> steps = new ArrayList<>();
        final List<Integer> checkpoints = new ArrayList<>();
        final List<double[]> losses = new ArrayList<>();
    }

    Apgd(Backend backend, AttackConfig config, int batchSize) {
        super(backend, config, batchSize);
        if (!config.kind().isApgd() && config.kind() != AttackConfig.Kind.AUTOATTACK) {
            throw new IllegalArgumentException("APGD: not an APGD configuration: " + config.describe());
        }
        loss = switch (config.kind()) {
            case APGD_DLR -> Losses.DLR;
            case APGD_T -> Losses.DLR_TARGETED;
            default -> Losses.CE;
        };
    }

    /**
     * The checkpoints for n iterations: the first after max(⌊0.22 n⌋, 1) iterations, each next interval
     * max(⌊0.03 n⌋, 1) shorter down to max(⌊0.06 n⌋, 1), the last no later than n.
     */
    static int[] checkpoints(int iterations) {
        int interval = Math.max((int) (0.22 * iterations), 1), shrink = Math.max((int) (0.03 * iterations), 1);
        int shortest = Math.max((int) (0.06 * iterations), 1);
        List<Integer> list = new ArrayList<>();
        for (int at = interval; at <= iterations; interval = Math.max(interval - shrink, shortest), at += interval) list.add(at);
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override void run(Module model, Images images, boolean[] attacked, float[] adversarial) {
        gradientStats = GradientStats.NONE;
        if (config.eps() == 0) return;   // the ball is the clean image
        long call = calls++;
        int n = images.count();
        boolean[] fooled = new boolean[n];
        int classes = classesOf(model, images);
        int[] order = loss == Losses.DLR_TARGETED ? rankClasses(model, images, classes) : null;
        int targetRanks = order == null ? 1 : Math.min(TARGETS, classes - 1);
        int runIndex = 0;
        for (int rank = 0; rank < targetRanks; rank++) {
            for (int restart = 0; restart < config.restarts(); restart++, runIndex++) {
                int[] todo = indices(attacked, fooled);
                for (int from = 0; from < todo.length; from += batchSize) {
                    int m = Math.min(batchSize, todo.length - from);
                    int[] chunk = Arrays.copyOfRange(todo, from, from + m);
                    int[] targets = null;
                    if (order != null) {
                        targets = new int[m];
                        for (int i = 0; i < m; i++) targets[i] = otherClass(order, chunk[i], classes, images.labels()[chunk[i]], rank);
                    }
                    long seed = config.seed() * 0x9E3779B97F4A7C15L + (call + 1) * 0xBF58476D1CE4E5B9L
                            + (runIndex + 1) * 0x94D049BB133111EBL;
                    runChunk(model, images, chunk, targets, classes, seed, runIndex == 0, adversarial, fooled);
                }
            }
        }
    }

    /** Images attacked and not yet fooled. */
    static int[] indices(boolean[] attacked, boolean[] fooled) {
        int count = 0;
        for (int i = 0; i < attacked.length; i++) if (attacked[i] && !fooled[i]) count++;
        int[] list = new int[count];
        for (int i = 0, k = 0; i < attacked.length; i++) if (attacked[i] && !fooled[i]) list[k++] = i;
        return list;
    }

    /** For APGD-T: per attacked image, every class by its clean output, largest first ([n * classes]). */
    private int[] rankClasses(Module model, Images images, int classes) {
        int n = images.count(), size = images.size();
        int[] order = new int[n * classes];
        float[] staging = new float[Math.min(batchSize, Math.max(n, 1)) * size], out = null;
        for (int from = 0; from < n; from += batchSize) {
            int m = Math.min(batchSize, n - from);
            System.arraycopy(images.pixels(), from * size, staging, 0, m * size);
            out = scores(model, staging, m, images, out);
            for (int i = 0; i < m; i++) {
                int[] top = Losses.top(out, i, classes, classes);
                System.arraycopy(top, 0, order, (from + i) * classes, classes);
            }
        }
        return order;
    }

    /** The rank-th most likely class of image i other than its label (rank 0: the most likely). */
    static int otherClass(int[] order, int image, int classes, int label, int rank) {
        for (int r = 0, seen = 0; r < classes; r++) {
            int c = order[image * classes + r];
            if (c == label) continue;
            if (seen++ == rank) return c;
        }
        throw new IllegalArgumentException("no class of rank " + rank + " besides the label");
    }

    /** The device buffers of one chunk size. */
    private final class Workspace {
        final Shape shape;
        final Tensor x0, x, previous, candidate, scratch, grad, bestGrad, best, fooling, rows, step, mask, inverse;
        Tensor outputGrad;

        Workspace(Shape shape) {
            this.shape = shape;
            Shape perImage = Shape.of(shape.dim(0));
            x0 = backend.allocate(shape);
            x = backend.allocate(shape);
            previous = backend.allocate(shape);
            candidate = backend.allocate(shape);
            scratch = backend.allocate(shape);
            grad = backend.allocate(shape);
            bestGrad = backend.allocate(shape);
            best = backend.allocate(shape);
            fooling = backend.allocate(shape);
            rows = backend.allocate(perImage);
            step = backend.allocate(perImage);
            mask = backend.allocate(perImage);
            inverse = backend.allocate(perImage);
        }

        void release() {
            for (Tensor t : new Tensor[] {x0, x, previous, candidate, scratch, grad, bestGrad, best, fooling, rows, step, mask,
                    inverse, outputGrad}) {
                if (t != null) backend.release(t);
            }
        }
    }

    private Workspace workspace(Shape shape) {
        if (workspace != null && workspace.shape.equals(shape)) return workspace;
        if (workspace != null) workspace.release();
        tape.close();   // the pooled tensors of the old chunk size
        return workspace = new Workspace(shape);
    }

    /** The per-image state of a chunk run on the host. */
    private static final class State {
        final float[] outputs, outputGrad, stepSizes, mask, inverse;
        final double[] loss, bestLoss, previousLoss, bestAtLastCheck;
        final boolean[] wrong, fooled, reducedAtLastCheck, chosen;
        final int[] increases;

        State(int m, int classes) {
            outputs = new float[m * classes];
            outputGrad = new float[m * classes];
            stepSizes = new float[m];
            mask = new float[m];
            inverse = new float[m];
            loss = new double[m];
            bestLoss = new double[m];
            previousLoss = new double[m];
            bestAtLastCheck = new double[m];
            wrong = new boolean[m];
            fooled = new boolean[m];
            reducedAtLastCheck = new boolean[m];
            chosen = new boolean[m];
            increases = new int[m];
        }
    }

    /** One APGD run on the images {@code chunk}; writes their results into adversarial and marks those fooled. */
    private void runChunk(Module model, Images images, int[] chunk, int[] targets, int classes, long seed, boolean firstRun,
                          float[] adversarial, boolean[] fooledOut) {
        int m = chunk.length, size = images.size();
        Workspace w = workspace(images.batchShape(m));
        float[] staging = new float[m * size];
        int[] labels = new int[m];
        for (int i = 0; i < m; i++) {
            copyImage(images.pixels(), chunk[i], staging, i, size);
            labels[i] = images.labels()[chunk[i]];
        }
        backend.write(w.x0, staging, 0);
        start(w, chunk, size, seed, staging);
        State s = new State(m, classes);

        evaluate(model, w, s, labels, targets);
        if (firstRun) recordGradientStats(w);
        System.arraycopy(s.loss, 0, s.bestLoss, 0, m);
        System.arraycopy(s.loss, 0, s.previousLoss, 0, m);
        System.arraycopy(s.loss, 0, s.bestAtLastCheck, 0, m);
        Arrays.fill(s.reducedAtLastCheck, true);
        backend.copy(w.x, w.best);
        backend.copy(w.grad, w.bestGrad);
        backend.copy(w.x, w.fooling);
        for (int i = 0; i < m; i++) s.fooled[i] = s.wrong[i];
        Arrays.fill(s.stepSizes, INITIAL_STEP * config.eps());
        backend.write(w.step, s.stepSizes, 0);

        int iterations = config.steps();
        int interval = Math.max((int) (0.22 * iterations), 1), shrink = Math.max((int) (0.03 * iterations), 1);
        int shortest = Math.max((int) (0.06 * iterations), 1), sinceCheck = 0;
        for (int i = 0; i < iterations; i++) {
            if (trace != null) trace.steps.add(s.stepSizes.clone());
            step(w, i == 0);
            evaluate(model, w, s, labels, targets);
            if (trace != null) trace.losses.add(s.loss.clone());
            for (int j = 0; j < m; j++) s.chosen[j] = s.wrong[j];        // misclassified now: keep as the fooling point
            select(w, w.fooling, w.x, s);
            for (int j = 0; j < m; j++) {
                s.fooled[j] |= s.wrong[j];
                if (s.loss[j] > s.previousLoss[j]) s.increases[j]++;
                s.previousLoss[j] = s.loss[j];
                s.chosen[j] = s.loss[j] > s.bestLoss[j];
                if (s.chosen[j]) s.bestLoss[j] = s.loss[j];
            }
            select(w, w.best, w.x, s);
            select(w, w.bestGrad, w.grad, s);
            if (++sinceCheck == interval) {
                boolean any = false;
                for (int j = 0; j < m; j++) {
                    boolean oscillating = s.increases[j] <= RHO * interval;
                    boolean stalled = !s.reducedAtLastCheck[j] && s.bestAtLastCheck[j] >= s.bestLoss[j];
                    s.chosen[j] = oscillating || stalled;
                    s.reducedAtLastCheck[j] = s.chosen[j];
                    s.bestAtLastCheck[j] = s.bestLoss[j];
                    s.increases[j] = 0;
                    if (s.chosen[j]) { s.stepSizes[j] /= 2; any = true; }
                }
                if (any) {   // halve η and restart from the best point, with its gradient
                    backend.write(w.step, s.stepSizes, 0);
                    select(w, w.x, w.best, s);
                    select(w, w.grad, w.bestGrad, s);
                }
                if (trace != null) trace.checkpoints.add(i + 1);
                interval = Math.max(interval - shrink, shortest);
                sinceCheck = 0;
            }
        }
        float[] best = Tensors.toArray(backend, w.best), fooling = Tensors.toArray(backend, w.fooling);
        for (int i = 0; i < m; i++) {
            System.arraycopy(s.fooled[i] ? fooling : best, i * size, adversarial, chunk[i] * size, size);
            if (s.fooled[i]) fooledOut[chunk[i]] = true;
        }
    }

    /**
     * x(0): the fixed start (tests), else uniform in the L∞ box or on the L2 sphere of radius ε, clipped
     * to [0,1]. Each image's random numbers come from its own stream, seeded by its index in the set, so
     * an image starts at the same point whichever images share its chunk (AutoAttack's members then
     * attack an image as they would alone).
     */
    private void start(Workspace w, int[] chunk, int size, long seed, float[] staging) {
        int m = chunk.length;
        if (fixedStart != null) {
            backend.write(w.x, Arrays.copyOf(fixedStart, m * size), 0);
            return;
        }
        boolean box = config.norm() == Norm.LINF;
        for (int i = 0; i < m; i++) {
            java.util.SplittableRandom random = new java.util.SplittableRandom(seed + chunk[i] * 0xD1B54A32D192ED03L);
            for (int j = i * size; j < (i + 1) * size; j++) {
                staging[j] = (float) (box ? random.nextDouble(-config.eps(), config.eps()) : random.nextDouble(-1, 1));
            }
        }
        backend.write(w.x, staging, 0);
        if (!box) {
            config.norm().normalize(backend, w.x, w.rows);
            backend.affine(w.x, config.eps(), 0f, w.x);
        }
        backend.binary(Backend.BinaryOp.ADD, w.x0, w.x, w.x);
        backend.clamp(w.x, 0f, 1f, w.x);
    }

    /** x ← P(x + α(z − x) + (1 − α)(x − previous)), z = P(x + η·dir(grad)); α = 1 at the first iteration. */
    private void step(Workspace w, boolean first) {
        Norm norm = config.norm();
        float eps = config.eps();
        backend.copy(w.grad, w.candidate);
        norm.normalize(backend, w.candidate, w.rows);
        backend.binary(Backend.BinaryOp.MUL, w.candidate, w.step, w.candidate);
        backend.binary(Backend.BinaryOp.ADD, w.x, w.candidate, w.candidate);
        norm.project(backend, w.x0, w.candidate, eps, w.scratch, w.rows);
        backend.clamp(w.candidate, 0f, 1f, w.candidate);
        if (first) {
            backend.copy(w.x, w.previous);
            backend.copy(w.candidate, w.x);
            return;
        }
        backend.copy(w.x, w.scratch);               // scratch = x − previous (the last move)
        backend.axpy(-1f, w.previous, w.scratch);
        backend.copy(w.x, w.previous);
        backend.axpy(-1f, w.x, w.candidate);        // candidate = x + α(z − x) + (1 − α)·scratch
        backend.affine(w.candidate, MOMENTUM, 0f, w.candidate);
        backend.binary(Backend.BinaryOp.ADD, w.x, w.candidate, w.candidate);
        backend.axpy(1f - MOMENTUM, w.scratch, w.candidate);
        norm.project(backend, w.x0, w.candidate, eps, w.scratch, w.rows);
        backend.clamp(w.candidate, 0f, 1f, w.x);
    }

    /** Forward and backward at x: per-image loss and misclassification on the host, ∇x (sum of losses) into w.grad. */
    private void evaluate(Module model, Workspace w, State s, int[] labels, int[] targets) {
        int m = labels.length;
        try {
            Variable input = tape.input(w.x, true);
            Variable outputs = model.forward(input);
            int classes = outputs.shape().dim(1);
            backend.read(outputs.data(), s.outputs, 0);
            for (int i = 0; i < m; i++) {
                s.loss[i] = loss.value(s.outputs, i, classes, labels[i], targets == null ? -1 : targets[i], s.outputGrad);
                s.wrong[i] = argmax(s.outputs, i, classes) != labels[i];
            }
            if (w.outputGrad == null) w.outputGrad = backend.allocate(outputs.shape());
            backend.write(w.outputGrad, s.outputGrad, 0);
            tape.backward(outputs, w.outputGrad);
            if (input.grad() == null) throw new IllegalStateException("the model's output does not depend on its input: nothing to attack");
            backend.copy(input.grad(), w.grad);
        } finally {
            tape.reset();
        }
    }

    /** target ← source for the images with s.chosen set, per image through a 0/1 mask (exact). */
    private void select(Workspace w, Tensor target, Tensor source, State s) {
        boolean any = false;
        for (int i = 0; i < s.chosen.length; i++) {
            s.mask[i] = s.chosen[i] ? 1f : 0f;
            s.inverse[i] = 1f - s.mask[i];
            any |= s.chosen[i];
        }
        if (!any) return;
        backend.write(w.mask, s.mask, 0);
        backend.write(w.inverse, s.inverse, 0);
        backend.binary(Backend.BinaryOp.MUL, target, w.inverse, target);
        backend.binary(Backend.BinaryOp.MUL, source, w.mask, w.scratch);
        backend.binary(Backend.BinaryOp.ADD, target, w.scratch, target);
    }

    /** The masking check of the first gradient: exactly zero or not finite, per image. */
    private void recordGradientStats(Workspace w) {
        backend.reduce(Backend.ReduceOp.SUM_SQUARES, w.grad, w.rows);
        int zero = 0, nonFinite = 0;
        float[] normsSquared = Tensors.toArray(backend, w.rows);
        for (float v : normsSquared) {
            if (!Float.isFinite(v)) nonFinite++;
            else if (v == 0f) zero++;
        }
        gradientStats = gradientStats.plus(new GradientStats(normsSquared.length, zero, nonFinite));
    }

    @Override public void close() {
        if (workspace != null) workspace.release();
        workspace = null;
        super.close();
    }
}
