package advtrain.train;

import advtrain.backend.Backend;
import advtrain.data.BatchLoader;
import advtrain.data.Dataset;
import advtrain.io.AtomicFiles;
import advtrain.io.Json;
import advtrain.io.ModelFiles;
import advtrain.io.Progress;
import advtrain.nn.Module;
import advtrain.nn.Net;
import advtrain.optim.Sgd;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * A training run in a folder RUN: trains the seed's Net epoch after epoch, evaluates it on the
 * test images after each, and keeps the folder resumable at every moment.
 *
 * <p>After each epoch, in this order: RUN/metrics.csv gains the epoch's row, RUN/optimizer.safetensors
 * (the complete training state, see {@link Checkpoint}) and RUN/model.safetensors (the state_dict)
 * are replaced, and RUN/run.json records the progress. Every write is a temp file and a rename, so
 * a run stopped at any point leaves whole files; resuming reads the training state alone and drops
 * metrics rows after it. As the shuffle and the augmentation depend only on (seed, epoch), a
 * resumed run computes exactly what an uninterrupted one does.
 */
public final class TrainingRun {
    public static final String MODEL_FILE = "model.safetensors", STATE_FILE = "optimizer.safetensors",
            METRICS_FILE = "metrics.csv", RUN_FILE = "run.json";
    public static final List<String> COLUMNS =
            List.of("epoch", "train_loss", "train_acc", "test_acc", "test_loss", "seconds", "images_per_second");

    /** An extra metrics.csv column, computed from the model after each epoch's evaluation. */
    public record Column(String name, ToDoubleFunction<Module> compute) {}

    /**
     * What the run reached. {@code trainSeconds} and {@code imagesTrained} count this invocation's
     * training phases only (evaluation excluded); {@code seconds} is its whole wall time.
     */
    public record Result(Path dir, int epochs, double testAccuracy, double trainLoss, double seconds,
                         double trainSeconds, long imagesTrained, List<Map<String, Object>> history,
                         Map<String, Double> lastColumns) {
        public double imagesPerSecond() { return trainSeconds > 0 ? imagesTrained / trainSeconds : 0; }
    }

    private final Path dir;
    private final TrainConfig config;
    private final Objective objective;
    private final Backend backend;
    private final Map<String, Object> extraOptions;
    private final List<Column> columns = new ArrayList<>();
    private PrintStream log = System.out;
    private boolean quiet;

    /**
     * @param extraOptions options that do not change the weights (data folder, requested backend),
     *                     recorded in run.json beside the config
     */
    public TrainingRun(Path dir, TrainConfig config, Objective objective, Backend backend, Map<String, Object> extraOptions) {
        this.dir = dir;
        this.config = config;
        this.objective = objective;
        this.backend = backend;
        this.extraOptions = extraOptions == null ? Map.of() : extraOptions;
    }

    public TrainingRun addColumn(Column column) {
        if (COLUMNS.contains(column.name())) throw new IllegalArgumentException("metrics column " + column.name() + " exists");
        columns.add(column);
        return this;
    }

    /** Where per-epoch lines go (null: nowhere), and whether to hide the progress bars. */
    public TrainingRun output(PrintStream log, boolean quiet) {
        this.log = log;
        this.quiet = quiet;
        return this;
    }

