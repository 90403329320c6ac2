package advtrain.autograd;

import advtrain.backend.ConvGeometry;
import advtrain.backend.FusedKernels;
import advtrain.tensor.Tensor;

/**
 * A residual network's convolution, its batch norm, and what comes after them:
 * {@code relu(batchNorm(conv2d(x, w, b)) + residual)}, residual optional (null: no sum) and passed
 * through an {@link ShortcutA} first if one is given, the ReLU optional. These are the
 * {@link Ops.Conv2d}, {@link Ops.BatchNorm2d}, {@link ShortcutA}, {@link Ops.Add} and
 * {@link Ops.Relu} ops applied one after another, and they are what runs whenever a gradient may be
 * asked for, in training or evaluation mode; on a backend with {@link FusedKernels} the batch norm,
 * an identity residual's sum and the ReLU are one op there ({@link FusedKernels#batchNormAddRelu}:
 * one pass over the activation instead of three, forward and backward).
 *
 * <p>At inference (batch norm in evaluation mode, no gradient recorded, as in evaluation and the
 * inference benchmark) and on a backend with {@link FusedKernels}, it is one backend call
 * instead: the Java backend normalises, adds and clips each image's convolution output while it
 * is in cache, reads the shortcut's pixels straight from the block's input, and stores neither the
 * convolution's, the batch norm's nor the shortcut's output. Same values either way (the fused
 * kernel runs the same arithmetic; the tests compare the two).
 */
public final class ConvBatchNorm {
    final Ops.Conv2d conv;
    final Ops.BatchNorm2d norm;
    final boolean relu;

    public ConvBatchNorm(Ops.Conv2d conv, Ops.BatchNorm2d norm, boolean relu) {
        this.conv = conv;
        this.norm = norm;
        this.relu = relu;
    }

    /**
     * relu(batchNorm(conv2d(x, w, b)) + shortcut(residual)): the batch norm with gamma and beta and,
     * in training mode, the batch's statistics (moving runningMean and runningVar), else the running
     * ones; shortcut null for the identity.
     */
    public Variable apply(Variable x, Variable w, Variable b, Variable gamma, Variable beta, Tensor runningMean,
                          Tensor runningVar, boolean training, Variable residual, ShortcutA shortcut) {
        Tape tape = x.tape;
        FusedKernels fused = tape.backend() instanceof FusedKernels f ? f : null;
        if (training || fused == null || tape.records(x, w, b) || tape.records(gamma, beta, residual)) {
            Variable c = conv.apply(x, w, b);
            if (fused != null && relu && (residual == null || shortcut == null)) {
                if (residual != null) Ops.Add.checkShapes(c, residual);
                return norm.apply(c, gamma, beta, runningMean, runningVar, training, residual, fused);
            }
            Variable y = norm.apply(c, gamma, beta, runningMean, runningVar, training);
            if (residual != null) y = Ops.add(y, shortcut == null ? residual : shortcut.apply(residual));
            return relu ? Ops.relu(y) : y;
        }
        if (shortcut != null && residual != null) shortcut.check(residual);
        Variable y = tape.result(ConvGeometry.outputShape("conv2dBatchNorm", x.shape(), w.shape(), conv.stride, conv.padding),
                x, w, b);
        fused.conv2dBatchNorm(x.data(), w.data(), data(b), conv.stride, conv.padding, data(gamma), data(beta), runningMean,
                runningVar, norm.eps, data(residual), shortcut == null ? 1 : ShortcutA.STRIDE, shortcut == null ? 0 : shortcut.pad,
                relu, y.data());
        return y;
    }

    private static Tensor data(Variable v) { return v == null ? null : v.data(); }
}
