package advtrain.train;

import advtrain.attack.RobustnessEvaluator;
import advtrain.attack.RobustnessEvaluator.Predictions;
import advtrain.backend.Backend;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.nn.Module;

/**
 * Clean accuracy, per-class accuracy, confusion matrix and mean NLL loss of a classifier on a
 * labelled set: the clean pass of {@link RobustnessEvaluator} (batches, evaluation mode, no
 * gradients), counted into an {@link Evaluation}.
 */
public final class CleanEvaluator implements AutoCloseable {
    public static final int DEFAULT_BATCH = 500;

    private final Backend backend;
    private final int batchSize;

    public CleanEvaluator(Backend backend, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("evaluation batch size must be >= 1, got " + batchSize);
        this.backend = backend;
        this.batchSize = batchSize;
    }

    public Evaluation evaluate(Module model, Dataset data) {
        int classes = Cifar10.CLASSES.size();
        Predictions clean;
        try (RobustnessEvaluator pass = new RobustnessEvaluator(backend, model, data, batchSize, classes, true)) {
            clean = pass.clean();
        }
        int[][] confusion = new int[classes][classes];
        for (int i = 0; i < clean.labels().length; i++) confusion[clean.labels()[i]][clean.predicted()[i]]++;
        return new Evaluation(data.size(), clean.correct(), clean.meanLoss(), confusion, Cifar10.CLASSES);
    }

    @Override public void close() {}
}
