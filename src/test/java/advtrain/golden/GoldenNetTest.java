package advtrain.golden;

import advtrain.backend.Tensors;
import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.nn.ModelFiles;
import advtrain.io.Safetensors;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The seed's whole network against PyTorch: with the weights of goldens/net_state.safetensors (a
 * PyTorch state_dict, loaded the way users load models), the log-probabilities, the NLL loss, the
 * gradient of every parameter and of the input (goldens/net.safetensors), and five steps of SGD
 * with momentum (goldens/sgd.safetensors). Error measure: {@link Goldens}; limit 1e-4.
 */
class GoldenNetTest {
    private static final Safetensors.Contents NET = Goldens.read("net.safetensors");
    private static final Safetensors.Contents SGD = Goldens.read("sgd.safetensors");

    private static Net loadNet(Backend be) throws IOException {
        Net net = new Net(be, 12345);  // a random initialisation, replaced by the golden weights
        Map<String, String> metadata = ModelFiles.load(net, be, Goldens.path("net_state.safetensors"));
        assertEquals("tools/make_goldens.py", metadata.get("source"));
        return net;
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void forwardLossAndGradientsMatchPyTorch(String backendName) throws IOException {
        Backend be = TestBackends.get(backendName);
        Net net = loadNet(be);
        List<String> failures = new ArrayList<>();
        try (Tape tape = new Tape(be)) {
            net.zeroGrad(be);
            Variable input = tape.input(Goldens.upload(be, NET, "input"), true);
            Variable logProbs = net.forward(input);
            Variable loss = Ops.nllLoss(logProbs, tape.constant(Goldens.upload(be, NET, "labels")));
            tape.backward(loss);

            Goldens.collect(failures, () -> Goldens.assertClose("log_probs", Goldens.tensor(NET, "log_probs"), Tensors.toArray(be, logProbs.data()), Goldens.NET_TOLERANCE));
            Goldens.collect(failures, () -> Goldens.assertClose("loss", Goldens.tensor(NET, "loss"), Tensors.toArray(be, loss.data()), Goldens.NET_TOLERANCE));
            Goldens.collect(failures, () -> Goldens.assertClose("input_grad", Goldens.tensor(NET, "input_grad"), Tensors.toArray(be, input.grad()), Goldens.NET_TOLERANCE));
            net.namedParameters().forEach((name, p) -> Goldens.collect(failures, () ->
                    Goldens.assertClose("grad." + name, Goldens.tensor(NET, "grad." + name), Tensors.toArray(be, p.grad()), Goldens.NET_TOLERANCE)));
        }
        if (!failures.isEmpty()) fail(String.join("\n", failures));
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void fiveSgdStepsWithMomentumMatchPyTorch(String backendName) throws IOException {
        Backend be = TestBackends.get(backendName);
        Map<String, String> settings = SGD.metadata();
        int steps = Integer.parseInt(settings.get("steps"));
        assertEquals(5, steps);
        Net net = loadNet(be);
        Sgd sgd = new Sgd(be, net.parameters(), Float.parseFloat(settings.get("lr")), Float.parseFloat(settings.get("momentum")));
        Tensor images = Goldens.upload(be, NET, "input"), labels = Goldens.upload(be, NET, "labels");
        float[] expectedLosses = Goldens.tensor(SGD, "loss").values();
        float[] losses = new float[steps];
        List<String> failures = new ArrayList<>();
        try (Tape tape = new Tape(be)) {
            for (int step = 1; step <= steps; step++) {
                net.zeroGrad(be);
                Variable loss = Ops.nllLoss(net.forward(tape.input(images, false)), tape.constant(labels));
                tape.backward(loss);
                losses[step - 1] = Ops.item(loss);
                sgd.step();
                tape.reset();
                // After step k the golden holds param.flatten()[k-1::steps]: every element is checked once.
                for (var e : net.namedParameters().entrySet()) {
                    String name = "step" + step + "." + e.getKey();
                    float[] got = Goldens.strided(Tensors.toArray(be, e.getValue().data()), step - 1, steps);
                    Goldens.collect(failures, () -> Goldens.assertClose(name, Goldens.tensor(SGD, name), got, Goldens.NET_TOLERANCE));
                }
            }
        }
        for (int i = 0; i < steps; i++) {
            double error = Math.abs(losses[i] - expectedLosses[i]) / Math.abs(expectedLosses[i]);
            if (!(error <= Goldens.NET_TOLERANCE)) {
                failures.add(String.format("loss of step %d: expected %.7f, got %.7f (relative error %.2g)", i + 1, expectedLosses[i], losses[i], error));
            }
        }
        if (!failures.isEmpty()) fail(String.join("\n", failures));
        assertTrue(losses[steps - 1] < losses[0] - 0.01, "the steps lower the loss: " + java.util.Arrays.toString(losses));
    }
}
