package advtrain.attack;

import advtrain.backend.Tensors;
import advtrain.backend.Backend;
import advtrain.nn.ModelFiles;
import advtrain.io.Safetensors;
import advtrain.nn.Net;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * FGSM and 3-step PGD against PyTorch: tools/make_attack_goldens.py trains the seed's Net briefly,
 * attacks the first 8 test images and stores weights, inputs and adversarial images. Our engine's
 * gradients differ from PyTorch's by float rounding, so the sign of a gradient within rounding of
 * zero may differ: the L∞ images must agree everywhere else, which bounds the mismatches to a small
 * share of pixels, each off by a whole step. L2 steps are continuous: they must agree closely.
 */
class AttackGoldenTest {
    private static Map<String, HostTensor> golden;

    @BeforeAll
    static void load() throws Exception {
        Path file = Path.of(AttackGoldenTest.class.getResource("/goldens/attack/attack_goldens.safetensors").toURI());
        golden = Safetensors.read(file).tensors();
    }

    private record Setup(Backend backend, Net net, Tensor x, Tensor y) {}

    private static Setup setup(String backendName) throws Exception {
        Backend be = TestBackends.get(backendName);
        Net net = new Net(be, 1);
        Map<String, HostTensor> weights = new LinkedHashMap<>();
        for (String name : net.namedParameters().keySet()) weights.put(name, golden.get(name));
        ModelFiles.loadState(net, be, weights, "attack goldens");
        HostTensor x = golden.get("x"), y = golden.get("y");
        return new Setup(be, net, Tensors.fromArray(be, x.values(), x.shape().dims()), Tensors.fromArray(be, y.values(), y.shape().dims()));
    }

    private static float scalar(String name) { return golden.get(name).values()[0]; }

    private static float[] run(Setup s, AttackConfig config) {
        try (Attack attack = Attack.create(s.backend, config)) {
            return Tensors.toArray(s.backend, attack.perturb(s.net, s.x, s.y));
        }
    }

    /** Elements that differ; each must differ by about a whole number of steps (a flipped sign). */
    private static int mismatches(String name, float[] got, float step) {
        float[] want = golden.get(name).values();
        assertEquals(want.length, got.length);
        int count = 0;
        for (int i = 0; i < got.length; i++) {
            float diff = Math.abs(got[i] - want[i]);
            if (diff <= 1e-6f) continue;
            count++;
            // Off by a step or two (or less where the clip to [0,1] or the ε-box cut it short).
            assertTrue(diff <= 2 * step + 1e-6f, name + "[" + i + "]: got " + got[i] + ", PyTorch " + want[i]);
        }
        return count;
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void fgsmMatchesPyTorch(String backendName) throws Exception {
        Setup s = setup(backendName);
        float eps = scalar("eps");
        int wrong = mismatches("fgsm", run(s, AttackConfig.fgsm(eps)), eps);
        assertTrue(wrong <= golden.get("fgsm").values().length / 1000, "FGSM differs from PyTorch in " + wrong + " pixels");
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void pgdThreeStepsMatchesPyTorch(String backendName) throws Exception {
        Setup s = setup(backendName);
        AttackConfig pgd = AttackConfig.pgd(scalar("eps")).withSteps(3).withStepSize(scalar("alpha"));
        int wrong = mismatches("pgd3", run(s, pgd), scalar("alpha"));
        assertTrue(wrong <= golden.get("pgd3").values().length / 200, "PGD-3 differs from PyTorch in " + wrong + " pixels");
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void targetedPgdMatchesPyTorchAndAimsAtTheLeastLikelyClass(String backendName) throws Exception {
        Setup s = setup(backendName);
        AttackConfig pgd = AttackConfig.pgd(scalar("eps")).withSteps(3).withStepSize(scalar("alpha"))
                .targeting(AttackConfig.LEAST_LIKELY);
        try (Attack attack = Attack.create(s.backend, pgd)) {
            float[] got = Tensors.toArray(s.backend, attack.perturb(s.net, s.x, s.y));
            assertArrayEquals(golden.get("target_ll").values(), Tensors.toArray(s.backend, attack.lastTargets()));
            int wrong = mismatches("pgd3_targeted", got, scalar("alpha"));
            assertTrue(wrong <= got.length / 200, "targeted PGD-3 differs from PyTorch in " + wrong + " pixels");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void l2PgdMatchesPyTorch(String backendName) throws Exception {
        Setup s = setup(backendName);
        AttackConfig pgd = AttackConfig.pgd(scalar("eps_l2")).withNorm(Norm.L2).withSteps(3).withStepSize(scalar("alpha_l2"));
        float[] got = run(s, pgd), want = golden.get("pgd3_l2").values();
        double worst = 0;
        for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        assertTrue(worst < 2e-5, "L2 PGD-3 differs from PyTorch by up to " + worst);
    }
}
