package advtrain.backend.opencl;

import advtrain.backend.Backend;
import advtrain.backend.Checks;
import advtrain.backend.OptimizerKernels;
import advtrain.backend.PoolGeometry;
import advtrain.tensor.Shape;
import advtrain.tensor.Tensor;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_mem;

import static org.jocl.CL.*;

/**
 * The OpenCL backend: tensors live in device buffers and every method is one or two kernel
 * launches on one in-order queue (kernels in {@code src/main/resources/kernels/}). Only
 * {@link #write} and {@link #read} move data between host and device; read blocks until the work
 * queued before it is done, the other methods return as soon as their kernels are queued.
 *
 * <p>Three versions of the heavy kernels exist: {@link Kernels#TILED} (local-memory tiles and register
 * blocks, the default on GPUs), {@link Kernels#ROWS} (the default on CPU devices such as PoCL: no
 * local memory and no barriers, each work item a large register tile over contiguous rows, the
 * scheme of the Java backend; for stride-1 unpadded convolutions, TILED for the rest) and
 * {@link Kernels#PLAIN} (one work item per output, a loop inside: easy to
 * read, and the reference the tiled ones are tested and benchmarked against). A device that cannot
 * run a tiled kernel's work group gets the plain one.
 *
 * <p>Reductions (sums over the batch for weight and bias gradients, the loss sum) use fixed-order
 * trees and fixed chunkings that depend only on the shapes and the device, never atomics, so a
 * computation gives the same bits on every run on the same device. One backend is meant to be
 * driven by one thread at a time (kernel launches themselves are serialised per device).
 */
public final class OpenClBackend implements Backend, OptimizerKernels {

    /** Which version of the convolution and matrix-product kernels to run. */
    public enum Kernels {
        /** GPU-shaped: local-memory tiles shared by a work group, register blocks per work item. */
        TILED,
        /** CPU-shaped convolutions (stride 1, no padding; others as TILED): see conv_rows.cl. */
        ROWS,
        /** One work item per output element. */
        PLAIN;

        /** The kernels a device runs fastest by measurement (docs/WHAT-PAID.md): ROWS on CPUs, TILED elsewhere. */
        public static Kernels bestFor(OpenCl.Device device) { return device.type().equals("CPU") ? ROWS : TILED; }
    }

    // Block sizes of conv.cl and linear.cl (their defaults; kept here to size the launches).
    static final int CONV_KB = 8, CONV_CB = 4, STRIP = 8;
    static final int ROWS_KB = 6, ROWS_CB = 6, ROWS_CHUNK = 32, ROWS_WK = 4, ROWS_WQ = 4;
    static final int GEMM_ROWS_M = 6, GEMM_DOT_M = 4, GEMM_DOT_N = 4;
    /**
     * Tensors up to this many floats are zeroed with clEnqueueFillBuffer, larger ones with the fill
     * kernel: on PoCL the command takes 5 us against the kernel's 8-10 for small tensors, but runs on
     * one thread, 4x slower than the kernel at 150,000 floats (docs/WHAT-PAID.md).
     */
    static final int SMALL_FILL = 16_384;
    static final int GEMM_TILE_M = 32, GEMM_TILE_N = 64, GEMM_WORK_M = 4;
    static final long[] GEMM_LOCAL = {GEMM_TILE_N / STRIP, GEMM_TILE_M / GEMM_WORK_M};

    private final ClContext cl;
    private final Kernels kernels;
    private final boolean rowsKernels, tiledGemm;
    private final int reduceGroup;         // work items of one reduction work group: a power of two
    private final cl_mem dummy;            // bound where a kernel's optional buffer (a bias) is absent
    private final float[] fillValue = new float[1];           // clEnqueueFillBuffer's pattern (copied when enqueued)
    private final Pointer fillPattern = Pointer.to(fillValue);
    private final ClConvolutions convolutions;
    private final ClTransfers transfers;   // host<->device copies (pinned staging for writes)
    private boolean closed;

    /** A backend on this device, with the tiled kernels where the device can run them. */
    /** A backend on this device with the kernels it runs fastest ({@link Kernels#bestFor}). */
    public OpenClBackend(OpenCl.Device device) { this(device, Kernels.bestFor(device)); }

