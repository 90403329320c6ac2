package advtrain.bench;

import advtrain.backend.Tensors;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.select.Backends;
import advtrain.nn.Architectures;
import advtrain.nn.Module;
import advtrain.optim.Sgd;
import advtrain.train.AdversarialObjective;
import advtrain.train.AdversarialTraining;
import advtrain.train.Objective;
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

import java.util.concurrent.TimeUnit;

/**
 * One training step of the seed's Net, as the trainer runs it: zero the gradients, forward, NLL loss
 * (mean over the batch), backward through the tape, SGD with momentum, recycle the tape's tensors.
 * {@code goodfellowStep} is the same step with the seed's Eq. 3 loss (FGSM at ε = 8/255 crafted with
 * the current weights, mix 0.5), through {@link AdversarialObjective}. Random images in [0, 1] of
 * CIFAR shape and random labels. Score: microseconds per step; images/s is batch * 1e6 / score. With
 * {@code run-jmh.sh --gc}, gc.alloc.rate.norm is the bytes a steady-state step allocates. {@code arch}
 * picks another built-in network ({@code Architectures}, e.g. resnet20) and {@code weightDecay} SGD's
 * weight decay (the seed's recipe has none).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 10, time = 1)   // 5 s left C2 compiling into the measurement (20-80 B/op allocated then)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:-UseLoopPredicate"})
public class TrainStepBench {
    @Param({"32", "4"}) public int batch;
    @Param({"java"}) public String backend;
    @Param({"lenet"}) public String arch;
    @Param({"0"}) public float weightDecay;

    Backend be;
    Module net;
    Sgd sgd;
    Tape tape;
    Tensor images, labels;
    Objective goodfellow;

    @Setup(Level.Trial) public void setup() {
        be = Backends.select(backend, null).backend();
        net = Architectures.build(arch, be, 1);
        sgd = new Sgd(be, net.parameters(), 0.001f, 0.9f, weightDecay);
        tape = new Tape(be);
        images = be.allocate(advtrain.tensor.Shape.of(batch, 3, 32, 32));
        labels = be.allocate(advtrain.tensor.Shape.of(batch));
        be.uniform(images, 0f, 1f, 7);
        be.uniform(labels, 0f, 10f, 8);
        float[] l = Tensors.toArray(be, labels);
        for (int i = 0; i < l.length; i++) l[i] = (float) Math.floor(l[i]);
        be.write(labels, l, 0);
        goodfellow = new AdversarialObjective(be, AdversarialTraining.fgsm(8f / 255f, 0.5f), 0);
    }

    @Benchmark public void trainStep() {
        net.zeroGrad(be);
        Variable loss = Ops.nllLoss(net.forward(tape.input(images, false)), tape.constant(labels));
        tape.backward(loss);
        sgd.step();
        tape.reset();
        be.synchronize();
    }

    @Benchmark public void goodfellowStep() {
        net.zeroGrad(be);
        Objective.Step step = goodfellow.loss(net, tape, tape.constant(images), tape.constant(labels));
        tape.backward(step.loss());
        sgd.step();
        tape.reset();
        be.synchronize();
    }

    @TearDown(Level.Trial) public void tearDown() {
        goodfellow.close();
        tape.close();
        be.close();
    }
}
