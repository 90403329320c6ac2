package advtrain.backend.select;

import advtrain.backend.Backend;

/**
 * Times a training step on a backend, for {@code --backend auto}'s choice between the Java backend
 * and an OpenCL CPU device. The command line passes one that trains the seed's network for real
 * (train.WarmUp#stepTimer); {@link SpeedProbe#KERNELS} is the fallback for callers that have none.
 */
public interface StepTimer {
    /** What is timed, for the cache key and the reason auto gives. */
    String name();

    /**
     * Milliseconds per step on this backend, after warming up until the JIT has finished compiling
     * the step or {@code maxWarmUpSeconds} have passed; {@code warm} says which came first.
     */
    Timing time(Backend backend, double maxWarmUpSeconds);

    /** A step's time, and whether it was taken warm: a cold timing is never cached. */
    record Timing(double millis, boolean warm) {}
}