    public OpenClBackend(OpenCl.Device device, Kernels kernels) {
        this.cl = ClContext.of(device);
        this.kernels = kernels;
        this.rowsKernels = kernels == Kernels.ROWS;
        this.tiledGemm = kernels != Kernels.PLAIN && fits("gemm_tiled", (int) (GEMM_LOCAL[0] * GEMM_LOCAL[1]));
        this.reduceGroup = (int) Math.min(256, Long.highestOneBit(Math.min(
                cl.maxWorkGroupSize("sum_all"), Math.min(cl.maxWorkGroupSize("group_sums"),
                        Math.min(cl.maxWorkGroupSize("conv2d_backward_bias"), Math.min(cl.maxWorkGroupSize("batch_norm_statistics"),
                                cl.maxWorkGroupSize("batch_norm_backward")))))));
        this.dummy = cl.allocate(Sizeof.cl_float);
        this.transfers = new ClTransfers(cl);
        this.convolutions = new ClConvolutions(cl, kernels, dummy, reduceGroup);
    }

    /** Whether this device can run the kernel with a work group of this many items. */
    private boolean fits(String kernel, int workItems) {
        return cl.maxWorkGroupSize(kernel) >= workItems && cl.device.maxWorkGroupSize() >= workItems;
    }

    @Override public String name() { return "opencl"; }

    @Override public String deviceName() { return cl.device.name() + " (" + cl.device.platform() + ")"; }

    public OpenCl.Device device() { return cl.device; }

    /** Which kernels actually run: TILED only where the device could take the tiled work groups. */
    public String kernelsInUse() {
        return kernels == Kernels.PLAIN ? "plain" : "conv " + (rowsKernels ? "rows (stride 1, no padding; else tiled)" : convolutions.tiled() ? "tiled" : "plain")
                + ", gemm " + (rowsKernels ? "rows" : tiledGemm ? "tiled" : "plain")
                + (rowsKernels ? ", pooling rows" : "");
    }

    /**
     * Whether this device rounds a*b + c twice in the kernels built with FP_CONTRACT OFF, as Java
     * does (a self-check run once per device, {@link ClContext#multiplyAdd}): only then can the
     * elementwise and SGD kernels match the Java backend bit for bit. "separate", "fused" or "mixed".
     */
    public String multiplyAdd() { return cl.multiplyAdd().name().toLowerCase(java.util.Locale.ROOT); }

    /** Host-to-device and device-to-host copies so far: {writes, bytes written, reads, bytes read}. */
    public long[] transfers() { return transfers.counts(); }

    static cl_mem mem(Tensor t) {
        if (t.storage() instanceof ClStorage s) {
            if (s.released) throw new IllegalStateException("tensor " + t + " was released");
            return s.buffer;
        }
        throw new IllegalArgumentException("tensor " + t + " does not belong to the opencl backend");
    }

    // ---- memory ---------------------------------------------------------------------------------

    @Override public Tensor allocate(Shape shape) {
        int capacity = Math.max(1, shape.size());
        cl_mem buffer;
        try {
            buffer = cl.allocate((long) capacity * Sizeof.cl_float);
        } catch (CLException e) {
            throw new OpenClException("could not allocate " + shape + " on " + cl.device.name() + ": " + e.getMessage(), e);
        }
        Tensor t = new Tensor(shape, new ClStorage(buffer, capacity, cl));
        fill(t, 0f);
        return t;
    }

    @Override public void release(Tensor tensor) {
        if (tensor.storage() instanceof ClStorage s && !s.released) {
            s.released = true;
            clReleaseMemObject(s.buffer);
        }
    }

    @Override public void write(Tensor dst, float[] src, int srcOffset) {
        if (srcOffset < 0 || srcOffset + dst.size() > src.length) {
            throw new IllegalArgumentException("write: " + dst.size() + " floats from offset " + srcOffset + " of " + src.length);
        }
        if (dst.size() == 0) return;
        transfers.write(mem(dst), src, srcOffset, dst.size());  // staged: the caller may reuse src at once
    }

