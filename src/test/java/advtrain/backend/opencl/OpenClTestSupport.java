package advtrain.backend.opencl;

import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.backend.reference.ReferenceBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the tests of the OpenCL backend against the reference backend (the definition) share: the
 * kernel versions each test runs on, the same values as a tensor on each side, and the
 * comparisons (within a tolerance, bit for bit, or within the bound on a fused multiply-add).
 */
abstract class OpenClTestSupport {
    /** The definition every backend is compared with (named java: it is the Java side of each pair). */
    static final Backend java = new ReferenceBackend();

    static Backend opencl(String variant) {
        OpenClBackend best = (OpenClBackend) TestBackends.get("opencl");
        return switch (variant) {
            case "opencl" -> best;
            case "opencl-tiled" -> Forced.of(best.device(), OpenClBackend.Kernels.TILED);
            case "opencl-rows" -> Forced.of(best.device(), OpenClBackend.Kernels.ROWS);
            case "opencl-plain" -> Forced.of(best.device(), OpenClBackend.Kernels.PLAIN);
            default -> throw new IllegalArgumentException(variant);
        };
    }

    /** One backend per kernel version per test JVM, on the device the default one uses. */
    static final class Forced {
        static final java.util.Map<OpenClBackend.Kernels, OpenClBackend> backends = new java.util.EnumMap<>(OpenClBackend.Kernels.class);
        static synchronized OpenClBackend of(OpenCl.Device device, OpenClBackend.Kernels kernels) {
            return backends.computeIfAbsent(kernels, k -> new OpenClBackend(device, k));
        }
    }

    /** The kernel versions every test runs: TILED, ROWS and PLAIN, whatever the device's default. */
    static final String[] VARIANTS = {"opencl-tiled", "opencl-rows", "opencl-plain"};

    // ---- helpers ----------------------------------------------------------------------------------

    /** The same values as a Java tensor and as an OpenCL tensor. */
    static final class Pair {
        final Tensor java, cl;
        final float[] values;

        Pair(Tensor java, Tensor cl, float[] values) { this.java = java; this.cl = cl; this.values = values; }
    }

    static Pair pair(Backend cl, float[] values, int... dims) {
        return new Pair(Tensors.fromArray(java, values, dims), Tensors.fromArray(cl, values, dims), values);
    }

    static float[] randoms(SplittableRandom random, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * random.nextDouble());
        return v;
    }

    static Pair random(Backend cl, SplittableRandom random, int... dims) {
        return pair(cl, randoms(random, Shape.of(dims).size(), -1, 1), dims);
    }

    static Pair zeros(Backend cl, int... dims) {
        return pair(cl, new float[Shape.of(dims).size()], dims);
    }

    /** |expected - actual| <= tolerance * max(1, |expected|) everywhere, else a message naming the element. */
    static void assertClose(String what, Tensor expected, Backend cl, Tensor actual, double tolerance) {
        assertClose(what, Tensors.toArray(java, expected), Tensors.toArray(cl, actual), tolerance);
    }

    static void assertClose(String what, float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            boolean same = Float.compare(expected[i], actual[i]) == 0
                    || Math.abs(expected[i] - actual[i]) <= tolerance * Math.max(1, Math.abs(expected[i]));
            if (!same) fail(what + ": element " + i + " expected " + expected[i] + " got " + actual[i] + " (tolerance " + tolerance + ")");
        }
    }

    static void assertSameBits(String what, Tensor expected, Backend cl, Tensor actual) {
        float[] e = Tensors.toArray(java, expected), a = Tensors.toArray(cl, actual);
        for (int i = 0; i < e.length; i++) {
            if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i]) && !(Float.isNaN(e[i]) && Float.isNaN(a[i]))) {
                fail(what + ": element " + i + " expected " + e[i] + " got " + a[i] + " (bit-exact expected)");
            }
        }
    }

    /**
     * Whether the device rounds a*b + c twice, as Java does, in kernels built with FP_CONTRACT OFF
     * (the backend's start-up self-check, {@link OpenClBackend#multiplyAdd}). Some compilers fuse
     * anyway; there the kernels that multiply and add cannot match Java bit for bit.
     */
    static boolean roundsLikeJava(Backend cl) { return "separate".equals(((OpenClBackend) cl).multiplyAdd()); }

    /**
     * Bit for bit where the device rounds like Java ({@link #roundsLikeJava}); elsewhere within the
     * bound on two ways of computing a K-term sum of products: each is within K * 2^-24 * sum|a_i b_i|
     * of the exact value (one rounding per product and per addition, fused or not), so they differ
     * by at most |delta| <= 2K * 2^-24 * sum|a_i b_i|. magnitude[i] is sum|a_i b_i| for element i.
     */
    static void assertSameBitsOrBound(String what, Tensor expected, Backend cl, Tensor actual, int terms, float[] magnitude) {
        if (roundsLikeJava(cl)) assertSameBits(what, expected, cl, actual);
        else assertWithinBound(what, Tensors.toArray(java, expected), Tensors.toArray(cl, actual), terms, magnitude);
    }

    static void assertWithinBound(String what, float[] expected, float[] actual, int terms, float[] magnitude) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double bound = 2.0 * terms * 0x1p-24 * magnitude[i];
            if (Float.compare(expected[i], actual[i]) != 0 && !(Math.abs((double) expected[i] - actual[i]) <= bound)) {
                fail(what + ": element " + i + " expected " + expected[i] + " got " + actual[i] + ", beyond the bound "
                        + bound + " = 2K * 2^-24 * sum|a_i b_i| with K = " + terms + " (the device fuses multiply-adds)");
            }
        }
    }

    /** |a| * |b| + |c| elementwise: sum|a_i b_i| of a two-term a*b + c. */
    static float[] magnitude(float[] a, float b, float[] c) {
        float[] m = new float[a.length];
        for (int i = 0; i < m.length; i++) m[i] = Math.abs(a[i] * b) + (c == null ? 0 : Math.abs(c[i]));
        return m;
    }

    static float[] constant(int n, float value) {
        float[] v = new float[n];
        Arrays.fill(v, value);
        return v;
    }

    /** Runs the same operation on both backends. */
    static void both(Backend cl, Consumer<Backend> op) {
        op.accept(java);
        op.accept(cl);
    }
}
