package advtrain.experiments;

import advtrain.attack.Attack;
import advtrain.attack.AttackConfig;
import advtrain.attack.AttackResult;
import advtrain.autograd.Tape;
import advtrain.backend.Backend;
import advtrain.data.BatchLoader;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.io.Json;
import advtrain.io.ModelFiles;
import advtrain.nn.Module;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import advtrain.report.AccuracyPlot;
import advtrain.report.AdversarialGrid;
import advtrain.report.ImageGrid;
import advtrain.tensor.Tensor;
import advtrain.train.AdversarialObjective;
import advtrain.train.AdversarialTraining;
import advtrain.train.Evaluation;
import advtrain.train.Evaluator;
import advtrain.train.Objective;
import advtrain.train.RobustAccuracy;
import advtrain.train.TrainConfig;
import advtrain.train.Trainer;
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
 * Runs the seed's experiments and writes every figure (PNG and CSV) and OUT/report.md:
 * <ol>
 *   <li>the naive classifier: its training curve and clean test accuracy;</li>
 *   <li>the influence of ε on the pictures under PGD;</li>
 *   <li>the influence of ε on accuracy, FGSM against PGD, with the attack times;</li>
 *   <li>the necessary condition α·steps ≥ ε: accuracy and pictures below, at and above it;</li>
 *   <li>adversarial training (Eq. 3, α = 0.5) at several ε: accuracy under PGD with and without it.</li>
 * </ol>
 * Models are trained by the train package's {@link TrainingRun} into OUT/models/NAME-HASH, where
 * HASH stands for everything that shapes the folder (recipe, epochs, objective, evaluation): a rerun
 * with the same plan finds the folder and resumes it, which trains nothing when it is complete
 * and finishes it when it was interrupted. Every number of the report is measured in this run,
 * except the training curves, which are the models' metrics.csv (the report says when a model was
 * trained in an earlier run).
 */
public final class Reproduce {
    public static final String REPORT = "report.md", MODELS = "models";
    static final String TRAINING_CURVE = "1_training_curve", PICTURES = "2_pictures_vs_eps", ACCURACY = "3_accuracy_vs_eps",
            CONDITION_ACCURACY = "4_condition_accuracy", CONDITION_PICTURES = "4_condition_pictures", DEFENSE = "5_adversarial_training";
    static final int ATTACK_BATCH = 250;
    /** Cost model of the estimate, in image forward+backward passes: a forward pass alone costs about this. */
    static final double FORWARD = 0.35;
    /**
     * An attack step inside adversarial training (batch 32, input gradient only): FGSM training ran at
     * 1,000 images/s against 2,800 for plain training on OpenCL (PoCL, 2 cores), 2.8 units per image.
     */
    static final double TRAIN_ATTACK_STEP = 0.8;

    private final Backend backend;
    private final Plan plan;
    private final Path dataDir, out;
    private final PrintStream log;
    private final boolean quiet;
    private final long start = System.nanoTime();
    private double unitsPlanned, unitsDone, unitsPerSecond;
    /** What one image's attack step (batches of {@value #ATTACK_BATCH}) costs in units: measured by {@link #estimate}. */
    private double attackStep = 0.5;
    private int stage;
    private int stages;

    /** A model of the report: where it is, how it was trained, and what it scores on clean test images. */
    public record Model(String label, Path dir, AdversarialTraining training, boolean reused, String trained,
                       Evaluation clean, List<Map<String, String>> metrics, Net net) {}

    /** One attacked picture: its test image, the attack (a column of a picture figure), and what the model says. */
    public record Picture(String column, AttackConfig attack, int image, int label, int cleanPredicted, int predicted,
                          double probability, double linf, double meanAbs, double psnr) {}

    public record Naive(Model model) {}

    public record Pictures(List<Picture> pictures, float[] eps) {}

    public record Sweep(double cleanAccuracy, int n, List<AttackResult> fgsm, List<AttackResult> pgd) {}

    public record Condition(float eps, float[] ratios, List<AttackResult> pgd, AttackResult fgsm, List<Picture> pictures) {}

    public record Defense(List<Model> models, Map<String, List<AttackResult>> pgd, float[] eps) {}

    /** Everything the report shows. */
    public record Findings(Plan plan, String backend, String device, Naive naive, Pictures pictures, Sweep sweep,
                           Condition condition, Defense defense, double seconds, double estimatedSeconds) {}

