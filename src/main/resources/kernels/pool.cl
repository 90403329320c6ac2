// Max pooling over window x window squares moved by stride (no padding), forward and backward.
//
// Indexing:
// - max_pool_forward: one work item per output element i of a 1-D range, i = (plane * outH + oy) * outW + ox
//   (a plane is one channel of one image), in explicit work groups: a 3-D range would put the planes
//   in the z dimension, which CUDA-based drivers cap at 65,535 groups. It reads its window x window
//   square of the input plane.
// - max_pool_backward_windows (windows that do not overlap, stride >= window: the seed's 2x2 pools):
//   one work item per output element i, as in the forward, i.e. per window; it finds the window's first maximum and
//   adds the output gradient there. Each input element lies in at most one window, so no two work
//   items write the same element.
// - max_pool_backward (any stride): one work item per INPUT element (plane, iy, ix). It visits every window that
//   contains its pixel, finds that window's first maximum again, and adds the window's output
//   gradient when the maximum is this pixel. Gathering instead of scattering means no two work items
//   write the same element, even when windows overlap (stride < window): no races, no atomics.

// The input index of the first maximum of window (oy, ox) of one plane; a NaN counts as the maximum
// (as in the Java kernel and PyTorch).
static inline int window_argmax(__global const float* plane, int inW, int oy, int ox, int window, int stride) {
    int bestIndex = -1;
    float best = -INFINITY;
    for (int r = 0; r < window; r++) {
        int row = (oy * stride + r) * inW + ox * stride;
        for (int s = 0; s < window; s++) {
            float v = plane[row + s];
            if (bestIndex < 0 || v > best || (v != v && best == best)) {  // x != x: x is NaN
                best = v;
                bestIndex = row + s;
            }
        }
    }
    return bestIndex;
}

__kernel void max_pool_forward(__global const float* input, __global float* output,
                               const int planes, const int inH, const int inW, const int outH, const int outW,
                               const int window, const int stride) {
    long i = get_global_id(0);
    if (i >= (long) planes * outH * outW) return;
    int ox = i % outW, oy = (i / outW) % outH;
    long plane = i / ((long) outW * outH);
    __global const float* in = input + (long) plane * inH * inW;
    float best = -INFINITY;
    for (int r = 0; r < window; r++) {
        for (int s = 0; s < window; s++) {
            float v = in[(oy * stride + r) * inW + ox * stride + s];
            if (v > best || v != v) best = v;  // v != v: v is NaN (isnan is a library call on some CPU runtimes)
        }
    }
    output[i] = best;
}

__kernel void max_pool_backward(__global const float* input, __global const float* outputGrad, __global float* inputGrad,
                                const int planes, const int inH, const int inW, const int outH, const int outW,
                                const int window, const int stride) {
    int i = get_global_id(0);
    if (i >= planes * inH * inW) return;
    int ix = i % inW, iy = (i / inW) % inH, plane = i / (inW * inH);
    __global const float* in = input + (long) plane * inH * inW;
    __global const float* dOut = outputGrad + (long) plane * outH * outW;
    int here = iy * inW + ix;
    // Windows oy with oy * stride <= iy < oy * stride + window, and the same for x.
    int oyFirst = max(0, (iy - window + stride) / stride), oyLast = min(outH - 1, iy / stride);
    int oxFirst = max(0, (ix - window + stride) / stride), oxLast = min(outW - 1, ix / stride);
    float grad = inputGrad[i];
    for (int oy = oyFirst; oy <= oyLast; oy++) {
        for (int ox = oxFirst; ox <= oxLast; ox++) {
            if (window_argmax(in, inW, oy, ox, window, stride) == here) grad += dOut[oy * outW + ox];
        }
    }
    inputGrad[i] = grad;
}

__kernel void max_pool_backward_windows(__global const float* input, __global const float* outputGrad,
                                        __global float* inputGrad, const int planes, const int inH, const int inW,
                                        const int outH, const int outW, const int window, const int stride) {
    long i = get_global_id(0);
    if (i >= (long) planes * outH * outW) return;
    int ox = i % outW, oy = (i / outW) % outH;
    long base = i / ((long) outW * outH) * inH * inW;
    inputGrad[base + window_argmax(input + base, inW, oy, ox, window, stride)] += outputGrad[i];
}

