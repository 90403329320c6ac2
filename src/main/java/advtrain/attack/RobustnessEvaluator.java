package advtrain.attack;

import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.data.BatchLoader;
import advtrain.data.Dataset;
import advtrain.io.Progress;
import advtrain.nn.Module;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a model, clean and under attack, over a test set in batches, and counts. Each batch is
 * copied to the device once per pass (the edge where copies belong); the attack then runs on the
 * device, and only the predictions and per-image losses come back. Predictions are made in
 * evaluation mode, and the model's mode is restored after each batch. The clean pass is also what
 * {@link advtrain.train.CleanEvaluator} reports as a model's test accuracy.
 */
public final class RobustnessEvaluator implements AutoCloseable {
    private final Backend backend;
    private final Module model;
    private final Dataset data;
    private final BatchLoader loader;
    private final int classes;
    private final boolean quiet;
    private final int batchSize;
    private java.util.function.Consumer<String> log;
    private final float[] hostImages, hostLabels, hostLosses;
    private final float[] hostLogProbs;
    private final Map<Integer, Tensor[]> deviceBatches = new HashMap<>();
    private final Tape tape;
    private Predictions clean;

    /** Per-image results of one pass: labels, predicted classes and NLL losses. */
    public record Predictions(int[] labels, int[] predicted, float[] losses) {
        public int correct() {
            int c = 0;
            for (int i = 0; i < labels.length; i++) if (predicted[i] == labels[i]) c++;
            return c;
        }

        public double meanLoss() {
            double s = 0;
            for (float l : losses) s += l;
            return losses.length == 0 ? Double.NaN : s / losses.length;
        }
    }

    /**
     * @param classes the model's number of outputs (10 for CIFAR-10)
     * @param quiet   no progress bars
     */
    public RobustnessEvaluator(Backend backend, Module model, Dataset data, int batchSize, int classes, boolean quiet) {
        this.backend = backend;
        this.model = model;
        this.data = data;
        this.loader = new BatchLoader(data, batchSize, false, false, 0);
        this.loader.startEpoch(0);
        this.classes = classes;
        this.quiet = quiet;
        this.batchSize = batchSize;
        this.log = quiet ? line -> {} : System.out::println;
        int batch = Math.min(batchSize, Math.max(1, data.size()));
        this.hostImages = new float[batch * Dataset.IMAGE_BYTES];
        this.hostLabels = new float[batch];
        this.hostLosses = new float[batch];
        this.hostLogProbs = new float[batch * classes];
        this.tape = new Tape(backend);
    }

    public int size() { return data.size(); }

    /** Where the evaluation attacks' progress lines go (AutoAttack's robust accuracy after each member). */
    public void setLog(java.util.function.Consumer<String> sink) { log = sink; }

    /** Clean predictions, computed on the first call and remembered. */
    public Predictions clean() {
        if (clean != null) return clean;
        int n = data.size();
        int[] labels = new int[n], predicted = new int[n];
        float[] losses = new float[n];
        try (Progress progress = Progress.start("clean", n, quiet)) {
            for (int b = 0, offset = 0; b < loader.batches(); b++) {
                Tensor[] xy = load(b);
                predict(xy[0], xy[1], labels, predicted, losses, offset);
                offset += xy[0].shape().dim(0);
                progress.step(xy[0].shape().dim(0), null);
            }
        }
        clean = new Predictions(labels, predicted, losses);
        return clean;
    }

    /** Attacks every image with a fresh attack of this configuration and counts. */
    public AttackResult run(AttackConfig config) {
        return run(config, model);
    }

    /** Crafts with a fresh attack of this configuration on {@code source} and counts on this evaluator's model. */
    public AttackResult run(AttackConfig config, Module source) {
        try (Attack attack = Attack.create(backend, config, batchSize)) {
            return run(attack, source);
        }
    }

    /** Attacks every image and counts: robust accuracy, success rate, per class, timing, sanity checks. */
    public AttackResult run(Attack attack) {
        return run(attack, model);
    }

