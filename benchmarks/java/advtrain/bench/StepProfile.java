package advtrain.bench;

import advtrain.backend.Backend;

import java.util.Locale;

/**
 * Where a step's time goes: runs a workload of {@link SideBySide} (default: the training step at
 * batch 32) through a {@link TimedBackend} and prints the time per kernel (and per layer for conv,
 * pool and linear), per step, as microseconds and as a share of the step. The step itself is also
 * timed without the per-call timers; "outside kernels" is the difference: autograd bookkeeping,
 * thread hand-offs.
 *
 * <p>On a machine shared with other work, {@code --cpu-time} with {@code -Dadvtrain.threads=1} times
 * each kernel by the thread's CPU time, which leaves out the time the thread waited for a core.
 *
 * <p>{@code --bytes} counts, instead of time, the bytes the calling thread allocates in each kernel
 * and outside them: with {@code -Dadvtrain.threads=1}, where a steady-state step's allocation
 * comes from (AllocationPerStep only says how much).
 *
 * <pre>usage: StepProfile [--backend java] [--workload train-b32] [--steps 400] [--cpu-time | --bytes]</pre>
 */
public final class StepProfile {
    public static void main(String[] args) {
        String backendName = "java", workload = "train-b32";
        int steps = 400;
        TimedBackend.Measure measure = TimedBackend.Measure.WALL;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backendName = args[++i];
                case "--workload" -> workload = args[++i];
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--cpu-time" -> measure = TimedBackend.Measure.CPU;
                case "--bytes" -> measure = TimedBackend.Measure.BYTES;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Backend plain = KernelState.backend(backendName);
        TimedBackend timed = new TimedBackend(plain, measure);
        SideBySide.Workload w = SideBySide.WORKLOADS.get(workload);
        if (w == null) throw new IllegalArgumentException("no workload " + workload + "; have " + SideBySide.WORKLOADS.keySet());
        int batch = w.images();
        double untimed = stepMicros(plain, w, steps, TimedBackend.Measure.WALL);
        double withTimers = stepMicros(timed, w, steps, measure);  // warms up, then resets and measures
        boolean bytes = measure == TimedBackend.Measure.BYTES;
        String unit = bytes ? "B/step" : "us/step";
        System.out.printf(Locale.ROOT, "backend %s (%s), %s, %d steps; load average %s%n", backendName,
                plain.deviceName(), workload, steps, LoadAverage.now());
        System.out.printf(Locale.ROOT, "step: %.1f us wall (%.0f images/s); with per-kernel timers: %.1f us %s%n",
                untimed, batch * 1e6 / untimed, withTimers,
                measure == TimedBackend.Measure.CPU ? "of CPU time" : bytes ? "(bytes allocated per step, not us)" : "wall");
        System.out.printf(Locale.ROOT, "%-44s %8s %10s %7s%n", "kernel", "calls", unit, "share");
        double total = 0;
        for (TimedBackend.Op op : TimedBackend.Op.values()) {
            int i = op.ordinal();
            if (timed.calls[i] == 0) continue;
            double us = timed.nanos[i] / (bytes ? 1.0 : 1e3) / steps;
            total += us;
            System.out.printf(Locale.ROOT, "%-44s %8.1f %10.1f %6.1f%%%n", op.name().toLowerCase(Locale.ROOT),
                    (double) timed.calls[i] / steps, us, share(us, withTimers));
        }
        System.out.printf(Locale.ROOT, "%-44s %8s %10.1f %6.1f%%%n", "outside kernels (autograd, hand-offs)", "",
                withTimers - total, share(withTimers - total, withTimers));
        if (plain instanceof advtrain.backend.cpu.CpuBackend) System.out.println("thread pool: " + advtrain.backend.cpu.Parallel.stats());
        System.out.println("by layer:");
        printLayers(timed, steps, bytes, withTimers);
    }

    /**
     * The conv, pool and linear calls by layer: calls, microseconds (bytes, if `bytes`) per step,
     * and the share of `perStep`.
     */
    static void printLayers(TimedBackend timed, int steps, boolean bytes, double perStep) {
        for (int i = 0; i < timed.layerKeys.size(); i++) {
            long[] t = timed.layerTimes.get(i);
            if (t[1] == 0) continue;
            double us = t[0] / (bytes ? 1.0 : 1e3) / steps;
            System.out.printf(Locale.ROOT, "  %-42s %8.1f %10.1f %6.1f%%%n", timed.layerKeys.get(i).toLowerCase(Locale.ROOT),
                    (double) t[1] / steps, us, share(us, perStep));
        }
    }

    /** Percent of total; 0 when the total is (a step that allocates nothing). */
    private static double share(double part, double total) { return total == 0 ? 0 : 100 * part / total; }

    /** Mean microseconds (or bytes allocated, for BYTES) per step over `steps` steps, after as many warm-up steps. */
    static double stepMicros(Backend be, SideBySide.Workload workload, int steps, TimedBackend.Measure measure) {
        Runnable step = workload.setup().apply(be);
        for (int round = 0; round < 2; round++) {
            if (be instanceof TimedBackend t) t.reset();
            long t0 = TimedBackend.count(measure);
            for (int s = 0; s < steps; s++) step.run();
            be.synchronize();
            long t1 = TimedBackend.count(measure);
            if (round == 1) return (t1 - t0) / (measure == TimedBackend.Measure.BYTES ? 1.0 : 1e3) / steps;
        }
        throw new AssertionError();
    }

}
