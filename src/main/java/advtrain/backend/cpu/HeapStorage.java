package advtrain.backend.cpu;

import advtrain.tensor.Storage;

/** CPU storage: a plain float array on the Java heap. */
public final class HeapStorage implements Storage {
    final float[] data;

    HeapStorage(int size) { this.data = new float[size]; }

    @Override public int capacity() { return data.length; }
}
