package advtrain.experiments;

import advtrain.attack.AttackConfig;
import advtrain.attack.AttackResult;
import advtrain.attack.RobustnessEvaluator;
import advtrain.backend.Backend;
import advtrain.data.Dataset;
import advtrain.report.AccuracyPlot;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The attack figures, each a PNG and its CSV: accuracy against ε under FGSM and PGD (figure 3), the
 * necessary condition α·steps ≥ ε (figure 4, with its pictures), and every model under PGD, with
 * and without adversarial training (figure 5). Each attack runs over the plan's attacked test images
 * through {@link #attack}, which says the result and counts its work in {@link ReproduceProgress}.
 */
final class AttackFigures {
    private final Backend backend;
    private final Plan plan;
    private final Path out;
    private final PrintStream log;
    private final ReproduceProgress progress;
    private final PictureFigures pictureFigures;
    private final AccuracyPlot.Style style;

    AttackFigures(Backend backend, Plan plan, Path out, PrintStream log, ReproduceProgress progress, PictureFigures pictureFigures,
                  AccuracyPlot.Style style) {
        this.backend = backend;
        this.style = style;
        this.plan = plan;
        this.out = out;
        this.log = log;
        this.progress = progress;
        this.pictureFigures = pictureFigures;
    }

    // ---- 3. accuracy against ε ----------------------------------------------------------------------

    Reproduce.Sweep sweep(Reproduce.Model model, Dataset attacked) throws IOException {
        List<AttackResult> fgsm = new ArrayList<>(), pgd = new ArrayList<>();
        double clean;
        try (RobustnessEvaluator evaluator = Reproduce.attackEvaluator(backend, model.net(), attacked)) {
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
        csv.write(out.resolve(Reproduce.ACCURACY + ".csv"));
        double[] xs = toDoubles(plan.sweepEps());
        AccuracyPlot.write(out, Reproduce.ACCURACY, "Influence of eps on accuracy (" + images(attacked.size()) + " test images)",
                "ε (L∞, pixel units)", List.of(
                        AccuracyPlot.Series.data("FGSM", xs, accuracies(fgsm)),
                        AccuracyPlot.Series.data("PGD-10, step eps/4", xs, accuracies(pgd)),
                        AccuracyPlot.Series.reference("clean", clean, xs[0], xs[xs.length - 1])), style.epsScale(), style.format());
        return new Reproduce.Sweep(clean, attacked.size(), fgsm, pgd);
    }

    /** Runs one attack over the attacked images, says the result, counts its share of the estimate. */
    private AttackResult attack(RobustnessEvaluator evaluator, AttackConfig config, Reproduce.Model model) {
        AttackResult r = evaluator.run(config);
        progress.done(progress.attackUnits(config, evaluator.size()));
        log.printf(Locale.ROOT, "   %-34s %s: robust accuracy %6.2f%% (%d images, %.1f s)%n", config.describe(), model.label(),
                100 * r.robustAccuracy(), r.n(), r.seconds());
        return r;
    }

    // ---- 4. the necessary condition -------------------------------------------------------------------

    Reproduce.Condition condition(Reproduce.Model model, Dataset attacked, int[] picked) throws IOException {
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
        try (RobustnessEvaluator evaluator = Reproduce.attackEvaluator(backend, model.net(), attacked)) {
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
        csv.write(out.resolve(Reproduce.CONDITION_ACCURACY + ".csv"));
        double[] xs = toDoubles(plan.conditionRatios());
        double clean = results.get(0).cleanAccuracy();
        AccuracyPlot.write(out, Reproduce.CONDITION_ACCURACY, "PGD-" + Plan.CONDITION_STEPS + " at eps=" + Plan.fmt(eps)
                        + ": accuracy against α·steps/ε (" + images(attacked.size()) + " test images)", "α·steps / ε", List.of(
                        AccuracyPlot.Series.data("PGD-" + Plan.CONDITION_STEPS, xs, accuracies(results)),
                        AccuracyPlot.Series.reference("FGSM (one step of ε)", fgsm.robustAccuracy(), xs[0], xs[xs.length - 1]),
                        AccuracyPlot.Series.reference("clean", clean, xs[0], xs[xs.length - 1]),
                        AccuracyPlot.Series.mark("α·steps = ε (the condition)", 1)), AccuracyPlot.Scale.LINEAR, style.format());
        List<Reproduce.Picture> pictures = pictureFigures.pictureFigure(model.net(), attacked, picked, attacks, titles, Reproduce.CONDITION_PICTURES,
                "PGD L∞ at eps=" + Plan.fmt(eps) + ", " + Plan.CONDITION_STEPS + " steps of α: below (α·steps < ε), at and above the condition");
        return new Reproduce.Condition(eps, plan.conditionRatios(), results, fgsm, pictures);
    }

    // ---- 5. adversarial training ----------------------------------------------------------------------

    Reproduce.Defense defense(List<Reproduce.Model> models, Reproduce.Sweep sweep, Dataset attacked) throws IOException {
        Map<String, List<AttackResult>> results = new LinkedHashMap<>();
        for (Reproduce.Model model : models) {
            List<AttackResult> list = new ArrayList<>();
            try (RobustnessEvaluator evaluator = Reproduce.attackEvaluator(backend, model.net(), attacked)) {
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
        for (Reproduce.Model model : models) {
            List<AttackResult> list = results.get(model.label());
            for (AttackResult r : list) {
                csv.row(model.label(), model.training().adversarial() ? model.training().eps() : 0f,
                        model.training().adversarial() ? model.training().mix() : 1f, model.clean().accuracy(), r.config().eps(), r.n(),
                        r.robustAccuracy(), r.seconds());
            }
            series.add(AccuracyPlot.Series.data(model.training().adversarial() ? "with, trained at ε=" + Plan.fmt(model.training().eps())
                    : "without adversarial training", xs, accuracies(list)));
        }
        csv.write(out.resolve(Reproduce.DEFENSE + ".csv"));
        AccuracyPlot.write(out, Reproduce.DEFENSE, "Adversarial training (Eq. 3, α=" + Plan.fmt(Plan.ADV_MIX)
                + ") against PGD-10 (" + images(attacked.size()) + " test images)", "PGD ε (L∞, pixel units)", series,
                style.epsScale(), style.format());
        return new Reproduce.Defense(models, results, plan.advEvalEps());
    }

    /** A count for a title: 1,000, not 1000. */
    static String images(int n) { return String.format(Locale.ROOT, "%,d", n); }

    static AttackResult find(List<AttackResult> results, float eps) {
        for (AttackResult r : results) if (r.config().eps() == eps) return r;
        return null;
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
}
