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
 */
public final class Ops {
    private Ops() {}

    /** Conv2d: y = x * w + b (cross-correlation); x [N,C,H,W], w [K,C,R,S], b [K] or null. */
    public static Variable conv2d(Variable x, Variable w, Variable b, int stride, int padding) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        Shape outShape = ConvGeometry.outputShape("conv2d", x.shape(), w.shape(), stride, padding);
        Variable y = tape.result(outShape, x, w, b);
        be.conv2d(x.data(), w.data(), b == null ? null : b.data(), y.data(), stride, padding);
        tape.record(y, () -> be.conv2dBackward(x.data(), w.data(), y.grad,
                tape.gradOf(x), tape.gradOf(w), tape.gradOf(b), stride, padding));
        return y;
    }

    /** MaxPool2d: the largest value of each kernel x kernel window; the gradient goes to it alone. */
    public static Variable maxPool2d(Variable x, int kernel, int stride) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        Variable y = tape.result(PoolGeometry.outputShape("maxPool2d", x.shape(), kernel, stride), x, null, null);
        be.maxPool2d(x.data(), y.data(), kernel, stride);
        tape.record(y, () -> be.maxPool2dBackward(x.data(), y.grad, tape.gradOf(x), kernel, stride));
        return y;
    }

    /** Linear: y = x . w^T + b; x [N, in], w [out, in], b [out] or null. */
    public static Variable linear(Variable x, Variable w, Variable b) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        if (x.shape().rank() != 2 || w.shape().rank() != 2 || x.shape().dim(1) != w.shape().dim(1)) {
            throw new IllegalArgumentException("linear: input " + x.shape() + " does not fit weight " + w.shape() + " ([out, in])");
        }
        Variable y = tape.result(Shape.of(x.shape().dim(0), w.shape().dim(0)), x, w, b);
        be.linear(x.data(), w.data(), b == null ? null : b.data(), y.data());
        tape.record(y, () -> be.linearBackward(x.data(), w.data(), y.grad,
                tape.gradOf(x), tape.gradOf(w), tape.gradOf(b)));
        return y;
    }

    /** ReLU: y = max(x, 0); the gradient passes where y > 0. */
    public static Variable relu(Variable x) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        Variable y = tape.result(x.shape(), x, null, null);
        be.relu(x.data(), y.data());
        tape.record(y, () -> be.reluBackward(y.data(), y.grad, tape.gradOf(x)));
        return y;
    }

    /** Flatten: [N, ...] seen as [N, rest]. Forward copies; backward adds the gradient back. */
    public static Variable flatten(Variable x) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        Variable y = tape.result(Shape.of(x.shape().dim(0), x.shape().rowSize()), x, null, null);
        be.copy(x.data(), y.data());
        tape.record(y, () -> be.axpy(1f, y.grad, tape.gradOf(x).view(y.shape())));
        return y;
    }

    /** Affine: y = alpha * x + beta (normalisation, scaling); dy/dx = alpha. */
    public static Variable affine(Variable x, float alpha, float beta) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        Variable y = tape.result(x.shape(), x, null, null);
        be.affine(x.data(), alpha, beta, y.data());
        tape.record(y, () -> be.axpy(alpha, y.grad, tape.gradOf(x)));
        return y;
    }

    public static Variable scale(Variable x, float alpha) { return affine(x, alpha, 0f); }

    /** Add: y = a + b (same shapes); the gradient flows unchanged to both. */
    public static Variable add(Variable a, Variable b) {
        Tape tape = a.tape != null ? a.tape : b.tape;
        Backend be = tape.backend();
        Variable y = tape.result(a.shape(), a, b, null);
        be.add(a.data(), b.data(), y.data());
        tape.record(y, () -> {
            if (a.requiresGrad) be.axpy(1f, y.grad, tape.gradOf(a));
            if (b.requiresGrad) be.axpy(1f, y.grad, tape.gradOf(b));
        });
        return y;
    }

    /** LogSoftmax over each row of [N, C]; backward: dx = dy - softmax * rowSum(dy). */
    public static Variable logSoftmax(Variable x) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        if (x.shape().rank() != 2) throw new IllegalArgumentException("logSoftmax: needs [N, C], got " + x.shape());
        Variable y = tape.result(x.shape(), x, null, null);
        be.logSoftmax(x.data(), y.data());
        tape.record(y, () -> be.logSoftmaxBackward(y.data(), y.grad, tape.gradOf(x)));
        return y;
    }

    /** Per-sample negative log-likelihood: losses[n] = -logProbs[n, labels[n]]. */
    public static Variable nllLosses(Variable logProbs, Variable labels) {
        Tape tape = logProbs.tape;
        Backend be = tape.backend();
        Variable losses = tape.result(Shape.of(logProbs.shape().dim(0)), logProbs, null, null);
        be.nllLoss(logProbs.data(), labels.data(), losses.data());
        tape.record(losses, () -> be.nllLossBackward(labels.data(), losses.grad, tape.gradOf(logProbs)));
        return losses;
    }

    /** Mean of all elements, a scalar [1]; each element receives 1/n of the gradient. */
    public static Variable mean(Variable x) {
        Tape tape = x.tape;
        Backend be = tape.backend();
        Variable y = tape.result(Shape.of(1), x, null, null);
        float n = x.shape().size();
        be.sum(x.data(), y.data());
        be.affine(y.data(), 1f / n, 0f, y.data());
        tape.record(y, () -> be.addScalarTimes(y.grad, 1f / n, tape.gradOf(x)));
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
