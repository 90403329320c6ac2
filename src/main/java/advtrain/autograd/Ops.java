package advtrain.autograd;

import advtrain.backend.Backend;
import advtrain.backend.Backend.ReduceOp;
import advtrain.backend.Backend.UnaryOp;
import advtrain.backend.ConvGeometry;
import advtrain.backend.FusedKernels;
import advtrain.backend.PoolGeometry;
import advtrain.backend.Tensors;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * The differentiable operations. Each is a small class: {@code apply} runs the forward kernel and
 * records the op on its output; {@code backward}, right below it, adds the op's share to its
 * inputs' gradients when the tape replays it. Backward kernels accumulate (grad += ...), so a
 * variable used twice gets both contributions.
 *
 * <p>An op with settings keeps them as named final fields: a layer makes its op once (say
 * {@code new Ops.Conv2d(1, 0)}) and applies it at every step, so recording it allocates nothing.
 * The static methods below are the same ops for one-off use (tests, scripts): they make the op
 * object on each call.
 *
 * <p>In {@code backward(y, be, tape)}, {@code y.grad} is the gradient arriving from above and
 * {@code y.input(i)} the op's inputs in the order {@code apply} took them; {@code tape.gradOf(v)}
 * is the gradient to add into, or null when v needs none. On a backend with {@link FusedKernels},
 * an op whose kernel can write its input's gradient whole asks {@code tape.freshGrad(v)} first:
 * while v has no gradient yet, that saves filling it with zeros and reading them back.
 */
public final class Ops {
    private Ops() {}

    private static Tensor dataOrNull(Variable v) { return v == null ? null : v.data(); }

    /** Conv2d: y = x * w + b (cross-correlation); x [N,C,H,W], w [K,C,R,S], b [K] or null. */
    public static final class Conv2d implements Op {
        final int stride, padding;

        public Conv2d(int stride, int padding) {
            this.stride = stride;
            this.padding = padding;
        }

        public Variable apply(Variable x, Variable w, Variable b) {
            Tape tape = x.tape;
            Variable y = tape.result(ConvGeometry.outputShape("conv2d", x.shape(), w.shape(), stride, padding), x, w, b);
            tape.backend().conv2d(x.data(), w.data(), dataOrNull(b), y.data(), stride, padding);
            tape.record(y, this);
            return y;
        }

        /** With fused kernels, x's gradient is written if it has none yet, else added to. */
        @Override public void backward(Variable y, Backend be, Tape tape) {
            Variable x = y.input(0), w = y.input(1), b = y.input(2);
            Tensor fresh = be instanceof FusedKernels ? tape.freshGrad(x) : null;
            if (fresh != null) {
                ((FusedKernels) be).conv2dBackwardFresh(x.data(), w.data(), y.grad, fresh, tape.gradOf(w), tape.gradOf(b), stride, padding);
            } else {
                be.conv2dBackward(x.data(), w.data(), y.grad, tape.gradOf(x), tape.gradOf(w), tape.gradOf(b), stride, padding);
            }
        }
    }

    /** MaxPool2d: the largest value of each window x window patch, moved by stride; the gradient goes to it alone. */
    public static final class MaxPool2d implements Op {
        final int window, stride;

        public MaxPool2d(int window, int stride) {
            this.window = window;
            this.stride = stride;
        }

        public Variable apply(Variable x) {
            Tape tape = x.tape;
            Variable y = tape.result(PoolGeometry.outputShape("maxPool2d", x.shape(), window, stride), x, null, null);
            tape.backend().maxPool2d(x.data(), y.data(), window, stride);
            tape.record(y, this);
            return y;
        }

        /** With fused kernels, writes the input's gradient if it has none yet (no zero fill). */
        @Override public void backward(Variable y, Backend be, Tape tape) {
            Variable x = y.input(0);
            Tensor fresh = be instanceof FusedKernels ? tape.freshGrad(x) : null;
            if (fresh != null) ((FusedKernels) be).maxPool2dBackwardFresh(x.data(), y.grad, fresh, window, stride);
            else be.maxPool2dBackward(x.data(), y.grad, tape.gradOf(x), window, stride);
        }
    }

