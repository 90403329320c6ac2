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
