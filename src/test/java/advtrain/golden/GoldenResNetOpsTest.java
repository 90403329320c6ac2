package advtrain.golden;

import advtrain.autograd.Ops;
import advtrain.autograd.ShortcutA;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.io.Json;
import advtrain.io.Safetensors;
import advtrain.tensor.HostTensor;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ops a CIFAR ResNet adds, forward and backward, against PyTorch
 * (goldens/resnet_ops.safetensors, written by tools/make_resnet_op_goldens.py in the layout of
 * {@link GoldenOpsTest}'s file): convolutions without bias at stride 2 and padding 1, global
 * average pooling, the option-A shortcut, a residual block and residual addition. Error measure
 * and limit: {@link Goldens} (≤ 1e-5).
 */
class GoldenResNetOpsTest {
    private static final Safetensors.Contents OPS = Goldens.read("resnet_ops.safetensors");

    private static final Set<String> OPS_WITH_TESTS = Set.of("conv2d", "globalAvgPool", "shortcutA", "residualBlock",
            "residualAdd", "residualAddSame");

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> cases(String op) {
        Map<String, Map<String, Object>> cases = new LinkedHashMap<>();
        OPS.metadata().forEach((name, json) -> {
            Map<String, Object> settings = (Map<String, Object>) Json.parse(json);
            if (settings.get("op").equals(op)) cases.put(name, settings);
        });
        return cases;
    }

    private static int integer(Map<String, Object> settings, String key) { return ((Number) settings.get(key)).intValue(); }

    /** The op under test on the case's inputs (by name); a shortcut is made for the case and closed after it. */
    private static Variable apply(Backend be, String op, Map<String, Object> settings, Map<String, Variable> in,
                                  List<AutoCloseable> toClose) {
        return switch (op) {
            case "conv2d" -> Ops.conv2d(in.get("input"), in.get("weight"), null, integer(settings, "stride"), integer(settings, "padding"));
            case "globalAvgPool" -> Ops.globalAvgPool(in.get("input"));
            case "shortcutA" -> shortcut(be, in.get("input"), integer(settings, "pad"), toClose).apply(in.get("input"));
            case "residualBlock" -> Ops.add(
                    Ops.conv2d(Ops.conv2d(in.get("input"), in.get("weight1"), null, 2, 1), in.get("weight2"), null, 1, 1),
                    shortcut(be, in.get("input"), integer(settings, "pad"), toClose).apply(in.get("input")));
            case "residualAdd" -> Ops.add(in.get("a"), in.get("b"));
            case "residualAddSame" -> Ops.add(in.get("input"), in.get("input"));
            default -> throw new IllegalArgumentException("no test for op " + op);
        };
    }

    private static ShortcutA shortcut(Backend be, Variable x, int pad, List<AutoCloseable> toClose) {
        ShortcutA shortcut = new ShortcutA(be, x.shape().dim(1), pad);
        toClose.add(shortcut);
        return shortcut;
    }

    private static void checkOp(String backendName, String op) throws Exception {
        Backend be = TestBackends.get(backendName);
        Map<String, Map<String, Object>> cases = cases(op);
        assertFalse(cases.isEmpty(), "the golden file has no case for " + op);
        List<String> failures = new ArrayList<>();
        for (var c : cases.entrySet()) {
            String name = c.getKey();
            List<AutoCloseable> toClose = new ArrayList<>();
            try (Tape tape = new Tape(be)) {
                Map<String, Variable> inputs = new LinkedHashMap<>();
                @SuppressWarnings("unchecked") List<String> names = (List<String>) c.getValue().get("inputs");
                for (String input : names) inputs.put(input, tape.input(Goldens.upload(be, OPS, name + "." + input), true));
                Variable output = apply(be, op, c.getValue(), inputs, toClose);
                HostTensor expectedOutput = Goldens.tensor(OPS, name + ".output");
                assertEquals(expectedOutput.shape(), output.shape(), name + ": output shape");
                Goldens.collect(failures, () -> Goldens.assertClose(name + " output", expectedOutput, Tensors.toArray(be, output.data()), Goldens.OP_TOLERANCE));
                tape.backward(output, Goldens.upload(be, OPS, name + ".output_grad"));
                for (String input : names) {
                    Variable v = inputs.get(input);
                    HostTensor expected = Goldens.tensor(OPS, name + "." + input + "_grad");
                    assertNotNull(v.grad(), name + ": no gradient reached " + input);
                    Goldens.collect(failures, () -> Goldens.assertClose(name + " d/d " + input, expected, Tensors.toArray(be, v.grad()), Goldens.OP_TOLERANCE));
                }
            } finally {
                for (AutoCloseable resource : toClose) resource.close();
            }
        }
        if (!failures.isEmpty()) fail(String.join("\n", failures));
    }

    @Test
    void everyCaseInTheFileIsTested() {
        assertEquals(new TreeSet<>(OPS_WITH_TESTS), Goldens.opsIn(OPS));
    }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void conv2dWithoutBias(String backend) throws Exception { checkOp(backend, "conv2d"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void globalAvgPool(String backend) throws Exception { checkOp(backend, "globalAvgPool"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void shortcutA(String backend) throws Exception { checkOp(backend, "shortcutA"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void residualBlock(String backend) throws Exception { checkOp(backend, "residualBlock"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void residualAdd(String backend) throws Exception { checkOp(backend, "residualAdd"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void residualAddOfTheSameVariable(String backend) throws Exception { checkOp(backend, "residualAddSame"); }
}
