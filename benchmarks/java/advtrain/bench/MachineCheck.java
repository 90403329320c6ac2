package advtrain.bench;

import java.util.Locale;

/**
 * What the machine gives right now: the FMA rate of N threads at once for about a second, on
 * {@link PeakFma}'s register-only loop (no memory, no advtrain code). On a shared virtual machine
 * the host sometimes gives two vCPUs one core's worth for seconds or minutes (on 2026-11-30: rounds
 * of 117 and 145 GFLOP/s among rounds of 208-224 on two threads), and every engine measured then is
 * slow. The side by side prints this line before each engine's round, so that a slow round can be
 * told from a slow engine.
 *
 * <pre>usage: MachineCheck [threads, default 2] [seconds, default 1]</pre>
 */
public final class MachineCheck {
    private MachineCheck() {}

    public static void main(String[] args) throws InterruptedException {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
        long warmUntil = System.nanoTime() + 300_000_000L;   // C2 compiles the loop
        while (System.nanoTime() < warmUntil) PeakFma.chains512(1.0000001f, 0.9999999f);

        long[] calls = new long[threads];
        float[] sink = new float[threads];   // the loop's results, kept so that the JIT cannot drop it
        Thread[] workers = new Thread[threads];
        long start = System.nanoTime(), deadline = start + (long) (seconds * 1e9);
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> {
                while (System.nanoTime() < deadline) {
                    sink[id] += PeakFma.chains512(1.0000001f, 0.9999999f);
                    calls[id]++;
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) w.join();
        double elapsed = (System.nanoTime() - start) / 1e9, flops = 0;
        for (long c : calls) flops += (double) c * PeakFma.ITERATIONS * PeakFma.CHAINS * PeakFma.S512.length() * 2;
        System.out.printf(Locale.ROOT, "machine check: %d threads, %.0f GFLOP/s (512-bit FMA loop, %.1f s)%n",
                threads, flops / elapsed / 1e9, elapsed);
    }
}
