package advtrain.backend;

import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/** Conveniences at the host edge, built on {@link Backend#allocate}, {@link Backend#write} and {@link Backend#read}. */
public final class Tensors {
    private Tensors() {}

    /** The tensor's elements in a new host array (a copy from the device: not inside a step). */
    public static float[] toArray(Backend backend, Tensor tensor) {
        float[] host = new float[tensor.size()];
        backend.read(tensor, host, 0);
        return host;
    }

    /** A new tensor of these dimensions holding these values. */
    public static Tensor fromArray(Backend backend, float[] values, int... dims) {
        Tensor t = backend.allocate(Shape.of(dims));
        backend.write(t, values, 0);
        return t;
    }
}
