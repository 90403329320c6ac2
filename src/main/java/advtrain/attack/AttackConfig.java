package advtrain.attack;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What an attack does, checked once when it is made. FGSM is the seed's Eq. 1 and PGD its Eq. 2;
 * both are the same gradient template ({@link GradientAttack}), FGSM being one step of size ε from
 * the clean image with no random start. The evaluation attacks: APGD with the cross-entropy or the
 * DLR loss and its targeted version APGD-T ({@link Apgd}, Croce and Hein 2020), the black-box Square
 * attack ({@link SquareAttack}, Andriushchenko et al. 2020) and their ensemble ({@link AutoAttack}).
 *
 * @param kind        FGSM or PGD
 * @param norm        the threat model: L∞ (sign steps, box projection) or L2 (unit-norm steps, ball projection)
 * @param eps         the radius ε of the ball around the original image, in [0, 1] pixel units
 * @param steps       gradient steps per restart (1 for FGSM; APGD's iterations)
 * @param stepSize    α, or NaN for the default ε/4 (PGD) or ε (FGSM)
 * @param randomStart start from a random point of the ball instead of the clean image
 * @param restarts    independent runs from random starts; per image the one with the highest loss is kept
 * @param targeted    aim at a class instead of away from the true one
 * @param targetClass the class aimed at, or {@link #LEAST_LIKELY} for each image's least likely class
 * @param seed        seeds the random starts (with the call count and the restart)
 * @param queries     the Square attack's budget of model queries per image (and AutoAttack's Square)
 */
public record AttackConfig(Kind kind, Norm norm, float eps, int steps, float stepSize, boolean randomStart,
                           int restarts, boolean targeted, int targetClass, long seed, int queries) {

    public enum Kind {
        FGSM("fgsm", "FGSM", 1), PGD("pgd", "PGD", 10),
        APGD_CE("apgd-ce", "APGD-CE", 100), APGD_DLR("apgd-dlr", "APGD-DLR", 100), APGD_T("apgd-t", "APGD-T", 100),
        SQUARE("square", "Square", 1), AUTOATTACK("autoattack", "AutoAttack", 100);

        private final String label, title;
        private final int defaultSteps;

        Kind(String label, String title, int defaultSteps) {
            this.label = label;
            this.title = title;
            this.defaultSteps = defaultSteps;
        }

        /** As the command line spells it: "apgd-ce". */
        public String label() { return label; }

        /** As papers write it: "APGD-CE". */
        public String title() { return title; }

        /** Gradient steps when --steps is not given: 1 (FGSM, Square: none), 10 (PGD), 100 (APGD, AutoAttack's APGD). */
        public int defaultSteps() { return defaultSteps; }

        /** APGD in any of its three forms. */
        public boolean isApgd() { return this == APGD_CE || this == APGD_DLR || this == APGD_T; }

        /** FGSM and PGD: the seed's gradient template. */
        public boolean isSeedAttack() { return this == FGSM || this == PGD; }

        public static Kind parse(String text) {
            for (Kind k : values()) if (k.label().equals(text.trim().toLowerCase(Locale.ROOT))) return k;
            throw new IllegalArgumentException("unknown attack '" + text + "': use " + names());
        }

        /** "fgsm, pgd, apgd-ce, ...". */
        public static String names() {
            StringBuilder s = new StringBuilder();
            for (Kind k : values()) s.append(s.length() == 0 ? "" : ", ").append(k.label());
            return s.toString();
        }
    }

    /** The Square attack's query budget by default (Andriushchenko et al. 2020; AutoAttack's standard version). */
    public static final int DEFAULT_QUERIES = 5000;

    public static final int LEAST_LIKELY = -1;
    public static final int DEFAULT_STEPS = 10;

    public AttackConfig {
        if (kind == null || norm == null) throw new IllegalArgumentException("attack kind and norm are required");
        if (!Float.isFinite(eps) || eps < 0) {
            throw new IllegalArgumentException("eps must be a finite number >= 0 (in [0,1] pixel units, e.g. 0.031), got " + eps);
        }
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (!Float.isNaN(stepSize) && !(stepSize > 0 && Float.isFinite(stepSize))) {
            throw new IllegalArgumentException("step size must be a finite number > 0, got " + stepSize);
        }
        if (restarts < 1) throw new IllegalArgumentException("restarts must be >= 1, got " + restarts);
        if (targetClass < LEAST_LIKELY) throw new IllegalArgumentException("target class must be >= 0, got " + targetClass);
        if (queries < 1) throw new IllegalArgumentException("queries must be >= 1, got " + queries);
        if (!kind.isSeedAttack()) {  // the evaluation attacks choose their own start, step sizes and targets
            stepSize = Float.NaN;
            randomStart = kind != Kind.SQUARE;
            targeted = false;
            targetClass = LEAST_LIKELY;
            if (kind == Kind.SQUARE) steps = 1;
        }
        if (kind == Kind.FGSM) {  // Eq. 1: one step of size ε from the clean image
            steps = 1;
            stepSize = Float.NaN;
            randomStart = false;
            restarts = 1;
        }
        if (restarts > 1) randomStart = true;  // restarts from the same point would all be equal
    }

    /** The settings of FGSM and PGD alone, with Square's default query budget. */
    public AttackConfig(Kind kind, Norm norm, float eps, int steps, float stepSize, boolean randomStart,
                        int restarts, boolean targeted, int targetClass, long seed) {
        this(kind, norm, eps, steps, stepSize, randomStart, restarts, targeted, targetClass, seed, DEFAULT_QUERIES);
    }

    /** FGSM (Eq. 1) at this ε, L∞, untargeted. */
    public static AttackConfig fgsm(float eps) {
        return new AttackConfig(Kind.FGSM, Norm.LINF, eps, 1, Float.NaN, false, 1, false, LEAST_LIKELY, 0, DEFAULT_QUERIES);
    }

    /** PGD (Eq. 2) at this ε: L∞, 10 steps of ε/4 from the clean image, untargeted. */
    public static AttackConfig pgd(float eps) {
        return new AttackConfig(Kind.PGD, Norm.LINF, eps, DEFAULT_STEPS, Float.NaN, false, 1, false, LEAST_LIKELY, 0, DEFAULT_QUERIES);
    }

    /** This attack with its defaults at this ε, L∞, untargeted (APGD: 100 iterations; Square: 5000 queries). */
    public static AttackConfig of(Kind kind, float eps) {
        if (kind == Kind.FGSM) return fgsm(eps);
        return new AttackConfig(kind, Norm.LINF, eps, kind.defaultSteps(), Float.NaN, false, 1, false, LEAST_LIKELY, 0, DEFAULT_QUERIES);
    }

    /** α: the explicit step size, else ε for FGSM, ε/4 for PGD, and APGD's initial step 2ε. */
    public float alpha() {
        if (!Float.isNaN(stepSize)) return stepSize;
        if (kind == Kind.FGSM) return eps;
        return kind == Kind.PGD ? eps / 4f : 2 * eps;
    }

    public AttackConfig withEps(float e) { return new AttackConfig(kind, norm, e, steps, stepSize, randomStart, restarts, targeted, targetClass, seed, queries); }
    public AttackConfig withNorm(Norm n) { return new AttackConfig(kind, n, eps, steps, stepSize, randomStart, restarts, targeted, targetClass, seed, queries); }
    public AttackConfig withSteps(int s) { return new AttackConfig(kind, norm, eps, s, stepSize, randomStart, restarts, targeted, targetClass, seed, queries); }
    /** NaN restores the default (ε/4 for PGD). */
    public AttackConfig withStepSize(float a) { return new AttackConfig(kind, norm, eps, steps, a, randomStart, restarts, targeted, targetClass, seed, queries); }
    public AttackConfig withRandomStart(boolean on) { return new AttackConfig(kind, norm, eps, steps, stepSize, on, restarts, targeted, targetClass, seed, queries); }
    public AttackConfig withRestarts(int r) { return new AttackConfig(kind, norm, eps, steps, stepSize, randomStart, r, targeted, targetClass, seed, queries); }
    public AttackConfig withSeed(long s) { return new AttackConfig(kind, norm, eps, steps, stepSize, randomStart, restarts, targeted, targetClass, s, queries); }
    public AttackConfig untargeted() { return new AttackConfig(kind, norm, eps, steps, stepSize, randomStart, restarts, false, LEAST_LIKELY, seed, queries); }
    /** Targeted at this class, or at each image's least likely class with {@link #LEAST_LIKELY}. */
    public AttackConfig targeting(int cls) { return new AttackConfig(kind, norm, eps, steps, stepSize, randomStart, restarts, true, cls, seed, queries); }

    public AttackConfig withQueries(int q) { return new AttackConfig(kind, norm, eps, steps, stepSize, randomStart, restarts, targeted, targetClass, seed, q); }

    /** The same attack as FGSM: one step of ε, same norm and target (for the PGD-vs-FGSM check). */
    public AttackConfig asFgsm() { return new AttackConfig(Kind.FGSM, norm, eps, 1, Float.NaN, false, 1, targeted, targetClass, seed, queries); }

    /**
     * Problems with the settings that do not stop the attack. The seed's "necessary condition":
     * with α·steps < ε, PGD from the clean image cannot reach the edge of the ball.
     */
    public List<String> warnings() {
        List<String> list = new ArrayList<>();
        if (kind == Kind.PGD && eps > 0 && (double) alpha() * steps < eps * (1 - 1e-6)) {
            list.add(String.format(Locale.ROOT, "step size x steps = %s x %d = %s < eps = %s: PGD cannot reach the edge of the "
                            + "eps-ball (the seed's necessary condition alpha*steps >= eps); the attack is weaker than it could be",
                    fmt(alpha()), steps, fmt(alpha() * steps), fmt(eps)));
        }
        return list;
    }

    /** One line for people: "PGD Linf eps=0.03, 10 steps of 0.0075, targeted at the least likely class". */
    public String describe() {
        if (!kind.isSeedAttack()) return describeEvaluationAttack();
        StringBuilder s = new StringBuilder(kind.name()).append(' ').append(norm.text()).append(" eps=").append(fmt(eps));
        if (kind == Kind.PGD) {
            s.append(", ").append(steps).append(steps == 1 ? " step of " : " steps of ").append(fmt(alpha()));
            if (randomStart) s.append(", random start");
            if (restarts > 1) s.append(", ").append(restarts).append(" restarts");
        }
        if (targeted) s.append(targetClass == LEAST_LIKELY ? ", targeted at the least likely class" : ", targeted at class " + targetClass);
        return s.toString();
    }

    static String fmt(float v) {
        String s = String.format(Locale.ROOT, "%.6g", v);
        if (s.contains("e")) return s;
        if (s.contains(".")) s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        return s;
    }

    /** "APGD-CE Linf eps=0.03, 100 iterations", "Square Linf eps=0.03, 5000 queries", "AutoAttack (...)". */
    private String describeEvaluationAttack() {
        String head = (kind == Kind.AUTOATTACK ? AutoAttack.NAME : kind.title()) + " " + norm.text() + " eps=" + fmt(eps);
        String iterations = steps + (steps == 1 ? " iteration" : " iterations");
        return switch (kind) {
            case SQUARE -> head + ", " + queries + " queries";
            case APGD_T -> head + ", " + iterations + " per target, " + Apgd.TARGETS + " target classes"
                    + (restarts > 1 ? ", " + restarts + " restarts" : "");
            case AUTOATTACK -> head + ", APGD " + iterations + ", Square " + queries + " queries";
            default -> head + ", " + iterations + (restarts > 1 ? ", " + restarts + " restarts" : "");
        };
    }
}
