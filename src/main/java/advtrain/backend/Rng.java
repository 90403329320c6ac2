package advtrain.backend;

/**
 * A counter-based random generator: the i-th number of a stream depends only on (seed, i), so
 * any backend, any thread split and any kernel draws exactly the same numbers. It is SplitMix64's
 * finaliser applied to seed + (i + 1) * golden ratio; the top 24 bits make a float in [0, 1).
 * kernels/random.cl computes the same thing in OpenCL C.
 */
public final class Rng {
    private Rng() {}

    public static float unit(long seed, long index) {
        long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 40) * 0x1.0p-24f;
    }

    /** lo + (hi - lo) * unit, rounded as float: the OpenCL kernel must compute it the same way. */
    public static float uniform(long seed, long index, float lo, float hi) {
        float u = unit(seed, index);
        float width = hi - lo;
        float scaled = width * u;
        return lo + scaled;
    }
}
