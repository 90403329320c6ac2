package advtrain.backend.reference;

import advtrain.tensor.Storage;
import advtrain.tensor.Tensor;

/**
 * A tensor's elements in a plain float array on the Java heap: how the reference and the tuned
 * Java backend keep tensors, so the two can share them.
 */
public record HeapStorage(float[] data) implements Storage {

    @Override public int capacity() { return data.length; }

    /** The array behind a tensor made by a Java backend. */
    public static float[] array(Tensor t) {
        if (t.storage() instanceof HeapStorage h) return h.data;
        throw new IllegalArgumentException("tensor " + t + " does not belong to a Java backend (reference or java)");
    }
}
