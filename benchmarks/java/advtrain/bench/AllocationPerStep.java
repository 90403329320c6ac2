package advtrain.bench;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Bytes a steady-state training step allocates, counted exactly: the JVM's per-thread allocation
 * counters of every thread (the caller and the backend's workers), read before and after rounds of
 * steps, with nothing else running in the JVM. JMH's gc profiler counts its own per-iteration
 * bookkeeping too (a few kilobytes per iteration, spread over the iteration's steps); this does not.
 * The first rounds include the JIT's warm-up (the Vector API allocates until C2 compiles a loop).
 *
 * <pre>usage: AllocationPerStep [--backend java|opencl] [--arch lenet|resnet20|...] [--weight-decay 0] [--batch 32]
 *                          [--objective plain|goodfellow] [--rounds 12] [--steps 2000]</pre>
 */
public final class AllocationPerStep {
    public static void main(String[] args) {
        int batch = 32, rounds = 12, steps = 2000;
        String objectiveName = "plain", backendName = "java", arch = "lenet";
        float weightDecay = 0f;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--objective" -> objectiveName = args[++i];
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--backend" -> backendName = args[++i];
                case "--arch" -> arch = args[++i];
                case "--weight-decay" -> weightDecay = Float.parseFloat(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        // The step is TrainStepBench's (the JMH benchmark of the same step), run here without JMH.
        TrainStepBench bench = new TrainStepBench();
        bench.batch = batch;
        bench.backend = backendName;
        bench.arch = arch;
        bench.weightDecay = weightDecay;
        bench.setup();
        Runnable step = switch (objectiveName) {
            case "plain" -> bench::trainStep;
            case "goodfellow" -> bench::goodfellowStep;
            default -> throw new IllegalArgumentException("--objective plain or goodfellow, not " + objectiveName);
        };
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        System.out.printf(Locale.ROOT, "%s backend, %s, batch %d, %s objective, weight decay %s, %d steps a round%n",
                bench.be.name(), arch, batch, objectiveName, weightDecay, steps);
        for (int round = 0; round < rounds; round++) {
            long[] ids = threads.getAllThreadIds();
            long before = allocated(threads, ids);
            for (int s = 0; s < steps; s++) step.run();
            System.out.printf(Locale.ROOT, "round %2d: %12.1f bytes/step%n", round, (allocated(threads, ids) - before) / (double) steps);
        }
        bench.tearDown();
    }

    /** Bytes allocated so far by these threads (a thread that has ended counts as 0 both times). */
    private static long allocated(com.sun.management.ThreadMXBean threads, long[] ids) {
        long sum = 0;
        for (long bytes : threads.getThreadAllocatedBytes(ids)) sum += Math.max(0, bytes);
        return sum;
    }
}
