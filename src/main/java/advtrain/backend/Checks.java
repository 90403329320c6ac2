package advtrain.backend;

import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/** Argument checks shared by the backends; each failure names the op and the shapes involved. */
public final class Checks {
    private Checks() {}

    // Two- and three-tensor forms without varargs: a varargs array that escapes into the throw
    // path was allocated on every call of logSoftmax and its backward (seen in JFR allocation events).
    public static void sameSize(String op, Tensor a, Tensor b) {
        if (a.size() != b.size()) throw mismatch(op, a, b);
    }

    public static void sameSize(String op, Tensor a, Tensor b, Tensor c) {
        if (a.size() != b.size() || a.size() != c.size()) throw mismatch(op, a, b, c);
    }

    public static void sameSize(String op, Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t.size() != tensors[0].size()) throw mismatch(op, tensors);
        }
    }

    /**
     * A smaller operand repeated over groups (Backend's convention): its size must divide the
     * other's. Returns the group size, the number of elements each operand element goes with.
     */
    public static int groupSize(String op, Tensor operand, Tensor full) {
        int m = operand.size(), n = full.size();
        if (m == 0 ? n != 0 : n % m != 0) {
            throw new IllegalArgumentException(op + ": " + operand.shape() + " cannot be repeated over " + full.shape()
                    + " (its size must divide the other's)");
        }
        return m == 0 ? 1 : n / m;
    }

    public static void sameShape(String op, Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) throw mismatch(op, a, b);
    }

    /** {@link #sameShape(String, Tensor, Tensor)} naming "op what": the name is put together only on a mismatch (no allocation per call). */
    public static void sameShape(String op, String what, Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) throw mismatch(op + " " + what, a, b);
    }

    /**
     * A residual read into out [N, K, H, W] at every stride-th pixel from channel k - offset
     * ({@link FusedKernels#conv2dBatchNorm}): the same batch, its channels within out's after the
     * offset, and its planes large enough; stride 1 and offset 0 need out's own shape.
     */
    public static void residual(String op, Tensor residual, int stride, int offset, Tensor out) {
        Shape r = residual.shape(), o = out.shape();
        if (stride == 1 && offset == 0) {
            sameShape(op, "residual", out, residual);
            return;
        }
        boolean fits = stride >= 1 && offset >= 0 && r.rank() == 4 && o.rank() == 4 && r.dim(0) == o.dim(0)
                && offset + r.dim(1) <= o.dim(1) && stride * (o.dim(2) - 1) < r.dim(2) && stride * (o.dim(3) - 1) < r.dim(3);
        if (!fits) {
            throw new IllegalArgumentException(op + ": residual " + r + " read at stride " + stride + " from channel offset " + offset
                    + " does not fit output " + o);
        }
    }

    /**
     * An option-A shortcut ({@link FusedKernels#shortcutA}): input [N, C, H, W], output
     * [N, C + 2 pad, ceil(H / stride), ceil(W / stride)], stride at least 1 and pad at least 0.
     */
    public static void shortcut(String op, Tensor input, int stride, int pad, Tensor output) {
        Shape i = input.shape(), o = output.shape();
        boolean fits = stride >= 1 && pad >= 0 && i.rank() == 4 && o.rank() == 4 && o.dim(0) == i.dim(0) && o.dim(1) == i.dim(1) + 2 * pad
                && o.dim(2) == (i.dim(2) + stride - 1) / stride && o.dim(3) == (i.dim(3) + stride - 1) / stride;
        if (!fits) {
            throw new IllegalArgumentException(op + ": input " + i + " at stride " + stride + " with " + pad
                    + " zero channels before and after does not give " + o);
        }
    }

    /** input [N, in], weight [out, in], output [N, out]. */
    public static void linear(String op, Tensor input, Tensor weight, Tensor output) {
        if (weight.shape().rank() != 2 || input.shape().rowSize() != weight.shape().dim(1)
                || output.shape().dim(0) != input.shape().dim(0) || output.shape().rowSize() != weight.shape().dim(0)) {
            throw new IllegalArgumentException(op + ": shapes do not fit: input " + input.shape()
                    + ", weight " + weight.shape() + ", output " + output.shape());
        }
    }

    /**
     * Batch normalisation: x and out [N, C, H, W] of one shape; mean and var [C]; gamma and beta
     * [C] or null.
     */
    public static void batchNorm(String op, Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, Tensor out) {
        int channels = x.shape().rank() == 4 ? x.shape().dim(1) : -1;
        boolean fits = channels >= 0 && x.shape().equals(out.shape()) && mean.size() == channels && var.size() == channels
                && (gamma == null || gamma.size() == channels) && (beta == null || beta.size() == channels);
        if (!fits) {
            throw new IllegalArgumentException(op + ": shapes do not fit: x " + x.shape() + " (needs [N, C, H, W]), out "
                    + out.shape() + ", mean " + mean.shape() + ", var " + var.shape()
                    + (gamma == null ? "" : ", gamma " + gamma.shape()) + (beta == null ? "" : ", beta " + beta.shape())
                    + " (per-channel tensors need C elements)");
        }
    }

    public static void labels(String op, Tensor logProbs, Tensor labels) {
        if (labels.size() != logProbs.shape().dim(0)) {
            throw new IllegalArgumentException(op + ": " + labels.size() + " labels for "
                    + logProbs.shape().dim(0) + " rows (log-probs " + logProbs.shape() + ", labels " + labels.shape() + ")");
        }
    }

    /** A label stored as float, checked to be a class index. */
    public static int label(float value, int classes) {
        int label = (int) value;
        if (label != value || label < 0 || label >= classes) {
            throw new IllegalArgumentException("label " + value + " is not a class index in [0, " + classes + ")");
        }
        return label;
    }

    private static IllegalArgumentException mismatch(String op, Tensor... tensors) {
        StringBuilder shapes = new StringBuilder();
        for (Tensor t : tensors) shapes.append(shapes.length() == 0 ? "" : " vs ").append(t.shape());
        return new IllegalArgumentException(op + ": shape mismatch: " + shapes);
    }
}
