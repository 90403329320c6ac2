package advtrain.autograd;

import advtrain.autograd.GradCheck.Argument;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import advtrain.testing.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * BatchNorm2d (training and evaluation mode, with and without gamma and beta, one layer applied
 * twice on one tape) and ChannelNormalize against central finite differences, on every backend.
 * In training mode every output depends on every input of its channel (through the batch's mean
 * and variance), so a backward that drops those terms fails here.
 */
class GradCheckNormTest {

    private static void assertAllPassed(List<GradCheck.Result> results) {
        StringBuilder failures = new StringBuilder();
        int checked = 0;
        for (GradCheck.Result r : results) {
            checked += r.checked();
            if (!r.passed()) failures.append(r.summary()).append('\n');
        }
        if (failures.length() > 0) fail(failures.toString());
        assertTrue(checked > 0, "no gradient element was checked");
    }

    /** Running statistics [C]: means in [-0.5, 0.5), variances in [0.5, 2). */
    private static Tensor[] runningStats(Backend be, SplittableRandom random, int channels) {
        HostTensor mean = TestData.uniform(random, -0.5, 0.5, channels), var = TestData.uniform(random, 0.5, 2, channels);
        return new Tensor[] {Tensors.fromArray(be, mean.values(), channels), Tensors.fromArray(be, var.values(), channels)};
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void batchNorm2d(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(31);
        List<GradCheck.Result> results = new ArrayList<>();
        // {batch, channels, height, width}
        int[][] shapes = {{2, 3, 4, 5}, {3, 5, 7, 7}, {4, 2, 1, 1}};
        for (int[] s : shapes) {
            int channels = s[1];
            Tensor[] running = runningStats(be, random, channels);
            for (boolean training : new boolean[] {true, false}) {
                String mode = training ? "training" : "evaluation";
                results.add(GradCheck.check(be, "batchNorm2d(" + mode + ", " + s[0] + "x" + channels + "x" + s[2] + "x" + s[3] + ")",
                        List.of(Argument.input("input", TestData.uniform(random, -1, 2, s)),
                                Argument.input("gamma", TestData.uniform(random, 0.5, 1.5, channels)),
                                Argument.input("beta", TestData.uniform(random, -0.5, 0.5, channels))),
                        (tape, v) -> Ops.batchNorm2d(v.get(0), v.get(1), v.get(2), running[0], running[1], training)));
                results.add(GradCheck.check(be, "batchNorm2d(" + mode + ", no gamma or beta)",
                        List.of(Argument.input("input", TestData.uniform(random, -1, 1, s))),
                        (tape, v) -> Ops.batchNorm2d(v.get(0), null, null, running[0], running[1], training)));
            }
        }
        assertAllPassed(results);
    }

    /**
     * One layer applied twice before one backward, as the adversarial objective does (clean and
     * perturbed images): each call must backpropagate through its own batch statistics; and an
     * evaluation-mode call followed by a training-mode one, which moves the running statistics the
     * first call normalised with, before backward.
     */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void batchNorm2dAppliedTwiceOnOneTape(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(32);
        Ops.BatchNorm2d layer = new Ops.BatchNorm2d();
        Tensor[] running = runningStats(be, random, 3);
        float[] initialMean = Tensors.toArray(be, running[0]), initialVar = Tensors.toArray(be, running[1]);
        List<Argument> args = List.of(Argument.input("input", TestData.uniform(random, -1, 1, 2, 3, 3, 4)),
                Argument.input("gamma", TestData.uniform(random, 0.5, 1.5, 3)),
                Argument.input("beta", TestData.uniform(random, -0.5, 0.5, 3)));
        assertAllPassed(List.of(
                GradCheck.check(be, "batchNorm2d(x) + batchNorm2d(3x + 1), training", args, (tape, v) -> Ops.add(
                        layer.apply(v.get(0), v.get(1), v.get(2), running[0], running[1], true),
                        layer.apply(Ops.affine(v.get(0), 3f, 1f), v.get(1), v.get(2), running[0], running[1], true))),
                GradCheck.check(be, "batchNorm2d(x, evaluation) + batchNorm2d(x, training)", args, (tape, v) -> {
                    // the same running statistics at every evaluation of the function
                    be.write(running[0], initialMean, 0);
                    be.write(running[1], initialVar, 0);
                    return Ops.add(layer.apply(v.get(0), v.get(1), v.get(2), running[0], running[1], false),
                            layer.apply(v.get(0), v.get(1), v.get(2), running[0], running[1], true));
                })));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void channelNormalize(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(33);
        Ops.ChannelNormalize cifar = Ops.ChannelNormalize.cifar10(be);
        Ops.ChannelNormalize two = new Ops.ChannelNormalize(be, new float[] {0.5f, -1f}, new float[] {0.25f, 2f});
        assertAllPassed(List.of(
                GradCheck.check(be, "channelNormalize(CIFAR-10)", List.of(Argument.input("input", TestData.uniform(random, 0, 1, 2, 3, 4, 4))),
                        (tape, v) -> cifar.apply(v.get(0))),
                GradCheck.check(be, "channelNormalize(2 channels)", List.of(Argument.input("input", TestData.uniform(random, -1, 1, 3, 2, 3, 5))),
                        (tape, v) -> two.apply(v.get(0)))));
    }
}
