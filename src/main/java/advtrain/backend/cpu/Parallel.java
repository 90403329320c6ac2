package advtrain.backend.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A parallel for-loop over [0, n) on one set of worker threads sized to the machine's cores.
 *
 * <p>Built for many short kernels in a row (a training step runs about thirty, some of 20 µs):
 * <ul>
 *   <li>The caller works too, and the workers spin for a while after each loop before they sleep,
 *       so a hand-off costs about a cache-line transfer, not a thread wake-up.</li>
 *   <li>Work is split into chunks, and each thread owns a contiguous share of them: the caller the
 *       first, worker 1 the next, and so on. A thread runs its own chunks front to back, then takes
 *       chunks from the back of the others' shares, so a core that the operating system lends to
 *       another process holds up nothing but its own chunk. Owning the same share in every loop keeps
 *       data on one core from layer to layer: the images a thread convolved are the ones it pools,
 *       then the ones whose gradients it computes, all from its own cache. (Chunks claimed in turn
 *       from one counter moved each image between the cores' caches several times a step.)</li>
 *   <li>Nothing is allocated per loop: a loop body is a reusable {@link Task} object whose fields the
 *       caller sets, not a capturing lambda.</li>
 *   <li>Loops whose work is too small to share (n * costPerItem below {@link #MIN_PARALLEL_COST}
 *       flops), loops started from inside a loop body, and loops started while another thread has
 *       the workers, run on the calling thread.</li>
 *   <li>A worker that loses its core in the middle of a chunk holds up the loop until it gets one
 *       back; such waits are counted ({@link #stats}), nothing more. (An earlier version ran the
 *       next 200 loops on the calling thread after such a wait. On this VM the waits come 2-9 times
 *       a second even with nothing else running, so whole seconds ran on one thread: training at
 *       batch 32 at 16,400-17,600 images/s instead of 22,000-26,500, inference at batch 256 at
 *       45,000-67,000 instead of 80,000-91,000. With a busy-loop process alongside, the two
 *       versions trained equally fast.)</li>
 * </ul>
 * Results do not depend on how the work was split: every kernel gives each output element to one
 * chunk, which computes it in a fixed order.
 * Threads: {@code -Dadvtrain.threads=N} (default: available processors); time an idle worker keeps
 * polling before it sleeps: {@code -Dadvtrain.spinMicros=N} (default 200; it spins for the first
 * tenth and yields its core between polls after that); the sharing threshold:
 * {@code -Dadvtrain.minParallelCost=FLOPS} (default 30,000; 150,000 and 600,000 measured slower).
 */
public final class Parallel {

    /** A loop body over chunks of an index range; subclasses keep their arguments in fields. */
    public abstract static class Task {
        /**
         * Runs items [from, to). Called concurrently for disjoint ranges. {@code worker} is in
         * [0, threads()): 0 for the calling thread, and no two threads run with the same number
         * at once within one loop, so it can index per-thread scratch buffers of the caller.
         */
        protected abstract void run(int from, int to, int worker);
    }

    /** Below this many flops (n * costPerItem) a loop runs on the calling thread. */
    public static final long MIN_PARALLEL_COST = Long.getLong("advtrain.minParallelCost", 30_000);

    private static final int THREADS = Math.max(1, Integer.getInteger("advtrain.threads",
            Runtime.getRuntime().availableProcessors()));
    /** Chunks per thread in a loop: the granularity of taking work from another thread's share. */
    private static final int CHUNKS_PER_THREAD = 4;
    private static final long SPIN_NANOS = 1000L * Integer.getInteger("advtrain.spinMicros", 200);

    // The loop being run. Written by the caller before it publishes a new job id in `shares`.
    private static Task task;
    private static int items, chunkSize, chunks;
    /**
     * Thread t's share of the chunks, at index t * PAD (a cache line or two apart, so that the
     * threads' counters do not share a line): the job id in the high 32 bits, then the next chunk
     * its owner takes (bits 16..31) and the end of the share (bits 0..15), which other threads take
     * from the back. The job id makes a claim by a thread still on an earlier job fail.
     */
    private static final AtomicLongArray shares;
    private static final int PAD = 16;
    /** Chunks of the current job not finished yet. */
    private static final AtomicInteger unfinished = new AtomicInteger();
    private static volatile int jobId;
    private static volatile Throwable failure;
    private static final AtomicBoolean busy = new AtomicBoolean();
    /** A wait for the workers this long (and longer than the caller's own share) counts as a stall. */
    private static final long STALL_NANOS = 500_000;
    /** Counters for {@link #stats}: jobs shared, stalls, nanoseconds waited. */
    private static long sharedJobs, stalls, waitNanos;
    private static final Worker[] workers = new Worker[THREADS - 1];

    static {
        shares = new AtomicLongArray(THREADS * PAD);
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    private Parallel() {}

    public static int threads() { return THREADS; }

    /**
     * Since the start: loops shared with the workers, the caller's mean wait for them at the end,
     * and stalls (waits of over 0.5 ms, longer than the caller's own share: a worker that lost its
     * core, or one woken from sleep).
     */
    public static String stats() {
        return String.format(java.util.Locale.ROOT, "%d shared loops, mean final wait %.1f us, %d stalls",
                sharedJobs, sharedJobs == 0 ? 0 : waitNanos / 1e3 / sharedJobs, stalls);
    }

    /**
     * Runs task over [0, n) split into chunks of about n / (4 * threads) items (at least 1), and
     * returns when all are done. costPerItem is a rough count of flops per item.
     */
    public static void range(int n, long costPerItem, Task body) {
        if (n <= 0) return;
        if (THREADS == 1 || n == 1 || (long) n * costPerItem < MIN_PARALLEL_COST
                || Thread.currentThread() instanceof Worker || !busy.compareAndSet(false, true)) {
            body.run(0, n, 0);
            return;
        }
        try {
            int size = Math.max(1, n / (CHUNKS_PER_THREAD * THREADS));
            task = body;
            items = n;
            chunkSize = size;
            chunks = (n + size - 1) / size;
            failure = null;
            unfinished.set(chunks);
            int id = jobId + 1;
            for (int t = THREADS - 1; t >= 0; t--) {   // publishes the fields above to any thread that claims
                long first = (long) chunks * t / THREADS, end = (long) chunks * (t + 1) / THREADS;
                shares.set(t * PAD, (long) id << 32 | first << 16 | end);
            }
            jobId = id;                    // wakes spinning workers
            for (Worker w : workers) if (w.sleeping) LockSupport.unpark(w);
            long started = System.nanoTime();
            work(id, 0);
            long worked = System.nanoTime();
            // A worker finishing its last chunk: spin, then yield, in case the operating system
            // has lent that worker's core to another process and this thread is in its way.
            for (int spins = 0; unfinished.get() != 0; spins++) {
                if (spins < 20_000) Thread.onSpinWait();
                else Thread.yield();
            }
            // With chunks claimed one at a time, waiting for the workers should take less than this
            // thread's own share; waiting longer, and long, is a stall.
            long waited = System.nanoTime() - worked;
            sharedJobs++;
            waitNanos += waited;
            if (waited > STALL_NANOS && waited > worked - started) stalls++;
            // Every share is empty now (each chunk was claimed before it finished), so a worker
            // still holding this job's id can claim nothing more; the next job's shares carry its id.
            task = null;
            Throwable t = failure;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        } finally {
            busy.set(false);
        }
    }

    /** Claims and runs chunks of job `id` until none is left: thread `worker`'s own share first, then the others'. */
    private static void work(int id, int worker) {
        for (int k = 0; k < THREADS; k++) {
            int owner = (worker + k) % THREADS;
            int chunk;
            while ((chunk = claim(id, owner, owner == worker)) >= 0) {
                int from = chunk * chunkSize, to = Math.min(items, from + chunkSize);
                try {
                    task.run(from, to, worker);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    unfinished.decrementAndGet();
                }
            }
        }
    }

    /** A chunk of job `id` from owner's share, its next one (own) or its last one (taken); -1 if none is left. */
    private static int claim(int id, int owner, boolean own) {
        while (true) {
            long c = shares.get(owner * PAD);
            int next = (int) (c >>> 16) & 0xFFFF, end = (int) c & 0xFFFF;
            if ((int) (c >>> 32) != id || next >= end) return -1;
            long claimed = own ? c + (1L << 16) : c - 1;
            if (shares.compareAndSet(owner * PAD, c, claimed)) return own ? next : end - 1;
        }
    }

    private static final class Worker extends Thread {
        final int index;
        volatile boolean sleeping;

        Worker(int index) {
            super("advtrain-cpu-" + index);
            this.index = index;
            setDaemon(true);
        }

        @Override public void run() {
            int seen = 0;
            while (true) {
                long idleSince = System.nanoTime();
                int spins = 0;
                // Idle: spin (a new loop is usually microseconds away), then yield the core to
                // any other runnable thread while still polling, then sleep until unparked.
                while (jobId == seen) {
                    if ((++spins & 255) != 0) {
                        Thread.onSpinWait();
                        continue;
                    }
                    long idle = System.nanoTime() - idleSince;
                    if (idle > SPIN_NANOS) {
                        sleeping = true;
                        if (jobId == seen) LockSupport.park(this);
                        sleeping = false;
                    } else if (idle > SPIN_NANOS / 10) {
                        Thread.yield();
                    }
                }
                seen = jobId;
                work(seen, index);
            }
        }
    }
}
