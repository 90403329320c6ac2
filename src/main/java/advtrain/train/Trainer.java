package advtrain.train;

import advtrain.autograd.Tape;
import advtrain.backend.Backend;
import advtrain.backend.Backend.ReduceOp;
import advtrain.backend.Backend.UnaryOp;
import advtrain.data.BatchLoader;
import advtrain.data.Dataset;
import advtrain.io.Progress;
import advtrain.nn.Module;
import advtrain.optim.LrSchedule;
import advtrain.optim.Sgd;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.HashMap;
import java.util.Map;

/**
 * The training loop: for each batch, write it to the backend, ask the {@link Objective} for the
 * loss, run backward, take an SGD step, and reset the tape. One tape serves every step, so after
 * the first step of each batch size no tensor is allocated. The batch goes in with one write of the
 * images and one of the labels; the epoch's running loss and mistake count stay on the backend and
 * are read back every {@value #READ_EVERY} steps and at the end of the epoch, which is also when a
 * NaN or infinite loss is noticed.
 */
public final class Trainer implements AutoCloseable {
    /** Steps between two reads of the running totals (progress and the NaN check). */
    static final int READ_EVERY = 25;

    private final Backend backend;
    private final Module model;
    private final Sgd sgd;
    private final Objective objective;
    private LrSchedule schedule;                      // null: the optimiser's rate stays as it is
    private final Tape tape;
    private final Tensor lossSum, mistakes;           // the epoch's running totals, on the backend
    private final Map<Integer, Tensor[]> batchTensors = new HashMap<>();  // batch size -> {images, labels}
    private final float[] totals = new float[1];
    private float[] hostImages = new float[0], hostLabels = new float[0];

    /** What one epoch gave: the mean training loss and accuracy over its images, and its duration. */
    public record EpochStats(int epoch, double loss, double accuracy, int images, double seconds) {
        public double imagesPerSecond() { return images / Math.max(seconds, 1e-9); }
    }

    /** The loss became NaN or infinite; the weights are no longer usable. */
    public static final class DivergedException extends RuntimeException {
        public DivergedException(String message) { super(message); }
    }

    public Trainer(Backend backend, Module model, Sgd sgd, Objective objective) {
        this.backend = backend;
        this.model = model;
        this.sgd = sgd;
        this.objective = objective;
        this.tape = new Tape(backend);
        this.lossSum = backend.allocate(Shape.of(1));
        this.mistakes = backend.allocate(Shape.of(1));
    }

    /**
     * Sets the optimiser's learning rate before every step from {@code schedule} (by the epoch and
     * the batch's place in it); null leaves the rate alone. Returns this trainer.
     */
    public Trainer schedule(LrSchedule schedule) {
        this.schedule = schedule;
        return this;
    }

    /**
     * Trains one epoch over the loader's batches (the loader's order for {@code epoch}, 0-based).
     * {@code progress} may be null.
     *
     * @throws DivergedException when the loss becomes NaN or infinite
     */
    public EpochStats trainEpoch(BatchLoader loader, int epoch, Progress progress) {
        loader.startEpoch(epoch);
        objective.startEpoch(epoch);
        int batches = loader.batches();
        ensureHostArrays(loader.batchSize());
        backend.fill(lossSum, 0f);
        backend.fill(mistakes, 0f);
        boolean countsAccuracy = true;
        int images = 0;
        long start = System.nanoTime();
        model.train(true);
        for (int b = 0; b < batches; b++) {
            int count = loader.fill(b, hostImages, hostLabels);
            Tensor[] batch = batchTensors.get(count);
            if (batch == null) batchTensors.put(count, batch = new Tensor[] {
                    backend.allocate(Shape.of(count, Dataset.CHANNELS, Dataset.HEIGHT, Dataset.WIDTH)),
                    backend.allocate(Shape.of(count))});
            Tensor x = batch[0], y = batch[1];
            backend.write(x, hostImages, 0);
            backend.write(y, hostLabels, 0);

            model.zeroGrad(backend);
            Objective.Step step = objective.loss(model, tape, tape.constant(x), tape.constant(y));
            tape.backward(step.loss());
            if (schedule != null) sgd.setLr(schedule.lr(epoch, b, batches));
            sgd.step();

            backend.axpy(count, step.loss().data(), lossSum);  // the loss is a batch mean: weigh it by the batch size
            if (step.logProbs() != null) countMistakes(step.logProbs().data(), y, count);
            else countsAccuracy = false;
            tape.reset();
            images += count;

            String message = null;
            if ((b + 1) % READ_EVERY == 0 || b == batches - 1) {
                double meanLoss = readTotal(lossSum) / images;
                if (!Double.isFinite(meanLoss)) {
                    throw new DivergedException("the training loss became " + (Double.isNaN(meanLoss) ? "NaN" : "infinite")
                            + " in epoch " + (epoch + 1) + " (by batch " + (b + 1) + " of " + batches + ")");
                }
                message = String.format("loss %.4f", meanLoss);
            }
            if (progress != null) progress.step(count, message);
        }
        double loss = readTotal(lossSum) / images;
        double accuracy = countsAccuracy ? 1.0 - readTotal(mistakes) / images : Double.NaN;
        double seconds = (System.nanoTime() - start) / 1e9;
        return new EpochStats(epoch, loss, accuracy, images, seconds);
    }

    /**
     * Adds the batch's wrong predictions to the running count without leaving the backend:
     * argmax − label is exactly 0 where the prediction is right (both are small whole numbers in
     * floats), sign() makes it ±1 where it is wrong, and the sum of squares counts those.
     */
    private void countMistakes(Tensor logProbs, Tensor labels, int count) {
        Tensor predicted = tape.scratch(Shape.of(count));
        Tensor wrong = tape.scratch(Shape.of(1));
        backend.reduce(ReduceOp.ARGMAX, logProbs, predicted);
        backend.axpy(-1f, labels, predicted);
        backend.unary(UnaryOp.SIGN, predicted, predicted);
        backend.reduce(ReduceOp.SUM_SQUARES, predicted, wrong);
        backend.axpy(1f, wrong, mistakes);
    }

    private double readTotal(Tensor total) {
        backend.read(total, totals, 0);
        return totals[0];
    }

    private void ensureHostArrays(int batchSize) {
        if (hostLabels.length < batchSize) {
            hostImages = new float[batchSize * Dataset.IMAGE_BYTES];
            hostLabels = new float[batchSize];
        }
    }

    /** Tensors the step tape has had to allocate so far: flat once every batch size has been seen. */
    public int tapeAllocations() { return tape.allocations(); }

    public Module model() { return model; }

    public Sgd optimizer() { return sgd; }

    @Override public void close() {
        tape.close();
        for (Tensor[] batch : batchTensors.values()) for (Tensor t : batch) backend.release(t);
        batchTensors.clear();
        backend.release(lossSum);
        backend.release(mistakes);
    }
}
