package advtrain.train;

import advtrain.autograd.Tape;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.data.BatchLoader;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.nn.Module;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * Clean accuracy, per-class accuracy, confusion matrix and mean NLL loss of a classifier on a
 * labelled set, in batches, with the model in evaluation mode and the tape recording nothing. Each
 * batch's log-probabilities come back in one read; argmax and loss are taken on the host.
 */
public final class Evaluator implements AutoCloseable {
    public static final int DEFAULT_BATCH = 500;

    private final Backend backend;
    private final int batchSize;
    private final Tape tape;
    private final float[] hostImages, hostLabels, hostLogProbs;

    public Evaluator(Backend backend, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("evaluation batch size must be >= 1, got " + batchSize);
        this.backend = backend;
        this.batchSize = batchSize;
        this.tape = new Tape(backend);
        this.hostImages = new float[batchSize * Dataset.IMAGE_BYTES];
        this.hostLabels = new float[batchSize];
        this.hostLogProbs = new float[batchSize * Cifar10.CLASSES.size()];
    }

    public Evaluation evaluate(Module model, Dataset data) {
        int classes = Cifar10.CLASSES.size();
        int[][] confusion = new int[classes][classes];
        int correct = 0;
        double lossSum = 0;
        BatchLoader loader = new BatchLoader(data, batchSize, false, false, 0);
        loader.startEpoch(0);
        boolean wasTraining = model.isTraining();
        model.eval();
        try (Tape.NoGrad ignored = tape.noGrad()) {
            for (int b = 0; b < loader.batches(); b++) {
                int count = loader.fill(b, hostImages, hostLabels);
                Tensor x = tape.scratch(Shape.of(count, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH));
                backend.write(x, hostImages, 0);
                Variable logProbs = model.forward(tape.constant(x));
                if (logProbs.shape().rank() != 2 || logProbs.shape().dim(1) != classes) {
                    throw new IllegalArgumentException("the model gives " + logProbs.shape() + ", expected [" + count + ", " + classes + "]");
                }
                backend.read(logProbs.data(), hostLogProbs, 0);
                for (int i = 0; i < count; i++) {
                    int label = (int) hostLabels[i], best = 0, row = i * classes;
                    for (int c = 1; c < classes; c++) if (hostLogProbs[row + c] > hostLogProbs[row + best]) best = c;
                    confusion[label][best]++;
                    if (best == label) correct++;
                    lossSum -= hostLogProbs[row + label];
                }
                tape.reset();
            }
        } finally {
            tape.reset();
            model.train(wasTraining);
        }
        return new Evaluation(data.size(), correct, lossSum / data.size(), confusion, Cifar10.CLASSES);
    }

    @Override public void close() { tape.close(); }
}
