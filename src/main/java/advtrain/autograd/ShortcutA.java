package advtrain.autograd;

import advtrain.backend.Backend;
import advtrain.backend.ConvGeometry;
import advtrain.backend.FusedKernels;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * ShortcutA, the parameter-free "option A" shortcut of He et al.'s CIFAR ResNets: x [N, C, H, W]
 * to [N, C + 2 pad, ceil(H/2), ceil(W/2)], x[:, :, ::2, ::2] with pad zero channels before and
 * after (PyTorch: {@code F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, pad, pad))}). Computed as a 1x1
 * stride-2 convolution without bias by a fixed weight [C + 2 pad, C, 1, 1], the identity shifted
 * by pad channels: exact for finite inputs (one input times 1, plus products with 0). The op owns
 * that weight, made once by the constructor ({@link #close} releases it); backward asks
 * conv2dBackward for the input's gradient alone. A backend with {@link FusedKernels} copies
 * instead (forward every other pixel, backward the gradient back to them: the same values but for
 * the sign of a zero), without the products with 0.
 */
public final class ShortcutA implements Op, AutoCloseable {
    private final Backend backend;
    /** The shifted identity, [inChannels + 2 pad, inChannels, 1, 1]. */
    private final Tensor weight;
    final int inChannels, pad;
    /** Every other pixel of every other row. */
    static final int STRIDE = 2;

    /** The shortcut from inChannels to inChannels + 2 pad channels (He et al.: pad = planes / 4). */
    public ShortcutA(Backend backend, int inChannels, int pad) {
        if (inChannels < 1 || pad < 0) throw new IllegalArgumentException("shortcutA: needs inChannels >= 1 and pad >= 0, got " + inChannels + ", " + pad);
        this.backend = backend; this.inChannels = inChannels; this.pad = pad;
        weight = backend.allocate(Shape.of(inChannels + 2 * pad, inChannels, 1, 1));
        backend.write(weight, shiftedIdentity(inChannels, pad), 0);
    }

    /** The 1x1 weight [inChannels + 2 pad, inChannels] that maps channel c to channel c + pad: 1 there, 0 elsewhere. */
    public static float[] shiftedIdentity(int inChannels, int pad) {
        float[] identity = new float[(inChannels + 2 * pad) * inChannels];
        for (int c = 0; c < inChannels; c++) identity[(c + pad) * inChannels + c] = 1f;
        return identity;
    }

    public Variable apply(Variable x) {
        check(x);
        Tape tape = x.tape;
        Variable y = tape.result(ConvGeometry.outputShape("shortcutA", x.shape(), weight.shape(), STRIDE, 0), x, null, null);
        if (backend instanceof FusedKernels fused) fused.shortcutA(x.data(), STRIDE, pad, y.data());
        else backend.conv2d(x.data(), weight, null, y.data(), STRIDE, 0);
        tape.record(y, this);
        return y;
    }

    /** Refuses an x this shortcut cannot take: on another backend, or not [N, inChannels, H, W]. */
    void check(Variable x) {
        if (x.tape.backend() != backend) throw new IllegalArgumentException("shortcutA: made for backend " + backend.name() + ", used on " + x.tape.backend().name());
        if (x.shape().rank() != 4 || x.shape().dim(1) != inChannels) {
            throw new IllegalArgumentException("shortcutA: input " + x.shape() + " should be [N, " + inChannels + ", H, W]");
        }
    }

    @Override public void backward(Variable y, Backend be, Tape tape) {
        Variable x = y.input(0);
        if (!(be instanceof FusedKernels fused)) {
            be.conv2dBackward(x.data(), weight, y.grad, tape.gradOf(x), null, null, STRIDE, 0);
            return;
        }
        Tensor fresh = tape.freshGrad(x);
        if (fresh != null) fused.shortcutABackward(y.grad, STRIDE, pad, fresh, true);
        else if (x.requiresGrad) fused.shortcutABackward(y.grad, STRIDE, pad, tape.gradOf(x), false);
    }

    /** Releases the fixed weight; the op must not be applied afterwards. */
    @Override public void close() { backend.release(weight); }
}
