package advtrain.attack;

import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.nn.ModelFiles;
import advtrain.io.Safetensors;
import advtrain.nn.Net;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The evaluation attacks against tools/make_eval_goldens.py (PyTorch, written for the purpose): the DLR
 * losses and their input gradients, APGD's step sizes, checkpoints, losses and result from a fixed start,
 * and the Square attack's schedule of square sizes. The model and images are those of the FGSM/PGD goldens.
 */
class EvaluationGoldenTest {
    private static Map<String, HostTensor> golden;
    private static Map<String, HostTensor> base;

    @BeforeAll
    static void load() throws Exception {
        golden = Safetensors.read(Path.of(EvaluationGoldenTest.class.getResource("/goldens/attack/eval_goldens.safetensors").toURI())).tensors();
        base = Safetensors.read(Path.of(EvaluationGoldenTest.class.getResource("/goldens/attack/attack_goldens.safetensors").toURI())).tensors();
    }

    private static Net net(Backend be) throws java.io.IOException {
        Net net = new Net(be, 1);
        Map<String, HostTensor> weights = new LinkedHashMap<>();
        for (String name : net.namedParameters().keySet()) weights.put(name, base.get(name));
        ModelFiles.loadState(net, be, weights, "eval goldens");
        net.eval();
        return net;
    }

    private static float[] values(String name) { return golden.get(name).values(); }

    private static int[] labels() {
        float[] y = base.get("y").values();
        int[] labels = new int[y.length];
        for (int i = 0; i < y.length; i++) labels[i] = (int) y[i];
        return labels;
    }

    /** Per-image losses and the input gradient of their sum, as APGD computes them (host loss, device backward). */
    private static float[][] lossAndGradient(Backend be, Net net, Losses loss, int[] targets) {
        HostTensor x = base.get("x");
        int[] y = labels();
        Tensor images = Tensors.fromArray(be, x.values(), x.shape().dims());
        try (Tape tape = new Tape(be)) {
            Variable input = tape.input(images, true);
            Variable out = net.forward(input);
            float[] outputs = Tensors.toArray(be, out.data()), outputGrad = new float[outputs.length];
            float[] losses = new float[y.length];
            for (int i = 0; i < y.length; i++) losses[i] = (float) loss.value(outputs, i, 10, y[i], targets == null ? -1 : targets[i], outputGrad);
            Tensor seed = Tensors.fromArray(be, outputGrad, out.shape().dims());
            tape.backward(out, seed);
            float[] grad = Tensors.toArray(be, input.grad());
            be.release(seed);
            return new float[][] {losses, grad};
        } finally {
            be.release(images);
        }
    }

    private static void assertClose(String what, float[] want, float[] got, double tolerance) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tolerance * Math.max(1, scale), what + " [" + i + "]");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void dlrLossesAndInputGradientsMatchPyTorch(String name) throws Exception {
        Backend be = TestBackends.get(name);
        Net net = net(be);
        float[][] dlr = lossAndGradient(be, net, Losses.DLR, null);
        assertClose("DLR loss", values("dlr_loss"), dlr[0], 1e-4);
        assertClose("DLR input gradient", values("dlr_grad"), dlr[1], 1e-4);
        float[] t = values("dlr_t_target");
        int[] targets = new int[t.length];
        for (int i = 0; i < t.length; i++) targets[i] = (int) t[i];
        float[][] targeted = lossAndGradient(be, net, Losses.DLR_TARGETED, targets);
        assertClose("targeted DLR loss", values("dlr_t_loss"), targeted[0], 1e-4);
        assertClose("targeted DLR input gradient", values("dlr_t_grad"), targeted[1], 1e-4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ce", "dlr", "ce_l2"})
    void apgdStepSizesCheckpointsAndResultMatchPyTorch(String loss) throws Exception {
        Backend be = TestBackends.get("java");
        Net net = net(be);
        boolean l2 = loss.endsWith("l2");
        float eps = values(l2 ? "apgd_eps_l2" : "apgd_eps")[0];
        AttackConfig config = AttackConfig.of(loss.startsWith("dlr") ? AttackConfig.Kind.APGD_DLR : AttackConfig.Kind.APGD_CE, eps)
                .withNorm(l2 ? Norm.L2 : Norm.LINF).withSteps(20);
        HostTensor x = base.get("x"), y = base.get("y");
        float[] adversarial;
        Apgd apgd = new Apgd(be, config, 256);
        apgd.trace = new Apgd.Trace();
        apgd.fixedStart = values(l2 ? "apgd_start_l2" : "apgd_start");
        try (apgd) {
            adversarial = Tensors.toArray(be, apgd.perturb(net, Tensors.fromArray(be, x.values(), x.shape().dims()), Tensors.fromArray(be, y.values(), y.shape().dims())));
        }
        float[] checkpoints = values("apgd_" + loss + "_checkpoints");
        assertEquals(checkpoints.length, apgd.trace.checkpoints.size());
        for (int j = 0; j < checkpoints.length; j++) assertEquals((int) checkpoints[j], apgd.trace.checkpoints.get(j));
        assertArrayEquals(Apgd.checkpoints(20), apgd.trace.checkpoints.stream().mapToInt(Integer::intValue).toArray());
        float[] steps = values("apgd_" + loss + "_steps"), losses = values("apgd_" + loss + "_losses");
        for (int i = 0; i < 20; i++) {
            for (int n = 0; n < 8; n++) {
                assertEquals(steps[i * 8 + n], apgd.trace.steps.get(i)[n], 1e-9, loss + ": step size of image " + n + " at iteration " + i);
                assertEquals(losses[i * 8 + n], apgd.trace.losses.get(i)[n], 2e-3 * Math.max(1, Math.abs(losses[i * 8 + n])),
                        loss + ": loss of image " + n + " after iteration " + i);
            }
        }
        float[] want = values("apgd_" + loss + "_x");
        int far = 0;
        for (int i = 0; i < want.length; i++) if (Math.abs(want[i] - adversarial[i]) > 1e-4) far++;
        assertTrue(far <= want.length / 200, loss + ": " + far + " of " + want.length + " pixels differ from PyTorch's result");
    }

    @Test
    void apgdCheckpointsFollowThePaper() {
        // p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06): 100 iterations
        assertArrayEquals(new int[] {22, 41, 57, 70, 80, 87, 93, 99}, Apgd.checkpoints(100));
    }

    @Test
    void squareSizesFollowTheSchedule() {
        float[] want = values("square_side");
        for (int i = 0; i < want.length; i++) assertEquals((int) want[i], SquareAttack.side(i, 5000, 32, 32), "side at iteration " + i);
        assertEquals(29, SquareAttack.side(0, 5000, 32, 32));   // round(sqrt(0.8 * 1024))
    }
}
