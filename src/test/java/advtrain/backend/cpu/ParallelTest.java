package advtrain.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/** The parallel loop runs every item exactly once, job after job, whatever the workers are doing. */
class ParallelTest {
    private final long[] ranBy = new long[64];
    private volatile long job;

    /** Records which job ran each item; an item run twice in one job, or left out, fails. */
    private final Parallel.Task record = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            for (int i = from; i < to; i++) {
                if (ranBy[i] == job) throw new AssertionError("item " + i + " ran twice in job " + job);
                ranBy[i] = job;
            }
        }
    };

    @Test
    void everyItemRunsOnceAcrossManyJobsWithIdleGaps() {
        // Short jobs back to back, with pauses long enough for the workers to go to sleep in
        // between: a worker late from one job must never run a chunk of the next (it once did).
        for (long j = 1; j <= 20_000; j++) {
            job = j;
            int n = 2 + (int) (j % 37);
            Parallel.range(n, Parallel.MIN_PARALLEL_COST, record);
            for (int i = 0; i < n; i++) if (ranBy[i] != j) fail("item " + i + " of job " + j + " did not run");
            if (j % 7 == 0) LockSupport.parkNanos((j % 3) * 150_000);
        }
    }

    @Test
    void smallJobsRunOnTheCallingThreadAndExceptionsReachTheCaller() {
        Thread caller = Thread.currentThread();
        Parallel.range(3, 1, new Parallel.Task() {
            @Override protected void run(int from, int to, int worker) {
                assertSame(caller, Thread.currentThread());
                assertEquals(0, from);
                assertEquals(3, to);
            }
        });
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.range(64,
                Parallel.MIN_PARALLEL_COST, new Parallel.Task() {
                    @Override protected void run(int from, int to, int worker) {
                        if (from <= 40 && 40 < to) throw boom;
                    }
                }));
        assertSame(boom, thrown);
        job = -1;
        Parallel.range(64, Parallel.MIN_PARALLEL_COST, record);   // the pool still works after a failure
        for (int i = 0; i < 64; i++) assertEquals(-1, ranBy[i]);
    }
}
