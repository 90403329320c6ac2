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
 * The pre-activation ResNet-18 of Wong et al. 2020 ("Fast is better than free"), 11,172,170
 * parameters, as their PyTorch code writes it (tools/resnet_cifar.py): conv1 3→64 (3×3, padding 1,
 * no bias) → layer1..layer4 of two {@link PreActBlock}s each with 64, 128, 256, 512 channels (the
 * first block of layers 2-4 halves the resolution) → bn → ReLU → global average pooling (a 4×4 map:
 * their avg_pool2d(out, 4)) → linear 512→10 → log-softmax, the CIFAR-10 normalisation first.
 * PyTorch's default initialisation throughout (batch norm weight 1, bias 0). Made for GPUs: on two
 * CPU cores an epoch of CIFAR-10 takes hours.
 */
public final class PreActResNet18 extends Sequential {
    public PreActResNet18(Backend backend, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        add("normalize", new ChannelNormalize(backend));
        add("conv1", Conv2d.withoutBias(backend, 3, 64, 3, 1, 1, random));
        int inChannels = 64;
        for (int stage = 0; stage < 4; stage++) {
            int channels = 64 << stage;
            Sequential layer = new Sequential();
            for (int block = 0; block < 2; block++) {
                int stride = stage > 0 && block == 0 ? 2 : 1;
                layer.add(Integer.toString(block), new PreActBlock(backend, inChannels, channels, stride, random));
                inChannels = channels;
            }
            add("layer" + (stage + 1), layer);
        }
        add("bn", new BatchNorm2d(backend, 512));
        add("relu", new ReLU());
        add("pool", new GlobalAvgPool());
        add("linear", new Linear(backend, 512, Net.CLASSES, random));
        add("logSoftmax", new LogSoftmax());
    }

    /**
     * out = relu(bn1(x)); y = conv2(relu(bn2(conv1(out)))) + shortcut, where the shortcut is x itself,
     * or, where the stride is 2 or the channels change, a 1×1 convolution (no bias, the block's
     * stride) of out: state_dict name shortcut.0.weight, as the PyTorch block's nn.Sequential has it.
     */
    public static final class PreActBlock extends Module {
        final BatchNorm2d bn1, bn2;
        final Conv2d conv1, conv2;
        private final Sequential shortcut;  // null: the identity
        private final Map<String, Module> children = new LinkedHashMap<>();

        PreActBlock(Backend backend, int inChannels, int channels, int stride, SplittableRandom random) {
            bn1 = new BatchNorm2d(backend, inChannels);
            conv1 = Conv2d.withoutBias(backend, inChannels, channels, 3, stride, 1, random);
            bn2 = new BatchNorm2d(backend, channels);
            conv2 = Conv2d.withoutBias(backend, channels, channels, 3, 1, 1, random);
            shortcut = stride != 1 || inChannels != channels
                    ? new Sequential().add("0", Conv2d.withoutBias(backend, inChannels, channels, 1, stride, 0, random)) : null;
            children.put("bn1", bn1);
            children.put("conv1", conv1);
            children.put("bn2", bn2);
            children.put("conv2", conv2);
            if (shortcut != null) children.put("shortcut", shortcut);
        }

        @Override public Variable forward(Variable x) {
            Variable out = Ops.relu(bn1.forward(x));
            Variable residual = shortcut == null ? x : shortcut.forward(out);
            out = conv2.forward(Ops.relu(bn2.forward(conv1.forward(out))));
            return Ops.add(out, residual);
        }

        @Override protected Map<String, Module> children() { return children; }
    }
}
