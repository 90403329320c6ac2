package advtrain.bench;

import advtrain.backend.Backend;
import advtrain.backend.FusedKernels;
import advtrain.backend.OptimizerKernels;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * A Backend that forwards every call to another and adds the call's wall time to a per-kernel
 * total (synchronizing after each call, so asynchronous backends are timed too). Used by
 * {@link StepProfile} for the table of a training step's time by op. Allocation-free per call.
 * It offers the optional fused kernels whatever the inner backend offers; where the inner backend
 * lacks them, it runs the plain kernels the engine would have run (each timed on its own).
 */
final class TimedBackend implements Backend, FusedKernels, OptimizerKernels {
    enum Op {
        ALLOCATE, FILL, COPY, WRITE, READ, ADD, MUL, AXPY, AFFINE, SIGN, CLAMP, RSQRT, MINIMUM, MAXIMUM, SUM, SUM_SQUARES,
        ARGMAX, UNIFORM, CONV2D, CONV2D_MAX_POOL, CONV2D_BATCH_NORM, CONV2D_BACKWARD, MAX_POOL2D, MAX_POOL2D_BACKWARD,
        LINEAR, LINEAR_BACKWARD, RELU, RELU_BACKWARD, LOG_SOFTMAX, LOG_SOFTMAX_BACKWARD, NLL_LOSS, NLL_LOSS_BACKWARD, SGD_STEP,
        BATCH_NORM, BATCH_NORM_BACKWARD, BATCH_NORM_ADD_RELU, BATCH_NORM_ADD_RELU_BACKWARD, SHORTCUT_A, SHORTCUT_A_BACKWARD
    }

    final Backend inner;
    final long[] nanos = new long[Op.values().length];
    final long[] calls = new long[Op.values().length];
    /** Per-call detail for the convolution and linear kernels: which layer (by input shape). */
    final List<String> layerKeys = new ArrayList<>();
    final List<long[]> layerTimes = new ArrayList<>();
    private long start;
    /** What is counted: wall time; the thread's CPU time (meaningful with one thread,
     * -Dadvtrain.threads=1, on a busy machine); or the bytes the thread allocated (with one
     * thread, every allocation of the step; "nanos" then hold bytes). */
    enum Measure { WALL, CPU, BYTES }
    private final Measure measure;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    TimedBackend(Backend inner, Measure measure) { this.inner = inner; this.measure = measure; }

    private long now() { return count(measure); }

    /** The calling thread's counter of `measure` now: nanoseconds, or bytes allocated so far. */
    static long count(Measure measure) {
        return switch (measure) {
            case WALL -> System.nanoTime();
            case CPU -> THREADS.getCurrentThreadCpuTime();
            case BYTES -> THREADS.getCurrentThreadAllocatedBytes();
        };
    }

    void reset() {
        java.util.Arrays.fill(nanos, 0);
        java.util.Arrays.fill(calls, 0);
        for (long[] t : layerTimes) java.util.Arrays.fill(t, 0);
    }

    private void begin() { start = now(); }

    private void end(Op op) {
        inner.synchronize();
        nanos[op.ordinal()] += now() - start;
        calls[op.ordinal()]++;
    }

    /** The (op, shape) of each layer slot: a linear search by identity, so a call allocates nothing. */
    private final List<Op> layerOps = new ArrayList<>();
    private final List<Shape> layerShapes = new ArrayList<>();

    /** Also books the time under "op shape" (the first call per op and shape allocates its slot). */
    private void end(Op op, Shape shape) {
        long before = start;
        end(op);
        int i = 0;
        while (i < layerOps.size() && (layerOps.get(i) != op || !layerShapes.get(i).equals(shape))) i++;
        if (i == layerOps.size()) {
            layerOps.add(op);
            layerShapes.add(shape);
            layerKeys.add(op + " " + shape);
            layerTimes.add(new long[2]);
        }
        long[] slot = layerTimes.get(i);
        slot[0] += now() - before;
        slot[1]++;
    }