    /**
     * A convolution whose output goes straight into a max-pool: the two ops above, applied in one
     * backend call where the backend has {@link FusedKernels} (the Java backend pools each image
     * while its convolution output is in cache). Recorded as the two ops when the result needs a
     * gradient; otherwise the convolution's output is not kept at all.
     */
    public static final class Conv2dMaxPool {
        final Conv2d conv;
        final MaxPool2d pool;

        public Conv2dMaxPool(Conv2d conv, MaxPool2d pool) {
            this.conv = conv;
            this.pool = pool;
        }

        public Variable apply(Variable x, Variable w, Variable b) {
            Tape tape = x.tape;
            if (!(tape.backend() instanceof FusedKernels fused)) return pool.apply(conv.apply(x, w, b));
            Shape convShape = ConvGeometry.outputShape("conv2d", x.shape(), w.shape(), conv.stride, conv.padding);
            Shape poolShape = PoolGeometry.outputShape("maxPool2d", convShape, pool.window, pool.stride);
            if (!tape.records(x, w, b)) {   // no backward pass: the convolution's output need not be kept
                Variable y = tape.result(poolShape, x, w, b);
                fused.conv2dMaxPool(x.data(), w.data(), dataOrNull(b), tape.scratch(convShape), y.data(),
                        conv.stride, conv.padding, pool.window, pool.stride, false);
                return y;
            }
            Variable convOut = tape.result(convShape, x, w, b), y = tape.result(poolShape, convOut, null, null);
            fused.conv2dMaxPool(x.data(), w.data(), dataOrNull(b), convOut.data(), y.data(),
                    conv.stride, conv.padding, pool.window, pool.stride, true);
            tape.record(convOut, conv);
            tape.record(y, pool);
            return y;
        }
    }

    /** Linear: y = x . w^T + b; x [N, in], w [out, in], b [out] or null. */
    public static final class Linear implements Op {
        static final Linear OP = new Linear();

        public Variable apply(Variable x, Variable w, Variable b) {
            Tape tape = x.tape;
            if (x.shape().rank() != 2 || w.shape().rank() != 2 || x.shape().dim(1) != w.shape().dim(1)) {
                throw new IllegalArgumentException("linear: input " + x.shape() + " does not fit weight " + w.shape() + " ([out, in])");
            }
            Variable y = tape.result(Shape.of(x.shape().dim(0), w.shape().dim(0)), x, w, b);
            tape.backend().linear(x.data(), w.data(), dataOrNull(b), y.data());
            tape.record(y, this);
            return y;
        }

        @Override public void backward(Variable y, Backend be, Tape tape) {
            Variable x = y.input(0), w = y.input(1), b = y.input(2);
            be.linearBackward(x.data(), w.data(), y.grad, tape.gradOf(x), tape.gradOf(w), tape.gradOf(b));
        }
    }

    /** ReLU: y = max(x, 0); the gradient passes where y > 0. */
    public static final class Relu implements Op {
        static final Relu OP = new Relu();

        public Variable apply(Variable x) {
            Tape tape = x.tape;
            Variable y = tape.result(x.shape(), x, null, null);
            tape.backend().unary(UnaryOp.RELU, x.data(), y.data());
            tape.record(y, this);
            return y;
        }

        /** With fused kernels, written if the input has no gradient yet, else added. */
        @Override public void backward(Variable y, Backend be, Tape tape) {
            Variable x = y.input(0);
            Tensor fresh = be instanceof FusedKernels ? tape.freshGrad(x) : null;
            if (fresh != null) ((FusedKernels) be).reluBackwardFresh(y.data(), y.grad, fresh);
            else be.reluBackward(y.data(), y.grad, tape.gradOf(x));
        }
    }

    /** Flatten: [N, ...] seen as [N, rest]. Forward copies; backward hands the gradient back (same element order). */
    public static final class Flatten implements Op {
        static final Flatten OP = new Flatten();

