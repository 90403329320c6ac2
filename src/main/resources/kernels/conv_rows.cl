// 2-D convolution for CPU OpenCL devices: the ROWS kernels, forward and backward, with the same
// layouts and sizes as conv.cl's (see there: input [batch, inChannels, inH, inW], weight
// [outChannels, inChannels, kernelH, kernelW], output [batch, outChannels, outH, outW]).

// The sizes every kernel takes, in this order (as in conv.cl).
#define CONV_SIZES const int batch, const int inChannels, const int inH, const int inW, \
                   const int outChannels, const int kernelH, const int kernelW, \
                   const int outH, const int outW, const int stride, const int padding

// ---- rows (CPU devices) ----------------------------------------------------------------------------
//
// For CPU OpenCL runtimes such as PoCL, where a work group is a loop on one core and local memory is
// ordinary cache: no barriers, no local memory, and each work item a register tile as large as the
// CPU's vector registers allow, the scheme of the Java backend's direct convolution (stride 1, no
// padding). Output position j of a plane is taken in the "wide" layout j = oy * inW + ox (rows as
// wide as the input; columns ox >= outW are computed and dropped): output j of channel k sums
// weight[k, c, r, s] * input[n, c, r * inW + s + j] over the taps (c, r, s), so for every tap the
// inputs of ROWS_CHUNK neighbouring positions are contiguous vector loads.
//
// - conv2d_forward_rows: work item (dimension 0) = (image n, chunk of ROWS_CHUNK wide positions),
//   dimension 1 = a block of ROWS_KB output channels; ROWS_KB x ROWS_VECTORS float16 accumulators.

#ifndef ROWS_KB
#define ROWS_KB 6         // output channels per work item
#endif
#define ROWS_VECTORS 2    // float16 vectors of positions per work item
#define ROWS_CHUNK (16 * ROWS_VECTORS)

// 16 floats from p, or (near the end of the buffer, from index `first` on) only those below `limit`, zero beyond.
static inline float16 load16_guarded(__global const float* base, long first, long limit) {
    if (first + 16 <= limit) return vload16(0, base + first);
    float lanes[16];
    for (int l = 0; l < 16; l++) lanes[l] = first + l < limit ? base[first + l] : 0.0f;
    return vload16(0, lanes);
}

__kernel void conv2d_forward_rows(__global const float* input, __global const float* weight,
                                  __global const float* bias, const int hasBias, __global float* output,
                                  CONV_SIZES) {
    const int wideLen = (outH - 1) * inW + outW, chunks = (wideLen + ROWS_CHUNK - 1) / ROWS_CHUNK;
    const int item = get_global_id(0);
    if (item >= batch * chunks) return;
    const int n = item / chunks, j0 = (item % chunks) * ROWS_CHUNK, k0 = get_global_id(1) * ROWS_KB;
    const int plane = inH * inW, taps = kernelH * kernelW, reduce = inChannels * taps;
    const long imageStart = (long) n * inChannels * plane + j0, inputEnd = (long) batch * inChannels * plane;

    float16 acc[ROWS_KB][ROWS_VECTORS];
    #pragma unroll
    for (int i = 0; i < ROWS_KB; i++) {
        #pragma unroll
        for (int v = 0; v < ROWS_VECTORS; v++) acc[i][v] = (float16)(0.0f);
    }
    int filter[ROWS_KB];  // channels past the last: any filter, never stored
    #pragma unroll
    for (int i = 0; i < ROWS_KB; i++) filter[i] = min(k0 + i, outChannels - 1) * reduce;

    // whether the last tap's vectors end inside the buffer (every item except the very last few)
    const bool inside = imageStart + (long) (inChannels - 1) * plane + (kernelH - 1) * inW + kernelW - 1 + ROWS_CHUNK <= inputEnd;
    for (int c = 0, q = 0; c < inChannels; c++) {
        for (int r = 0; r < kernelH; r++) {
            long at = imageStart + c * plane + r * inW;
            for (int s = 0; s < kernelW; s++, q++) {
                float16 x[ROWS_VECTORS];
                #pragma unroll
                for (int v = 0; v < ROWS_VECTORS; v++) x[v] = inside ? vload16(0, input + at + s + 16 * v) : load16_guarded(input, at + s + 16 * v, inputEnd);
                #pragma unroll
                for (int i = 0; i < ROWS_KB; i++) {
                    float16 w = (float16)(weight[filter[i] + q]);
                    #pragma unroll
                    for (int v = 0; v < ROWS_VECTORS; v++) acc[i][v] = fma(w, x[v], acc[i][v]);
                }
            }
        }
    }
    for (int i = 0; i < ROWS_KB && k0 + i < outChannels; i++) {
        __global float* out = output + ((long) n * outChannels + k0 + i) * outH * outW;
        float add = hasBias ? bias[k0 + i] : 0.0f;
        for (int v = 0; v < ROWS_VECTORS; v++) {
            float lanes[16];
            vstore16(acc[i][v], 0, lanes);
            for (int l = 0; l < 16; l++) {
                int j = j0 + 16 * v + l, oy = j / inW, ox = j - oy * inW;
                if (j < wideLen && ox < outW) out[oy * outW + ox] = lanes[l] + add;
            }
        }
    }
}

