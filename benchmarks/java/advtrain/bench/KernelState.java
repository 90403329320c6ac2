package advtrain.bench;

import advtrain.backend.Backend;
import advtrain.backend.select.Backends;
import advtrain.backend.opencl.OpenCl;
import advtrain.backend.opencl.OpenClBackend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/** Helpers shared by the kernel benchmarks: the backend by name, random tensors, and timing one call. */
final class KernelState {
    private KernelState() {}

    /**
     * "java" (the CPU backend, convolution algorithm chosen per layer), "java-direct" or
     * "java-im2col" (forced), or any name Backends.select takes ("opencl").
     */
    static Backend backend(String name) {
        if (name.startsWith("java-")) return CpuBackend.withConvAlgorithm(name.substring(5));
        if (name.startsWith("opencl-")) {  // opencl-tiled, opencl-rows, opencl-plain: one version of the kernels
            return new OpenClBackend(OpenCl.device(null), OpenClBackend.Kernels.valueOf(name.substring(7).toUpperCase(java.util.Locale.ROOT)));
        }
        return Backends.select(name, null).backend();
    }

    static Tensor random(Backend be, long seed, float lo, float hi, int... dims) {
        Tensor t = be.allocate(Shape.of(dims));
        be.uniform(t, lo, hi, seed);
        return t;
    }

    private static final java.lang.management.ThreadMXBean CLOCK = java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * call run reps times, each after `before` (null: nothing; untimed), in ms, sorted: [0] the best,
     * [reps / 2] the median. With cpuTime, the calling thread's CPU time, else the wall clock.
     */
    static double[] sortedMs(Runnable before, Runnable call, int reps, boolean cpuTime) {
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            if (before != null) before.run();
            long t = cpuTime ? CLOCK.getCurrentThreadCpuTime() : System.nanoTime();
            call.run();
            ms[i] = ((cpuTime ? CLOCK.getCurrentThreadCpuTime() : System.nanoTime()) - t) / 1e6;
        }
        java.util.Arrays.sort(ms);
        return ms;
    }
}