        public Variable apply(Variable x) {
            Tape tape = x.tape;
            Variable y = tape.result(Shape.of(x.shape().dim(0), x.shape().rowSize()), x, null, null);
            tape.backend().copy(x.data(), y.data());
            tape.record(y, this);
            return y;
        }

        /** Copied if the input has no gradient yet, else added. */
        @Override public void backward(Variable y, Backend be, Tape tape) { tape.addGrad(y.input(0), y.grad); }
    }

    /** Affine: y = scale * x + shift (normalisation, weighting a loss); dy/dx = scale. */
    public static final class Affine implements Op {
        final float scale, shift;

        public Affine(float scale, float shift) {
            this.scale = scale;
            this.shift = shift;
        }

        public Variable apply(Variable x) {
            Tape tape = x.tape;
            Variable y = tape.result(x.shape(), x, null, null);
            tape.backend().affine(x.data(), scale, shift, y.data());
            tape.record(y, this);
            return y;
        }

        @Override public void backward(Variable y, Backend be, Tape tape) {
            be.axpy(scale, y.grad, tape.gradOf(y.input(0)));
        }
    }

    /**
     * Add: y = a + b (same shapes; a residual connection); the gradient flows unchanged to both,
     * copied into an input that has no gradient yet, else added. With a and b the same variable,
     * the second adds to what the first copied: dy/dx = 2.
     */
    public static final class Add implements Op {
        static final Add OP = new Add();

        public Variable apply(Variable a, Variable b) {
            checkShapes(a, b);
            Tape tape = a.tape != null ? a.tape : b.tape;
            Variable y = tape.result(a.shape(), a, b, null);
            tape.backend().binary(Backend.BinaryOp.ADD, a.data(), b.data(), y.data());
            tape.record(y, this);
            return y;
        }

        /** Refuses a and b of different shapes (also for a sum fused into another op). */
        static void checkShapes(Variable a, Variable b) {
            if (!a.shape().equals(b.shape())) throw new IllegalArgumentException("add: shapes " + a.shape() + " and " + b.shape() + " differ");
        }

        /** Both inputs' gradient is y's: the first input takes y's gradient tensor over when it has none yet. */
        @Override public void backward(Variable y, Backend be, Tape tape) {
            tape.passGrad(y.input(0), y);
            tape.addGrad(y.input(1), y.grad);
        }
    }

    /** LogSoftmax over each row of [N, C]; backward: dx = dy - softmax * rowSum(dy), softmax = exp(y). */
    public static final class LogSoftmax implements Op {
        static final LogSoftmax OP = new LogSoftmax();

        public Variable apply(Variable x) {
            Tape tape = x.tape;
            if (x.shape().rank() != 2) throw new IllegalArgumentException("logSoftmax: needs [N, C], got " + x.shape());
            Variable y = tape.result(x.shape(), x, null, null);
            tape.backend().logSoftmax(x.data(), y.data());
            tape.record(y, this);
            return y;
        }

        @Override public void backward(Variable y, Backend be, Tape tape) {
            be.logSoftmaxBackward(y.data(), y.grad, tape.gradOf(y.input(0)));
        }
    }

    /** Per-sample negative log-likelihood: losses[n] = -logProbs[n, labels[n]]; the labels get no gradient. */
    public static final class NllLosses implements Op {
        static final NllLosses OP = new NllLosses();

        public Variable apply(Variable logProbs, Variable labels) {
            Tape tape = logProbs.tape;
            Variable losses = tape.result(Shape.of(logProbs.shape().dim(0)), logProbs, labels, null);
            tape.backend().nllLoss(logProbs.data(), labels.data(), losses.data());
            tape.record(losses, this);
            return losses;
        }

        @Override public void backward(Variable y, Backend be, Tape tape) {
            be.nllLossBackward(y.input(1).data(), y.grad, tape.gradOf(y.input(0)));
        }
    }

    /** Mean of all elements, a scalar [1]; each of the n elements receives 1/n of the gradient. */
    public static final class Mean implements Op {
        static final Mean OP = new Mean();

