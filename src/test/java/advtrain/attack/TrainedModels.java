package advtrain.attack;

import advtrain.autograd.Ops;
import advtrain.autograd.Tape;
import advtrain.backend.Backend;
import advtrain.data.BatchLoader;
import advtrain.data.Cifar10;
import advtrain.data.Dataset;
import advtrain.data.RealData;
import advtrain.nn.ModelFiles;
import advtrain.nn.Net;
import advtrain.optim.Sgd;
import advtrain.tensor.HostTensor;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A small trained model for the attack tests: the seed's Net after a few epochs of SGD on the
 * committed sample of the real CIFAR-10 (its 512 training images), trained once per test JVM (with
 * the engine directly: the train command is not this package's) and then copied into a fresh Net per
 * backend.
 */
public final class TrainedModels {
    static final int TRAIN_IMAGES = 512, EPOCHS = 16, BATCH = 16;  // all of the sample; 8,192 image-steps
    private static Map<String, HostTensor> weights;
    private static double trainSeconds;

    private TrainedModels() {}

    /** The data folder the model is trained and tested on: the committed sample. */
    public static Path data() {
        return RealData.sample();
    }

    public static Dataset testSet(int limit) throws IOException {
        return Cifar10.test(data(), limit);
    }

    /** A Net on this backend holding the trained weights. */
    public static Net net(Backend backend) throws IOException {
        Net net = new Net(backend, 7);
        ModelFiles.loadState(net, backend, weights(), "trained test model");
        return net;
    }

    /** Writes the trained weights as a model file (safetensors, state_dict names) in dir. */
    public static Path saveModel(Path dir) throws IOException {
        Path file = dir.resolve("model.safetensors");
        advtrain.io.Safetensors.write(file, weights(), Map.of("source", "advtrain attack tests"));
        return file;
    }

    public static synchronized Map<String, HostTensor> weights() throws IOException {
        if (weights != null) return weights;
        long start = System.nanoTime();
        Backend be = new advtrain.backend.cpu.CpuBackend();
        Net net = new Net(be, 7);
        Dataset train = Cifar10.train(data(), TRAIN_IMAGES);
        BatchLoader loader = new BatchLoader(train, BATCH, true, false, 7);
        Sgd sgd = new Sgd(be, net.parameters(), 0.01f, 0.9f);
        float[] images = new float[BATCH * Dataset.IMAGE_BYTES], labels = new float[BATCH];
        Tensor x = be.allocate(Shape.of(BATCH, 3, 32, 32)), y = be.allocate(Shape.of(BATCH));
        try (Tape tape = new Tape(be)) {
            for (int epoch = 0; epoch < EPOCHS; epoch++) {
                loader.startEpoch(epoch);
                for (int b = 0; b < loader.batches(); b++) {
                    if (loader.fill(b, images, labels) < BATCH) continue;  // TRAIN_IMAGES is a multiple of BATCH anyway
                    be.write(x, images, 0);
                    be.write(y, labels, 0);
                    net.zeroGrad(be);
                    tape.backward(Ops.nllLoss(net.forward(tape.input(x, false)), tape.constant(y)));
                    sgd.step();
                    tape.reset();
                }
            }
        }
        net.eval();
        weights = ModelFiles.stateDict(net, be);
        trainSeconds = (System.nanoTime() - start) / 1e9;
        System.err.printf("TrainedModels: %d epochs on %d images in %.1f s%n", EPOCHS, TRAIN_IMAGES, trainSeconds);
        return weights;
    }
}
