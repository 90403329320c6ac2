package advtrain.backend.opencl;

import advtrain.backend.Checks;
import advtrain.backend.ConvGeometry;
import advtrain.tensor.Tensor;
import org.jocl.Sizeof;
import org.jocl.cl_mem;

import static advtrain.backend.opencl.OpenClBackend.*;
import static org.jocl.CL.clReleaseMemObject;

/**
 * The OpenCL backend's convolutions, forward and backward (conv.cl): which version of the kernels
 * runs (rows, tiled or plain, {@link OpenClBackend.Kernels}), how each launch is sized, and the
 * scratch buffers of the backward pass, kept and reused so that steady steps allocate nothing.
 */
final class ClConvolutions {
    private final ClContext cl;
    private final boolean rowsKernels, tiledConv;
    private final int reduceGroup;         // work items of one reduction work group: a power of two
    private final int convGroup;           // work items of one tiled conv work group: a power of two
    private final int localFloats;         // local memory a tiled conv kernel may ask for, in floats
    private final long weightGradMultiple; // the device's preferred work-group multiple for the weight-gradient kernel
    private final cl_mem dummy;            // bound where a kernel's optional buffer (a bias) is absent
    // scratch buffers of the backward pass: 0 the per-chunk weight gradients (tiled and rows), 1 the
    // output gradient in wide planes and 2 its per-plane sums (rows)
    private final cl_mem[] scratch = new cl_mem[3];
    private final long[] scratchFloats = new long[3];

    ClConvolutions(ClContext cl, OpenClBackend.Kernels kernels, cl_mem dummy, int reduceGroup) {
        this.cl = cl;
        this.dummy = dummy;
        this.reduceGroup = reduceGroup;
        this.convGroup = (int) Math.min(64, Math.min(cl.groupSize("conv2d_forward_tiled"),
                Math.min(cl.groupSize("conv2d_backward_input_tiled"), cl.groupSize("conv2d_backward_weight_tiled"))));
        // Half the device's local memory at most (the rest for the runtime), and no more than 32 KiB.
        this.localFloats = (int) Math.min(8192, cl.device.localMemoryBytes() / 2 / Sizeof.cl_float);
        this.rowsKernels = kernels == OpenClBackend.Kernels.ROWS;
        this.tiledConv = kernels != OpenClBackend.Kernels.PLAIN && convGroup >= 8;
        this.weightGradMultiple = cl.preferredMultiple("conv2d_backward_weight_tiled");
    }

    /** Whether the tiled kernels run where the rows ones do not (the device can take their work groups). */
    boolean tiled() { return tiledConv; }

    /** Adds the eleven sizes every conv kernel takes (CONV_SIZES in conv.cl). */
    private static ClContext.Call sizes(ClContext.Call call, ConvGeometry g) {
        return call.i(g.batch).i(g.inChannels).i(g.inH).i(g.inW).i(g.outChannels).i(g.kernelH).i(g.kernelW)
                .i(g.outH).i(g.outW).i(g.stride).i(g.padding);
    }

    private cl_mem orDummy(Tensor t) { return t == null ? dummy : OpenClBackend.mem(t); }

    /** {@link advtrain.backend.Backend#conv2d}. */
    void forward(Tensor input, Tensor weight, Tensor bias, Tensor output, int stride, int padding) {
        ConvGeometry g = ConvGeometry.of("conv2d", input, weight, output, stride, padding);
        if (bias != null && bias.size() != g.outChannels) throw new IllegalArgumentException("conv2d: bias " + bias.shape() + " for " + g.outChannels + " channels");
        int taps = g.kernelH * g.kernelW;
        int channelsPerSlice = Math.min(g.inChannels, localFloats / (CONV_KB * taps));
        if (rows(g)) {
            long chunks = ((long) (g.outH - 1) * g.inW + g.outW + ROWS_CHUNK - 1) / ROWS_CHUNK;  // of the wide output
            sizes(cl.call("conv2d_forward_rows").buffer(input).buffer(weight).buffer(orDummy(bias)).i(bias == null ? 0 : 1)
                    .buffer(output), g)
                    .runRange(g.batch * chunks, (g.outChannels + ROWS_KB - 1) / ROWS_KB);
        } else if (tiledConv && channelsPerSlice >= 1) {
            long strips = (long) g.batch * g.outH * ((g.outW + STRIP - 1) / STRIP);
            sizes(cl.call("conv2d_forward_tiled").buffer(input).buffer(weight).buffer(orDummy(bias)).i(bias == null ? 0 : 1)
                    .buffer(output), g).localFloats(CONV_KB * channelsPerSlice * taps).i(channelsPerSlice)
                    .runGroups(ClContext.roundUp(strips, convGroup), (g.outChannels + CONV_KB - 1) / CONV_KB, convGroup, 1);
        } else {
            sizes(cl.call("conv2d_forward_plain").buffer(input).buffer(weight).buffer(orDummy(bias)).i(bias == null ? 0 : 1)
                    .buffer(output), g).run(output.size());
        }
    }

