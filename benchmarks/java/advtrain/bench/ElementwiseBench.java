package advtrain.bench;

import advtrain.backend.Tensors;
import advtrain.backend.Backend;
import advtrain.backend.Backend.UnaryOp;
import advtrain.backend.OptimizerKernels;
import advtrain.nn.Net;
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

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The remaining kernels of a training step at the seed's sizes, batch 32: ReLU forward and
 * backward on conv1's output (the largest), the input normalisation (affine), gradient zeroing
 * (fill), log-softmax with NLL forward and backward, and the SGD step over all 62,006 parameters.
 * Memory-bound: scores are ops/ns = elements per ns (G elements/s).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:-UseLoopPredicate"})
public class ElementwiseBench {
    static final int BATCH = 32, CONV1_OUT = BATCH * 6 * 28 * 28, IMAGES = BATCH * 3 * 32 * 32, LOGITS = BATCH * 10;
    static final int PARAMETERS = 62_006;

    @Param({"java"}) public String backend;

    Backend be;
    Tensor x, y, dy, dx, images, normalized, logits, logProbs, labels, losses, dLosses, dLogProbs, dLogits;
    List<Tensor[]> sgd;   // per parameter: value, gradient, velocity

    @Setup public void setup() {
        be = KernelState.backend(backend);
        x = KernelState.random(be, 1, -1, 1, BATCH, 6, 28, 28);
        y = KernelState.random(be, 2, 0, 0, BATCH, 6, 28, 28);
        be.unary(UnaryOp.RELU, x, y);
        dy = KernelState.random(be, 3, -1, 1, BATCH, 6, 28, 28);
        dx = KernelState.random(be, 4, 0, 0, BATCH, 6, 28, 28);
        images = KernelState.random(be, 5, 0, 1, BATCH, 3, 32, 32);
        normalized = KernelState.random(be, 6, 0, 0, BATCH, 3, 32, 32);
        logits = KernelState.random(be, 7, -5, 5, BATCH, 10);
        logProbs = KernelState.random(be, 8, 0, 0, BATCH, 10);
        be.logSoftmax(logits, logProbs);
        float[] l = new float[BATCH];
        for (int i = 0; i < BATCH; i++) l[i] = i % 10;
        labels = Tensors.fromArray(be, l, BATCH);
        losses = KernelState.random(be, 9, 0, 0, BATCH);
        dLosses = KernelState.random(be, 10, 1f / BATCH, 1f / BATCH, BATCH);
        dLogProbs = KernelState.random(be, 11, 0, 0, BATCH, 10);
        dLogits = KernelState.random(be, 12, 0, 0, BATCH, 10);
        sgd = new java.util.ArrayList<>();
        long seed = 20;
        for (var p : new Net(be, 1).parameters()) {
            int[] dims = p.shape().dims();
            sgd.add(new Tensor[] {p.data(), KernelState.random(be, seed++, -1e-3f, 1e-3f, dims), KernelState.random(be, seed++, 0, 0, dims)});
        }
    }

    @Benchmark @OperationsPerInvocation(CONV1_OUT) public void reluForward() { be.unary(UnaryOp.RELU, x, y); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(CONV1_OUT) public void reluBackward() { be.reluBackward(y, dy, dx); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(CONV1_OUT) public void fillZero() { be.fill(dx, 0f); be.synchronize(); }
    @Benchmark @OperationsPerInvocation(IMAGES) public void normalize() { be.affine(images, 2f, -1f, normalized); be.synchronize(); }

    @Benchmark @OperationsPerInvocation(LOGITS)
    public void logSoftmaxNllForward() { be.logSoftmax(logits, logProbs); be.nllLoss(logProbs, labels, losses); be.synchronize(); }

    @Benchmark @OperationsPerInvocation(LOGITS)
    public void logSoftmaxNllBackward() {
        be.fill(dLogProbs, 0f);
        be.nllLossBackward(labels, dLosses, dLogProbs);
        be.logSoftmaxBackward(logProbs, dLogProbs, dLogits);
        be.synchronize();
    }

    @Benchmark @OperationsPerInvocation(PARAMETERS)
    public void sgdStep() {
        OptimizerKernels fused = (OptimizerKernels) be;   // the java and opencl backends have it
        for (Tensor[] p : sgd) fused.sgdStep(p[0], p[1], p[2], 1e-6f, 0.9f, 0f);
        be.synchronize();
    }

    @TearDown public void tearDown() { be.close(); }
}
