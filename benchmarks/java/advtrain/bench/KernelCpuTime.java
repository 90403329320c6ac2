package advtrain.bench;

import advtrain.backend.Backend;
import advtrain.tensor.Tensor;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * The seed's conv and linear kernels at batch 32 timed by the calling thread's CPU time: on a
 * machine shared with other work this leaves out the time spent waiting for a core, which wall
 * time (JMH) cannot. Meaningful with one thread: run with {@code -Dadvtrain.threads=1}. Prints
 * GFLOP/s per conv and linear kernel (compare with PeakFma's single-thread figure), and elements
 * per ns (Gelem/s) for the memory-bound ones.
 *
 * <pre>usage: KernelCpuTime [--backend java|java-direct|java-im2col] [--millis 1500]</pre>
 */
public final class KernelCpuTime {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
        String backendName = "java";
        long millis = 1500;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backendName = args[++i];
                case "--millis" -> millis = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Backend be = KernelState.backend(backendName);
        ConvBench c = new ConvBench();
        c.backend = backendName;
        c.setup();
        PoolBench p = new PoolBench();
        p.backend = backendName;
        p.setup();
        ElementwiseBench e = new ElementwiseBench();
        e.backend = backendName;
        e.setup();
        LinearBench l = new LinearBench();
        l.backend = backendName;
        l.setup();
        System.out.printf(Locale.ROOT, "backend %s (%s); load average %s%n", backendName, be.deviceName(), LoadAverage.now());
        time("conv1 forward", ConvBench.CONV1_FLOPS, millis, c::conv1Forward);
        time("conv1 backward weights+bias", ConvBench.CONV1_FLOPS, millis, c::conv1BackwardWeights);
        time("conv1 backward input", ConvBench.CONV1_FLOPS, millis, c::conv1BackwardInput);
        time("conv2 forward", ConvBench.CONV2_FLOPS, millis, c::conv2Forward);
        time("conv2 backward weights+bias", ConvBench.CONV2_FLOPS, millis, c::conv2BackwardWeights);
        time("conv2 backward input", ConvBench.CONV2_FLOPS, millis, c::conv2BackwardInput);
        time("fc1 forward", LinearBench.FC1_FLOPS, millis, l::fc1Forward);
        time("fc1 backward input", LinearBench.FC1_FLOPS, millis, l::fc1BackwardInput);
        time("fc1 backward weights+bias", LinearBench.FC1_FLOPS, millis, l::fc1BackwardWeights);
        time("fc2 forward", LinearBench.FC2_FLOPS, millis, l::fc2Forward);
        time("fc2 backward input", LinearBench.FC2_FLOPS, millis, l::fc2BackwardInput);
        time("fc2 backward weights+bias", LinearBench.FC2_FLOPS, millis, l::fc2BackwardWeights);
        time("fc3 forward", LinearBench.FC3_FLOPS, millis, l::fc3Forward);
        time("fc3 backward input", LinearBench.FC3_FLOPS, millis, l::fc3BackwardInput);
        time("fc3 backward weights+bias", LinearBench.FC3_FLOPS, millis, l::fc3BackwardWeights);
        time("pool1 forward", PoolBench.POOL1, millis, p::pool1Forward, "Gelem/s");
        time("pool1 backward", PoolBench.POOL1, millis, p::pool1Backward, "Gelem/s");
        time("pool2 forward", PoolBench.POOL2, millis, p::pool2Forward, "Gelem/s");
        time("pool2 backward", PoolBench.POOL2, millis, p::pool2Backward, "Gelem/s");
        time("relu forward (conv1 out)", ElementwiseBench.CONV1_OUT, millis, e::reluForward, "Gelem/s");
        time("relu backward (conv1 out)", ElementwiseBench.CONV1_OUT, millis, e::reluBackward, "Gelem/s");
        time("fill zero (conv1 out)", ElementwiseBench.CONV1_OUT, millis, e::fillZero, "Gelem/s");
        time("normalize (affine)", ElementwiseBench.IMAGES, millis, e::normalize, "Gelem/s");
        time("sgd step (all parameters)", ElementwiseBench.PARAMETERS, millis, e::sgdStep, "Gelem/s");
    }

    static void time(String name, long flops, long millis, Runnable kernel) { time(name, flops, millis, kernel, "GFLOP/s"); }

    /** Runs the kernel for `millis` of CPU time to warm up, then again to measure; prints per call and work / ns. */
    static void time(String name, long work, long millis, Runnable kernel, String unit) {
        for (int round = 0; round < 2; round++) {   // the first round warms up
            long calls = 0, start = THREADS.getCurrentThreadCpuTime(), end;
            do {
                for (int i = 0; i < 10; i++) kernel.run();
                calls += 10;
                end = THREADS.getCurrentThreadCpuTime();
            } while (end - start < millis * 1_000_000L);
            if (round == 1) {
                double ns = (double) (end - start) / calls;
                System.out.printf(Locale.ROOT, "%-30s %9.1f us/call %7.1f %s%n", name, ns / 1e3, work / ns, unit);
            }
        }
    }
}
