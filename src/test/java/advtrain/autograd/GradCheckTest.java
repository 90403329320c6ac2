package advtrain.autograd;

import advtrain.backend.Tensors;
import advtrain.autograd.GradCheck.Argument;
import advtrain.autograd.GradCheck.Failure;
import advtrain.backend.Backend;
import advtrain.backend.cpu.CpuBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/** GradCheck itself: it must catch wrong backward steps and say exactly where. */
class GradCheckTest {
    private final Backend be = new CpuBackend();

    /** ReLU whose backward forgets the mask: the gradient also flows where the input was negative. */
    private static Variable leakyBackwardRelu(Variable x) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        Variable y = tape.result(x.shape(), x, null, null);
        be.unary(Backend.UnaryOp.RELU, x.data(), y.data());
        tape.record(y, (out, backend, t) -> be.axpy(1f, y.grad, tape.gradOf(x)));
        return y;
    }

    /** y = 2x, whose backward forgets the factor 2. */
    private static Variable doubleWithoutFactor(Variable x) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        Variable y = tape.result(x.shape(), x, null, null);
        be.affine(x.data(), 2f, 0f, y.data());
        tape.record(y, (out, backend, t) -> be.axpy(1f, y.grad, tape.gradOf(x)));
        return y;
    }

    /** y = x, whose backward skips the last element (an off-by-one in a loop bound). */
    private static Variable identityDroppingLast(Variable x) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        Variable y = tape.result(x.shape(), x, null, null);
        be.copy(x.data(), y.data());
        tape.record(y, (out, backend, t) -> {
            float[] dy = Tensors.toArray(be, y.grad), dx = Tensors.toArray(be, tape.gradOf(x));
            for (int i = 0; i < dx.length - 1; i++) dx[i] += dy[i];
            be.write(tape.gradOf(x), dx, 0);
        });
        return y;
    }

    private static float[] values(int n, float first, float step) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = first + i * step;
        return v;
    }

    @Test
    void passesACorrectOp() {
        GradCheck.Result r = GradCheck.check(be, "relu",
                List.of(Argument.input("x", values(12, -1.05f, 0.2f), 3, 4)), (tape, v) -> Ops.relu(v.get(0)));
        assertTrue(r.passed(), r::summary);
        assertEquals(12, r.checked());
        assertTrue(r.worstRatio() < 0.1, "a correct op is far inside the tolerance: " + r.worstRatio());
        r.assertPassed();
    }

    @Test
    void reportsEachWrongElementWithOpArgumentIndexExpectedAndGot() {
        float[] x = values(10, -0.95f, 0.2f);  // -0.95, -0.75, ..., 0.85: the first five are negative
        GradCheck.Result r = GradCheck.check(be, "leakyRelu", List.of(Argument.input("x", x, 2, 5)),
                (tape, v) -> leakyBackwardRelu(v.get(0)));
        assertFalse(r.passed());
        assertEquals(10, r.checked());
        Set<Integer> wrong = new TreeSet<>();
        for (Failure f : r.failures()) {
            assertEquals("leakyRelu", f.op());
            assertEquals("x", f.argument());
            assertEquals(0.0, f.expected(), 1e-4, "no gradient where relu is flat");
            assertNotEquals(0.0, f.got());
            wrong.add(f.index());
        }
        assertEquals(Set.of(0, 1, 2, 3, 4), wrong);
        String summary = r.summary();
        assertTrue(summary.contains("5 of 10"), summary);
        assertTrue(summary.contains("leakyRelu: d/d x[3]: expected"), summary);
        assertTrue(summary.contains("got"), summary);
        AssertionError e = assertThrows(AssertionError.class, r::assertPassed);
        assertEquals(summary, e.getMessage());
    }

    @Test
    void catchesAMissingFactor() {
        GradCheck.Result r = GradCheck.check(be, "double", List.of(Argument.input("x", values(6, -0.5f, 0.2f), 6)),
                (tape, v) -> doubleWithoutFactor(v.get(0)));
        assertEquals(6, r.failures().size());
        for (Failure f : r.failures()) assertEquals(2 * f.got(), f.expected(), 1e-3, f.toString());
    }

    @Test
    void aScalarOutputIsDifferentiatedAsItIs() {
        // d mean / dx_i = 1/n exactly: the scalar path seeds backward with 1, not a random weight.
        GradCheck.Result r = GradCheck.check(be, "mean", List.of(Argument.input("x", values(8, 0f, 0.1f), 8)),
                (tape, v) -> Ops.mean(doubleWithoutFactor(v.get(0))));
        assertEquals(8, r.failures().size());
        for (Failure f : r.failures()) {
            assertEquals(2.0 / 8, f.expected(), 1e-4);
            assertEquals(1.0 / 8, f.got(), 1e-7);
        }
    }

    @Test
    void samplingChecksAtMostTheLimitAndAlwaysTheLastElement() {
        GradCheck.Options options = GradCheck.Options.defaults().withMaxPerArgument(4);
        GradCheck.Result r = GradCheck.check(be, "dropLast", List.of(Argument.input("x", values(50, -1f, 0.04f), 50)),
                (tape, v) -> identityDroppingLast(v.get(0)), options);
        assertEquals(4, r.checked());
        assertEquals(1, r.failures().size());
        assertEquals(49, r.failures().get(0).index());
    }

    @Test
    void parametersAreNudgedInPlaceAndRestored() {
        float[] w = values(6, -0.3f, 0.11f);
        Variable weight = Variable.parameter(Tensors.fromArray(be, w, 2, 3), be.allocate(Shape.of(2, 3)));
        Tensor x = Tensors.fromArray(be, values(12, -1f, 0.17f), 4, 3);
        be.fill(weight.grad(), 42f);  // stale gradient: GradCheck must zero it first
        GradCheck.Result r = GradCheck.check(be, "linear", List.of(Argument.parameter("weight", weight)),
                (tape, v) -> Ops.linear(tape.constant(x), weight, null));
        r.assertPassed();
        assertEquals(6, r.checked());
        assertArrayEquals(w, Tensors.toArray(be, weight.data()), "values restored exactly");
        // The parameter's gradient holds the analytic gradient: not the stale 42s.
        for (float g : Tensors.toArray(be, weight.grad())) assertTrue(Math.abs(g) < 10, "gradient " + g);
    }

    @Test
    void refusesAParameterThatDoesNotRequireGrad() {
        Variable frozen = Variable.parameter(be.allocate(Shape.of(2)), be.allocate(Shape.of(2)));
        frozen.setRequiresGrad(false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Argument.parameter("frozen", frozen));
        assertTrue(e.getMessage().contains("frozen"), e.getMessage());
    }

    @Test
    void anArgumentTheOutputDoesNotDependOnHasZeroGradient() {
        GradCheck.Result r = GradCheck.check(be, "relu(a)", List.of(
                        Argument.input("a", values(4, 0.1f, 0.2f), 4),
                        Argument.input("unused", values(3, 1f, 1f), 3)),
                (tape, v) -> Ops.relu(v.get(0)));
        r.assertPassed();
        assertEquals(7, r.checked());
    }
}
