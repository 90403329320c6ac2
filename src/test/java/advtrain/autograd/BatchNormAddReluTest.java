package advtrain.autograd;

import advtrain.backend.Backend;
import advtrain.backend.FusedKernels;
import advtrain.backend.Tensors;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Tensor;
import advtrain.testing.TestBackends;
import advtrain.testing.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * relu(batchNorm(x) + residual) as one op (the Java backend's {@link FusedKernels#batchNormAddRelu},
 * which ConvBatchNorm uses in training) against the three ops it replaces, on the same backend: the
 * output, the running statistics and every gradient, bit for bit. The residual's gradient is
 * checked both when the fused op's backward gives it its first contribution (it takes over the
 * masked gradient tensor) and when another op gave it one before (it is added).
 */
class BatchNormAddReluTest {

    /** What one run leaves: y, running mean and var, then the gradients of x, gamma, beta and the residual. */
    private static List<float[]> run(boolean fused, int[] shape, boolean training, boolean withResidual, boolean residualUsedTwice,
                                     boolean xNeedsGrad) {
        Backend be = TestBackends.get("java");
        SplittableRandom random = new SplittableRandom(7);
        int c = shape[1];
        HostTensor x = TestData.uniform(random, -2, 2, shape), residual = TestData.uniform(random, -1, 1, shape),
                dy = TestData.uniform(random, -1, 1, shape), gamma = TestData.uniform(random, 0.5, 1.5, c),
                beta = TestData.uniform(random, -0.5, 0.5, c), runningMean = TestData.uniform(random, -0.2, 0.2, c),
                runningVar = TestData.uniform(random, 0.5, 2, c);
        Tensor rm = upload(be, runningMean), rv = upload(be, runningVar);
        Variable g = Variable.parameter(upload(be, gamma), zeros(be, c)), b = Variable.parameter(upload(be, beta), zeros(be, c));
        Ops.BatchNorm2d norm = new Ops.BatchNorm2d();
        List<float[]> out = new ArrayList<>();
        try (Tape tape = new Tape(be)) {
            Variable in = tape.input(upload(be, x), xNeedsGrad), res = withResidual ? tape.input(upload(be, residual), true) : null;
            Variable y;
            if (fused) {
                y = norm.apply(in, g, b, rm, rv, training, res, (FusedKernels) be);
            } else {
                Variable normed = norm.apply(in, g, b, rm, rv, training);
                y = Ops.relu(res == null ? normed : Ops.add(normed, res));
            }
            // With the residual used twice, its other use is recorded later, so its gradient comes first.
            Variable root = residualUsedTwice ? Ops.add(y, Ops.relu(res)) : y;
            out.add(Tensors.toArray(be, y.data()));
            tape.backward(root, upload(be, dy));
            out.add(Tensors.toArray(be, rm));
            out.add(Tensors.toArray(be, rv));
            out.add(xNeedsGrad ? Tensors.toArray(be, in.grad()) : new float[0]);
            out.add(Tensors.toArray(be, g.grad()));
            out.add(Tensors.toArray(be, b.grad()));
            out.add(res == null ? new float[0] : Tensors.toArray(be, res.grad()));
        }
        return out;
    }

    private static Tensor upload(Backend be, HostTensor t) { return Tensors.fromArray(be, t.values(), t.shape().dims()); }

    private static Tensor zeros(Backend be, int n) { return Tensors.fromArray(be, new float[n], n); }

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}] training {4}, residual {5}, used twice {6}, x needs grad {7}")
    @CsvSource({
            "4, 16, 32, 32, true, true, false, true",    // ResNet-20's first stage, a block's second batch norm
            "4, 16, 32, 32, true, false, false, true",   // and its first
            "3, 5, 5, 7, true, true, false, true",       // planes of 35: the scalar tails
            "3, 5, 5, 7, true, true, true, true",        // the residual's gradient added to, not taken over
            "3, 5, 5, 7, false, true, false, true",      // evaluation mode (an attack on the network)
            "3, 5, 5, 7, false, true, true, false",      // only the parameters and the residual need a gradient
            "2, 3, 1, 1, true, false, false, true"})     // one pixel per plane
    void oneOpGivesWhatTheThreeGiveBitForBit(int n, int c, int h, int w, boolean training, boolean withResidual,
                                            boolean residualUsedTwice, boolean xNeedsGrad) {
        int[] shape = {n, c, h, w};
        List<float[]> plain = run(false, shape, training, withResidual, residualUsedTwice, xNeedsGrad);
        List<float[]> fused = run(true, shape, training, withResidual, residualUsedTwice, xNeedsGrad);
        String[] names = {"output", "running mean", "running var", "x's gradient", "gamma's gradient", "beta's gradient",
                "the residual's gradient"};
        for (int i = 0; i < names.length; i++) assertArrayEquals(plain.get(i), fused.get(i), names[i]);
        float[] y = fused.get(0);
        int zeros = 0;
        for (float v : y) if (v == 0f) zeros++;
        assertTrue(zeros > 0 && zeros < y.length, "the ReLU cuts some values and keeps others: " + zeros + " of " + y.length);
    }
}
