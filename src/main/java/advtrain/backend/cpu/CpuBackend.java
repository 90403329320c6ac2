package advtrain.backend.cpu;

import advtrain.backend.Backend;
import advtrain.backend.Checks;
import advtrain.backend.ConvGeometry;
import advtrain.backend.PoolGeometry;
import advtrain.backend.Rng;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

/**
 * The pure-Java backend. Convolutions and linear layers run on register-blocked Vector API
 * micro-kernels ({@link Gemm}) in parallel over images or output tiles ({@link Conv},
 * {@link Linear}); pooling is parallel over planes ({@link Pool}); element-wise kernels are loops
 * the JIT vectorises, or {@link Vec}'s. Scratch buffers belong to the calling thread and are reused,
 * so a steady-state training step allocates nothing here. Large element-wise kernels are split
 * over the threads too ({@link Elementwise}).
 */
public final class CpuBackend implements Backend {
    private final ConvPlan.Algorithm convAlgorithm;

    /** The backend, each convolution layer using the algorithm measured fastest for its shape. */
    public CpuBackend() { this(ConvPlan.Algorithm.AUTO); }

    /** For tests and benchmarks: "auto", "direct" (falls back to im2col where stride is not 1), "im2col", "channels", "groups" or "lanes". */
    public static CpuBackend withConvAlgorithm(String algorithm) {
        return new CpuBackend(ConvPlan.Algorithm.valueOf(algorithm.toUpperCase(java.util.Locale.ROOT)));
    }

    private CpuBackend(ConvPlan.Algorithm convAlgorithm) { this.convAlgorithm = convAlgorithm; }

    @Override public String name() { return "java"; }

    @Override public String deviceName() {
        return "Java " + Runtime.version().feature() + ", " + Parallel.threads() + " threads";
    }

    static float[] data(Tensor t) {
        if (t.storage() instanceof HeapStorage h) return h.data;
        throw new IllegalArgumentException("tensor " + t + " does not belong to the java backend");
    }

    // ---- memory ---------------------------------------------------------------------------------

    @Override public Tensor allocate(Shape shape) { return new Tensor(shape, new HeapStorage(shape.size())); }

    @Override public void release(Tensor tensor) { /* the garbage collector frees heap arrays */ }

    @Override public void write(Tensor dst, float[] src, int srcOffset) {
        System.arraycopy(src, srcOffset, data(dst), 0, dst.size());
    }

    @Override public void read(Tensor src, float[] dst, int dstOffset) {
        System.arraycopy(data(src), 0, dst, dstOffset, src.size());
    }

    @Override public void fill(Tensor tensor, float value) {
        Elementwise.forThisThread().run(Elementwise.Op.FILL, tensor.size(), null, null, data(tensor), value, 0f);
    }

    @Override public void copy(Tensor src, Tensor dst) {
        Checks.sameSize("copy", src, dst);
        System.arraycopy(data(src), 0, data(dst), 0, src.size());
    }

    // ---- elementwise ----------------------------------------------------------------------------

