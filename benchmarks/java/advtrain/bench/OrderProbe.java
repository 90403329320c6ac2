package advtrain.bench;

import advtrain.backend.Backend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.backend.cpu.Parallel;

import java.util.Locale;

/**
 * Workloads of {@link SideBySide} one after another in one JVM, as the paired side by side runs
 * them, each for a few seconds with its rate printed every half second: shows what one workload
 * leaves behind for the next (compiled code, the thread pool's state), and how steady a rate is.
 * After each workload, the bytes the calling thread allocated per call (a Vector API loop that C2
 * failed to compile to plain vector code allocates its vectors), the thread pool's statistics
 * since the start; with a third field, the
 * workload's time per layer over that many more calls (TimedBackend, wall time).
 *
 * <pre>usage: OrderProbe [--backend java] NAME:SECONDS[:CALLS] ...
 * e.g.   OrderProbe infer-b256:6 train-b32:6 infer-b256:6:200</pre>
 */
public final class OrderProbe {
    public static void main(String[] args) {
        String backendName = "java";
        int first = 0;
        if (args.length >= 2 && args[0].equals("--backend")) {
            backendName = args[1];
            first = 2;
        }
        if (first == args.length) throw new IllegalArgumentException("usage: OrderProbe [--backend java] NAME:SECONDS[:CALLS] ...");
        Backend backend = KernelState.backend(backendName);
        for (int a = first; a < args.length; a++) {
            String[] part = args[a].split(":");
            SideBySide.Workload workload = SideBySide.WORKLOADS.get(part[0]);
            if (workload == null) throw new IllegalArgumentException("no workload " + part[0] + "; have " + SideBySide.WORKLOADS.keySet());
            long end = System.nanoTime() + (long) (Double.parseDouble(part[1]) * 1e9);
            Runnable step = workload.setup().apply(backend);
            StringBuilder rates = new StringBuilder();
            long allocated = TimedBackend.count(TimedBackend.Measure.BYTES), calledTotal = 0;
            while (System.nanoTime() < end) {
                long start = System.nanoTime();
                int calls = 0;
                while (System.nanoTime() - start < 500_000_000L) {
                    step.run();
                    calls++;
                }
                backend.synchronize();
                calledTotal += calls;
                rates.append(String.format(Locale.ROOT, " %.0f", workload.images() * calls / ((System.nanoTime() - start) / 1e9)));
            }
            System.out.println(part[0] + " (images/s every 0.5 s):" + rates);
            System.out.printf(Locale.ROOT, "  %.0f bytes allocated per call by this thread (warm-up included)%n",
                    (TimedBackend.count(TimedBackend.Measure.BYTES) - allocated) / (double) calledTotal);
            if (backend instanceof CpuBackend) System.out.println("  thread pool: " + Parallel.stats());
            if (part.length > 2) {
                int calls = Integer.parseInt(part[2]);
                TimedBackend timed = new TimedBackend(backend, TimedBackend.Measure.WALL);
                double perCall = StepProfile.stepMicros(timed, workload, calls, TimedBackend.Measure.WALL);
                System.out.printf(Locale.ROOT, "  by layer over %d more calls (%.1f us per call): calls, us per call, share%n", calls, perCall);
                StepProfile.printLayers(timed, calls, false, perCall);
            }
        }
    }
}
