package advtrain.experiments;

import advtrain.attack.AttackResult;
import advtrain.data.Cifar10;
import advtrain.stats.Stats;

import java.util.Locale;

/**
 * The parts of report.md that go beyond the seed's measurements: section 6 (AutoAttack against
 * PGD-10, per class) and the paired comparisons that the verdicts quote ("PGD-10 leaves fewer images
 * right than FGSM at ε = 0.03: 0.4 % against 4.4 %, McNemar p < 10^-10").
 */
final class EvaluationReport {
    private EvaluationReport() {}

    /**
     * One sentence comparing two results on the same images, robust outcomes paired: which leaves fewer
     * images right, both accuracies, and the exact McNemar p-value.
     */
    static String compare(String a, AttackResult resultA, String b, AttackResult resultB, String where) {
        Stats.Paired test = resultA.compareRobust(resultB);
        String relation = resultA.robustCorrect() < resultB.robustCorrect() ? "fewer" : resultA.robustCorrect() > resultB.robustCorrect()
                ? "more" : "as many";
        return String.format(Locale.ROOT, "%s leaves %s images right than %s%s: %s against %s, McNemar %s", a, relation, b, where,
                ReproductionReport.pct(resultA.robustAccuracy()), ReproductionReport.pct(resultB.robustAccuracy()), test.pText());
    }

    static void section(StringBuilder md, Reproduce.Findings f) {
        Reproduce.Robustness r = f.robustness();
        if (r == null) return;
        md.append("## 6. Beyond the seed: AutoAttack against PGD-10\n\n");
        md.append(String.format(Locale.ROOT, "Each model under AutoAttack (APGD-CE, APGD-T with 9 target classes, Square with 5000 queries; "
                + "FAB-T not included) at ε = %s, on the same %d test images as PGD-10: an image counts as robust only if every attack "
                + "fails. Intervals are Wilson score 95 %%; p is the exact McNemar test of the paired outcomes (docs/EVALUATION.md).%n%n",
                Plan.fmt(r.eps()), f.plan().autoAttackImages()));
        md.append("| model | PGD-10 | AutoAttack | PGD-10 overstates by | McNemar |\n|---|---|---|---|---|\n");
        for (int m = 0; m < r.models().size(); m++) {
            AttackResult p = r.pgd().get(m), a = r.autoAttack().get(m);
            md.append(String.format(Locale.ROOT, "| %s | %s %s | %s %s | %.1f points | %s |%n", r.models().get(m).label(),
                    ReproductionReport.pct(p.robustAccuracy()), p.robustInterval().percent(), ReproductionReport.pct(a.robustAccuracy()),
                    a.robustInterval().percent(), 100 * (p.robustAccuracy() - a.robustAccuracy()), p.compareRobust(a).pText()));
        }
        md.append("\nRobust accuracy per class under AutoAttack:\n\n");
        md.append("![robust accuracy per class](" + Reproduce.PER_CLASS + ".png)\n\nData: [" + Reproduce.PER_CLASS + ".csv]("
                + Reproduce.PER_CLASS + ".csv), [" + Reproduce.AUTOATTACK + ".csv](" + Reproduce.AUTOATTACK + ".csv)\n\n| class |");
        for (Reproduce.Model m : r.models()) md.append(' ').append(m.label()).append(" |");
        md.append("\n|---|");
        for (int m = 0; m < r.models().size(); m++) md.append("---|");
        md.append('\n');
        for (int c = 0; c < Cifar10.CLASSES.size(); c++) {
            md.append("| ").append(Cifar10.CLASSES.get(c)).append(" |");
            for (AttackResult a : r.autoAttack()) {
                int n = a.perClassTotal()[c];
                md.append(' ').append(n == 0 ? "-" : ReproductionReport.pct((double) a.perClassRobust()[c] / n)).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
    }
}
