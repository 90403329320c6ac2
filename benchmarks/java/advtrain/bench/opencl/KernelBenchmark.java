package advtrain.bench.opencl;

import advtrain.backend.Backend;
import advtrain.backend.ConvGeometry;
import advtrain.backend.cpu.CpuBackend;
import advtrain.backend.opencl.OpenCl;
import advtrain.backend.opencl.OpenClBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The kernels that carry the training time, on the OpenCL device (tiled and plain kernels) and on
 * the Java backend for comparison: convolution forward, backward to the input, backward to the
 * weights (and bias), and the matrix products of a linear layer. Each kernel is timed alone
 * (launch and wait for the device) and with its transfers (the inputs written from the host first,
 * the output read back after), the way a one-off call from the host would pay for it.
 * {@link Report} runs them all and prints GFLOP/s.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:-UseLoopPredicate"})
public class KernelBenchmark {

    /** Backends under test: OpenCL with its tiled, rows or plain kernels, or Java. */
    static Backend backend(String name) {
        return switch (name) {
            case "opencl-tiled" -> new OpenClBackend(OpenCl.device(deviceIndex()), OpenClBackend.Kernels.TILED);
            case "opencl-rows" -> new OpenClBackend(OpenCl.device(deviceIndex()), OpenClBackend.Kernels.ROWS);
            case "opencl-plain" -> new OpenClBackend(OpenCl.device(deviceIndex()), OpenClBackend.Kernels.PLAIN);
            case "java" -> new CpuBackend();
            default -> throw new IllegalArgumentException(name);
        };
    }

    static Integer deviceIndex() {
        String d = System.getenv("ADVTRAIN_DEVICE");
        return d == null || d.isBlank() ? null : Integer.valueOf(d.trim());
    }

    static Tensor random(Backend backend, SplittableRandom random, Shape shape) {
        float[] values = new float[shape.size()];
        for (int i = 0; i < values.length; i++) values[i] = (float) (random.nextDouble() * 2 - 1);
        Tensor t = backend.allocate(shape);
        backend.write(t, values, 0);
        return t;
    }

    /** The seed network's two convolutions at batch 32, and a wider one (64 to 64 channels, 3x3, padding 1). */
    @State(Scope.Benchmark)
    public static class Conv {
        @Param({"conv1", "conv2", "conv64"}) public String layer;
        @Param({"opencl-tiled", "opencl-rows", "opencl-plain", "java"}) public String backend;

        Backend be;
        Tensor input, weight, bias, output, inputGrad, weightGrad, biasGrad;
        float[] hostInput, hostOutput;
        int padding;

        @Setup(Level.Trial) public void setUp() {
            be = backend(backend);
            int[] s = shape(layer);  // batch, inChannels, size, outChannels, kernel, padding
            padding = s[5];
            SplittableRandom random = new SplittableRandom(1);
            input = random(be, random, Shape.of(s[0], s[1], s[2], s[2]));
            weight = random(be, random, Shape.of(s[3], s[1], s[4], s[4]));
            bias = random(be, random, Shape.of(s[3]));
            output = be.allocate(ConvGeometry.outputShape("bench", input.shape(), weight.shape(), 1, padding));
            inputGrad = be.allocate(input.shape());
            weightGrad = be.allocate(weight.shape());
            biasGrad = be.allocate(bias.shape());
            hostInput = be.toArray(input);
            hostOutput = new float[output.size()];
            be.synchronize();
        }

        static int[] shape(String layer) {
            return switch (layer) {
                case "conv1" -> new int[] {32, 3, 32, 6, 5, 0};
                case "conv2" -> new int[] {32, 6, 14, 16, 5, 0};
                case "conv64" -> new int[] {32, 64, 16, 64, 3, 1};
                default -> throw new IllegalArgumentException(layer);
            };
        }

        /** Multiply-adds times two of one convolution (forward, or either backward). */
        public static double flops(String layer) {
            int[] s = shape(layer);
            int out = s[2] + 2 * s[5] - s[4] + 1;
            return 2.0 * s[0] * s[3] * out * out * s[1] * s[4] * s[4];
        }

        @TearDown(Level.Trial) public void tearDown() { be.close(); }
    }

    @Benchmark public void convForward(Conv c) {
        c.be.conv2d(c.input, c.weight, c.bias, c.output, 1, c.padding);
        c.be.synchronize();
    }

    @Benchmark public void convBackwardInput(Conv c) {
        c.be.conv2dBackward(c.input, c.weight, c.output, c.inputGrad, null, null, 1, c.padding);
        c.be.synchronize();
    }

    @Benchmark public void convBackwardWeight(Conv c) {
        c.be.conv2dBackward(c.input, c.weight, c.output, null, c.weightGrad, c.biasGrad, 1, c.padding);
        c.be.synchronize();
    }

    @Benchmark public void convForwardWithTransfers(Conv c) {
        c.be.write(c.input, c.hostInput, 0);
        c.be.conv2d(c.input, c.weight, c.bias, c.output, 1, c.padding);
        c.be.read(c.output, c.hostOutput, 0);
    }

    /** Linear layers: the seed's fc1 at batch 32, and a square 512 product that shows the kernel's peak. */
    @State(Scope.Benchmark)
    public static class Gemm {
        @Param({"fc1", "square512"}) public String layer;
        @Param({"opencl-tiled", "opencl-rows", "opencl-plain", "java"}) public String backend;

        Backend be;
        Tensor input, weight, bias, output, inputGrad, weightGrad;
        float[] hostInput, hostOutput;

        @Setup(Level.Trial) public void setUp() {
            be = backend(backend);
            int[] s = shape(layer);  // batch, in, out
            SplittableRandom random = new SplittableRandom(2);
            input = random(be, random, Shape.of(s[0], s[1]));
            weight = random(be, random, Shape.of(s[2], s[1]));
            bias = random(be, random, Shape.of(s[2]));
            output = be.allocate(Shape.of(s[0], s[2]));
            inputGrad = be.allocate(input.shape());
            weightGrad = be.allocate(weight.shape());
            hostInput = be.toArray(input);
            hostOutput = new float[output.size()];
            be.synchronize();
        }

        static int[] shape(String layer) {
            return switch (layer) {
                case "fc1" -> new int[] {32, 400, 120};
                case "square512" -> new int[] {512, 512, 512};
                default -> throw new IllegalArgumentException(layer);
            };
        }

        public static double flops(String layer) {
            int[] s = shape(layer);
            return 2.0 * s[0] * s[1] * s[2];
        }

        @TearDown(Level.Trial) public void tearDown() { be.close(); }
    }

    @Benchmark public void gemmForward(Gemm g) {
        g.be.linear(g.input, g.weight, g.bias, g.output);
        g.be.synchronize();
    }

    @Benchmark public void gemmBackwardInput(Gemm g) {
        g.be.linearBackward(g.input, g.weight, g.output, g.inputGrad, null, null);
        g.be.synchronize();
    }

    @Benchmark public void gemmBackwardWeight(Gemm g) {
        g.be.linearBackward(g.input, g.weight, g.output, null, g.weightGrad, null);
        g.be.synchronize();
    }

    @Benchmark public void gemmForwardWithTransfers(Gemm g) {
        g.be.write(g.input, g.hostInput, 0);
        g.be.linear(g.input, g.weight, g.bias, g.output);
        g.be.read(g.output, g.hostOutput, 0);
    }
}
