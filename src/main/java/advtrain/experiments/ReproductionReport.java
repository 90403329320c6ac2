package advtrain.experiments;

import advtrain.attack.AttackResult;
import advtrain.io.AtomicFiles;
import advtrain.report.AccuracyPlot;
import advtrain.train.TrainingRun;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * OUT/report.md: each figure with a paragraph and its numbers, and a table that sets the
 * measurements against the seed's claims with a verdict computed from them. Every number comes
 * from the {@link Reproduce.Findings} of this run.
 */
public final class ReproductionReport {

    /** One row of the table against the seed. */
    public record Claim(int experiment, String seed, String measured, Verdict verdict, String note) {}

    public enum Verdict {
        AGREES("agrees"), PARTLY("partly"), DIFFERS("differs"), BY_EYE("judge by eye");

        private final String text;

        Verdict(String text) { this.text = text; }

        public String text() { return text; }
    }

    private ReproductionReport() {}

    static void write(Path file, Reproduce.Findings f, Path out) throws IOException {
        AtomicFiles.writeString(file, markdown(f, out));
    }

    /** The claims of the seed, each with what this run measured and whether it agrees. */
    public static List<Claim> claims(Reproduce.Findings f) {
        return List.of(naiveClaim(f), picturesClaim(f), attacksClaim(f), conditionClaim(f), defenseClaim(f));
    }

    static String markdown(Reproduce.Findings f, Path out) {
        Plan plan = f.plan();
        StringBuilder md = new StringBuilder();
        md.append("# Reproduction of \"Training Robust Neural Networks\" (Preaut, Quemada, Durat, 2022)\n\n");
        md.append(String.format(Locale.ROOT, "Made by `advtrain reproduce%s` on %s in %s (estimated beforehand: %s), backend `%s` (%s).%n%n",
                plan.name().startsWith("quick") ? " --quick" : "", Instant.now().truncatedTo(ChronoUnit.SECONDS),
                ReproduceProgress.duration(f.seconds()), ReproduceProgress.duration(f.estimatedSeconds()), f.backend(), f.device()));
        md.append(String.format(Locale.ROOT, "Plan `%s`: every model is the seed's network (62,006 parameters) trained with SGD, batch 32, "
                        + "momentum 0.9, lr %s, for %d epochs on the first %,d CIFAR-10 training images; clean accuracy on the first %,d "
                        + "test images, attacks on the first %,d. All attacks are L∞, untargeted, in [0, 1] pixel units; PGD is the "
                        + "seed's Eq. 2 from the clean image (no random start) with %d steps of ε/4 unless said otherwise.%n%n",
                plan.name(), Plan.fmt(plan.lr()), plan.epochs(), plan.trainImages(), plan.testImages(), plan.attackImages(),
                Plan.CONDITION_STEPS));
        if (!plan.isSeedRecipe()) {
            double naive = f.naive().model().clean().accuracy();
            md.append(String.format(Locale.ROOT, "**Not the seed's recipe.** The seed trains on all 50,000 images for 20 epochs at lr 0.001; "
                    + "this run trains on %,d images for %d epochs at lr %s, so its absolute numbers are not the seed's (its naive "
                    + "classifier: %s against the seed's 54 %%, %s). What carries over is the comparisons within the run: FGSM "
                    + "against PGD, below against above the condition, with against without adversarial training.%n%n",
                    plan.trainImages(), plan.epochs(), Plan.fmt(plan.lr()), pct(naive),
                    naive < Plan.SEED_ACCURACY ? "so its networks are less accurate than the seed's" : "higher than the seed's"));
        }
        List<String> reused = new ArrayList<>();
        for (Reproduce.Model m : f.defense().models()) {
            if (m.reused()) reused.add("`" + out.relativize(m.dir()) + "` (started " + m.trained() + ")");
        }
        if (!reused.isEmpty()) {
            md.append("Models reused from an earlier run with the same settings (their training curves are from then; every "
                    + "accuracy below was measured now): ").append(String.join(", ", reused)).append(".\n\n");
        }

        md.append("## The seed's claims against this run\n\n");
        md.append("| # | the seed says | this run measured | verdict |\n|---|---|---|---|\n");
        for (Claim c : claims(f)) {
            md.append("| ").append(c.experiment()).append(" | ").append(c.seed()).append(" | ").append(c.measured()).append(" | **")
                    .append(c.verdict().text()).append("**").append(c.note().isEmpty() ? "" : ": " + c.note()).append(" |\n");
        }
        md.append('\n');

        naiveSection(md, f);
        picturesSection(md, f);
        attacksSection(md, f);
        conditionSection(md, f);
        defenseSection(md, f);
        EvaluationReport.section(md, f);
        differences(md, f);
        return md.toString();
    }

