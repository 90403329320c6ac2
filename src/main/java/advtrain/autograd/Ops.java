package advtrain.autograd;

import advtrain.backend.Backend;
import advtrain.backend.ConvGeometry;
import advtrain.backend.PoolGeometry;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * The differentiable operations. Each one runs its forward kernel now and records, right beside
 * it, the backward step that the tape will run later: read one method to see both directions.
 * Backward kernels accumulate (grad += ...), so a variable used twice gets both contributions.
 *
 * <p>In a backward step, {@code y} is the op's output: {@code y.grad} is the gradient arriving
 * from above, {@code y.a}, {@code y.b}, {@code y.c} are the op's inputs in the order it took them,
 * and {@code y.i0}, {@code y.i1}, {@code y.f0} the settings it saved (see {@link Variable}).
 * {@code tape.gradOf(v)} is the gradient to accumulate into, or null when v needs none.
 */
public final class Ops {
    private Ops() {}

    /** Conv2d: y = x * w + b (cross-correlation); x [N,C,H,W], w [K,C,R,S], b [K] or null. */
    public static Variable conv2d(Variable x, Variable w, Variable b, int stride, int padding) {
        Tape tape = x.tape;
        Shape outShape = ConvGeometry.outputShape("conv2d", x.shape(), w.shape(), stride, padding);
        Variable y = tape.result(outShape, x, w, b);
        tape.backend().conv2d(x.data(), w.data(), b == null ? null : b.data(), y.data(), stride, padding);
        y.i0 = stride;
        y.i1 = padding;
        tape.record(y, CONV2D_BACKWARD);
        return y;
    }

    private static final Variable.Backward CONV2D_BACKWARD = (out, be, t) -> be.conv2dBackward(out.a.data(), out.b.data(),
            out.grad, t.gradOf(out.a), t.gradOf(out.b), t.gradOf(out.c), out.i0, out.i1);

    /** MaxPool2d: the largest value of each kernel x kernel window; the gradient goes to it alone. */
    public static Variable maxPool2d(Variable x, int kernel, int stride) {
        Tape tape = x.tape;
        Variable y = tape.result(PoolGeometry.outputShape("maxPool2d", x.shape(), kernel, stride), x, null, null);
        tape.backend().maxPool2d(x.data(), y.data(), kernel, stride);
        y.i0 = kernel;
        y.i1 = stride;
        tape.record(y, MAX_POOL2D_BACKWARD);
        return y;
    }

    /** Writes the input's gradient if it has none yet (no zero fill), else adds to it. */
    private static final Variable.Backward MAX_POOL2D_BACKWARD = (out, be, t) -> {
        Tensor fresh = t.freshGrad(out.a);
        if (fresh != null) be.maxPool2dBackwardFresh(out.a.data(), out.grad, fresh, out.i0, out.i1);
        else be.maxPool2dBackward(out.a.data(), out.grad, t.gradOf(out.a), out.i0, out.i1);
    };

    /**
     * Conv2d, then MaxPool2d over its output, in one backend call (Backend.conv2dMaxPool: the CPU
     * backend pools each image while its convolution output is in cache). Recorded as the two ops,
     * with their own backward steps, when the result needs a gradient; otherwise the convolution's
     * output is not kept at all.
     */
    public static Variable conv2dMaxPool(Variable x, Variable w, Variable b, int stride, int padding, int kernel, int poolStride) {
        Tape tape = x.tape;
        Shape convShape = ConvGeometry.outputShape("conv2d", x.shape(), w.shape(), stride, padding);
        Shape poolShape = PoolGeometry.outputShape("maxPool2d", convShape, kernel, poolStride);
        Tensor bias = b == null ? null : b.data();
        if (!tape.records(x, w, b)) {   // no backward pass: the convolution's output need not be kept
            Variable y = tape.result(poolShape, x, w, b);
            tape.backend().conv2dMaxPool(x.data(), w.data(), bias, tape.scratch(convShape), y.data(), stride, padding,
                    kernel, poolStride, false);
            return y;
        }
        Variable conv = tape.result(convShape, x, w, b), y = tape.result(poolShape, conv, null, null);
        tape.backend().conv2dMaxPool(x.data(), w.data(), bias, conv.data(), y.data(), stride, padding, kernel, poolStride, true);
        conv.i0 = stride;
        conv.i1 = padding;
        tape.record(conv, CONV2D_BACKWARD);
        y.i0 = kernel;
        y.i1 = poolStride;
        tape.record(y, MAX_POOL2D_BACKWARD);
        return y;
    }

