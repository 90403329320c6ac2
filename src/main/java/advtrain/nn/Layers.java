package advtrain.nn;

import advtrain.autograd.ConvBatchNorm;
import advtrain.autograd.Ops;
import advtrain.autograd.ShortcutA;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** The layers of the built-in networks, each a thin Module over one op in {@link Ops}. */
public final class Layers {
    private Layers() {}

    /**
     * PyTorch's default initialisation of conv and linear layers: kaiming_uniform with a = sqrt(5)
     * for the weight, which works out to U(-1/sqrt(fanIn), 1/sqrt(fanIn)), and the same bound for the bias.
     */
    static Variable uniformParameter(Backend backend, Shape shape, int fanIn, SplittableRandom random) {
        double bound = 1.0 / Math.sqrt(fanIn);
        float[] values = new float[shape.size()];
        for (int i = 0; i < values.length; i++) values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        var data = backend.allocate(shape);
        backend.write(data, values, 0);
        return Variable.parameter(data, backend.allocate(shape));
    }

    /** kaiming_normal_ (fan_in, ReLU gain): N(0, 2 / fanIn), as the CIFAR ResNet-20 initialises its weights. */
    static Variable kaimingNormalParameter(Backend backend, Shape shape, int fanIn, SplittableRandom random) {
        double std = Math.sqrt(2.0 / fanIn);
        float[] values = new float[shape.size()];
        for (int i = 0; i < values.length; i++) values[i] = (float) (random.nextGaussian() * std);
        return parameter(backend, shape, values);
    }

    static Variable parameter(Backend backend, Shape shape, float[] values) {
        var data = backend.allocate(shape);
        backend.write(data, values, 0);
        return Variable.parameter(data, backend.allocate(shape));
    }

    /** "weight" and "bias", leaving out a null bias (a convolution without one has no such entry). */
    private static Map<String, Variable> weightAndBias(Variable weight, Variable bias) {
        Map<String, Variable> m = new LinkedHashMap<>();
        m.put("weight", weight);
        if (bias != null) m.put("bias", bias);
        return m;
    }

    public static final class Conv2d extends Module {
        public final Variable weight, bias;
        public final int stride, padding;
        final Ops.Conv2d op;

        /** With a bias, both initialised as PyTorch's default (see {@link #uniformParameter}). */
        public Conv2d(Backend backend, int inChannels, int outChannels, int kernelSize, int stride, int padding,
                      SplittableRandom random) {
            this(uniformParameter(backend, Shape.of(outChannels, inChannels, kernelSize, kernelSize), inChannels * kernelSize * kernelSize, random),
                    uniformParameter(backend, Shape.of(outChannels), inChannels * kernelSize * kernelSize, random), stride, padding);
        }

        /** A convolution with these parameters; bias null for none (bias=False, before a batch norm). */
        public Conv2d(Variable weight, Variable bias, int stride, int padding) {
            this.weight = weight;
            this.bias = bias;
            this.stride = stride;
            this.padding = padding;
            this.op = new Ops.Conv2d(stride, padding);
        }

        /** Without a bias, the weight from PyTorch's default initialisation (PreAct ResNet-18's convolutions). */
        public static Conv2d withoutBias(Backend backend, int inChannels, int outChannels, int kernelSize, int stride, int padding,
                                         SplittableRandom random) {
            int fanIn = inChannels * kernelSize * kernelSize;
            return new Conv2d(uniformParameter(backend, Shape.of(outChannels, inChannels, kernelSize, kernelSize), fanIn, random),
                    null, stride, padding);
        }

        /** Without a bias, the weight from kaiming_normal_ (ResNet-20's convolutions). */
        public static Conv2d kaimingWithoutBias(Backend backend, int inChannels, int outChannels, int kernelSize, int stride,
                                                int padding, SplittableRandom random) {
            int fanIn = inChannels * kernelSize * kernelSize;
            return new Conv2d(kaimingNormalParameter(backend, Shape.of(outChannels, inChannels, kernelSize, kernelSize), fanIn, random),
                    null, stride, padding);
        }

        @Override public Variable forward(Variable x) { return op.apply(x, weight, bias); }

        @Override protected Map<String, Variable> ownParameters() { return weightAndBias(weight, bias); }
    }

    public static final class Linear extends Module {
        public final Variable weight, bias;

        public Linear(Backend backend, int inFeatures, int outFeatures, SplittableRandom random) {
            this(uniformParameter(backend, Shape.of(outFeatures, inFeatures), inFeatures, random),
                    uniformParameter(backend, Shape.of(outFeatures), inFeatures, random));
        }

        public Linear(Variable weight, Variable bias) {
            this.weight = weight;
            this.bias = bias;
        }

        /** ResNet-20's: kaiming_normal_ on the weight, PyTorch's default initialisation of the bias. */
        public static Linear kaiming(Backend backend, int inFeatures, int outFeatures, SplittableRandom random) {
            Variable weight = kaimingNormalParameter(backend, Shape.of(outFeatures, inFeatures), inFeatures, random);
            return new Linear(weight, uniformParameter(backend, Shape.of(outFeatures), inFeatures, random));
        }

        @Override public Variable forward(Variable x) { return Ops.linear(x, weight, bias); }

        @Override protected Map<String, Variable> ownParameters() { return weightAndBias(weight, bias); }
    }

    public static final class MaxPool2d extends Module {
        public final int kernelSize, stride;
        final Ops.MaxPool2d op;

