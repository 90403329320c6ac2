package advtrain.backend;

/**
 * Thrown when a requested backend cannot run here (no OpenCL library, driver or device, say); the
 * message says, in one line, what is missing and how to fix it.
 */
public final class UnavailableException extends RuntimeException {
    public UnavailableException(String message) { super(message); }
}
