package advtrain.nn;

import advtrain.backend.Backend;
import advtrain.nn.Layers.Conv2d;
import advtrain.nn.Layers.Conv2dMaxPool;
import advtrain.nn.Layers.Flatten;
import advtrain.nn.Layers.Linear;
import advtrain.nn.Layers.LogSoftmax;
import advtrain.nn.Layers.MaxPool2d;
import advtrain.nn.Layers.Normalize;
import advtrain.nn.Layers.ReLU;

import java.util.SplittableRandom;

/**
 * The seed's CIFAR-10 classifier (the PyTorch tutorial's Net), 62,006 parameters:
 * Normalize(0.5, 0.5) → Conv2d(3,6,5) → ReLU → MaxPool2d(2) → Conv2d(6,16,5) → ReLU → MaxPool2d(2)
 * → flatten 400 → Linear(400,120) → ReLU → Linear(120,84) → ReLU → Linear(84,10) → log-softmax.
 * It takes images in [0, 1] and returns log-probabilities, ready for NLLLoss.
 *
 * <p>Each convolution and the max-pool after it are one layer ({@link Layers.Conv2dMaxPool}), so a
 * backend may compute both in one pass. Each ReLU of the convolutions runs after its max-pool, not before: the same function and the
 * same gradients (ReLU is monotone, so max(relu(a), relu(b)) = relu(max(a, b)), and the gradient
 * reaches the window's first maximum exactly when it is positive either way), on a quarter of the
 * elements. The golden tests check it against PyTorch's ReLU-then-pool.
 */
public final class Net extends Sequential {
    public static final int CLASSES = 10;

    public Net(Backend backend, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        add("normalize", new Normalize(0.5f, 0.5f));
        add("conv1", new Conv2dMaxPool(new Conv2d(backend, 3, 6, 5, 1, 0, random), new MaxPool2d(2, 2)));
        add("relu1", new ReLU());
        add("conv2", new Conv2dMaxPool(new Conv2d(backend, 6, 16, 5, 1, 0, random), new MaxPool2d(2, 2)));
        add("relu2", new ReLU());
        add("flatten", new Flatten());
        add("fc1", new Linear(backend, 16 * 5 * 5, 120, random));
        add("relu3", new ReLU());
        add("fc2", new Linear(backend, 120, 84, random));
        add("relu4", new ReLU());
        add("fc3", new Linear(backend, 84, CLASSES, random));
        add("logSoftmax", new LogSoftmax());
    }
}
