package advtrain.nn;

import advtrain.autograd.ConvBatchNorm;
import advtrain.autograd.Ops;
import advtrain.autograd.ShortcutA;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.nn.Layers.BatchNorm2d;
import advtrain.nn.Layers.ChannelNormalize;
import advtrain.nn.Layers.Conv2d;
import advtrain.nn.Layers.GlobalAvgPool;
import advtrain.nn.Layers.Linear;
import advtrain.nn.Layers.LogSoftmax;
import advtrain.nn.Layers.ReLU;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The CIFAR ResNet-20 of He et al. 2016 (section 4.2), 269,722 parameters, as the widely used
 * PyTorch definition writes it (tools/resnet_cifar.py holds it): conv1 3→16 (3×3, padding 1, no
 * bias) → bn1 → ReLU → layer1, layer2, layer3 of three {@link BasicBlock}s each with 16, 32 and 64
 * channels (the first block of layer2 and layer3 halves the resolution) → global average pooling →
 * linear 64→10 → log-softmax. The CIFAR-10 per-channel normalisation comes first, so the model takes
 * [0, 1] pixels. State_dict names: conv1.weight, bn1.*, layer1.0.conv1.weight, layer1.0.bn1.*, …,
 * layer3.2.bn2.*, linear.weight, linear.bias. Initialisation: kaiming_normal_ on every conv and
 * linear weight, PyTorch's default for the linear bias, batch norm weight 1 and bias 0.
 */
public final class ResNet20 extends Sequential {
    /** The layers forward runs as the stem: normalize, conv1, bn1 and relu. */
    private static final int STEM_LAYERS = 4;
    private final ChannelNormalize normalize;
    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    /** conv1 → bn1 → ReLU: one kernel at inference. */
    private final ConvBatchNorm stem;

    public ResNet20(Backend backend, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        add("normalize", normalize = new ChannelNormalize(backend));
        add("conv1", conv1 = Conv2d.kaimingWithoutBias(backend, 3, 16, 3, 1, 1, random));
        add("bn1", bn1 = new BatchNorm2d(backend, 16));
        add("relu", new ReLU());
        stem = bn1.after(conv1, true);
        int inChannels = 16;
        for (int stage = 0; stage < 3; stage++) {
            int channels = 16 << stage;
            Sequential layer = new Sequential();
            for (int block = 0; block < 3; block++) {
                int stride = stage > 0 && block == 0 ? 2 : 1;
                layer.add(Integer.toString(block), new BasicBlock(backend, inChannels, channels, stride, random));
                inChannels = channels;
            }
            add("layer" + (stage + 1), layer);
        }
        add("pool", new GlobalAvgPool());
        add("linear", Linear.kaiming(backend, 64, Net.CLASSES, random));
        add("logSoftmax", new LogSoftmax());
    }

    /** The layers in order, the stem's conv1, bn1 and relu through {@link ConvBatchNorm}. */
    @Override public Variable forward(Variable x) {
        Variable y = bn1.forwardAfter(stem, conv1, normalize.forward(x), null, null);
        List<Module> inOrder = childList();
        for (int i = STEM_LAYERS; i < inOrder.size(); i++) y = inOrder.get(i).forward(y);
        return y;
    }

    /**
     * relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): both convolutions 3×3 with padding 1 and
     * no bias, the first with the block's stride. Where the stride is 2 or the channels change, the
     * shortcut is He et al.'s option A ({@link ShortcutA}: every other pixel, and zero channels
     * added on both sides), which has no parameters; elsewhere it is x itself.
     */
    public static final class BasicBlock extends Module {
        final Conv2d conv1, conv2;
        final BatchNorm2d bn1, bn2;
        private final ShortcutA shortcut;  // null: the identity
        /** conv1 → bn1 → ReLU, and conv2 → bn2 → + shortcut → ReLU: fused into one kernel each at inference. */
        private final ConvBatchNorm first, second;
        private final Map<String, Module> children = new LinkedHashMap<>();

        BasicBlock(Backend backend, int inChannels, int channels, int stride, SplittableRandom random) {
            conv1 = Conv2d.kaimingWithoutBias(backend, inChannels, channels, 3, stride, 1, random);
            bn1 = new BatchNorm2d(backend, channels);
            conv2 = Conv2d.kaimingWithoutBias(backend, channels, channels, 3, 1, 1, random);
            bn2 = new BatchNorm2d(backend, channels);
            shortcut = stride != 1 || inChannels != channels ? new ShortcutA(backend, inChannels, channels / 4) : null;
            first = bn1.after(conv1, true);
            second = bn2.after(conv2, true);
            children.put("conv1", conv1);
            children.put("bn1", bn1);
            children.put("conv2", conv2);
            children.put("bn2", bn2);
        }

        @Override public Variable forward(Variable x) {
            Variable out = bn1.forwardAfter(first, conv1, x, null, null);
            return bn2.forwardAfter(second, conv2, out, x, shortcut);
        }

        @Override protected Map<String, Module> children() { return children; }
    }
}
