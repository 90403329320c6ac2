// 2-D convolution (cross-correlation, as PyTorch), forward and backward.
// input [batch, inChannels, inH, inW], weight [outChannels, inChannels, kernelH, kernelW],
// output [batch, outChannels, outH, outW]; stride and zero padding on both axes.
// Output pixel (oy, ox) sees input rows oy * stride - padding + r and columns ox * stride - padding + s.
//
// PLAIN kernels: one work item per element it writes, a loop over everything that element sums.
// - conv2d_forward_plain:         item (n, k, oy, ox), flat in NCHW order; reads the C x R x S
//                                 input window under (oy, ox) and filter k.
// - conv2d_backward_input_plain:  item (n, c, iy, ix); reads every (k, r, s) whose output pixel
//                                 saw (iy, ix), and adds into inputGrad (a gather: no races).
// - conv2d_backward_weight_plain: item (k, c, r, s); sums input * outputGrad over the whole batch.
// - conv2d_backward_bias:         one work group per output channel k; a fixed-order tree sum of
//                                 outputGrad over the batch and the pixels (shared by both versions).
//
// TILED kernels: local memory for what a work group shares, registers for what a work item reuses,
// and explicit float8 vectors. A "strip" is 8 neighbouring pixels of one row; a work item computes
// whole strips (one float8 per channel it owns), so its arithmetic is 8-wide SIMD on a CPU, and on
// a GPU it is register blocking (each value loaded serves 8 pixels or several channels).
// - conv2d_forward_tiled: work item = one output strip (n, oy, ox0 .. ox0+7), for CONV_KB output
//   channels (dimension 1 of the grid picks the block of channels). Its work group first copies the
//   block's filters (CONV_KB x a slice of input channels x R x S) into local memory; then for every
//   tap it loads the 8 input values under its strip once and multiplies them into CONV_KB
//   accumulators (CONV_KB multiply-adds of 8 lanes per load).
// - conv2d_backward_input_tiled: the same shape turned around, a gather: work item = one strip of
//   the input gradient (n, iy, ix0 .. ix0+7) for CONV_CB input channels; for every (k, r, s) it loads
//   the 8 output gradients that reached its strip through tap (r, s), multiplies them by the filter
//   values (from local memory) and adds the sums into inputGrad. No two work items write the same element.
// - conv2d_backward_weight_tiled: work item = one filter tap (c, r, s) for CONV_KB output channels,
//   over a chunk of the batch's images (dimension 2 of the grid). For each image of its chunk, the
//   work group copies as many rows of the CONV_KB output-gradient planes as local memory holds (the
//   whole plane for the seed's layers; zero-padded to whole strips); then every work item multiplies
//   them, strip by strip, with the input rows its tap saw. Each chunk writes its partial sums, and
//   conv2d_weight_grad_sum_chunks adds the chunks in a fixed order: no atomics, so the gradient is
//   the same on every run.
//
// ROWS kernels (CPU devices, stride 1 without padding) are in conv_rows.cl: no local memory, no
// barriers, each work item a register tile of float16 vectors over contiguous "wide" rows, the
// scheme of the Java backend's direct convolution.
//
// Why per-slice sums: a value that lives across a barrier is kept in memory by CPU runtimes such as
// PoCL (one copy per work item); the sum of one slice lives between two barriers only, so it stays
// in registers, and the accumulator across slices is touched once per slice.

// The sizes every kernel takes, in this order.
#define CONV_SIZES const int batch, const int inChannels, const int inH, const int inW, \
                   const int outChannels, const int kernelH, const int kernelW, \
                   const int outH, const int outW, const int stride, const int padding

// ---- plain -------------------------------------------------------------------------------------

__kernel void conv2d_forward_plain(__global const float* input, __global const float* weight,
                                   __global const float* bias, const int hasBias, __global float* output,
                                   CONV_SIZES) {
    int i = get_global_id(0);
    if (i >= batch * outChannels * outH * outW) return;
    int ox = i % outW, oy = (i / outW) % outH, k = (i / (outW * outH)) % outChannels;
    int n = i / (outW * outH * outChannels);
    float acc = hasBias ? bias[k] : 0.0f;
    for (int c = 0; c < inChannels; c++) {
        __global const float* plane = input + ((long) n * inChannels + c) * inH * inW;
        __global const float* filter = weight + ((long) k * inChannels + c) * kernelH * kernelW;
        for (int r = 0; r < kernelH; r++) {
            int iy = oy * stride - padding + r;
            if (iy < 0 || iy >= inH) continue;
            for (int s = 0; s < kernelW; s++) {
                int ix = ox * stride - padding + s;
                if (ix >= 0 && ix < inW) acc += filter[r * kernelW + s] * plane[iy * inW + ix];
            }
        }
    }
    output[i] = acc;
}