    /**
     * Crafts the adversarial images on {@code source} and counts them on this evaluator's model: the
     * transfer attack when the two differ (a white-box attack on a substitute, evaluated on a model it
     * never saw). FGSM and PGD run batch by batch (a {@link Pass}); the evaluation attacks (APGD,
     * Square, AutoAttack) get the whole set at once and attack only the images the evaluated model
     * classifies correctly (the others are not robust whatever happens), as AutoAttack does.
     */
    public AttackResult run(Attack attack, Module source) {
        if (!attack.batchByBatch()) return runWholeSet((HostAttack) attack, source);
        try (Pass pass = pass(attack)) {
            while (pass.hasNext()) {
                Batch batch = pass.next();
                pass.count(attack.perturb(source, batch.images(), batch.labels()));
            }
            return pass.result();
        }
    }

    /** A batch of the test set on the device: images [N, 3, 32, 32] in [0, 1] and labels [N]. */
    public record Batch(Tensor images, Tensor labels) {}

    /**
     * A pass of an attack that runs batch by batch, for a caller that calls the attack itself:
     * <pre>{@code
     * try (Pass pass = evaluator.pass(attack)) {
     *     while (pass.hasNext()) {
     *         Batch batch = pass.next();
     *         pass.count(attack.perturb(model, batch.images(), batch.labels()));
     *     }
     *     AttackResult result = pass.result();
     * }
     * }</pre>
     */
    public Pass pass(Attack attack) {
        if (!attack.batchByBatch()) throw new IllegalArgumentException(attack.config().describe() + " attacks the whole set at once: use run");
        return new Pass(attack);
    }

    /**
     * One attack's pass over the set: {@link #next} copies the next batch to the device and starts
     * the clock, {@link #count} stops it, predicts the adversarial batch and counts, {@link #result}
     * sums up after the last batch.
     */
    public final class Pass implements AutoCloseable {
        private final Attack attack;
        private final AttackConfig config;
        private final Predictions before;
        private final int[] labels, predicted, targets;
        private final float[] losses, hostTargets;
        private final Progress progress;
        private Attack.GradientStats gradients = Attack.GradientStats.NONE;
        private Batch current;
        private long attackNanos, start;
        private int batch, offset, robustSoFar;

        private Pass(Attack attack) {
            this.attack = attack;
            this.config = attack.config();
            this.before = clean();
            int n = data.size();
            labels = new int[n];
            predicted = new int[n];
            losses = new float[n];
            targets = config.targeted() ? new int[n] : null;
            hostTargets = config.targeted() ? new float[hostLabels.length] : null;
            progress = Progress.start(config.kind().label() + " eps=" + AttackConfig.fmt(config.eps()), n, quiet);
        }

        public boolean hasNext() { return batch < loader.batches(); }

        /** The next batch, on the device; the attack's clock starts. */
        public Batch next() {
            if (current != null) throw new IllegalStateException("count the last batch before taking the next");
            Tensor[] xy = load(batch++);
            current = new Batch(xy[0], xy[1]);
            backend.synchronize();
            start = System.nanoTime();
            return current;
        }

        /** The attack's result for the batch {@link #next} gave: the clock stops, and its predictions are counted. */
        public void count(Tensor adversarial) {
            if (current == null) throw new IllegalStateException("no batch taken: call next first");
            backend.synchronize();
            attackNanos += System.nanoTime() - start;
            int n = current.images().shape().dim(0);
            gradients = gradients.plus(attack.lastGradientStats());
            if (targets != null) {
                backend.read(attack.lastTargets(), hostTargets, 0);
                for (int i = 0; i < n; i++) targets[offset + i] = (int) hostTargets[i];
            }
            predict(adversarial, current.labels(), labels, predicted, losses, offset);
            for (int i = 0; i < n; i++) if (predicted[offset + i] == labels[offset + i]) robustSoFar++;
            offset += n;
            current = null;
            progress.step(n, String.format(java.util.Locale.ROOT, "robust %.1f%%", 100.0 * robustSoFar / offset));
        }

        /** Robust accuracy, success rate, per class, timing and sanity checks, once every batch was counted. */
        public AttackResult result() {
            if (hasNext() || current != null) throw new IllegalStateException("the pass is not finished");
            return AttackResult.count(config, before, new Predictions(labels, predicted, losses), targets, classes,
                    gradients, attackNanos / 1e9);
        }

        @Override public void close() { progress.close(); }
    }

