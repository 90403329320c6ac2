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
// TILED kernels: the convolution seen as a matrix product without building the matrix ("implicit
// GEMM"). With p = (n, oy, ox) an output pixel and q = (c, r, s) a filter tap:
//   forward          out[k][p]   = sum over q of W[k][q] * X[q][p], X[q][p] = input under tap q of pixel p
//   backward input   dIn[c][p']  = sum over j = (k, r, s) of W[k][c][r][s] * dOut[k][pixel that saw p' via (r, s)]
//   backward weight  dW[k][q]    = sum over p of dOut[k][p] * X[q][p]
// A work group computes a CONV_TILE_M x CONV_TILE_N tile of the result (M: channels, N: pixels
// or taps). It walks the sum in slices of CONV_TILE_K: its work items copy a slice of each operand
// into local memory, computing the im2col address of every element on the fly, wait at a barrier,
// and multiply from local memory. Each work item keeps CONV_WORK_M x CONV_WORK_N results in
// registers: work item (tx, ty) owns the rows ty + i * CONV_THREADS_M and the columns
// tx + j * CONV_THREADS_N of the tile (neighbouring work items, neighbouring pixels). When copying the
// pixel operand, work item t copies column t of the slice (there are exactly CONV_TILE_N work items),
// so it works out that column's image and position once, not once per element.
//
// The weight gradient sums over batch * outH * outW pixels, far more than there are outputs. Its
// tiled kernel splits that sum into chunks (a third dimension of work groups), writes one partial
// result per chunk, and conv2d_weight_grad_sum_chunks adds the chunks in a fixed order. No atomics,
// so the gradient is the same on every run.

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
    for (int e = t; e < batch * pixels; e += groupSize) {
        int n = e / pixels, pixel = e % pixels;
        mine += outputGrad[((long) n * outChannels + k) * pixels + pixel];
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

// Tile sizes; the host may set others with -D. There must be exactly CONV_TILE_N work items
// (CONV_TILE_M == CONV_WORK_M * CONV_WORK_N), one per column of the pixel slice they copy.
#ifndef CONV_TILE_M
#define CONV_TILE_M 16
#endif
#ifndef CONV_TILE_N
#define CONV_TILE_N 64
#endif
#ifndef CONV_TILE_K
#define CONV_TILE_K 16
#endif
#ifndef CONV_WORK_M
#define CONV_WORK_M 4
#endif
#ifndef CONV_WORK_N
#define CONV_WORK_N 4
#endif
#define CONV_THREADS_M (CONV_TILE_M / CONV_WORK_M)
#define CONV_THREADS_N (CONV_TILE_N / CONV_WORK_N)
#define CONV_THREADS (CONV_THREADS_M * CONV_THREADS_N)
#if CONV_THREADS != CONV_TILE_N || CONV_TILE_M % CONV_WORK_M != 0 || CONV_TILE_N % CONV_WORK_N != 0
#error "conv tiles: need CONV_TILE_M == CONV_WORK_M * CONV_WORK_N and CONV_WORK_N dividing CONV_TILE_N"
#endif

// Multiplies one slice held in local memory into the work item's register block:
// acc[i][j] += left[q][row i] * right[q][column j] for the CONV_TILE_K values of q.
#define MULTIPLY_SLICE(left, right, acc, tx, ty)                                          \
    for (int q = 0; q < CONV_TILE_K; q++) {                                               \
        float a[CONV_WORK_M], b[CONV_WORK_N];                                              \
        for (int i = 0; i < CONV_WORK_M; i++) a[i] = left[q][ty + i * CONV_THREADS_M];     \
        for (int j = 0; j < CONV_WORK_N; j++) b[j] = right[q][tx + j * CONV_THREADS_N];    \
        for (int i = 0; i < CONV_WORK_M; i++)                                             \
            for (int j = 0; j < CONV_WORK_N; j++) acc[i][j] += a[i] * b[j];               \
    }

__kernel __attribute__((reqd_work_group_size(CONV_THREADS_N, CONV_THREADS_M, 1)))
void conv2d_forward_tiled(__global const float* input, __global const float* weight,
                          __global const float* bias, const int hasBias, __global float* output,
                          CONV_SIZES) {
    __local float weightTile[CONV_TILE_K][CONV_TILE_M];  // [tap q][channel k]
    __local float inputTile[CONV_TILE_K][CONV_TILE_N];   // [tap q][pixel p]: im2col, never stored whole
    const int tx = get_local_id(0), ty = get_local_id(1), t = ty * CONV_THREADS_N + tx;
    const int k0 = get_group_id(1) * CONV_TILE_M, p0 = get_group_id(0) * CONV_TILE_N;
    const int taps = inChannels * kernelH * kernelW, pixels = batch * outH * outW;

    // The pixel this work item copies: column t of every input slice.
    const int myPixel = p0 + t;
    const int myN = myPixel / (outH * outW), myOy = (myPixel / outW) % outH, myOx = myPixel % outW;
    __global const float* myImage = input + (long) myN * inChannels * inH * inW;
    const int myIy0 = myOy * stride - padding, myIx0 = myOx * stride - padding;

    float acc[CONV_WORK_M][CONV_WORK_N];
    for (int i = 0; i < CONV_WORK_M; i++)
        for (int j = 0; j < CONV_WORK_N; j++) acc[i][j] = 0.0f;

    // (c, r, s) of tap q, advanced one tap at a time as this work item walks down its column.
    int c = 0, r = 0, s = 0;
    for (int q0 = 0; q0 < taps; q0 += CONV_TILE_K) {
        for (int e = t; e < CONV_TILE_K * CONV_TILE_M; e += CONV_THREADS) {
            int k = e / CONV_TILE_K, q = e % CONV_TILE_K;
            weightTile[q][k] = (k0 + k < outChannels && q0 + q < taps) ? weight[(long) (k0 + k) * taps + q0 + q] : 0.0f;
        }
        for (int q = 0; q < CONV_TILE_K; q++) {
            int iy = myIy0 + r, ix = myIx0 + s;
            bool inside = myPixel < pixels && q0 + q < taps && iy >= 0 && iy < inH && ix >= 0 && ix < inW;
            inputTile[q][t] = inside ? myImage[(c * inH + iy) * inW + ix] : 0.0f;
            if (++s == kernelW) { s = 0; if (++r == kernelH) { r = 0; c++; } }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        MULTIPLY_SLICE(weightTile, inputTile, acc, tx, ty)
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int j = 0; j < CONV_WORK_N; j++) {
        int p = p0 + tx + j * CONV_THREADS_N;
        if (p >= pixels) continue;
        int n = p / (outH * outW), pixel = p % (outH * outW);
        for (int i = 0; i < CONV_WORK_M; i++) {
            int k = k0 + ty + i * CONV_THREADS_M;
            if (k < outChannels) {
                output[((long) n * outChannels + k) * outH * outW + pixel] = acc[i][j] + (hasBias ? bias[k] : 0.0f);
            }
        }
    }
}

__kernel __attribute__((reqd_work_group_size(CONV_THREADS_N, CONV_THREADS_M, 1)))
void conv2d_backward_input_tiled(__global const float* weight, __global const float* outputGrad,
                                 __global float* inputGrad, CONV_SIZES) {
    __local float weightTile[CONV_TILE_K][CONV_TILE_M];  // [j = (k, r, s)][input channel c]
    __local float gradTile[CONV_TILE_K][CONV_TILE_N];    // [j][input pixel]: the output gradient that reached it via j
    const int tx = get_local_id(0), ty = get_local_id(1), t = ty * CONV_THREADS_N + tx;
    const int c0 = get_group_id(1) * CONV_TILE_M, p0 = get_group_id(0) * CONV_TILE_N;
    const int taps = outChannels * kernelH * kernelW, filterSize = kernelH * kernelW;
    const int pixels = batch * inH * inW;

    // The input pixel this work item copies gradients for: column t of every slice.
    const int myPixel = p0 + t;
    const int myN = myPixel / (inH * inW), myIy = (myPixel / inW) % inH, myIx = myPixel % inW;
    __global const float* myGrad = outputGrad + (long) myN * outChannels * outH * outW;

    float acc[CONV_WORK_M][CONV_WORK_N];
    for (int i = 0; i < CONV_WORK_M; i++)
        for (int j = 0; j < CONV_WORK_N; j++) acc[i][j] = 0.0f;

    int k = 0, r = 0, s = 0;  // (k, r, s) of tap j, advanced as this work item walks down its column
    for (int j0 = 0; j0 < taps; j0 += CONV_TILE_K) {
        for (int e = t; e < CONV_TILE_K * CONV_TILE_M; e += CONV_THREADS) {
            int c = e / CONV_TILE_K, j = j0 + e % CONV_TILE_K;
            bool inside = c0 + c < inChannels && j < taps;
            int tapK = j / filterSize, tapRS = j % filterSize;
            weightTile[e % CONV_TILE_K][c] = inside ? weight[((long) tapK * inChannels + c0 + c) * filterSize + tapRS] : 0.0f;
        }
        for (int j = 0; j < CONV_TILE_K; j++) {
            // Output pixel (oy, ox) reached (myIy, myIx) through tap (r, s) when oy * stride - padding + r == myIy.
            int oyTimesStride = myIy + padding - r, oxTimesStride = myIx + padding - s;
            bool inside = myPixel < pixels && j0 + j < taps && oyTimesStride >= 0 && oxTimesStride >= 0
                    && oyTimesStride % stride == 0 && oxTimesStride % stride == 0
                    && oyTimesStride / stride < outH && oxTimesStride / stride < outW;
            gradTile[j][t] = inside ? myGrad[((long) k * outH + oyTimesStride / stride) * outW + oxTimesStride / stride] : 0.0f;
            if (++s == kernelW) { s = 0; if (++r == kernelH) { r = 0; k++; } }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        MULTIPLY_SLICE(weightTile, gradTile, acc, tx, ty)
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int j = 0; j < CONV_WORK_N; j++) {
        int p = p0 + tx + j * CONV_THREADS_N;
        if (p >= pixels) continue;
        int n = p / (inH * inW), pixel = p % (inH * inW);
        for (int i = 0; i < CONV_WORK_M; i++) {
            int c = c0 + ty + i * CONV_THREADS_M;
            if (c < inChannels) inputGrad[((long) n * inChannels + c) * inH * inW + pixel] += acc[i][j];
        }
    }
}

// partials[chunk][k][q] = sum over the pixels p of this chunk of outputGrad[k][p] * X[q][p].
// Work groups: (tiles over taps q, tiles over channels k, chunks); a chunk is chunkPixels output
// pixels (a multiple of CONV_TILE_K) of the batch * outH * outW.
__kernel __attribute__((reqd_work_group_size(CONV_THREADS_N, CONV_THREADS_M, 1)))
void conv2d_backward_weight_tiled(__global const float* input, __global const float* outputGrad,
                                  __global float* partials, const int chunkPixels, CONV_SIZES) {
    __local float gradTile[CONV_TILE_K][CONV_TILE_M];   // [pixel p][channel k]
    __local float inputTile[CONV_TILE_K][CONV_TILE_N];  // [pixel p][tap q]: im2col, transposed
    const int tx = get_local_id(0), ty = get_local_id(1), t = ty * CONV_THREADS_N + tx;
    const int k0 = get_group_id(1) * CONV_TILE_M, q0 = get_group_id(0) * CONV_TILE_N;
    const int chunk = get_group_id(2);
    const int taps = inChannels * kernelH * kernelW, outPixels = outH * outW, pixels = batch * outPixels;
    const int pFirst = chunk * chunkPixels, pEnd = min(pixels, pFirst + chunkPixels);

    // The tap this work item copies: column t of every input slice.
    const int myTap = q0 + t;
    const int myC = myTap / (kernelH * kernelW), myR = (myTap / kernelW) % kernelH, myS = myTap % kernelW;

    float acc[CONV_WORK_M][CONV_WORK_N];
    for (int i = 0; i < CONV_WORK_M; i++)
        for (int j = 0; j < CONV_WORK_N; j++) acc[i][j] = 0.0f;

    for (int pSlice = pFirst; pSlice < pEnd; pSlice += CONV_TILE_K) {
        // The slice starts at image sliceN, pixel slicePixel; its later pixels carry into the next image.
        const int sliceN = pSlice / outPixels, slicePixel = pSlice % outPixels;
        for (int e = t; e < CONV_TILE_K * CONV_TILE_M; e += CONV_THREADS) {
            int k = e % CONV_TILE_M, p = e / CONV_TILE_M;
            int n = sliceN, pixel = slicePixel + p;
            while (pixel >= outPixels) { pixel -= outPixels; n++; }
            bool inside = k0 + k < outChannels && pSlice + p < pEnd;
            gradTile[p][k] = inside ? outputGrad[((long) n * outChannels + k0 + k) * outPixels + pixel] : 0.0f;
        }
        int n = sliceN, oy = slicePixel / outW, ox = slicePixel % outW;
        for (int p = 0; p < CONV_TILE_K; p++) {
            int iy = oy * stride - padding + myR, ix = ox * stride - padding + myS;
            bool inside = myTap < taps && pSlice + p < pEnd && iy >= 0 && iy < inH && ix >= 0 && ix < inW;
            inputTile[p][t] = inside ? input[(((long) n * inChannels + myC) * inH + iy) * inW + ix] : 0.0f;
            if (++ox == outW) { ox = 0; if (++oy == outH) { oy = 0; n++; } }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        MULTIPLY_SLICE(gradTile, inputTile, acc, tx, ty)
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int i = 0; i < CONV_WORK_M; i++) {
        int k = k0 + ty + i * CONV_THREADS_M;
        if (k >= outChannels) continue;
        for (int j = 0; j < CONV_WORK_N; j++) {
            int q = q0 + tx + j * CONV_THREADS_N;
            if (q < taps) partials[((long) chunk * outChannels + k) * taps + q] = acc[i][j];
        }
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