    // ---- 1 ---------------------------------------------------------------------------------------------

    private static Claim naiveClaim(Reproduce.Findings f) {
        Reproduce.Model m = f.naive().model();
        double acc = m.clean().accuracy();
        String measured = String.format(Locale.ROOT, "%s on %,d test images after %d epochs on %,d training images", pct(acc),
                m.clean().n(), f.plan().epochs(), f.plan().trainImages());
        double gap = acc - Plan.SEED_ACCURACY;
        if (Math.abs(gap) <= 0.03) {
            return new Claim(1, "naive classifier: 54 % test accuracy", measured, Verdict.AGREES,
                    String.format(Locale.ROOT, "%+.1f points (within 3)", 100 * gap));
        }
        String note = f.plan().isSeedRecipe() ? String.format(Locale.ROOT, "%+.1f points with the seed's own recipe", 100 * gap)
                : String.format(Locale.ROOT, "%+.1f points; not the seed's recipe: %s of its training (images × epochs), at lr %s instead of 0.001",
                100 * gap, pct((double) f.plan().trainImages() * f.plan().epochs() / (50_000.0 * 20)), Plan.fmt(f.plan().lr()));
        return new Claim(1, "naive classifier: 54 % test accuracy", measured, Verdict.DIFFERS, note);
    }

    private static void naiveSection(StringBuilder md, Reproduce.Findings f) {
        Reproduce.Model m = f.naive().model();
        md.append("## 1. The naive classifier\n\n");
        md.append(figure(Reproduce.TRAINING_CURVE, "training curve of the naive classifier", f.figureFormat()));
        List<Map<String, String>> rows = m.metrics();
        md.append(String.format(Locale.ROOT, "The seed's network trained without any defence reaches %s clean accuracy on %,d test images "
                        + "(the seed reports 54 %%). Over the %d epochs the training accuracy goes from %s to %s and the test accuracy "
                        + "from %s to %s%s.%n%n",
                pct(m.clean().accuracy()), m.clean().n(), rows.size(),
                pct(value(rows, 0, "train_acc")), pct(value(rows, rows.size() - 1, "train_acc")),
                pct(value(rows, 0, "test_acc")), pct(value(rows, rows.size() - 1, "test_acc")),
                value(rows, rows.size() - 1, "train_acc") > value(rows, rows.size() - 1, "test_acc") + 0.05
                        ? "; the gap between the two is the network starting to overfit" : ""));
        md.append("| epoch | training loss | training accuracy | test accuracy |\n|---|---|---|---|\n");
        for (int i = 0; i < rows.size(); i++) {
            md.append(String.format(Locale.ROOT, "| %s | %.4f | %s | %s |%n", rows.get(i).get("epoch"), value(rows, i, "train_loss"),
                    pct(value(rows, i, "train_acc")), pct(value(rows, i, "test_acc"))));
        }
        md.append('\n');
    }

    // ---- 2 ---------------------------------------------------------------------------------------------

