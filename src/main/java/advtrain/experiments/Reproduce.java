package advtrain.experiments;

import advtrain.attack.AttackConfig;
import advtrain.attack.AttackResult;
import advtrain.attack.RobustnessEvaluator;
import advtrain.backend.Backend;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.nn.Net;
import advtrain.report.AccuracyPlot;
import advtrain.train.AdversarialTraining;
import advtrain.train.Evaluation;
import advtrain.train.TrainConfig;
import advtrain.train.WarmUp;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 *   <li>adversarial training (Eq. 3, α = 0.5) at several ε: accuracy under PGD with and without it;</li>
 *   <li>beyond the seed: every model under AutoAttack at the seed's ε against PGD-10, per class.</li>
 * </ol>
 * Models are trained, or found in OUT/models and reused, by {@link Models}; the picture figures are
 * drawn by {@link PictureFigures}, the attack figures by {@link AttackFigures}; {@link ReproduceProgress}
 * estimates the duration beforehand and tells the time left. This class runs the stages in order
 * and holds what they find (the records below), from which {@link ReproductionReport} writes report.md. Every
 * number of the report is measured in this run, except the training curves, which are the models'
 * metrics.csv (the report says when a model was trained in an earlier run).
 */
public final class Reproduce {
    public static final String REPORT = "report.md", MODELS = "models";
    static final String TRAINING_CURVE = "1_training_curve", PICTURES = "2_pictures_vs_eps", ACCURACY = "3_accuracy_vs_eps",
            CONDITION_ACCURACY = "4_condition_accuracy", CONDITION_PICTURES = "4_condition_pictures", DEFENSE = "5_adversarial_training",
            AUTOATTACK = "6_autoattack", PER_CLASS = "6_per_class";
    /** The figures that are pictures of images: always PNG. */
    static final List<String> PICTURE_FIGURES = List.of(PICTURES, CONDITION_PICTURES);
    /** Test images per batch of every attack of the figures. */
    static final int ATTACK_BATCH = 250;

    private final Backend backend;
    private final Plan plan;
    private final Path dataDir, out;
    private final PrintStream log;
    private final Models models;
    private final PictureFigures pictureFigures;
    private final AttackFigures attackFigures;
    private final AutoAttackFigure autoAttackFigure;
    private final ReproduceProgress progress;
    private final AccuracyPlot.Style style;

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

    /** Per model (in the order of the defense figure): PGD-10 and AutoAttack at the seed's ε, on the same images. */
    public record Robustness(float eps, List<Model> models, List<AttackResult> pgd, List<AttackResult> autoAttack) {}

    /** Everything the report shows. */
    public record Findings(Plan plan, String backend, String device, Naive naive, Pictures pictures, Sweep sweep,
                           Condition condition, Defense defense, Robustness robustness, double seconds, double estimatedSeconds,
                           AccuracyPlot.Format figureFormat) {}

    public record Result(Path report, List<Path> figures, List<Path> csvs, Findings findings) {}

    /**
     * @param log   where the stages and results are told (stdout of the command)
     * @param quiet no progress bars (training runs' epochs still go to log)
     */
    public Reproduce(Backend backend, Plan plan, AccuracyPlot.Style style, Path dataDir, Path out, PrintStream log, boolean quiet) {
        this.backend = backend;
        this.plan = plan;
        this.dataDir = dataDir;
        this.out = out;
        this.log = log;
        this.style = style;
        this.models = new Models(backend, plan, dataDir, out, log, quiet, style);
        this.pictureFigures = new PictureFigures(backend, plan, out, log);
        this.progress = new ReproduceProgress(backend, plan, log, 6 + plan.advEps().length);
        this.attackFigures = new AttackFigures(backend, plan, out, log, progress, pictureFigures, style);
        this.autoAttackFigure = new AutoAttackFigure(backend, plan, out, log, progress, style);
    }

