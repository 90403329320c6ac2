package advtrain.train;

import advtrain.backend.Backend;
import advtrain.backend.select.SpeedProbe;
import advtrain.backend.select.StepTimer;
import advtrain.data.BatchLoader;
import advtrain.data.Dataset;
import advtrain.nn.Architectures;
import advtrain.nn.Module;
import advtrain.optim.Sgd;

import java.util.SplittableRandom;

/**
 * Brings the JIT compiler up to speed on the training step while the data loads, so that the first
 * epoch trains at the speed of the next ones.
 *
 * <p>Why: the Java backend's kernels use the Vector API, which runs several hundred times slower
 * than compiled until C2 has compiled each kernel (measured: 6 images/s with C2 disabled against
 * 1,000-1,800 on the same loaded machine), and C2 compiles a kernel only after it has run for a
 * while. A first epoch used to spend its first seconds waiting for that. The warm-up trains a
 * throwaway network on random images at the run's batch size, on its own thread, from the moment
 * the backend exists: while the data files are read and decompressed (seconds of work for one core
 * when the other is idle) the compiler works on the kernels. Once the JIT is done with the step (the
 * JVM's total compilation time unchanged for a few steps in a row: {@link SpeedProbe#untilCompiled})
 * or {@value #MAX_SECONDS} s have passed, it stops;
 * {@link #finish} waits for that once the data is loaded. The time the warm-up runs on after the
 * data is ready is reported, as the user waits for it; the epochs' images/s count training alone,
 * as before.
 */
public final class WarmUp {
    /** Steps timed for {@link #stepTimer}. */
    static final int TIMED_STEPS = 20;
    /** The warm-up stops after this long, compiled or not. */
    static final double MAX_SECONDS = SpeedProbe.MAX_WARM_UP_SECONDS;

    private static final int IMAGES = 4;
    private static final int RESNET_BATCH = 16;  // distinct random images, repeated to fill a batch

    private final Backend backend;
    private final int batch;
    private final String arch;
    private final Thread thread;
    private final long start = System.nanoTime();
    private volatile long readyNanos;
    private volatile int steps;
    private volatile boolean compiled;
    private volatile Throwable failure;

    /** What the warm-up did: steps, whether the JIT settled, and seconds after the data was ready. */
    public record Result(int steps, boolean compiled, double seconds, double secondsAfterData) {
        public String describe() {
            return String.format(java.util.Locale.ROOT, "JIT warm-up: %d training steps on random images in %.1f s, %.1f s of it after the "
                    + "data was loaded%s", steps, seconds, secondsAfterData, compiled ? "" : " (stopped before the compiler was done)");
        }
    }

    private WarmUp(Backend backend, int batch, String arch) {
        this.backend = backend;
        this.batch = batch;
        this.arch = arch;
        this.thread = new Thread(this::run, "advtrain-warm-up");
        thread.setDaemon(true);
    }

    /** Starts warming up the seed's network on a thread of its own; only the Java backend needs it (null otherwise). */
    public static WarmUp start(Backend backend, int batch) { return start(backend, batch, Architectures.LENET); }

    /** As above, on a throwaway network of the given architecture (the one about to be trained: its kernels get compiled). */
    public static WarmUp start(Backend backend, int batch, String arch) {
        if (!backend.name().equals("java")) return null;
        // A ResNet's step at a large batch takes tens of seconds before the JIT has compiled it (one
        // ResNet-20 step at batch 128 took 33 s on a loaded machine): warm up on small batches, so
        // the compiler sees many calls of the same kernels within the time allowed.
        int warmBatch = arch.equals(Architectures.LENET) ? batch : Math.min(batch, RESNET_BATCH);
        WarmUp w = new WarmUp(backend, warmBatch, arch);
        w.thread.start();
        return w;
    }

    /** The data is loaded: waits until the warm-up is done (compiled, or out of time) and says what it did. */
    public Result finish() {
        readyNanos = System.nanoTime();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) throw new IllegalStateException("the JIT warm-up failed: " + failure, failure);
        long end = System.nanoTime();
        return new Result(steps, compiled, (end - start) / 1e9, (end - readyNanos) / 1e9);
    }

    private void run() {
        try (Session session = new Session(backend, batch, arch)) {
            compiled = SpeedProbe.untilCompiled(() -> {
                session.step();
                steps++;
            }, MAX_SECONDS);
        } catch (Throwable t) {
            failure = t;
        }
    }

    /**
     * {@code --backend auto}'s timer: a training step of the seed's network at this batch size on
     * random images, the median of {@value #TIMED_STEPS} steps once the JIT is done with the step (or
     * the warm-up's time is up).
     */
    public static StepTimer stepTimer(int batch) {
        return new StepTimer() {
            @Override public String name() { return "a training step (batch " + batch + ")"; }

            @Override public Timing time(Backend backend, double maxWarmUpSeconds) {
                try (Session session = new Session(backend, batch, Architectures.LENET)) {
                    boolean warm = SpeedProbe.untilCompiled(session::step, maxWarmUpSeconds);
                    return new Timing(SpeedProbe.medianMillis(session::step, TIMED_STEPS), warm);
                }
            }
        };
    }

    /** A throwaway network, its optimizer and one batch of random images: one training step per call. */
    private static final class Session implements AutoCloseable {
        private final Trainer trainer;
        private final BatchLoader loader;

        Session(Backend backend, int batch, String arch) {
            Module net = Architectures.build(arch, backend, 0);
            trainer = new Trainer(backend, net, new Sgd(backend, net.parameters(), 1e-4f, 0.9f), Objective.standard());
            loader = new BatchLoader(randomImages(batch), batch, false, false, 0);
        }

        void step() { trainer.trainEpoch(loader, 0, null); }  // one batch: the loader holds exactly one

        @Override public void close() { trainer.close(); }
    }

    /** One batch of random pixels with labels 0..9: the cost of a step does not depend on the values. */
    private static Dataset randomImages(int batch) {
        SplittableRandom random = new SplittableRandom(0);
        byte[] pixels = new byte[batch * Dataset.IMAGE_BYTES], labels = new byte[batch];
        byte[] distinct = new byte[IMAGES * Dataset.IMAGE_BYTES];
        for (int i = 0; i < distinct.length; i++) distinct[i] = (byte) random.nextInt(256);
        for (int i = 0; i < batch; i++) {
            System.arraycopy(distinct, (i % IMAGES) * Dataset.IMAGE_BYTES, pixels, i * Dataset.IMAGE_BYTES, Dataset.IMAGE_BYTES);
            labels[i] = (byte) (i % 10);
        }
        return new Dataset(pixels, labels, batch);
    }
}
