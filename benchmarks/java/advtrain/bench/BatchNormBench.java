package advtrain.bench;

import advtrain.backend.Backend;
import advtrain.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Batch normalisation in training mode at the three ResNet-20 stages at batch 128 ([128, 16, 32, 32],
 * [128, 32, 16, 16], [128, 64, 8, 8]): forward with the batch's statistics, and backward into the
 * input, gamma and beta. Memory-bound: scores are ops/ns = elements of x per ns (G elements/s).
 * A ResNet-20 training step runs 19 of them forward and backward: 7 at the first shape (bn1 and
 * the first stage's 6), 6 at each of the others. benchmarks/batchnorm_vs_pytorch.py times
 * torch.nn.functional.batch_norm at the same shapes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:-UseLoopPredicate"})
public class BatchNormBench {
    static final int BATCH = 128, STAGE1 = BATCH * 16 * 32 * 32, STAGE2 = BATCH * 32 * 16 * 16, STAGE3 = BATCH * 64 * 8 * 8;

    @Param({"java"}) public String backend;

    Backend be;
    final Stage[] stages = new Stage[3];

    /** One shape's tensors: x, out, dy, dx [N, C, H, W]; gamma, beta, mean, var and their gradients [C]. */
    static final class Stage {
        final Tensor x, out, dy, dx, gamma, beta, mean, var, gammaGrad, betaGrad;

        Stage(Backend be, int channels, int size) {
            x = KernelState.random(be, 1, -1, 2, BATCH, channels, size, size);
            out = KernelState.random(be, 2, 0, 0, BATCH, channels, size, size);
            dy = KernelState.random(be, 3, -1, 1, BATCH, channels, size, size);
            dx = KernelState.random(be, 4, 0, 0, BATCH, channels, size, size);
            gamma = KernelState.random(be, 5, 0.5f, 1.5f, channels);
            beta = KernelState.random(be, 6, -0.5f, 0.5f, channels);
            mean = KernelState.random(be, 7, 0, 0, channels);
            var = KernelState.random(be, 8, 1, 1, channels);
            gammaGrad = KernelState.random(be, 9, 0, 0, channels);
            betaGrad = KernelState.random(be, 10, 0, 0, channels);
        }

        void forward(Backend be) { be.batchNorm(x, gamma, beta, mean, var, 1e-5f, true, out); }

        void backward(Backend be) { be.batchNormBackward(x, gamma, mean, var, 1e-5f, true, dy, dx, gammaGrad, betaGrad); }
    }

    @Setup public void setup() {
        be = KernelState.backend(backend);
        stages[0] = new Stage(be, 16, 32);
        stages[1] = new Stage(be, 32, 16);
        stages[2] = new Stage(be, 64, 8);
        for (Stage s : stages) s.forward(be);  // the statistics the backward benchmarks use
    }

    @Benchmark @OperationsPerInvocation(STAGE1) public void stage1Forward() { stages[0].forward(be); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(STAGE1) public void stage1Backward() { stages[0].backward(be); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(STAGE2) public void stage2Forward() { stages[1].forward(be); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(STAGE2) public void stage2Backward() { stages[1].backward(be); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(STAGE3) public void stage3Forward() { stages[2].forward(be); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(STAGE3) public void stage3Backward() { stages[2].backward(be); be.synchronize(); }

    @TearDown public void tearDown() { be.close(); }
}
