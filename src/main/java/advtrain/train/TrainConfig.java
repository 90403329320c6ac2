package advtrain.train;

import advtrain.data.Cifar10;
import advtrain.io.InvalidOptionException;
import advtrain.optim.LrSchedule;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The options of a training run. Defaults are the seed's recipe: batch 32, SGD lr 0.001 with
 * momentum 0.9, 20 epochs over all 50,000 training images in a fresh shuffle each epoch.
 *
 * @param epochs     total epochs of the run (a resumed run trains the ones still missing)
 * @param limitTrain use the first N training images
 * @param limitTest  evaluate on the first N test images after each epoch
 * @param init        a safetensors file to start from instead of a random initialisation, or null
 * @param weightDecay torch.optim.SGD's weight_decay (0: none, the seed's recipe)
 * @param lrSchedule  how the learning rate moves over the run; with a schedule, lr is its peak
 */
public record TrainConfig(int epochs, int batch, float lr, float momentum, long seed, boolean shuffle,
                          boolean augment, int limitTrain, int limitTest, String init,
                          float weightDecay, LrSchedule.Kind lrSchedule) {
    public static final int EPOCHS = 20, BATCH = 32;
    public static final float LR = 0.001f, MOMENTUM = 0.9f;

    /**
     * Recipe entries that run.json files written before they existed lack; absent means this
     * value (the behaviour of those versions).
     */
    static final Map<String, Object> ADDED_LATER = Map.of("weight_decay", 0f, "lr_schedule", LrSchedule.Kind.CONSTANT.label());

    /** Without weight decay, at a constant learning rate. */
    public TrainConfig(int epochs, int batch, float lr, float momentum, long seed, boolean shuffle,
                       boolean augment, int limitTrain, int limitTest, String init) {
        this(epochs, batch, lr, momentum, seed, shuffle, augment, limitTrain, limitTest, init, 0f, LrSchedule.Kind.CONSTANT);
    }

    /** Checks every value; a bad one is an IllegalArgumentException naming the option (exit status 2). */
    public TrainConfig {
        if (epochs < 1) throw new InvalidOptionException("--epochs must be >= 1, got " + epochs);
        if (batch < 1) throw new InvalidOptionException("--batch must be >= 1, got " + batch);
        if (!(lr > 0) || !Float.isFinite(lr)) throw new InvalidOptionException("--lr must be a number > 0, got " + lr);
        if (!(momentum >= 0 && momentum < 1)) throw new InvalidOptionException("--momentum must be in [0, 1), got " + momentum);
        if (limitTrain < 1) throw new InvalidOptionException("--limit-train must be >= 1, got " + limitTrain);
        if (limitTest < 1) throw new InvalidOptionException("--limit-test must be >= 1, got " + limitTest);
        if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) {
            throw new InvalidOptionException("--weight-decay must be a number >= 0, got " + weightDecay);
        }
        if (lrSchedule == null) lrSchedule = LrSchedule.Kind.CONSTANT;
        limitTrain = Math.min(limitTrain, Cifar10.TRAIN_SIZE);  // "more than there is" means all of it
        limitTest = Math.min(limitTest, Cifar10.TEST_SIZE);
    }

    public static TrainConfig defaults() {
        return new TrainConfig(EPOCHS, BATCH, LR, MOMENTUM, 0, true, false, Cifar10.TRAIN_SIZE, Cifar10.TEST_SIZE, null);
    }

    public TrainConfig withEpochs(int n) {
        return new TrainConfig(n, batch, lr, momentum, seed, shuffle, augment, limitTrain, limitTest, init, weightDecay, lrSchedule);
    }

    /** The learning rate of every step: lr throughout, or lr as the peak of a schedule over the run's epochs. */
    public LrSchedule schedule() {
        return new LrSchedule(lrSchedule, lr, epochs);
    }

    /**
     * What, besides the number of epochs, decides the trained weights: a resumed run must have
     * the same.
     */
    public Map<String, Object> recipe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch", batch);
        m.put("lr", lr);
        m.put("momentum", momentum);
        m.put("seed", seed);
        m.put("shuffle", shuffle);
        m.put("augment", augment);
        m.put("limit_train", limitTrain);
        m.put("init", init);
        m.put("weight_decay", weightDecay);
        m.put("lr_schedule", lrSchedule.label());
        return m;
    }

    /** Every option, for run.json. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.putAll(recipe());
        m.put("limit_test", limitTest);
        return m;
    }

    /** The options as {@link #toJson} wrote them (read back from run.json). */
    public static TrainConfig fromJson(Map<?, ?> m) {
        try {
            return new TrainConfig(integer(m, "epochs"), integer(m, "batch"), (float) number(m, "lr").doubleValue(),
                    (float) number(m, "momentum").doubleValue(), number(m, "seed").longValue(), bool(m, "shuffle"),
                    bool(m, "augment"), integer(m, "limit_train"), integer(m, "limit_test"),
                    m.get("init") == null ? null : String.valueOf(m.get("init")),
                    m.containsKey("weight_decay") ? (float) number(m, "weight_decay").doubleValue() : 0f,
                    m.containsKey("lr_schedule") ? LrSchedule.Kind.parse(String.valueOf(m.get("lr_schedule"))) : LrSchedule.Kind.CONSTANT);
        } catch (ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException("run.json options are incomplete or malformed (" + e.getMessage() + ")");
        }
    }

    private static Number number(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof Number n)) throw new IllegalArgumentException("run.json options lack a number \"" + key + "\"");
        return n;
    }

    private static int integer(Map<?, ?> m, String key) {
        long v = number(m, key).longValue();
        if (v != number(m, key).doubleValue() || v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
            throw new IllegalArgumentException("run.json option \"" + key + "\" is not an integer");
        }
        return (int) v;
    }

    private static boolean bool(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof Boolean b)) throw new IllegalArgumentException("run.json options lack a boolean \"" + key + "\"");
        return b;
    }
}
