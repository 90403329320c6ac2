package advtrain.nn;

import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * Module state that is not a parameter but belongs in the state_dict (PyTorch's registered
 * buffers): batch norm's running_mean and running_var, float32 tensors on the backend that the
 * forward pass updates, and its num_batches_tracked, an int64 counter kept here on the host (it
 * is only ever incremented, never read by a kernel, so it never needs to cross to the device).
 * The optimizer does not see buffers; model files and training checkpoints do.
 */
public final class Buffer {
    private final Tensor tensor;  // null for a counter
    private long count;

    private Buffer(Tensor tensor) { this.tensor = tensor; }

    /** A float32 buffer held in this backend tensor. */
    public static Buffer of(Tensor tensor) {
        if (tensor == null) throw new IllegalArgumentException("a float32 buffer needs a tensor");
        return new Buffer(tensor);
    }

    /** An int64 counter with shape [] (a 0-dimensional tensor in the state_dict), starting at 0. */
    public static Buffer counter() { return new Buffer(null); }

    public boolean isCounter() { return tensor == null; }

    /** The backend tensor of a float32 buffer (null for a counter). */
    public Tensor tensor() { return tensor; }

    public Shape shape() { return tensor == null ? Shape.of() : tensor.shape(); }

    /** The state_dict dtype: "I64" for a counter, "F32" otherwise. */
    public String dtype() { return isCounter() ? "I64" : "F32"; }

    public long count() { return count; }

    public void setCount(long value) {
        if (!isCounter()) throw new IllegalStateException("not a counter");
        count = value;
    }

    public void increment() { setCount(count + 1); }
}
