package advtrain.autograd;

import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import advtrain.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The values of the ResNet ops on every backend against what they are defined to be, computed
 * here on the host: the option-A shortcut (a subsampling and zero channels: exact, bit for bit,
 * forward and backward), global average pooling (the mean of each plane), and the errors they give
 * for inputs that do not fit.
 */
class ResNetOpsTest {

    private static Tensor upload(Backend be, HostTensor t) { return Tensors.fromArray(be, t.values(), t.shape().dims()); }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void shortcutAIsSubsamplingAndZeroChannelsExactly(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(41);
        // {batch, channels, height, width, pad}: ResNet-20's two shortcuts at batch 3, and odd sizes
        int[][] settings = {{3, 16, 32, 32, 8}, {3, 32, 16, 16, 16}, {2, 3, 7, 5, 1}, {1, 2, 1, 1, 0}};
        for (int[] s : settings) {
            int n = s[0], c = s[1], h = s[2], w = s[3], pad = s[4], outC = c + 2 * pad, outH = (h + 1) / 2, outW = (w + 1) / 2;
            HostTensor x = TestData.uniform(random, -1, 1, n, c, h, w), dy = TestData.uniform(random, -1, 1, n, outC, outH, outW);
            float[] expected = new float[n * outC * outH * outW], expectedGrad = new float[n * c * h * w];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < c; k++) {
                    for (int oy = 0; oy < outH; oy++) {
                        for (int ox = 0; ox < outW; ox++) {
                            int in = ((i * c + k) * h + 2 * oy) * w + 2 * ox, out = ((i * outC + k + pad) * outH + oy) * outW + ox;
                            expected[out] = x.values()[in];
                            expectedGrad[in] = dy.values()[out];
                        }
                    }
                }
            }
            try (ShortcutA shortcut = new ShortcutA(be, c, pad); Tape tape = new Tape(be)) {
                Variable input = tape.input(upload(be, x), true);
                Variable y = shortcut.apply(input);
                assertEquals(Shape.of(n, outC, outH, outW), y.shape());
                String what = "shortcutA " + java.util.Arrays.toString(s);
                assertArrayEquals(expected, Tensors.toArray(be, y.data()), what + " forward");
                tape.backward(y, upload(be, dy));
                assertArrayEquals(expectedGrad, Tensors.toArray(be, input.grad()), what + " input gradient");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void globalAvgPoolIsThePlaneMean(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(42);
        int n = 4, c = 64, h = 8, w = 8;  // ResNet-20's last feature map
        HostTensor x = TestData.uniform(random, -1, 1, n, c, h, w), dy = TestData.uniform(random, -1, 1, n, c);
        try (Tape tape = new Tape(be)) {
            Variable input = tape.input(upload(be, x), true);
            Variable y = Ops.globalAvgPool(input);
            assertEquals(Shape.of(n, c), y.shape());
            float[] got = Tensors.toArray(be, y.data());
            for (int p = 0; p < n * c; p++) {
                double sum = 0;
                for (int i = 0; i < h * w; i++) sum += x.values()[p * h * w + i];
                assertEquals(sum / (h * w), got[p], 1e-6, "plane " + p);
            }
            tape.backward(y, upload(be, dy));
            float[] grad = Tensors.toArray(be, input.grad());
            for (int i = 0; i < grad.length; i++) assertEquals(dy.values()[i / (h * w)] / (h * w), grad[i], 1e-7, "element " + i);
        }
    }

    @Test
    void inputsThatDoNotFitAreNamed() {
        Backend be = TestBackends.get("reference");
        try (Tape tape = new Tape(be); ShortcutA shortcut = new ShortcutA(be, 4, 2)) {
            Variable wrongChannels = tape.input(be.allocate(Shape.of(1, 3, 4, 4)), true);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> shortcut.apply(wrongChannels));
            assertEquals("shortcutA: input [1, 3, 4, 4] should be [N, 4, H, W]", e.getMessage());
            Variable flat = tape.input(be.allocate(Shape.of(2, 5)), true);
            e = assertThrows(IllegalArgumentException.class, () -> Ops.globalAvgPool(flat));
            assertEquals("globalAvgPool: needs [N, C, H, W], got [2, 5]", e.getMessage());
            Variable other = tape.input(be.allocate(Shape.of(2, 4)), true);
            e = assertThrows(IllegalArgumentException.class, () -> Ops.add(flat, other));
            assertEquals("add: shapes [2, 5] and [2, 4] differ", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new ShortcutA(be, 0, 1));
    }
}