    @Override public String name() { return inner.name(); }
    @Override public String deviceName() { return inner.deviceName(); }
    @Override public Tensor allocate(Shape shape) { begin(); Tensor t = inner.allocate(shape); end(Op.ALLOCATE); return t; }
    @Override public void release(Tensor tensor) { inner.release(tensor); }
    @Override public void write(Tensor dst, float[] src, int srcOffset) { begin(); inner.write(dst, src, srcOffset); end(Op.WRITE); }
    @Override public void read(Tensor src, float[] dst, int dstOffset) { begin(); inner.read(src, dst, dstOffset); end(Op.READ); }
    @Override public void fill(Tensor tensor, float value) { begin(); inner.fill(tensor, value); end(Op.FILL); }
    @Override public void copy(Tensor src, Tensor dst) { begin(); inner.copy(src, dst); end(Op.COPY); }
    @Override public void unary(UnaryOp op, Tensor x, Tensor out) {
        begin(); inner.unary(op, x, out);
        end(switch (op) { case SIGN -> Op.SIGN; case RSQRT -> Op.RSQRT; case RELU -> Op.RELU; });
    }
    @Override public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        begin(); inner.binary(op, a, b, out);
        end(switch (op) { case ADD -> Op.ADD; case MUL -> Op.MUL; case MIN -> Op.MINIMUM; case MAX -> Op.MAXIMUM; });
    }
    @Override public void axpy(float alpha, Tensor x, Tensor y) { begin(); inner.axpy(alpha, x, y); end(Op.AXPY); }
    @Override public void affine(Tensor x, float alpha, float beta, Tensor out) { begin(); inner.affine(x, alpha, beta, out); end(Op.AFFINE); }
    @Override public void clamp(Tensor x, float lo, float hi, Tensor out) { begin(); inner.clamp(x, lo, hi, out); end(Op.CLAMP); }
    @Override public void reduce(ReduceOp op, Tensor x, Tensor out) {
        begin(); inner.reduce(op, x, out);
        end(switch (op) { case SUM -> Op.SUM; case SUM_SQUARES -> Op.SUM_SQUARES; case ARGMAX -> Op.ARGMAX; });
    }
    @Override public void uniform(Tensor out, float lo, float hi, long seed) { begin(); inner.uniform(out, lo, hi, seed); end(Op.UNIFORM); }

    @Override public void conv2d(Tensor input, Tensor weight, Tensor bias, Tensor output, int stride, int padding) {
        begin(); inner.conv2d(input, weight, bias, output, stride, padding); end(Op.CONV2D, input.shape());
    }

    @Override public void conv2dMaxPool(Tensor input, Tensor weight, Tensor bias, Tensor convOutput, Tensor output,
                                        int stride, int padding, int kernel, int poolStride, boolean convOutputNeeded) {
        if (!(inner instanceof FusedKernels fused)) {
            conv2d(input, weight, bias, convOutput, stride, padding);
            maxPool2d(convOutput, output, kernel, poolStride);
            return;
        }
        begin(); fused.conv2dMaxPool(input, weight, bias, convOutput, output, stride, padding, kernel, poolStride, convOutputNeeded);
        end(Op.CONV2D_MAX_POOL, input.shape());
    }

    @Override public void conv2dBatchNorm(Tensor input, Tensor weight, Tensor bias, int stride, int padding, Tensor gamma, Tensor beta,
                                          Tensor mean, Tensor var, float eps, Tensor residual, int residualStride, int residualOffset,
                                          boolean relu, Tensor output) {
        if (!(inner instanceof FusedKernels fused)) {
            conv2d(input, weight, bias, output, stride, padding);
            batchNorm(output, gamma, beta, mean, var, eps, false, output);
            if (residual != null && residualStride == 1 && residualOffset == 0) binary(BinaryOp.ADD, output, residual, output);
            else if (residual != null) addShortcut(residual, residualStride, residualOffset, output);
            if (relu) unary(UnaryOp.RELU, output, output);
            return;
        }
        begin(); fused.conv2dBatchNorm(input, weight, bias, stride, padding, gamma, beta, mean, var, eps, residual, residualStride,
                residualOffset, relu, output);
        end(Op.CONV2D_BATCH_NORM, input.shape());
    }

    /** output += the residual read as an option-A shortcut, as a 1x1 convolution with 0/1 weights (a profiling fallback: it allocates). */
    private void addShortcut(Tensor residual, int stride, int offset, Tensor output) {
        int channels = residual.shape().dim(1), outChannels = output.shape().dim(1);
        float[] select = new float[outChannels * channels];
        for (int c = 0; c < channels; c++) select[(c + offset) * channels + c] = 1f;
        Tensor weight = allocate(Shape.of(outChannels, channels, 1, 1)), shortcut = allocate(output.shape());
        write(weight, select, 0);
        conv2d(residual, weight, null, shortcut, stride, 0);
        binary(BinaryOp.ADD, output, shortcut, output);
        release(weight);
        release(shortcut);
    }

    @Override public void conv2dBackward(Tensor input, Tensor weight, Tensor outputGrad, Tensor inputGrad, Tensor weightGrad,
                                         Tensor biasGrad, int stride, int padding) {
        begin(); inner.conv2dBackward(input, weight, outputGrad, inputGrad, weightGrad, biasGrad, stride, padding);
        end(Op.CONV2D_BACKWARD, input.shape());
    }

    @Override public void conv2dBackwardFresh(Tensor input, Tensor weight, Tensor outputGrad, Tensor inputGrad, Tensor weightGrad,
                                              Tensor biasGrad, int stride, int padding) {
        if (!(inner instanceof FusedKernels fused)) {
            fill(inputGrad, 0f);
            conv2dBackward(input, weight, outputGrad, inputGrad, weightGrad, biasGrad, stride, padding);
            return;
        }
        begin(); fused.conv2dBackwardFresh(input, weight, outputGrad, inputGrad, weightGrad, biasGrad, stride, padding);
        end(Op.CONV2D_BACKWARD, input.shape());
    }

    @Override public void maxPool2d(Tensor input, Tensor output, int kernel, int stride) {
        begin(); inner.maxPool2d(input, output, kernel, stride); end(Op.MAX_POOL2D, input.shape());
    }

    @Override public void maxPool2dBackward(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride) {
        begin(); inner.maxPool2dBackward(input, outputGrad, inputGrad, kernel, stride); end(Op.MAX_POOL2D_BACKWARD, input.shape());
    }

    @Override public void maxPool2dBackwardFresh(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride) {
        if (!(inner instanceof FusedKernels fused)) {
            fill(inputGrad, 0f);
            maxPool2dBackward(input, outputGrad, inputGrad, kernel, stride);
            return;
        }
        begin(); fused.maxPool2dBackwardFresh(input, outputGrad, inputGrad, kernel, stride); end(Op.MAX_POOL2D_BACKWARD, input.shape());
    }

    @Override public void linear(Tensor input, Tensor weight, Tensor bias, Tensor output) {
        begin(); inner.linear(input, weight, bias, output); end(Op.LINEAR, weight.shape());
    }

    @Override public void linearBackward(Tensor input, Tensor weight, Tensor outputGrad, Tensor inputGrad, Tensor weightGrad, Tensor biasGrad) {
        begin(); inner.linearBackward(input, weight, outputGrad, inputGrad, weightGrad, biasGrad); end(Op.LINEAR_BACKWARD, weight.shape());
    }

    @Override public void reluBackward(Tensor output, Tensor outputGrad, Tensor inputGrad) { begin(); inner.reluBackward(output, outputGrad, inputGrad); end(Op.RELU_BACKWARD); }

    @Override public void reluBackwardFresh(Tensor output, Tensor outputGrad, Tensor inputGrad) {
        if (!(inner instanceof FusedKernels fused)) {
            fill(inputGrad, 0f);
            reluBackward(output, outputGrad, inputGrad);
            return;
        }
        begin(); fused.reluBackwardFresh(output, outputGrad, inputGrad); end(Op.RELU_BACKWARD);
    }
    @Override public void logSoftmax(Tensor input, Tensor output) { begin(); inner.logSoftmax(input, output); end(Op.LOG_SOFTMAX); }
    @Override public void logSoftmaxBackward(Tensor output, Tensor outputGrad, Tensor inputGrad) { begin(); inner.logSoftmaxBackward(output, outputGrad, inputGrad); end(Op.LOG_SOFTMAX_BACKWARD); }
    @Override public void nllLoss(Tensor logProbs, Tensor labels, Tensor losses) { begin(); inner.nllLoss(logProbs, labels, losses); end(Op.NLL_LOSS); }
    @Override public void nllLossBackward(Tensor labels, Tensor lossesGrad, Tensor logProbsGrad) { begin(); inner.nllLossBackward(labels, lossesGrad, logProbsGrad); end(Op.NLL_LOSS_BACKWARD); }
    @Override public void batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, boolean batchStats, Tensor out) {
        begin(); inner.batchNorm(x, gamma, beta, mean, var, eps, batchStats, out); end(Op.BATCH_NORM);
    }
    @Override public void batchNormBackward(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                                            Tensor outGrad, Tensor inputGrad, Tensor gammaGrad, Tensor betaGrad) {
        begin(); inner.batchNormBackward(x, gamma, mean, var, eps, batchStats, outGrad, inputGrad, gammaGrad, betaGrad); end(Op.BATCH_NORM_BACKWARD);
    }

    @Override public void batchNormBackwardFresh(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                                                 Tensor outGrad, Tensor inputGrad, Tensor gammaGrad, Tensor betaGrad) {
        if (!(inner instanceof FusedKernels fused)) {
            fill(inputGrad, 0f);
            batchNormBackward(x, gamma, mean, var, eps, batchStats, outGrad, inputGrad, gammaGrad, betaGrad);
            return;
        }
        begin(); fused.batchNormBackwardFresh(x, gamma, mean, var, eps, batchStats, outGrad, inputGrad, gammaGrad, betaGrad);
        end(Op.BATCH_NORM_BACKWARD);
    }

    @Override public void batchNormAddRelu(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, boolean batchStats,
                                           Tensor residual, Tensor out) {
        if (!(inner instanceof FusedKernels fused)) {
            batchNorm(x, gamma, beta, mean, var, eps, batchStats, out);
            if (residual != null) binary(BinaryOp.ADD, out, residual, out);
            unary(UnaryOp.RELU, out, out);
            return;
        }
        begin(); fused.batchNormAddRelu(x, gamma, beta, mean, var, eps, batchStats, residual, out); end(Op.BATCH_NORM_ADD_RELU);
    }

    /** The fallback masks the gradient through a temporary tensor (a profiling fallback: it allocates). */
    @Override public void batchNormAddReluBackward(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                                                   Tensor out, Tensor outGrad, Tensor inputGrad, boolean inputGradFresh,
                                                   Tensor gammaGrad, Tensor betaGrad) {
        if (!(inner instanceof FusedKernels fused)) {
            Tensor masked = allocate(outGrad.shape());
            reluBackwardFresh(out, outGrad, masked);
            copy(masked, outGrad);
            release(masked);
            if (inputGrad != null && inputGradFresh) fill(inputGrad, 0f);
            batchNormBackward(x, gamma, mean, var, eps, batchStats, outGrad, inputGrad, gammaGrad, betaGrad);
            return;
        }
        begin(); fused.batchNormAddReluBackward(x, gamma, mean, var, eps, batchStats, out, outGrad, inputGrad, inputGradFresh, gammaGrad,
                betaGrad);
        end(Op.BATCH_NORM_ADD_RELU_BACKWARD);
    }
    @Override public void shortcutA(Tensor input, int stride, int pad, Tensor output) {
        if (!(inner instanceof FusedKernels fused)) {
            Tensor weight = shiftedIdentity(input.shape().dim(1), pad);
            conv2d(input, weight, null, output, stride, 0);
            release(weight);
            return;
        }
        begin(); fused.shortcutA(input, stride, pad, output); end(Op.SHORTCUT_A);
    }

    @Override public void shortcutABackward(Tensor outputGrad, int stride, int pad, Tensor inputGrad, boolean inputGradFresh) {
        if (!(inner instanceof FusedKernels fused)) {
            Tensor weight = shiftedIdentity(inputGrad.shape().dim(1), pad), input = allocate(inputGrad.shape());
            if (inputGradFresh) fill(inputGrad, 0f);
            conv2dBackward(input, weight, outputGrad, inputGrad, null, null, stride, 0);  // input: its shape only
            release(weight);
            release(input);
            return;
        }
        begin(); fused.shortcutABackward(outputGrad, stride, pad, inputGrad, inputGradFresh); end(Op.SHORTCUT_A_BACKWARD);
    }

    /** The fallbacks' 1x1 weight, the identity shifted by pad channels (a profiling fallback: it allocates). */
    private Tensor shiftedIdentity(int channels, int pad) {
        Tensor weight = allocate(advtrain.tensor.Shape.of(channels + 2 * pad, channels, 1, 1));
        write(weight, advtrain.autograd.ShortcutA.shiftedIdentity(channels, pad), 0);
        return weight;
    }

    @Override public void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay) {
        if (!(inner instanceof OptimizerKernels fused)) {
            if (weightDecay != 0f) axpy(weightDecay, param, grad);   // the gradient is not read after the step here
            affine(velocity, momentum, 0f, velocity);
            axpy(1f, grad, velocity);
            axpy(-lr, velocity, param);
            return;
        }
        begin(); fused.sgdStep(param, grad, velocity, lr, momentum, weightDecay); end(Op.SGD_STEP);
    }
    @Override public void synchronize() { inner.synchronize(); }
    @Override public void close() { inner.close(); }
}
