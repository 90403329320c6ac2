package advtrain.attack;

import advtrain.autograd.Tape;
import advtrain.backend.Backend;
import advtrain.backend.Tensors;
import advtrain.nn.Module;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.function.Consumer;

/**
 * The base of the evaluation attacks (APGD, Square, AutoAttack), which keep per-image bookkeeping on
 * the host: step sizes, best losses, which images are fooled, and for Square the squares tried. They
 * attack a whole set of images in one call ({@link #attack}): an ensemble then runs each member on
 * the images still robust, and the evaluator runs them over a whole test set at once. The set goes to
 * the device in chunks of at most {@code batchSize} images; the gradient steps of APGD run there.
 *
 * <p>Unlike FGSM and PGD these attacks are for evaluation, not for training steps: a call allocates
 * its device buffers per chunk size and copies each chunk to the device and back once.
 */
abstract class HostAttack implements Attack {
    final Backend backend;
    final AttackConfig config;
    final int batchSize;
    final Tape tape;
    private final FrozenEval frozen = new FrozenEval();
    private Tensor result;
    private Consumer<String> log = line -> {};
    GradientStats gradientStats = GradientStats.NONE;

    /** Images in [0, 1] as one host array [count, channels, height, width], with their labels. */
    record Images(float[] pixels, int[] labels, int channels, int height, int width) {
        int count() { return labels.length; }

        int size() { return channels * height * width; }

        Shape batchShape(int n) { return Shape.of(n, channels, height, width); }
    }

    HostAttack(Backend backend, AttackConfig config, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        this.backend = backend;
        this.config = config;
        this.batchSize = batchSize;
        this.tape = new Tape(backend);
    }

    @Override public final boolean batchByBatch() { return false; }

    /**
     * Writes into {@code adversarial} (same layout as the images) an adversarial version of each image
     * with {@code attacked[i]} true, within ε of it and in [0, 1]; the other images are copied as they
     * are. The model is in evaluation mode with frozen parameters meanwhile.
     */
    final void attack(Module model, Images images, boolean[] attacked, float[] adversarial) {
        System.arraycopy(images.pixels(), 0, adversarial, 0, images.count() * images.size());
        try (FrozenEval guard = frozen.enter(model)) {
            run(model, images, attacked, adversarial);
        } finally {
            tape.reset();
        }
    }

    /** The attack itself, inside the frozen-model scope; {@code adversarial} starts as a copy of the images. */
    abstract void run(Module model, Images images, boolean[] attacked, float[] adversarial);

    /** Where progress lines go (AutoAttack's robust accuracy after each member); nowhere by default. */
    void setLog(Consumer<String> sink) { log = sink; }

    void log(String line) { log.accept(line); }

    Consumer<String> logSink() { return log; }

    /** Queries used per attacked image in the last call (Square), or null for a gradient attack. */
    int[] lastQueries() { return null; }

    @Override public final Tensor perturb(Module model, Tensor images, Tensor labels) {
        Shape shape = images.shape();
        if (shape.rank() != 4 || labels.size() != shape.dim(0)) {
            throw new IllegalArgumentException("perturb: " + labels.size() + " labels for images of shape " + shape + " (needs [N, C, H, W])");
        }
        float[] host = Tensors.toArray(backend, images), hostLabels = Tensors.toArray(backend, labels);
        int[] y = new int[hostLabels.length];
        for (int i = 0; i < y.length; i++) y[i] = (int) hostLabels[i];
        boolean[] all = new boolean[y.length];
        java.util.Arrays.fill(all, true);
        float[] adversarial = new float[host.length];
        attack(model, new Images(host, y, shape.dim(1), shape.dim(2), shape.dim(3)), all, adversarial);
        if (result == null || !result.shape().equals(shape)) {
            if (result != null) backend.release(result);
            result = backend.allocate(shape);
        }
        backend.write(result, adversarial, 0);
        return result;
    }

    /**
     * The model's outputs [count, classes] for {@code count} images packed at the start of
     * {@code pixels}, without gradients. The batch sent is rounded up to a power of two (the rows past
     * count are whatever the array holds and are ignored), so a shrinking set of images reuses a few
     * pooled shapes.
     */
    float[] scores(Module model, float[] pixels, int count, Images geometry, float[] out) {
        int powerOfTwo = 1;
        while (powerOfTwo < count) powerOfTwo <<= 1;
        int rows = Math.min(powerOfTwo, Math.max(count, batchSize));
        int size = geometry.size();
        try (Tape.NoGrad off = tape.noGrad()) {
            Tensor x = tape.scratch(geometry.batchShape(rows));
            if (pixels.length >= rows * size) backend.write(x, pixels, 0);
            else {
                float[] padded = java.util.Arrays.copyOf(pixels, rows * size);
                backend.write(x, padded, 0);
            }
            Tensor outputs = model.forward(tape.input(x, false)).data();
            int classes = outputs.shape().dim(1);
            if (out == null || out.length < rows * classes) out = new float[rows * classes];
            backend.read(outputs, out, 0);
            return out;
        } finally {
            tape.reset();
        }
    }

    /** The number of the model's outputs, from one forward pass of a single image. */
    int classesOf(Module model, Images images) {
        float[] one = java.util.Arrays.copyOf(images.pixels(), images.size());
        return scores(model, one, 1, images, null).length;
    }

    /** Copies image {@code from} of {@code src} to slot {@code to} of {@code dst}. */
    static void copyImage(float[] src, int from, float[] dst, int to, int size) {
        System.arraycopy(src, from * size, dst, to * size, size);
    }

    /** The first index of the largest of the classes values of row {@code row}. */
    static int argmax(float[] outputs, int row, int classes) {
        int best = 0;
        for (int c = 1; c < classes; c++) if (outputs[row * classes + c] > outputs[row * classes + best]) best = c;
        return best;
    }

    @Override public AttackConfig config() { return config; }

    @Override public Tensor lastTargets() { return null; }

    @Override public GradientStats lastGradientStats() { return gradientStats; }

    @Override public int allocations() { return tape.allocations(); }

    @Override public void close() {
        tape.close();
        if (result != null) backend.release(result);
        result = null;
    }

    @Override public String toString() { return config.describe(); }
}
