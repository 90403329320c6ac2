package advtrain.backend.cpu;

/**
 * One scratch array per worker of {@link Parallel} (index = the worker number a task is given),
 * grown on first use and reused after, so steady-state calls allocate nothing.
 */
final class WorkerScratch {
    private final float[][] perWorker = new float[Parallel.threads()][0];

    /** Worker `worker`'s array, at least `size` floats long. */
    float[] get(int worker, int size) {
        if (perWorker[worker].length < size) perWorker[worker] = new float[size];
        return perWorker[worker];
    }

    /** `buffer` if it holds `size` floats, else a new array that does (a workspace grown on first use). */
    static float[] atLeast(float[] buffer, int size) { return buffer.length >= size ? buffer : new float[size]; }

    /** `buffer` if it holds `size` ints, else a new array that does. */
    static int[] atLeast(int[] buffer, int size) { return buffer.length >= size ? buffer : new int[size]; }
}
