package advtrain.experiments;

import advtrain.attack.AttackConfig;
import advtrain.attack.AttackResult;
import advtrain.backend.Backend;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.report.AccuracyPlot;
import advtrain.stats.Stats;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Figure 6, beyond the seed: every model under AutoAttack (APGD-CE, APGD-T, Square; FAB-T not
 * included) at the seed's ε, against PGD-10 at the same ε on the same images: how many points PGD-10
 * overstated the robustness, with the exact McNemar test of the difference; and the robust accuracy
 * per class under AutoAttack (a table and a figure).
 */
final class AutoAttackFigure {
    private final Backend backend;
    private final Plan plan;
    private final Path out;
    private final AccuracyPlot.Style style;
    private final PrintStream log;
    private final ReproduceProgress progress;

    AutoAttackFigure(Backend backend, Plan plan, Path out, PrintStream log, ReproduceProgress progress, AccuracyPlot.Style style) {
        this.style = style;
        this.backend = backend;
        this.plan = plan;
        this.out = out;
        this.log = log;
        this.progress = progress;
    }

    /** The AutoAttack configuration of the figure: the standard version's settings at this ε. */
    static AttackConfig autoAttack(float eps, long seed) {
        return AttackConfig.of(AttackConfig.Kind.AUTOATTACK, eps).withSeed(seed);
    }

    Reproduce.Robustness run(Reproduce.Defense defense, Dataset allAttacked) throws IOException {
        float eps = plan.conditionEps();
        Dataset attacked = allAttacked.limit(plan.autoAttackImages());  // PGD-10 on the same images, for the paired test
        List<Reproduce.Model> models = defense.models();
        List<AttackResult> pgd = new ArrayList<>(), auto = new ArrayList<>();
        for (Reproduce.Model model : models) {
            AttackResult known = attacked.size() == allAttacked.size() ? AttackFigures.find(defense.pgd().get(model.label()), eps) : null;
            try (advtrain.attack.RobustnessEvaluator evaluator = Reproduce.attackEvaluator(backend, model.net(), attacked)) {
                AttackResult p = known != null ? known : evaluator.run(AttackConfig.pgd(eps));
                AttackResult a = evaluator.run(autoAttack(eps, plan.seed()));
                progress.done(progress.autoAttackUnits(attacked.size()) + (known == null ? progress.attackUnits(AttackConfig.pgd(eps), attacked.size()) : 0));
                Stats.Paired test = p.compareRobust(a);
                log.printf(Locale.ROOT, "   %s: PGD-10 %s, AutoAttack %s at eps=%s (%d images, %.1f s): PGD-10 overstates by %.1f points, "
                                + "McNemar %s%n", model.label(), ReproductionReport.pct(p.robustAccuracy()), ReproductionReport.pct(a.robustAccuracy()), Plan.fmt(eps),
                        a.n(), a.seconds(), 100 * (p.robustAccuracy() - a.robustAccuracy()), test.pText());
                pgd.add(p);
                auto.add(a);
            }
        }
        Csv csv = new Csv("model", "eps", "n", "pgd10_robust_accuracy", "pgd10_ci95_low", "pgd10_ci95_high", "autoattack_robust_accuracy",
                "autoattack_ci95_low", "autoattack_ci95_high", "overstated_points", "right_only_under_pgd10", "right_only_under_autoattack",
                "mcnemar_p", "autoattack_seconds");
        Csv perClass = new Csv("model", "class", "n", "clean_accuracy", "pgd10_robust_accuracy", "autoattack_robust_accuracy",
                "autoattack_ci95_low", "autoattack_ci95_high");
        List<AccuracyPlot.Series> series = new ArrayList<>();
        double[] classes = new double[Cifar10.CLASSES.size()];
        for (int c = 0; c < classes.length; c++) classes[c] = c;
        for (int m = 0; m < models.size(); m++) {
            AttackResult p = pgd.get(m), a = auto.get(m);
            Stats.Interval pi = p.robustInterval(), ai = a.robustInterval();
            Stats.Paired test = p.compareRobust(a);
            csv.row(models.get(m).label(), eps, a.n(), p.robustAccuracy(), pi.low(), pi.high(), a.robustAccuracy(), ai.low(), ai.high(),
                    100 * (p.robustAccuracy() - a.robustAccuracy()), test.onlyA(), test.onlyB(), test.p(), a.seconds());
            double[] ys = new double[classes.length];
            for (int c = 0; c < classes.length; c++) {
                int n = a.perClassTotal()[c];
                Stats.Interval ci = Stats.wilson(a.perClassRobust()[c], n);
                ys[c] = n == 0 ? Double.NaN : (double) a.perClassRobust()[c] / n;
                perClass.row(models.get(m).label(), Cifar10.CLASSES.get(c), n, n == 0 ? Double.NaN : (double) a.perClassClean()[c] / n,
                        n == 0 ? Double.NaN : (double) p.perClassRobust()[c] / n, ys[c], ci.low(), ci.high());
            }
            series.add(AccuracyPlot.Series.data(models.get(m).label(), classes, ys));
        }
        csv.write(out.resolve(Reproduce.AUTOATTACK + ".csv"));
        perClass.write(out.resolve(Reproduce.PER_CLASS + ".csv"));
        AccuracyPlot.write(out, Reproduce.PER_CLASS, "Robust accuracy per class under AutoAttack (no FAB-T) at eps="
                + Plan.fmt(eps) + " (" + attacked.size() + " test images)", "class (0 airplane, 1 automobile, ..., 9 truck)", series,
                AccuracyPlot.Scale.LINEAR, style.format());
        return new Reproduce.Robustness(eps, models, pgd, auto);
    }
}
