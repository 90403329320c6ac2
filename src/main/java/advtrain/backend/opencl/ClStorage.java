package advtrain.backend.opencl;

import advtrain.tensor.Storage;
import org.jocl.Pointer;
import org.jocl.cl_mem;

/** OpenCL storage: a device buffer of floats. Only {@link OpenClBackend} looks inside. */
final class ClStorage implements Storage {
    final cl_mem buffer;
    /** The argument value a kernel launch passes for this buffer, made once (ClContext.Call.buffer). */
    final Pointer pointer;
    final int capacity;
    final ClContext owner;
    boolean released;

    ClStorage(cl_mem buffer, int capacity, ClContext owner) {
        this.buffer = buffer;
        this.pointer = Pointer.to(buffer);
        this.capacity = capacity;
        this.owner = owner;
    }

    @Override public int capacity() { return capacity; }
}
