package advtrain.autograd;

import advtrain.backend.Tensors;
import advtrain.backend.Backend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The tape recycles its Variable objects across steps and still gets every gradient right. */
class TapeReuseTest {
    private final Backend be = new CpuBackend();

    @Test
    void aResetTapeReusesItsVariablesAndForgetsTheirPast() {
        Tensor x = Tensors.fromArray(be, new float[] {1f, -2f, 3f}, 3);
        Variable w = Variable.parameter(Tensors.fromArray(be, new float[] {0.5f, 0.5f, 0.5f}, 3), be.allocate(Shape.of(3)));
        try (Tape tape = new Tape(be)) {
            Variable firstInput = null, firstOutput = null;
            for (int step = 0; step < 3; step++) {
                be.fill(w.grad(), 0f);
                Variable input = tape.input(x, true);
                Variable y = Ops.mean(Ops.relu(Ops.add(input, w)));  // mean(relu(x + w))
                tape.backward(y);
                // d/dx = d/dw = [1, 0, 1] / 3: relu passes where x + w > 0
                assertArrayEquals(new float[] {1f / 3, 0f, 1f / 3}, Tensors.toArray(be, input.grad()), 1e-7f);
                assertArrayEquals(new float[] {1f / 3, 0f, 1f / 3}, Tensors.toArray(be, w.grad()), 1e-7f);
                if (step == 0) {
                    firstInput = input;
                    firstOutput = y;
                } else {
                    assertSame(firstInput, input, "step " + step + " reuses the input's Variable");
                    assertSame(firstOutput, y, "and the output's");
                }
                tape.reset();
                assertNull(input.grad(), "a reset Variable keeps no gradient");
                assertNull(input.data(), "nor the step's tensor");
            }
        }
    }

    /**
     * A step as the adversarial objective takes it with batch norm: the input normalised, one
     * BatchNorm2d layer applied to two batches in training mode, one backward. Each call's saved
     * statistics come from the tape's pool, so after the first step no step allocates a tensor.
     */
    @Test
    void batchNormStepsTwiceOnOneTapeAllocateNoTensors() {
        Ops.ChannelNormalize normalize = Ops.ChannelNormalize.cifar10(be);
        Ops.BatchNorm2d layer = new Ops.BatchNorm2d();
        Shape images = Shape.of(4, 3, 5, 5);
        Tensor clean = be.allocate(images), perturbed = be.allocate(images);
        be.uniform(clean, 0f, 1f, 1);
        be.uniform(perturbed, 0f, 1f, 2);
        Tensor runningMean = be.allocate(Shape.of(3)), runningVar = be.allocate(Shape.of(3));
        be.fill(runningVar, 1f);
        Variable gamma = Variable.parameter(Tensors.fromArray(be, new float[] {1f, 0.5f, 2f}, 3), be.allocate(Shape.of(3)));
        Variable beta = Variable.parameter(be.allocate(Shape.of(3)), be.allocate(Shape.of(3)));
        try (Tape tape = new Tape(be)) {
            int afterFirst = 0;
            for (int step = 0; step < 4; step++) {
                Variable a = layer.apply(normalize.apply(tape.input(clean, true)), gamma, beta, runningMean, runningVar, true);
                Variable b = layer.apply(normalize.apply(tape.input(perturbed, true)), gamma, beta, runningMean, runningVar, true);
                tape.backward(Ops.mean(Ops.relu(Ops.add(a, b))));
                tape.reset();
                if (step == 0) afterFirst = tape.allocations();
            }
            assertEquals(afterFirst, tape.allocations(), "steady-state steps allocate no tensors");
        }
    }

    @Test
    void noGradScopesNest() {
        Variable w = Variable.parameter(Tensors.fromArray(be, new float[] {1f}, 1), be.allocate(Shape.of(1)));
        Tensor x = Tensors.fromArray(be, new float[] {2f}, 1);
        try (Tape tape = new Tape(be)) {
            try (Tape.NoGrad outer = tape.noGrad()) {
                try (Tape.NoGrad inner = tape.noGrad()) {
                    assertFalse(Ops.add(tape.constant(x), w).requiresGrad());
                }
                assertFalse(Ops.add(tape.constant(x), w).requiresGrad(), "still inside the outer scope");
            }
            assertTrue(Ops.add(tape.constant(x), w).requiresGrad(), "both scopes closed");
        }
    }
}
