package advtrain.optim;

import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.backend.OptimizerKernels;
import advtrain.backend.Tensors;
import advtrain.backend.opencl.OpenClBackend;
import advtrain.tensor.Shape;
import advtrain.testing.TestBackends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Sgd on every backend gives the bits of the reference backend's plain path (grad + decay * param,
 * momentum, update: each product rounded before its sum), the fused kernels included; a zero decay
 * gives exactly the update without decay; the gradients are only read.
 */
class SgdTest {
    private static final int[][] SHAPES = {{16, 6, 5, 5}, {16}, {5000}};
    private static final float[] RATES = {0.1f, 0.05f, 0.2f, 0f, 0.0125f};

    /** Parameters, and for each step the gradients, drawn from one seed. */
    private static float[][] draw(long seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        float[][] values = new float[count][];
        for (int i = 0; i < count; i++) {
            values[i] = new float[Shape.of(SHAPES[i % SHAPES.length]).size()];
            for (int j = 0; j < values[i].length; j++) values[i][j] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }

    /** Five steps at changing rates; returns every parameter and momentum buffer, and the gradients after the steps. */
    private static List<float[]> train(Backend be, float momentum, float decay) {
        float[][] init = draw(1, SHAPES.length), grads = draw(2, SHAPES.length * RATES.length);
        List<Variable> params = new ArrayList<>();
        for (int i = 0; i < SHAPES.length; i++) {
            params.add(Variable.parameter(Tensors.fromArray(be, init[i], SHAPES[i]), be.allocate(Shape.of(SHAPES[i]))));
        }
        Sgd sgd = new Sgd(be, params, 0.3f, momentum, decay);
        for (int step = 0; step < RATES.length; step++) {
            for (int i = 0; i < SHAPES.length; i++) be.write(params.get(i).grad(), grads[step * SHAPES.length + i], 0);
            sgd.setLr(RATES[step]);
            sgd.step();
        }
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < SHAPES.length; i++) {
            out.add(Tensors.toArray(be, params.get(i).data()));
            out.add(Tensors.toArray(be, sgd.velocities().get(i)));
            out.add(Tensors.toArray(be, params.get(i).grad()));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "opencl"})
    void everyBackendGivesTheReferenceBits(String backendName) {
        Backend be = TestBackends.get(backendName);
        assertTrue(be instanceof OptimizerKernels, backendName + " has the fused step");
        if (be instanceof OpenClBackend cl && !"separate".equals(cl.multiplyAdd())) {
            // a device that fuses a*b + c: the goldens (GoldenOptimTest) check it within float32 rounding instead
            return;
        }
        Backend reference = TestBackends.get("reference");
        assertFalse(reference instanceof OptimizerKernels, "the reference backend takes Sgd's plain path");
        for (float decay : new float[] {0f, 5e-4f, 0.05f}) {
            List<float[]> expected = train(reference, 0.9f, decay), got = train(be, 0.9f, decay);
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i), got.get(i), backendName + ", decay " + decay + ": array " + i + " bit for bit");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "java"})
    void zeroDecayIsTheUpdateWithoutDecayAndGradientsAreOnlyRead(String backendName) {
        Backend be = TestBackends.get(backendName);
        List<float[]> got = train(be, 0.9f, 0f);
        float[][] init = draw(1, SHAPES.length), grads = draw(2, SHAPES.length * RATES.length);
        for (int i = 0; i < SHAPES.length; i++) {
            float[] param = init[i].clone(), velocity = new float[param.length];
            for (int step = 0; step < RATES.length; step++) {
                float[] grad = grads[step * SHAPES.length + i];
                for (int j = 0; j < param.length; j++) {
                    velocity[j] = 0.9f * velocity[j] + grad[j];   // v = momentum * v + grad; param -= lr * v
                    param[j] -= RATES[step] * velocity[j];
                }
            }
            assertArrayEquals(param, got.get(3 * i), "param " + i);
            assertArrayEquals(velocity, got.get(3 * i + 1), "velocity " + i);
            assertArrayEquals(grads[(RATES.length - 1) * SHAPES.length + i], got.get(3 * i + 2), "the last gradients are untouched");
        }
        List<float[]> decayed = train(be, 0.9f, 0.05f);
        assertArrayEquals(grads[(RATES.length - 1) * SHAPES.length], decayed.get(2), "with decay too, the gradients are only read");
        assertFalse(java.util.Arrays.equals(got.get(0), decayed.get(0)), "decay changes the weights");
    }

    @Test
    void badSettingsAreRefused() {
        Backend be = TestBackends.get("reference");
        List<Variable> none = List.of();
        assertThrows(IllegalArgumentException.class, () -> new Sgd(be, none, 0.1f, 0.9f, -1e-4f));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(be, none, 0.1f, 0.9f, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(be, none, 0f, 0.9f, 0f));
        Sgd sgd = new Sgd(be, none, 0.1f, 0.9f, 0f);
        sgd.setLr(0f);  // a schedule's last step
        assertEquals(0f, sgd.lr());
        assertThrows(IllegalArgumentException.class, () -> sgd.setLr(-0.1f));
        assertThrows(IllegalArgumentException.class, () -> sgd.setLr(Float.POSITIVE_INFINITY));
    }
}
