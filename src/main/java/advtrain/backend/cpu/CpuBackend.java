package advtrain.backend.cpu;

import advtrain.backend.Checks;
import advtrain.backend.ConvGeometry;
import advtrain.backend.FusedKernels;
import advtrain.backend.OptimizerKernels;
import advtrain.backend.PoolGeometry;
import advtrain.backend.reference.ReferenceBackend;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.Objects;

/**
 * The tuned Java backend: the {@link ReferenceBackend}'s definitions, with the kernels a training
 * step or an attack spends its time in replaced by faster ones (every other kernel is inherited as
 * it is, and the tests compare each replacement with the original), plus the optional fused
 * kernels. Convolutions and linear layers run on register-blocked Vector API micro-kernels
 * ({@link Gemm}) in parallel over images or output tiles ({@link Conv}, {@link Linear}); pooling is parallel over planes ({@link Pool}), batch normalisation over channels ({@link BatchNorm}); element-wise kernels are loops
 * the JIT vectorises, or {@link Vec}'s. Scratch buffers belong to the calling thread and are reused,
 * so a steady-state training step allocates nothing here. Large element-wise kernels are split
 * over the threads too ({@link Elementwise}).
 */
public final class CpuBackend extends ReferenceBackend implements FusedKernels, OptimizerKernels {
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

    // ---- memory and elementwise: large tensors split over the threads (Elementwise) -------------

    @Override public void fill(Tensor tensor, float value) {
        Elementwise.forThisThread().run(Elementwise.Op.FILL, tensor.size(), null, null, data(tensor), value, 0f);
    }

    /** Sign and ReLU vectorised and split over the threads; RSQRT (the L2 attacks' few norms) as the reference. */
    @Override public void unary(UnaryOp op, Tensor x, Tensor out) {
        Checks.sameSize("unary", x, out);
        switch (op) {
            case SIGN -> Elementwise.forThisThread().run(Elementwise.Op.SIGN, out.size(), data(x), null, data(out), 0f, 0f);
            case RELU -> Elementwise.forThisThread().run(Elementwise.Op.RELU, out.size(), data(x), null, data(out), 0f, 0f);
            case RSQRT -> super.unary(op, x, out);
        }
    }

