package advtrain.tensor;

/**
 * The memory behind a tensor, owned by one backend: a Java array for the CPU backend, an OpenCL
 * buffer for the OpenCL backend. Only the backend that made it looks inside.
 */
public interface Storage {
    /** Capacity in float elements. */
    int capacity();
}
