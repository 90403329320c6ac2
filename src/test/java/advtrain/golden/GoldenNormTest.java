package advtrain.golden;

import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.io.Json;
import advtrain.io.Safetensors;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * BatchNorm2d (training and evaluation mode, with and without gamma and beta, an odd shape and a
 * ResNet-20 one, one layer applied twice before one backward) and ChannelNormalize against PyTorch
 * (goldens/norm.safetensors, tools/make_norm_goldens.py): outputs, every gradient and the running
 * statistics after the update, on every backend, within {@link Goldens#OP_TOLERANCE}.
 */
class GoldenNormTest {
    private static final Safetensors.Contents NORM = Goldens.read("norm.safetensors");

    private record Case(String name, Map<?, ?> settings) {
        boolean flag(String key) { return (Boolean) settings.get(key); }

        int stride() { return ((Number) settings.get("stride")).intValue(); }

        int[] shape() {
            List<?> dims = (List<?>) settings.get("shape");
            int[] shape = new int[dims.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = ((Number) dims.get(i)).intValue();
            return shape;
        }

        boolean has(String tensor) { return NORM.tensors().containsKey(name + "." + tensor); }
    }

    private static List<Case> cases(String op) {
        List<Case> cases = new ArrayList<>();
        NORM.metadata().forEach((name, json) -> {
            Map<?, ?> settings = (Map<?, ?>) Json.parse(json);
            if (op.equals(settings.get("op"))) cases.add(new Case(name, settings));
        });
        if (cases.isEmpty()) fail("norm.safetensors has no " + op + " case");
        return cases;
    }

    /** The large cases' input, as tools/make_norm_goldens.py's big_input computes it. */
    private static float[] bigInput(int[] shape) {
        int plane = shape[2] * shape[3];
        float[] x = new float[shape[0] * shape[1] * plane];
        for (int i = 0; i < x.length; i++) x[i] = (float) (1.5 * Math.sin(0.731 * i) + 0.25 * ((i / plane) % shape[1]) + 0.5);
        return x;
    }

    /** The large cases' upstream gradient (big_output_grad). */
    private static float[] bigOutputGrad(int size) {
        float[] g = new float[size];
        for (int i = 0; i < size; i++) g[i] = (float) Math.cos(0.377 * i);
        return g;
    }

    private static void check(List<String> failures, String what, Backend be, Tensor got, int stride) {
        try {
            HostTensor expected = Goldens.tensor(NORM, what);
            Goldens.assertClose(what, expected, Goldens.strided(Tensors.toArray(be, got), 0, stride), Goldens.OP_TOLERANCE);
        } catch (AssertionError e) {
            failures.add(e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void batchNorm2d(String backendName) {
        Backend be = TestBackends.get(backendName);
        List<String> failures = new ArrayList<>();
        for (Case c : cases("batchNorm2d")) {
            int[] shape = c.shape();
            int stride = c.stride();
            try (Tape tape = new Tape(be)) {
                Tensor input = c.has("input") ? Goldens.upload(be, NORM, c.name + ".input") : Tensors.fromArray(be, bigInput(shape), shape);
                Tensor outputGrad = c.has("output_grad") ? Goldens.upload(be, NORM, c.name + ".output_grad")
                        : Tensors.fromArray(be, bigOutputGrad(input.size()), shape);
                Tensor runningMean = Goldens.upload(be, NORM, c.name + ".running_mean"), runningVar = Goldens.upload(be, NORM, c.name + ".running_var");
                Variable x = tape.input(input, true);
                Variable gamma = c.flag("affine") ? tape.input(Goldens.upload(be, NORM, c.name + ".weight"), true) : null;
                Variable beta = c.flag("affine") ? tape.input(Goldens.upload(be, NORM, c.name + ".bias"), true) : null;
                Variable y = Ops.batchNorm2d(x, gamma, beta, runningMean, runningVar, c.flag("training"));
                tape.backward(y, outputGrad);
                check(failures, c.name + ".output", be, y.data(), stride);
                check(failures, c.name + ".input_grad", be, x.grad(), stride);
                if (gamma != null) {
                    check(failures, c.name + ".weight_grad", be, gamma.grad(), 1);
                    check(failures, c.name + ".bias_grad", be, beta.grad(), 1);
                }
                check(failures, c.name + ".running_mean_after", be, runningMean, 1);
                check(failures, c.name + ".running_var_after", be, runningVar, 1);
            }
        }
        if (!failures.isEmpty()) fail(String.join("\n", failures));
    }

    /** One layer, two batches in training mode, one backward of their sum: PyTorch's gradients and running statistics. */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void batchNorm2dAppliedTwiceOnOneTape(String backendName) {
        Backend be = TestBackends.get(backendName);
        List<String> failures = new ArrayList<>();
        Ops.BatchNorm2d layer = new Ops.BatchNorm2d();
        for (Case c : cases("batchNorm2dTwice")) {
            try (Tape tape = new Tape(be)) {
                Tensor runningMean = Goldens.upload(be, NORM, c.name + ".running_mean"), runningVar = Goldens.upload(be, NORM, c.name + ".running_var");
                Variable x1 = tape.input(Goldens.upload(be, NORM, c.name + ".input"), true), x2 = tape.input(Goldens.upload(be, NORM, c.name + ".input2"), true);
                Variable gamma = tape.input(Goldens.upload(be, NORM, c.name + ".weight"), true), beta = tape.input(Goldens.upload(be, NORM, c.name + ".bias"), true);
                Variable y1 = layer.apply(x1, gamma, beta, runningMean, runningVar, true);
                Variable y2 = layer.apply(x2, gamma, beta, runningMean, runningVar, true);
                tape.backward(Ops.add(y1, y2), Goldens.upload(be, NORM, c.name + ".output_grad"));
                check(failures, c.name + ".output", be, y1.data(), 1);
                check(failures, c.name + ".output2", be, y2.data(), 1);
                check(failures, c.name + ".input_grad", be, x1.grad(), 1);
                check(failures, c.name + ".input2_grad", be, x2.grad(), 1);
                check(failures, c.name + ".weight_grad", be, gamma.grad(), 1);
                check(failures, c.name + ".bias_grad", be, beta.grad(), 1);
                check(failures, c.name + ".running_mean_after", be, runningMean, 1);
                check(failures, c.name + ".running_var_after", be, runningVar, 1);
            }
        }
        if (!failures.isEmpty()) fail(String.join("\n", failures));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void channelNormalize(String backendName) {
        Backend be = TestBackends.get(backendName);
        List<String> failures = new ArrayList<>();
        Ops.ChannelNormalize normalize = Ops.ChannelNormalize.cifar10(be);
        for (Case c : cases("channelNormalize")) {
            try (Tape tape = new Tape(be)) {
                Variable x = tape.input(Goldens.upload(be, NORM, c.name + ".input"), true);
                Variable y = normalize.apply(x);
                assertEquals(x.shape(), y.shape());
                tape.backward(y, Goldens.upload(be, NORM, c.name + ".output_grad"));
                check(failures, c.name + ".output", be, y.data(), 1);
                check(failures, c.name + ".input_grad", be, x.grad(), 1);
            }
        }
        if (!failures.isEmpty()) fail(String.join("\n", failures));
    }
}
