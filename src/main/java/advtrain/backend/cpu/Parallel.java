package advtrain.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * A parallel for-loop over [0, n) on one pool sized to the machine's cores. Small ranges run on
 * the calling thread: handing a few microseconds of work to another thread costs more than it saves.
 */
public final class Parallel {
    /** The body of a loop over the index range [from, to). */
    @FunctionalInterface
    public interface RangeBody { void run(int from, int to); }

    private static final int THREADS = Integer.getInteger("advtrain.threads", Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS);

    private Parallel() {}

    public static int threads() { return THREADS; }

    /**
     * Runs body over [0, n) split into at most threads() chunks; runs inline when
     * n * costPerItem (a rough count of flops) is too small to be worth the hand-off.
     */
    public static void range(int n, long costPerItem, RangeBody body) {
        if (n <= 0) return;
        int chunks = (int) Math.min(THREADS, n);
        if (chunks == 1 || (long) n * costPerItem < 20_000 || java.util.concurrent.ForkJoinTask.getPool() == POOL) {
            body.run(0, n);
            return;
        }
        POOL.invoke(new Chunks(body, n, chunks, 0, chunks));
    }

    private static final class Chunks extends RecursiveAction {
        final RangeBody body; final int n, chunks, first, last;

        Chunks(RangeBody body, int n, int chunks, int first, int last) {
            this.body = body; this.n = n; this.chunks = chunks; this.first = first; this.last = last;
        }

        @Override protected void compute() {
            if (last - first == 1) {
                body.run((int) ((long) n * first / chunks), (int) ((long) n * last / chunks));
                return;
            }
            int mid = (first + last) >>> 1;
            invokeAll(new Chunks(body, n, chunks, first, mid), new Chunks(body, n, chunks, mid, last));
        }
    }
}
