package advtrain.attack;

import advtrain.backend.Backend;
import advtrain.nn.Module;
import advtrain.tensor.Tensor;

/**
 * An evasion attack: given a model and a batch of images with their labels, it returns adversarial
 * images. Everything is in [0, 1] pixel space (the model normalises inside), images are float32
 * NCHW, labels are class indices stored as floats, and all three tensors live on the attack's
 * backend. An attack is reusable and keeps its buffers from call to call: it allocates nothing
 * once it has seen a batch shape, and copies nothing between host and device, so it can run
 * inside a training step. It is not thread-safe.
 */
public interface Attack extends AutoCloseable {

    /**
     * Adversarial versions of {@code images}, in [0, 1]. The model is in evaluation mode (see
     * {@link #setEvaluationMode}) with frozen parameters meanwhile and comes back as it was. The returned tensor belongs to the attack and
     * is overwritten by its next call with a batch of the same shape; {@code images} and
     * {@code labels} are not modified.
     */
    Tensor perturb(Module model, Tensor images, Tensor labels);

    /**
     * Whether {@link #perturb} puts the model in evaluation mode (the default: batch norm uses its
     * running statistics, as for any evaluation) or leaves it in the mode it is in. Adversarial
     * training turns it off, as Wong et al.'s and Madry et al.'s training code craft the examples with
     * the model in training mode (batch statistics, and the running statistics move). Attacks that
     * cannot say refuse to be switched.
     */
    default void setEvaluationMode(boolean on) {
        if (!on) throw new UnsupportedOperationException(config().describe() + " always attacks in evaluation mode");
    }

    /**
     * Starts the attack's random stream over from {@code seed}, keeping its buffers: its next calls
     * draw what a new attack made with {@code config().withSeed(seed)} would. Returns false for an
     * attack that cannot (then make a new one). Adversarial training reseeds its attack each epoch.
     */
    default boolean reseed(long seed) { return false; }

    /** What this attack does, for people. */
    AttackConfig config();

    /**
     * For a targeted attack, the classes the last call aimed at ([N] on the device), else null.
     * Valid until the next call.
     */
    Tensor lastTargets();

    /**
     * How many images of the last call had an input gradient at the start that was exactly zero or
     * not finite: many of them mean gradient masking, and a gradient attack that learns nothing.
     * Reads N numbers from the device: call it after the attack, not inside a training step. At
     * ε = 0 no gradient is computed (the result is the clean batch) and the stats count no images.
     */
    GradientStats lastGradientStats();

    /**
     * Whether the attack runs on batches as {@link #perturb} takes them (FGSM, PGD). The evaluation
     * attacks (APGD, Square, AutoAttack) do better with the whole set at once: the evaluator gives it
     * to them ({@link RobustnessEvaluator#run(Attack, Module)}).
     */
    default boolean batchByBatch() { return true; }

    /** Tensors the backend had to allocate for this attack so far; flat once every batch shape was seen. */
    int allocations();

    /** Gives the buffers back to the backend. */
    @Override void close();

    /** Zero and non-finite input gradients among n images. */
    record GradientStats(int n, int zero, int nonFinite) {
        public static final GradientStats NONE = new GradientStats(0, 0, 0);

        public GradientStats plus(GradientStats o) { return new GradientStats(n + o.n, zero + o.zero, nonFinite + o.nonFinite); }
    }

    /** The attack these settings describe, on this backend (the evaluation attacks in batches of 256). */
    static Attack create(Backend backend, AttackConfig config) {
        return create(backend, config, 256);
    }

    /**
     * The attack these settings describe, on this backend: FGSM and PGD run on the batches they are
     * given; APGD, Square and AutoAttack send at most {@code batchSize} images to the device at once.
     */
    static Attack create(Backend backend, AttackConfig config, int batchSize) {
        return switch (config.kind()) {
            case FGSM, PGD -> new GradientAttack(backend, config);
            case APGD_CE, APGD_DLR, APGD_T -> new Apgd(backend, config, batchSize);
            case SQUARE -> new SquareAttack(backend, config, batchSize);
            case AUTOATTACK -> new AutoAttack(backend, config, batchSize);
        };
    }
}