    /**
     * Per ε of the pictures figure: mean PSNR, largest change in 8-bit levels, and of the pictures the
     * model classified correctly before the attack ({@code right}), how many it gets wrong after ({@code fooled}).
     */
    /** Per ε of the picture grid: mean PSNR, largest change in 0-255 levels, and how many rightly classified pictures were fooled. */
    record PictureStats(float eps, double psnr, double levels, int fooled, int right, int n) {}

    private static List<PictureStats> pictureStats(Reproduce.Findings f) {
        return pictureStats(f.pictures());
    }

    static List<PictureStats> pictureStats(Reproduce.Pictures pictures) {
        List<PictureStats> stats = new ArrayList<>();
        for (float eps : pictures.eps()) {
            double psnr = 0, levels = 0;
            int fooled = 0, right = 0, n = 0;
            for (Reproduce.Picture p : pictures.pictures()) {
                if (p.attack().eps() != eps) continue;
                psnr += p.psnr();
                levels = Math.max(levels, 255 * p.linf());
                if (p.cleanPredicted() == p.label()) {
                    right++;
                    if (p.predicted() != p.label()) fooled++;
                }
                n++;
            }
            stats.add(new PictureStats(eps, psnr / n, levels, fooled, right, n));
        }
        return stats;
    }

    private static Claim picturesClaim(Reproduce.Findings f) {
        List<String> parts = new ArrayList<>();
        for (PictureStats s : pictureStats(f)) {
            if (s.eps == 0.02f || s.eps == 0.05f || s.eps == 0.1f) {
                parts.add(String.format(Locale.ROOT, "ε=%s: pixels move by up to %.1f/255, PSNR %.1f dB, %d of %d pictures fooled",
                        Plan.fmt(s.eps), s.levels, s.psnr, s.fooled, s.right));
            }
        }
        return new Claim(2, "PGD: imperceptible changes until ε ≈ 0.02", String.join("; ", parts), Verdict.BY_EYE,
                "perception is not measured; see figure 2");
    }

    private static void picturesSection(StringBuilder md, Reproduce.Findings f) {
        md.append("## 2. Influence of ε on the pictures (PGD)\n\n");
        md.append(figure(Reproduce.PICTURES, "test pictures under PGD at growing eps", f.figureFormat()));
        List<PictureStats> stats = pictureStats(f);
        md.append(String.format(Locale.ROOT, "%d test pictures of different classes (the first of each class that the naive classifier "
                + "gets right, where there are enough), attacked by PGD-10 (step ε/4) on it; "
                + "beside each adversarial picture, its perturbation magnified. Whether a change is perceptible is for the eye to "
                + "judge; the numbers measure it: an L∞ step moves nearly every pixel by ±ε, so the largest change is ε·255 levels and "
                + "the PSNR about −20·log10(ε) dB. The seed calls the changes imperceptible up to ε ≈ 0.02%s.%n%n",
                stats.isEmpty() ? 0 : stats.get(0).n, at002(stats)));
        md.append("| ε | largest change (of 255 levels) | mean PSNR | pictures fooled (of those right before the attack) |\n|---|---|---|---|\n");
        for (PictureStats s : stats) {
            md.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f dB | %d of %d |%n", Plan.fmt(s.eps), s.levels, s.psnr, s.fooled, s.right));
        }
        md.append('\n');
    }

    /** ", here a change of up to 5.1 of 255 levels, PSNR 35.2 dB", measured, when ε = 0.02 is among the pictures. */
    private static String at002(List<PictureStats> stats) {
        for (PictureStats s : stats) {
            if (s.eps == 0.02f) return String.format(Locale.ROOT, ", here a change of up to %.1f of 255 levels, PSNR %.1f dB", s.levels, s.psnr);
        }
        return "";
    }

    // ---- 3 ---------------------------------------------------------------------------------------------

    private static double secondsPerImage(List<AttackResult> results) {
        double seconds = 0;
        long images = 0;
        for (AttackResult r : results) {
            if (r.config().eps() == 0) continue;
            seconds += r.seconds();
            images += r.n();
        }
        return images == 0 ? Double.NaN : seconds / images;
    }