        public Variable apply(Variable x) {
            Tape tape = x.tape;
            Backend be = tape.backend();
            Variable y = tape.result(Shape.of(1), x, null, null);
            be.reduce(ReduceOp.SUM, x.data(), y.data());
            be.affine(y.data(), 1f / x.shape().size(), 0f, y.data());
            tape.record(y, this);
            return y;
        }

        /** The scalar gradient, repeated over every element of x (axpy with a one-element x). */
        @Override public void backward(Variable y, Backend be, Tape tape) {
            Variable x = y.input(0);
            be.axpy(1f / x.shape().size(), y.grad, tape.gradOf(x));
        }
    }

    /**
     * GlobalAvgPool: [N, C, H, W] to [N, C], each plane's sum (reduce's groups are the planes) times
     * 1/(H*W). Backward: axpy adds gradient / (H*W), the [N, C] gradient repeated over each plane.
     * Saves nothing (the plane size is in the input's shape).
     */
    public static final class GlobalAvgPool implements Op {
        static final GlobalAvgPool OP = new GlobalAvgPool();

        public Variable apply(Variable x) {
            Tape tape = x.tape;
            Backend be = tape.backend();
            if (x.shape().rank() != 4) throw new IllegalArgumentException("globalAvgPool: needs [N, C, H, W], got " + x.shape());
            Variable y = tape.result(Shape.of(x.shape().dim(0), x.shape().dim(1)), x, null, null);
            be.reduce(ReduceOp.SUM, x.data(), y.data());
            be.affine(y.data(), 1f / planeSize(x), 0f, y.data());
            tape.record(y, this);
            return y;
        }

        @Override public void backward(Variable y, Backend be, Tape tape) {
            Variable x = y.input(0);
            be.axpy(1f / planeSize(x), y.grad, tape.gradOf(x));
        }

        private static int planeSize(Variable x) { return x.shape().dim(2) * x.shape().dim(3); }
    }

    /**
     * BatchNorm2d over the channels of x [N, C, H, W], PyTorch's formulas: y = gamma * (x - mean) /
     * sqrt(var + eps) + beta, gamma and beta [C] or null. Training: mean and var are the batch's (biased
     * variance over N, H, W); the running statistics move: running_mean = (1 - momentum) * running_mean
     * + momentum * mean, running_var likewise with the unbiased var * M / (M - 1), M = N * H * W.
     * Evaluation: the running statistics, unchanged; the gradient still flows to x (attacks need it).
     */
    public static final class BatchNorm2d implements Op {
        public final float eps, momentum;
        private final Op evaluation = (y, be, tape) -> backward(y, be, tape, false);  // recorded by evaluation-mode calls
        private final Op trainingAddRelu = (y, be, tape) -> backwardAddRelu(y, be, tape, true);
        private final Op evaluationAddRelu = (y, be, tape) -> backwardAddRelu(y, be, tape, false);
        public BatchNorm2d() { this(1e-5f, 0.1f); }  // PyTorch's defaults

        public BatchNorm2d(float eps, float momentum) {
            this.eps = eps;
            this.momentum = momentum;
        }

        /**
         * Saves on y the mean and var this call normalised with, in tensors of the tape's pool: a layer
         * applied twice on one tape (clean and adversarial images) backpropagates each through its own.
         */
        public Variable apply(Variable x, Variable gamma, Variable beta, Tensor runningMean, Tensor runningVar, boolean training) {
            return apply(x, gamma, beta, runningMean, runningVar, training, null, null);
        }