// The output gradient laid out for the two backward rows kernels: plane (n, k) of gradWide is
// `lead` = (kernelH - 1) * inW + kernelW - 1 zeros, then the gradient in wide rows (row oy at
// oy * inW, columns ox >= outW zero), then zeros up to gradPlane floats. One work item per plane
// (n, k), writing all of it, zeros included (no separate fill); on the way it sums the plane into
// planeSums[n, k], from which conv2d_bias_from_sums takes the bias gradient.
__kernel void conv2d_grad_wide(__global const float* outputGrad, __global float* gradWide, const int gradPlane,
                               __global float* planeSums, CONV_SIZES) {
    const int planeIndex = get_global_id(0);
    if (planeIndex >= batch * outChannels) return;
    __global const float* from = outputGrad + (long) planeIndex * outH * outW;
    __global float* to = gradWide + (long) planeIndex * gradPlane;
    const int lead = (kernelH - 1) * inW + kernelW - 1, rowsEnd = lead + outH * inW;
    for (int i = 0; i < lead; i++) to[i] = 0.0f;
    float sum = 0.0f;
    for (int oy = 0; oy < outH; oy++) {
        __global float* row = to + lead + oy * inW;
        for (int ox = 0; ox < outW; ox++) {
            float g = from[oy * outW + ox];
            row[ox] = g;
            sum += g;
        }
        for (int ox = outW; ox < inW; ox++) row[ox] = 0.0f;
    }
    for (int i = rowsEnd; i < gradPlane; i++) to[i] = 0.0f;
    planeSums[planeIndex] = sum;
}

// biasGrad[k] += the sum over images n of planeSums[n, k], in order; one work item per channel k.
__kernel void conv2d_bias_from_sums(__global const float* planeSums, __global float* biasGrad,
                                    const int batch, const int outChannels) {
    const int k = get_global_id(0);
    if (k >= outChannels) return;
    float total = 0.0f;
    for (int n = 0; n < batch; n++) total += planeSums[n * outChannels + k];
    biasGrad[k] += total;
}

// - conv2d_backward_input_rows: item (dimension 0) = (image n, chunk of ROWS_CHUNK input positions
//   j = iy * inW + ix), dimension 1 = a block of ROWS_CB input channels. Forward, input j fed output
//   j - r * inW - s through tap (r, s) (as long as that output exists): so the gradient at j sums
//   weight[k, c, r, s] * gradWide[n, k, lead + j - r * inW - s] over (k, r, s), where gradWide
//   holds zeros wherever no output was. Each (k, r, s) is one contiguous vector load per vector.
#ifndef ROWS_CB
#define ROWS_CB 6         // input channels per work item
#endif

__kernel void conv2d_backward_input_rows(__global const float* weight, __global const float* gradWide,
                                         const int gradPlane, __global float* inputGrad, CONV_SIZES) {
    const int plane = inH * inW, chunks = (plane + ROWS_CHUNK - 1) / ROWS_CHUNK;
    const int item = get_global_id(0);
    if (item >= batch * chunks) return;
    const int n = item / chunks, j0 = (item % chunks) * ROWS_CHUNK, c0 = get_global_id(1) * ROWS_CB;
    const int taps = kernelH * kernelW, lead = (kernelH - 1) * inW + kernelW - 1;

    float16 acc[ROWS_CB][ROWS_VECTORS];
    #pragma unroll
    for (int i = 0; i < ROWS_CB; i++) {
        #pragma unroll
        for (int v = 0; v < ROWS_VECTORS; v++) acc[i][v] = (float16)(0.0f);
    }
    int filter[ROWS_CB];  // weight[k, c0 + i] starts at k * inChannels * taps + filter[i]; channels past the last: any
    #pragma unroll
    for (int i = 0; i < ROWS_CB; i++) filter[i] = min(c0 + i, inChannels - 1) * taps;

    for (int k = 0; k < outChannels; k++) {
        __global const float* grads = gradWide + ((long) n * outChannels + k) * gradPlane + lead + j0;
        __global const float* filters = weight + (long) k * inChannels * taps;
        for (int r = 0, tap = 0; r < kernelH; r++) {
            for (int s = 0; s < kernelW; s++, tap++) {
                float16 g[ROWS_VECTORS];
                #pragma unroll
                for (int v = 0; v < ROWS_VECTORS; v++) g[v] = vload16(0, grads + 16 * v - r * inW - s);
                #pragma unroll
                for (int i = 0; i < ROWS_CB; i++) {
                    float16 w = (float16)(filters[filter[i] + tap]);
                    #pragma unroll
                    for (int v = 0; v < ROWS_VECTORS; v++) acc[i][v] = fma(w, g[v], acc[i][v]);
                }
            }
        }
    }
    for (int i = 0; i < ROWS_CB && c0 + i < inChannels; i++) {
        __global float* grad = inputGrad + ((long) n * inChannels + c0 + i) * plane;
        for (int v = 0; v < ROWS_VECTORS; v++) {
            int j = j0 + 16 * v;
            if (j + 16 <= plane) {
                vstore16(vload16(0, grad + j) + acc[i][v], 0, grad + j);
            } else {
                float lanes[16];
                vstore16(acc[i][v], 0, lanes);
                for (int l = 0; j + l < plane; l++) grad[j + l] += lanes[l];
            }
        }
    }
}