    /** Same-size operands in one loop per op (the JIT vectorises each), a repeated b group by group. */
    @Override public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        Checks.sameSize("binary", a, out);
        int groupSize = Checks.groupSize("binary", b, a), n = out.size();
        float[] x = data(a), y = data(b), o = data(out);
        if (groupSize == 1) {
            switch (op) {
                case ADD -> Elementwise.forThisThread().run(Elementwise.Op.ADD, n, x, y, o, 0f, 0f);
                case MUL -> { for (int i = 0; i < n; i++) o[i] = x[i] * y[i]; }
                case MIN -> { for (int i = 0; i < n; i++) o[i] = Math.min(x[i], y[i]); }
                case MAX -> { for (int i = 0; i < n; i++) o[i] = Math.max(x[i], y[i]); }
            }
            return;
        }
        for (int g = 0, groups = b.size(); g < groups; g++) {
            float v = y[g];
            int from = g * groupSize, to = from + groupSize;
            switch (op) {
                case ADD -> { for (int i = from; i < to; i++) o[i] = x[i] + v; }
                case MUL -> { for (int i = from; i < to; i++) o[i] = x[i] * v; }
                case MIN -> { for (int i = from; i < to; i++) o[i] = Math.min(x[i], v); }
                case MAX -> { for (int i = from; i < to; i++) o[i] = Math.max(x[i], v); }
            }
        }
    }

    /** Same size split over the threads; a repeated x (a mean's backward) as the reference. */
    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        if (x.size() != y.size()) {
            super.axpy(alpha, x, y);
            return;
        }
        Elementwise.forThisThread().run(Elementwise.Op.AXPY, y.size(), data(x), null, data(y), alpha, 0f);
    }

    @Override public void affine(Tensor x, float alpha, float beta, Tensor out) {
        Checks.sameSize("affine", x, out);
        Elementwise.forThisThread().run(Elementwise.Op.AFFINE, out.size(), data(x), null, data(out), alpha, beta);
    }

    @Override public void clamp(Tensor x, float lo, float hi, Tensor out) {
        Checks.sameSize("clamp", x, out);
        Elementwise.forThisThread().run(Elementwise.Op.CLAMP, out.size(), data(x), null, data(out), lo, hi);
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

    @Override public void conv2dBatchNorm(Tensor input, Tensor weight, Tensor bias, int stride, int padding, Tensor gamma, Tensor beta,
                                          Tensor mean, Tensor var, float eps, Tensor residual, int residualStride, int residualOffset,
                                          boolean relu, Tensor output) {
        checkConv("conv2dBatchNorm", input, weight, output, stride, padding);
        if (bias != null && bias.size() != weight.shape().dim(0)) {
            throw new IllegalArgumentException("conv2dBatchNorm: bias " + bias.shape() + " for weight " + weight.shape());
        }
        Checks.batchNorm("conv2dBatchNorm", output, gamma, beta, mean, var, output);
        if (residual != null) Checks.residual("conv2dBatchNorm", residual, residualStride, residualOffset, output);
        Conv.forThisThread().forwardNormalized(input.shape(), weight.shape(), stride, padding, data(input), data(weight),
                bias == null ? null : data(bias), gamma == null ? null : data(gamma), beta == null ? null : data(beta),
                data(mean), data(var), eps, relu, residual == null ? null : data(residual), residual == null ? null : residual.shape(),
                residualStride, residualOffset, data(output), convAlgorithm);
    }

    @Override public void conv2dBackward(Tensor input, Tensor weight, Tensor outputGrad,
                                         Tensor inputGrad, Tensor weightGrad, Tensor biasGrad, int stride, int padding) {
        checkConvBackward("conv2dBackward", input, weight, outputGrad, inputGrad, weightGrad, biasGrad, stride, padding);
        if (inputGrad == null && weightGrad == null && biasGrad == null) return;
        conv2dBackward(input, weight, outputGrad, inputGrad, true, weightGrad, biasGrad, stride, padding);
    }

    @Override public void conv2dBackwardFresh(Tensor input, Tensor weight, Tensor outputGrad,
                                              Tensor inputGrad, Tensor weightGrad, Tensor biasGrad, int stride, int padding) {
        checkConvBackward("conv2dBackwardFresh", input, weight, outputGrad, inputGrad, weightGrad, biasGrad, stride, padding);
        Objects.requireNonNull(inputGrad, "conv2dBackwardFresh: inputGrad");
        conv2dBackward(input, weight, outputGrad, inputGrad, false, weightGrad, biasGrad, stride, padding);
    }

    /** conv2dBackward's checks: the convolution's shapes, and each gradient given against its tensor. */
    private static void checkConvBackward(String op, Tensor input, Tensor weight, Tensor outputGrad, Tensor inputGrad,
                                          Tensor weightGrad, Tensor biasGrad, int stride, int padding) {
        checkConv(op, input, weight, outputGrad, stride, padding);
        if (inputGrad != null) Checks.sameShape(op, "inputGrad", input, inputGrad);
        if (weightGrad != null) Checks.sameShape(op, "weightGrad", weight, weightGrad);
        if (biasGrad != null && biasGrad.size() != weight.shape().dim(0)) {
            throw new IllegalArgumentException(op + ": biasGrad " + biasGrad.shape() + " for weight " + weight.shape());
        }
    }

    private void conv2dBackward(Tensor input, Tensor weight, Tensor outputGrad, Tensor inputGrad, boolean addToInputGrad,
                                Tensor weightGrad, Tensor biasGrad, int stride, int padding) {
        Conv.forThisThread().backward(input.shape(), weight.shape(), stride, padding, data(input), data(weight),
                data(outputGrad), inputGrad == null ? null : data(inputGrad), addToInputGrad,
                weightGrad == null ? null : data(weightGrad), biasGrad == null ? null : data(biasGrad), convAlgorithm);
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

    // ---- ReLU backward (log-softmax and NLL: the reference's) ---------------------------------------

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

    // ---- batch normalisation: parallel over channels, one pass for the statistics (BatchNorm) ------

    @Override public void batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps,
                                    boolean batchStats, Tensor out) {
        Checks.batchNorm("batchNorm", x, gamma, beta, mean, var, out);
        Shape s = x.shape();
        BatchNorm.forThisThread().forward(data(x), gamma == null ? null : data(gamma), beta == null ? null : data(beta),
                data(mean), data(var), eps, batchStats, null, false, data(out), s.dim(0), s.dim(1), s.dim(2) * s.dim(3));
    }

    @Override public void batchNormAddRelu(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps,
                                           boolean batchStats, Tensor residual, Tensor out) {
        Checks.batchNorm("batchNormAddRelu", x, gamma, beta, mean, var, out);
        if (residual != null) Checks.sameShape("batchNormAddRelu residual", x, residual);
        Shape s = x.shape();
        BatchNorm.forThisThread().forward(data(x), gamma == null ? null : data(gamma), beta == null ? null : data(beta),
                data(mean), data(var), eps, batchStats, residual == null ? null : data(residual), true, data(out),
                s.dim(0), s.dim(1), s.dim(2) * s.dim(3));
    }

    @Override public void batchNormAddReluBackward(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                                                   Tensor out, Tensor outGrad, Tensor inputGrad, boolean inputGradFresh,
                                                   Tensor gammaGrad, Tensor betaGrad) {
        checkBatchNormBackward("batchNormAddReluBackward", x, gamma, mean, var, outGrad, inputGrad, gammaGrad, betaGrad);
        Checks.sameShape("batchNormAddReluBackward out", x, out);
        batchNormBackward(x, gamma, mean, var, eps, batchStats, out, outGrad, inputGrad, !inputGradFresh, gammaGrad, betaGrad);
    }

    @Override public void batchNormBackward(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                                            Tensor outGrad, Tensor inputGrad, Tensor gammaGrad, Tensor betaGrad) {
        checkBatchNormBackward("batchNormBackward", x, gamma, mean, var, outGrad, inputGrad, gammaGrad, betaGrad);
        batchNormBackward(x, gamma, mean, var, eps, batchStats, null, outGrad, inputGrad, true, gammaGrad, betaGrad);
    }

    @Override public void batchNormBackwardFresh(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                                                 Tensor outGrad, Tensor inputGrad, Tensor gammaGrad, Tensor betaGrad) {
        checkBatchNormBackward("batchNormBackwardFresh", x, gamma, mean, var, outGrad, inputGrad, gammaGrad, betaGrad);
        Objects.requireNonNull(inputGrad, "batchNormBackwardFresh: inputGrad");
        batchNormBackward(x, gamma, mean, var, eps, batchStats, null, outGrad, inputGrad, false, gammaGrad, betaGrad);
    }

    /** batchNormBackward's checks: the statistics and parameters against x, each gradient given against its tensor. */
    private static void checkBatchNormBackward(String op, Tensor x, Tensor gamma, Tensor mean, Tensor var, Tensor outGrad,
                                               Tensor inputGrad, Tensor gammaGrad, Tensor betaGrad) {
        Checks.batchNorm(op, x, gamma, null, mean, var, outGrad);
        Checks.batchNorm(op, x, gammaGrad, betaGrad, mean, var, outGrad);
        if (inputGrad != null) Checks.sameShape(op, "inputGrad", x, inputGrad);
    }

    private static void batchNormBackward(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                                          Tensor reluOut, Tensor outGrad, Tensor inputGrad, boolean addToInputGrad, Tensor gammaGrad,
                                          Tensor betaGrad) {
        Shape s = x.shape();
        BatchNorm.forThisThread().backward(data(x), gamma == null ? null : data(gamma), data(mean), data(var), eps, batchStats,
                reluOut == null ? null : data(reluOut), data(outGrad), inputGrad == null ? null : data(inputGrad), addToInputGrad, gammaGrad == null ? null : data(gammaGrad),
                betaGrad == null ? null : data(betaGrad), s.dim(0), s.dim(1), s.dim(2) * s.dim(3));
    }

    // ---- the option-A shortcut: a strided copy (Shortcut) -------------------------------------

    @Override public void shortcutA(Tensor input, int stride, int pad, Tensor output) {
        Checks.shortcut("shortcutA", input, stride, pad, output);
        Shape s = input.shape();
        Shortcut.forThisThread().forward(data(input), data(output), s.dim(0), s.dim(1), s.dim(2), s.dim(3), stride, pad);
    }

    @Override public void shortcutABackward(Tensor outputGrad, int stride, int pad, Tensor inputGrad, boolean inputGradFresh) {
        Checks.shortcut("shortcutABackward", inputGrad, stride, pad, outputGrad);
        Shape s = inputGrad.shape();
        Shortcut.forThisThread().backward(data(outputGrad), data(inputGrad), inputGradFresh, s.dim(0), s.dim(1), s.dim(2), s.dim(3),
                stride, pad);
    }

    // ---- optimiser ------------------------------------------------------------------------------

    @Override public void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay) {
        Checks.sameSize("sgdStep", param, grad, velocity);
        Elementwise.forThisThread().sgd(param.size(), data(param), data(grad), data(velocity), lr, momentum, weightDecay);
    }
}
