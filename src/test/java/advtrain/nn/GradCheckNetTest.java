package advtrain.nn;

import advtrain.backend.Tensors;
import advtrain.autograd.GradCheck;
import advtrain.autograd.GradCheck.Argument;
import advtrain.autograd.Ops;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import advtrain.testing.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The whole seed network against finite differences: the gradient with respect to every parameter
 * tensor and to the input images (what FGSM and PGD use), for a batch of two so that parameter
 * gradients must sum over the batch. A forward pass costs about a millisecond, so 24 elements of
 * each tensor are checked, chosen at random (always the first and the last).
 *
 * <p>Why the tolerances are looser than for single ops. A nudge of one conv1 weight moves ~1,600
 * ReLU inputs and max-pool windows at once; some of them sit closer to a kink than the step h, and
 * each one crossed shifts the difference quotient by that unit's share of the gradient. Shrinking h
 * avoids kinks but meets float32 rounding: a log-probability near -2.3 is only known to 2.4e-7,
 * which divided by 2h is 1.2e-4 at h = 1e-3, as large as many of the loss's gradient elements. So:
 * <ul>
 *   <li>the network's logits (every layer but the final log-softmax) are checked at h = 3e-4: they are
 *       of order 0.1, so rounding is 20 times smaller, and the error allowed is 2 % of the element plus
 *       5 % of the largest gradient element of the same tensor;</li>
 *   <li>the loss as training and the attacks use it, Net then NLLLoss, backward from 1, is checked at
 *       h = 2e-3 with 5 % + 10 % of the tensor's largest element.</li>
 * </ul>
 * Over a dozen seeds the worst element used 10-90 % of these allowances; a wrong backward (a missing
 * factor, a term or an image of the batch) misses by 50 % or more. The exact check of the whole Net,
 * to 1e-4, is the PyTorch golden test (advtrain.golden.GoldenNetTest); the exact checks of each
 * op's backward are in GradCheckOpsTest.
 */
class GradCheckNetTest {
    private static final int BATCH = 2, PER_TENSOR = 24;
    private static final long SEED = 3;

    /** 24 elements of each tensor, or all of a smaller one (conv1.bias has 6). */
    private static int expectedChecks(Net net) {
        int n = PER_TENSOR;
        for (Variable p : net.parameters()) n += Math.min(PER_TENSOR, p.shape().size());
        return n;
    }

    private static List<Argument> inputAndParameters(Net net, SplittableRandom random) {
        List<Argument> args = new ArrayList<>();
        args.add(Argument.input("input", TestData.uniform(random, 0, 1, BATCH, 3, 32, 32)));
        net.namedParameters().forEach((name, p) -> args.add(Argument.parameter(name, p)));
        return args;
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void gradientsOfTheLogitsWithRespectToEveryParameterAndTheInput(String backendName) {
        Backend be = TestBackends.get(backendName);
        Net net = new Net(be, SEED);
        GradCheck.Options options = GradCheck.Options.defaults().withStep(3e-4)
                .withTolerance(2e-2, 1e-6).withScaleTolerance(5e-2).withMaxPerArgument(PER_TENSOR);
        GradCheck.Result result = GradCheck.check(be, "Net (to logits)", inputAndParameters(net, new SplittableRandom(SEED)),
                (tape, v) -> net.logits(v.get(0)), options);
        result.assertPassed();
        assertEquals(expectedChecks(net), result.checked());
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void gradientsOfTheLossWithRespectToEveryParameterAndTheInput(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(SEED);
        Net net = new Net(be, SEED);
        List<Argument> args = inputAndParameters(net, random);
        Tensor labels = Tensors.fromArray(be, TestData.labels(random, BATCH, Net.CLASSES), BATCH);
        GradCheck.Options options = GradCheck.Options.defaults().withStep(2e-3)
                .withTolerance(5e-2, 1e-6).withScaleTolerance(1e-1).withMaxPerArgument(PER_TENSOR);
        GradCheck.Result result = GradCheck.check(be, "Net + nllLoss", args,
                (tape, v) -> Ops.nllLoss(net.forward(v.get(0)), tape.constant(labels)), options);
        result.assertPassed();
        assertEquals(expectedChecks(net), result.checked());
    }
}
