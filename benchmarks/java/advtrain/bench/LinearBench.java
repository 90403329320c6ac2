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
 * The seed's three linear layers at batch 32, forward and backward. Scores are ops/ns = GFLOP/s
 * (2 * batch * in * out flops per call and per direction). "Input" computes the input gradient
 * alone; "Weights" the weight and bias gradients, as in training.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:-UseLoopPredicate"})
public class LinearBench {
    static final int BATCH = 32;
    static final int FC1_FLOPS = 2 * BATCH * 400 * 120, FC2_FLOPS = 2 * BATCH * 120 * 84, FC3_FLOPS = 2 * BATCH * 84 * 10;

    @Param({"java"}) public String backend;

    Backend be;
    /** Per layer: input, weight, bias, output, output gradient, input gradient, weight gradient, bias gradient. */
    Tensor[] fc1, fc2, fc3;

    private Tensor[] layer(int in, int out, long seed) {
        return new Tensor[] {
            KernelState.random(be, seed, 0, 1, BATCH, in), KernelState.random(be, seed + 1, -0.1f, 0.1f, out, in),
            KernelState.random(be, seed + 2, -0.1f, 0.1f, out), KernelState.random(be, seed + 3, 0, 0, BATCH, out),
            KernelState.random(be, seed + 4, -1e-3f, 1e-3f, BATCH, out), KernelState.random(be, seed + 5, 0, 0, BATCH, in),
            KernelState.random(be, seed + 6, 0, 0, out, in), KernelState.random(be, seed + 7, 0, 0, out)};
    }

    @Setup public void setup() {
        be = KernelState.backend(backend);
        fc1 = layer(400, 120, 10);
        fc2 = layer(120, 84, 20);
        fc3 = layer(84, 10, 30);
    }

    private void forward(Tensor[] t) { be.linear(t[0], t[1], t[2], t[3]); be.synchronize(); }

    private void backwardInput(Tensor[] t) { be.linearBackward(t[0], t[1], t[4], t[5], null, null); be.synchronize(); }

    private void backwardWeights(Tensor[] t) { be.linearBackward(t[0], t[1], t[4], null, t[6], t[7]); be.synchronize(); }

    @Benchmark @OperationsPerInvocation(FC1_FLOPS) public void fc1Forward() { forward(fc1); }
    @Benchmark @OperationsPerInvocation(FC1_FLOPS) public void fc1BackwardInput() { backwardInput(fc1); }
    @Benchmark @OperationsPerInvocation(FC1_FLOPS) public void fc1BackwardWeights() { backwardWeights(fc1); }
    @Benchmark @OperationsPerInvocation(FC2_FLOPS) public void fc2Forward() { forward(fc2); }
    @Benchmark @OperationsPerInvocation(FC2_FLOPS) public void fc2BackwardInput() { backwardInput(fc2); }
    @Benchmark @OperationsPerInvocation(FC2_FLOPS) public void fc2BackwardWeights() { backwardWeights(fc2); }
    @Benchmark @OperationsPerInvocation(FC3_FLOPS) public void fc3Forward() { forward(fc3); }
    @Benchmark @OperationsPerInvocation(FC3_FLOPS) public void fc3BackwardInput() { backwardInput(fc3); }
    @Benchmark @OperationsPerInvocation(FC3_FLOPS) public void fc3BackwardWeights() { backwardWeights(fc3); }

    @TearDown public void tearDown() { be.close(); }
}
