package advtrain.nn;

import advtrain.autograd.GradCheck;
import advtrain.autograd.GradCheck.Argument;
import advtrain.autograd.Ops;
import advtrain.backend.Backend;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import advtrain.testing.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The whole seed network against finite differences: the loss's gradient with respect to every
 * parameter tensor and to the input images (what FGSM and PGD use). A forward pass costs about a
 * millisecond, so a random sample of elements of each tensor is checked (always its first and last).
 */
class GradCheckNetTest {
    @ParameterizedTest
    @ValueSource(strings = {"java", "opencl"})
    void gradientsOfTheLossWithRespectToParametersAndInput(String backendName) {
        Backend be = TestBackends.get(backendName);
        SplittableRandom random = new SplittableRandom(Long.parseLong(System.getenv().getOrDefault("GC_SEED", "7")));
        int batch = Integer.parseInt(System.getenv().getOrDefault("GC_N", "2"));
        boolean logits = System.getenv().containsKey("GC_LOGP");
        Net net = new Net(be, Long.parseLong(System.getenv().getOrDefault("GC_SEED", "7")));
        Tensor labels = be.fromArray(TestData.labels(random, batch, Net.CLASSES), batch);

        List<Argument> args = new ArrayList<>();
        args.add(Argument.input("input", TestData.uniform(random, 0, 1, batch, 3, 32, 32)));
        net.namedParameters().forEach((name, p) -> args.add(Argument.parameter(name, p)));

        GradCheck.Options options = GradCheck.Options.defaults().withStep(STEP).withTolerance(REL_TOL, ABS_TOL).withMaxPerArgument(24);
        GradCheck.Result result = GradCheck.check(be, "Net + nllLoss", args,
                (tape, v) -> logits ? net.forward(v.get(0)) : Ops.nllLoss(net.forward(v.get(0)), tape.constant(labels)), options);
        System.out.println(result.summary().split("\n")[0]);
        result.assertPassed();
    }

    static final double STEP = Double.parseDouble(System.getenv().getOrDefault("GC_H", "1e-2")), REL_TOL = Double.parseDouble(System.getenv().getOrDefault("GC_RTOL", "1e-2")), ABS_TOL = Double.parseDouble(System.getenv().getOrDefault("GC_ATOL", "1e-3"));
}
