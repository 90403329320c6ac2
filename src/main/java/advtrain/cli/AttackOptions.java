package advtrain.cli;

import advtrain.attack.AttackConfig;
import advtrain.attack.Norm;
import advtrain.data.Cifar10;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The options of the attack and sweep commands that shape an attack (its kind, ε, steps, step size, norm, target). */
public final class AttackOptions {
    @Option(names = "--steps", paramLabel = "N", description = "PGD steps or APGD iterations (default: 10 for PGD, 100 for APGD and AutoAttack's APGD)")
    public Integer steps;

    @Option(names = "--queries", paramLabel = "N", description = "Square attack: model queries per image, the first being its initial point (default: 5000, also in autoattack)")
    public Integer queries;

    @Option(names = "--step-size", paramLabel = "ALPHA", description = "PGD step size alpha, in pixel units (default: eps/4)")
    public String stepSize;

    @Option(names = "--random-start", description = "PGD starts from a random point of the eps-ball (default: off, Eq. 2 starts at x0)")
    public boolean randomStart;

    @Option(names = "--restarts", paramLabel = "N", description = "PGD runs from random starts; per image the one with the highest loss is kept; N > 1 implies --random-start. APGD: runs on the images still robust (default: 1)")
    public Integer restarts;

    @Option(names = "--targeted", description = "aim at a class instead of away from the true one: --target CLASS, else each image's least likely class")
    public boolean targeted;

    @Option(names = "--target", paramLabel = "CLASS", description = "the class to aim at, 0-9 or a name (airplane ... truck); implies --targeted")
    public String target;

    @Option(names = "--norm", paramLabel = "NORM", defaultValue = "linf", description = "linf or l2 (default: ${DEFAULT-VALUE})")
    public String norm;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "256", description = "images per batch (default: ${DEFAULT-VALUE})")
    public int batch;

    /** Every PGD-only option the user gave, for a note when the attack is FGSM. */
    List<String> pgdOnlyGiven() {
        List<String> given = new ArrayList<>();
        if (steps != null) given.add("--steps");
        if (stepSize != null) given.add("--step-size");
        if (randomStart) given.add("--random-start");
        if (restarts != null) given.add("--restarts");
        return given;
    }

    /** The attack these options describe, at this ε; bad values are usage errors (exit status 2). */
    AttackConfig config(AttackConfig.Kind kind, float eps, long seed) {
        if (batch < 1) throw new Main.UsageError("--batch must be >= 1, got " + batch);
        if (steps != null && steps < 1) throw new Main.UsageError("--steps must be >= 1, got " + steps);
        if (restarts != null && restarts < 1) throw new Main.UsageError("--restarts must be >= 1, got " + restarts);
        if (queries != null && queries < 1) throw new Main.UsageError("--queries must be >= 1, got " + queries);
        if (!kind.isSeedAttack() && (targeted || target != null)) {
            throw new Main.UsageError("--targeted and --target apply to FGSM and PGD; " + kind.label() + " chooses its own targets (apgd-t: the 9 most likely other classes)");
        }
        float alpha = Float.NaN;
        if (stepSize != null) {
            alpha = parseNumber("--step-size", stepSize);
            if (!(alpha > 0) || !Float.isFinite(alpha)) throw new Main.UsageError("--step-size must be a number > 0, got " + stepSize);
        }
        Norm threat;
        try {
            threat = Norm.parse(norm);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--norm: " + e.getMessage());
        }
        if (threat == Norm.LINF) checkPixelEps("--eps", eps);
        if (kind == AttackConfig.Kind.SQUARE && threat != Norm.LINF) throw new Main.UsageError("--attack square is L-inf only: use --norm linf");
        AttackConfig config = AttackConfig.of(kind, eps).withNorm(threat).withSeed(seed)
                .withSteps(steps == null ? kind.defaultSteps() : steps).withStepSize(alpha)
                .withRandomStart(randomStart).withRestarts(restarts == null ? 1 : restarts)
                .withQueries(queries == null ? AttackConfig.DEFAULT_QUERIES : queries);
        if (target != null) return config.targeting(parseClass(target));
        return targeted ? config.targeting(AttackConfig.LEAST_LIKELY) : config;
    }

    static int parseClass(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        int index = Cifar10.CLASSES.indexOf(t);
        if (index >= 0) return index;
        try {
            index = Integer.parseInt(t);
        } catch (NumberFormatException e) {
            index = -1;
        }
        if (index < 0 || index >= Cifar10.CLASSES.size()) {
            throw new Main.UsageError("--target must be a class index 0-9 or one of " + String.join(", ", Cifar10.CLASSES) + "; got '" + text + "'");
        }
        return index;
    }

    /** ε as the user writes it: a number ("0.031") or a fraction ("8/255"); must be finite and >= 0. */
    static float parseEps(String option, String text) {
        float eps = parseNumber(option, text);
        if (!Float.isFinite(eps) || eps < 0) {
            throw new Main.UsageError(option + " must be a number >= 0 (pixel units in [0,1], e.g. 0.031 or 8/255), got " + text.trim());
        }
        return eps;
    }

    /**
     * An L∞ radius above 1 covers the whole [0,1] pixel range, so it is a mistake in units:
     * `--eps 8` meant 8/255. Refused as a usage error with that hint.
     */
    static void checkPixelEps(String option, float eps) {
        if (eps > 1) {
            throw new Main.UsageError(String.format(Locale.ROOT, "%s %s is above 1, but pixels are in [0,1]: did you mean %s/255 (= %.4f)?",
                    option, trim(eps), trim(eps), eps / 255));
        }
    }

    private static String trim(float v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Float.toString(v);
    }

    /** A comma-separated list of ε values. */
    static float[] parseEpsList(String option, String text) {
        String[] parts = text.split(",");
        float[] list = new float[parts.length];
        for (int i = 0; i < parts.length; i++) list[i] = parseEps(option, parts[i]);
        if (list.length == 0) throw new Main.UsageError(option + " needs at least one value");
        return list;
    }

    private static float parseNumber(String option, String text) {
        String t = text.trim();
        try {
            int slash = t.indexOf('/');
            if (slash > 0) return (float) (Double.parseDouble(t.substring(0, slash)) / Double.parseDouble(t.substring(slash + 1)));
            return Float.parseFloat(t);
        } catch (NumberFormatException e) {
            throw new Main.UsageError(option + ": '" + text + "' is not a number");
        }
    }
}