    /** {@link advtrain.backend.Backend#conv2dBackward}. */
    void backward(Tensor input, Tensor weight, Tensor outputGrad,
                  Tensor inputGrad, Tensor weightGrad, Tensor biasGrad, int stride, int padding) {
        ConvGeometry g = ConvGeometry.of("conv2dBackward", input, weight, outputGrad, stride, padding);
        if (rows(g) && (inputGrad != null || weightGrad != null)) {
            convBackwardRows(input, weight, outputGrad, inputGrad, weightGrad, biasGrad, g);
            return;
        }
        if (inputGrad != null) {
            Checks.sameShape("conv2dBackward inputGrad", input, inputGrad);
            int taps = g.kernelH * g.kernelW;
            int channelsPerSlice = Math.min(g.outChannels, localFloats / (CONV_CB * taps));
            if (tiledConv && channelsPerSlice >= 1) {
                long strips = (long) g.batch * g.inH * ((g.inW + STRIP - 1) / STRIP);
                sizes(cl.call("conv2d_backward_input_tiled").buffer(weight).buffer(outputGrad).buffer(inputGrad), g)
                        .localFloats(CONV_CB * channelsPerSlice * taps).i(channelsPerSlice)
                        .runGroups(ClContext.roundUp(strips, convGroup), (g.inChannels + CONV_CB - 1) / CONV_CB, convGroup, 1);
            } else {
                sizes(cl.call("conv2d_backward_input_plain").buffer(weight).buffer(outputGrad).buffer(inputGrad), g)
                        .run(inputGrad.size());
            }
        }
        if (weightGrad != null) {
            Checks.sameShape("conv2dBackward weightGrad", weight, weightGrad);
            if (tiledConv && CONV_KB * roundUpInt(g.outW, STRIP) <= localFloats) {
                convWeightGradTiled(input, outputGrad, weightGrad, g);
            } else {
                sizes(cl.call("conv2d_backward_weight_plain").buffer(input).buffer(outputGrad).buffer(weightGrad), g)
                        .run(weightGrad.size());
            }
        }
        if (biasGrad != null) {
            if (biasGrad.size() != g.outChannels) throw new IllegalArgumentException("conv2dBackward: biasGrad " + biasGrad.shape() + " for " + g.outChannels + " channels");
            cl.call("conv2d_backward_bias").buffer(outputGrad).buffer(biasGrad).i(g.batch).i(g.outChannels)
                    .i(g.outH * g.outW).localFloats(reduceGroup)
                    .runGroups((long) g.outChannels * reduceGroup, reduceGroup);
        }
    }

    private static int roundUpInt(int n, int step) { return (n + step - 1) / step * step; }

    /** Whether the rows kernels take this convolution: they are written for stride 1 without padding. */
    private boolean rows(ConvGeometry g) { return rowsKernels && g.stride == 1 && g.padding == 0; }