    private static Claim attacksClaim(Reproduce.Findings f) {
        Reproduce.Sweep s = f.sweep();
        double fgsm = secondsPerImage(s.fgsm()), pgd = secondsPerImage(s.pgd());
        // PGD counts as at least as strong when it leaves at most as many images right as FGSM, up to the
        // attack package's tolerance for its own PGD-vs-FGSM check: max(1 image, 0.5 %) of those it could fool.
        int compared = 0, stronger = 0;
        List<String> weaker = new ArrayList<>(), withinTolerance = new ArrayList<>();
        for (AttackResult p : s.pgd()) {
            if (p.config().eps() == 0) continue;
            AttackResult g = AttackFigures.find(s.fgsm(), p.config().eps());
            compared++;
            int more = p.robustCorrect() - g.robustCorrect(), tolerance = Math.max(1, (int) Math.round(0.005 * p.successBase()));
            String at = Plan.fmt(p.config().eps()) + " (" + more + (more == 1 ? " image)" : " images)");
            if (more <= 0) stronger++;
            else if (more <= tolerance) { stronger++; withinTolerance.add(at); }
            else weaker.add(at);
        }
        String measured = String.format(Locale.ROOT, "FGSM %.2f ms per image, PGD-10 %.2f ms (%.1f× slower); PGD at most as accurate as "
                + "FGSM at %d of %d ε", 1e3 * fgsm, 1e3 * pgd, pgd / fgsm, stronger, compared);
        boolean fast = fgsm < pgd;
        Verdict v = fast && stronger == compared ? Verdict.AGREES : fast || stronger > 0 ? Verdict.PARTLY : Verdict.DIFFERS;
        List<String> notes = new ArrayList<>();
        if (!weaker.isEmpty()) notes.add("PGD leaves more images right than FGSM at ε = " + String.join(", ", weaker));
        if (!withinTolerance.isEmpty()) {
            notes.add("PGD leaves a few more images right than FGSM, within max(1 image, 0.5 %), at ε = " + String.join(", ", withinTolerance));
        }
        if (!fast) notes.add("FGSM was not faster here");
        AttackResult pgdAtEps = AttackFigures.find(s.pgd(), f.plan().conditionEps()), fgsmAtEps = AttackFigures.find(s.fgsm(), f.plan().conditionEps());
        if (pgdAtEps != null && fgsmAtEps != null) {
            notes.add(EvaluationReport.compare("PGD-10", pgdAtEps, "FGSM", fgsmAtEps, " at ε = " + Plan.fmt(f.plan().conditionEps())));
        }
        String note = String.join("; ", notes);
        return new Claim(3, "FGSM: fast attack; PGD: best performing attack", measured, v, note);
    }

