package advtrain.experiments;

import advtrain.attack.Attack;
import advtrain.attack.AttackConfig;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.data.BatchLoader;
import advtrain.data.Dataset;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import advtrain.tensor.Tensor;
import advtrain.train.AdversarialTraining;
import advtrain.train.Objective;
import advtrain.train.TrainConfig;
import advtrain.train.Trainer;

import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * How long a reproduction will take, and how far it has come. The cost model counts work in units of
 * one image's forward+backward pass; {@link #estimate} measures this backend's units per second and
 * the cost of an attack step, then adds up the plan. Each stage announces itself with {@link #begin}
 * and reports the work it did with {@link #done}, so the time left is told from what this run has done.
 */
final class ReproduceProgress {
    /** Cost model of the estimate, in image forward+backward passes: a forward pass alone costs about this. */
    static final double FORWARD = 0.35;
    /**
     * An attack step inside adversarial training (batch 32, input gradient only): FGSM training ran at
     * 1,000 images/s against 2,800 for plain training on OpenCL (PoCL, 2 cores), 2.8 units per image.
     */
    static final double TRAIN_ATTACK_STEP = 0.8;
    static final double PROBE_SECONDS = 15;

    private final Backend backend;
    private final Plan plan;
    private final PrintStream log;
    private final long start = System.nanoTime();
    /** When the plan's work began (after the estimate's measurements, which count as no units). */
    private long workStart = start;
    private double unitsPlanned, unitsDone, unitsPerSecond;
    /** What one image's attack step (batches of {@value Reproduce#ATTACK_BATCH}) costs in units: measured by {@link #estimate}. */
    private double attackStep = 0.5;
    private int stage;
    private final int stages;

    ReproduceProgress(Backend backend, Plan plan, PrintStream log, int stages) {
        this.backend = backend;
        this.plan = plan;
        this.log = log;
        this.stages = stages;
    }

    double unitsPlanned() { return unitsPlanned; }

    double unitsPerSecond() { return unitsPerSecond; }

    double attackStep() { return attackStep; }

    /** Counts work done (in units) towards the estimate of the time left. */
    void done(double units) { unitsDone += units; }

    /** Measures this backend's speed (training steps, attack steps), then adds up the plan's work; returns seconds. */
    double estimate(Dataset train, Dataset attacked, Models models) {
        unitsPerSecond = measureSpeed(train);
        attackStep = Math.min(2, Math.max(0.05, measureAttackStep(attacked) * unitsPerSecond));
        double units = 0;
        if (!models.isComplete(Models.PLAIN, AdversarialTraining.none(0f))) units += trainUnits(AdversarialTraining.none(0f));
        for (float eps : plan.advEps()) {
            AdversarialTraining t = AdversarialTraining.fgsm(eps, Plan.ADV_MIX);
            if (!models.isComplete(Models.adversarialSlug(eps), t)) units += trainUnits(t);
            units += defenseUnitsPerModel();
        }
        units += sweepUnits() + conditionUnits() + (1 + plan.advEps().length) * autoAttackStageUnits();
        unitsPlanned = units;
        workStart = System.nanoTime();
        return units / unitsPerSecond;
    }

    /**
     * Images per second of plain SGD steps with batch 32, once warm: the Java backend runs slowly until
     * the JIT has compiled its kernels, which can take seconds (on a busy machine, longer than the
     * warm-up), so rounds of 8 batches are timed until one is no faster than the one before and the JIT
     * compiled nothing meanwhile (or {@value #PROBE_SECONDS} s have passed), and the best counts. A
     * round timed while the compiler was still at work measured half the speed the run then trained at.
     */
    private double measureSpeed(Dataset train) {
        Dataset sample = train.limit(TrainConfig.BATCH * 8);
        Net net = new Net(backend, 0);
        Sgd sgd = new Sgd(backend, net.parameters(), plan.lr(), TrainConfig.MOMENTUM);
        BatchLoader loader = new BatchLoader(sample, TrainConfig.BATCH, false, false, 0);
        long probeStart = System.nanoTime();
        double best = 0, previous = 0;
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean watchJit = jit != null && jit.isCompilationTimeMonitoringSupported();
        long compiling = watchJit ? jit.getTotalCompilationTime() : 0;
        try (Trainer trainer = new Trainer(backend, net, sgd, Objective.standard())) {
            for (int round = 0; round < 100; round++) {
                double speed = trainer.trainEpoch(loader, round, null).imagesPerSecond();
                best = Math.max(best, speed);
                long now = watchJit ? jit.getTotalCompilationTime() : compiling;
                boolean jitQuiet = now == compiling;
                compiling = now;
                boolean settled = round >= 2 && speed < 1.1 * previous && jitQuiet;
                if (settled || (System.nanoTime() - probeStart) / 1e9 > PROBE_SECONDS) break;
                previous = speed;
            }
        }
        return best;
    }

    /**
     * Seconds per image and step of a PGD attack on a batch of up to {@value Reproduce#ATTACK_BATCH} test images
     * (an untrained network: the cost does not depend on the weights), once warm.
     */
    private double measureAttackStep(Dataset attacked) {
        int n = Math.min(Reproduce.ATTACK_BATCH, attacked.size()), steps = 2;
        float[] images = new float[n * Dataset.IMAGE_BYTES], labels = new float[n];
        for (int i = 0; i < n; i++) {
            attacked.copyImage(i, images, i * Dataset.IMAGE_BYTES);
            labels[i] = attacked.label(i);
        }
        Net net = new Net(backend, 0);
        Tensor x = Tensors.fromArray(backend, images, n, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH), y = Tensors.fromArray(backend, labels, n);
        double best = Double.MAX_VALUE;
        long probeStart = System.nanoTime();
        try (Attack attack = Attack.create(backend, AttackConfig.pgd(0.03f).withSteps(steps))) {
            for (int round = 0; round < 20 && (round < 3 || (System.nanoTime() - probeStart) / 1e9 < PROBE_SECONDS / 3); round++) {
                backend.synchronize();
                long t = System.nanoTime();
                attack.perturb(net, x, y);
                backend.synchronize();
                best = Math.min(best, (System.nanoTime() - t) / 1e9 / ((double) n * steps));
            }
        } finally {
            backend.release(x);
            backend.release(y);
        }
        return best;
    }

    /**
     * AutoAttack on these images, roughly: APGD-CE's 100 steps on every image, then APGD-T's 9 × 100
     * steps and Square's 5000 forward passes on the images still robust, taken as a tenth.
     */
    double autoAttackUnits(int images) {
        return images * (attackStep * 100 * (1 + 0.1 * 9) + 0.1 * AttackConfig.DEFAULT_QUERIES * FORWARD);
    }

    /** AutoAttack on one model, and PGD-10 on the same images when they are fewer than the attacked ones (else it is known). */
    double autoAttackStageUnits() {
        int n = plan.autoAttackImages();
        return autoAttackUnits(n) + (n < plan.attackImages() ? attackUnits(AttackConfig.pgd(plan.conditionEps()), n) : 0);
    }

    double trainUnits(AdversarialTraining training) {
        double perImage = switch (training.method()) {
            case NONE -> 1;
            case FGSM -> training.mix() == 1f ? 1 : TRAIN_ATTACK_STEP + 1 + 1;  // the attack's gradient, the adversarial and the clean pass
            // the attack's gradients, the adversarial pass, and a clean pass only where the loss has a clean term
            case FGSM_RS -> TRAIN_ATTACK_STEP + 1 + (training.mix() > 0f ? 1 : 0);
            case PGD -> TRAIN_ATTACK_STEP * training.steps() + 1 + (training.mix() > 0f ? 1 : 0);
        };
        double perEpoch = plan.trainImages() * perImage + plan.testImages() * FORWARD;
        if (training.adversarial()) perEpoch += plan.evalAdvLimit() * (attackStep * AttackConfig.DEFAULT_STEPS + 2 * FORWARD);
        return plan.epochs() * perEpoch;
    }

    double attackUnits(AttackConfig config, int images) {
        return config.eps() == 0 ? images * FORWARD : images * (attackStep * config.steps() * config.restarts() + FORWARD);
    }

    double sweepUnits() {
        double units = plan.attackImages() * FORWARD;
        for (float eps : plan.sweepEps()) units += attackUnits(AttackConfig.fgsm(eps), plan.attackImages()) + attackUnits(AttackConfig.pgd(eps), plan.attackImages());
        return units;
    }

    double conditionUnits() {
        return (plan.conditionRatios().length * (attackStep * Plan.CONDITION_STEPS + FORWARD) + attackStep + FORWARD) * plan.attackImages();
    }

    double defenseUnitsPerModel() {
        double units = plan.attackImages() * FORWARD;
        for (float eps : plan.advEvalEps()) units += attackUnits(AttackConfig.pgd(eps), plan.attackImages());
        return units;
    }

    /** Announces the next stage, with the time elapsed and, once some work is done, the time left. */
    void begin(String what, double units) {
        stage++;
        double elapsed = elapsed();
        String left = "";
        double working = (System.nanoTime() - workStart) / 1e9;
        if (unitsDone > 0 && working > 1) {
            double rate = unitsDone / working;  // what this run has done since the estimate, models reused excluded
            left = ", about " + duration(Math.max(0, unitsPlanned - unitsDone) / rate) + " left";
        }
        log.printf(Locale.ROOT, "[%d/%d] %s (elapsed %s%s)%n", Math.min(stage, stages), stages, what, duration(elapsed), left);
    }

    double elapsed() { return (System.nanoTime() - start) / 1e9; }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + " s";
        if (s < 3600) return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60);
    }
}
