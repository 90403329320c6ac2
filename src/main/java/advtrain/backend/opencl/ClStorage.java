package advtrain.backend.opencl;

import advtrain.tensor.Storage;
import org.jocl.cl_mem;

/** OpenCL storage: a device buffer of floats. Only {@link OpenClBackend} looks inside. */
final class ClStorage implements Storage {
    final cl_mem buffer;
    final int capacity;
    final ClContext owner;
    boolean released;

    ClStorage(cl_mem buffer, int capacity, ClContext owner) {
        this.buffer = buffer;
        this.capacity = capacity;
        this.owner = owner;
    }

    @Override public int capacity() { return capacity; }
}