        public MaxPool2d(int kernelSize, int stride) {
            this.kernelSize = kernelSize;
            this.stride = stride;
            this.op = new Ops.MaxPool2d(kernelSize, stride);
        }

        @Override public Variable forward(Variable x) { return op.apply(x); }
    }

    /**
     * A convolution followed by max pooling, as one layer: the backend may run the two in one call
     * ({@link Ops.Conv2dMaxPool}). Its parameters are the convolution's, under the layer's own name
     * ("conv1.weight"), as in the PyTorch network, where the pooling is a function call.
     */
    public static final class Conv2dMaxPool extends Module {
        public final Conv2d conv;
        public final MaxPool2d pool;
        private final Ops.Conv2dMaxPool op;

        public Conv2dMaxPool(Conv2d conv, MaxPool2d pool) {
            this.conv = conv;
            this.pool = pool;
            this.op = new Ops.Conv2dMaxPool(conv.op, pool.op);
        }

        @Override public Variable forward(Variable x) { return op.apply(x, conv.weight, conv.bias); }

        @Override protected Map<String, Variable> ownParameters() { return conv.ownParameters(); }
    }

    public static final class ReLU extends Module {
        @Override public Variable forward(Variable x) { return Ops.relu(x); }
    }

    public static final class Flatten extends Module {
        @Override public Variable forward(Variable x) { return Ops.flatten(x); }
    }

    public static final class LogSoftmax extends Module {
        @Override public Variable forward(Variable x) { return Ops.logSoftmax(x); }
    }

    /**
     * (x - mean) / std, the same on every channel. It sits first in the model so attacks work in
     * [0, 1] pixel space; it has no parameters and is not in the state_dict.
     */
    public static final class Normalize extends Module {
        public final float mean, std;
        private final Ops.Affine op;

        public Normalize(float mean, float std) {
            this.mean = mean;
            this.std = std;
            this.op = new Ops.Affine(1f / std, -mean / std);
        }

        @Override public Variable forward(Variable x) { return op.apply(x); }
    }

    /**
     * BatchNorm2d over [N, C, H, W], PyTorch's layer: parameters weight (gamma, initially 1) and bias
     * (beta, 0); buffers running_mean (0), running_var (1) and num_batches_tracked (an int64 counter,
     * kept on the host). In training mode the batch's statistics normalise and the running ones move
     * ({@link Ops.BatchNorm2d}), and the counter goes up by one per forward pass, as PyTorch counts;
     * in evaluation mode the running statistics normalise and nothing changes.
     */
    public static final class BatchNorm2d extends Module {
        public final Variable weight, bias;
        public final Buffer runningMean, runningVar, numBatchesTracked = Buffer.counter();
        private final Ops.BatchNorm2d op;

        /** PyTorch's defaults: eps 1e-5, momentum 0.1. */
        public BatchNorm2d(Backend backend, int channels) {
            this.op = new Ops.BatchNorm2d(1e-5f, 0.1f);
            float[] ones = new float[channels];
            java.util.Arrays.fill(ones, 1f);
            this.weight = parameter(backend, Shape.of(channels), ones);
            this.bias = parameter(backend, Shape.of(channels), new float[channels]);
            this.runningMean = Buffer.of(backend.allocate(Shape.of(channels)));
            this.runningVar = Buffer.of(backend.allocate(Shape.of(channels)));
            backend.fill(runningVar.tensor(), 1f);
        }

        @Override public Variable forward(Variable x) {
            boolean training = isTraining();
            if (training) numBatchesTracked.increment();
            return op.apply(x, weight, bias, runningMean.tensor(), runningVar.tensor(), training);
        }

        /** The op for conv followed by this layer, then a ReLU when relu: see {@link #forwardAfter}. */
        ConvBatchNorm after(Conv2d conv, boolean relu) { return new ConvBatchNorm(conv.op, op, relu); }

        /**
         * relu(this(conv(x)) + shortcut(residual)), residual null for no sum, shortcut null for the
         * identity, the ReLU if `fused` (made by {@link #after}) has one: the layers one by one, or at
         * inference one fused kernel.
         */
        Variable forwardAfter(ConvBatchNorm fused, Conv2d conv, Variable x, Variable residual, ShortcutA shortcut) {
            boolean training = isTraining();
            if (training) numBatchesTracked.increment();
            return fused.apply(x, conv.weight, conv.bias, weight, bias, runningMean.tensor(), runningVar.tensor(), training, residual, shortcut);
        }

        @Override protected Map<String, Variable> ownParameters() { return weightAndBias(weight, bias); }

        @Override protected Map<String, Buffer> ownBuffers() {
            Map<String, Buffer> m = new LinkedHashMap<>();
            m.put("running_mean", runningMean);
            m.put("running_var", runningVar);
            m.put("num_batches_tracked", numBatchesTracked);
            return m;
        }
    }

    /**
     * (x - mean[c]) / std[c] with the CIFAR-10 training set's per-channel mean and std, the first
     * layer of the ResNets, so that attacks work in [0, 1] pixel space. No state_dict entries.
     */
    public static final class ChannelNormalize extends Module {
        private final Ops.ChannelNormalize op;

        public ChannelNormalize(Backend backend) { this.op = Ops.ChannelNormalize.cifar10(backend); }

        @Override public Variable forward(Variable x) { return op.apply(x); }
    }

    /** [N, C, H, W] to [N, C], the mean of each plane (F.avg_pool2d over the whole map, then flatten). */
    public static final class GlobalAvgPool extends Module {
        @Override public Variable forward(Variable x) { return Ops.globalAvgPool(x); }
    }
}