    /** Checks RUN before anything costly: a new run needs a folder without a run in it, --resume one with. */
    public static void checkOutput(Path dir, boolean resume) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + dir + " is a file, not a folder");
        }
        if (resume) {
            if (!Files.isRegularFile(dir.resolve(RUN_FILE))) {
                throw new IllegalArgumentException("--resume: " + dir + " holds no " + RUN_FILE + ", so no run to resume; leave out --resume to start one there");
            }
            return;
        }
        for (String name : List.of(RUN_FILE, STATE_FILE, MODEL_FILE, METRICS_FILE)) {
            if (Files.exists(dir.resolve(name))) {
                throw new IllegalArgumentException(dir + " already holds a training run (" + name
                        + "); add --resume to continue it, or choose another --out");
            }
        }
    }

    /** RUN/run.json as a map; a clear error when it is unreadable. */
    public static Map<String, Object> readRunJson(Path dir) throws IOException {
        Path file = dir.resolve(RUN_FILE);
        Object parsed;
        try {
            parsed = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " is not valid JSON (" + e.getMessage() + ")");
        }
        if (!(parsed instanceof Map<?, ?> map) || !(map.get("options") instanceof Map<?, ?>)) {
            throw new IOException(file + " is not an advtrain run.json (no \"options\" object)");
        }
        @SuppressWarnings("unchecked") Map<String, Object> result = (Map<String, Object>) map;
        return result;
    }

    public Result run(Dataset train, Dataset test, boolean resume) throws IOException {
        long start = System.nanoTime();
        checkOutput(dir, resume);
        Map<String, Object> previous = resume ? readRunJson(dir) : null;
        if (previous != null) checkSameRecipe(previous);
        Files.createDirectories(dir);

        Net model = new Net(backend, config.seed());
        Sgd sgd = new Sgd(backend, model.parameters(), config.lr(), config.momentum());
        Path statePath = dir.resolve(STATE_FILE);
        int done = 0;
        if (resume && Files.exists(statePath)) {
            done = Checkpoint.load(statePath, model, sgd, backend);
        } else if (config.init() != null) {
            ModelFiles.load(model, backend, Path.of(config.init()));
        }
        List<String> columnNames = new ArrayList<>(COLUMNS);
        for (Column c : columns) columnNames.add(c.name());
        MetricsFile metrics = new MetricsFile(dir.resolve(METRICS_FILE), columnNames);
        if (resume) metrics.keepExisting(done);

        Map<String, Object> runJson = newRunJson(previous, model, done);
        writeRunJson(runJson);
        if (resume && log != null) {
            log.println(done >= config.epochs() ? "resume: " + dir + " has completed " + done + " epochs, nothing to train"
                    : "resume: continuing " + dir + " after epoch " + done + " of " + config.epochs());
        }

        List<Map<String, Object>> history = new ArrayList<>();
        double trainSeconds = 0;
        long imagesTrained = 0;
        BatchLoader loader = new BatchLoader(train, config.batch(), config.shuffle(), config.augment(), config.seed());
        try (Trainer trainer = new Trainer(backend, model, sgd, objective);
             Evaluator evaluator = new Evaluator(backend, Evaluator.DEFAULT_BATCH)) {
            for (int epoch = done; epoch < config.epochs(); epoch++) {
                Trainer.EpochStats stats;
                String task = "epoch " + (epoch + 1) + "/" + config.epochs();
                try (Progress progress = Progress.start(task, loader.size(), quiet)) {
                    stats = trainer.trainEpoch(loader, epoch, progress);
                } catch (Trainer.DivergedException e) {
                    String message = e.getMessage() + "; " + (done > 0
                            ? dir.resolve(MODEL_FILE) + " keeps epoch " + done + ", the last good weights"
                            : "no checkpoint was written") + "; try a lower --lr (now " + config.lr() + ")";
                    runJson.put("status", "diverged");
                    runJson.put("message", message);
                    writeRunJson(runJson);
                    throw new Trainer.DivergedException(message);
                }
                trainSeconds += stats.seconds();
                imagesTrained += stats.images();
                long evalStart = System.nanoTime();
                Evaluation evaluation = evaluator.evaluate(model, test);

                Map<String, Object> row = new LinkedHashMap<>();
                row.put("epoch", epoch + 1);
                row.put("train_loss", stats.loss());
                row.put("train_acc", stats.accuracy());
                row.put("test_acc", evaluation.accuracy());
                row.put("test_loss", evaluation.loss());
                row.put("seconds", stats.seconds());
                row.put("images_per_second", stats.imagesPerSecond());
                for (Column c : columns) row.put(c.name(), c.compute().applyAsDouble(model));
                double evalSeconds = (System.nanoTime() - evalStart) / 1e9;

                metrics.add(row);                                    // 1. a rerun of this epoch rewrites the row
                Checkpoint.save(statePath, model, sgd, backend, epoch + 1);  // 2. what resuming reads
                ModelFiles.save(model, backend, dir.resolve(MODEL_FILE), modelMetadata(epoch + 1));
                done = epoch + 1;
                history.add(row);
                runJson.put("epochs_completed", done);
                runJson.put("test_accuracy", evaluation.accuracy());
                runJson.put("train_loss", stats.loss());
                runJson.put("status", done >= config.epochs() ? "completed" : "running");
                runJson.put("updated", now());
                writeRunJson(runJson);
                if (log != null) {
                    StringBuilder extra = new StringBuilder();
                    for (Column c : columns) extra.append(String.format(", %s %.4f", c.name(), (Double) row.get(c.name())));
                    log.printf("epoch %d/%d: train loss %.4f, train acc %s, test acc %.2f%%%s, %.1f s (%.0f images/s), evaluation %.1f s%n",
                            done, config.epochs(), stats.loss(),
                            Double.isNaN(stats.accuracy()) ? "-" : String.format("%.2f%%", 100 * stats.accuracy()),
                            100 * evaluation.accuracy(), extra, stats.seconds(), stats.imagesPerSecond(), evalSeconds);
                }
            }
        }
        if (history.isEmpty()) {
            // Nothing trained now: make sure model.safetensors is the state's weights (a run may have
            // stopped between the two writes), and report the last recorded epoch.
            ModelFiles.save(model, backend, dir.resolve(MODEL_FILE), modelMetadata(done));
            runJson.put("status", "completed");
            writeRunJson(runJson);
        }
        Map<String, String> last = metrics.lastRow();
        double testAccuracy = last == null ? Double.NaN : parse(last.get("test_acc"));
        double trainLoss = last == null ? Double.NaN : parse(last.get("train_loss"));
        Map<String, Double> lastColumns = new LinkedHashMap<>();
        for (Column c : columns) lastColumns.put(c.name(), last == null ? Double.NaN : parse(last.get(c.name())));
        return new Result(dir, done, testAccuracy, trainLoss, (System.nanoTime() - start) / 1e9, trainSeconds, imagesTrained,
                history, lastColumns);
    }

    private void checkSameRecipe(Map<String, Object> previous) {
        Map<?, ?> before = (Map<?, ?>) previous.get("options");
        Map<?, ?> now = (Map<?, ?>) Json.parse(Json.write(config.recipe()));  // the same number types as a parsed file
        for (Map.Entry<?, ?> e : now.entrySet()) {
            Object old = before.get(e.getKey());
            if (!Objects.equals(old, e.getValue())) {
                throw new IllegalArgumentException("cannot resume " + dir + " with a different recipe: " + e.getKey() + " is "
                        + old + " in its " + RUN_FILE + " and " + e.getValue() + " now; leave such options out when resuming, or train into another --out");
            }
        }
        Object oldObjective = previous.get("objective");
        Object newObjective = Json.parse(Json.write(objective.settings()));
        if (!Objects.equals(oldObjective, newObjective)) {
            throw new IllegalArgumentException("cannot resume " + dir + " with a different objective: " + Json.write(oldObjective)
                    + " in its " + RUN_FILE + ", " + Json.write(newObjective) + " now");
        }
    }

    private Map<String, Object> newRunJson(Map<String, Object> previous, Module model, int done) {
        Map<String, Object> options = new LinkedHashMap<>(config.toJson());
        options.putAll(extraOptions);
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("command", "train");
        run.put("options", options);
        run.put("objective", objective.settings());
        Map<String, Object> be = new LinkedHashMap<>();
        be.put("name", backend.name());
        be.put("device", backend.deviceName());
        run.put("backend", be);
        run.put("versions", versions());
        Map<String, Object> modelInfo = new LinkedHashMap<>();
        modelInfo.put("name", model.getClass().getSimpleName());
        modelInfo.put("parameters", model.parameterCount());
        run.put("model", modelInfo);
        run.put("started", previous != null && previous.get("started") != null ? previous.get("started") : now());
        if (previous != null) {
            List<Object> resumed = new ArrayList<>();
            if (previous.get("resumed") instanceof List<?> l) resumed.addAll(l);
            resumed.add(now());
            run.put("resumed", resumed);
        }
        run.put("updated", now());
        run.put("status", done >= config.epochs() ? "completed" : "running");
        run.put("epochs_completed", done);
        if (previous != null && done > 0) {
            run.put("test_accuracy", previous.get("test_accuracy"));
            run.put("train_loss", previous.get("train_loss"));
        }
        return run;
    }

    /** The versions that produced a run: advtrain, Java, the operating system. */
    public static Map<String, Object> versions() {
        Map<String, Object> v = new LinkedHashMap<>();
        String own = TrainingRun.class.getPackage().getImplementationVersion();
        v.put("advtrain", own == null ? "development build" : own);
        v.put("java", Runtime.version().toString());
        v.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        return v;
    }

    private Map<String, String> modelMetadata(int epochs) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", "pt");
        m.put("producer", "advtrain");
        m.put("epochs_completed", Integer.toString(epochs));
        return m;
    }

    private void writeRunJson(Map<String, Object> runJson) throws IOException {
        AtomicFiles.writeString(dir.resolve(RUN_FILE), Json.write(runJson) + "\n");
    }

    private static String now() { return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(); }

    private static double parse(String s) {
        try {
            return s == null || s.isEmpty() ? Double.NaN : Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
