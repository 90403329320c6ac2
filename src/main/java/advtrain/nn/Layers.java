package advtrain.nn;

import advtrain.autograd.Ops;
import advtrain.autograd.Variable;
import advtrain.backend.Backend;
import advtrain.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** The layers of the seed's network, each a thin Module over one op in {@link Ops}. */
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

    private static Map<String, Variable> weightAndBias(Variable weight, Variable bias) {
        Map<String, Variable> m = new LinkedHashMap<>();
        m.put("weight", weight);
        m.put("bias", bias);
        return m;
    }

    public static final class Conv2d extends Module {
        public final Variable weight, bias;
        public final int stride, padding;
        final Ops.Conv2d op;

        public Conv2d(Backend backend, int inChannels, int outChannels, int kernelSize, int stride, int padding,
                      SplittableRandom random) {
            int fanIn = inChannels * kernelSize * kernelSize;
            this.weight = uniformParameter(backend, Shape.of(outChannels, inChannels, kernelSize, kernelSize), fanIn, random);
            this.bias = uniformParameter(backend, Shape.of(outChannels), fanIn, random);
            this.stride = stride;
            this.padding = padding;
            this.op = new Ops.Conv2d(stride, padding);
        }

        @Override public Variable forward(Variable x) { return op.apply(x, weight, bias); }

        @Override protected Map<String, Variable> ownParameters() { return weightAndBias(weight, bias); }
    }

    public static final class Linear extends Module {
        public final Variable weight, bias;

        public Linear(Backend backend, int inFeatures, int outFeatures, SplittableRandom random) {
            this.weight = uniformParameter(backend, Shape.of(outFeatures, inFeatures), inFeatures, random);
            this.bias = uniformParameter(backend, Shape.of(outFeatures), inFeatures, random);
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
}
