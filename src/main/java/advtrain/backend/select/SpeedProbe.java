package advtrain.backend.select;

import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.backend.opencl.OpenCl;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Compares the Java backend and an OpenCL CPU device with a {@link StepTimer}, so that
 * {@code --backend auto} uses the OpenCL device only where it trains faster on this machine.
 *
 * <p>The Java backend's kernels run several hundred times slower until the JIT has compiled them,
 * and a probe of a dozen repetitions used to time them before that and pick a CPU OpenCL device that
 * trained half as fast. So each backend first runs the step until the JIT is quiet, for at most
 * {@value #QUICK_WARM_UP_SECONDS} s in a run (the run waits for it) and {@value #MAX_WARM_UP_SECONDS} s
 * in {@code advtrain devices}, and the outcome says how it was decided ({@link How}): warm; Java
 * faster even before its JIT was done (a cold Java figure is an upper bound); or undecided, and
 * Java by default. The outcome is cached in {@code ~/.cache/advtrain/backend-speed.properties} (or
 * under $XDG_CACHE_HOME), keyed by the device, its driver, the kernel sources, the Java backend's
 * code, the thread count and what was timed, so the choice costs one probe per machine: a run uses
 * any cached outcome, {@code devices} measures an undecided one again, for longer.
 */
public final class SpeedProbe {
    private SpeedProbe() {}

    /**
     * How a comparison was decided. The OpenCL figure is taken as it comes: its host code is small,
     * the kernels are compiled by the driver before the first step.
     */
    public enum How {
        /** Java was timed once its JIT was done: the faster of the two wins. */
        WARM("measured warm"),
        /** Java, timed before its JIT was done (an upper bound), was faster already: Java wins. */
        JAVA_FASTER_COLD("Java was faster even before its JIT was done"),
        /** Java, timed before its JIT was done, was slower: no answer, and Java by default (it trains faster than PoCL on the CPUs measured). */
        UNDECIDED("undecided: Java's JIT was still compiling, so java by default");

        private final String description;

        How(String description) { this.description = description; }

        public String description() { return description; }

        /** From a Java timing and an OpenCL one. */
        static How of(StepTimer.Timing java, StepTimer.Timing opencl) {
            if (java.warm()) return WARM;
            return java.millis() <= opencl.millis() ? JAVA_FASTER_COLD : UNDECIDED;
        }
    }

    /** Milliseconds per step on each backend, how the comparison was decided, and whether it came from the cache. */
    public record Result(double javaMillis, double openclMillis, How how, boolean cached, Path cacheFile) {
        /** OpenCL only where it beat the Java backend measured warm: a cold Java figure says nothing. */
        public boolean openclFaster() { return how == How.WARM && openclMillis < javaMillis; }
    }

    /**
     * The fallback timer: a piece of the seed network's training step (both convolutions and the
     * first linear layer, forward and backward, batch 16), repeated until the JIT has stopped
     * compiling (or {@value #MAX_WARM_UP_SECONDS} s), then timed.
     */
    public static final StepTimer KERNELS = new StepTimer() {
        @Override public String name() { return "a conv/linear forward+backward probe"; }

        @Override public Timing time(Backend backend, double maxWarmUpSeconds) { return millisPerStep(backend, maxWarmUpSeconds); }
    };

    /** The longest warm-up: {@code advtrain devices}' comparison, and the training warm-up (train.WarmUp). */
    public static final double MAX_WARM_UP_SECONDS = 20;
    /** The warm-up of each backend when a run's --backend auto has nothing cached to go by. */
    public static final double QUICK_WARM_UP_SECONDS = 2;
    /** Repetitions in a row without JIT compilation that mean the code is compiled. */
    static final int QUIET_REPS = 10;

    /**
     * The cached outcome for this device and timer, or a new measurement, which is cached. With
     * {@code thorough} (advtrain devices), an undecided outcome is measured again, with the longest warm-up.
     */
    public static Result compare(OpenCl.Device device, Supplier<Backend> java, Supplier<Backend> opencl, StepTimer timer,
                                 boolean thorough) {
        Path file = cacheFile();
        String javaDescription;
        try (Backend j = java.get()) {
            // the Java version and thread count, and the Java backend's own code: a faster build measures again
            javaDescription = j.deviceName() + "|" + packageHash(j.getClass());
        }
        String key = cacheKey(device, javaDescription + "|" + timer.name());
        Properties cache = load(file);
        String hit = cache.getProperty(key);
        if (hit != null) {
            String[] parts = hit.split(",");
            try {
                How how = parts.length > 2 ? How.valueOf(parts[2]) : How.WARM;  // entries without one were cached only when warm
                Result cached = new Result(Double.parseDouble(parts[0]), Double.parseDouble(parts[1]), how, true, file);
                if (!thorough || how != How.UNDECIDED) return cached;
            } catch (RuntimeException e) {
                // a damaged entry: measure again
            }
        }
        double warmUp = thorough ? MAX_WARM_UP_SECONDS : QUICK_WARM_UP_SECONDS;
        StepTimer.Timing javaTime, openclTime;
        try (Backend j = java.get()) {
            javaTime = timer.time(j, warmUp);
        }
        try (Backend o = opencl.get()) {
            openclTime = timer.time(o, warmUp);
        }
        How how = How.of(javaTime, openclTime);
        cache.setProperty(key, javaTime.millis() + "," + openclTime.millis() + "," + how.name());
        store(cache, file);
        return new Result(javaTime.millis(), openclTime.millis(), how, false, file);
    }

    /** {@link #KERNELS}: the median of 8 timed repetitions once the JIT is quiet (or maxWarmUpSeconds have passed). */
    static StepTimer.Timing millisPerStep(Backend backend, double maxWarmUpSeconds) {
        int batch = 16;
        SplittableRandom random = new SplittableRandom(1);
        Tensor x1 = random(backend, random, batch, 3, 32, 32), w1 = random(backend, random, 6, 3, 5, 5), b1 = random(backend, random, 6);
        Tensor y1 = backend.allocate(Shape.of(batch, 6, 28, 28));
        Tensor x2 = random(backend, random, batch, 6, 14, 14), w2 = random(backend, random, 16, 6, 5, 5), b2 = random(backend, random, 16);
        Tensor y2 = backend.allocate(Shape.of(batch, 16, 10, 10));
        Tensor x3 = random(backend, random, batch, 400), w3 = random(backend, random, 120, 400), b3 = random(backend, random, 120);
        Tensor y3 = backend.allocate(Shape.of(batch, 120));
        Tensor[] grads = {backend.allocate(x2.shape()), backend.allocate(w1.shape()), backend.allocate(b1.shape()),
                backend.allocate(w2.shape()), backend.allocate(b2.shape()), backend.allocate(x3.shape()),
                backend.allocate(w3.shape()), backend.allocate(b3.shape())};
        float[] biasGrad = new float[6];
        Runnable step = () -> {
            backend.conv2d(x1, w1, b1, y1, 1, 0);
            backend.conv2d(x2, w2, b2, y2, 1, 0);
            backend.linear(x3, w3, b3, y3);
            backend.linearBackward(x3, w3, y3, grads[5], grads[6], grads[7]);
            backend.conv2dBackward(x2, w2, y2, grads[0], grads[3], grads[4], 1, 0);
            backend.conv2dBackward(x1, w1, y1, null, grads[1], grads[2], 1, 0);
            backend.read(grads[2], biasGrad, 0);  // waits for the queue, as a training step reading its loss does
        };
        boolean warm = untilCompiled(step, maxWarmUpSeconds);
        double millis = medianMillis(step, 8);
        for (Tensor t : new Tensor[] {x1, w1, b1, y1, x2, w2, b2, y2, x3, w3, b3, y3}) backend.release(t);
        for (Tensor t : grads) backend.release(t);
        return new StepTimer.Timing(millis, warm);
    }

    /**
     * Runs step until the JIT has compiled nothing for {@value #QUIET_REPS} runs in a row (the JVM's
     * total compilation time unchanged) or maxSeconds have passed; true in the first case.
     */
    public static boolean untilCompiled(Runnable step, double maxSeconds) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            for (int i = 0; i < 200; i++) step.run();
            return false;
        }
        long start = System.nanoTime(), last = jit.getTotalCompilationTime();
        int quiet = 0;
        while ((System.nanoTime() - start) / 1e9 < maxSeconds) {
            step.run();
            long now = jit.getTotalCompilationTime();
            quiet = now == last ? quiet + 1 : 0;
            last = now;
            if (quiet >= QUIET_REPS) return true;
        }
        return false;
    }

    /** The median of n timed runs of step, in milliseconds. */
    public static double medianMillis(Runnable step, int n) {
        double[] millis = new double[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            step.run();
            millis[i] = (System.nanoTime() - t) / 1e6;
        }
        java.util.Arrays.sort(millis);
        return millis[n / 2];
    }

    private static Tensor random(Backend backend, SplittableRandom random, int... dims) {
        float[] values = new float[Shape.of(dims).size()];
        for (int i = 0; i < values.length; i++) values[i] = (float) (random.nextDouble() * 2 - 1);
        return Tensors.fromArray(backend, values, dims);
    }

    /** The cache: in $XDG_CACHE_HOME/advtrain or ~/.cache/advtrain, or in -Dadvtrain.cacheDir=DIR (tests). */
    static Path cacheFile() {
        String dir = System.getProperty("advtrain.cacheDir");
        if (dir != null && !dir.isBlank()) return Path.of(dir).resolve("backend-speed.properties");
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("advtrain").resolve("backend-speed.properties");
    }

    /** Everything that can change the answer: the device and driver, the kernels, the Java side's threads. */
    static String cacheKey(OpenCl.Device device, String javaDescription) {
        String identity = String.join("|", device.platform(), device.platformVersion(), device.name(),
                device.driverVersion(), String.valueOf(device.computeUnits()), kernelHash(), javaDescription,
                String.valueOf(SpeedProbe.class.getPackage().getImplementationVersion()));
        return identity.replaceAll("[^A-Za-z0-9._|+-]", "_");
    }

    /** A hash of the class files of this class's package, read from wherever it was loaded (a folder or a jar). */
    static String packageHash(Class<?> anchor) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            String prefix = anchor.getPackageName().replace('.', '/') + "/";
            Path source = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
            java.util.TreeMap<String, byte[]> classes = new java.util.TreeMap<>();
            if (Files.isDirectory(source)) {
                Path dir = source.resolve(prefix);
                try (var files = Files.list(dir)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        if (f.toString().endsWith(".class")) classes.put(f.getFileName().toString(), Files.readAllBytes(f));
                    }
                }
            } else {
                try (var jar = new java.util.jar.JarFile(source.toFile())) {
                    for (var entries = jar.entries(); entries.hasMoreElements(); ) {
                        var entry = entries.nextElement();
                        String name = entry.getName();
                        if (name.startsWith(prefix) && name.endsWith(".class") && name.indexOf('/', prefix.length()) < 0) {
                            try (InputStream in = jar.getInputStream(entry)) {
                                classes.put(name, in.readAllBytes());
                            }
                        }
                    }
                }
            }
            for (var e : classes.entrySet()) {
                sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update(e.getValue());
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (Exception e) {
            return "unknown";  // cannot read the code: the key still names the device and the kernels
        }
    }

    private static String kernelHash() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String source : OpenCl.kernelSources()) sha.update(source.getBytes(StandardCharsets.UTF_8));
            sha.update(SpeedProbe.class.getName().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Properties load(Path file) {
        Properties p = new Properties();
        if (Files.isRegularFile(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            } catch (IOException | IllegalArgumentException e) {
                // an unreadable cache is no cache
            }
        }
        return p;
    }

    /** Writes the cache through a temporary file and a rename; a cache that cannot be written is skipped. */
    private static void store(Properties p, Path file) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), "backend-speed", ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                p.store(out, "advtrain: milliseconds of a step, java,opencl,how it was decided, per OpenCL device and timer (delete to measure again)");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | UnsupportedOperationException e) {
            // read-only home: measure again next time
        }
    }
}
