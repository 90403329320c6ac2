package advtrain.backend.cpu;

import advtrain.backend.Tensors;
import advtrain.backend.Backend;
import advtrain.backend.Backend.BinaryOp;
import advtrain.backend.Backend.ReduceOp;
import advtrain.backend.Backend.UnaryOp;
import advtrain.backend.reference.HeapStorage;
import advtrain.backend.reference.ReferenceBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every kernel the fast {@link CpuBackend} replaces but the convolutions ({@link CpuConvKernelsTest}),
 * and its fused kernels, against the {@link ReferenceBackend} (the definition: simple loops), on
 * random inputs: pooling, linear layers, activations, the loss, the optimiser, elementwise kernels
 * and reductions, at the seed's shapes at batch 32 and 4 and at odd sizes, with null arguments and
 * the accumulation contract (backward kernels ADD into gradients that already hold values). The
 * tolerances are {@link KernelTestSupport}'s.
 */
class CpuKernelsTest extends KernelTestSupport {
    // ---- pooling ----------------------------------------------------------------------------------

    record Pool(int n, int c, int h, int w, int kernel, int stride) {
        @Override public String toString() { return "in[" + n + "," + c + "," + h + "," + w + "] kernel " + kernel + " stride " + stride; }
    }

    static Stream<Pool> pools() {
        return Stream.of(
                new Pool(32, 6, 28, 28, 2, 2), new Pool(32, 16, 10, 10, 2, 2),   // the seed's, batch 32
                new Pool(4, 6, 28, 28, 2, 2), new Pool(4, 16, 10, 10, 2, 2),     // batch 4
                new Pool(2, 3, 11, 13, 3, 2),                                    // 3/2 on odd sizes
                new Pool(2, 3, 9, 9, 3, 3), new Pool(2, 2, 7, 6, 2, 1),          // 3/3, overlapping 2/1
                new Pool(3, 5, 15, 17, 2, 2),                                    // odd: the last row and column drop
                new Pool(3, 4, 9, 11, 2, 2), new Pool(2, 3, 6, 6, 2, 2));        // rows narrower than a vector
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pools")
    void maxPoolMatchesReferenceIncludingTies(Pool p) {
        for (Tensor x : new Tensor[] {random(-1, 1, p.n, p.c, p.h, p.w), coarse(3, p.n, p.c, p.h, p.w)}) {
            Shape outShape = advtrain.backend.PoolGeometry.outputShape("maxPool2d", x.shape(), p.kernel, p.stride);
            Tensor expected = ref.allocate(outShape), actual = random(-9, 9, outShape.dims());
            ref.maxPool2d(x, expected, p.kernel, p.stride);
            fast.maxPool2d(x, actual, p.kernel, p.stride);
            assertClose("maxPool2d " + p, expected, actual, 0f);
            Tensor dy = random(-1, 1, outShape.dims()), dx = random(-1, 1, x.shape().dims()), dxRef = copyOf(dx);
            ref.maxPool2dBackward(x, dy, dxRef, p.kernel, p.stride);
            fast.maxPool2dBackward(x, dy, dx, p.kernel, p.stride);
            assertClose("maxPool2dBackward " + p, dxRef, dx, ELEMENTWISE);
            // Into a gradient not yet written (garbage here): the same as adding to zeros.
            Tensor zeros = ref.allocate(x.shape()), fresh = random(-9, 9, x.shape().dims());
            ref.fill(zeros, 0f);
            ref.maxPool2dBackward(x, dy, zeros, p.kernel, p.stride);
            fast.maxPool2dBackwardFresh(x, dy, fresh, p.kernel, p.stride);
            assertClose("maxPool2dBackwardFresh " + p, zeros, fresh, 0f);
        }
    }

    /** NaNs win their window, forward and backward; at widths the vectorised path takes too (8, 10, 28, 40). */
    @ParameterizedTest
    @ValueSource(ints = {6, 8, 10, 28, 40})
    void maxPoolPropagatesNaNLikeReference(int size) {
        Tensor x = coarse(3, 2, 3, size, size);
        float[] v = Tensors.toArray(fast, x);
        int plane = size * size;
        v[5] = Float.NaN; v[plane + 2 * size + 18 % size] = Float.NaN; v[3 * plane - 1] = Float.NaN;
        v[4 * plane + size + 27 % size] = Float.NaN; v[5 * plane + 17] = Float.NaN; v[5 * plane + 16] = Float.NaN;
        fast.write(x, v, 0);
        Shape pooled = Shape.of(2, 3, size / 2, size / 2);
        Tensor expected = ref.allocate(pooled), actual = fast.allocate(pooled);
        ref.maxPool2d(x, expected, 2, 2);
        fast.maxPool2d(x, actual, 2, 2);
        assertClose("maxPool2d with NaN", expected, actual, 0f);
        Tensor dy = random(-1, 1, pooled.dims()), dx = random(-1, 1, x.shape().dims()), dxRef = copyOf(dx);
        ref.maxPool2dBackward(x, dy, dxRef, 2, 2);
        fast.maxPool2dBackward(x, dy, dx, 2, 2);
        assertClose("maxPool2dBackward with NaN", dxRef, dx, 0f);
        Tensor zeros = ref.allocate(x.shape()), fresh = random(-9, 9, x.shape().dims());
        ref.fill(zeros, 0f);
        ref.maxPool2dBackward(x, dy, zeros, 2, 2);
        fast.maxPool2dBackwardFresh(x, dy, fresh, 2, 2);
        assertClose("maxPool2dBackwardFresh with NaN", zeros, fresh, 0f);
    }

    // ---- linear -----------------------------------------------------------------------------------

    record Lin(int batch, int in, int out) {
        @Override public String toString() { return "x[" + batch + "," + in + "] w[" + out + "," + in + "]"; }
    }

    static Stream<Lin> linears() {
        return Stream.of(new Lin(32, 400, 120), new Lin(32, 120, 84), new Lin(32, 84, 10),  // the seed's fc1-3
                new Lin(4, 400, 120), new Lin(4, 120, 84), new Lin(4, 84, 10),
                new Lin(256, 400, 120), new Lin(5, 17, 3), new Lin(1, 1, 1), new Lin(7, 33, 65), new Lin(3, 100, 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("linears")
    void linearMatchesReference(Lin l) {
        Tensor x = random(-1, 1, l.batch, l.in), w = random(-0.5f, 0.5f, l.out, l.in), b = random(-1, 1, l.out);
        for (Tensor bias : new Tensor[] {b, null}) {
            Tensor expected = ref.allocate(Shape.of(l.batch, l.out)), actual = random(-9, 9, l.batch, l.out);
            ref.linear(x, w, bias, expected);
            fast.linear(x, w, bias, actual);
            assertClose("linear " + l + (bias == null ? " no bias" : ""), expected, actual, SUMS);
        }
        Tensor dy = random(-1, 1, l.batch, l.out);
        for (int present = 0; present < 8; present++) {
            Tensor dx = (present & 1) != 0 ? random(-1, 1, l.batch, l.in) : null;
            Tensor dw = (present & 2) != 0 ? random(-1, 1, l.out, l.in) : null;
            Tensor db = (present & 4) != 0 ? random(-1, 1, l.out) : null;
            Tensor dxRef = copyOrNull(fast, dx), dwRef = copyOrNull(fast, dw), dbRef = copyOrNull(fast, db);
            ref.linearBackward(x, w, dy, dxRef, dwRef, dbRef);
            fast.linearBackward(x, w, dy, dx, dw, db);
            if (dx != null) assertClose("linearBackward inputGrad " + l, dxRef, dx, SUMS);
            if (dw != null) assertClose("linearBackward weightGrad " + l, dwRef, dw, SUMS);
            if (db != null) assertClose("linearBackward biasGrad " + l, dbRef, db, SUMS);
        }
    }

    /** The flattened view of a 4-d tensor works as a linear input (rowSize, not dim(1)). */
    @Test
    void linearTakesAFlattenedImageBatch() {
        Tensor x = random(-1, 1, 6, 16, 5, 5), w = random(-0.5f, 0.5f, 120, 400), b = random(-1, 1, 120);
        Tensor expected = ref.allocate(Shape.of(6, 120)), actual = fast.allocate(Shape.of(6, 120));
        ref.linear(x, w, b, expected);
        fast.linear(x, w, b, actual);
        assertClose("linear of [6,16,5,5]", expected, actual, SUMS);
    }

    // ---- activations, loss, optimiser ---------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 100, 150_528, 1_000_003})
    void reluMatchesReference(int size) {
        Tensor x = random(-1, 1, size);
        Tensor expected = ref.allocate(x.shape()), actual = fast.allocate(x.shape());
        ref.unary(UnaryOp.RELU, x, expected);
        fast.unary(UnaryOp.RELU, x, actual);
        assertClose("relu", expected, actual, 0f);
        Tensor dy = random(-1, 1, size), dx = random(-1, 1, size), dxRef = copyOf(dx);
        ref.reluBackward(expected, dy, dxRef);
        fast.reluBackward(expected, dy, dx);
        assertClose("reluBackward", dxRef, dx, 0f);
        // Into a gradient not yet written: its old contents (garbage here) are ignored.
        Tensor fresh = random(-9, 9, size), zeros = ref.allocate(x.shape());
        ref.fill(zeros, 0f);
        ref.reluBackward(expected, dy, zeros);
        fast.reluBackwardFresh(expected, dy, fresh);
        assertClose("reluBackwardFresh", zeros, fresh, 0f);
        fast.unary(UnaryOp.RELU, x, x);  // in place
        assertClose("relu in place", expected, x, 0f);
    }

    /** Where ReLU blocks the gradient, the input gradient keeps its bits (-0 stays -0), as in the reference. */
    @Test
    void reluBackwardLeavesBlockedGradientsBitForBit() {
        int n = 1000;
        float[] y = new float[n], dy = new float[n], dx = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3 == 0 ? 0.5f : (i % 3 == 1 ? 0f : -0f);
            dy[i] = i % 2 == 0 ? 1f : -1f;
            dx[i] = i % 4 == 0 ? -0f : 0f;
        }
        Tensor out = Tensors.fromArray(fast, y, n), g = Tensors.fromArray(fast, dy, n), d1 = Tensors.fromArray(fast, dx, n), d2 = Tensors.fromArray(fast, dx, n);
        ref.reluBackward(out, g, d1);
        fast.reluBackward(out, g, d2);
        float[] expected = Tensors.toArray(fast, d1), actual = Tensors.toArray(fast, d2);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "reluBackward bits at " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"32x10", "4x10", "256x10", "7x13", "1x1"})
    void logSoftmaxAndNllMatchReference(String dims) {
        int rows = Integer.parseInt(dims.split("x")[0]), cols = Integer.parseInt(dims.split("x")[1]);
        Tensor x = random(-20, 20, rows, cols);
        Tensor expected = ref.allocate(x.shape()), actual = fast.allocate(x.shape());
        ref.logSoftmax(x, expected);
        fast.logSoftmax(x, actual);
        assertClose("logSoftmax " + dims, expected, actual, SUMS);
        Tensor dy = random(-1, 1, rows, cols), dx = random(-1, 1, rows, cols), dxRef = copyOf(dx);
        ref.logSoftmaxBackward(expected, dy, dxRef);
        fast.logSoftmaxBackward(expected, dy, dx);
        assertClose("logSoftmaxBackward " + dims, dxRef, dx, SUMS);

        Tensor y = labels(rows, cols);
        Tensor lossRef = ref.allocate(Shape.of(rows)), loss = random(-9, 9, rows);
        ref.nllLoss(expected, y, lossRef);
        fast.nllLoss(expected, y, loss);
        assertClose("nllLoss " + dims, lossRef, loss, 0f);
        Tensor dl = random(-1, 1, rows), dlp = random(-1, 1, rows, cols), dlpRef = copyOf(dlp);
        ref.nllLossBackward(y, dl, dlpRef);
        fast.nllLossBackward(y, dl, dlp);
        assertClose("nllLossBackward " + dims, dlpRef, dlp, 0f);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 10, 450, 48_000, 1_000_003})
    void sgdStepMatchesThePlainKernels(int size) {
        for (float decay : new float[] {0f, 0.05f}) {
            Tensor p = random(-1, 1, size), g = random(-1, 1, size), v = random(-1, 1, size);
            Tensor pRef = copyOf(p), vRef = copyOf(v), gRef = copyOf(g), decayed = copyOf(g);
            float[] gradBefore = HeapStorage.array(g).clone();
            for (int step = 0; step < 3; step++) {
                ref.copy(gRef, decayed);            // what optim.Sgd does without the fused kernel
                if (decay != 0f) ref.axpy(decay, pRef, decayed);
                ref.affine(vRef, 0.9f, 0f, vRef);
                ref.axpy(1f, decayed, vRef);
                ref.axpy(-0.01f, vRef, pRef);
                fast.sgdStep(p, g, v, 0.01f, 0.9f, decay);
            }
            // The same roundings in the same order: the same bits.
            assertArrayEquals(HeapStorage.array(pRef), HeapStorage.array(p), "sgdStep param, decay " + decay);
            assertArrayEquals(HeapStorage.array(vRef), HeapStorage.array(v), "sgdStep velocity, decay " + decay);
            assertArrayEquals(gradBefore, HeapStorage.array(g), "the gradient is only read");
        }
    }

    // ---- elementwise and reductions -----------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 17, 1000, 150_528, 1_000_003})
    void elementwiseKernelsMatchReference(int size) {
        Tensor a = random(-2, 2, size), b = random(-2, 2, size);
        float[] av = Tensors.toArray(fast, a);
        av[0] = 0f;
        if (size > 2) { av[1] = Float.NaN; av[2] = -0f; }
        fast.write(a, av, 0);
        List<Tensor[]> results = new ArrayList<>();  // {expected, actual}
        for (Backend be : new Backend[] {ref, fast}) {
            int slot = be == ref ? 0 : 1;
            Tensor[] outs = new Tensor[11];
            for (int i = 0; i < outs.length; i++) outs[i] = random(-9, 9, size);  // overwritten
            be.binary(BinaryOp.ADD, a, b, outs[0]);
            be.affine(a, -1.5f, 0.25f, outs[1]);
            be.unary(UnaryOp.SIGN, a, outs[2]);
            be.clamp(a, -0.5f, 0.75f, outs[3]);
            be.binary(BinaryOp.MIN, a, b, outs[4]);
            be.binary(BinaryOp.MAX, a, b, outs[5]);
            be.copy(b, outs[6]);
            be.axpy(0.3f, a, outs[6]);
            be.fill(outs[7], 0.125f);
            be.uniform(outs[8], -0.25f, 2f, 99L);
            be.binary(BinaryOp.MUL, a, b, outs[9]);
            be.clamp(b, 0f, Float.POSITIVE_INFINITY, outs[10]);
            be.unary(UnaryOp.RSQRT, outs[10], outs[10]);
            for (int i = 0; i < outs.length; i++) {
                if (slot == 0) results.add(new Tensor[2]);
                results.get(i)[slot] = outs[i];
            }
        }
        String[] kernel = {"add", "affine", "sign", "clamp", "minimum", "maximum", "axpy", "fill", "uniform", "mul", "rsqrt"};
        for (int i = 0; i < kernel.length; i++) assertClose(kernel[i] + " size " + size, results.get(i)[0], results.get(i)[1], 0f);

        // In place: out is an input.
        Tensor x1 = copyOf(b), x2 = copyOf(b);
        ref.binary(BinaryOp.ADD, x1, a, x1);
        fast.binary(BinaryOp.ADD, x2, a, x2);
        assertClose("add in place", x1, x2, 0f);
        ref.affine(x1, 2f, -1f, x1);
        fast.affine(x2, 2f, -1f, x2);
        assertClose("affine in place", x1, x2, 0f);
        ref.clamp(x1, 0f, 1f, x1);
        fast.clamp(x2, 0f, 1f, x2);
        assertClose("clamp in place", x1, x2, 0f);
        ref.unary(UnaryOp.SIGN, x1, x1);
        fast.unary(UnaryOp.SIGN, x2, x2);
        assertClose("sign in place", x1, x2, 0f);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 17, 1000, 150_528, 1_000_003})
    void reductionsMatchReference(int size) {
        Tensor x = random(-1, 2, size);
        Tensor sumRef = ref.allocate(Shape.of(1)), sum = fast.allocate(Shape.of(1));
        ref.reduce(ReduceOp.SUM, x, sumRef);
        fast.reduce(ReduceOp.SUM, x, sum);
        double scale = 0;  // |sum| can cancel: compare with the sum of magnitudes
        for (float v : Tensors.toArray(fast, x)) scale += Math.abs(v);
        assertEquals(Tensors.toArray(fast, sumRef)[0], Tensors.toArray(fast, sum)[0], 1e-6 * scale, "sum of " + size);

        Tensor g = random(-1, 1, size), gRef = copyOf(g), s = Tensors.fromArray(fast, new float[] {0.7f}, 1);
        ref.axpy(-0.5f, s, gRef);
        fast.axpy(-0.5f, s, g);
        assertClose("axpy of a scalar", gRef, g, 0f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"32x3072", "256x3072", "4x10", "7x13", "1x1", "5x1"})
    void rowKernelsMatchReference(String dims) {
        int rows = Integer.parseInt(dims.split("x")[0]), cols = Integer.parseInt(dims.split("x")[1]);
        Tensor x = coarse(7, rows, cols);  // ties for argmax
        fast.affine(x, 0.5f, 0f, x);
        Tensor scales = random(-2, 2, rows);
        Tensor ssRef = ref.allocate(Shape.of(rows)), ss = random(-9, 9, rows);
        ref.reduce(ReduceOp.SUM_SQUARES, x, ssRef);
        fast.reduce(ReduceOp.SUM_SQUARES, x, ss);
        assertClose("row sums of squares " + dims, ssRef, ss, ELEMENTWISE);
        for (BinaryOp op : BinaryOp.values()) {   // b repeated over each row
            Tensor expected = ref.allocate(x.shape()), actual = random(-9, 9, rows, cols);
            ref.binary(op, x, scales, expected);
            fast.binary(op, x, scales, actual);
            assertClose(op + " by rows " + dims, expected, actual, 0f);
        }
        Tensor g = random(-1, 1, rows, cols), gRef = copyOf(g);
        ref.axpy(0.3f, scales, gRef);
        fast.axpy(0.3f, scales, g);
        assertClose("axpy by rows " + dims, gRef, g, 0f);
        Tensor amRef = ref.allocate(Shape.of(rows)), am = random(-9, 9, rows);
        ref.reduce(ReduceOp.ARGMAX, x, amRef);
        fast.reduce(ReduceOp.ARGMAX, x, am);
        assertArrayEquals(Tensors.toArray(ref, amRef), Tensors.toArray(fast, am), "argmax of rows " + dims);
    }

    @Test
    void memoryKernelsRoundTrip() {
        float[] values = new float[1234];
        for (int i = 0; i < values.length; i++) values[i] = i * 0.5f - 3;
        Tensor t = fast.allocate(Shape.of(2, 617));
        assertArrayEquals(new float[1234], Tensors.toArray(fast, t), "allocate gives zeros");
        fast.write(t, values, 0);
        float[] back = new float[1240];
        fast.read(t, back, 6);
        for (int i = 0; i < values.length; i++) assertEquals(values[i], back[i + 6]);
        Tensor r = Tensors.fromArray(ref, values, 2, 617);
        assertArrayEquals(Tensors.toArray(ref, r), Tensors.toArray(fast, t), "both backends hold the same values");
        fast.release(t);
    }
}
