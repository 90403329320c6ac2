package advtrain.experiments;

import advtrain.backend.Backend;
import advtrain.data.Dataset;
import advtrain.io.Json;
import advtrain.nn.ModelFiles;
import advtrain.nn.Net;
import advtrain.report.AccuracyPlot;
import advtrain.train.AdversarialObjective;
import advtrain.train.AdversarialTraining;
import advtrain.train.CleanEvaluator;
import advtrain.train.Evaluation;
import advtrain.train.Objective;
import advtrain.train.RobustAccuracy;
import advtrain.train.TrainConfig;
import advtrain.train.TrainingRun;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The models of a reproduction, each trained by {@link TrainingRun} into OUT/models/SLUG-HASH, where
 * HASH stands for everything that shapes the folder (recipe, epochs, objective, evaluation): a rerun
 * with the same plan finds the folder and resumes it, which trains nothing when it is complete and
 * finishes it when it was interrupted. Also draws the naive model's training curve (figure 1).
 */
final class Models {
    static final String PLAIN = "plain";

    private final Backend backend;
    private final Plan plan;
    private final Path dataDir, out;
    private final PrintStream log;
    private final boolean quiet;
    private final AccuracyPlot.Style style;

    Models(Backend backend, Plan plan, Path dataDir, Path out, PrintStream log, boolean quiet, AccuracyPlot.Style style) {
        this.backend = backend;
        this.style = style;
        this.plan = plan;
        this.dataDir = dataDir;
        this.out = out;
        this.log = log;
        this.quiet = quiet;
    }

    /** The folder name of the model adversarially trained at this ε. */
    static String adversarialSlug(float eps) { return "fgsm-eps" + Plan.fmt(eps); }

    /**
     * Trains (or finds) the model in OUT/models/SLUG-HASH with the plan's recipe and this objective,
     * then loads it and measures its clean accuracy on the test images.
     */
    Reproduce.Model train(String label, String slug, AdversarialTraining training, Dataset trainSet, Dataset testSet) throws IOException {
        TrainConfig config = plan.trainConfig();
        Map<String, Object> identity = identity(config, training);
        Path dir = out.resolve(Reproduce.MODELS).resolve(slug + "-" + hash(identity));
        boolean exists = Files.isRegularFile(dir.resolve(TrainingRun.RUN_FILE));
        boolean complete = exists && isComplete(dir, config.epochs());
        if (complete) log.println("   reusing " + out.relativize(dir) + " (its run.json matches this plan)");
        else if (exists) log.println("   resuming " + out.relativize(dir) + ", stopped before its last epoch");
        Map<String, Object> extra = new LinkedHashMap<>(identity);
        extra.remove("recipe");
        extra.remove("objective");
        extra.put("data", dataDir.toAbsolutePath().normalize().toString());
        extra.put("reproduce", plan.name());
        try (Objective objective = AdversarialObjective.of(backend, training, config.seed())) {
            TrainingRun run = new TrainingRun(dir, config, objective, backend, extra).output(log, quiet);
            if (training.adversarial()) run.addColumn(RobustAccuracy.column(backend, testSet, training.eps(), plan.evalAdvLimit()));
            run.run(trainSet, testSet, exists);
        }
        Map<String, Object> runJson = TrainingRun.readRunJson(dir);
        Net net = new Net(backend, config.seed());
        ModelFiles.load(net, backend, dir.resolve(TrainingRun.MODEL_FILE));
        net.eval();
        Evaluation clean;
        try (CleanEvaluator evaluator = new CleanEvaluator(backend, CleanEvaluator.DEFAULT_BATCH)) {
            clean = evaluator.evaluate(net, testSet);
        }
        return new Reproduce.Model(label, dir, training, complete, String.valueOf(runJson.get("started")), clean,
                Csv.read(dir.resolve(TrainingRun.METRICS_FILE)), net);
    }

    /** Whether the folder of this model already holds it, trained for every epoch of the plan. */
    boolean isComplete(String slug, AdversarialTraining training) {
        Path dir = out.resolve(Reproduce.MODELS).resolve(slug + "-" + hash(identity(plan.trainConfig(), training)));
        return isComplete(dir, plan.epochs());
    }

    /** What shapes a model folder: two folders with the same identity hold the same model. */
    private Map<String, Object> identity(TrainConfig config, AdversarialTraining training) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("recipe", config.toJson());
        m.put("objective", training.settings());
        m.put("eval_adv_limit", training.adversarial() ? plan.evalAdvLimit() : 0);
        if (training.adversarial()) {
            m.put("eval_adv_eps", training.eps());
            m.put("eval_adv_attack", RobustAccuracy.attack(training.eps()).describe());
        }
        return m;
    }

    static String hash(Map<String, Object> identity) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Json.write(identity).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isComplete(Path dir, int epochs) {
        try {
            Object done = TrainingRun.readRunJson(dir).get("epochs_completed");
            return done instanceof Number n && n.intValue() >= epochs && Files.isRegularFile(dir.resolve(TrainingRun.MODEL_FILE));
        } catch (IOException e) {
            return false;
        }
    }

    /** Figure 1: the model's accuracy on training and test images after each epoch (from its metrics.csv). */
    void writeTrainingCurve(Reproduce.Model model) throws IOException {
        Csv csv = new Csv("epoch", "train_loss", "train_acc", "test_acc", "test_loss");
        List<Map<String, String>> rows = model.metrics();
        double[] epochs = new double[rows.size()], trainAcc = new double[rows.size()], testAcc = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Map<String, String> r = rows.get(i);
            epochs[i] = number(r.get("epoch"));
            trainAcc[i] = number(r.get("train_acc"));
            testAcc[i] = number(r.get("test_acc"));
            csv.row(r.get("epoch"), r.get("train_loss"), r.get("train_acc"), r.get("test_acc"), r.get("test_loss"));
        }
        csv.write(out.resolve(Reproduce.TRAINING_CURVE + ".csv"));
        double last = epochs.length == 0 ? 1 : epochs[epochs.length - 1];
        List<AccuracyPlot.Series> series = new ArrayList<>();
        if (epochs.length > 0) {
            series.add(AccuracyPlot.Series.data("training images", epochs, trainAcc));
            series.add(AccuracyPlot.Series.data("test images (" + String.format(Locale.ROOT, "%,d", plan.testImages()) + ")", epochs, testAcc));
        }
        series.add(AccuracyPlot.Series.reference("seed: 54 %", Plan.SEED_ACCURACY, Math.min(1, epochs.length == 0 ? 1 : epochs[0]), Math.max(last, 1.001)));
        AccuracyPlot.write(out, Reproduce.TRAINING_CURVE, "The naive classifier: accuracy after each epoch ("
                + String.format(Locale.ROOT, "%,d", plan.trainImages()) + " training images, lr " + Plan.fmt(plan.lr()) + ")", "epoch", series,
                AccuracyPlot.Scale.LINEAR, style.format());
    }

    private static double number(String s) {
        try {
            return s == null || s.isEmpty() ? Double.NaN : Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
