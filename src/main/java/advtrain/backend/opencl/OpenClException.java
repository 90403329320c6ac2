package advtrain.backend.opencl;

/** An OpenCL call failed at run time (a kernel build, a launch, a copy); the message says which and on what device. */
public final class OpenClException extends RuntimeException {
    OpenClException(String message, Throwable cause) { super("OpenCL: " + message, cause); }
}
