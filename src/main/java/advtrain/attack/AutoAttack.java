package advtrain.attack;

import advtrain.backend.Backend;
import advtrain.nn.Module;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * AutoAttack's standard version (Croce and Hein, ICML 2020) without FAB-T: APGD-CE, then APGD-T
 * (9 target classes), then Square (5000 queries), each run only on the images every earlier member
 * left correctly classified. An image counts as robust only if every member fails on it. FAB-T, the
 * third member of the original ensemble, is not implemented, so this is named
 * "AutoAttack (APGD-CE, APGD-T, Square; FAB-T not included)" wherever it reports.
 *
 * <p>After each member it logs the robust accuracy so far over all the images it was given, as
 * AutoAttack prints it, and keeps it in {@link #lastStages}.
 */
final class AutoAttack extends HostAttack {
    static final String NAME = "AutoAttack (APGD-CE, APGD-T, Square; FAB-T not included)";

    /** The robust accuracy after one member: images still right of n, and the member's time. */
    public record Stage(String attack, int robust, int n, double seconds) {
        public double robustAccuracy() { return n == 0 ? Double.NaN : (double) robust / n; }
    }

    private final List<HostAttack> members = new ArrayList<>();
    private List<Stage> stages = List.of();
    private int[] squareQueries;

    AutoAttack(Backend backend, AttackConfig config, int batchSize) {
        super(backend, config, batchSize);
        AttackConfig base = AttackConfig.of(AttackConfig.Kind.APGD_CE, config.eps()).withNorm(config.norm())
                .withSteps(config.steps()).withSeed(config.seed()).withQueries(config.queries());
        members.add(new Apgd(backend, base, batchSize));
        members.add(new Apgd(backend, new AttackConfig(AttackConfig.Kind.APGD_T, base.norm(), base.eps(), base.steps(), Float.NaN,
                true, 1, false, AttackConfig.LEAST_LIKELY, base.seed(), base.queries()), batchSize));
        if (config.norm() == Norm.LINF) {   // Square is L∞ here; the L2 ensemble is APGD-CE and APGD-T
            members.add(new SquareAttack(backend, new AttackConfig(AttackConfig.Kind.SQUARE, Norm.LINF, base.eps(), 1, Float.NaN,
                    false, 1, false, AttackConfig.LEAST_LIKELY, base.seed(), base.queries()), batchSize));
        }
    }

    /** The robust accuracy after each member of the last call, in order. */
    List<Stage> lastStages() { return stages; }

    @Override int[] lastQueries() { return squareQueries; }

    @Override void run(Module model, Images images, boolean[] attacked, float[] adversarial) {
        int n = images.count(), size = images.size(), classes = classesOf(model, images);
        boolean[] robust = attacked.clone();
        List<Stage> done = new ArrayList<>();
        float[] crafted = new float[n * size];
        GradientStats gradients = GradientStats.NONE;
        squareQueries = null;
        log(String.format(Locale.ROOT, "%s, eps=%s: %d of %d images to attack", NAME, AttackConfig.fmt(config.eps()), count(robust), n));
        for (HostAttack member : members) {
            long start = System.nanoTime();
            System.arraycopy(images.pixels(), 0, crafted, 0, n * size);
            member.run(model, images, robust, crafted);    // inside this call's frozen-model scope
            gradients = gradients.plus(member.lastGradientStats());
            if (member instanceof SquareAttack) squareQueries = member.lastQueries();
            int[] todo = Apgd.indices(robust, new boolean[n]);
            float[] staging = new float[Math.min(batchSize, Math.max(1, todo.length)) * size], out = null;
            for (int from = 0; from < todo.length; from += batchSize) {
                int m = Math.min(batchSize, todo.length - from);
                for (int k = 0; k < m; k++) copyImage(crafted, todo[from + k], staging, k, size);
                out = scores(model, staging, m, images, out);
                for (int k = 0; k < m; k++) {
                    int i = todo[from + k];
                    if (argmax(out, k, classes) != images.labels()[i]) {   // fooled: keep this member's image
                        robust[i] = false;
                        System.arraycopy(crafted, i * size, adversarial, i * size, size);
                    }
                }
            }
            Stage stage = new Stage(member.config().kind().title(), count(robust), n, (System.nanoTime() - start) / 1e9);
            done.add(stage);
            log(String.format(Locale.ROOT, "robust accuracy after %-8s %6.2f %% (%d/%d), %.1f s", stage.attack() + ":",
                    100 * stage.robustAccuracy(), stage.robust(), n, stage.seconds()));
        }
        gradientStats = gradients;
        stages = List.copyOf(done);
    }

    private static int count(boolean[] flags) {
        int c = 0;
        for (boolean f : flags) if (f) c++;
        return c;
    }

    @Override public void close() {
        for (HostAttack member : members) member.close();
        super.close();
    }
}
