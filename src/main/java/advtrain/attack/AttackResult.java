package advtrain.attack;

import advtrain.data.Cifar10;
import advtrain.stats.Stats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The counts of one attack over a test set.
 *
 * <ul>
 *   <li>robust accuracy: images classified correctly AFTER the attack, over all n images (an image
 *       misclassified before the attack is not robust);</li>
 *   <li>success rate: over the images classified correctly before the attack (for a targeted attack:
 *       those whose label is not the target), the fraction the attack fooled (targeted: now
 *       classified as the target).</li>
 * </ul>
 *
 * @param successBase images the success rate counts over
 * @param seconds     time spent crafting the adversarial images (the attack alone)
 * @param warnings    the sanity checks that failed, one sentence each
 * @param cleanRight  per image: classified correctly before the attack (for paired tests)
 * @param robustRight per image: classified correctly after it
 * @param queries     model queries per attacked image (Square, AutoAttack's Square), else null
 * @param stages      AutoAttack: the robust accuracy after each member, in order; else empty
 */
public record AttackResult(AttackConfig config, int n, int cleanCorrect, int robustCorrect, int successes, int successBase,
                           int[] perClassTotal, int[] perClassClean, int[] perClassRobust,
                           double cleanLoss, double robustLoss, Attack.GradientStats gradients, double seconds,
                           List<String> warnings, boolean[] cleanRight, boolean[] robustRight, int[] queries,
                           List<AutoAttack.Stage> stages) {

    /** A share of images: above this many zero input gradients, the masking check warns. */
    public static final double MASKING_SHARE = 0.10;

    static AttackResult count(AttackConfig config, RobustnessEvaluator.Predictions clean, RobustnessEvaluator.Predictions adversarial,
                              int[] targets, int classes, Attack.GradientStats gradients, double seconds) {
        return count(config, clean, adversarial, targets, classes, gradients, seconds, null, List.of());
    }

    static AttackResult count(AttackConfig config, RobustnessEvaluator.Predictions clean, RobustnessEvaluator.Predictions adversarial,
                              int[] targets, int classes, Attack.GradientStats gradients, double seconds,
                              int[] queries, List<AutoAttack.Stage> stages) {
        int n = clean.labels().length;
        int cleanCorrect = 0, robustCorrect = 0, successes = 0, base = 0;
        int[] total = new int[classes], cleanPerClass = new int[classes], robustPerClass = new int[classes];
        boolean[] cleanRight = new boolean[n], robustRight = new boolean[n];
        for (int i = 0; i < n; i++) {
            int label = clean.labels()[i];
            boolean wasRight = clean.predicted()[i] == label, isRight = adversarial.predicted()[i] == label;
            cleanRight[i] = wasRight;
            robustRight[i] = isRight;
            total[label]++;
            if (wasRight) { cleanCorrect++; cleanPerClass[label]++; }
            if (isRight) { robustCorrect++; robustPerClass[label]++; }
            if (targets == null) {
                if (wasRight) { base++; if (!isRight) successes++; }
            } else if (wasRight && targets[i] != label) {
                base++;
                if (adversarial.predicted()[i] == targets[i]) successes++;
            }
        }
        List<String> warnings = new ArrayList<>(config.warnings());
        warnings.addAll(maskingWarnings(gradients));
        return new AttackResult(config, n, cleanCorrect, robustCorrect, successes, base, total, cleanPerClass, robustPerClass,
                clean.meanLoss(), adversarial.meanLoss(), gradients, seconds, warnings, cleanRight, robustRight, queries, stages);
    }

    /** Gradient masking: a NaN or infinite input gradient anywhere, or exactly zero ones for many images. */
    static List<String> maskingWarnings(Attack.GradientStats g) {
        List<String> list = new ArrayList<>();
        if (g.nonFinite() > 0) {
            list.add(String.format(Locale.ROOT, "the input gradient is NaN or infinite for %d of %d images: the attack cannot "
                    + "follow it there, so the robust accuracy overstates robustness (broken model or engine?)", g.nonFinite(), g.n()));
        }
        if (g.n() > 0 && g.zero() > MASKING_SHARE * g.n()) {
            list.add(String.format(Locale.ROOT, "the input gradient is exactly zero for %d of %d images (%.0f%%): gradient "
                    + "masking (saturated softmax?); gradient attacks cannot move these images, so the robust accuracy "
                    + "overstates robustness", g.zero(), g.n(), 100.0 * g.zero() / g.n()));
        }
        return list;
    }

    public AttackResult withWarnings(List<String> more) {
        List<String> all = new ArrayList<>(warnings);
        all.addAll(more);
        return new AttackResult(config, n, cleanCorrect, robustCorrect, successes, successBase, perClassTotal, perClassClean,
                perClassRobust, cleanLoss, robustLoss, gradients, seconds, all, cleanRight, robustRight, queries, stages);
    }

    /** The Wilson 95 % interval of the clean accuracy. */
    public Stats.Interval cleanInterval() { return Stats.wilson(cleanCorrect, n); }

    /** The Wilson 95 % interval of the robust accuracy. */
    public Stats.Interval robustInterval() { return Stats.wilson(robustCorrect, n); }

    /** The exact McNemar test of this result's robust outcomes against another's on the same images. */
    public Stats.Paired compareRobust(AttackResult other) { return Stats.paired(robustRight, other.robustRight); }

    /** The attack's name for people: "PGD-10", "APGD-CE", "AutoAttack (APGD-CE, APGD-T, Square; FAB-T not included)". */
    public String attackName() {
        return switch (config.kind()) {
            case PGD -> "PGD-" + config.steps();
            case AUTOATTACK -> AutoAttack.NAME;
            default -> config.kind().title();
        };
    }

    /** Mean, median and total of the queries per attacked image, or null. */
    public Map<String, Object> queryStats() {
        if (queries == null) return null;
        int[] sorted = queries.clone();
        java.util.Arrays.sort(sorted);
        long total = 0;
        for (int q : sorted) total += q;
        double median = sorted.length == 0 ? Double.NaN : sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mean", sorted.length == 0 ? Double.NaN : (double) total / sorted.length);
        out.put("median", median);
        out.put("total", total);
        out.put("images", sorted.length);
        return out;
    }

    /** Per class: {class, n, clean_accuracy, robust_accuracy} and their intervals. */
    public List<Map<String, Object>> perClassJson() {
        List<Map<String, Object>> list = new ArrayList<>();
        for (int c = 0; c < perClassTotal.length; c++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("class", className(c));
            row.put("n", perClassTotal[c]);
            row.put("clean_accuracy", ratio(perClassClean[c], perClassTotal[c]));
            row.put("robust_accuracy", ratio(perClassRobust[c], perClassTotal[c]));
            row.put("robust_accuracy_ci95", Stats.wilson(perClassRobust[c], perClassTotal[c]).toArray());
            list.add(row);
        }
        return list;
    }

    public double cleanAccuracy() { return ratio(cleanCorrect, n); }

    public double robustAccuracy() { return ratio(robustCorrect, n); }

    /** NaN when no image counts (none correct before the attack). */
    public double successRate() { return ratio(successes, successBase); }

    public double imagesPerSecond() { return seconds > 0 ? n / seconds : Double.NaN; }

    private static double ratio(int a, int b) { return b == 0 ? Double.NaN : (double) a / b; }

    private static String className(int c) { return c < Cifar10.CLASSES.size() ? Cifar10.CLASSES.get(c) : "class " + c; }

    /** The JSON fields of the attack command (accuracies are fractions in [0, 1]). */
    public Map<String, Object> toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("attack", config.kind().label());
        out.put("attack_name", attackName());
        out.put("norm", config.norm().label());
        out.put("eps", config.eps());
        out.put("steps", config.steps());
        out.put("step_size", config.alpha());
        out.put("random_start", config.randomStart());
        out.put("restarts", config.restarts());
        out.put("targeted", config.targeted());
        out.put("target", config.targeted() ? (config.targetClass() == AttackConfig.LEAST_LIKELY ? "least_likely" : (Object) config.targetClass()) : null);
        out.put("n", n);
        out.put("clean_accuracy", cleanAccuracy());
        out.put("clean_accuracy_ci95", cleanInterval().toArray());
        out.put("robust_accuracy", robustAccuracy());
        out.put("robust_accuracy_ci95", robustInterval().toArray());
        out.put("interval", "Wilson score, 95 %");
        out.put("success_rate", successRate());
        out.put("clean_correct", cleanCorrect);
        out.put("robust_correct", robustCorrect);
        out.put("successes", successes);
        out.put("clean_loss", cleanLoss);
        out.put("robust_loss", robustLoss);
        out.put("per_class", perClassJson());
        if (queries != null) out.put("queries", queryStats());
        if (!stages.isEmpty()) {
            List<Map<String, Object>> attacks = new ArrayList<>();
            for (AutoAttack.Stage stage : stages) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("attack", stage.attack());
                row.put("robust_accuracy", stage.robustAccuracy());
                row.put("robust_accuracy_ci95", Stats.wilson(stage.robust(), stage.n()).toArray());
                row.put("seconds", stage.seconds());
                attacks.add(row);
            }
            out.put("attacks", attacks);
        }
        out.put("zero_gradients", gradients.zero());
        out.put("nonfinite_gradients", gradients.nonFinite());
        out.put("seconds", seconds);
        out.put("images_per_second", imagesPerSecond());
        out.put("warnings", warnings);
        return out;
    }

    /** The result for people, a few lines. */
    public List<String> textLines() {
        List<String> lines = new ArrayList<>();
        lines.add("attack:          " + config.describe() + ", " + n + " test images");
        lines.add(String.format(Locale.ROOT, "clean accuracy:  %6.2f %%  (%d/%d), 95 %% CI %s, mean loss %.4f", 100 * cleanAccuracy(),
                cleanCorrect, n, cleanInterval().percent(), cleanLoss));
        lines.add(String.format(Locale.ROOT, "robust accuracy: %6.2f %%  (%d/%d), 95 %% CI %s, mean loss %.4f", 100 * robustAccuracy(),
                robustCorrect, n, robustInterval().percent(), robustLoss));
        lines.add(String.format(Locale.ROOT, "success rate:    %6.2f %%  (%d of the %d images %s)", 100 * successRate(), successes, successBase,
                config.targeted() ? "correct before the attack and not of the target class, now classified as the target"
                        : "correct before the attack, now misclassified"));
        Map<String, Object> q = queryStats();
        if (q != null) {
            lines.add(String.format(Locale.ROOT, "queries:         mean %.1f, median %.1f, total %d over %d attacked images",
                    (double) q.get("mean"), (double) q.get("median"), (long) q.get("total"), (int) q.get("images")));
        }
        StringBuilder perClass = new StringBuilder("per class robust (clean) accuracy, robust 95 % CI (Wilson):");
        for (int c = 0; c < perClassTotal.length; c++) {
            if (perClassTotal[c] == 0) continue;
            perClass.append(String.format(Locale.ROOT, "%n  %-10s %6.2f %% (%6.2f %%) of %d, %s", className(c),
                    100 * ratio(perClassRobust[c], perClassTotal[c]), 100 * ratio(perClassClean[c], perClassTotal[c]), perClassTotal[c],
                    Stats.wilson(perClassRobust[c], perClassTotal[c]).percent()));
        }
        lines.add(perClass.toString());
        lines.add(String.format(Locale.ROOT, "time:            %.2f s attacking, %.0f images/s", seconds, imagesPerSecond()));
        return lines;
    }
}