    @Override public void read(Tensor src, float[] dst, int dstOffset) {
        if (dstOffset < 0 || dstOffset + src.size() > dst.length) {
            throw new IllegalArgumentException("read: " + src.size() + " floats into offset " + dstOffset + " of " + dst.length);
        }
        if (src.size() == 0) return;
        transfers.read(mem(src), dst, dstOffset, src.size());
    }

    @Override public void fill(Tensor tensor, float value) {
        if (tensor.size() == 0) return;
        if (tensor.size() <= SMALL_FILL) {  // by measurement on PoCL: a fill command is cheaper than a kernel launch
            synchronized (cl) {
                fillValue[0] = value;
                try {
                    clEnqueueFillBuffer(cl.queue, mem(tensor), fillPattern, Sizeof.cl_float, 0,
                            (long) tensor.size() * Sizeof.cl_float, 0, null, null);
                } catch (CLException e) {
                    throw cl.failure("filling " + tensor.size() + " floats", e);
                }
            }
            return;
        }
        cl.call("fill").buffer(tensor).f(value).i(tensor.size()).run(tensor.size());
    }

    @Override public void copy(Tensor src, Tensor dst) {
        Checks.sameSize("copy", src, dst);
        cl.call("copy_elements").buffer(src).buffer(dst).i(src.size()).run(src.size());
    }

    // ---- elementwise ----------------------------------------------------------------------------

    @Override public void unary(UnaryOp op, Tensor x, Tensor out) {
        Checks.sameSize("unary", x, out);
        switch (op) {
            case SIGN -> cl.call("sign_elements").buffer(x).buffer(out).i(out.size()).run(out.size());
            case RELU -> cl.call("relu").buffer(x).buffer(out).i(out.size()).run(out.size());
            // max(x, -inf) is x: the kernel's floor is not wanted here
            case RSQRT -> cl.call("rsqrt_elements").buffer(x).f(Float.NEGATIVE_INFINITY).buffer(out).i(out.size()).run(out.size());
        }
    }

