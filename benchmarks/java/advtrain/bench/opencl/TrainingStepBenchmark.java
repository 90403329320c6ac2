package advtrain.bench.opencl;

import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
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
 * One whole training step of the seed's network at batch 32 (autograd.Tape + nn.Net + optim.Sgd:
 * zero the gradients, forward, NLL loss, backward, read the loss, SGD step), on OpenCL and on Java.
 * The batch is written to the device once per step, as a training loop does. Images per second =
 * 32 / (seconds per step).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:-UseLoopPredicate"})
@State(Scope.Benchmark)
public class TrainingStepBenchmark {
    public static final int BATCH = 32;

    @Param({"opencl-tiled", "opencl-rows", "opencl-plain", "java"}) public String backend;

    Backend be;
    Net net;
    Sgd sgd;
    Tape tape;
    Tensor images, labels;
    float[] hostImages, hostLabels;

    @Setup(Level.Trial) public void setUp() {
        be = KernelBenchmark.backend(backend);
        net = new Net(be, 1);
        sgd = new Sgd(be, net.parameters(), 0.001f, 0.9f);
        tape = new Tape(be);
        SplittableRandom random = new SplittableRandom(5);
        hostImages = new float[BATCH * 3 * 32 * 32];
        hostLabels = new float[BATCH];
        for (int i = 0; i < hostImages.length; i++) hostImages[i] = (float) random.nextDouble();
        for (int i = 0; i < BATCH; i++) hostLabels[i] = random.nextInt(10);
        images = be.allocate(Shape.of(BATCH, 3, 32, 32));
        labels = be.allocate(Shape.of(BATCH));
    }

    @Benchmark public float step() {
        be.write(images, hostImages, 0);
        be.write(labels, hostLabels, 0);
        net.zeroGrad(be);
        Variable loss = Ops.nllLoss(net.forward(tape.constant(images)), tape.constant(labels));
        tape.backward(loss);
        float value = Ops.item(loss);
        sgd.step();
        tape.reset();
        return value;
    }

    @TearDown(Level.Trial) public void tearDown() {
        tape.close();
        be.close();
    }
}