// - conv2d_backward_weight_rows: partials[chunk][k][q] = the part of dW[k][q], q = (c, r, s), from
//   the images of this chunk: the sum over images n and wide positions j of
//   gradWide[n, k, lead + j] * input[n, c * plane + r * inW + s + j] (the forward pass's shifted
//   rows; gradWide is zero at dropped columns and past the end, so those products add nothing).
//   Item (dimension 0) = a block of ROWS_WQ taps, dimension 1 = a block of ROWS_WK output channels,
//   dimension 2 = the chunk; ROWS_WK x ROWS_WQ float16 accumulators, added across lanes at the end
//   in a fixed order. conv2d_weight_grad_sum_chunks then adds the chunks in order.
#define ROWS_WK 4
#define ROWS_WQ 4

__kernel void conv2d_backward_weight_rows(__global const float* input, __global const float* gradWide,
                                          const int gradPlane, __global float* partials, const int chunkImages,
                                          CONV_SIZES) {
    const int taps = inChannels * kernelH * kernelW, plane = inH * inW;
    const int q0 = get_global_id(0) * ROWS_WQ, k0 = get_global_id(1) * ROWS_WK, chunk = get_global_id(2);
    if (q0 >= taps) return;
    const int wideLen = (outH - 1) * inW + outW, lead = (kernelH - 1) * inW + kernelW - 1;
    const int nFirst = chunk * chunkImages, nEnd = min(batch, nFirst + chunkImages);
    const long inputEnd = (long) batch * inChannels * plane;

    int offset[ROWS_WQ];  // where tap q's shifted row starts in an image; taps past the last: any
    #pragma unroll
    for (int t = 0; t < ROWS_WQ; t++) {
        int q = min(q0 + t, taps - 1), c = q / (kernelH * kernelW), r = (q / kernelW) % kernelH, s = q % kernelW;
        offset[t] = c * plane + r * inW + s;
    }
    float16 acc[ROWS_WK][ROWS_WQ];
    #pragma unroll
    for (int i = 0; i < ROWS_WK; i++) {
        #pragma unroll
        for (int t = 0; t < ROWS_WQ; t++) acc[i][t] = (float16)(0.0f);
    }
    for (int n = nFirst; n < nEnd; n++) {
        const long image = (long) n * inChannels * plane;
        __global const float* grads[ROWS_WK];
        #pragma unroll
        for (int i = 0; i < ROWS_WK; i++) grads[i] = gradWide + ((long) n * outChannels + min(k0 + i, outChannels - 1)) * gradPlane + lead;
        // whether this image's last vectors end inside the buffer (all but the last image or so)
        const bool inside = image + (inChannels - 1) * plane + lead + ((wideLen + 15) & ~15) <= inputEnd;
        for (int j = 0; j < wideLen; j += 16) {
            float16 g[ROWS_WK], x[ROWS_WQ];
            #pragma unroll
            for (int i = 0; i < ROWS_WK; i++) g[i] = vload16(0, grads[i] + j);
            #pragma unroll
            for (int t = 0; t < ROWS_WQ; t++) x[t] = inside ? vload16(0, input + image + offset[t] + j) : load16_guarded(input, image + offset[t] + j, inputEnd);
            #pragma unroll
            for (int i = 0; i < ROWS_WK; i++) {
                #pragma unroll
                for (int t = 0; t < ROWS_WQ; t++) acc[i][t] = fma(g[i], x[t], acc[i][t]);
            }
        }
    }
    for (int i = 0; i < ROWS_WK && k0 + i < outChannels; i++) {
        for (int t = 0; t < ROWS_WQ && q0 + t < taps; t++) {
            float16 a = acc[i][t];
            float8 h = a.lo + a.hi;
            float4 f = h.lo + h.hi;
            partials[((long) chunk * outChannels + k0 + i) * taps + q0 + t] = (f.x + f.y) + (f.z + f.w);
        }
    }
}
