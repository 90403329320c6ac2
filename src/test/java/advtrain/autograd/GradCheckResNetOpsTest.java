package advtrain.autograd;

import advtrain.autograd.GradCheck.Argument;
import advtrain.backend.Backend;
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
 * The backward of the ops a CIFAR ResNet adds to the seed's (convolutions with stride 2, padding 1
 * and no bias, global average pooling, the option-A shortcut, residual addition) against central
 * finite differences ({@link GradCheck}, default step 1e-2), on every backend. All of them are
 * linear in each argument, so the differences carry rounding error only.
 */
class GradCheckResNetOpsTest {

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

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void resNetConvolutions(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(31);
        // {batch, inChannels, height, width, outChannels, kernel, stride, padding}, all without bias, as in a ResNet
        int[][] settings = {
                {2, 3, 8, 8, 4, 3, 1, 1},   // 3x3, padding 1: the shape-keeping convolution
                {2, 4, 8, 8, 6, 3, 2, 1},   // 3x3, stride 2, padding 1: the first of a stage (8x8 -> 4x4)
                {1, 3, 7, 7, 5, 3, 2, 1},   // the same on an odd size (7x7 -> 4x4)
                {2, 4, 8, 8, 6, 1, 2, 0},   // 1x1, stride 2: PreAct-ResNet-18's projection shortcut
                {2, 16, 4, 4, 16, 3, 1, 1}, // a whole vector of channels (the Java backend's channel paths)
        };
        List<GradCheck.Result> results = new ArrayList<>();
        for (int[] s : settings) {
            int stride = s[6], padding = s[7];
            String op = String.format("conv2d(%dx%d, stride %d, padding %d, no bias)", s[5], s[5], stride, padding);
            results.add(GradCheck.check(be, op, List.of(
                            Argument.input("input", TestData.uniform(random, -1, 1, s[0], s[1], s[2], s[3])),
                            Argument.input("weight", TestData.uniform(random, -0.5, 0.5, s[4], s[1], s[5], s[5]))),
                    (tape, v) -> Ops.conv2d(v.get(0), v.get(1), null, stride, padding)));
        }
        assertAllPassed(results);
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void globalAvgPool(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(32);
        assertAllPassed(List.of(
                GradCheck.check(be, "globalAvgPool", List.of(Argument.input("input", TestData.uniform(random, -1, 1, 2, 3, 4, 4))),
                        (tape, v) -> Ops.globalAvgPool(v.get(0))),
                GradCheck.check(be, "globalAvgPool(5x3 planes)", List.of(Argument.input("input", TestData.uniform(random, -1, 1, 3, 2, 5, 3))),
                        (tape, v) -> Ops.globalAvgPool(v.get(0))),
                // As a ResNet ends: pooled features into the classifier.
                GradCheck.check(be, "linear(globalAvgPool(x))", List.of(
                                Argument.input("input", TestData.uniform(random, -1, 1, 2, 4, 3, 3)),
                                Argument.input("weight", TestData.uniform(random, -0.5, 0.5, 3, 4))),
                        (tape, v) -> Ops.linear(Ops.globalAvgPool(v.get(0)), v.get(1), null))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void shortcutA(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(33);
        try (ShortcutA widen = new ShortcutA(be, 4, 2); ShortcutA odd = new ShortcutA(be, 3, 1);
             ShortcutA subsampleOnly = new ShortcutA(be, 2, 0)) {
            assertAllPassed(List.of(
                    GradCheck.check(be, "shortcutA(4 channels, pad 2)", List.of(Argument.input("input", TestData.uniform(random, -1, 1, 2, 4, 6, 6))),
                            (tape, v) -> widen.apply(v.get(0))),
                    GradCheck.check(be, "shortcutA(3 channels, pad 1, 7x5)", List.of(Argument.input("input", TestData.uniform(random, -1, 1, 2, 3, 7, 5))),
                            (tape, v) -> odd.apply(v.get(0))),
                    GradCheck.check(be, "shortcutA(pad 0)", List.of(Argument.input("input", TestData.uniform(random, -1, 1, 1, 2, 4, 4))),
                            (tape, v) -> subsampleOnly.apply(v.get(0)))));
        }
    }

    /**
     * Residual addition as a ResNet uses it: a block's convolutions plus its shortcut, with the
     * input reaching the sum along both paths (its gradient is the sum of the two).
     */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void residualAddition(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(34);
        try (ShortcutA shortcut = new ShortcutA(be, 2, 1)) {
            assertAllPassed(List.of(
                    GradCheck.check(be, "add(conv2d(x), x)", List.of(
                                    Argument.input("input", TestData.uniform(random, -1, 1, 2, 3, 5, 5)),
                                    Argument.input("weight", TestData.uniform(random, -0.5, 0.5, 3, 3, 3, 3))),
                            (tape, v) -> Ops.add(Ops.conv2d(v.get(0), v.get(1), null, 1, 1), v.get(0))),
                    GradCheck.check(be, "add(conv2d(conv2d(x, stride 2)), shortcutA(x))", List.of(
                                    Argument.input("input", TestData.uniform(random, -1, 1, 2, 2, 6, 6)),
                                    Argument.input("weight1", TestData.uniform(random, -0.5, 0.5, 4, 2, 3, 3)),
                                    Argument.input("weight2", TestData.uniform(random, -0.5, 0.5, 4, 4, 3, 3))),
                            (tape, v) -> Ops.add(Ops.conv2d(Ops.conv2d(v.get(0), v.get(1), null, 2, 1), v.get(2), null, 1, 1),
                                    shortcut.apply(v.get(0)))),
                    GradCheck.check(be, "add(x, x) on images", List.of(Argument.input("x", TestData.uniform(random, -1, 1, 2, 3, 4, 4))),
                            (tape, v) -> Ops.add(v.get(0), v.get(0)))));
        }
    }
}
