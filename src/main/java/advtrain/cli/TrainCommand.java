package advtrain.cli;

import advtrain.backend.Backend;
import advtrain.backend.Backends;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.io.Json;
import advtrain.train.Objective;
import advtrain.train.TrainConfig;
import advtrain.train.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train the seed's network on CIFAR-10 (SGD with momentum, NLL loss), evaluating on the test images after each epoch.",
                "Writes RUN/model.safetensors (PyTorch state_dict names), RUN/optimizer.safetensors (training state for --resume), "
                        + "RUN/metrics.csv and RUN/run.json after every epoch. The defaults are the seed's recipe."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "RUN", description = "the run folder (created if needed)")
    Path out;

    @Option(names = "--epochs", defaultValue = "" + TrainConfig.EPOCHS, paramLabel = "N",
            description = "total epochs (default: ${DEFAULT-VALUE}, the seed's full recipe; with --resume: the run's, or this many in all)")
    int epochs;

    @Option(names = "--batch", defaultValue = "" + TrainConfig.BATCH, paramLabel = "N", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "0.001", paramLabel = "LR", description = "SGD learning rate (default: ${DEFAULT-VALUE})")
    float lr;

    @Option(names = "--momentum", defaultValue = "0.9", paramLabel = "M",
            description = "SGD momentum, PyTorch's semantics: v = M*v + g; w -= LR*v (default: ${DEFAULT-VALUE})")
    float momentum;

    @Option(names = "--resume", description = "continue the run in RUN after its last completed epoch, with its recipe (options left out come from RUN/run.json)")
    boolean resume;

    @Option(names = "--init", paramLabel = "FILE", description = "start from these weights (safetensors) instead of a random initialisation")
    Path init;

    @Option(names = "--no-shuffle", description = "batches in file order (data_batch_1 first) instead of a fresh seeded shuffle each epoch")
    boolean noShuffle;

    @Option(names = "--augment", description = "random crop (4-pixel zero padding) and horizontal flip of training images (default: off, as the seed)")
    boolean augment;

    @Mixin DataOptions dataOptions;
    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Override public Integer call() throws Exception {
        TrainConfig config = config();
        TrainingRun.checkOutput(out, resume);
        if (config.init() != null && !Files.isRegularFile(Path.of(config.init()))) {
            throw new java.io.FileNotFoundException("--init " + config.init() + ": no such file");
        }
        Path dataDir = dataOptions.folder();
        Backends.Choice choice = common.selectBackend();
        try (Backend backend = choice.backend()) {
            Dataset train = Cifar10.train(dataDir, config.limitTrain());
            Dataset test = Cifar10.test(dataDir, config.limitTest());
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("out", out.toAbsolutePath().normalize().toString());
            extra.put("data", dataDir.toAbsolutePath().normalize().toString());
            extra.put("backend", common.backend);
            System.out.printf("training %s on %,d images (test: %,d) for %d epochs, batch %d, lr %s, momentum %s, seed %d, %s%s%n",
                    "Net", train.size(), test.size(), config.epochs(), config.batch(), config.lr(), config.momentum(), config.seed(),
                    config.shuffle() ? "shuffled" : "file order", config.augment() ? ", augmented" : "");
            TrainingRun.Result result = new TrainingRun(out, config, Objective.standard(), backend, extra)
                    .output(System.out, false)
                    .run(train, test, resume);
            System.out.printf("after %d epoch%s: test accuracy %.2f%%, train loss %.4f; %.1f s (training %.0f images/s); model: %s%n",
                    result.epochs(), result.epochs() == 1 ? "" : "s", 100 * result.testAccuracy(), result.trainLoss(), result.seconds(),
                    result.imagesPerSecond(), out.resolve(TrainingRun.MODEL_FILE));
            if (common.json) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("test_accuracy", result.testAccuracy());
                json.put("train_loss", result.trainLoss());
                json.put("epochs", result.epochs());
                json.put("seconds", result.seconds());
                json.put("images_per_second", result.imagesPerSecond());
                json.put("backend", backend.name());
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
        TrainConfig given = new TrainConfig(epochs, batch, lr, momentum, common.seed, !noShuffle, augment, limitTrain, limitTest, initPath);
        if (!resume) return given;
        TrainingRun.checkOutput(out, true);
        TrainConfig stored = TrainConfig.fromJson((Map<?, ?>) TrainingRun.readRunJson(out).get("options"));
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
                given("--init") ? given.init() : stored.init());
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }
}
