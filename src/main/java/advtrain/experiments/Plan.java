package advtrain.experiments;

import advtrain.data.Cifar10;
import advtrain.io.InvalidOptionException;
import advtrain.train.TrainConfig;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The sizes of a reproduction: how the models are trained and on how many images each figure is
 * measured. {@link #full()} is the seed's recipe (all 50,000 training images, 20 epochs, SGD lr
 * 0.001, momentum 0.9, batch 32; every test image); {@link #quick()} is the same experiments on
 * subsets, in a few minutes.
 *
 * @param trainImages   training images of every model (the first N)
 * @param epochs        epochs of every model
 * @param lr            SGD learning rate of every model
 * @param testImages    test images of the clean accuracy (and of each epoch's test accuracy)
 * @param attackImages  test images every attack runs on (the first N)
 * @param sweepEps      ε of the accuracy-against-ε figure (FGSM and PGD)
 * @param gridEps       ε of the pictures figure (PGD)
 * @param gridImages    test images in the picture figures, of different classes
 * @param conditionEps  ε of the necessary-condition figure
 * @param conditionRatios α·steps/ε of the necessary-condition figure (PGD with {@link #CONDITION_STEPS} steps)
 * @param advEps        training ε of the adversarially trained models (Eq. 3, α = {@link #ADV_MIX})
 * @param advEvalEps    PGD ε the adversarially trained models are attacked with
 * @param evalAdvLimit  test images of the robust accuracy column during adversarial training
 * @param seed          seeds initialisation, shuffling, random starts
 * @param autoAttackImages test images of AutoAttack and of the PGD-10 it is compared with (the first N of the attacked ones)
 */
public record Plan(String name, int trainImages, int epochs, float lr, int testImages, int attackImages,
                   float[] sweepEps, float[] gridEps, int gridImages, float conditionEps, float[] conditionRatios,
                   float[] advEps, float[] advEvalEps, int evalAdvLimit, long seed, int autoAttackImages) {

    public static final float ADV_MIX = 0.5f;
    public static final int CONDITION_STEPS = 10;
    /** The seed's reported clean test accuracy of the naive classifier. */
    public static final double SEED_ACCURACY = 0.54;

    private static final float[] SWEEP = {0f, 0.002f, 0.005f, 0.01f, 0.02f, 0.03f, 0.05f, 0.1f};
    private static final float[] GRID = {0.005f, 0.01f, 0.02f, 0.03f, 0.05f, 0.1f};
    private static final float[] RATIOS = {0.2f, 0.5f, 1f, 2.5f};

    public Plan {
        if (trainImages < 1 || epochs < 1 || testImages < 1 || attackImages < 1 || gridImages < 1 || evalAdvLimit < 1 || autoAttackImages < 1) {
            throw new InvalidOptionException("image counts and epochs must be >= 1");
        }
        if (!(lr > 0) || !Float.isFinite(lr)) throw new InvalidOptionException("--lr must be a number > 0, got " + lr);
        if (advEps.length == 0) throw new InvalidOptionException("--adv-eps needs at least one value");
        for (float e : advEps) if (!(e > 0)) throw new InvalidOptionException("--adv-eps values must be > 0, got " + e);
        trainImages = Math.min(trainImages, Cifar10.TRAIN_SIZE);
        testImages = Math.min(testImages, Cifar10.TEST_SIZE);
        attackImages = Math.min(attackImages, testImages);
        evalAdvLimit = Math.min(evalAdvLimit, testImages);
        autoAttackImages = Math.min(autoAttackImages, attackImages);
    }

    /** The seed's recipe on all of CIFAR-10. */
    public static Plan full() {
        return new Plan("full", Cifar10.TRAIN_SIZE, TrainConfig.EPOCHS, TrainConfig.LR, Cifar10.TEST_SIZE, Cifar10.TEST_SIZE,
                SWEEP, GRID, 5, 0.03f, RATIOS, new float[] {0.01f, 0.02f, 0.03f},
                new float[] {0f, 0.005f, 0.01f, 0.02f, 0.03f, 0.05f, 0.1f}, 1000, 0, Cifar10.TEST_SIZE);
    }

    /**
     * Every experiment on subsets: 5,000 training images for 3 epochs at lr 0.02 (the seed's 0.001
     * barely moves this network in so few steps), 1,000 test images, attacks on 300, two training ε;
     * AutoAttack, the standard version at full strength, on the first 100 of the 300 (on all 300,
     * {@code reproduce --quick --backend java} on CIFAR-10 spent 215 of its 387 s there, on 2 busy cores).
     */
    public static Plan quick() {
        return new Plan("quick", 5000, 3, 0.02f, 1000, 300, SWEEP, GRID, 5, 0.03f, RATIOS,
                new float[] {0.01f, 0.03f}, new float[] {0f, 0.01f, 0.02f, 0.03f, 0.05f}, 100, 0, 100);
    }

    public Plan withTrainImages(int n) { return new Plan(name, n, epochs, lr, testImages, attackImages, sweepEps, gridEps, gridImages, conditionEps, conditionRatios, advEps, advEvalEps, evalAdvLimit, seed, autoAttackImages); }
    public Plan withEpochs(int n) { return new Plan(name, trainImages, n, lr, testImages, attackImages, sweepEps, gridEps, gridImages, conditionEps, conditionRatios, advEps, advEvalEps, evalAdvLimit, seed, autoAttackImages); }
    public Plan withLr(float v) { return new Plan(name, trainImages, epochs, v, testImages, attackImages, sweepEps, gridEps, gridImages, conditionEps, conditionRatios, advEps, advEvalEps, evalAdvLimit, seed, autoAttackImages); }
    /** Test images; the attacks and the robust column shrink with them when they would exceed them. */
    public Plan withTestImages(int n) { return new Plan(name, trainImages, epochs, lr, n, attackImages, sweepEps, gridEps, gridImages, conditionEps, conditionRatios, advEps, advEvalEps, evalAdvLimit, seed, autoAttackImages); }
    public Plan withAttackImages(int n) { return new Plan(name, trainImages, epochs, lr, testImages, n, sweepEps, gridEps, gridImages, conditionEps, conditionRatios, advEps, advEvalEps, evalAdvLimit, seed, autoAttackImages); }
    public Plan withAdvEps(float[] e) { return new Plan(name, trainImages, epochs, lr, testImages, attackImages, sweepEps, gridEps, gridImages, conditionEps, conditionRatios, e, advEvalEps, evalAdvLimit, seed, autoAttackImages); }
    public Plan withSeed(long s) { return new Plan(name, trainImages, epochs, lr, testImages, attackImages, sweepEps, gridEps, gridImages, conditionEps, conditionRatios, advEps, advEvalEps, evalAdvLimit, s, autoAttackImages); }
    /**
     * This plan on a data folder holding fewer images than it asks for (a sample of CIFAR-10): all of
     * them, and the name says so; unchanged where the folder holds enough.
     */
    public Plan fitTo(int trainHeld, int testHeld) {
        if (trainImages <= trainHeld && testImages <= testHeld) return this;
        return withTrainImages(Math.min(trainImages, trainHeld)).withTestImages(Math.min(testImages, testHeld))
                .named(name + String.format(Locale.ROOT, ", on a sample of CIFAR-10 (%,d training and %,d test images)", trainHeld, testHeld));
    }

    /** Marks a plan changed by options ("quick, modified"). */
    public Plan named(String n) { return new Plan(n, trainImages, epochs, lr, testImages, attackImages, sweepEps, gridEps, gridImages, conditionEps, conditionRatios, advEps, advEvalEps, evalAdvLimit, seed, autoAttackImages); }

    /** The training recipe of every model: the seed's SGD, batch 32, shuffled, no augmentation. */
    public TrainConfig trainConfig() {
        return new TrainConfig(epochs, TrainConfig.BATCH, lr, TrainConfig.MOMENTUM, seed, true, false, trainImages, testImages, null);
    }

    /** Whether this is the seed's recipe on all the data. */
    public boolean isSeedRecipe() {
        return trainImages == Cifar10.TRAIN_SIZE && epochs == TrainConfig.EPOCHS && lr == TrainConfig.LR;
    }

    /** For report.md and the JSON output. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("train_images", trainImages);
        m.put("epochs", epochs);
        m.put("lr", lr);
        m.put("batch", TrainConfig.BATCH);
        m.put("momentum", TrainConfig.MOMENTUM);
        m.put("test_images", testImages);
        m.put("attack_images", attackImages);
        m.put("adv_eps", floats(advEps));
        m.put("adv_mix", ADV_MIX);
        m.put("autoattack_images", autoAttackImages);
        m.put("seed", seed);
        return m;
    }

    private static java.util.List<Float> floats(float[] values) {
        java.util.List<Float> list = new java.util.ArrayList<>();
        for (float v : values) list.add(v);
        return list;
    }

    @Override public String toString() {
        return String.format(Locale.ROOT, "%s: %,d training images, %d epochs, lr %s, %,d test images, attacks on %,d, adversarial training at eps %s",
                name, trainImages, epochs, fmt(lr), testImages, attackImages, list(advEps));
    }

    public static String list(float[] values) {
        String[] parts = new String[values.length];
        for (int i = 0; i < values.length; i++) parts[i] = fmt(values[i]);
        return String.join(", ", parts);
    }

    /** A float in its shortest plain form: 0.02, 3, 1e-05. */
    public static String fmt(float v) {
        String s = String.format(Locale.ROOT, "%.4g", v);
        return s.contains(".") && !s.contains("e") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }
}
