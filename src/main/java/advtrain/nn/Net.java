package advtrain.nn;

import advtrain.autograd.Ops;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The seed's CIFAR-10 classifier (the PyTorch tutorial's Net), 62,006 parameters:
 * Normalize(0.5, 0.5) → Conv2d(3,6,5) → ReLU → MaxPool2d(2) → Conv2d(6,16,5) → ReLU → MaxPool2d(2)
 * → flatten 400 → Linear(400,120) → ReLU → Linear(120,84) → ReLU → Linear(84,10) → log-softmax.
 * It takes images in [0, 1] and returns log-probabilities, ready for NLLLoss.
 *
 * <p>Written as a PyTorch module is: the parameters are fields, and {@link #forward} calls the ops
 * one after the other. Each convolution and the max-pool after it are one op
 * ({@link Ops.Conv2dMaxPool}), so a backend may compute both in one pass. Each ReLU of the
 * convolutions runs after its max-pool, not before: the same function and the same gradients (ReLU
 * is monotone, so max(relu(a), relu(b)) = relu(max(a, b)), and the gradient reaches the window's
 * first maximum exactly when it is positive either way), on a quarter of the elements. The golden
 * tests check it against PyTorch's ReLU-then-pool.
 *
 * <p>The ops with settings are made once here, the others are shared constants, so a forward pass
 * allocates nothing.
 */
public final class Net extends Module {
    public static final int CLASSES = 10;

    private final Ops.Affine normalize = new Ops.Affine(1f / 0.5f, -0.5f / 0.5f);  // (x - mean) / std, mean = std = 0.5
    private final Ops.Conv2dMaxPool convPool =
            new Ops.Conv2dMaxPool(new Ops.Conv2d(1, 0), new Ops.MaxPool2d(2, 2));  // stride 1, no padding; 2x2 windows

    private final Variable conv1Weight, conv1Bias;   // [6, 3, 5, 5], [6]
    private final Variable conv2Weight, conv2Bias;   // [16, 6, 5, 5], [16]
    private final Variable fc1Weight, fc1Bias;       // [120, 400], [120]
    private final Variable fc2Weight, fc2Bias;       // [84, 120], [84]
    private final Variable fc3Weight, fc3Bias;       // [10, 84], [10]
    private final Map<String, Variable> stateDict = new LinkedHashMap<>();

    /** PyTorch's default initialisation, drawn from one seeded stream in state_dict order. */
    public Net(Backend backend, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        conv1Weight = parameter(backend, "conv1.weight", Shape.of(6, 3, 5, 5), 3 * 5 * 5, random);
        conv1Bias = parameter(backend, "conv1.bias", Shape.of(6), 3 * 5 * 5, random);
        conv2Weight = parameter(backend, "conv2.weight", Shape.of(16, 6, 5, 5), 6 * 5 * 5, random);
        conv2Bias = parameter(backend, "conv2.bias", Shape.of(16), 6 * 5 * 5, random);
        fc1Weight = parameter(backend, "fc1.weight", Shape.of(120, 16 * 5 * 5), 16 * 5 * 5, random);
        fc1Bias = parameter(backend, "fc1.bias", Shape.of(120), 16 * 5 * 5, random);
        fc2Weight = parameter(backend, "fc2.weight", Shape.of(84, 120), 120, random);
        fc2Bias = parameter(backend, "fc2.bias", Shape.of(84), 120, random);
        fc3Weight = parameter(backend, "fc3.weight", Shape.of(CLASSES, 84), 84, random);
        fc3Bias = parameter(backend, "fc3.bias", Shape.of(CLASSES), 84, random);
    }

    private Variable parameter(Backend backend, String name, Shape shape, int fanIn, SplittableRandom random) {
        Variable p = Layers.uniformParameter(backend, shape, fanIn, random);
        stateDict.put(name, p);
        return p;
    }

    /** Log-probabilities of the ten classes, [N, 10], for images [N, 3, 32, 32] in [0, 1]. */
    @Override public Variable forward(Variable images) {
        return Ops.logSoftmax(logits(images));
    }

    /** The network before its log-softmax: the ten class scores. */
    public Variable logits(Variable images) {
        Variable x = normalize.apply(images);                        // [N, 3, 32, 32]
        x = Ops.relu(convPool.apply(x, conv1Weight, conv1Bias));     // conv1 [N, 6, 28, 28], pooled [N, 6, 14, 14]
        x = Ops.relu(convPool.apply(x, conv2Weight, conv2Bias));     // conv2 [N, 16, 10, 10], pooled [N, 16, 5, 5]
        x = Ops.flatten(x);                                          // [N, 400]
        x = Ops.relu(Ops.linear(x, fc1Weight, fc1Bias));             // [N, 120]
        x = Ops.relu(Ops.linear(x, fc2Weight, fc2Bias));             // [N, 84]
        return Ops.linear(x, fc3Weight, fc3Bias);                    // [N, 10]
    }

    /** The ten parameters under their PyTorch state_dict names ("conv1.weight"), in state_dict order. */
    @Override protected Map<String, Variable> ownParameters() { return stateDict; }
}
