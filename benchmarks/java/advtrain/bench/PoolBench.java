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
 * The seed's two 2x2 stride-2 max poolings at batch 32 (after ReLU, so with ties at zero), forward
 * and backward. Memory-bound, no flops to speak of: scores are ops/ns = input elements per ns
 * (G elements/s); multiply by 8 (forward: read input, write a quarter) or 12 bytes (backward) for
 * the traffic.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:-UseLoopPredicate"})
public class PoolBench {
    static final int BATCH = 32, POOL1 = BATCH * 6 * 28 * 28, POOL2 = BATCH * 16 * 10 * 10;

    @Param({"java"}) public String backend;

    Backend be;
    Tensor x1, y1, dy1, dx1, x2, y2, dy2, dx2;

    @Setup public void setup() {
        be = KernelState.backend(backend);
        x1 = KernelState.random(be, 1, -1, 1, BATCH, 6, 28, 28);
        be.unary(Backend.UnaryOp.RELU, x1, x1);
        y1 = KernelState.random(be, 2, 0, 0, BATCH, 6, 14, 14);
        dy1 = KernelState.random(be, 3, -1, 1, BATCH, 6, 14, 14);
        dx1 = KernelState.random(be, 4, 0, 0, BATCH, 6, 28, 28);
        x2 = KernelState.random(be, 5, -1, 1, BATCH, 16, 10, 10);
        be.unary(Backend.UnaryOp.RELU, x2, x2);
        y2 = KernelState.random(be, 6, 0, 0, BATCH, 16, 5, 5);
        dy2 = KernelState.random(be, 7, -1, 1, BATCH, 16, 5, 5);
        dx2 = KernelState.random(be, 8, 0, 0, BATCH, 16, 10, 10);
    }

    @Benchmark @OperationsPerInvocation(POOL1) public void pool1Forward() { be.maxPool2d(x1, y1, 2, 2); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(POOL1) public void pool1Backward() { be.maxPool2dBackward(x1, dy1, dx1, 2, 2); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(POOL2) public void pool2Forward() { be.maxPool2d(x2, y2, 2, 2); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(POOL2) public void pool2Backward() { be.maxPool2dBackward(x2, dy2, dx2, 2, 2); be.synchronize(); }

    @TearDown public void tearDown() { be.close(); }
}