    public record Result(Path report, List<Path> figures, List<Path> csvs, Findings findings) {}

    /**
     * @param log   where the stages and results are told (stdout of the command)
     * @param quiet no progress bars (training runs' epochs still go to log)
     */
    public Reproduce(Backend backend, Plan plan, Path dataDir, Path out, PrintStream log, boolean quiet) {
        this.backend = backend;
        this.plan = plan;
        this.dataDir = dataDir;
        this.out = out;
        this.log = log;
        this.quiet = quiet;
    }

    public Result run() throws IOException {
        Files.createDirectories(out.resolve(MODELS));
        Dataset train = Cifar10.train(dataDir, plan.trainImages());
        Dataset test = Cifar10.test(dataDir, plan.testImages());
        Dataset attacked = test.limit(plan.attackImages());

        double estimated = estimate(train, attacked);
        log.printf(Locale.ROOT, "reproduce (%s) on %s: expected duration about %s (%s units of one image's forward+backward pass, "
                        + "%.0f per second, an attack step %.2f units, measured just now; models already in %s are reused)%n",
                plan, backend.name(), duration(estimated), String.format(Locale.ROOT, "%,.0f", unitsPlanned), unitsPerSecond, attackStep,
                out.resolve(MODELS));
        stages = 5 + plan.advEps().length;

        begin("1. the naive classifier: training", trainUnits(AdversarialTraining.none(0f)));
        Model plain = train("no adversarial training", "plain", AdversarialTraining.none(0f), train, test);
        Naive naive = new Naive(plain);
        log.printf(Locale.ROOT, "   clean test accuracy %.2f%% on %,d images (seed: 54%%)%n", 100 * plain.clean().accuracy(), plain.clean().n());
        writeTrainingCurve(plain);

        int[] gridImages = pickPictures(plain.net(), attacked);
        begin("2. pictures under PGD at growing eps", 0);
        Pictures pictures = pictures(plain, attacked, gridImages);

        begin("3. accuracy against eps, FGSM and PGD", sweepUnits());
        Sweep sweep = sweep(plain, attacked);

        begin("4. the necessary condition alpha*steps >= eps", conditionUnits());
        Condition condition = condition(plain, attacked, gridImages);

        List<Model> models = new ArrayList<>(List.of(plain));
        for (float eps : plan.advEps()) {
            AdversarialTraining training = AdversarialTraining.fgsm(eps, Plan.ADV_MIX);
            begin("5. adversarial training, " + training.describe(), trainUnits(training) + defenseUnitsPerModel());
            models.add(train("Eq. 3 alpha=" + Plan.fmt(Plan.ADV_MIX) + " eps=" + Plan.fmt(eps),
                    "fgsm-eps" + Plan.fmt(eps), training, train, test));
            Model m = models.get(models.size() - 1);
            log.printf(Locale.ROOT, "   clean test accuracy %.2f%% (naive: %.2f%%)%n", 100 * m.clean().accuracy(), 100 * plain.clean().accuracy());
        }
        begin("5. every model under PGD", 0);
        Defense defense = defense(models, sweep, attacked);

        double seconds = elapsed();
        Findings findings = new Findings(plan, backend.name(), backend.deviceName(), naive, pictures, sweep, condition, defense, seconds, estimated);
        List<Path> figures = new ArrayList<>(), csvs = new ArrayList<>();
        for (String name : List.of(TRAINING_CURVE, PICTURES, ACCURACY, CONDITION_ACCURACY, CONDITION_PICTURES, DEFENSE)) {
            figures.add(out.resolve(name + ".png"));
            csvs.add(out.resolve(name + ".csv"));
        }
        Path report = out.resolve(REPORT);
        Report.write(report, findings, out);
        log.printf(Locale.ROOT, "done in %s (estimated %s); report: %s%n", duration(seconds), duration(estimated), report);
        return new Result(report, figures, csvs, findings);
    }

    // ---- 1. the naive classifier, and training in general ---------------------------------------------