        /**
         * With fused kernels given (addRelu not null): relu(this batch norm + residual), residual of x's
         * shape or null, in one pass ({@link FusedKernels#batchNormAddRelu}), recorded as one op whose
         * backward masks y's gradient in place and hands it on to the residual. The same values as
         * {@link #apply} followed by {@link Ops#add} and {@link Ops#relu} (ConvBatchNorm chooses).
         */
        Variable apply(Variable x, Variable gamma, Variable beta, Tensor runningMean, Tensor runningVar, boolean training,
                       Variable residual, FusedKernels addRelu) {
            Tape tape = x.tape;
            Backend be = tape.backend();
            Shape s = x.shape();
            long count = s.rank() != 4 ? 0 : (long) s.dim(0) * s.dim(2) * s.dim(3);
            if (count < (training ? 2 : 1)) throw new IllegalArgumentException("batchNorm2d: needs [N, C, H, W]"
                    + (training ? " with more than one value per channel in training" : "") + ", got " + s);
            Variable y = tape.result(s, x, gamma, beta, residual);
            Tensor mean = runningMean, var = runningVar;
            if (training || y.requiresGrad) {  // this call's statistics: the batch's, or a copy of the running ones,
                mean = tape.scratch(runningMean.shape());  // which a training-mode call before backward would move
                var = tape.scratch(runningVar.shape());
            }
            if (!training) {
                if (mean != runningMean) be.copy(runningMean, mean);
                if (var != runningVar) be.copy(runningVar, var);
            }
            if (addRelu == null) be.batchNorm(x.data(), dataOrNull(gamma), dataOrNull(beta), mean, var, eps, training, y.data());
            else addRelu.batchNormAddRelu(x.data(), dataOrNull(gamma), dataOrNull(beta), mean, var, eps, training, dataOrNull(residual), y.data());
            if (training) {
                be.affine(runningMean, 1f - momentum, 0f, runningMean);
                be.axpy(momentum, mean, runningMean);
                be.affine(runningVar, 1f - momentum, 0f, runningVar);
                be.axpy((float) (momentum * count / (count - 1.0)), var, runningVar);
            }
            y.save(mean, var);
            tape.record(y, addRelu == null ? (training ? this : evaluation) : (training ? trainingAddRelu : evaluationAddRelu));
            return y;
        }

        /** Saved on y: the mean (0) and var (1) its forward normalised with. */
        @Override public void backward(Variable y, Backend be, Tape tape) { backward(y, be, tape, true); }

        /** With fused kernels, x's gradient is written if it has none yet, else added to. */
        private void backward(Variable y, Backend be, Tape tape, boolean batchStats) {
            Variable x = y.input(0), gamma = y.input(1), beta = y.input(2);
            Tensor fresh = be instanceof FusedKernels ? tape.freshGrad(x) : null;
            if (fresh != null) {
                ((FusedKernels) be).batchNormBackwardFresh(x.data(), dataOrNull(gamma), y.saved(0), y.saved(1), eps, batchStats,
                        y.grad, fresh, tape.gradOf(gamma), tape.gradOf(beta));
            } else {
                be.batchNormBackward(x.data(), dataOrNull(gamma), y.saved(0), y.saved(1), eps, batchStats, y.grad,
                        tape.gradOf(x), tape.gradOf(gamma), tape.gradOf(beta));
            }
        }

        /**
         * relu(batchNorm(x) + residual)'s backward: y's gradient masked in place by the ReLU (it is
         * then the sum's gradient), the batch norm's backward from it, and the same tensor handed on
         * to the residual (input 3), which takes it over when it has no gradient yet.
         */
        private void backwardAddRelu(Variable y, Backend be, Tape tape, boolean batchStats) {
            Variable x = y.input(0), gamma = y.input(1), beta = y.input(2);
            Tensor fresh = tape.freshGrad(x);
            ((FusedKernels) be).batchNormAddReluBackward(x.data(), dataOrNull(gamma), y.saved(0), y.saved(1), eps, batchStats,
                    y.data(), y.grad, fresh != null ? fresh : tape.gradOf(x), fresh != null, tape.gradOf(gamma), tape.gradOf(beta));
            tape.passGrad(y.input(3), y);
        }
    }