    /** Linear: y = x . w^T + b; x [N, in], w [out, in], b [out] or null. */
    public static Variable linear(Variable x, Variable w, Variable b) {
        Tape tape = x.tape;
        if (x.shape().rank() != 2 || w.shape().rank() != 2 || x.shape().dim(1) != w.shape().dim(1)) {
            throw new IllegalArgumentException("linear: input " + x.shape() + " does not fit weight " + w.shape() + " ([out, in])");
        }
        Variable y = tape.result(Shape.of(x.shape().dim(0), w.shape().dim(0)), x, w, b);
        tape.backend().linear(x.data(), w.data(), b == null ? null : b.data(), y.data());
        tape.record(y, (out, be, t) -> be.linearBackward(out.a.data(), out.b.data(), out.grad,
                t.gradOf(out.a), t.gradOf(out.b), t.gradOf(out.c)));
        return y;
    }

    /** ReLU: y = max(x, 0); the gradient passes where y > 0. */
    public static Variable relu(Variable x) {
        Tape tape = x.tape;
        Variable y = tape.result(x.shape(), x, null, null);
        tape.backend().relu(x.data(), y.data());
        tape.record(y, (out, be, t) -> {   // written if the input has no gradient yet, else added
            Tensor fresh = t.freshGrad(out.a);
            if (fresh != null) be.reluBackwardFresh(out.data(), out.grad, fresh);
            else be.reluBackward(out.data(), out.grad, t.gradOf(out.a));
        });
        return y;
    }

    /** Flatten: [N, ...] seen as [N, rest]. Forward copies; backward adds the gradient back (same element order). */
    public static Variable flatten(Variable x) {
        Tape tape = x.tape;
        Variable y = tape.result(Shape.of(x.shape().dim(0), x.shape().rowSize()), x, null, null);
        tape.backend().copy(x.data(), y.data());
        tape.record(y, (out, be, t) -> {   // copied if the input has no gradient yet, else added
            Tensor fresh = t.freshGrad(out.a);
            if (fresh != null) be.copy(out.grad, fresh);
            else be.axpy(1f, out.grad, t.gradOf(out.a));
        });
        return y;
    }

    /** Affine: y = alpha * x + beta (normalisation, scaling); dy/dx = alpha. */
    public static Variable affine(Variable x, float alpha, float beta) {
        Tape tape = x.tape;
        Variable y = tape.result(x.shape(), x, null, null);
        tape.backend().affine(x.data(), alpha, beta, y.data());
        y.f0 = alpha;
        tape.record(y, (out, be, t) -> be.axpy(out.f0, out.grad, t.gradOf(out.a)));
        return y;
    }

    public static Variable scale(Variable x, float alpha) { return affine(x, alpha, 0f); }

    /** Add: y = a + b (same shapes); the gradient flows unchanged to both. */
    public static Variable add(Variable a, Variable b) {
        Tape tape = a.tape != null ? a.tape : b.tape;
        Variable y = tape.result(a.shape(), a, b, null);
        tape.backend().add(a.data(), b.data(), y.data());
        tape.record(y, (out, be, t) -> {
            if (out.a.requiresGrad) be.axpy(1f, out.grad, t.gradOf(out.a));
            if (out.b.requiresGrad) be.axpy(1f, out.grad, t.gradOf(out.b));
        });
        return y;
    }

    /** LogSoftmax over each row of [N, C]; backward: dx = dy - softmax * rowSum(dy). */
    public static Variable logSoftmax(Variable x) {
        Tape tape = x.tape;
        if (x.shape().rank() != 2) throw new IllegalArgumentException("logSoftmax: needs [N, C], got " + x.shape());
        Variable y = tape.result(x.shape(), x, null, null);
        tape.backend().logSoftmax(x.data(), y.data());
        tape.record(y, (out, be, t) -> be.logSoftmaxBackward(out.data(), out.grad, t.gradOf(out.a)));
        return y;
    }

    /** Per-sample negative log-likelihood: losses[n] = -logProbs[n, labels[n]]. */
    public static Variable nllLosses(Variable logProbs, Variable labels) {
        Tape tape = logProbs.tape;
        Variable losses = tape.result(Shape.of(logProbs.shape().dim(0)), logProbs, labels, null);
        tape.backend().nllLoss(logProbs.data(), labels.data(), losses.data());
        tape.record(losses, (out, be, t) -> be.nllLossBackward(out.b.data(), out.grad, t.gradOf(out.a)));
        return losses;
    }

    /** Mean of all elements, a scalar [1]; each element receives 1/n of the gradient. */
    public static Variable mean(Variable x) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        Variable y = tape.result(Shape.of(1), x, null, null);
        be.sum(x.data(), y.data());
        be.affine(y.data(), 1f / x.shape().size(), 0f, y.data());
        tape.record(y, (out, b, t) -> b.addScalarTimes(out.grad, 1f / out.a.shape().size(), t.gradOf(out.a)));
        return y;
    }

    /** NLLLoss with PyTorch's default reduction: the mean over the batch. */
    public static Variable nllLoss(Variable logProbs, Variable labels) {
        return mean(nllLosses(logProbs, labels));
    }

    /** Reads a scalar variable back to the host (a copy at the edge: use once per step at most). */
    public static float item(Variable scalar) {
        float[] one = new float[1];
        scalar.tape.backend().read(scalar.data(), one, 0);
        return one[0];
    }

}
