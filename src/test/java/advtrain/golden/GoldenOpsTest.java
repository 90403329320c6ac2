package advtrain.golden;

import advtrain.backend.Tensors;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
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
 * Every op, forward and backward, against PyTorch (goldens/ops.safetensors). Each case holds the
 * op's inputs, its output, an upstream gradient, and the gradient of every input; the case's
 * settings (stride, padding, kernel, ...) are in the file's metadata. Error measure and limit:
 * {@link Goldens} (≤ 1e-5).
 */
class GoldenOpsTest {
    private static final Safetensors.Contents OPS = Goldens.read("ops.safetensors");

    /** The ops the generator writes cases for; each has a test method below. */
    private static final Set<String> OPS_WITH_TESTS = Set.of("conv2d", "maxPool2d", "linear", "relu", "flatten",
            "affine", "add", "addSame", "logSoftmax", "nllLosses", "mean", "nllLoss");

    private record Case(String name, Map<String, Object> settings) {
        String op() { return (String) settings.get("op"); }

        int integer(String key) { return ((Number) settings.get(key)).intValue(); }

        float real(String key) { return ((Number) settings.get(key)).floatValue(); }

        @SuppressWarnings("unchecked")
        List<String> list(String key) { return (List<String>) settings.get(key); }
    }

    @SuppressWarnings("unchecked")
    private static List<Case> cases(String op) {
        List<Case> cases = new ArrayList<>();
        OPS.metadata().forEach((name, json) -> {
            Case c = new Case(name, (Map<String, Object>) Json.parse(json));
            if (c.op().equals(op)) cases.add(c);
        });
        return cases;
    }

    /** The op under test, applied to the case's inputs (by name) with its settings. */
    private static Variable apply(Case c, Map<String, Variable> in) {
        return switch (c.op()) {
            case "conv2d" -> Ops.conv2d(in.get("input"), in.get("weight"), in.get("bias"), c.integer("stride"), c.integer("padding"));
            case "maxPool2d" -> Ops.maxPool2d(in.get("input"), c.integer("kernel"), c.integer("stride"));
            case "linear" -> Ops.linear(in.get("input"), in.get("weight"), in.get("bias"));
            case "relu" -> Ops.relu(in.get("input"));
            case "flatten" -> Ops.flatten(in.get("input"));
            case "affine" -> Ops.affine(in.get("input"), c.real("alpha"), c.real("beta"));
            case "add" -> Ops.add(in.get("a"), in.get("b"));
            case "addSame" -> Ops.add(in.get("input"), in.get("input"));
            case "logSoftmax" -> Ops.logSoftmax(in.get("input"));
            case "nllLosses" -> Ops.nllLosses(in.get("log_probs"), in.get("labels"));
            case "mean" -> Ops.mean(in.get("input"));
            case "nllLoss" -> Ops.nllLoss(in.get("log_probs"), in.get("labels"));
            default -> throw new IllegalArgumentException("no test for op " + c.op());
        };
    }

    /** Runs every case of the op: output, then the gradient of each input for the stored upstream gradient. */
    private static void checkOp(String backendName, String op) {
        Backend be = TestBackends.get(backendName);
        List<Case> cases = cases(op);
        assertFalse(cases.isEmpty(), "the golden file has no case for " + op);
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            try (Tape tape = new Tape(be)) {
                Map<String, Variable> inputs = new LinkedHashMap<>();
                for (String name : c.list("inputs")) inputs.put(name, tape.input(Goldens.upload(be, OPS, c.name + "." + name), true));
                for (String name : c.list("constants")) inputs.put(name, tape.constant(Goldens.upload(be, OPS, c.name + "." + name)));
                Variable output = apply(c, inputs);
                HostTensor expectedOutput = Goldens.tensor(OPS, c.name + ".output");
                assertEquals(expectedOutput.shape(), output.shape(), c.name + ": output shape");
                Goldens.collect(failures, () -> Goldens.assertClose(c.name + " output", expectedOutput, Tensors.toArray(be, output.data()), Goldens.OP_TOLERANCE));

                tape.backward(output, Goldens.upload(be, OPS, c.name + ".output_grad"));
                for (String name : c.list("inputs")) {
                    Variable v = inputs.get(name);
                    HostTensor expected = Goldens.tensor(OPS, c.name + "." + name + "_grad");
                    assertNotNull(v.grad(), c.name + ": no gradient reached " + name);
                    assertEquals(expected.shape(), v.grad().shape(), c.name + ": shape of the gradient of " + name);
                    Goldens.collect(failures, () -> Goldens.assertClose(c.name + " d/d " + name, expected, Tensors.toArray(be, v.grad()), Goldens.OP_TOLERANCE));
                }
            }
        }
        if (!failures.isEmpty()) fail(String.join("\n", failures));
    }

    @Test
    void everyCaseInTheFileIsTested() {
        assertEquals(new TreeSet<>(OPS_WITH_TESTS), Goldens.opsIn(OPS));
    }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void conv2d(String backend) { checkOp(backend, "conv2d"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void maxPool2d(String backend) { checkOp(backend, "maxPool2d"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void linear(String backend) { checkOp(backend, "linear"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void relu(String backend) { checkOp(backend, "relu"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void flatten(String backend) { checkOp(backend, "flatten"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void affine(String backend) { checkOp(backend, "affine"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void add(String backend) { checkOp(backend, "add"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void addTheSameVariableTwice(String backend) { checkOp(backend, "addSame"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void logSoftmax(String backend) { checkOp(backend, "logSoftmax"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void nllLosses(String backend) { checkOp(backend, "nllLosses"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void mean(String backend) { checkOp(backend, "mean"); }

    @ParameterizedTest @ValueSource(strings = {"reference", "java", "opencl"})
    void nllLoss(String backend) { checkOp(backend, "nllLoss"); }
}
