package advtrain.cli;

import advtrain.backend.Backend;
import advtrain.backend.select.Backends;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.io.InputFiles;
import advtrain.io.Json;
import advtrain.nn.Architectures;
import advtrain.optim.LrSchedule;
import advtrain.train.AdversarialObjective;
import advtrain.train.AdversarialTraining;
import advtrain.train.Objective;
import advtrain.train.RobustAccuracy;
import advtrain.train.TrainConfig;
import advtrain.train.TrainingRun;
import advtrain.train.WarmUp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a network (--arch; the seed's by default) on CIFAR-10 (SGD with momentum, NLL loss), evaluating on the test images after each epoch.",
                "Writes RUN/model.safetensors (PyTorch state_dict names), RUN/optimizer.safetensors (training state for --resume), "
                        + "RUN/metrics.csv and RUN/run.json after every epoch. The defaults are the seed's recipe."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "RUN", description = "the run folder (created if needed)")
    Path out;

    @Option(names = "--arch", paramLabel = "NAME", defaultValue = Architectures.LENET,
            description = {"the network: lenet (the seed's, 62,006 parameters), resnet20 (He et al. 2016, 0.27 M), "
                    + "preact-resnet18 (Wong et al. 2020, 11 M); recorded in run.json and the model file (default: ${DEFAULT-VALUE}; "
                    + "with --resume: the run's)"})
    String arch;

    @Option(names = "--epochs", defaultValue = "" + TrainConfig.EPOCHS, paramLabel = "N",
            description = "total epochs (default: ${DEFAULT-VALUE}, the seed's full recipe; with --resume: the run's, or this many in all)")
    int epochs;

    @Option(names = "--batch", defaultValue = "" + TrainConfig.BATCH, paramLabel = "N", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "0.001", paramLabel = "LR",
            description = "SGD learning rate; with --lr-schedule onecycle or cosine, the schedule's peak (default: ${DEFAULT-VALUE})")
    float lr;

    @Option(names = "--momentum", defaultValue = "0.9", paramLabel = "M",
            description = "SGD momentum, PyTorch's semantics: v = M*v + g; w -= LR*v (default: ${DEFAULT-VALUE})")
    float momentum;

    @Option(names = "--weight-decay", defaultValue = "0", paramLabel = "W",
            description = "SGD weight decay W on every parameter, PyTorch's weight_decay: g = grad + W*w (default: ${DEFAULT-VALUE})")
    float weightDecay;

    @Option(names = "--lr-schedule", defaultValue = "constant", paramLabel = "S",
            description = {"learning rate of each step, set every iteration at t = epoch + (batch+1)/batches (the epochs done after the step): "
                    + "constant (LR); onecycle (" + LrSchedule.ONECYCLE_FORMULA + "); cosine (" + LrSchedule.COSINE_FORMULA + ") (default: ${DEFAULT-VALUE})"})
    String lrSchedule;

    @Option(names = "--resume", description = "continue the run in RUN after its last completed epoch, with its recipe (options left out come from RUN/run.json)")
    boolean resume;

    @Option(names = "--init", paramLabel = "FILE", description = "start from these weights (safetensors) instead of a random initialisation")
    Path init;

    @Option(names = "--no-shuffle", description = "batches in file order (data_batch_1 first) instead of a fresh seeded shuffle each epoch")
    boolean noShuffle;

    @Option(names = "--augment", description = "random crop (4-pixel zero padding) and horizontal flip of training images (default: off, as the seed)")
    boolean augment;

    @Option(names = "--adv", paramLabel = "METHOD", defaultValue = "none",
            description = {"adversarial training: none; fgsm (the seed's Eq. 3: L = A*L(x) + (1-A)*L(clip(x + E*sign(grad_x L)))); "
                    + "fgsm-rs (Wong et al.: random start in [-E,E], one step of 1.25*E, projected); pgd (Madry et al.: PGD from a random start) "
                    + "(default: ${DEFAULT-VALUE})"})
    String adv;

    @Option(names = "--adv-eps", paramLabel = "E",
            description = "eps of the adversarial examples and of the robust test accuracy, a number or a fraction (default: 8/255)")
    String advEps;

    @Option(names = "--adv-mix", paramLabel = "A",
            description = "the weight A of the clean loss in Eq. 3, in [0, 1] (default: 0.5 for fgsm and fgsm-rs, 0 for pgd)")
    Float advMix;

    @Option(names = "--adv-steps", paramLabel = "N", description = "PGD steps of --adv pgd (default: " + AdversarialTraining.DEFAULT_PGD_STEPS + ")")
    Integer advSteps;

    @Option(names = "--adv-step-size", paramLabel = "ALPHA",
            description = "attack step size of --adv pgd (default: eps/4, so steps*alpha >= eps) or fgsm-rs (default: 1.25*eps)")
    String advStepSize;

    @Option(names = "--eval-adv-limit", paramLabel = "N", defaultValue = "" + RobustAccuracy.DEFAULT_LIMIT,
            description = {"after each epoch, robust test accuracy under PGD at --adv-eps (10 steps of eps/4) on the first N test images, "
                    + "metrics.csv column " + RobustAccuracy.COLUMN + "; with --adv none only if --adv-eps is given; 0: none "
                    + "(default: ${DEFAULT-VALUE})"})
    int evalAdvLimit;

    @Mixin DataOptions dataOptions;
    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Override public Integer call() throws Exception {
        TrainConfig config = config();
        AdversarialTraining training = adversarialTraining();  // with --resume: may take eval settings from run.json
        boolean robustColumn = evalAdvLimit > 0 && (training.adversarial() || robustEpsGiven());
        TrainingRun.checkOutput(out, resume);
        Architectures.require(arch, "--arch");
        if (config.init() != null) {
            InputFiles.requireRegularFile(Path.of(config.init()), "--init", "");
            if (!resume) TrainingRun.checkInit(Path.of(config.init()), arch);
        }
        Path dataDir = dataOptions.folder();
        Backends.Choice choice = common.selectBackend();
        try (Backend backend = choice.backend()) {
            if (recordedBackend != null && !recordedBackend.equals(backend.name())) {
                System.err.println("warning: " + out + " was trained on the " + recordedBackend + " backend so far; continuing on "
                        + backend.name() + ", so the result will not be bit-identical to an uninterrupted run");
            }
            WarmUp warmUp = WarmUp.start(backend, config.batch(), arch);  // the JIT compiles the step while the data loads
            Dataset train = Cifar10.train(dataDir, config.limitTrain());
            Dataset test = Cifar10.test(dataDir, config.limitTest());
            if (warmUp != null) System.err.println(warmUp.finish().describe());
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("out", out.toAbsolutePath().normalize().toString());
            extra.put("data", dataDir.toAbsolutePath().normalize().toString());
            extra.put("backend", common.backend);
            extra.put("eval_adv_limit", robustColumn ? Math.min(evalAdvLimit, test.size()) : 0);
            if (robustColumn) {
                extra.put("eval_adv_eps", training.eps());
                extra.put("eval_adv_attack", RobustAccuracy.attack(training.eps()).describe());
            }
            System.out.printf("training %s on %,d images (test: %,d) for %d epochs, batch %d, lr %s%s, momentum %s%s, seed %d, %s%s; %s%n",
                    arch, train.size(), test.size(), config.epochs(), config.batch(), config.lr(),
                    config.lrSchedule() == LrSchedule.Kind.CONSTANT ? "" : " (peak of a " + config.lrSchedule().label() + " schedule)",
                    config.momentum(), config.weightDecay() == 0 ? "" : ", weight decay " + config.weightDecay(), config.seed(),
                    config.shuffle() ? "shuffled" : "file order", config.augment() ? ", augmented" : "", training.describe());
            TrainingRun.Result result;
            try (Objective objective = AdversarialObjective.of(backend, training, config.seed())) {
                TrainingRun run = new TrainingRun(out, config, objective, backend, extra).arch(arch).output(System.out, false);
                if (robustColumn) run.addColumn(RobustAccuracy.column(backend, test, training.eps(), evalAdvLimit));
                result = run.run(train, test, resume);
            }
            Double robust = result.lastColumns().get(RobustAccuracy.COLUMN);
            System.out.printf("after %d epoch%s: test accuracy %.2f%%%s, train loss %.4f; %.1f s (training %.0f images/s); model: %s%n",
                    result.epochs(), result.epochs() == 1 ? "" : "s", 100 * result.testAccuracy(),
                    robust == null ? "" : String.format(", robust test accuracy %.2f%% (PGD eps=%s)", 100 * robust, advEpsText(training)),
                    result.trainLoss(), result.seconds(), result.imagesPerSecond(), out.resolve(TrainingRun.MODEL_FILE));
            if (common.json) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("test_accuracy", result.testAccuracy());
                json.put("train_loss", result.trainLoss());
                json.put("epochs", result.epochs());
                json.put("seconds", result.seconds());
                json.put("images_per_second", result.imagesPerSecond());
                json.put("backend", backend.name());
                json.put("arch", arch);
                json.put("adv", training.settings());
                if (robust != null) {
                    json.put("robust_test_accuracy", robust);
                    json.put("robust_eps", training.eps());
                }
                json.put("run", out.toString());
                json.put("model", out.resolve(TrainingRun.MODEL_FILE).toString());
                json.put("history", result.history());
                System.out.println(Json.write(json));
            }
        }
        return 0;
    }

    /** The options as a config; with --resume, the options left out come from RUN/run.json. */
    private TrainConfig config() throws java.io.IOException {
        int limitTrain = dataOptions.limitTrain != null ? dataOptions.limitTrain : Cifar10.TRAIN_SIZE;
        int limitTest = dataOptions.limitTest != null ? dataOptions.limitTest : Cifar10.TEST_SIZE;
        String initPath = init == null ? null : init.toAbsolutePath().normalize().toString();
        LrSchedule.Kind schedule;
        try {
            schedule = LrSchedule.Kind.parse(lrSchedule);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--lr-schedule: " + e.getMessage());
        }
        TrainConfig given = new TrainConfig(epochs, batch, lr, momentum, common.seed, !noShuffle, augment, limitTrain, limitTest, initPath,
                weightDecay, schedule);
        if (!resume) return given;
        TrainingRun.checkOutput(out, true);
        Map<String, Object> runJson = TrainingRun.readRunJson(out);
        restoreBackendAndData(runJson);
        TrainConfig stored = TrainConfig.fromJson((Map<?, ?>) runJson.get("options"));
        return new TrainConfig(
                given("--epochs") ? given.epochs() : stored.epochs(),
                given("--batch") ? given.batch() : stored.batch(),
                given("--lr") ? given.lr() : stored.lr(),
                given("--momentum") ? given.momentum() : stored.momentum(),
                given("--seed") ? given.seed() : stored.seed(),
                given("--no-shuffle") ? given.shuffle() : stored.shuffle(),
                given("--augment") ? given.augment() : stored.augment(),
                given("--limit-train") ? given.limitTrain() : stored.limitTrain(),
                given("--limit-test") ? given.limitTest() : stored.limitTest(),
                given("--init") ? given.init() : stored.init(),
                given("--weight-decay") ? given.weightDecay() : stored.weightDecay(),
                given("--lr-schedule") ? given.lrSchedule() : stored.lrSchedule());
    }

    /**
     * Resuming continues on the backend that computed the run's weights so far, and on its data
     * folder, unless told otherwise: another backend rounds differently, so the result would no
     * longer be bit-identical to an uninterrupted run (said in a warning).
     */
    private void restoreBackendAndData(Map<String, Object> runJson) {
        Map<?, ?> options = (Map<?, ?>) runJson.get("options");
        if (!given("--arch")) arch = options.get("arch") instanceof String name ? name : Architectures.LENET;
        Object recorded = runJson.get("backend") instanceof Map<?, ?> b ? b.get("name") : null;
        if (recorded instanceof String name && Backends.NAMES.contains(name)) {
            recordedBackend = name;
            if (!given("--backend")) common.backend = name;
        }
        if (dataOptions.data == null && options.get("data") instanceof String folder) dataOptions.data = Path.of(folder);
    }

    /**
     * The adversarial settings; with --resume, those left out come from RUN/run.json's objective
     * (and TrainingRun refuses to resume with settings that differ from the stored ones).
     */
    private AdversarialTraining adversarialTraining() throws java.io.IOException {
        AdversarialTraining.Method method;
        try {
            method = AdversarialTraining.Method.parse(adv);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--adv: " + e.getMessage());
        }
        float eps = advEps == null ? AdversarialTraining.DEFAULT_EPS : AttackOptions.parseEps("--adv-eps", advEps);
        AttackOptions.checkPixelEps("--adv-eps", eps);  // adversarial training is L∞
        Float stepSize = advStepSize == null ? null : AttackOptions.parseEps("--adv-step-size", advStepSize);
        if (evalAdvLimit < 0) throw new Main.UsageError("--eval-adv-limit must be >= 0, got " + evalAdvLimit);
        if (resume) {
            // The robust evaluation as the run had it, unless given now.
            Map<?, ?> options = (Map<?, ?>) TrainingRun.readRunJson(out).get("options");
            if (!given("--eval-adv-limit") && options.get("eval_adv_limit") instanceof Number n) evalAdvLimit = n.intValue();
            if (advEps == null && options.get("eval_adv_eps") instanceof Number e) {
                advEps = Float.toString(e.floatValue());
                eps = e.floatValue();
            }
        }
        if (resume && !given("--adv")) {
            Map<String, Object> stored = TrainingRun.readRunJson(out);
            AdversarialTraining before = AdversarialTraining.fromSettings((Map<?, ?>) stored.get("objective"), eps);
            if (!before.adversarial()) {
                return AdversarialTraining.of(AdversarialTraining.Method.NONE, eps, advMix, advSteps, stepSize);
            }
            method = before.method();
            if (!given("--adv-eps")) eps = before.eps();
            if (advMix == null) advMix = before.mix();
            if (advSteps == null && method == AdversarialTraining.Method.PGD) advSteps = before.steps();
            if (stepSize == null && method != AdversarialTraining.Method.FGSM) stepSize = before.stepSize();
        }
        return AdversarialTraining.of(method, eps, advMix, advSteps, stepSize);
    }

    /** With --resume: the backend the run has trained on so far. */
    private String recordedBackend;

    private boolean robustEpsGiven() { return advEps != null; }

    private String advEpsText(AdversarialTraining training) {
        return advEps != null ? advEps.trim() : String.format(java.util.Locale.ROOT, "%.4g", training.eps());
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }
}
