package advtrain.backend.cpu;

import java.util.Arrays;

/**
 * The element-wise kernels of a training step that touch large tensors (zeroing gradients, ReLU
 * forward and backward, the input normalisation, the SGD update), split over the worker threads
 * in chunks of {@link #CHUNK} elements. They are memory-bound: a second core adds bandwidth, and
 * tensors under about 64K elements stay on the calling thread (Parallel's threshold), where the
 * hand-off would cost more than it saves. One instance per calling thread; nothing allocated.
 */
final class Elementwise {
    private static final ThreadLocal<Elementwise> PER_THREAD = ThreadLocal.withInitial(Elementwise::new);

    static Elementwise forThisThread() { return PER_THREAD.get(); }

    /** Elements per work item: a multiple of every vector length. */
    static final int CHUNK = 4096;

    enum Op { FILL, ADD, AXPY, AFFINE, RELU, RELU_BACKWARD, RELU_BACKWARD_FRESH, SGD, SGD_DECAY, SIGN, CLAMP }

    private Op op;
    private int n;
    private float[] a, b, c;
    private float alpha, beta, decay;

    private Elementwise() {}

    /**
     * Runs op over [0, n): FILL c = alpha; ADD c = a + b; AXPY c += alpha * a; AFFINE c = alpha * a +
     * beta; RELU c = relu(a); RELU_BACKWARD c += b where a > 0;
     * RELU_BACKWARD_FRESH c = a > 0 ? b : 0; SGD (a param, b grad, c velocity)
     * c = beta * c + b, a -= alpha * c; SIGN c = sign(a); CLAMP c = min(max(a, alpha), beta).
     */
    void run(Op op, int n, float[] a, float[] b, float[] c, float alpha, float beta) {
        this.op = op; this.n = n; this.a = a; this.b = b; this.c = c; this.alpha = alpha; this.beta = beta;
        boolean sgd = op == Op.SGD || op == Op.SGD_DECAY;
        Parallel.range((n + CHUNK - 1) / CHUNK, sgd ? 2 * CHUNK : CHUNK / 2, chunks);
        this.a = this.b = this.c = null;
    }

    /**
     * SGD_DECAY: SGD with weight decay, g = b + decay * a (in a register; b is only read), then as SGD
     * with g for b. decay == 0 runs SGD itself, so a zero decay gives exactly the bits of plain SGD.
     */
    void sgd(int n, float[] param, float[] grad, float[] velocity, float lr, float momentum, float decay) {
        this.decay = decay;
        run(decay == 0f ? Op.SGD : Op.SGD_DECAY, n, param, grad, velocity, lr, momentum);
    }

    /** Item i = elements [i * CHUNK, (i + 1) * CHUNK) of every operand (the last item shorter). */
    private final Parallel.Task chunks = new Parallel.Task() {
        @Override protected void run(int from, int to, int worker) {
            int start = from * CHUNK, end = Math.min(n, to * CHUNK);
            switch (op) {
                case FILL -> Arrays.fill(c, start, end, alpha);
                case ADD -> { for (int i = start; i < end; i++) c[i] = a[i] + b[i]; }
                case AXPY -> { for (int i = start; i < end; i++) c[i] += alpha * a[i]; }
                case AFFINE -> { for (int i = start; i < end; i++) c[i] = alpha * a[i] + beta; }
                case RELU -> Vec.relu(a, c, start, end - start);
                case RELU_BACKWARD -> Vec.reluBackward(a, b, c, start, end - start);
                case RELU_BACKWARD_FRESH -> Vec.reluBackwardFresh(a, b, c, start, end - start);
                case SIGN -> Vec.sign(a, c, start, end - start);
                case CLAMP -> { for (int i = start; i < end; i++) c[i] = Math.min(Math.max(a[i], alpha), beta); }
                case SGD -> {
                    for (int i = start; i < end; i++) {
                        c[i] = beta * c[i] + b[i];
                        a[i] -= alpha * c[i];
                    }
                }
                case SGD_DECAY -> {
                    for (int i = start; i < end; i++) {
                        float g = b[i] + decay * a[i];
                        c[i] = beta * c[i] + g;
                        a[i] -= alpha * c[i];
                    }
                }
            }
        }
    };
}