    /**
     * The rows version of the input and weight gradients: the output gradient is laid out once in
     * the padded wide planes both kernels read (scratch 1), then each gradient is one launch. The
     * weight gradient is split into chunks of images as in {@link #convWeightGradTiled}, enough work
     * items for every compute unit, and the chunks are added in order (reproducible sums).
     */
    private void convBackwardRows(Tensor input, Tensor weight, Tensor outputGrad, Tensor inputGrad, Tensor weightGrad,
                                  Tensor biasGrad, ConvGeometry g) {
        int plane = g.inH * g.inW, lead = (g.kernelH - 1) * g.inW + g.kernelW - 1;
        int gradPlane = lead + roundUpInt(plane, ROWS_CHUNK);
        cl_mem wide = scratch(1, (long) g.batch * g.outChannels * gradPlane);
        cl_mem planeSums = scratch(2, (long) g.batch * g.outChannels);
        sizes(cl.call("conv2d_grad_wide").buffer(outputGrad).buffer(wide).i(gradPlane).buffer(planeSums), g)
                .runRange((long) g.batch * g.outChannels);
        if (biasGrad != null) {
            if (biasGrad.size() != g.outChannels) throw new IllegalArgumentException("conv2dBackward: biasGrad " + biasGrad.shape() + " for " + g.outChannels + " channels");
            cl.call("conv2d_bias_from_sums").buffer(planeSums).buffer(biasGrad).i(g.batch).i(g.outChannels)
                    .runRange(g.outChannels);
        }
        if (inputGrad != null) {
            Checks.sameShape("conv2dBackward inputGrad", input, inputGrad);
            long chunks = (plane + ROWS_CHUNK - 1) / ROWS_CHUNK;
            sizes(cl.call("conv2d_backward_input_rows").buffer(weight).buffer(wide).i(gradPlane).buffer(inputGrad), g)
                    .runRange(g.batch * chunks, (g.inChannels + ROWS_CB - 1) / ROWS_CB);
        }
        if (weightGrad != null) {
            Checks.sameShape("conv2dBackward weightGrad", weight, weightGrad);
            int tapBlocks = (g.inChannels * g.kernelH * g.kernelW + ROWS_WQ - 1) / ROWS_WQ;
            int channelBlocks = (g.outChannels + ROWS_WK - 1) / ROWS_WK;
            long wantedItems = 32L * Math.max(1, cl.device.computeUnits());
            int chunks = (int) Math.max(1, Math.min(g.batch, (wantedItems + (long) tapBlocks * channelBlocks - 1) / ((long) tapBlocks * channelBlocks)));
            int chunkImages = (g.batch + chunks - 1) / chunks;
            chunks = (g.batch + chunkImages - 1) / chunkImages;
            cl_mem partials = scratch(0, (long) chunks * weightGrad.size());
            sizes(cl.call("conv2d_backward_weight_rows").buffer(input).buffer(wide).i(gradPlane).buffer(partials).i(chunkImages), g)
                    .runRange(tapBlocks, channelBlocks, chunks);
            cl.call("conv2d_weight_grad_sum_chunks").buffer(partials).buffer(weightGrad).i(chunks).i(weightGrad.size())
                    .run(weightGrad.size());
        }
    }

    /**
     * The weight gradient sums over the whole batch. The batch is split into chunks of images so that
     * the device has enough work groups to fill its compute units; the chunk count depends only on
     * the shapes and the device, and the chunks are added in order, so the result is reproducible.
     */
    private void convWeightGradTiled(Tensor input, Tensor outputGrad, Tensor weightGrad, ConvGeometry g) {
        int taps = g.inChannels * g.kernelH * g.kernelW;
        int tapGroups = (taps + convGroup - 1) / convGroup;
        int multiple = (int) Math.min(convGroup, weightGradMultiple);  // whole SIMD groups / warps
        int local = Math.min(convGroup, roundUpInt((taps + tapGroups - 1) / tapGroups, multiple));
        tapGroups = (taps + local - 1) / local;
        int channelBlocks = (g.outChannels + CONV_KB - 1) / CONV_KB;
        long wantedGroups = 4L * Math.max(1, cl.device.computeUnits());
        int chunks = (int) Math.max(1, Math.min(g.batch, (wantedGroups + tapGroups * channelBlocks - 1) / (tapGroups * channelBlocks)));
        int chunkImages = (g.batch + chunks - 1) / chunks;
        chunks = (g.batch + chunkImages - 1) / chunkImages;
        cl_mem partials = scratch(0, (long) chunks * weightGrad.size());
        int rowFloats = CONV_KB * roundUpInt(g.outW, STRIP);
        int rowsPerStage = Math.max(1, Math.min(g.outH, localFloats / rowFloats));
        sizes(cl.call("conv2d_backward_weight_tiled").buffer(input).buffer(outputGrad).buffer(partials).i(chunkImages), g)
                .localFloats(rowFloats * rowsPerStage).i(rowsPerStage)
                .runGroups((long) tapGroups * local, channelBlocks, chunks, local, 1, 1);
        cl.call("conv2d_weight_grad_sum_chunks").buffer(partials).buffer(weightGrad).i(chunks).i(weightGrad.size())
                .run(weightGrad.size());
    }

    /** Scratch buffer number slot, grown to at least this many floats (reused: steady steps allocate nothing). */
    private cl_mem scratch(int slot, long floats) {
        if (scratch[slot] == null || scratchFloats[slot] < floats) {
            if (scratch[slot] != null) clReleaseMemObject(scratch[slot]);
            scratch[slot] = cl.allocate(floats * Sizeof.cl_float);
            scratchFloats[slot] = floats;
        }
        return scratch[slot];
    }

    /** Frees the scratch buffers. */
    void close() {
        for (int i = 0; i < scratch.length; i++) {
            if (scratch[i] != null) clReleaseMemObject(scratch[i]);
            scratch[i] = null;
        }
    }
}