    /** Same-size add, min and max have kernels of their own; the rest go through binary_groups. */
    @Override public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        Checks.sameSize("binary", a, out);
        int groupSize = Checks.groupSize("binary", b, a), n = out.size();
        String sameSize = groupSize != 1 ? null : switch (op) {
            case ADD -> "add_elements";
            case MIN -> "minimum_elements";
            case MAX -> "maximum_elements";
            case MUL -> null;
        };
        if (sameSize != null) {
            cl.call(sameSize).buffer(a).buffer(b).buffer(out).i(n).run(n);
        } else {
            cl.call("binary_groups").buffer(a).buffer(b).buffer(out).i(op.ordinal()).i(groupSize).i(n).run(n);
        }
    }

    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        int groupSize = Checks.groupSize("axpy", x, y);
        if (groupSize == 1) cl.call("axpy").f(alpha).buffer(x).buffer(y).i(y.size()).run(y.size());
        else cl.call("axpy_groups").f(alpha).buffer(x).buffer(y).i(groupSize).i(y.size()).run(y.size());
    }

    @Override public void affine(Tensor x, float alpha, float beta, Tensor out) {
        Checks.sameSize("affine", x, out);
        cl.call("affine").buffer(x).f(alpha).f(beta).buffer(out).i(out.size()).run(out.size());
    }

    @Override public void clamp(Tensor x, float lo, float hi, Tensor out) {
        Checks.sameSize("clamp", x, out);
        cl.call("clamp_elements").buffer(x).f(lo).f(hi).buffer(out).i(out.size()).run(out.size());
    }

    /** A whole-tensor sum in one work group (sum_all), group sums one work group per group, argmax one item per group. */
    @Override public void reduce(ReduceOp op, Tensor x, Tensor out) {
        int groupSize = Checks.groupSize("reduce", out, x), groups = out.size();
        if (op == ReduceOp.ARGMAX) {
            cl.call("argmax_rows").buffer(x).buffer(out).i(groups).i(groupSize).run(groups);
        } else if (op == ReduceOp.SUM && groups == 1) {
            cl.call("sum_all").buffer(x).buffer(out).i(x.size()).localFloats(reduceGroup)
                    .runGroups(reduceGroup, reduceGroup);  // one group: see reduce.cl
        } else {
            cl.call("group_sums").buffer(x).buffer(out).i(groupSize).i(op == ReduceOp.SUM_SQUARES ? 1 : 0)
                    .localFloats(reduceGroup).runGroups((long) groups * reduceGroup, reduceGroup);
        }
    }

    @Override public void uniform(Tensor out, float lo, float hi, long seed) {
        cl.call("uniform").buffer(out).f(lo).f(hi).l(seed).i(out.size()).run(out.size());
    }

    // ---- convolution (ClConvolutions) -------------------------------------------------------------

    @Override public void conv2d(Tensor input, Tensor weight, Tensor bias, Tensor output, int stride, int padding) {
        convolutions.forward(input, weight, bias, output, stride, padding);
    }

    @Override public void conv2dBackward(Tensor input, Tensor weight, Tensor outputGrad,
                                         Tensor inputGrad, Tensor weightGrad, Tensor biasGrad, int stride, int padding) {
        convolutions.backward(input, weight, outputGrad, inputGrad, weightGrad, biasGrad, stride, padding);
    }

    private cl_mem orDummy(Tensor t) { return t == null ? dummy : mem(t); }

    // ---- pooling --------------------------------------------------------------------------------

    @Override public void maxPool2d(Tensor input, Tensor output, int kernel, int stride) {
        PoolGeometry g = PoolGeometry.of("maxPool2d", input, output, kernel, stride);
        ClContext.Call call = cl.call(rowsKernels ? "max_pool_forward_rows" : "max_pool_forward").buffer(input).buffer(output)
                .i(g.planes).i(g.inH).i(g.inW).i(g.outH).i(g.outW).i(kernel).i(stride);
        if (rowsKernels) call.runRange((long) g.planes * g.outH);
        else call.run((long) g.planes * g.outH * g.outW);  // 1-D, explicit groups: see pool.cl
    }

    @Override public void maxPool2dBackward(Tensor input, Tensor outputGrad, Tensor inputGrad, int kernel, int stride) {
        PoolGeometry g = PoolGeometry.of("maxPool2dBackward", input, outputGrad, kernel, stride);
        Checks.sameShape("maxPool2dBackward inputGrad", input, inputGrad);
        boolean disjoint = stride >= kernel;  // each input in at most one window: one work item per window
        String name = !disjoint ? "max_pool_backward" : rowsKernels ? "max_pool_backward_windows_rows" : "max_pool_backward_windows";
        ClContext.Call call = cl.call(name).buffer(input).buffer(outputGrad).buffer(inputGrad)
                .i(g.planes).i(g.inH).i(g.inW).i(g.outH).i(g.outW).i(kernel).i(stride);
        if (disjoint && rowsKernels) call.runRange((long) g.planes * g.outH);
        else if (disjoint) call.run((long) g.planes * g.outH * g.outW);
        else call.run(inputGrad.size());
    }

    // ---- linear ---------------------------------------------------------------------------------

    /** C[M, N] (+)= A(m, k) B(k, n) (+ bias[n]) with A and B read through strides (linear.cl). */
    private void gemm(int m, int n, int k, Tensor a, int aRowStride, int aColStride, Tensor b, int bRowStride,
                      int bColStride, Tensor c, boolean accumulate, Tensor bias) {
        if (rowsKernels && bColStride == 1) {
            cl.call("gemm_rows").i(m).i(n).i(k).buffer(a).i(aRowStride).i(aColStride).buffer(b).i(bRowStride)
                    .buffer(c).i(accumulate ? 1 : 0).buffer(orDummy(bias)).i(bias == null ? 0 : 1)
                    .runRange((n + 31) / 32, (m + GEMM_ROWS_M - 1) / GEMM_ROWS_M);
            return;
        }
        if (rowsKernels && aColStride == 1 && aRowStride == k && bRowStride == 1 && bColStride == k && !accumulate) {
            cl.call("gemm_dot_rows").i(m).i(n).i(k).buffer(a).buffer(b).buffer(c).buffer(orDummy(bias)).i(bias == null ? 0 : 1)
                    .runRange((n + GEMM_DOT_N - 1) / GEMM_DOT_N, (m + GEMM_DOT_M - 1) / GEMM_DOT_M);
            return;
        }
        cl.call("gemm_tiled").i(m).i(n).i(k).buffer(a).i(aRowStride).i(aColStride).buffer(b).i(bRowStride).i(bColStride)
                .buffer(c).i(accumulate ? 1 : 0).buffer(orDummy(bias)).i(bias == null ? 0 : 1)
                .runGroups((n + GEMM_TILE_N - 1) / GEMM_TILE_N * GEMM_LOCAL[0], (m + GEMM_TILE_M - 1) / GEMM_TILE_M * GEMM_LOCAL[1],
                        GEMM_LOCAL[0], GEMM_LOCAL[1]);
    }

    @Override public void linear(Tensor input, Tensor weight, Tensor bias, Tensor output) {
        int batch = input.shape().dim(0), inF = input.shape().rowSize(), outF = weight.shape().dim(0);
        Checks.linear("linear", input, weight, output);
        if (bias != null && bias.size() != outF) throw new IllegalArgumentException("linear: bias " + bias.shape() + " for " + outF + " outputs");
        if (tiledGemm) {
            // y[n, o] = sum_i x[n, i] * w[o, i]: A = x, B(i, o) = w[o, i]
            gemm(batch, outF, inF, input, inF, 1, weight, 1, inF, output, false, bias);
        } else {
            cl.call("linear_forward").buffer(input).buffer(weight).buffer(orDummy(bias)).i(bias == null ? 0 : 1)
                    .buffer(output).i(batch).i(inF).i(outF).runRange(outF, batch);
        }
    }

    @Override public void linearBackward(Tensor input, Tensor weight, Tensor outputGrad,
                                         Tensor inputGrad, Tensor weightGrad, Tensor biasGrad) {
        int batch = input.shape().dim(0), inF = input.shape().rowSize(), outF = weight.shape().dim(0);
        Checks.linear("linearBackward", input, weight, outputGrad);
        if (inputGrad != null) {
            Checks.sameSize("linearBackward inputGrad", input, inputGrad);
            if (tiledGemm) {
                // dx[n, i] += sum_o dy[n, o] * w[o, i]
                gemm(batch, inF, outF, outputGrad, outF, 1, weight, inF, 1, inputGrad, true, null);
            } else {
                cl.call("linear_backward_input").buffer(outputGrad).buffer(weight).buffer(inputGrad)
                        .i(batch).i(inF).i(outF).runRange(inF, batch);
            }
        }
        if (weightGrad != null) {
            Checks.sameShape("linearBackward weightGrad", weight, weightGrad);
            if (tiledGemm) {
                // dw[o, i] += sum_n dy[n, o] * x[n, i]: A(o, n) = dy[n, o]
                gemm(outF, inF, batch, outputGrad, 1, outF, input, inF, 1, weightGrad, true, null);
            } else {
                cl.call("linear_backward_weight").buffer(outputGrad).buffer(input).buffer(weightGrad)
                        .i(batch).i(inF).i(outF).runRange(inF, outF);
            }
        }
        if (biasGrad != null) {
            if (biasGrad.size() != outF) throw new IllegalArgumentException("linearBackward: biasGrad " + biasGrad.shape() + " for " + outF + " outputs");
            cl.call("linear_backward_bias").buffer(outputGrad).buffer(biasGrad).i(batch).i(outF).run(outF);
        }
    }

    // ---- batch normalisation: sums one work group per channel, the rest one work item per element (batchnorm.cl) ------------------------------

    @Override public void batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps,
                                    boolean batchStats, Tensor out) {
        Checks.batchNorm("batchNorm", x, gamma, beta, mean, var, out);
        Shape s = x.shape();
        if (batchStats) {
            cl.call("batch_norm_statistics").buffer(x).buffer(mean).buffer(var).i(s.dim(0)).i(s.dim(1)).i(s.dim(2) * s.dim(3))
                    .localFloats(reduceGroup).runGroups((long) s.dim(1) * reduceGroup, reduceGroup);
        }
        cl.call("batch_norm_forward").buffer(x).buffer(orDummy(gamma)).i(gamma == null ? 0 : 1).buffer(orDummy(beta))
                .i(beta == null ? 0 : 1).buffer(mean).buffer(var).f(eps).buffer(out).i(s.dim(1)).i(s.dim(2) * s.dim(3))
                .i(x.size()).run(x.size());
    }

    @Override public void batchNormBackward(Tensor x, Tensor gamma, Tensor mean, Tensor var, float eps, boolean batchStats,
                                            Tensor outGrad, Tensor inputGrad, Tensor gammaGrad, Tensor betaGrad) {
        Checks.batchNorm("batchNormBackward", x, gamma, null, mean, var, outGrad);
        Checks.batchNorm("batchNormBackward", x, gammaGrad, betaGrad, mean, var, outGrad);
        if (inputGrad != null) Checks.sameShape("batchNormBackward inputGrad", x, inputGrad);
        if (inputGrad == null && gammaGrad == null && betaGrad == null) return;
        Shape s = x.shape();
        cl.call("batch_norm_backward").buffer(x).buffer(orDummy(gamma)).i(gamma == null ? 0 : 1).buffer(mean).buffer(var)
                .f(eps).i(batchStats ? 1 : 0).buffer(outGrad).buffer(orDummy(inputGrad)).i(inputGrad == null ? 0 : 1)
                .buffer(orDummy(gammaGrad)).i(gammaGrad == null ? 0 : 1).buffer(orDummy(betaGrad)).i(betaGrad == null ? 0 : 1)
                .i(s.dim(0)).i(s.dim(1)).i(s.dim(2) * s.dim(3)).localFloats(reduceGroup)
                .runGroups((long) s.dim(1) * reduceGroup, reduceGroup);
    }

    // ---- activations and loss -------------------------------------------------------------------

    @Override public void reluBackward(Tensor output, Tensor outputGrad, Tensor inputGrad) {
        Checks.sameSize("reluBackward", output, outputGrad, inputGrad);
        cl.call("relu_backward").buffer(output).buffer(outputGrad).buffer(inputGrad).i(output.size()).run(output.size());
    }

    @Override public void logSoftmax(Tensor input, Tensor output) {
        Checks.sameSize("logSoftmax", input, output);
        int rows = input.shape().dim(0), cols = input.shape().rowSize();
        cl.call("log_softmax").buffer(input).buffer(output).i(rows).i(cols).run(rows);
    }

    @Override public void logSoftmaxBackward(Tensor output, Tensor outputGrad, Tensor inputGrad) {
        Checks.sameSize("logSoftmaxBackward", output, outputGrad, inputGrad);
        int rows = output.shape().dim(0), cols = output.shape().rowSize();
        cl.call("log_softmax_backward").buffer(output).buffer(outputGrad).buffer(inputGrad).i(rows).i(cols).run(rows);
    }

    /** A label that is not a class index gives a NaN loss (checking it on the host would need a copy). */
    @Override public void nllLoss(Tensor logProbs, Tensor labels, Tensor losses) {
        int rows = logProbs.shape().dim(0), cols = logProbs.shape().rowSize();
        Checks.labels("nllLoss", logProbs, labels);
        cl.call("nll_loss").buffer(logProbs).buffer(labels).buffer(losses).i(rows).i(cols).run(rows);
    }

    @Override public void nllLossBackward(Tensor labels, Tensor lossesGrad, Tensor logProbsGrad) {
        int rows = logProbsGrad.shape().dim(0), cols = logProbsGrad.shape().rowSize();
        Checks.labels("nllLossBackward", logProbsGrad, labels);
        cl.call("nll_loss_backward").buffer(labels).buffer(lossesGrad).buffer(logProbsGrad).i(rows).i(cols).run(rows);
    }

    // ---- optimiser ------------------------------------------------------------------------------

    @Override public void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay) {
        Checks.sameSize("sgdStep", param, grad, velocity);
        cl.call("sgd_step").buffer(param).buffer(grad).buffer(velocity).f(lr).f(momentum).f(weightDecay).i(param.size())
                .run(param.size());
    }

    @Override public void synchronize() { cl.finish(); }

    /** Waits for the queue and frees this backend's own buffers (staging, scratch); the shared context stays for other backends. */
    @Override public void close() {
        if (closed) return;
        closed = true;
        synchronize();
        transfers.close();
        convolutions.close();
        clReleaseMemObject(dummy);
    }
}