    @Override public void add(Tensor a, Tensor b, Tensor out) {
        Checks.sameSize("add", a, b, out);
        Elementwise.forThisThread().run(Elementwise.Op.ADD, out.size(), data(a), data(b), data(out), 0f, 0f);
    }

    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        Checks.sameSize("axpy", x, y);
        Elementwise.forThisThread().run(Elementwise.Op.AXPY, y.size(), data(x), null, data(y), alpha, 0f);
    }

    @Override public void affine(Tensor x, float alpha, float beta, Tensor out) {
        Checks.sameSize("affine", x, out);
        Elementwise.forThisThread().run(Elementwise.Op.AFFINE, out.size(), data(x), null, data(out), alpha, beta);
    }

    @Override public void sign(Tensor x, Tensor out) {
        Checks.sameSize("sign", x, out);
        Elementwise.forThisThread().run(Elementwise.Op.SIGN, out.size(), data(x), null, data(out), 0f, 0f);
    }

    @Override public void clamp(Tensor x, float lo, float hi, Tensor out) {
        Checks.sameSize("clamp", x, out);
        Elementwise.forThisThread().run(Elementwise.Op.CLAMP, out.size(), data(x), null, data(out), lo, hi);
    }

    @Override public void rsqrt(Tensor x, float floor, Tensor out) {
        Checks.sameSize("rsqrt", x, out);
        float[] xs = data(x), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = (float) (1.0 / Math.sqrt(Math.max(xs[i], floor)));
    }

    @Override public void minimum(Tensor a, Tensor b, Tensor out) {
        Checks.sameSize("minimum", a, b, out);
        float[] x = data(a), y = data(b), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = Math.min(x[i], y[i]);
    }

    @Override public void maximum(Tensor a, Tensor b, Tensor out) {
        Checks.sameSize("maximum", a, b, out);
        float[] x = data(a), y = data(b), o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = Math.max(x[i], y[i]);
    }

    @Override public void sum(Tensor x, Tensor out) {
        float[] xs = data(x);
        double total = 0;  // double: a sum of 10^5 floats keeps its digits
        for (int i = 0, n = x.size(); i < n; i++) total += xs[i];
        data(out)[0] = (float) total;
    }

    @Override public void addScalarTimes(Tensor scalar, float alpha, Tensor out) {
        float v = alpha * data(scalar)[0];
        float[] o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] += v;
    }

    @Override public void rowSumSquares(Tensor x, Tensor out) {
        int rows = x.shape().dim(0), cols = x.shape().rowSize();
        float[] xs = data(x), o = data(out);
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0, base = r * cols; c < cols; c++) s += (double) xs[base + c] * xs[base + c];
            o[r] = (float) s;
        }
    }

    @Override public void rowScale(Tensor x, Tensor scales, Tensor out) {
        Checks.sameSize("rowScale", x, out);
        int rows = x.shape().dim(0), cols = x.shape().rowSize();
        float[] xs = data(x), s = data(scales), o = data(out);
        for (int r = 0; r < rows; r++) {
            for (int c = 0, base = r * cols; c < cols; c++) o[base + c] = xs[base + c] * s[r];
        }
    }

    @Override public void argmaxRows(Tensor x, Tensor out) {
        int rows = x.shape().dim(0), cols = x.shape().rowSize();
        float[] xs = data(x), o = data(out);
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 1; c < cols; c++) if (xs[r * cols + c] > xs[r * cols + best]) best = c;
            o[r] = best;
        }
    }

    @Override public void uniform(Tensor out, float lo, float hi, long seed) {
        float[] o = data(out);
        for (int i = 0, n = out.size(); i < n; i++) o[i] = Rng.uniform(seed, i, lo, hi);
    }

    // ---- convolution ----------------------------------------------------------------------------

    @Override public void conv2d(Tensor input, Tensor weight, Tensor bias, Tensor output, int stride, int padding) {
        checkConv("conv2d", input, weight, output, stride, padding);
        if (bias != null && bias.size() != weight.shape().dim(0)) {
            throw new IllegalArgumentException("conv2d: bias " + bias.shape() + " for weight " + weight.shape());
        }
        Conv.forThisThread().forward(input.shape(), weight.shape(), stride, padding, data(input), data(weight),
                bias == null ? null : data(bias), data(output), convAlgorithm);
    }

    @Override public void conv2dMaxPool(Tensor input, Tensor weight, Tensor bias, Tensor convOutput, Tensor output,
                                        int stride, int padding, int kernel, int poolStride, boolean convOutputNeeded) {
        checkConv("conv2dMaxPool", input, weight, convOutput, stride, padding);
        checkPool("conv2dMaxPool", convOutput, output, kernel, poolStride);
        if (bias != null && bias.size() != weight.shape().dim(0)) {
            throw new IllegalArgumentException("conv2dMaxPool: bias " + bias.shape() + " for weight " + weight.shape());
        }
        Conv.forThisThread().forwardPooled(input.shape(), weight.shape(), stride, padding, data(input), data(weight),
                bias == null ? null : data(bias), convOutputNeeded ? data(convOutput) : null, data(output), kernel, poolStride,
                convAlgorithm);
    }

    @Override public void conv2dBackward(Tensor input, Tensor weight, Tensor outputGrad,
                                         Tensor inputGrad, Tensor weightGrad, Tensor biasGrad, int stride, int padding) {
        checkConv("conv2dBackward", input, weight, outputGrad, stride, padding);
        if (inputGrad != null) Checks.sameShape("conv2dBackward inputGrad", input, inputGrad);
        if (weightGrad != null) Checks.sameShape("conv2dBackward weightGrad", weight, weightGrad);
        if (biasGrad != null && biasGrad.size() != weight.shape().dim(0)) {
            throw new IllegalArgumentException("conv2dBackward: biasGrad " + biasGrad.shape() + " for weight " + weight.shape());
        }
        if (inputGrad == null && weightGrad == null && biasGrad == null) return;
        Conv.forThisThread().backward(input.shape(), weight.shape(), stride, padding, data(input), data(weight),
                data(outputGrad), inputGrad == null ? null : data(inputGrad), weightGrad == null ? null : data(weightGrad),
                biasGrad == null ? null : data(biasGrad), convAlgorithm);
    }

    /**
     * ConvGeometry.of's checks without its allocations (it builds Shapes): a training step calls
     * this four times. On a mismatch ConvGeometry.of throws, with the op and every shape named.
     */
    private static void checkConv(String op, Tensor input, Tensor weight, Tensor output, int stride, int padding) {
        Shape in = input.shape(), w = weight.shape(), out = output.shape();
        boolean fits = in.rank() == 4 && w.rank() == 4 && out.rank() == 4 && in.dim(1) == w.dim(1) && stride >= 1
                && padding >= 0 && in.dim(2) + 2 * padding >= w.dim(2) && in.dim(3) + 2 * padding >= w.dim(3)
                && out.dim(0) == in.dim(0) && out.dim(1) == w.dim(0)
                && out.dim(2) == (in.dim(2) + 2 * padding - w.dim(2)) / stride + 1
                && out.dim(3) == (in.dim(3) + 2 * padding - w.dim(3)) / stride + 1;
        if (!fits) {
            ConvGeometry.of(op, input, weight, output, stride, padding);
            throw new IllegalArgumentException(op + ": input " + in + ", weight " + w + " and output " + out + " do not fit");
        }
    }

    // ---- pooling --------------------------------------------------------------------------------

    @Override public void maxPool2d(Tensor input, Tensor output, int kernel, int stride) {
        checkPool("maxPool2d", input, output, kernel, stride);
        Shape in = input.shape(), out = output.shape();
        Pool.forThisThread().forward(data(input), data(output), in.dim(0) * in.dim(1), in.dim(2), in.dim(3),
                out.dim(2), out.dim(3), kernel, stride);
    }

    @Override public void maxPool2dBackward(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride) {
        checkPool("maxPool2dBackward", input, outputGrad, kernel, stride);
        Checks.sameShape("maxPool2dBackward inputGrad", input, inputGrad);
        Shape in = input.shape(), out = outputGrad.shape();
        Pool.forThisThread().backward(data(input), data(outputGrad), data(inputGrad), in.dim(0) * in.dim(1), in.dim(2),
                in.dim(3), out.dim(2), out.dim(3), kernel, stride, false);
    }

    /** Written in one pass where 2x2 stride-2 windows tile the input exactly (the seed's); else fill, then add. */
    @Override public void maxPool2dBackwardFresh(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride) {
        checkPool("maxPool2dBackwardFresh", input, outputGrad, kernel, stride);
        Checks.sameShape("maxPool2dBackwardFresh inputGrad", input, inputGrad);
        Shape in = input.shape(), out = outputGrad.shape();
        boolean tiles = kernel == 2 && stride == 2 && in.dim(2) % 2 == 0 && in.dim(3) % 2 == 0;
        if (!tiles) fill(inputGrad, 0f);
        Pool.forThisThread().backward(data(input), data(outputGrad), data(inputGrad), in.dim(0) * in.dim(1), in.dim(2),
                in.dim(3), out.dim(2), out.dim(3), kernel, stride, tiles);
    }

    /** PoolGeometry.of's checks without allocating; on a mismatch PoolGeometry.of throws its message. */
    private static void checkPool(String op, Tensor input, Tensor output, int kernel, int stride) {
        Shape in = input.shape(), out = output.shape();
        boolean fits = in.rank() == 4 && out.rank() == 4 && kernel >= 1 && stride >= 1 && in.dim(2) >= kernel
                && in.dim(3) >= kernel && out.dim(0) == in.dim(0) && out.dim(1) == in.dim(1)
                && out.dim(2) == (in.dim(2) - kernel) / stride + 1 && out.dim(3) == (in.dim(3) - kernel) / stride + 1;
        if (!fits) {
            PoolGeometry.of(op, input, output, kernel, stride);
            throw new IllegalArgumentException(op + ": input " + in + " and output " + out + " do not fit");
        }
    }

    // ---- linear ---------------------------------------------------------------------------------

    @Override public void linear(Tensor input, Tensor weight, Tensor bias, Tensor output) {
        Checks.linear("linear", input, weight, output);
        int batch = input.shape().dim(0), inF = input.shape().rowSize(), outF = weight.shape().dim(0);
        Linear.forThisThread().forward(data(input), data(weight), bias == null ? null : data(bias), data(output), batch, inF, outF);
    }

    @Override public void linearBackward(Tensor input, Tensor weight, Tensor outputGrad,
                                         Tensor inputGrad, Tensor weightGrad, Tensor biasGrad) {
        Checks.linear("linearBackward", input, weight, outputGrad);
        int batch = input.shape().dim(0), inF = input.shape().rowSize(), outF = weight.shape().dim(0);
        if (inputGrad != null) Checks.sameSize("linearBackward inputGrad", input, inputGrad);
        if (weightGrad != null) Checks.sameSize("linearBackward weightGrad", weight, weightGrad);
        Linear.forThisThread().backward(data(input), data(weight), data(outputGrad), inputGrad == null ? null : data(inputGrad),
                weightGrad == null ? null : data(weightGrad), biasGrad == null ? null : data(biasGrad), batch, inF, outF);
    }

    // ---- activations and loss -------------------------------------------------------------------

    @Override public void relu(Tensor input, Tensor output) {
        Checks.sameSize("relu", input, output);
        Elementwise.forThisThread().run(Elementwise.Op.RELU, output.size(), data(input), null, data(output), 0f, 0f);
    }

    @Override public void reluBackward(Tensor output, Tensor outputGrad, Tensor inputGrad) {
        Checks.sameSize("reluBackward", output, outputGrad, inputGrad);
        Elementwise.forThisThread().run(Elementwise.Op.RELU_BACKWARD, output.size(), data(output), data(outputGrad),
                data(inputGrad), 0f, 0f);
    }

    @Override public void reluBackwardFresh(Tensor output, Tensor outputGrad, Tensor inputGrad) {
        Checks.sameSize("reluBackwardFresh", output, outputGrad, inputGrad);
        Elementwise.forThisThread().run(Elementwise.Op.RELU_BACKWARD_FRESH, output.size(), data(output), data(outputGrad),
                data(inputGrad), 0f, 0f);
    }

    @Override public void logSoftmax(Tensor input, Tensor output) {
        Checks.sameSize("logSoftmax", input, output);
        int rows = input.shape().dim(0), cols = input.shape().rowSize();
        float[] x = data(input), y = data(output);
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, x[base + c]);
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += Math.exp(x[base + c] - max);
            float logSum = (float) Math.log(sum);
            for (int c = 0; c < cols; c++) y[base + c] = x[base + c] - max - logSum;
        }
    }

    @Override public void logSoftmaxBackward(Tensor output, Tensor outputGrad, Tensor inputGrad) {
        Checks.sameSize("logSoftmaxBackward", output, outputGrad, inputGrad);
        int rows = output.shape().dim(0), cols = output.shape().rowSize();
        float[] y = data(output), dy = data(outputGrad), dx = data(inputGrad);
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            float gradSum = 0;
            for (int c = 0; c < cols; c++) gradSum += dy[base + c];
            for (int c = 0; c < cols; c++) dx[base + c] += dy[base + c] - (float) Math.exp(y[base + c]) * gradSum;
        }
    }

    @Override public void nllLoss(Tensor logProbs, Tensor labels, Tensor losses) {
        int rows = logProbs.shape().dim(0), cols = logProbs.shape().rowSize();
        Checks.labels("nllLoss", logProbs, labels);
        float[] lp = data(logProbs), y = data(labels), l = data(losses);
        for (int r = 0; r < rows; r++) l[r] = -lp[r * cols + Checks.label(y[r], cols)];
    }

    @Override public void nllLossBackward(Tensor labels, Tensor lossesGrad, Tensor logProbsGrad) {
        int rows = logProbsGrad.shape().dim(0), cols = logProbsGrad.shape().rowSize();
        Checks.labels("nllLossBackward", logProbsGrad, labels);
        float[] y = data(labels), dl = data(lossesGrad), dlp = data(logProbsGrad);
        for (int r = 0; r < rows; r++) dlp[r * cols + Checks.label(y[r], cols)] -= dl[r];
    }

    // ---- optimiser ------------------------------------------------------------------------------

    @Override public void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum) {
        Checks.sameSize("sgdStep", param, grad, velocity);
        Elementwise.forThisThread().run(Elementwise.Op.SGD, param.size(), data(param), data(grad), data(velocity), lr, momentum);
    }
}
