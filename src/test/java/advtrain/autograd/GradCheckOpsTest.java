package advtrain.autograd;

import advtrain.backend.Tensors;
import advtrain.autograd.GradCheck.Argument;
import advtrain.backend.Backend;
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
 * Every op's backward against central finite differences ({@link GradCheck}, default step 1e-2),
 * on small random shapes, on every backend. Inputs of ReLU and max-pool are built to stay further
 * than the step from a kink or a tie, where a finite difference would straddle two slopes.
 */
class GradCheckOpsTest {
    /** More than twice GradCheck's step: nudging one value by ±h changes no ReLU sign, no pool winner. */
    private static final double MARGIN = 0.05;

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

    private static Tensor constant(Backend be, float[] values, int... dims) { return Tensors.fromArray(be, values, dims); }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void conv2d(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(11);
        // {batch, inChannels, height, width, outChannels, kernel, stride, padding, bias?}
        int[][] settings = {
                {2, 3, 8, 7, 4, 5, 1, 0, 1},   // the seed's 5x5, stride 1, no padding
                {2, 2, 6, 6, 3, 3, 1, 1, 0},
                {1, 3, 7, 8, 2, 3, 2, 0, 1},   // (H - R) not a multiple of the stride
                {2, 2, 7, 5, 3, 3, 2, 2, 1},
                {1, 2, 6, 7, 2, 2, 3, 1, 0},
                {2, 3, 4, 4, 2, 1, 1, 0, 1},
        };
        List<GradCheck.Result> results = new ArrayList<>();
        for (int[] s : settings) {
            int stride = s[6], padding = s[7];
            boolean bias = s[8] == 1;
            List<Argument> args = new ArrayList<>(List.of(
                    Argument.input("input", TestData.uniform(random, -1, 1, s[0], s[1], s[2], s[3])),
                    Argument.input("weight", TestData.uniform(random, -0.5, 0.5, s[4], s[1], s[5], s[5]))));
            if (bias) args.add(Argument.input("bias", TestData.uniform(random, -0.5, 0.5, s[4])));
            String op = String.format("conv2d(kernel %d, stride %d, padding %d%s)", s[5], stride, padding, bias ? "" : ", no bias");
            results.add(GradCheck.check(be, op, args,
                    (tape, v) -> Ops.conv2d(v.get(0), v.get(1), bias ? v.get(2) : null, stride, padding)));
        }
        assertAllPassed(results);
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void maxPool2d(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(12);
        // {batch, channels, height, width, kernel, stride}
        int[][] settings = {{2, 2, 6, 8, 2, 2}, {1, 3, 7, 7, 2, 2}, {2, 2, 7, 9, 3, 2}, {1, 2, 9, 6, 3, 3}};
        List<GradCheck.Result> results = new ArrayList<>();
        for (int[] s : settings) {
            int kernel = s[4], stride = s[5];
            results.add(GradCheck.check(be, "maxPool2d(kernel " + kernel + ", stride " + stride + ")",
                    List.of(Argument.input("input", TestData.distinct(random, MARGIN, s[0], s[1], s[2], s[3]))),
                    (tape, v) -> Ops.maxPool2d(v.get(0), kernel, stride)));
        }
        // The input used by two pools: the first backward writes its gradient, the second adds.
        results.add(GradCheck.check(be, "add(maxPool2d(x), maxPool2d(x))",
                List.of(Argument.input("input", TestData.distinct(random, MARGIN, 2, 2, 6, 8))),
                (tape, v) -> Ops.add(Ops.maxPool2d(v.get(0), 2, 2), Ops.maxPool2d(v.get(0), 2, 2))));
        assertAllPassed(results);
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void linear(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(13);
        assertAllPassed(List.of(
                GradCheck.check(be, "linear", List.of(
                                Argument.input("input", TestData.uniform(random, -1, 1, 3, 7)),
                                Argument.input("weight", TestData.uniform(random, -0.5, 0.5, 5, 7)),
                                Argument.input("bias", TestData.uniform(random, -0.5, 0.5, 5))),
                        (tape, v) -> Ops.linear(v.get(0), v.get(1), v.get(2))),
                GradCheck.check(be, "linear(no bias)", List.of(
                                Argument.input("input", TestData.uniform(random, -1, 1, 4, 6)),
                                Argument.input("weight", TestData.uniform(random, -0.5, 0.5, 2, 6))),
                        (tape, v) -> Ops.linear(v.get(0), v.get(1), null))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void relu(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(14);
        assertAllPassed(List.of(
                GradCheck.check(be, "relu", List.of(Argument.input("input", TestData.awayFromZero(random, MARGIN, 2, 3, 4, 5))),
                        (tape, v) -> Ops.relu(v.get(0))),
                GradCheck.check(be, "relu(2-d)", List.of(Argument.input("input", TestData.awayFromZero(random, MARGIN, 5, 7))),
                        (tape, v) -> Ops.relu(v.get(0))),
                // The input used twice: the first backward writes its gradient, the second adds.
                GradCheck.check(be, "add(relu(x), relu(x))", List.of(Argument.input("input", TestData.awayFromZero(random, MARGIN, 3, 5))),
                        (tape, v) -> Ops.add(Ops.relu(v.get(0)), Ops.relu(v.get(0)))),
                GradCheck.check(be, "add(relu(x), x)", List.of(Argument.input("input", TestData.awayFromZero(random, MARGIN, 3, 5))),
                        (tape, v) -> Ops.add(Ops.relu(v.get(0)), v.get(0)))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void flatten(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(15);
        assertAllPassed(List.of(GradCheck.check(be, "flatten",
                List.of(Argument.input("input", TestData.uniform(random, -1, 1, 2, 3, 4, 5))),
                (tape, v) -> Ops.flatten(v.get(0))),
                GradCheck.check(be, "add(flatten(x), flatten(x))",
                        List.of(Argument.input("input", TestData.uniform(random, -1, 1, 2, 3, 4))),
                        (tape, v) -> Ops.add(Ops.flatten(v.get(0)), Ops.flatten(v.get(0))))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void affineAndScale(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(16);
        assertAllPassed(List.of(
                GradCheck.check(be, "affine(2, -1)", List.of(Argument.input("input", TestData.uniform(random, 0, 1, 2, 3, 4, 4))),
                        (tape, v) -> Ops.affine(v.get(0), 2f, -1f)),
                GradCheck.check(be, "affine(-0.75, 0.25)", List.of(Argument.input("input", TestData.uniform(random, -1, 1, 3, 5))),
                        (tape, v) -> Ops.affine(v.get(0), -0.75f, 0.25f)),
                GradCheck.check(be, "scale(3)", List.of(Argument.input("input", TestData.uniform(random, -1, 1, 4, 3))),
                        (tape, v) -> Ops.scale(v.get(0), 3f))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void add(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(17);
        HostTensor fixed = TestData.uniform(random, -1, 1, 3, 4);
        Tensor constantB = Tensors.fromArray(be, fixed.values(), 3, 4);
        assertAllPassed(List.of(
                GradCheck.check(be, "add", List.of(
                                Argument.input("a", TestData.uniform(random, -1, 1, 2, 3, 4)),
                                Argument.input("b", TestData.uniform(random, -1, 1, 2, 3, 4))),
                        (tape, v) -> Ops.add(v.get(0), v.get(1))),
                // The same variable on both sides: both contributions must accumulate (dx = 2 dy).
                GradCheck.check(be, "add(x, x)", List.of(Argument.input("x", TestData.uniform(random, -1, 1, 3, 5))),
                        (tape, v) -> Ops.add(v.get(0), v.get(0))),
                // x used by two ops.
                GradCheck.check(be, "add(affine(x), x)", List.of(Argument.input("x", TestData.uniform(random, -1, 1, 2, 5))),
                        (tape, v) -> Ops.add(Ops.affine(v.get(0), -3f, 1f), v.get(0))),
                // Only one side requires grad.
                GradCheck.check(be, "add(a, constant)", List.of(Argument.input("a", TestData.uniform(random, -1, 1, 3, 4))),
                        (tape, v) -> Ops.add(v.get(0), tape.constant(constantB))),
                GradCheck.check(be, "add(constant, b)", List.of(Argument.input("b", TestData.uniform(random, -1, 1, 3, 4))),
                        (tape, v) -> Ops.add(tape.constant(constantB), v.get(0)))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void logSoftmax(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(18);
        assertAllPassed(List.of(
                GradCheck.check(be, "logSoftmax", List.of(Argument.input("input", TestData.uniform(random, -3, 3, 4, 10))),
                        (tape, v) -> Ops.logSoftmax(v.get(0))),
                GradCheck.check(be, "logSoftmax(3 classes)", List.of(Argument.input("input", TestData.uniform(random, -2, 2, 2, 3))),
                        (tape, v) -> Ops.logSoftmax(v.get(0)))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void nllLosses(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(19);
        Tensor labels = constant(be, new float[] {3, 0, 9, 3, 5}, 5);
        assertAllPassed(List.of(GradCheck.check(be, "nllLosses",
                List.of(Argument.input("logProbs", TestData.uniform(random, -4, 0, 5, 10))),
                (tape, v) -> Ops.nllLosses(v.get(0), tape.constant(labels)))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void mean(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(20);
        // A scalar output: backward from 1, as for a loss.
        assertAllPassed(List.of(GradCheck.check(be, "mean",
                List.of(Argument.input("input", TestData.uniform(random, -1, 1, 2, 3, 5))),
                (tape, v) -> Ops.mean(v.get(0)))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void nllLoss(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(21);
        Tensor labels = constant(be, TestData.labels(random, 6, 10), 6);
        assertAllPassed(List.of(
                GradCheck.check(be, "nllLoss", List.of(Argument.input("logProbs", TestData.uniform(random, -4, 0, 6, 10))),
                        (tape, v) -> Ops.nllLoss(v.get(0), tape.constant(labels))),
                // The loss as training uses it: logSoftmax then NLL.
                GradCheck.check(be, "nllLoss(logSoftmax)", List.of(Argument.input("logits", TestData.uniform(random, -2, 2, 6, 10))),
                        (tape, v) -> Ops.nllLoss(Ops.logSoftmax(v.get(0)), tape.constant(labels)))));
    }

    /** A small chain of every layer kind, gradients through all of them at once. */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void chainOfOps(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(22);
        Tensor labels = constant(be, new float[] {1, 2}, 2);
        Tensor doubling = constant(be, new float[] {2f}, 1, 1, 1, 1);
        // ReLU and max-pool need inputs away from kinks and ties: a tie-free input (values k * 0.05)
        // through a 1x1 convolution with weight 2 and a shift of 0.05 lands every value at least
        // 0.05 from zero and 0.1 from any other, while a nudge of h = 0.01 moves it by 0.02 at most.
        GradCheck.Result result = GradCheck.check(be, "conv1x1 -> affine -> relu -> maxPool2d -> flatten -> linear -> logSoftmax -> nllLoss",
                List.of(Argument.input("input", TestData.distinct(random, MARGIN, 2, 1, 4, 4)),
                        Argument.input("fc.weight", TestData.uniform(random, -0.5, 0.5, 3, 4)),
                        Argument.input("fc.bias", TestData.uniform(random, -0.5, 0.5, 3))),
                (tape, v) -> {
                    Variable x = Ops.conv2d(v.get(0), tape.constant(doubling), null, 1, 0);
                    x = Ops.flatten(Ops.maxPool2d(Ops.relu(Ops.affine(x, 1f, 0.05f)), 2, 2));
                    return Ops.nllLoss(Ops.logSoftmax(Ops.linear(x, v.get(1), v.get(2))), tape.constant(labels));
                });
        assertAllPassed(List.of(result));
    }
}
