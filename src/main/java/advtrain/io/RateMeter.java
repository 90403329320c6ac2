package advtrain.io;

import java.util.OptionalDouble;

/**
 * The rate of long work once it is known, for times left. Work that starts slowly (the Java backend
 * before the JIT has compiled its kernels) makes the average since the start a poor guide: the
 * first seconds can be several times slower than the rest. So the meter closes a window every
 * {@code window} seconds and knows the rate only when the last {@value #STEADY} windows agree
 * within {@value #TOLERANCE} of their mean; the rate is then that mean, and the time left is the
 * work left at that rate. Until then, and whenever the rate moves again, it says nothing.
 */
public final class RateMeter {
    static final int STEADY = 4;
    static final double TOLERANCE = 0.10;

    private final double window;
    private final double[] rates = new double[STEADY];
    private int windows;
    private double windowStart, windowUnits;
    private double rate;  // the mean of the last windows' rates, when they agree; else 0

    /** @param window seconds per window; short work gets no time left, which is right: it is over soon */
    public RateMeter(double window) {
        this.window = window;
    }

    /** Records that {@code units} more were done by {@code seconds} since the start. */
    public synchronized void record(double seconds, double units) {
        windowUnits += units;
        double length = seconds - windowStart;
        if (length < window) return;
        rates[windows % STEADY] = windowUnits / length;
        windows++;
        windowStart = seconds;
        windowUnits = 0;
        if (windows < STEADY) return;
        double lo = Double.MAX_VALUE, hi = 0, sum = 0;
        for (double r : rates) {
            lo = Math.min(lo, r);
            hi = Math.max(hi, r);
            sum += r;
        }
        double mean = sum / STEADY;
        rate = mean > 0 && hi - lo <= TOLERANCE * mean ? mean : 0;
    }

    /** Units per second over the last windows, once they agree; empty before. */
    public synchronized OptionalDouble rate() {
        return rate > 0 ? OptionalDouble.of(rate) : OptionalDouble.empty();
    }

    /** Seconds to do {@code unitsLeft} more at the known rate; empty while the rate is not known. */
    public synchronized OptionalDouble secondsLeft(double unitsLeft) {
        return rate > 0 ? OptionalDouble.of(Math.max(0, unitsLeft) / rate) : OptionalDouble.empty();
    }
}
