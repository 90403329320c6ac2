package advtrain.stats;

import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.distribution.NormalDistribution;

import java.util.Locale;

/**
 * How sure an accuracy measured on n test images is, and whether two classifiers (or two attacks)
 * differ on the same images, with Apache Commons Math.
 *
 * <ul>
 *   <li>{@link #wilson}: the Wilson score interval for a proportion k/n at 95 % (Wilson 1927). It
 *       stays inside [0, 1], is not degenerate at 0/n or n/n (unlike the normal "Wald" interval),
 *       and its coverage is close to 95 % even for small n.</li>
 *   <li>{@link #mcNemar}: the exact McNemar test for paired outcomes. Only the discordant images
 *       count: b right under A and wrong under B, c the other way round. Under the null hypothesis
 *       (A and B are equally good) each discordant image is a fair coin, so min(b, c) is
 *       Binomial(b + c, 1/2) in its lower tail; the two-sided p-value is twice that tail, capped at 1.</li>
 * </ul>
 */
public final class Stats {
    private Stats() {}

    /** The two-sided 95 % quantile of the standard normal distribution, 1.959963984540054. */
    public static final double Z95 = new NormalDistribution(null, 0, 1).inverseCumulativeProbability(0.975);

    /** A closed interval [low, high]. */
    public record Interval(double low, double high) {
        public double[] toArray() { return new double[] {low, high}; }

        /** "[41.2, 47.3] %" for a proportion. */
        public String percent() {
            return String.format(Locale.ROOT, "[%.1f, %.1f] %%", 100 * low, 100 * high);
        }
    }

    /** The Wilson score 95 % interval for k successes in n trials; [NaN, NaN] for n = 0. */
    public static Interval wilson(int k, int n) {
        if (k < 0 || k > n) throw new IllegalArgumentException("wilson: need 0 <= k <= n, got k=" + k + ", n=" + n);
        if (n == 0) return new Interval(Double.NaN, Double.NaN);
        double z2 = Z95 * Z95;
        double centre = (k + z2 / 2) / (n + z2);
        double half = Z95 / (n + z2) * Math.sqrt((double) k * (n - k) / n + z2 / 4);
        // At k = 0 the lower end is exactly 0 and at k = n the upper exactly 1; computed, they come
        // out a rounding error away (3.5e-18), which would print as a tiny positive bound.
        double low = k == 0 ? 0 : Math.max(0, centre - half), high = k == n ? 1 : Math.min(1, centre + half);
        return new Interval(low, high);
    }

    /**
     * The two-sided exact McNemar p-value for b and c discordant pairs: 2 P(X <= min(b, c)) for
     * X ~ Binomial(b + c, 1/2), at most 1; 1 when there is no discordant pair. The lower tail is summed
     * from the probability masses (not 1 - the upper tail), so p-values far below 1e-16 keep their
     * precision.
     */
    public static double mcNemar(int b, int c) {
        if (b < 0 || c < 0) throw new IllegalArgumentException("mcNemar: counts must be >= 0, got " + b + " and " + c);
        int n = b + c;
        if (n == 0) return 1.0;
        BinomialDistribution coin = new BinomialDistribution(null, n, 0.5);
        double tail = 0;
        for (int i = 0; i <= Math.min(b, c); i++) tail += coin.probability(i);
        return Math.min(1.0, 2 * tail);
    }

    /** The McNemar test of two per-image outcomes (true = the image is classified correctly). */
    public static Paired paired(boolean[] rightUnderA, boolean[] rightUnderB) {
        if (rightUnderA.length != rightUnderB.length) {
            throw new IllegalArgumentException("paired: " + rightUnderA.length + " against " + rightUnderB.length + " images");
        }
        int onlyA = 0, onlyB = 0;
        for (int i = 0; i < rightUnderA.length; i++) {
            if (rightUnderA[i] && !rightUnderB[i]) onlyA++;
            if (rightUnderB[i] && !rightUnderA[i]) onlyB++;
        }
        return new Paired(onlyA, onlyB, mcNemar(onlyA, onlyB));
    }

    /** Discordant counts (right only under A, right only under B) and the exact McNemar p-value. */
    public record Paired(int onlyA, int onlyB, double p) {
        /** "p = 0.021", "p = 3.1e-05", or "p < 10^-10" below that, for text. */
        public String pText() { return formatP(p); }
    }

    /** A p-value for people: three significant digits, or "p < 10^-10" when smaller. */
    public static String formatP(double p) {
        if (p < 1e-10) return "p < 10^-10";
        if (p >= 0.001) return String.format(Locale.ROOT, "p = %.3g", p);
        return String.format(Locale.ROOT, "p = %.2g", p);
    }
}
