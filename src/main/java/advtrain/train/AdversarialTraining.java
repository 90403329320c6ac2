package advtrain.train;

import advtrain.attack.AttackConfig;
import advtrain.attack.Norm;
import advtrain.io.InvalidOptionException;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What adversarial training does, checked once when it is made: the method that crafts the
 * adversarial batch, its radius ε (L∞, pixel units), and the seed's mix α of Eq. 3,
 * L = α·L(θ, x, y) + (1 − α)·L(θ, x_adv, y).
 *
 * <ul>
 *   <li>{@code fgsm}: Goodfellow et al. (the seed's Eq. 3): x_adv = clip(x + ε·sign(∇x L(θ, x, y))),
 *       one step from the clean image; α defaults to 0.5.</li>
 *   <li>{@code fgsm-rs}: Wong et al., "Fast is better than free": a random start uniform in
 *       [−ε, ε], one sign step of 1.25·ε, projection onto the ε-ball, clip; α defaults to 0.5.</li>
 *   <li>{@code pgd}: Madry et al.: PGD from a random start, {@code steps} sign steps of
 *       {@code stepSize}, each projected and clipped; α defaults to 0 (train on PGD examples only).
 *       The defaults, 10 steps of ε/4, are the attack command's PGD, so α·steps = 2.5·ε satisfies the
 *       seed's necessary condition α·steps ≥ ε with room for the random start.</li>
 *   <li>{@code none}: the standard objective; ε then only sets the robust evaluation.</li>
 * </ul>
 *
 * @param stepSize the attack's step size α (not the mix): ε for fgsm, 1.25·ε for fgsm-rs, ε/4 for pgd by default
 */
public record AdversarialTraining(Method method, float eps, float mix, int steps, float stepSize) {

    public enum Method {
        NONE("none"), FGSM("fgsm"), FGSM_RS("fgsm-rs"), PGD("pgd");

        private final String label;

        Method(String label) { this.label = label; }

        /** As the command line and run.json spell it. */
        public String label() { return label; }

        /** Whether the adversarial batch starts from a random point of the ε-ball. */
        public boolean randomStart() { return this == FGSM_RS || this == PGD; }

        public static Method parse(String text) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            for (Method m : values()) if (m.label.equals(t)) return m;
            throw new InvalidOptionException("unknown adversarial training '" + text + "': use none, fgsm, fgsm-rs or pgd");
        }
    }

    public static final float DEFAULT_EPS = 8f / 255f;
    public static final int DEFAULT_PGD_STEPS = AttackConfig.DEFAULT_STEPS;
    /** Wong et al.'s step for FGSM with a random start, as a multiple of ε. */
    public static final float FGSM_RS_STEP = 1.25f;

    /** Checks every value; a bad one is an IllegalArgumentException naming the option (exit status 2). */
    public AdversarialTraining {
        if (method == null) throw new InvalidOptionException("--adv is required");
        if (!Float.isFinite(eps) || eps < 0) {
            throw new InvalidOptionException("--adv-eps must be a number >= 0 (pixel units in [0,1], e.g. 0.031 or 8/255), got " + eps);
        }
        if (!(mix >= 0 && mix <= 1)) throw new InvalidOptionException("--adv-mix must be in [0, 1], got " + mix);
        if (steps < 1) throw new InvalidOptionException("--adv-steps must be >= 1, got " + steps);
        if (!(stepSize > 0 && Float.isFinite(stepSize)) && !(stepSize == 0 && eps == 0)) {
            throw new InvalidOptionException("--adv-step-size must be a number > 0, got " + stepSize);
        }
        if ((method == Method.FGSM || method == Method.FGSM_RS) && steps != 1) {
            throw new InvalidOptionException("--adv-steps applies to --adv pgd only (" + method.label + " takes one step)");
        }
        if (method == Method.FGSM && stepSize != eps) {
            throw new InvalidOptionException("--adv-step-size does not apply to --adv fgsm (its one step is eps, Eq. 3)");
        }
    }

    /** No adversarial training; robust accuracy, if asked for, at this ε. */
    public static AdversarialTraining none(float eps) {
        return new AdversarialTraining(Method.NONE, eps, 1f, 1, eps);
    }

    /** The seed's Eq. 3: FGSM examples at ε, mixed with weight {@code mix} on the clean loss. */
    public static AdversarialTraining fgsm(float eps, float mix) {
        return new AdversarialTraining(Method.FGSM, eps, mix, 1, eps);
    }

    /**
     * A method with its defaults for whatever is null: mix 0.5 (fgsm, fgsm-rs) or 0 (pgd), steps 10
     * (pgd), step size ε (fgsm), 1.25·ε (fgsm-rs), ε/4 (pgd).
     */
    public static AdversarialTraining of(Method method, float eps, Float mix, Integer steps, Float stepSize) {
        if (method == Method.NONE) {
            if (mix != null || steps != null || stepSize != null) {
                throw new InvalidOptionException("--adv-mix, --adv-steps and --adv-step-size need --adv fgsm, fgsm-rs or pgd");
            }
            return none(eps);
        }
        if (method != Method.PGD && steps != null) {
            throw new InvalidOptionException("--adv-steps applies to --adv pgd only (" + method.label + " takes one step)");
        }
        float defaultMix = method == Method.PGD ? 0f : 0.5f;
        float defaultStep = switch (method) {
            case FGSM -> eps;
            case FGSM_RS -> FGSM_RS_STEP * eps;
            default -> eps / 4f;
        };
        return new AdversarialTraining(method, eps, mix == null ? defaultMix : mix,
                steps == null ? (method == Method.PGD ? DEFAULT_PGD_STEPS : 1) : steps,
                stepSize == null ? defaultStep : stepSize);
    }

    public boolean adversarial() { return method != Method.NONE; }

    /**
     * The attack that crafts the adversarial batch: FGSM for fgsm, else PGD with a random start
     * (fgsm-rs being PGD of one 1.25·ε step). L∞, untargeted, seeded.
     */
    public AttackConfig attack(long seed) {
        if (method == Method.NONE) throw new IllegalStateException("no adversarial training: no attack");
        if (method == Method.FGSM) return AttackConfig.fgsm(eps).withSeed(seed);
        return new AttackConfig(AttackConfig.Kind.PGD, Norm.LINF, eps, steps, stepSize > 0 ? stepSize : Float.NaN, true, 1, false,
                AttackConfig.LEAST_LIKELY, seed);
    }

    /** For run.json: {"adv": "none"} (as the standard objective) or every setting that shapes the weights. */
    public Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("adv", method.label);
        if (method == Method.NONE) return s;
        s.put("eps", eps);
        s.put("mix", mix);
        s.put("steps", steps);
        s.put("step_size", stepSize);
        s.put("random_start", method.randomStart());
        return s;
    }

    /** The settings as {@link #settings} wrote them in run.json's "objective"; {@code evalEps} for none. */
    public static AdversarialTraining fromSettings(Map<?, ?> m, float evalEps) {
        if (m == null || !(m.get("adv") instanceof String name)) {
            throw new IllegalArgumentException("run.json has no \"objective\" with an \"adv\" name");
        }
        Method method = Method.parse(name);
        if (method == Method.NONE) return none(evalEps);
        try {
            return new AdversarialTraining(method, ((Number) m.get("eps")).floatValue(), ((Number) m.get("mix")).floatValue(),
                    ((Number) m.get("steps")).intValue(), ((Number) m.get("step_size")).floatValue());
        } catch (ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException("run.json's objective is incomplete or malformed: " + m);
        }
    }

    /** One line for people: "FGSM eps=0.0314, mix 0.5 (Eq. 3)". */
    public String describe() {
        String e = fmt(eps);
        return switch (method) {
            case NONE -> "no adversarial training";
            case FGSM -> "FGSM eps=" + e + ", mix " + fmt(mix) + " (Eq. 3)";
            case FGSM_RS -> "FGSM with random start eps=" + e + ", step " + fmt(stepSize) + ", mix " + fmt(mix);
            case PGD -> "PGD eps=" + e + ", " + steps + " steps of " + fmt(stepSize) + " from a random start, mix " + fmt(mix);
        };
    }

    static String fmt(float v) {
        String s = String.format(Locale.ROOT, "%.4g", v);
        return s.contains(".") && !s.contains("e") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }
}