__kernel void conv2d_backward_input_plain(__global const float* weight, __global const float* outputGrad,
                                          __global float* inputGrad, CONV_SIZES) {
    int i = get_global_id(0);
    if (i >= batch * inChannels * inH * inW) return;
    int ix = i % inW, iy = (i / inW) % inH, c = (i / (inW * inH)) % inChannels;
    int n = i / (inW * inH * inChannels);
    float acc = inputGrad[i];
    for (int k = 0; k < outChannels; k++) {
        __global const float* gradPlane = outputGrad + ((long) n * outChannels + k) * outH * outW;
        __global const float* filter = weight + ((long) k * inChannels + c) * kernelH * kernelW;
        for (int r = 0; r < kernelH; r++) {
            int oyTimesStride = iy + padding - r;  // the output row whose tap r landed on iy
            if (oyTimesStride < 0 || oyTimesStride % stride != 0 || oyTimesStride / stride >= outH) continue;
            int oy = oyTimesStride / stride;
            for (int s = 0; s < kernelW; s++) {
                int oxTimesStride = ix + padding - s;
                if (oxTimesStride < 0 || oxTimesStride % stride != 0 || oxTimesStride / stride >= outW) continue;
                acc += filter[r * kernelW + s] * gradPlane[oy * outW + oxTimesStride / stride];
            }
        }
    }
    inputGrad[i] = acc;
}

__kernel void conv2d_backward_weight_plain(__global const float* input, __global const float* outputGrad,
                                           __global float* weightGrad, CONV_SIZES) {
    int i = get_global_id(0);
    if (i >= outChannels * inChannels * kernelH * kernelW) return;
    int s = i % kernelW, r = (i / kernelW) % kernelH, c = (i / (kernelW * kernelH)) % inChannels;
    int k = i / (kernelW * kernelH * inChannels);
    float acc = 0.0f;
    for (int n = 0; n < batch; n++) {
        __global const float* plane = input + ((long) n * inChannels + c) * inH * inW;
        __global const float* gradPlane = outputGrad + ((long) n * outChannels + k) * outH * outW;
        for (int oy = 0; oy < outH; oy++) {
            int iy = oy * stride - padding + r;
            if (iy < 0 || iy >= inH) continue;
            for (int ox = 0; ox < outW; ox++) {
                int ix = ox * stride - padding + s;
                if (ix >= 0 && ix < inW) acc += plane[iy * inW + ix] * gradPlane[oy * outW + ox];
            }
        }
    }
    weightGrad[i] += acc;
}

// biasGrad[k] += sum over n and pixels of outputGrad[n, k, pixel]; one work group per k, a power-of-two
// number of work items, scratch holds one float per work item.
__kernel void conv2d_backward_bias(__global const float* outputGrad, __global float* biasGrad,
                                   const int batch, const int outChannels, const int pixels,
                                   __local float* scratch) {
    int k = get_group_id(0), t = get_local_id(0), groupSize = get_local_size(0);
    float mine = 0.0f;
    for (int n = 0; n < batch; n++) {
        __global const float* plane = outputGrad + ((long) n * outChannels + k) * pixels;
        for (int pixel = t; pixel < pixels; pixel += groupSize) mine += plane[pixel];
    }
    scratch[t] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = groupSize / 2; width > 0; width /= 2) {
        if (t < width) scratch[t] += scratch[t + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) biasGrad[k] += scratch[0];
}

// ---- tiled ---------------------------------------------------------------------------------------

#ifndef CONV_KB
#define CONV_KB 8   // output channels per work item (forward, backward weight)
#endif
#ifndef CONV_CB
#define CONV_CB 4   // input channels per work item (backward input)
#endif

// The 8 values of an image plane under a strip: lane j is (row iy, column xFirst + j * step), zero
// outside the plane (padding). The common case, a strip fully inside with step 1, is one vector
// load; near the edges each lane reads a clamped (always valid) address and lanes outside are zeroed,
// without branches.
static inline float8 plane_strip(__global const float* plane, int height, int width, int iy, int xFirst, int step) {
    if (iy < 0 || iy >= height) return (float8)(0.0f);
    __global const float* row = plane + iy * width;
    if (step == 1 && xFirst >= 0 && xFirst + 7 < width) return vload8(0, row + xFirst);
    int8 x = (int8)(xFirst) + (int8)(0, 1, 2, 3, 4, 5, 6, 7) * step;
    int8 safe = clamp(x, 0, width - 1);
    float8 v = (float8)(row[safe.s0], row[safe.s1], row[safe.s2], row[safe.s3],
                        row[safe.s4], row[safe.s5], row[safe.s6], row[safe.s7]);
    return select((float8)(0.0f), v, (x >= 0) & (x < width));
}