    /**
     * Per-channel normalisation, y = (x - mean[c]) / std[c] on x [N, C, H, W], a model's first layer
     * on [0, 1] pixels: {@link Backend#batchNorm} with frozen statistics (var = std^2, eps = 0), which
     * computes (x - mean) * (1 / std), within a rounding or two of PyTorch's {@code (x - mean[:, None,
     * None]) / std[:, None, None]}. The op owns its two constant tensors [C]; only x gets a gradient.
     */
    public static final class ChannelNormalize implements Op {
        private final Tensor mean, var;

        public ChannelNormalize(Backend backend, float[] mean, float[] std) {
            if (mean.length != std.length) throw new IllegalArgumentException("channelNormalize: " + mean.length + " means, " + std.length + " stds");
            float[] squares = new float[std.length];  // std^2 rounded to float: 1 / sqrt of it is 1 / std within a rounding
            for (int c = 0; c < std.length; c++) squares[c] = std[c] * std[c];
            this.mean = Tensors.fromArray(backend, mean, mean.length);
            this.var = Tensors.fromArray(backend, squares, squares.length);
        }

        /** The CIFAR-10 training set's per-channel mean (0.4914, 0.4822, 0.4465) and std (0.2470, 0.2435, 0.2616). */
        public static ChannelNormalize cifar10(Backend backend) {
            return new ChannelNormalize(backend, new float[] {0.4914f, 0.4822f, 0.4465f}, new float[] {0.2470f, 0.2435f, 0.2616f});
        }

        public Variable apply(Variable x) {
            Variable y = x.tape.result(x.shape(), x, null, null);
            x.tape.backend().batchNorm(x.data(), null, null, mean, var, 0f, false, y.data());
            x.tape.record(y, this);
            return y;
        }

        @Override public void backward(Variable y, Backend be, Tape tape) {
            be.batchNormBackward(y.input(0).data(), null, mean, var, 0f, false, y.grad, tape.gradOf(y.input(0)), null, null);
        }
    }

    // ---- the same ops for one-off use ------------------------------------------------------------

    /** A new {@link Conv2d} op, applied once: layers keep theirs. */
    public static Variable conv2d(Variable x, Variable w, Variable b, int stride, int padding) {
        return new Conv2d(stride, padding).apply(x, w, b);
    }

    public static Variable maxPool2d(Variable x, int window, int stride) { return new MaxPool2d(window, stride).apply(x); }

    public static Variable linear(Variable x, Variable w, Variable b) { return Linear.OP.apply(x, w, b); }

    public static Variable relu(Variable x) { return Relu.OP.apply(x); }

    /** A new {@link BatchNorm2d} op (PyTorch's eps and momentum), applied once: layers keep theirs. */
    public static Variable batchNorm2d(Variable x, Variable gamma, Variable beta, Tensor runningMean, Tensor runningVar, boolean training) {
        return new BatchNorm2d().apply(x, gamma, beta, runningMean, runningVar, training);
    }

    public static Variable flatten(Variable x) { return Flatten.OP.apply(x); }

    /** A new {@link Affine} op, applied once: layers and objectives keep theirs. */
    public static Variable affine(Variable x, float scale, float shift) { return new Affine(scale, shift).apply(x); }

    public static Variable scale(Variable x, float factor) { return affine(x, factor, 0f); }

    public static Variable add(Variable a, Variable b) { return Add.OP.apply(a, b); }

    public static Variable globalAvgPool(Variable x) { return GlobalAvgPool.OP.apply(x); }

    public static Variable logSoftmax(Variable x) { return LogSoftmax.OP.apply(x); }

    public static Variable nllLosses(Variable logProbs, Variable labels) { return NllLosses.OP.apply(logProbs, labels); }

    public static Variable mean(Variable x) { return Mean.OP.apply(x); }

    /** NLLLoss with PyTorch's default reduction: the mean over the batch. */
    public static Variable nllLoss(Variable logProbs, Variable labels) { return mean(nllLosses(logProbs, labels)); }

    /** Reads a scalar variable back to the host (a copy at the edge: use once per step at most). */
    public static float item(Variable scalar) {
        float[] one = new float[1];
        scalar.tape.backend().read(scalar.data(), one, 0);
        return one[0];
    }
}
