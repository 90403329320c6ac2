package advtrain.train;

import advtrain.io.InvalidOptionException;
import advtrain.attack.AttackConfig;
import advtrain.attack.RobustnessEvaluator;
import advtrain.backend.Backend;
import advtrain.data.Dataset;
import advtrain.nn.Net;

/**
 * The robust test accuracy a training run records after each epoch (metrics.csv column
 * {@value #COLUMN}): accuracy under the default PGD of {@link AttackConfig#pgd} (10 steps of ε/4 from the clean
 * image, L∞, untargeted) on the first test images, counted by the attack package's
 * {@link RobustnessEvaluator}. An image misclassified before the attack counts as not robust.
 */
public final class RobustAccuracy {
    public static final String COLUMN = "robust_test_acc";
    public static final int DEFAULT_LIMIT = 1000;
    static final int BATCH = 250;

    private RobustAccuracy() {}

    /** The attack the column is measured with. */
    public static AttackConfig attack(float eps) { return AttackConfig.pgd(eps); }

    /** The column: robust accuracy under {@link #attack} at ε on the first {@code limit} images of {@code test}. */
    public static TrainingRun.Column column(Backend backend, Dataset test, float eps, int limit) {
        if (limit < 1) throw new InvalidOptionException("--eval-adv-limit must be >= 1 for a robust accuracy column, got " + limit);
        Dataset subset = test.limit(limit);
        AttackConfig config = attack(eps);
        return new TrainingRun.Column(COLUMN, "robust test acc", model -> {
            try (RobustnessEvaluator evaluator = new RobustnessEvaluator(backend, model, subset, BATCH, Net.CLASSES, true)) {
                return evaluator.run(config).robustAccuracy();
            }
        });
    }
}
