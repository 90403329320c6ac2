package advtrain.backend.cpu;

import advtrain.tensor.Shape;

/**
 * 2-D convolution on the CPU, forward and backward: the entry point {@link CpuBackend} calls. It
 * reads the sizes ({@link ConvShape}), asks {@link ConvPlan} which algorithm each part runs, and
 * hands the work to the part that computes it: {@link ConvForward} (the output, optionally pooled
 * on the fly), {@link ConvWeightGradient} (weight and bias gradients) and {@link ConvInputGradient}.
 *
 * <p>One instance per calling thread holds the three parts and their workspaces, grown on first
 * use and reused after, so steady-state calls allocate nothing.
 */
final class Conv {
    private static final ThreadLocal<Conv> PER_THREAD = ThreadLocal.withInitial(Conv::new);

    private static final ConvPlan PLAN = ConvPlan.HERE;

    static Conv forThisThread() { return PER_THREAD.get(); }

    private final ConvShape shape = new ConvShape();
    private final ConvForward forward = new ConvForward(shape);
    private final ConvWeightGradient weightGradient = new ConvWeightGradient(shape);
    private final ConvInputGradient inputGradient = new ConvInputGradient(shape);
    private final ConvEpilogue epilogue = new ConvEpilogue();

    private Conv() {}

    void forward(Shape inShape, Shape wShape, int stride, int padding, float[] in, float[] weight, float[] bias, float[] out,
                 ConvPlan.Algorithm algorithm) {
        shape.set(inShape, wShape, stride, padding, ConvPlan.direct(stride, algorithm));
        forward.run(PLAN.forward(stride, shape.inChannels, shape.outChannels, shape.inHeight, shape.inWidth, shape.kernelHeight, shape.kernelWidth, padding, algorithm), in, weight, bias, out);
    }

    /**
     * At inference: relu(batchNorm(conv + bias) + residual) into out, batch norm with the running
     * statistics mean and var; residual may be null (no sum), relu false (no ReLU). The residual,
     * of shape residualShape, is read at every residualStride-th pixel from channel k - residualOffset
     * (see {@link ConvEpilogue#set}).
     */
    void forwardNormalized(Shape inShape, Shape wShape, int stride, int padding, float[] in, float[] weight, float[] bias,
                           float[] gamma, float[] beta, float[] mean, float[] var, float eps, boolean relu,
                           float[] residual, Shape residualShape, int residualStride, int residualOffset,
                           float[] out, ConvPlan.Algorithm algorithm) {
        shape.set(inShape, wShape, stride, padding, ConvPlan.direct(stride, algorithm));
        epilogue.set(gamma, beta, mean, var, eps, relu, residual, residualShape, residualStride, residualOffset,
                shape.outChannels, shape.outHeight, shape.outWidth);
        forward.runNormalized(PLAN.forward(stride, shape.inChannels, shape.outChannels, shape.inHeight, shape.inWidth,
                shape.kernelHeight, shape.kernelWidth, padding, algorithm), in, weight, bias, out, epilogue);
        epilogue.clear();
    }

    /** The convolution, then max pooling (kernel, poolStride) into `pooled`; convOut keeps the convolution's output, or is null. */
    void forwardPooled(Shape inShape, Shape wShape, int stride, int padding, float[] in, float[] weight, float[] bias,
                       float[] convOut, float[] pooled, int poolKernel, int poolStride, ConvPlan.Algorithm algorithm) {
        shape.set(inShape, wShape, stride, padding, ConvPlan.direct(stride, algorithm));
        forward.runPooled(PLAN.forward(stride, shape.inChannels, shape.outChannels, shape.inHeight, shape.inWidth, shape.kernelHeight, shape.kernelWidth, padding, algorithm), in, weight, bias, convOut, pooled,
                poolKernel, poolStride);
    }

    /**
     * Adds the gradients asked for (dIn, dW, dB; null: not wanted) of the loss whose output gradient
     * is dOut; without addToDIn, dIn holds nothing yet and is written: by the FLIPPED path directly,
     * on the others filled with zeros first.
     */
    void backward(Shape inShape, Shape wShape, int stride, int padding, float[] in, float[] weight, float[] dOut,
                  float[] dIn, boolean addToDIn, float[] dW, float[] dB, ConvPlan.Algorithm algorithm) {
        inputGradient.algorithm = algorithm;
        ConvShape s = shape;
        s.set(inShape, wShape, stride, padding, ConvPlan.direct(stride, algorithm));
        ConvPlan.WeightGradient weightPath = PLAN.weightGradient(s.batch, s.inChannels, s.inHeight, s.inWidth, s.outChannels,
                s.kernelHeight, s.kernelWidth, stride, padding, algorithm);
        ConvPlan.InputGradient inputPath = PLAN.inputGradient(s.batch, s.inChannels, s.inHeight, s.kernelHeight, s.kernelWidth,
                stride, padding, algorithm);
        // In groups, the wide-row input gradient runs inside the weight gradient's groups, on the images it has in cache.
        if (dIn != null && !addToDIn && !ConvInputGradient.writes(inputPath)) {
            Elementwise.forThisThread().run(Elementwise.Op.FILL, s.batch * s.inChannels * s.inHeight * s.inWidth, null, null, dIn, 0f, 0f);
        }
        boolean inGroups = weightPath == ConvPlan.WeightGradient.WIDE_ROWS_IN_GROUPS;
        boolean inputGradInGroups = dIn != null && inGroups && (inputPath == ConvPlan.InputGradient.WIDE_ROWS
                || inputPath == ConvPlan.InputGradient.WIDE_ROWS_BY_FILTER_ROW);
        if (inputGradInGroups) inputGradient.begin(inputPath, weight, dOut, dIn);
        if (dW != null || dB != null || inputGradInGroups) {
            weightGradient.run(weightPath, in, dOut, dW, dB, inputGradInGroups ? inputGradient : null);
        }
        if (inputGradInGroups) inputGradient.end();
        else if (dIn != null) inputGradient.run(inputPath, weight, dOut, dIn, addToDIn || !ConvInputGradient.writes(inputPath));
    }
}
