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
 * The seed's two convolutions at batch 32, forward and backward. Scores are ops/ns = GFLOP/s
 * (2 flops per multiply-add of the layer, 22.6 MFLOP for conv1 and 15.4 MFLOP for conv2 per call
 * and per direction). "Weights" is the backward of training (weight and bias gradients, no input
 * gradient: conv1's input is the image); "Input" is the input gradient alone, FGSM's need.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:-UseLoopPredicate"})
public class ConvBench {
    static final int BATCH = 32;
    /** 2 * N * K * OH * OW * C * R * S */
    static final int CONV1_FLOPS = 2 * BATCH * 6 * 28 * 28 * 3 * 5 * 5, CONV2_FLOPS = 2 * BATCH * 16 * 10 * 10 * 6 * 5 * 5;

    @Param({"java"}) public String backend;

    Backend be;
    Tensor x1, w1, b1, y1, dy1, dx1, dw1, db1;
    Tensor x2, w2, b2, y2, dy2, dx2, dw2, db2;

    @Setup public void setup() {
        be = KernelState.backend(backend);
        x1 = KernelState.random(be, 1, 0, 1, BATCH, 3, 32, 32);
        w1 = KernelState.random(be, 2, -0.1f, 0.1f, 6, 3, 5, 5);
        b1 = KernelState.random(be, 3, -0.1f, 0.1f, 6);
        y1 = KernelState.random(be, 4, 0, 1, BATCH, 6, 28, 28);
        dy1 = KernelState.random(be, 5, -1e-3f, 1e-3f, BATCH, 6, 28, 28);
        dx1 = KernelState.random(be, 6, 0, 0, BATCH, 3, 32, 32);
        dw1 = KernelState.random(be, 7, 0, 0, 6, 3, 5, 5);
        db1 = KernelState.random(be, 8, 0, 0, 6);
        x2 = KernelState.random(be, 11, 0, 1, BATCH, 6, 14, 14);
        w2 = KernelState.random(be, 12, -0.1f, 0.1f, 16, 6, 5, 5);
        b2 = KernelState.random(be, 13, -0.1f, 0.1f, 16);
        y2 = KernelState.random(be, 14, 0, 1, BATCH, 16, 10, 10);
        dy2 = KernelState.random(be, 15, -1e-3f, 1e-3f, BATCH, 16, 10, 10);
        dx2 = KernelState.random(be, 16, 0, 0, BATCH, 6, 14, 14);
        dw2 = KernelState.random(be, 17, 0, 0, 16, 6, 5, 5);
        db2 = KernelState.random(be, 18, 0, 0, 16);
    }

    @Benchmark @OperationsPerInvocation(CONV1_FLOPS)
    public void conv1Forward() { be.conv2d(x1, w1, b1, y1, 1, 0); be.synchronize(); }

    @Benchmark @OperationsPerInvocation(CONV1_FLOPS)
    public void conv1BackwardWeights() { be.conv2dBackward(x1, w1, dy1, null, dw1, db1, 1, 0); be.synchronize(); }

    @Benchmark @OperationsPerInvocation(CONV1_FLOPS)
    public void conv1BackwardInput() { be.conv2dBackward(x1, w1, dy1, dx1, null, null, 1, 0); be.synchronize(); }

    @Benchmark @OperationsPerInvocation(CONV2_FLOPS)
    public void conv2Forward() { be.conv2d(x2, w2, b2, y2, 1, 0); be.synchronize(); }

    @Benchmark @OperationsPerInvocation(CONV2_FLOPS)
    public void conv2BackwardWeights() { be.conv2dBackward(x2, w2, dy2, null, dw2, db2, 1, 0); be.synchronize(); }

    @Benchmark @OperationsPerInvocation(CONV2_FLOPS)
    public void conv2BackwardInput() { be.conv2dBackward(x2, w2, dy2, dx2, null, null, 1, 0); be.synchronize(); }

    /** conv2's backward in a training step: input, weight and bias gradients (two layers' worth of flops). */
    @Benchmark @OperationsPerInvocation(2 * CONV2_FLOPS)
    public void conv2BackwardAll() { be.conv2dBackward(x2, w2, dy2, dx2, dw2, db2, 1, 0); be.synchronize(); }

    @TearDown public void tearDown() { be.close(); }
}