    /**
     * Trains (or finds) the model in OUT/models/SLUG-HASH with the plan's recipe and this objective,
     * then loads it and measures its clean accuracy on the test images.
     */
    private Model train(String label, String slug, AdversarialTraining training, Dataset trainSet, Dataset testSet) throws IOException {
        TrainConfig config = plan.trainConfig();
        Map<String, Object> identity = identity(config, training);
        Path dir = out.resolve(MODELS).resolve(slug + "-" + hash(identity));
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
        try (Evaluator evaluator = new Evaluator(backend, Evaluator.DEFAULT_BATCH)) {
            clean = evaluator.evaluate(net, testSet);
        }
        if (!complete) unitsDone += trainUnits(training);  // a reused model was left out of the estimate
        return new Model(label, dir, training, complete, String.valueOf(runJson.get("started")), clean,
                Csv.read(dir.resolve(TrainingRun.METRICS_FILE)), net);
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

    private void writeTrainingCurve(Model model) throws IOException {
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
        csv.write(out.resolve(TRAINING_CURVE + ".csv"));
        double last = epochs.length == 0 ? 1 : epochs[epochs.length - 1];
        List<AccuracyPlot.Series> series = new ArrayList<>();
        if (epochs.length > 0) {
            series.add(new AccuracyPlot.Series("training images", epochs, trainAcc, false));
            series.add(new AccuracyPlot.Series("test images (" + String.format(Locale.ROOT, "%,d", plan.testImages()) + ")", epochs, testAcc, false));
        }
        series.add(AccuracyPlot.Series.reference("seed: 54 %", Plan.SEED_ACCURACY, Math.min(1, epochs.length == 0 ? 1 : epochs[0]), Math.max(last, 1.001)));
        AccuracyPlot.write(out.resolve(TRAINING_CURVE + ".png"), "The naive classifier: accuracy after each epoch ("
                + String.format(Locale.ROOT, "%,d", plan.trainImages()) + " training images, lr " + Plan.fmt(plan.lr()) + ")", "epoch", series);
    }

    // ---- 2. pictures ----------------------------------------------------------------------------------

    private Pictures pictures(Model model, Dataset test, int[] picked) throws IOException {
        AttackConfig base = AttackConfig.pgd(0f);
        List<AttackConfig> attacks = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (float eps : plan.gridEps()) {
            attacks.add(base.withEps(eps));
            titles.add("eps=" + Plan.fmt(eps));
        }
        List<Picture> pictures = pictureFigure(model.net(), test, picked, attacks, titles, PICTURES,
                "Influence of eps on the pictures, " + AdversarialGrid.title(base) + ": predicted class and probability; δ = x_adv - x, magnified");
        for (float eps : plan.gridEps()) {
            double psnr = 0, levels = 0;
            int fooled = 0, right = 0, n = 0;
            for (Picture p : pictures) {
                if (p.attack().eps() != eps) continue;
                psnr += p.psnr();
                levels = Math.max(levels, 255 * p.linf());
                if (p.cleanPredicted() == p.label()) {
                    right++;
                    if (p.predicted() != p.label()) fooled++;
                }
                n++;
            }
            log.printf(Locale.ROOT, "   eps=%s: PSNR %.1f dB, largest change %.1f of 255 levels, %d of the %d pictures classified correctly are fooled%n",
                    Plan.fmt(eps), psnr / n, levels, fooled, right);
        }
        return new Pictures(pictures, plan.gridEps());
    }

    /**
     * The test images of the picture figures: the first of each class that the naive model classifies
     * correctly (an attack can only fool a model that was right), then other images if too few are.
     */
    private int[] pickPictures(Net net, Dataset attacked) {
        advtrain.attack.Evaluator.Predictions clean;
        try (advtrain.attack.Evaluator evaluator = attackEvaluator(net, attacked)) {
            clean = evaluator.clean();
        }
        List<Integer> picked = new ArrayList<>();
        boolean[] seen = new boolean[Net.CLASSES];
        for (int i = 0; i < attacked.size() && picked.size() < plan.gridImages(); i++) {
            if (clean.predicted()[i] == clean.labels()[i] && !seen[clean.labels()[i]]) {
                seen[clean.labels()[i]] = true;
                picked.add(i);
            }
        }
        for (int i : AdversarialGrid.pickDistinctClasses(attacked, plan.gridImages())) {
            if (picked.size() < plan.gridImages() && !picked.contains(i)) picked.add(i);
        }
        return picked.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Draws a picture figure (AdversarialGrid) and writes its CSV: one row per picture and attack. */
    private List<Picture> pictureFigure(Net net, Dataset test, int[] picked, List<AttackConfig> attacks, List<String> titles,
                                        String name, String title) throws IOException {
        int n = picked.length, size = Dataset.IMAGE_BYTES;
        float[] images = new float[n * size];
        int[] labels = new int[n];
        float[] labelValues = new float[n];
        for (int i = 0; i < n; i++) {
            test.copyImage(picked[i], images, i * size);
            labels[i] = test.label(picked[i]);
            labelValues[i] = labels[i];
        }
        ImageGrid.write(out.resolve(name + ".png"), AdversarialGrid.png(backend, net, attacks, titles, title, images, labels));

        // The same attacks again for the numbers (no random start: the same pictures as in the figure).
        List<Picture> pictures = new ArrayList<>();
        Csv csv = new Csv("column", "attack", "eps", "steps", "step_size", "test_image", "label", "clean_predicted", "predicted",
                "probability", "linf", "linf_levels", "mean_abs", "psnr_db");
        Tensor x = backend.fromArray(images, n, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH);
        Tensor y = backend.fromArray(labelValues, n);
        try {
            int[] cleanPredicted = argmax(probabilities(net, x));
            for (int a = 0; a < attacks.size(); a++) {
                AttackConfig config = attacks.get(a);
                float[] adversarial, probabilities;
                try (Attack attack = Attack.create(backend, config)) {
                    Tensor result = attack.perturb(net, x, y);
                    adversarial = backend.toArray(result);
                    probabilities = probabilities(net, result);
                }
                for (int i = 0; i < n; i++) {
                    double linf = 0, sumAbs = 0, sumSquares = 0;
                    for (int k = 0; k < size; k++) {
                        double d = adversarial[i * size + k] - images[i * size + k];
                        linf = Math.max(linf, Math.abs(d));
                        sumAbs += Math.abs(d);
                        sumSquares += d * d;
                    }
                    int best = argmax(probabilities)[i];
                    double psnr = sumSquares == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(size / sumSquares);
                    Picture p = new Picture(titles.get(a), config, picked[i], labels[i], cleanPredicted[i], best,
                            probabilities[i * Net.CLASSES + best], linf, sumAbs / size, psnr);
                    pictures.add(p);
                    csv.row(p.column(), config.kind().label(), config.eps(), config.steps(), config.alpha(), p.image(),
                            Cifar10.CLASSES.get(p.label()), Cifar10.CLASSES.get(p.cleanPredicted()), Cifar10.CLASSES.get(p.predicted()),
                            p.probability(), p.linf(), 255 * p.linf(), p.meanAbs(), p.psnr());
                }
            }
        } finally {
            backend.release(x);
            backend.release(y);
        }
        csv.write(out.resolve(name + ".csv"));
        return pictures;
    }

    /** The most probable class of each row of [n, classes] probabilities. */
    private static int[] argmax(float[] probabilities) {
        int[] best = new int[probabilities.length / Net.CLASSES];
        for (int i = 0; i < best.length; i++) {
            for (int c = 1; c < Net.CLASSES; c++) if (probabilities[i * Net.CLASSES + c] > probabilities[i * Net.CLASSES + best[i]]) best[i] = c;
        }
        return best;
    }

    private float[] probabilities(Module model, Tensor images) {
        float[] logProbs;
        try (Tape tape = new Tape(backend); Tape.NoGrad off = tape.noGrad()) {
            logProbs = backend.toArray(model.forward(tape.input(images, false)).data());
        }
        for (int i = 0; i < logProbs.length; i++) logProbs[i] = (float) Math.exp(logProbs[i]);
        return logProbs;
    }

    // ---- 3. accuracy against ε ----------------------------------------------------------------------

    private Sweep sweep(Model model, Dataset attacked) throws IOException {
        List<AttackResult> fgsm = new ArrayList<>(), pgd = new ArrayList<>();
        double clean;
        try (advtrain.attack.Evaluator evaluator = attackEvaluator(model.net(), attacked)) {
            clean = (double) evaluator.clean().correct() / attacked.size();
            for (float eps : plan.sweepEps()) {
                fgsm.add(attack(evaluator, AttackConfig.fgsm(eps), model));
                pgd.add(attack(evaluator, AttackConfig.pgd(eps), model));
            }
        }
        Csv csv = new Csv("attack", "eps", "steps", "step_size", "n", "clean_accuracy", "robust_accuracy", "success_rate",
                "seconds", "images_per_second");
        for (List<AttackResult> list : List.of(fgsm, pgd)) {
            for (AttackResult r : list) {
                csv.row(r.config().kind().label(), r.config().eps(), r.config().steps(), r.config().alpha(), r.n(), r.cleanAccuracy(),
                        r.robustAccuracy(), r.successRate(), r.seconds(), r.imagesPerSecond());
            }
        }
        csv.write(out.resolve(ACCURACY + ".csv"));
        double[] xs = toDoubles(plan.sweepEps());
        AccuracyPlot.write(out.resolve(ACCURACY + ".png"), "Influence of eps on accuracy (" + attacked.size() + " test images)",
                "ε (L∞, pixel units)", List.of(
                        new AccuracyPlot.Series("FGSM", xs, accuracies(fgsm), false),
                        new AccuracyPlot.Series("PGD-10, step eps/4", xs, accuracies(pgd), false),
                        AccuracyPlot.Series.reference("clean", clean, xs[0], xs[xs.length - 1])));
        return new Sweep(clean, attacked.size(), fgsm, pgd);
    }

    private advtrain.attack.Evaluator attackEvaluator(Net net, Dataset attacked) {
        return new advtrain.attack.Evaluator(backend, net, attacked, ATTACK_BATCH, Net.CLASSES, true);
    }

    /** Runs one attack over the attacked images, says the result, counts its share of the estimate. */
    private AttackResult attack(advtrain.attack.Evaluator evaluator, AttackConfig config, Model model) {
        AttackResult r = evaluator.run(config);
        unitsDone += attackUnits(config, evaluator.size());
        log.printf(Locale.ROOT, "   %-34s %s: robust accuracy %6.2f%% (%d images, %.1f s)%n", config.describe(), model.label(),
                100 * r.robustAccuracy(), r.n(), r.seconds());
        return r;
    }

    // ---- 4. the necessary condition -------------------------------------------------------------------

    private Condition condition(Model model, Dataset attacked, int[] picked) throws IOException {
        float eps = plan.conditionEps();
        List<AttackConfig> attacks = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (float ratio : plan.conditionRatios()) {
            float alpha = ratio * eps / Plan.CONDITION_STEPS;
            attacks.add(AttackConfig.pgd(eps).withSteps(Plan.CONDITION_STEPS).withStepSize(alpha));
            titles.add(String.format(Locale.ROOT, "α·steps=%s·ε", Plan.fmt(ratio)));
        }
        List<AttackResult> results = new ArrayList<>();
        AttackResult fgsm;
        try (advtrain.attack.Evaluator evaluator = attackEvaluator(model.net(), attacked)) {
            for (AttackConfig config : attacks) results.add(attack(evaluator, config, model));
            fgsm = attack(evaluator, AttackConfig.fgsm(eps), model);
        }
        Csv csv = new Csv("attack", "eps", "steps", "step_size", "alpha_steps_over_eps", "meets_condition", "n", "robust_accuracy",
                "success_rate", "seconds");
        for (int i = 0; i < results.size(); i++) {
            AttackResult r = results.get(i);
            float ratio = plan.conditionRatios()[i];
            csv.row("pgd", eps, r.config().steps(), r.config().alpha(), ratio, ratio >= 1, r.n(), r.robustAccuracy(), r.successRate(), r.seconds());
        }
        csv.row("fgsm", eps, 1, eps, 1f, true, fgsm.n(), fgsm.robustAccuracy(), fgsm.successRate(), fgsm.seconds());
        csv.write(out.resolve(CONDITION_ACCURACY + ".csv"));
        double[] xs = toDoubles(plan.conditionRatios());
        double clean = results.get(0).cleanAccuracy();
        AccuracyPlot.write(out.resolve(CONDITION_ACCURACY + ".png"), "PGD-" + Plan.CONDITION_STEPS + " at eps=" + Plan.fmt(eps)
                        + ": accuracy against α·steps/ε (" + attacked.size() + " test images)", "α·steps / ε", List.of(
                        new AccuracyPlot.Series("PGD-" + Plan.CONDITION_STEPS, xs, accuracies(results), false),
                        AccuracyPlot.Series.reference("FGSM (one step of ε)", fgsm.robustAccuracy(), xs[0], xs[xs.length - 1]),
                        AccuracyPlot.Series.reference("clean", clean, xs[0], xs[xs.length - 1])));
        List<Picture> pictures = pictureFigure(model.net(), attacked, picked, attacks, titles, CONDITION_PICTURES,
                "PGD L∞ at eps=" + Plan.fmt(eps) + ", " + Plan.CONDITION_STEPS + " steps of α: below (α·steps < ε), at and above the condition");
        return new Condition(eps, plan.conditionRatios(), results, fgsm, pictures);
    }

    // ---- 5. adversarial training ----------------------------------------------------------------------

    private Defense defense(List<Model> models, Sweep sweep, Dataset attacked) throws IOException {
        Map<String, List<AttackResult>> results = new LinkedHashMap<>();
        for (Model model : models) {
            List<AttackResult> list = new ArrayList<>();
            try (advtrain.attack.Evaluator evaluator = attackEvaluator(model.net(), attacked)) {
                for (float eps : plan.advEvalEps()) {
                    AttackResult known = model == models.get(0) ? find(sweep.pgd(), eps) : null;  // the naive model's PGD is in the sweep
                    list.add(known != null ? known : attack(evaluator, AttackConfig.pgd(eps), model));
                }
            }
            results.put(model.label(), list);
        }
        Csv csv = new Csv("model", "train_eps", "train_mix", "clean_test_accuracy", "pgd_eps", "n", "robust_accuracy", "seconds");
        List<AccuracyPlot.Series> series = new ArrayList<>();
        double[] xs = toDoubles(plan.advEvalEps());
        for (Model model : models) {
            List<AttackResult> list = results.get(model.label());
            for (AttackResult r : list) {
                csv.row(model.label(), model.training().adversarial() ? model.training().eps() : 0f,
                        model.training().adversarial() ? model.training().mix() : 1f, model.clean().accuracy(), r.config().eps(), r.n(),
                        r.robustAccuracy(), r.seconds());
            }
            series.add(new AccuracyPlot.Series(model.training().adversarial() ? "with, trained at ε=" + Plan.fmt(model.training().eps())
                    : "without adversarial training", xs, accuracies(list), false));
        }
        csv.write(out.resolve(DEFENSE + ".csv"));
        AccuracyPlot.write(out.resolve(DEFENSE + ".png"), "Adversarial training (Eq. 3, α=" + Plan.fmt(Plan.ADV_MIX)
                + ") against PGD-10 (" + attacked.size() + " test images)", "PGD ε (L∞, pixel units)", series);
        return new Defense(models, results, plan.advEvalEps());
    }

    static AttackResult find(List<AttackResult> results, float eps) {
        for (AttackResult r : results) if (r.config().eps() == eps) return r;
        return null;
    }

    // ---- the estimate and progress --------------------------------------------------------------------

    /** Measures this backend's speed (training steps, attack steps), then adds up the plan's work. */
    private double estimate(Dataset train, Dataset attacked) {
        unitsPerSecond = measureSpeed(train);
        attackStep = Math.min(2, Math.max(0.05, measureAttackStep(attacked) * unitsPerSecond));
        double units = 0;
        if (!isComplete(modelDir("plain", AdversarialTraining.none(0f)), plan.epochs())) units += trainUnits(AdversarialTraining.none(0f));
        for (float eps : plan.advEps()) {
            AdversarialTraining t = AdversarialTraining.fgsm(eps, Plan.ADV_MIX);
            if (!isComplete(modelDir("fgsm-eps" + Plan.fmt(eps), t), plan.epochs())) units += trainUnits(t);
            units += defenseUnitsPerModel();
        }
        units += sweepUnits() + conditionUnits();
        unitsPlanned = units;
        return units / unitsPerSecond;
    }

    private Path modelDir(String slug, AdversarialTraining training) {
        return out.resolve(MODELS).resolve(slug + "-" + hash(identity(plan.trainConfig(), training)));
    }

    /**
     * Images per second of plain SGD steps with batch 32, once warm: the Java backend runs slowly until
     * the JIT has compiled its kernels, which can take seconds, so rounds of 8 batches are timed until
     * one is no faster than the one before (or {@value #PROBE_SECONDS} s have passed), and the best counts.
     */
    private double measureSpeed(Dataset train) {
        Dataset sample = train.limit(TrainConfig.BATCH * 8);
        Net net = new Net(backend, 0);
        Sgd sgd = new Sgd(backend, net.parameters(), plan.lr(), TrainConfig.MOMENTUM);
        BatchLoader loader = new BatchLoader(sample, TrainConfig.BATCH, false, false, 0);
        long start = System.nanoTime();
        double best = 0, previous = 0;
        try (Trainer trainer = new Trainer(backend, net, sgd, Objective.standard())) {
            for (int round = 0; round < 100; round++) {
                double speed = trainer.trainEpoch(loader, round, null).imagesPerSecond();
                best = Math.max(best, speed);
                boolean settled = round >= 2 && speed < 1.1 * previous;
                if (settled || (System.nanoTime() - start) / 1e9 > PROBE_SECONDS) break;
                previous = speed;
            }
        }
        return best;
    }

    static final double PROBE_SECONDS = 15;

    /**
     * Seconds per image and step of a PGD attack on a batch of up to {@value #ATTACK_BATCH} test images
     * (an untrained network: the cost does not depend on the weights), once warm.
     */
    private double measureAttackStep(Dataset attacked) {
        int n = Math.min(ATTACK_BATCH, attacked.size()), steps = 2;
        float[] images = new float[n * Dataset.IMAGE_BYTES], labels = new float[n];
        for (int i = 0; i < n; i++) {
            attacked.copyImage(i, images, i * Dataset.IMAGE_BYTES);
            labels[i] = attacked.label(i);
        }
        Net net = new Net(backend, 0);
        Tensor x = backend.fromArray(images, n, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH), y = backend.fromArray(labels, n);
        double best = Double.MAX_VALUE;
        long start = System.nanoTime();
        try (Attack attack = Attack.create(backend, AttackConfig.pgd(0.03f).withSteps(steps))) {
            for (int round = 0; round < 20 && (round < 3 || (System.nanoTime() - start) / 1e9 < PROBE_SECONDS / 3); round++) {
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

    private double trainUnits(AdversarialTraining training) {
        double perImage = switch (training.method()) {
            case NONE -> 1;
            case FGSM -> training.mix() == 1f ? 1 : TRAIN_ATTACK_STEP + 1 + 1;  // the attack's gradient, the adversarial and the clean pass
            case FGSM_RS -> TRAIN_ATTACK_STEP + 2;
            case PGD -> TRAIN_ATTACK_STEP * training.steps() + 1 + FORWARD;
        };
        double perEpoch = plan.trainImages() * perImage + plan.testImages() * FORWARD;
        if (training.adversarial()) perEpoch += plan.evalAdvLimit() * (attackStep * AttackConfig.DEFAULT_STEPS + 2 * FORWARD);
        return plan.epochs() * perEpoch;
    }

    private double attackUnits(AttackConfig config, int images) {
        return config.eps() == 0 ? images * FORWARD : images * (attackStep * config.steps() * config.restarts() + FORWARD);
    }

    private double sweepUnits() {
        double units = plan.attackImages() * FORWARD;
        for (float eps : plan.sweepEps()) units += attackUnits(AttackConfig.fgsm(eps), plan.attackImages()) + attackUnits(AttackConfig.pgd(eps), plan.attackImages());
        return units;
    }

    private double conditionUnits() {
        return (plan.conditionRatios().length * (attackStep * Plan.CONDITION_STEPS + FORWARD) + attackStep + FORWARD) * plan.attackImages();
    }

    private double defenseUnitsPerModel() {
        double units = plan.attackImages() * FORWARD;
        for (float eps : plan.advEvalEps()) units += attackUnits(AttackConfig.pgd(eps), plan.attackImages());
        return units;
    }

    private void begin(String what, double units) {
        stage++;
        double elapsed = elapsed();
        String left = "";
        if (unitsDone > 0 && elapsed > 1) {
            double rate = unitsDone / elapsed;  // what this run has done so far, models reused included
            left = ", about " + duration(Math.max(0, unitsPlanned - unitsDone) / Math.max(rate, unitsPerSecond / 4)) + " left";
        }
        log.printf(Locale.ROOT, "[%d/%d] %s (elapsed %s%s)%n", Math.min(stage, stages), stages, what, duration(elapsed), left);
    }

    private double elapsed() { return (System.nanoTime() - start) / 1e9; }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + " s";
        if (s < 3600) return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60);
    }

    static double[] toDoubles(float[] values) {
        double[] d = new double[values.length];
        for (int i = 0; i < d.length; i++) d[i] = values[i];
        return d;
    }

    static double[] accuracies(List<AttackResult> results) {
        double[] d = new double[results.size()];
        for (int i = 0; i < d.length; i++) d[i] = results.get(i).robustAccuracy();
        return d;
    }

    private static double number(String s) {
        try {
            return s == null || s.isEmpty() ? Double.NaN : Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