    public Result run() throws IOException {
        Files.createDirectories(out.resolve(MODELS));
        WarmUp warmUp = WarmUp.start(backend, TrainConfig.BATCH);  // the JIT compiles the step while the data loads
        Dataset train = Cifar10.train(dataDir, plan.trainImages());
        Dataset test = Cifar10.test(dataDir, plan.testImages());
        if (warmUp != null) log.println(warmUp.finish().describe());
        Dataset attacked = test.limit(plan.attackImages());

        // The whole run, as "done in" counts it: the loading, the warm-up and the measurements so far, then the plan's work.
        double work = progress.estimate(train, attacked, models), spent = progress.elapsed(), estimated = spent + work;
        log.printf(Locale.ROOT, "reproduce (%s) on %s: expected duration about %s in all (%s of it spent already loading the data, warming "
                        + "up and measuring; %s units of one image's forward+backward pass to go, %.0f per second, an attack step %.2f units, "
                        + "measured just now; models already in %s are reused)%n",
                plan, backend.name(), ReproduceProgress.duration(estimated), ReproduceProgress.duration(spent),
                String.format(Locale.ROOT, "%,.0f", progress.unitsPlanned()), progress.unitsPerSecond(), progress.attackStep(), out.resolve(MODELS));

        progress.begin("1. the naive classifier: training", progress.trainUnits(AdversarialTraining.none(0f)));
        Model plain = train("no adversarial training", Models.PLAIN, AdversarialTraining.none(0f), train, test);
        Naive naive = new Naive(plain);
        log.printf(Locale.ROOT, "   clean test accuracy %.2f%% on %,d images (seed: 54%%)%n", 100 * plain.clean().accuracy(), plain.clean().n());
        models.writeTrainingCurve(plain);

        int[] gridImages = pictureFigures.pickPictures(plain.net(), attacked);
        progress.begin("2. pictures under PGD at growing eps", 0);
        Pictures pictures = pictureFigures.pictures(plain, attacked, gridImages);

        progress.begin("3. accuracy against eps, FGSM and PGD", progress.sweepUnits());
        Sweep sweep = attackFigures.sweep(plain, attacked);

        progress.begin("4. the necessary condition alpha*steps >= eps", progress.conditionUnits());
        Condition condition = attackFigures.condition(plain, attacked, gridImages);

        List<Model> trained = new ArrayList<>(List.of(plain));
        for (float eps : plan.advEps()) {
            AdversarialTraining training = AdversarialTraining.fgsm(eps, Plan.ADV_MIX);
            progress.begin("5. adversarial training, " + training.describe(), progress.trainUnits(training) + progress.defenseUnitsPerModel());
            trained.add(train("Eq. 3 alpha=" + Plan.fmt(Plan.ADV_MIX) + " eps=" + Plan.fmt(eps),
                    Models.adversarialSlug(eps), training, train, test));
            Model m = trained.get(trained.size() - 1);
            log.printf(Locale.ROOT, "   clean test accuracy %.2f%% (naive: %.2f%%)%n", 100 * m.clean().accuracy(), 100 * plain.clean().accuracy());
        }
        progress.begin("5. every model under PGD", 0);
        Defense defense = attackFigures.defense(trained, sweep, attacked);

        progress.begin("6. every model under AutoAttack at eps=" + Plan.fmt(plan.conditionEps()), 0);
        Robustness robustness = autoAttackFigure.run(defense, attacked);

        double seconds = progress.elapsed();
        Findings findings = new Findings(plan, backend.name(), backend.deviceName(), naive, pictures, sweep, condition, defense, robustness,
                seconds, estimated, style.format());
        List<Path> figures = new ArrayList<>(), csvs = new ArrayList<>();
        for (String name : List.of(TRAINING_CURVE, PICTURES, ACCURACY, CONDITION_ACCURACY, CONDITION_PICTURES, DEFENSE, PER_CLASS)) {
            figures.add(out.resolve(name + ".png"));
            if (style.format() != AccuracyPlot.Format.PNG && !PICTURE_FIGURES.contains(name)) figures.add(style.format().file(out, name));
            csvs.add(out.resolve(name + ".csv"));
        }
        csvs.add(out.resolve(AUTOATTACK + ".csv"));
        Path report = out.resolve(REPORT);
        ReproductionReport.write(report, findings, out);
        log.printf(Locale.ROOT, "done in %s (estimated beforehand %s: the run took %.0f %% of the estimate); report: %s%n",
                ReproduceProgress.duration(seconds), ReproduceProgress.duration(estimated), 100 * seconds / estimated, report);
        return new Result(report, figures, csvs, findings);
    }

    /** Trains (or finds) a model, counting its training towards the estimate when it was not reused. */
    private Model train(String label, String slug, AdversarialTraining training, Dataset trainSet, Dataset testSet) throws IOException {
        Model model = models.train(label, slug, training, trainSet, testSet);
        if (!model.reused()) progress.done(progress.trainUnits(training));  // a reused model was left out of the estimate
        return model;
    }

    /** An evaluator of the attacked test images in batches of {@value #ATTACK_BATCH}, for every attack figure. */
    static RobustnessEvaluator attackEvaluator(Backend backend, Net net, Dataset attacked) {
        return new RobustnessEvaluator(backend, net, attacked, ATTACK_BATCH, Net.CLASSES, true);
    }
}
