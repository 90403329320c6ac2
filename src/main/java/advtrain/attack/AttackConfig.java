package advtrain.attack;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What an attack does, checked once when it is made. FGSM is the seed's Eq. 1 and PGD its Eq. 2;
 * both are the same gradient template ({@link GradientAttack}), FGSM being one step of size ε from
 * the clean image with no random start.
 *
 * @param kind        FGSM or PGD
 * @param norm        the threat model: L∞ (sign steps, box projection) or L2 (unit-norm steps, ball projection)
 * @param eps         the radius ε of the ball around the original image, in [0, 1] pixel units
 * @param steps       gradient steps per restart (1 for FGSM)
 * @param stepSize    α, or NaN for the default ε/4 (PGD) or ε (FGSM)
 * @param randomStart start from a random point of the ball instead of the clean image
 * @param restarts    independent runs from random starts; per image the one with the highest loss is kept
 * @param targeted    aim at a class instead of away from the true one
 * @param targetClass the class aimed at, or {@link #LEAST_LIKELY} for each image's least likely class
 * @param seed        seeds the random starts (with the call count and the restart)
 */
public record AttackConfig(Kind kind, Norm norm, float eps, int steps, float stepSize, boolean randomStart,
                           int restarts, boolean targeted, int targetClass, long seed) {

    public enum Kind {
        FGSM, PGD;

        public String label() { return name().toLowerCase(Locale.ROOT); }

        public static Kind parse(String text) {
            for (Kind k : values()) if (k.label().equals(text.trim().toLowerCase(Locale.ROOT))) return k;
            throw new IllegalArgumentException("unknown attack '" + text + "': use fgsm or pgd");
        }
    }

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
        if (kind == Kind.FGSM) {  // Eq. 1: one step of size ε from the clean image
            steps = 1;
            stepSize = Float.NaN;
            randomStart = false;
            restarts = 1;
        }
        if (restarts > 1) randomStart = true;  // restarts from the same point would all be equal
    }

    /** FGSM (Eq. 1) at this ε, L∞, untargeted. */
    public static AttackConfig fgsm(float eps) {
        return new AttackConfig(Kind.FGSM, Norm.LINF, eps, 1, Float.NaN, false, 1, false, LEAST_LIKELY, 0);
    }

    /** PGD (Eq. 2) at this ε: L∞, 10 steps of ε/4 from the clean image, untargeted. */
    public static AttackConfig pgd(float eps) {
        return new AttackConfig(Kind.PGD, Norm.LINF, eps, DEFAULT_STEPS, Float.NaN, false, 1, false, LEAST_LIKELY, 0);
    }

    public static AttackConfig of(Kind kind, float eps) { return kind == Kind.FGSM ? fgsm(eps) : pgd(eps); }

    /** α: the explicit step size, else ε for FGSM and ε/4 for PGD. */
    public float alpha() {
        if (!Float.isNaN(stepSize)) return stepSize;
        return kind == Kind.FGSM ? eps : eps / 4f;
    }

    public AttackConfig withEps(float e) { return new AttackConfig(kind, norm, e, steps, stepSize, randomStart, restarts, targeted, targetClass, seed); }
    public AttackConfig withNorm(Norm n) { return new AttackConfig(kind, n, eps, steps, stepSize, randomStart, restarts, targeted, targetClass, seed); }
    public AttackConfig withSteps(int s) { return new AttackConfig(kind, norm, eps, s, stepSize, randomStart, restarts, targeted, targetClass, seed); }
    /** NaN restores the default (ε/4 for PGD). */
    public AttackConfig withStepSize(float a) { return new AttackConfig(kind, norm, eps, steps, a, randomStart, restarts, targeted, targetClass, seed); }
    public AttackConfig withRandomStart(boolean on) { return new AttackConfig(kind, norm, eps, steps, stepSize, on, restarts, targeted, targetClass, seed); }
    public AttackConfig withRestarts(int r) { return new AttackConfig(kind, norm, eps, steps, stepSize, randomStart, r, targeted, targetClass, seed); }
    public AttackConfig withSeed(long s) { return new AttackConfig(kind, norm, eps, steps, stepSize, randomStart, restarts, targeted, targetClass, s); }
    public AttackConfig untargeted() { return new AttackConfig(kind, norm, eps, steps, stepSize, randomStart, restarts, false, LEAST_LIKELY, seed); }
    /** Targeted at this class, or at each image's least likely class with {@link #LEAST_LIKELY}. */
    public AttackConfig targeting(int cls) { return new AttackConfig(kind, norm, eps, steps, stepSize, randomStart, restarts, true, cls, seed); }

    /** The same attack as FGSM: one step of ε, same norm and target (for the PGD-vs-FGSM check). */
    public AttackConfig asFgsm() { return new AttackConfig(Kind.FGSM, norm, eps, 1, Float.NaN, false, 1, targeted, targetClass, seed); }

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
}
