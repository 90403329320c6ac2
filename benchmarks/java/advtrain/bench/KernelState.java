package advtrain.bench;

import advtrain.backend.Backend;
import advtrain.backend.Backends;
import advtrain.backend.cpu.CpuBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/** Helpers shared by the kernel benchmarks: the backend by name, and random tensors. */
final class KernelState {
    private KernelState() {}

    /**
     * "java" (the CPU backend, convolution algorithm chosen per layer), "java-direct" or
     * "java-im2col" (forced), or any name Backends.select takes ("opencl").
     */
    static Backend backend(String name) {
        if (name.startsWith("java-")) return CpuBackend.withConvAlgorithm(name.substring(5));
        return Backends.select(name, null).backend();
    }

    static Tensor random(Backend be, long seed, float lo, float hi, int... dims) {
        Tensor t = be.allocate(Shape.of(dims));
        be.uniform(t, lo, hi, seed);
        return t;
    }
}