// Writes (or adds, when accumulate) the lanes of a strip that fall inside a row of this width.
static inline void store_strip(__global float* row, int xFirst, int width, float8 value, int accumulate) {
    if (xFirst + 7 < width) {
        if (accumulate) value += vload8(0, row + xFirst);
        vstore8(value, 0, row + xFirst);
        return;
    }
    float lanes[8];
    vstore8(value, 0, lanes);
    for (int j = 0; xFirst + j < width; j++) row[xFirst + j] = accumulate ? row[xFirst + j] + lanes[j] : lanes[j];
}

// Work items along dimension 0: strips (n, oy, strip of the row), any work-group size.
// Dimension 1: blocks of CONV_KB output channels. weightTile: CONV_KB * channelsPerSlice * R * S floats.
__kernel void conv2d_forward_tiled(__global const float* input, __global const float* weight,
                                   __global const float* bias, const int hasBias, __global float* output,
                                   CONV_SIZES, __local float* weightTile, const int channelsPerSlice) {
    const int stripsPerRow = (outW + 7) / 8, strips = batch * outH * stripsPerRow;
    const int strip = get_global_id(0), k0 = get_group_id(1) * CONV_KB, taps = kernelH * kernelW;
    const bool active = strip < strips;  // padding work items still help copy and reach the barriers
    const int mine = active ? strip : 0;
    const int ox0 = (mine % stripsPerRow) * 8, oy = (mine / stripsPerRow) % outH, n = mine / (stripsPerRow * outH);

    float8 acc[CONV_KB];
    for (int i = 0; i < CONV_KB; i++) acc[i] = (float8)(0.0f);

    for (int c0 = 0; c0 < inChannels; c0 += channelsPerSlice) {
        const int sliceChannels = min(channelsPerSlice, inChannels - c0), sliceSize = sliceChannels * taps;
        barrier(CLK_LOCAL_MEM_FENCE);  // everyone is done with the previous slice
        // weightTile[i][c][r][s] = weight[k0 + i][c0 + c][r][s]: for each i one contiguous run of the filter
        for (int i = 0; i < CONV_KB; i++) {
            int k = min(k0 + i, outChannels - 1);  // channels past the end: any filter, never stored
            __global const float* from = weight + ((long) k * inChannels + c0) * taps;
            for (int e = get_local_id(0); e < sliceSize; e += get_local_size(0)) weightTile[i * sliceSize + e] = from[e];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        float8 sum[CONV_KB];  // this slice's sums, in registers (acc lives across the barriers, sum does not)
        #pragma unroll
        for (int i = 0; i < CONV_KB; i++) sum[i] = (float8)(0.0f);
        for (int c = 0; c < sliceChannels; c++) {
            __global const float* plane = input + ((long) n * inChannels + c0 + c) * inH * inW;
            for (int r = 0; r < kernelH; r++) {
                for (int s = 0; s < kernelW; s++) {
                    float8 x = plane_strip(plane, inH, inW, oy * stride - padding + r, ox0 * stride - padding + s, stride);
                    __local const float* w = weightTile + c * taps + r * kernelW + s;
                    #pragma unroll
                    for (int i = 0; i < CONV_KB; i++) sum[i] += w[i * sliceSize] * x;
                }
            }
        }
        #pragma unroll
        for (int i = 0; i < CONV_KB; i++) acc[i] += sum[i];
    }
    if (!active) return;
    for (int i = 0; i < CONV_KB && k0 + i < outChannels; i++) {
        __global float* row = output + (((long) n * outChannels + k0 + i) * outH + oy) * outW;
        store_strip(row, ox0, outW, acc[i] + (hasBias ? bias[k0 + i] : 0.0f), 0);
    }
}

// Work items along dimension 0: strips of the input gradient (n, iy, strip); dimension 1: blocks of
// CONV_CB input channels. weightTile: channelsPerSlice * CONV_CB * R * S floats, a slice of OUTPUT channels.
__kernel void conv2d_backward_input_tiled(__global const float* weight, __global const float* outputGrad,
                                          __global float* inputGrad, CONV_SIZES,
                                          __local float* weightTile, const int channelsPerSlice) {
    const int stripsPerRow = (inW + 7) / 8, strips = batch * inH * stripsPerRow;
    const int strip = get_global_id(0), c0 = get_group_id(1) * CONV_CB, taps = kernelH * kernelW;
    const bool active = strip < strips;
    const int mine = active ? strip : 0;
    const int ix0 = (mine % stripsPerRow) * 8, iy = (mine / stripsPerRow) % inH, n = mine / (stripsPerRow * inH);

    float8 acc[CONV_CB];
    for (int i = 0; i < CONV_CB; i++) acc[i] = (float8)(0.0f);

    for (int k0 = 0; k0 < outChannels; k0 += channelsPerSlice) {
        const int sliceChannels = min(channelsPerSlice, outChannels - k0), sliceSize = sliceChannels * taps;
        barrier(CLK_LOCAL_MEM_FENCE);
        // weightTile[k][i][r][s] = weight[k0 + k][c0 + i][r][s]: for each k one contiguous run of CONV_CB filters
        for (int k = 0; k < sliceChannels; k++) {
            __global const float* from = weight + ((long) (k0 + k) * inChannels + c0) * taps;
            int available = (inChannels - c0) * taps;  // filters past the last input channel: zeros
            for (int e = get_local_id(0); e < CONV_CB * taps; e += get_local_size(0)) {
                weightTile[k * CONV_CB * taps + e] = e < available ? from[e] : 0.0f;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        float8 sum[CONV_CB];  // this slice's sums, in registers (acc lives across the barriers, sum does not)
        #pragma unroll
        for (int i = 0; i < CONV_CB; i++) sum[i] = (float8)(0.0f);
        for (int k = 0; k < sliceChannels; k++) {
            __global const float* gradPlane = outputGrad + ((long) n * outChannels + k0 + k) * outH * outW;
            for (int r = 0; r < kernelH; r++) {
                // Output row oy saw input row iy through tap r when oy * stride - padding + r == iy.
                int oyTimesStride = iy + padding - r;
                if (oyTimesStride < 0 || oyTimesStride % stride != 0 || oyTimesStride / stride >= outH) continue;
                for (int s = 0; s < kernelW; s++) {
                    float8 g;
                    if (stride == 1) {
                        g = plane_strip(gradPlane, outH, outW, oyTimesStride, ix0 + padding - s, 1);
                    } else if (stride == 2) {
                        // Lane j's output column times 2 is t = base + j: only the lanes where t is even are
                        // reached, every other lane from j0 = base & 1, by 4 consecutive output columns from
                        // ox0 = (base + j0) / 2 (exact). Scalar loads, no vector division (slow on CPU devices).
                        int base = ix0 + padding - s, j0 = base & 1, ox0 = (base + j0) / 2;
                        __global const float* row = gradPlane + (oyTimesStride / 2) * outW;
                        float v0 = ox0 >= 0 && ox0 < outW ? row[ox0] : 0.0f;
                        float v1 = ox0 + 1 >= 0 && ox0 + 1 < outW ? row[ox0 + 1] : 0.0f;
                        float v2 = ox0 + 2 >= 0 && ox0 + 2 < outW ? row[ox0 + 2] : 0.0f;
                        float v3 = ox0 + 3 >= 0 && ox0 + 3 < outW ? row[ox0 + 3] : 0.0f;
                        g = j0 == 0 ? (float8)(v0, 0.0f, v1, 0.0f, v2, 0.0f, v3, 0.0f)
                                    : (float8)(0.0f, v0, 0.0f, v1, 0.0f, v2, 0.0f, v3);
                    } else {  // lane j: output column (ix0 + j + padding - s) / stride, when that divides exactly
                        int8 oxTimesStride = (int8)(ix0 + padding - s) + (int8)(0, 1, 2, 3, 4, 5, 6, 7);
                        int8 ox = oxTimesStride / stride;
                        int8 hit = (oxTimesStride >= 0) & (ox * stride == oxTimesStride) & (ox < outW);
                        int8 safe = clamp(ox, 0, outW - 1);
                        __global const float* row = gradPlane + (oyTimesStride / stride) * outW;
                        g = select((float8)(0.0f), (float8)(row[safe.s0], row[safe.s1], row[safe.s2], row[safe.s3],
                                                             row[safe.s4], row[safe.s5], row[safe.s6], row[safe.s7]), hit);
                    }
                    __local const float* w = weightTile + k * CONV_CB * taps + r * kernelW + s;
                    #pragma unroll
                    for (int i = 0; i < CONV_CB; i++) sum[i] += w[i * taps] * g;
                }
            }
        }
        #pragma unroll
        for (int i = 0; i < CONV_CB; i++) acc[i] += sum[i];
    }
    if (!active) return;
    for (int i = 0; i < CONV_CB && c0 + i < inChannels; i++) {
        __global float* row = inputGrad + (((long) n * inChannels + c0 + i) * inH + iy) * inW;
        store_strip(row, ix0, inW, acc[i], 1);
    }
}

// partials[chunk][k][q] = the part of dW[k][q] from the images of this chunk (chunkImages of them).
// Work items along dimension 0: filter taps q = (c, r, s); dimension 1: blocks of CONV_KB output
// channels; dimension 2: chunks of images. gradRows: CONV_KB * rowsPerStage * (outW rounded up to 8) floats.
__kernel void conv2d_backward_weight_tiled(__global const float* input, __global const float* outputGrad,
                                           __global float* partials, const int chunkImages, CONV_SIZES,
                                           __local float* gradRows, const int rowsPerStage) {
    const int taps = inChannels * kernelH * kernelW, stripsPerRow = (outW + 7) / 8, paddedW = stripsPerRow * 8;
    const int q = get_global_id(0), k0 = get_group_id(1) * CONV_KB, chunk = get_group_id(2);
    const bool active = q < taps;
    const int tap = active ? q : 0;
    const int c = tap / (kernelH * kernelW), r = (tap / kernelW) % kernelH, s = tap % kernelW;
    const int nFirst = chunk * chunkImages, nEnd = min(batch, nFirst + chunkImages);
    const int stageSize = rowsPerStage * paddedW;

    float8 acc[CONV_KB];
    for (int i = 0; i < CONV_KB; i++) acc[i] = (float8)(0.0f);

    for (int n = nFirst; n < nEnd; n++) {
        __global const float* plane = input + ((long) n * inChannels + c) * inH * inW;
        for (int oyFirst = 0; oyFirst < outH; oyFirst += rowsPerStage) {
            const int rows = min(rowsPerStage, outH - oyFirst);
            barrier(CLK_LOCAL_MEM_FENCE);
            // gradRows[i][row][x] = outputGrad[n][k0 + i][oyFirst + row][x], zero past the row's end and the last channel
            for (int i = 0; i < CONV_KB; i++) {
                __global const float* from = outputGrad + (((long) n * outChannels + min(k0 + i, outChannels - 1)) * outH + oyFirst) * outW;
                for (int row = 0; row < rowsPerStage; row++) {
                    for (int x = get_local_id(0); x < paddedW; x += get_local_size(0)) {
                        bool inside = x < outW && row < rows && k0 + i < outChannels;
                        gradRows[(i * rowsPerStage + row) * paddedW + x] = inside ? from[row * outW + x] : 0.0f;
                    }
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            float8 sum[CONV_KB];  // this stage's sums, in registers (acc lives across the barriers, sum does not)
            #pragma unroll
            for (int i = 0; i < CONV_KB; i++) sum[i] = (float8)(0.0f);
            for (int row = 0; row < rows; row++) {
                int iy = (oyFirst + row) * stride - padding + r;
                if (iy < 0 || iy >= inH) continue;
                for (int strip = 0; strip < stripsPerRow; strip++) {
                    float8 x = plane_strip(plane, inH, inW, iy, strip * 8 * stride - padding + s, stride);
                    __local const float* grads = gradRows + row * paddedW + strip * 8;
                    #pragma unroll
                    for (int i = 0; i < CONV_KB; i++) sum[i] += vload8(0, grads + i * stageSize) * x;
                }
            }
            #pragma unroll
            for (int i = 0; i < CONV_KB; i++) acc[i] += sum[i];
        }
    }
    if (!active) return;
    for (int i = 0; i < CONV_KB && k0 + i < outChannels; i++) {
        float8 a = acc[i];  // the 8 lanes added in a fixed order
        float total = ((a.s0 + a.s1) + (a.s2 + a.s3)) + ((a.s4 + a.s5) + (a.s6 + a.s7));
        partials[((long) chunk * outChannels + k0 + i) * taps + tap] = total;
    }
}

// weightGrad[e] += partials[0][e] + partials[1][e] + ... in chunk order; one work item per weight element.
__kernel void conv2d_weight_grad_sum_chunks(__global const float* partials, __global float* weightGrad,
                                            const int chunks, const int weights) {
    int e = get_global_id(0);
    if (e >= weights) return;
    float total = 0.0f;
    for (int chunk = 0; chunk < chunks; chunk++) total += partials[(long) chunk * weights + e];
    weightGrad[e] += total;
}