    private static void attacksSection(StringBuilder md, Reproduce.Findings f) {
        Reproduce.Sweep s = f.sweep();
        md.append("## 3. Influence of ε on accuracy: FGSM against PGD\n\n");
        md.append(figure(Reproduce.ACCURACY, "accuracy against eps under FGSM and PGD", f.figureFormat()));
        AttackResult pgd3 = AttackFigures.find(s.pgd(), 0.03f), fgsm3 = AttackFigures.find(s.fgsm(), 0.03f);
        md.append(String.format(Locale.ROOT, "Robust accuracy (images still classified correctly after the attack, over all %d attacked "
                        + "images) of the naive classifier (clean: %s). FGSM (Eq. 1) takes one gradient; PGD (Eq. 2) takes %d, so it "
                        + "costs %.1f times as much per image here, and it finds stronger perturbations in the same ε-ball%s.%n%n",
                s.n(), pct(s.cleanAccuracy()), Plan.CONDITION_STEPS, secondsPerImage(s.pgd()) / secondsPerImage(s.fgsm()),
                pgd3 != null && fgsm3 != null ? String.format(Locale.ROOT, " (at ε = 0.03: %s under PGD, %s under FGSM)",
                        pct(pgd3.robustAccuracy()), pct(fgsm3.robustAccuracy())) : ""));
        md.append("| ε | FGSM accuracy | PGD-10 accuracy | FGSM time | PGD-10 time |\n|---|---|---|---|---|\n");
        for (AttackResult p : s.pgd()) {
            AttackResult g = AttackFigures.find(s.fgsm(), p.config().eps());
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f s | %.2f s |%n", Plan.fmt(p.config().eps()), pct(g.robustAccuracy()),
                    pct(p.robustAccuracy()), g.seconds(), p.seconds()));
        }
        md.append(String.format(Locale.ROOT, "%nTimes are the attacks alone on %d images (backend `%s`): FGSM %.2f ms and PGD-10 %.2f ms per "
                + "image on average over ε > 0.%n%n", s.n(), f.backend(), 1e3 * secondsPerImage(s.fgsm()), 1e3 * secondsPerImage(s.pgd())));
    }

    // ---- 4 ---------------------------------------------------------------------------------------------

    private static Claim conditionClaim(Reproduce.Findings f) {
        Reproduce.Condition c = f.condition();
        List<String> parts = new ArrayList<>();
        double lowestBelow = Double.MAX_VALUE, highestAtOrAbove = -1;
        for (int i = 0; i < c.ratios().length; i++) {
            double acc = c.pgd().get(i).robustAccuracy();
            parts.add(String.format(Locale.ROOT, "%s at α·steps=%s·ε", pct(acc), Plan.fmt(c.ratios()[i])));
            if (c.ratios()[i] < 1) lowestBelow = Math.min(lowestBelow, acc);
            else highestAtOrAbove = Math.max(highestAtOrAbove, acc);
        }
        String measured = "PGD-" + Plan.CONDITION_STEPS + " at ε=" + Plan.fmt(c.eps()) + ": " + String.join(", ", parts);
        boolean both = lowestBelow != Double.MAX_VALUE && highestAtOrAbove >= 0;
        Verdict v = !both ? Verdict.PARTLY : lowestBelow > highestAtOrAbove ? Verdict.AGREES : Verdict.DIFFERS;
        String note = v == Verdict.AGREES ? "every run below the condition leaves more images right than every run at or above it"
                : both ? "a run below the condition is as strong as one at or above it" : "";
        return new Claim(4, "necessary condition: α × steps ≥ ε", measured, v, note);
    }

    private static void conditionSection(StringBuilder md, Reproduce.Findings f) {
        Reproduce.Condition c = f.condition();
        md.append("## 4. The necessary condition α·steps ≥ ε\n\n");
        md.append(figure(Reproduce.CONDITION_ACCURACY, "PGD accuracy against alpha*steps/eps", f.figureFormat()));
        md.append(figure(Reproduce.CONDITION_PICTURES, "pictures below, at and above the condition", f.figureFormat()));
        md.append(String.format(Locale.ROOT, "PGD starts at the clean image and moves each pixel by at most α per step, so after %d steps "
                + "no pixel has moved more than α·steps: below the condition the attack cannot use its whole budget ε = %s, and the "
                + "pictures are not disturbed enough (the seed's figure). The largest change measured in the pictures, per setting:%n%n",
                Plan.CONDITION_STEPS, Plan.fmt(c.eps())));
        md.append("| α·steps / ε | step α | meets the condition | robust accuracy | largest pixel change (of 255) | pictures fooled |\n"
                + "|---|---|---|---|---|---|\n");
        for (int i = 0; i < c.ratios().length; i++) {
            AttackResult r = c.pgd().get(i);
            double linf = 0;
            int wrong = 0, n = 0;
            for (Reproduce.Picture p : c.pictures()) {
                if (!p.attack().equals(r.config())) continue;
                linf = Math.max(linf, p.linf());
                if (p.cleanPredicted() == p.label()) {
                    if (p.predicted() != p.label()) wrong++;
                    n++;
                }
            }
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.2f (bound: %.2f) | %d of %d |%n", Plan.fmt(c.ratios()[i]),
                    Plan.fmt(r.config().alpha()), c.ratios()[i] >= 1 ? "yes" : "no", pct(r.robustAccuracy()), 255 * linf,
                    255 * Math.min(c.eps(), r.config().alpha() * r.config().steps()), wrong, n));
        }
        md.append(String.format(Locale.ROOT, "%nFor comparison FGSM, one step of ε: %s.%n%n", pct(c.fgsm().robustAccuracy())));
    }

    // ---- 5 ---------------------------------------------------------------------------------------------

    private static Claim defenseClaim(Reproduce.Findings f) {
        Reproduce.Defense d = f.defense();
        Reproduce.Model plain = d.models().get(0);
        List<AttackResult> plainPgd = d.pgd().get(plain.label());
        List<String> parts = new ArrayList<>();
        int lessAccurate = 0, moreResistant = 0, models = 0;
        for (Reproduce.Model m : d.models().subList(1, d.models().size())) {
            models++;
            float eps = m.training().eps();
            AttackResult mine = AttackFigures.find(d.pgd().get(m.label()), eps), theirs = AttackFigures.find(plainPgd, eps);
            if (m.clean().accuracy() < plain.clean().accuracy()) lessAccurate++;
            boolean resists = mine != null && theirs != null && mine.robustAccuracy() > theirs.robustAccuracy();
            if (resists) moreResistant++;
            parts.add(String.format(Locale.ROOT, "trained at ε=%s: clean %s (without: %s), under PGD ε=%s %s (without: %s)", Plan.fmt(eps),
                    pct(m.clean().accuracy()), pct(plain.clean().accuracy()), Plan.fmt(eps),
                    mine == null ? "-" : pct(mine.robustAccuracy()), theirs == null ? "-" : pct(theirs.robustAccuracy()))
                    + (mine == null || theirs == null ? "" : " (" + EvaluationReport.compare("the trained model", mine, "the naive one", theirs, "") + ")"));
        }
        Verdict v = lessAccurate == models && moreResistant == models ? Verdict.AGREES
                : lessAccurate + moreResistant > 0 ? Verdict.PARTLY : Verdict.DIFFERS;
        String note = String.format(Locale.ROOT, "less accurate on clean images: %d of %d models; more resistant at their ε: %d of %d",
                lessAccurate, models, moreResistant, models);
        return new Claim(5, "adversarial training (α = 0.5): less accurate without attack, more resistant under attack",
                String.join("; ", parts), v, note);
    }

    private static void defenseSection(StringBuilder md, Reproduce.Findings f) {
        Reproduce.Defense d = f.defense();
        md.append("## 5. Adversarial training\n\n");
        md.append(figure(Reproduce.DEFENSE, "accuracy under PGD with and without adversarial training", f.figureFormat()));
        md.append(String.format(Locale.ROOT, "Each adversarially trained model minimises the seed's Eq. 3, α·L(θ, x, y) + (1 − α)·L(θ, x + "
                + "ε·sign(∇x L), y) with α = %s, the FGSM examples crafted with the current weights for every batch (`train --adv fgsm "
                + "--adv-eps ε --adv-mix %s`), with the same recipe and seed as the naive model. All models are then attacked by "
                + "PGD-10 at several ε on the same %d test images.%n%n",
                Plan.fmt(Plan.ADV_MIX), Plan.fmt(Plan.ADV_MIX), f.plan().attackImages()));
        md.append("| model | clean test accuracy |");
        for (float eps : d.eps()) md.append(" PGD ε=").append(Plan.fmt(eps)).append(" |");
        md.append("\n|---|---|");
        for (int i = 0; i < d.eps().length; i++) md.append("---|");
        md.append('\n');
        for (Reproduce.Model m : d.models()) {
            md.append("| ").append(m.label()).append(" | ").append(pct(m.clean().accuracy())).append(" |");
            for (AttackResult r : d.pgd().get(m.label())) md.append(' ').append(pct(r.robustAccuracy())).append(" |");
            md.append('\n');
        }
        md.append(String.format(Locale.ROOT, "%n(PGD ε=0 is the clean accuracy on the %d attacked images.) Training curves, with the robust "
                + "accuracy under PGD at the training ε after each epoch (column `robust_test_acc`), are in each model's folder:%n%n",
                f.plan().attackImages()));
        for (Reproduce.Model m : d.models()) {
            Path dir = m.dir();
            md.append("- ").append(m.label()).append(": `").append(dir.getParent().getFileName()).append('/').append(dir.getFileName())
                    .append('/').append(TrainingRun.METRICS_FILE).append('`');
            List<Map<String, String>> rows = m.metrics();
            if (!rows.isEmpty() && rows.get(rows.size() - 1).containsKey("robust_test_acc")) {
                md.append(String.format(Locale.ROOT, " (last epoch: robust %s on %d images)", pct(value(rows, rows.size() - 1, "robust_test_acc")),
                        f.plan().evalAdvLimit()));
            }
            md.append('\n');
        }
        md.append('\n');
    }

    // ---- differences ---------------------------------------------------------------------------------

    private static void differences(StringBuilder md, Reproduce.Findings f) {
        md.append("## Where this run differs from the seed\n\n");
        for (Claim c : claims(f)) {
            if (c.verdict() == Verdict.DIFFERS || c.verdict() == Verdict.PARTLY) {
                md.append("- Claim ").append(c.experiment()).append(" (").append(c.seed()).append("): ").append(c.verdict().text())
                        .append(". ").append(c.measured()).append(c.note().isEmpty() ? "" : "; " + c.note()).append(".\n");
            }
        }
        if (!f.plan().isSeedRecipe()) {
            md.append(String.format(Locale.ROOT, "- The training is shorter than the seed's (%,d images × %d epochs at lr %s instead of 50,000 × 20 "
                    + "at lr 0.001).%n", f.plan().trainImages(), f.plan().epochs(), Plan.fmt(f.plan().lr())));
        }
        if (f.plan().attackImages() < 10_000) {
            md.append(String.format(Locale.ROOT, "- Attacks run on the first %,d test images, not all 10,000: one image is %.2f points of accuracy.%n",
                    f.plan().attackImages(), 100.0 / f.plan().attackImages()));
        }
        md.append("- The seed does not give its PGD step size, number of steps, or the exact ε of its figures; this run uses PGD-10 with "
                + "α = ε/4 (α·steps = 2.5·ε) and the ε listed in each table.\n");
        md.append("- The seed's pictures are judged by eye; here the perturbation is also measured (largest change, PSNR), "
                + "but whether it is perceptible remains a judgement.\n\n");
    }

    // ---- helpers -------------------------------------------------------------------------------------

    private static String figure(String name, String alt, AccuracyPlot.Format format) {
        String vector = format == AccuracyPlot.Format.PNG || Reproduce.PICTURE_FIGURES.contains(name) ? ""
                : ", " + format.name() + ": [" + name + "." + format.extension() + "](" + name + "." + format.extension() + ")";
        return "![" + alt + "](" + name + ".png)\n\nData: [" + name + ".csv](" + name + ".csv)" + vector + "\n\n";
    }

    static String pct(double fraction) {
        return Double.isNaN(fraction) ? "-" : String.format(Locale.ROOT, "%.1f %%", 100 * fraction);
    }

    private static double value(List<Map<String, String>> rows, int i, String column) {
        if (i < 0 || i >= rows.size()) return Double.NaN;
        String s = rows.get(i).get(column);
        try {
            return s == null || s.isEmpty() ? Double.NaN : Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
