package advtrain.train;

import advtrain.backend.Backend;
import advtrain.data.BatchLoader;
import advtrain.data.Dataset;
import advtrain.io.AtomicFiles;
import advtrain.io.FolderLock;
import advtrain.io.InvalidOptionException;
import advtrain.io.BuildInfo;
import advtrain.io.Json;
import advtrain.nn.ModelFiles;
import advtrain.io.Progress;
import advtrain.nn.Module;
import advtrain.nn.Architectures;
import advtrain.optim.LrSchedule;
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
 * A training run in a folder RUN: trains a network ({@link #arch}: the seed's Net unless told
 * otherwise) epoch after epoch, evaluates it on the
 * test images after each, and keeps the folder resumable at every moment.
 *
 * <p>After each epoch, in this order: RUN/optimizer.safetensors (the complete training state, see
 * {@link Checkpoint}, with the epoch's metrics row in its metadata) and RUN/model.safetensors (the
 * state_dict) are replaced, RUN/metrics.csv gains the epoch's row, and RUN/run.json records the
 * progress. Every write is a durable temp file and a rename, so a run stopped at any point, by a
 * kill or a power cut, leaves whole files; resuming reads the training state alone, drops metrics
 * rows after it and restores its own row if the stop came before metrics.csv had it. So metrics.csv
 * never holds a row for an epoch whose checkpoint was not written. As the shuffle and the
 * augmentation depend only on (seed, epoch), a resumed run computes exactly what an uninterrupted
 * one does.
 *
 * <p>The run holds RUN's {@link FolderLock} for its whole life: a second process given the same
 * folder stops at once. run.json's status is "running" while it trains, then "completed",
 * "diverged", "failed" (with the reason) or, after SIGTERM or SIGINT, "interrupted"; a run killed
 * outright leaves "running" with nobody holding the lock, which {@link #status} reports as
 * "interrupted".
 */
public final class TrainingRun {
    public static final String MODEL_FILE = "model.safetensors", STATE_FILE = "optimizer.safetensors",
            METRICS_FILE = "metrics.csv", RUN_FILE = "run.json";
    public static final List<String> COLUMNS =
            List.of("epoch", "train_loss", "train_acc", "test_acc", "test_loss", "seconds", "images_per_second");

    /**
     * An extra metrics.csv column {@code name}: a fraction (an accuracy) computed from the model after
     * each epoch's evaluation, which the epoch line shows as a percentage after {@code label}, as it
     * shows the test accuracy.
     */
    public record Column(String name, String label, ToDoubleFunction<Module> compute) {}

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
    private String arch = Architectures.LENET;

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

    /** The network to train, a name of {@link Architectures} (default: "lenet", the seed's Net). */
    public TrainingRun arch(String name) {
        this.arch = Architectures.require(name, "--arch");
        return this;
    }

    /**
     * Checks that an --init file holds the network to be trained (its metadata's "arch"; none: the
     * seed's Net), before anything costly: another network's weights are refused in one line.
     */
    public static void checkInit(Path init, String arch) throws IOException {
        String inFile = Architectures.nameInFile(init);
        if (!inFile.equals(arch)) {
            throw new InvalidOptionException("--init " + init + " holds a " + inFile + " network, and this run trains "
                    + arch + "; give --arch " + inFile + " or a " + arch + " model file");
        }
    }

    /** Where per-epoch lines go (null: nowhere), and whether to hide the progress bars. */
    public TrainingRun output(PrintStream log, boolean quiet) {
        this.log = log;
        this.quiet = quiet;
        return this;
    }

    /**
     * Checks RUN before anything costly: no other process may be training there, a new run needs a
     * folder without a run in it, --resume one with.
     */
    public static void checkOutput(Path dir, boolean resume) throws IOException {
        if (Files.isDirectory(dir)) FolderLock.requireFree(dir, "--out");
        checkFiles(dir, resume);
    }

    private static void checkFiles(Path dir, boolean resume) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new InvalidOptionException("--out " + dir + " is a file, not a folder");
        }
        if (resume) {
            if (!Files.isRegularFile(dir.resolve(RUN_FILE))) {
                throw new InvalidOptionException("--resume: " + dir + " holds no " + RUN_FILE + ", so no run to resume; leave out --resume to start one there");
            }
            return;
        }
        for (String name : List.of(RUN_FILE, STATE_FILE, MODEL_FILE, METRICS_FILE)) {
            if (Files.exists(dir.resolve(name))) {
                throw new InvalidOptionException(dir + " already holds a training run (" + name
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

    /**
     * run.json's status, except that a run that says "running" while no process holds its folder
     * was stopped without a chance to say so (kill -9, a power cut): "interrupted".
     */
    public static String status(Path dir) throws IOException {
        Object status = readRunJson(dir).get("status");
        String text = status == null ? "unknown" : status.toString();
        return text.equals("running") && !FolderLock.isHeld(dir) ? "interrupted" : text;
    }

    public Result run(Dataset train, Dataset test, boolean resume) throws IOException {
        checkOutput(dir, resume);
        try (FolderLock lock = FolderLock.acquire(dir, "--out", "train")) {
            return runLocked(train, test, resume);
        }
    }

    private Result runLocked(Dataset train, Dataset test, boolean resume) throws IOException {
        long start = System.nanoTime();
        stoppedAs = null;
        checkFiles(dir, resume);  // again, now that no other process can change it
        deleteStaleTempFiles();
        Map<String, Object> previous = resume ? readRunJson(dir) : null;
        if (previous != null) checkSameRecipe(previous);

        Module model = Architectures.build(arch, backend, config.seed());
        Sgd sgd = new Sgd(backend, model.parameters(), config.lr(), config.momentum(), config.weightDecay());
        Path statePath = dir.resolve(STATE_FILE);
        int done = 0;
        Map<String, String> stateMetadata = new LinkedHashMap<>();
        if (resume && Files.exists(statePath)) {
            done = Checkpoint.load(statePath, model, sgd, backend, stateMetadata);
        } else if (config.init() != null) {
            checkInit(Path.of(config.init()), arch);
            ModelFiles.load(model, backend, Path.of(config.init()));
        }
        List<String> columnNames = new ArrayList<>(COLUMNS);
        for (Column c : columns) columnNames.add(c.name());
        MetricsFile metrics = new MetricsFile(dir.resolve(METRICS_FILE), columnNames);
        if (resume) metrics.keepExisting(done, stateMetadata.get(Checkpoint.METRICS_ROW));

        // How the run ended before: "running" now means nobody finished it (this process holds the lock).
        String before = previous == null ? null : String.valueOf(previous.get("status")).replace("running", "interrupted");
        Map<String, Object> runJson = newRunJson(previous, model, done);
        writeRunJson(runJson);
        if (resume && log != null) {
            log.println(done >= config.epochs() ? "resume: " + dir + " has completed " + done + " epochs, nothing to train"
                    : "resume: continuing " + dir + " (" + before + ") after epoch " + done + " of " + config.epochs());
        }
        Thread onSignal = new Thread(() -> markStopped(runJson, "interrupted", "stopped by a signal (SIGTERM or SIGINT)"));
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            return trainEpochs(train, test, model, sgd, metrics, runJson, done, start);
        } catch (IOException | RuntimeException | Error e) {  // a divergence has already said so
            markStopped(runJson, "failed", e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            throw e;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs, or has run
            }
        }
    }

    /**
     * A process killed in the middle of a write leaves its temp file (".model.safetensors.123.tmp",
     * see AtomicFiles) beside the whole old file; with the folder's lock held, no one else is
     * writing it, so such files are leftovers.
     */
    private void deleteStaleTempFiles() throws IOException {
        if (!Files.isDirectory(dir)) return;
        List<Path> stale = new ArrayList<>();
        try (var files = Files.list(dir)) {
            files.filter(f -> {
                String name = f.getFileName().toString();
                return name.endsWith(".tmp") && List.of(RUN_FILE, STATE_FILE, MODEL_FILE, METRICS_FILE).stream()
                        .anyMatch(ours -> name.startsWith("." + ours + "."));
            }).forEach(stale::add);
        }
        for (Path f : stale) Files.deleteIfExists(f);
    }

    /**
     * Records in run.json why the run stopped, once: the first of a signal and a failure wins, and
     * no later write of run.json by the training loop overrides it. Best effort: on a full disk
     * even this small write can fail, and then run.json's "running" with no lock holder says it.
     */
    private void markStopped(Map<String, Object> runJson, String status, String message) {
        synchronized (runJson) {
            if (stoppedAs != null) return;
            stoppedAs = status;
            runJson.put("status", status);
            runJson.put("message", message);
            runJson.put("updated", now());
            try {
                AtomicFiles.writeString(dir.resolve(RUN_FILE), Json.write(runJson) + "\n");
            } catch (IOException | RuntimeException e) {
                // nothing more to do: see above
            }
        }
    }

    private String stoppedAs;  // guarded by the run.json map

    private Result trainEpochs(Dataset train, Dataset test, Module model, Sgd sgd, MetricsFile metrics, Map<String, Object> runJson,
                               int done, long start) throws IOException {
        Path statePath = dir.resolve(STATE_FILE);

        List<Map<String, Object>> history = new ArrayList<>();
        double trainSeconds = 0;
        long imagesTrained = 0;
        BatchLoader loader = new BatchLoader(train, config.batch(), config.shuffle(), config.augment(), config.seed());
        try (Trainer trainer = new Trainer(backend, model, sgd, objective).schedule(config.schedule());
             CleanEvaluator evaluator = new CleanEvaluator(backend, CleanEvaluator.DEFAULT_BATCH)) {
            for (int epoch = done; epoch < config.epochs(); epoch++) {
                Trainer.EpochStats stats;
                String task = "epoch " + (epoch + 1) + "/" + config.epochs();
                try (Progress progress = Progress.start(task, loader.size(), quiet)) {
                    stats = trainer.trainEpoch(loader, epoch, progress);
                } catch (Trainer.DivergedException e) {
                    String message = e.getMessage() + "; " + (done > 0
                            ? dir.resolve(MODEL_FILE) + " keeps epoch " + done + ", the last good weights"
                            : "no checkpoint was written") + "; try a lower --lr (now " + config.lr() + ")";
                    markStopped(runJson, "diverged", message);
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

                String csvRow = metrics.format(row);
                Checkpoint.save(statePath, model, sgd, backend, epoch + 1,
                        Map.of(Checkpoint.METRICS_ROW, csvRow));                      // 1. what resuming reads
                ModelFiles.save(model, backend, dir.resolve(MODEL_FILE), modelMetadata(epoch + 1));  // 2. the state_dict
                metrics.add(csvRow);                                                  // 3. only after its checkpoint
                done = epoch + 1;
                history.add(row);
                synchronized (runJson) {
                    runJson.put("epochs_completed", done);
                    runJson.put("test_accuracy", evaluation.accuracy());
                    runJson.put("train_loss", stats.loss());
                    runJson.put("status", done >= config.epochs() ? "completed" : "running");
                    runJson.put("updated", now());
                    writeRunJson(runJson);
                }
                if (log != null) {
                    StringBuilder extra = new StringBuilder();
                    for (Column c : columns) extra.append(String.format(", %s %.2f%%", c.label(), 100 * (Double) row.get(c.name())));
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
            synchronized (runJson) {
                runJson.put("status", "completed");
                writeRunJson(runJson);
            }
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
        Object archBefore = before.get("arch") == null ? Architectures.LENET : before.get("arch");  // runs from before --arch: the Net
        if (!arch.equals(archBefore)) {
            throw new InvalidOptionException("cannot resume " + dir + " with a different network: --arch is " + archBefore
                    + " in its " + RUN_FILE + " and " + arch + " now; leave --arch out when resuming, or train into another --out");
        }
        Map<?, ?> now = (Map<?, ?>) Json.parse(Json.write(config.recipe()));  // the same number types as a parsed file
        Map<?, ?> absent = (Map<?, ?>) Json.parse(Json.write(TrainConfig.ADDED_LATER));
        for (Map.Entry<?, ?> e : now.entrySet()) {
            Object old = before.containsKey(e.getKey()) ? before.get(e.getKey()) : absent.get(e.getKey());
            if (!Objects.equals(old, e.getValue())) {
                throw new InvalidOptionException("cannot resume " + dir + " with a different recipe: " + e.getKey() + " is "
                        + old + " in its " + RUN_FILE + " and " + e.getValue() + " now; leave such options out when resuming, or train into another --out");
            }
        }
        // A schedule spans the run's epochs: other epochs would change the rate of every step.
        if (config.lrSchedule() != LrSchedule.Kind.CONSTANT && before.get("epochs") instanceof Number epochs
                && epochs.intValue() != config.epochs()) {
            throw new InvalidOptionException("cannot resume " + dir + " with --epochs " + config.epochs() + ": its " + config.lrSchedule().label()
                    + " learning-rate schedule spans the run's " + epochs.intValue() + " epochs; leave out --epochs when resuming, "
                    + "or train into another --out");
        }
        Object oldObjective = previous.get("objective");
        Object newObjective = Json.parse(Json.write(objective.settings()));
        if (!Objects.equals(oldObjective, newObjective)) {
            throw new InvalidOptionException("cannot resume " + dir + " with a different objective: " + Json.write(oldObjective)
                    + " in its " + RUN_FILE + ", " + Json.write(newObjective) + " now");
        }
    }

    private Map<String, Object> newRunJson(Map<String, Object> previous, Module model, int done) {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("arch", arch);
        options.putAll(config.toJson());
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
        modelInfo.put("arch", arch);
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

    /** The versions that produced a run: advtrain (and the commit it was built from), Java, the operating system. */
    public static Map<String, Object> versions() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("advtrain", BuildInfo.current().version());
        v.put("commit", BuildInfo.current().commit());
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

    /** Writes run.json; once a signal or a failure has said how the run ended, its status stays. */
    private void writeRunJson(Map<String, Object> runJson) throws IOException {
        synchronized (runJson) {
            if (stoppedAs != null) runJson.put("status", stoppedAs);
            AtomicFiles.writeString(dir.resolve(RUN_FILE), Json.write(runJson) + "\n");
        }
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
