package advtrain.bench;

import advtrain.backend.Backend;
import advtrain.backend.select.Backends;
import advtrain.backend.opencl.OpenCl;
import advtrain.backend.opencl.OpenClBackend;
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
}