// Rows versions, for CPU devices (OpenClBackend.Kernels.ROWS): one work item per output ROW
// (plane, oy), a loop along it, so that a work item does enough work to pay for itself on a CPU
// runtime; the same arithmetic as the kernels above.
__kernel void max_pool_forward_rows(__global const float* input, __global float* output,
                                    const int planes, const int inH, const int inW, const int outH, const int outW,
                                    const int window, const int stride) {
    int row = get_global_id(0);
    if (row >= planes * outH) return;
    int plane = row / outH, oy = row - plane * outH;
    __global const float* in = input + (long) plane * inH * inW + oy * stride * inW;
    __global float* out = output + (long) row * outW;
    for (int ox = 0; ox < outW; ox++) {
        float best = -INFINITY;
        for (int r = 0; r < window; r++) {
            for (int s = 0; s < window; s++) {
                float v = in[r * inW + ox * stride + s];
                if (v > best || v != v) best = v;  // v != v: v is NaN (isnan is a library call on some CPU runtimes)
            }
        }
        out[ox] = best;
    }
}

// Windows that do not overlap (stride >= window), as max_pool_backward_windows. The 2 x 2 case compares
// with vector selects, not branches: which element wins is random, and a mispredicted branch costs
// more than a window.
__kernel void max_pool_backward_windows_rows(__global const float* input, __global const float* outputGrad,
                                             __global float* inputGrad, const int planes, const int inH, const int inW,
                                             const int outH, const int outW, const int window, const int stride) {
    int row = get_global_id(0);
    if (row >= planes * outH) return;
    int plane = row / outH, oy = row - plane * outH;
    __global const float* in = input + (long) plane * inH * inW + oy * stride * inW;
    __global float* grad = inputGrad + (long) plane * inH * inW + oy * stride * inW;
    __global const float* dOut = outputGrad + (long) row * outW;
    int ox = 0;
    if (window == 2 && stride == 2) {
        // The seed's pools, 8 windows at a time in explicit vectors: the two input rows' 16 values
        // split into even (left) and odd (right) columns, the first maximum of a, b, c, d (a NaN
        // counting as the largest) found with vector compares and selects, no branch; then the
        // gradient, zero for all but the winner, interleaved back and added to both rows.
        const uint16 interleave = (uint16)(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
        for (; ox < outW; ox += 8) {
            // the row's last windows may be fewer than 8: the missing lanes are never stored
            const int lanes = 2 * min(8, outW - ox);
            float topLanes[16], bottomLanes[16], gLanes[8];
            float16 top, bottom;
            float8 g;
            if (lanes == 16 || row + 1 < planes * outH) {  // whole vectors, or reads past this row stay inside the buffer
                top = vload16(0, in + 2 * ox);
                bottom = vload16(0, in + inW + 2 * ox);
                g = vload8(0, dOut + ox);
            } else {
                for (int l = 0; l < 16; l++) {
                    topLanes[l] = l < lanes ? in[2 * ox + l] : 0.0f;
                    bottomLanes[l] = l < lanes ? in[inW + 2 * ox + l] : 0.0f;
                    if (l < 8) gLanes[l] = 2 * l < lanes ? dOut[ox + l] : 0.0f;
                }
                top = vload16(0, topLanes);
                bottom = vload16(0, bottomLanes);
                g = vload8(0, gLanes);
            }
            float8 a = top.even, b = top.odd, c = bottom.even, d = bottom.odd;
            int8 bWins = (b > a) | ((b != b) & (a == a));  // x != x: x is NaN, as everywhere in these kernels
            float8 best = select(a, b, bWins);
            int8 cWins = (c > best) | ((c != c) & (best == best));
            best = select(best, c, cWins);
            int8 dWins = (d > best) | ((d != d) & (best == best));
            int8 winner = select(select(select((int8)(0), (int8)(1), bWins), (int8)(2), cWins), (int8)(3), dWins);
            const float8 zero = (float8)(0.0f);
            float16 gTop = shuffle2(select(zero, g, winner == 0), select(zero, g, winner == 1), interleave);
            float16 gBottom = shuffle2(select(zero, g, winner == 2), select(zero, g, winner == 3), interleave);
            if (lanes == 16) {
                vstore16(vload16(0, grad + 2 * ox) + gTop, 0, grad + 2 * ox);
                vstore16(vload16(0, grad + inW + 2 * ox) + gBottom, 0, grad + inW + 2 * ox);
            } else {
                vstore16(gTop, 0, topLanes);
                vstore16(gBottom, 0, bottomLanes);
                for (int l = 0; l < lanes; l++) {
                    grad[2 * ox + l] += topLanes[l];
                    grad[inW + 2 * ox + l] += bottomLanes[l];
                }
            }
        }
    }
    long base = (long) plane * inH * inW;
    for (; ox < outW; ox++) {  // other windows (the 2 x 2 loop above covers its whole row)
        inputGrad[base + window_argmax(input + base, inW, oy, ox, window, stride)] += dOut[ox];
    }
}
