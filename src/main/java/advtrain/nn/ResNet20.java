package advtrain.nn;

import advtrain.autograd.Ops;
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
    public ResNet20(Backend backend, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        add("normalize", new ChannelNormalize(backend));
        add("conv1", Conv2d.kaimingWithoutBias(backend, 3, 16, 3, 1, 1, random));
        add("bn1", new BatchNorm2d(backend, 16));
        add("relu", new ReLU());
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

    /**
     * relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): both convolutions 3×3 with padding 1 and
     * no bias, the first with the block's stride. Where the stride is 2 or the channels change, the
     * shortcut is He et al.'s option A ({@link Ops.ShortcutA}: every other pixel, and zero channels
     * added on both sides), which has no parameters; elsewhere it is x itself.
     */
    public static final class BasicBlock extends Module {
        final Conv2d conv1, conv2;
        final BatchNorm2d bn1, bn2;
        private final Ops.ShortcutA shortcut;  // null: the identity
        private final Map<String, Module> children = new LinkedHashMap<>();

        BasicBlock(Backend backend, int inChannels, int channels, int stride, SplittableRandom random) {
            conv1 = Conv2d.kaimingWithoutBias(backend, inChannels, channels, 3, stride, 1, random);
            bn1 = new BatchNorm2d(backend, channels);
            conv2 = Conv2d.kaimingWithoutBias(backend, channels, channels, 3, 1, 1, random);
            bn2 = new BatchNorm2d(backend, channels);
            shortcut = stride != 1 || inChannels != channels ? new Ops.ShortcutA(backend, inChannels, channels / 4) : null;
            children.put("conv1", conv1);
            children.put("bn1", bn1);
            children.put("conv2", conv2);
            children.put("bn2", bn2);
        }

        @Override public Variable forward(Variable x) {
            Variable out = Ops.relu(bn1.forward(conv1.forward(x)));
            out = bn2.forward(conv2.forward(out));
            return Ops.relu(Ops.add(out, shortcut == null ? x : shortcut.apply(x)));
        }

        @Override protected Map<String, Module> children() { return children; }
    }
}