    private AttackResult runWholeSet(HostAttack attack, Module source) {
        Predictions before = clean();
        int n = data.size(), size = Dataset.IMAGE_BYTES;
        float[] pixels = new float[n * size], adversarial = new float[n * size];
        int[] labels = new int[n], predicted = new int[n];
        float[] losses = new float[n];
        boolean[] attacked = new boolean[n];
        for (int i = 0; i < n; i++) {
            data.copyImage(i, pixels, i * size);
            labels[i] = data.label(i);
            attacked[i] = before.predicted()[i] == labels[i];
        }
        attack.setLog(log);
        backend.synchronize();
        long start = System.nanoTime();
        attack.attack(source, new HostAttack.Images(pixels, labels, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH), attacked, adversarial);
        backend.synchronize();
        double seconds = (System.nanoTime() - start) / 1e9;
        for (int offset = 0; offset < n; offset += hostLabels.length) {
            int count = Math.min(hostLabels.length, n - offset);
            for (int i = 0; i < count; i++) hostLabels[i] = labels[offset + i];
            Tensor[] xy = deviceBatches.computeIfAbsent(count, c -> new Tensor[] {
                    backend.allocate(Shape.of(c, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH)), backend.allocate(Shape.of(c))});
            backend.write(xy[0], adversarial, offset * size);
            backend.write(xy[1], hostLabels, 0);
            predict(xy[0], xy[1], labels, predicted, losses, offset);
        }
        List<AutoAttack.Stage> stages = attack instanceof AutoAttack auto ? auto.lastStages() : List.of();
        return AttackResult.count(attack.config(), before, new Predictions(labels, predicted, losses), null, classes,
                attack.lastGradientStats(), seconds, attack.lastQueries(), stages);
    }

    /** Copies batch b to the device, into tensors kept per batch size. */
    private Tensor[] load(int b) {
        int count = loader.fill(b, hostImages, hostLabels);
        Tensor[] xy = deviceBatches.computeIfAbsent(count, c -> new Tensor[] {
                backend.allocate(Shape.of(c, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH)), backend.allocate(Shape.of(c))});
        backend.write(xy[0], hostImages, 0);
        backend.write(xy[1], hostLabels, 0);
        return xy;
    }

    /**
     * Forward pass without gradients; writes labels (still in hostLabels from {@link #load}), argmax
     * predictions and NLL losses at offset.
     */
    private void predict(Tensor images, Tensor labelTensor, int[] labels, int[] predicted, float[] losses, int offset) {
        int count = images.shape().dim(0);
        boolean wasTraining = model.isTraining();
        model.eval();
        try (Tape.NoGrad off = tape.noGrad()) {
            Variable logProbs = model.forward(tape.input(images, false));
            if (logProbs.shape().rank() != 2 || logProbs.shape().dim(1) != classes) {
                throw new IllegalArgumentException("the model gives " + logProbs.shape() + ", expected [" + count + ", " + classes + "]");
            }
            Variable perImage = Ops.nllLosses(logProbs, tape.constant(labelTensor));
            backend.read(logProbs.data(), hostLogProbs, 0);
            backend.read(perImage.data(), hostLosses, 0);
        } finally {
            tape.reset();
            model.train(wasTraining);
        }
        for (int i = 0; i < count; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) if (hostLogProbs[i * classes + c] > hostLogProbs[i * classes + best]) best = c;
            predicted[offset + i] = best;
            labels[offset + i] = (int) hostLabels[i];
            losses[offset + i] = hostLosses[i];
        }
    }

    /** Sanity check across attacks: PGD must not be weaker than FGSM at the same ε and norm. */
    public static List<String> compareWithFgsm(AttackResult pgd, AttackResult fgsm) {
        List<String> warnings = new ArrayList<>();
        int tolerance = Math.max(1, (int) Math.round(0.005 * pgd.successBase()));
        if (pgd.successes() + tolerance <= fgsm.successes()) {
            warnings.add(String.format(java.util.Locale.ROOT,
                    "PGD is weaker than FGSM at eps=%s: it fools %d images, FGSM %d (robust accuracy %.2f%% vs %.2f%%). "
                            + "A correct PGD with enough steps is at least as strong; check the step size and steps "
                            + "(alpha*steps >= eps), or suspect a bug or gradient masking",
                    AttackConfig.fmt(pgd.config().eps()), pgd.successes(), fgsm.successes(),
                    100 * pgd.robustAccuracy(), 100 * fgsm.robustAccuracy()));
        }
        return warnings;
    }

    @Override public void close() {
        tape.close();
        for (Tensor[] xy : deviceBatches.values()) for (Tensor t : xy) backend.release(t);
        deviceBatches.clear();
    }
}
