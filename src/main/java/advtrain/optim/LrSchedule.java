package advtrain.optim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The learning rate of every training iteration, set on {@link Sgd} before each step. It is a
 * function of t, the epochs of training done once the step is taken:
 * t = epoch + (batch + 1) / batchesPerEpoch (epoch and batch 0-based), so a run's first step has
 * t = 1 / batchesPerEpoch and its last t = epochs, as in Wong et al. 2020's fast adversarial
 * training code (CIFAR10/train_cifar.py). Because t depends only on where the step is in the run,
 * a resumed run continues the schedule exactly where it stopped. Computed in double, rounded to
 * float once.
 *
 * @param peak   the largest rate (--lr): the constant rate, or the top of the one-cycle or cosine curve
 * @param epochs the epochs the schedule spans (the run's total)
 */
public record LrSchedule(Kind kind, float peak, int epochs) {
    /** What the schedules compute, in words for --help (LR is the peak). */
    public static final String ONECYCLE_FORMULA = "np.interp(t, [0, epochs*2//5, epochs], [0, LR, 0]): linear up to LR at 2/5 "
            + "of the epochs (rounded down), then down to 0 at the last step, as Wong et al. 2020",
            COSINE_FORMULA = "LR * 0.5 * (1 + cos(pi * t / epochs)): from LR down to 0 at the last step";

    public enum Kind {
        /** lr(t) = peak. */
        CONSTANT("constant"),
        /** numpy's interp(t, [0, epochs * 2 // 5, epochs], [0, peak, 0]). */
        ONECYCLE("onecycle"),
        /** peak * 0.5 * (1 + cos(pi * t / epochs)). */
        COSINE("cosine");

        private final String label;

        Kind(String label) { this.label = label; }

        public String label() { return label; }

        /** The kind named {@code text}; an unknown name is an IllegalArgumentException with the names and a guess. */
        public static Kind parse(String text) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            List<String> names = new ArrayList<>();
            for (Kind k : values()) {
                if (k.label.equals(t)) return k;
                names.add(k.label);
            }
            String guess = closest(t, names);
            throw new IllegalArgumentException("unknown learning-rate schedule '" + text + "': use constant, onecycle or cosine"
                    + (guess == null ? "" : "; did you mean " + guess + "?"));
        }
    }

    public LrSchedule {
        if (kind == null) throw new IllegalArgumentException("no schedule kind");
        if (!(peak > 0) || !Float.isFinite(peak)) throw new IllegalArgumentException("the peak learning rate must be > 0, got " + peak);
        if (epochs < 1) throw new IllegalArgumentException("a schedule spans at least one epoch, got " + epochs);
    }

    /** The rate of step {@code batch} (0-based) of epoch {@code epoch} (0-based). */
    public float lr(int epoch, int batch, int batchesPerEpoch) {
        if (kind == Kind.CONSTANT) return peak;   // the float itself: exactly the rate of a run without a schedule
        return (float) at(epoch + (batch + 1) / (double) batchesPerEpoch);
    }

    /** The rate at t epochs, in double. */
    public double at(double t) {
        return switch (kind) {
            case CONSTANT -> peak;
            case ONECYCLE -> interp(t, new double[] {0, epochs * 2 / 5, epochs}, new double[] {0, peak, 0});
            case COSINE -> peak * 0.5 * (1 + Math.cos(Math.PI * t / epochs));
        };
    }

    /**
     * numpy.interp for increasing xs (repeats allowed), computed as numpy computes it, so that the
     * two agree to the last bit: j is the last index with xs[j] <= x; x exactly at xs[j], or at or
     * beyond the last point, gives ys[j]; otherwise slope * (x - xs[j]) + ys[j]. Below xs[0]: ys[0].
     */
    static double interp(double x, double[] xs, double[] ys) {
        int last = xs.length - 1;
        if (x < xs[0]) return ys[0];
        if (x >= xs[last]) return ys[last];
        int j = 0;
        while (j + 1 <= last && xs[j + 1] <= x) j++;
        if (xs[j] == x) return ys[j];
        double slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]);
        return slope * (x - xs[j]) + ys[j];
    }

    /** The name nearest {@code typed} in edits (insert, delete, change, swap two neighbours), if at most 2 away. */
    static String closest(String typed, List<String> names) {
        String best = null;
        int bestDistance = 3;
        for (String name : names) {
            int d = editDistance(typed, name);
            if (d < bestDistance) {
                bestDistance = d;
                best = name;
            }
        }
        return best;
    }

    private static int editDistance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int change = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + change);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
