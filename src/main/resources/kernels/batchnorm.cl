// Batch normalisation of x [N, C, H, W], channel by channel: forward (with or without the batch's
// own statistics) and backward.
//
// Indexing: one work group per channel c (group id c), G work items (G a power of two). Channel c's
// M = N * H * W elements are the planes (n, c), n = 0 .. N-1, each H * W long; work item t visits
// elements t, t + G, t + 2G, ... of every plane, so neighbouring work items read neighbouring
// floats. Sums over the channel: each work item adds its elements into a private total, then the
// group adds the G totals in local memory in a fixed tree order (as in reduce.cl), so results do
// not vary from run to run. Every element of the output (or of the input gradient) is written by
// exactly one work item of one group: no atomics.
//
// The scratch argument is __local memory of G floats, given by the host. Absent gamma, beta or
// gradient buffers are flagged by has* arguments (the host binds a dummy buffer there).

// Adds the G values of a work group in a fixed tree order; every work item gets the total.
static inline float group_sum(__local float* scratch, float mine) {
    int t = get_local_id(0);
    scratch[t] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = get_local_size(0) / 2; width > 0; width /= 2) {
        if (t < width) scratch[t] += scratch[t + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);  // scratch may be reused right after
    return total;
}

// mean[c] and var[c] = the mean and the biased variance of channel c's elements (two passes: the
// mean, then the squares of the differences from it).
__kernel void batch_norm_statistics(__global const float* x, __global float* mean, __global float* var,
                                    const int batch, const int channels, const int plane, __local float* scratch) {
    int c = get_group_id(0), t = get_local_id(0), groupSize = get_local_size(0);
    float count = (float) batch * plane;
    float sum = 0.0f;
    for (int n = 0; n < batch; n++) {
        __global const float* p = x + ((long) n * channels + c) * plane;
        for (int i = t; i < plane; i += groupSize) sum += p[i];
    }
    float mu = group_sum(scratch, sum) / count;
    float squares = 0.0f;
    for (int n = 0; n < batch; n++) {
        __global const float* p = x + ((long) n * channels + c) * plane;
        for (int i = t; i < plane; i += groupSize) squares += (p[i] - mu) * (p[i] - mu);
    }
    float sigma2 = group_sum(scratch, squares) / count;
    if (t == 0) {
        mean[c] = mu;
        var[c] = sigma2;
    }
}

// One work item per element i of x (a 1-D range of n), of channel c = (i / plane) % channels:
// out[i] = gamma[c] * (x[i] - mean[c]) * invStd + beta[c], invStd = 1 / sqrt(var[c] + eps).
__kernel void batch_norm_forward(__global const float* x, __global const float* gamma, const int hasGamma,
                                 __global const float* beta, const int hasBeta, __global const float* mean,
                                 __global const float* var, const float eps, __global float* out,
                                 const int channels, const int plane, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int c = (i / plane) % channels;
    float invStd = 1.0f / sqrt(var[c] + eps);
    float scale = hasGamma ? gamma[c] : 1.0f, shift = hasBeta ? beta[c] : 0.0f;
    out[i] = scale * ((x[i] - mean[c]) * invStd) + shift;
}

// Adds, for channel c: betaGrad[c] += sum dy, gammaGrad[c] += sum dy * xhat (xhat = (x - mean) * invStd),
// and to each element's input gradient gamma * invStd * (dy - [sum dy + xhat * sum dy * xhat] / M),
// the bracket only with batchStats (when mean and var were the batch's own and so depend on x).
__kernel void batch_norm_backward(__global const float* x, __global const float* gamma, const int hasGamma,
                                  __global const float* mean, __global const float* var, const float eps,
                                  const int batchStats, __global const float* outGrad,
                                  __global float* inputGrad, const int hasInputGrad,
                                  __global float* gammaGrad, const int hasGammaGrad,
                                  __global float* betaGrad, const int hasBetaGrad,
                                  const int batch, const int channels, const int plane, __local float* scratch) {
    int c = get_group_id(0), t = get_local_id(0), groupSize = get_local_size(0);
    float mu = mean[c], invStd = 1.0f / sqrt(var[c] + eps);
    float gradSum = 0.0f, gradDotXhat = 0.0f;
    for (int n = 0; n < batch; n++) {
        long start = ((long) n * channels + c) * plane;
        for (int i = t; i < plane; i += groupSize) {
            float dy = outGrad[start + i];
            gradSum += dy;
            gradDotXhat += dy * ((x[start + i] - mu) * invStd);
        }
    }
    float2 sums = (float2) (group_sum(scratch, gradSum), group_sum(scratch, gradDotXhat));
    if (t == 0 && hasBetaGrad) betaGrad[c] += sums.x;
    if (t == 0 && hasGammaGrad) gammaGrad[c] += sums.y;
    float count = (float) batch * plane;
    float scale = (hasGamma ? gamma[c] : 1.0f) * invStd;
    float meanGrad = batchStats ? sums.x / count : 0.0f, meanGradDotXhat = batchStats ? sums.y / count : 0.0f;
    for (int n = 0; n < batch && hasInputGrad; n++) {
        long start = ((long) n * channels + c) * plane;
        for (int i = t; i < plane; i += groupSize) {
            float xhat = (x[start + i] - mu) * invStd;
            inputGrad[start + i] += scale * (outGrad[start + i] - meanGrad - xhat * meanGradDotXhat);
        }
    }
}
