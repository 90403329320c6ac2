package advtrain.golden;

import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.io.Json;
import advtrain.io.Safetensors;
import advtrain.optim.LrSchedule;
import advtrain.optim.Sgd;
import advtrain.tensor.HostTensor;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * optim against PyTorch (goldens/optim.safetensors, written by tools/make_optim_goldens.py):
 * torch.optim.SGD with momentum and weight decay over a few steps whose learning rate changes from
 * step to step, on every backend, and the one-cycle and cosine schedules against the Python
 * formulas of Wong et al.'s code at every step of several runs.
 */
class GoldenOptimTest {
    private static final Safetensors.Contents OPTIM = Goldens.read("optim.safetensors");

    /** The SGD case's settings from the file's metadata. */
    private record Case(List<Float> lr, float momentum, float weightDecay, int steps, List<String> params) {
        static Case of(String name) {
            Map<?, ?> m = (Map<?, ?>) Json.parse(OPTIM.metadata().get(name));
            List<Float> lr = new ArrayList<>();
            for (Object r : (List<?>) m.get("lr")) lr.add(((Number) r).floatValue());
            List<String> params = new ArrayList<>();
            for (Object p : (List<?>) m.get("params")) params.add((String) p);
            return new Case(lr, ((Number) m.get("momentum")).floatValue(), ((Number) m.get("weight_decay")).floatValue(),
                    ((Number) m.get("steps")).intValue(), params);
        }
    }

    /** Runs the case's steps on {@code be} with the given decay; returns the failures against the goldens. */
    private static List<String> run(Backend be, String name, float weightDecay) {
        Case c = Case.of(name);
        List<Variable> params = new ArrayList<>();
        for (String p : c.params()) {
            HostTensor init = Goldens.tensor(OPTIM, name + "." + p + ".init");
            params.add(Variable.parameter(Tensors.fromArray(be, init.values(), init.shape().dims()), be.allocate(init.shape())));
        }
        Sgd sgd = new Sgd(be, params, c.lr().get(0), c.momentum(), weightDecay);
        List<String> failures = new ArrayList<>();
        for (int k = 1; k <= c.steps(); k++) {
            for (int i = 0; i < params.size(); i++) {
                be.write(params.get(i).grad(), Goldens.tensor(OPTIM, name + "." + c.params().get(i) + ".grad" + k).values(), 0);
            }
            sgd.setLr(c.lr().get(k - 1));
            sgd.step();
            for (int i = 0; i < params.size(); i++) {
                String p = c.params().get(i);
                check(failures, name + " step " + k + " " + p, Goldens.tensor(OPTIM, name + "." + p + ".step" + k),
                        Tensors.toArray(be, params.get(i).data()));
                if (k == c.steps()) {
                    check(failures, name + " velocity " + p, Goldens.tensor(OPTIM, name + "." + p + ".velocity"),
                            Tensors.toArray(be, sgd.velocities().get(i)));
                }
            }
        }
        return failures;
    }

    private static void check(List<String> failures, String what, HostTensor expected, float[] got) {
        try {
            Goldens.assertClose(what, expected, got, Goldens.OP_TOLERANCE);
        } catch (AssertionError e) {
            failures.add(e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java", "opencl"})
    void sgdWithMomentumAndWeightDecayMatchesPyTorch(String backendName) {
        Backend be = TestBackends.get(backendName);
        for (String name : List.of("sgd_decay", "sgd_decay_5e-4")) {
            List<String> failures = run(be, name, Case.of(name).weightDecay());
            assertTrue(failures.isEmpty(), backendName + ":\n" + String.join("\n", failures));
            // The test can fail: the same steps without the decay are far from PyTorch's.
            assertFalse(run(be, name, 0f).isEmpty(), name + " without weight decay should not match");
        }
    }

    @Test
    void schedulesMatchThePythonFormulasAtEveryStep() {
        int cases = 0;
        for (String name : OPTIM.tensors().keySet()) {
            if (!name.startsWith("schedule.")) continue;
            cases++;
            Map<?, ?> m = (Map<?, ?>) Json.parse(OPTIM.metadata().get(name));
            LrSchedule schedule = new LrSchedule(LrSchedule.Kind.parse((String) m.get("kind")), ((Number) m.get("peak")).floatValue(),
                    ((Number) m.get("epochs")).intValue());
            int batches = ((Number) m.get("batches")).intValue();
            float[] expected = Goldens.tensor(OPTIM, name).values();
            assertEquals(schedule.epochs() * batches, expected.length, name);
            for (int step = 0; step < expected.length; step++) {
                float got = schedule.lr(step / batches, step % batches, batches);
                // Java's and numpy's cosines may differ in their last bit: after rounding to float, at most one float
                // step, or near 0 (cos(pi) of the last step) an absolute 1e-12 (numpy has 1.1e-17 there, Java 0).
                assertEquals(expected[step], got, Math.max(Math.ulp(expected[step]), 1e-12f), name + " step " + step);
            }
            assertEquals(0f, expected[expected.length - 1], 1e-9f, name + ": the last step's rate is 0");
        }
        assertEquals(10, cases, "schedule cases in the golden file");
    }
}
