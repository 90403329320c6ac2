// Elementwise kernels: fill, copy, add, axpy, affine, sign, clamp, minimum, maximum, relu and its
// backward, add_scalar_times and row_scale.
//
// Indexing: a 1-D range of n work items. Work item i reads element i of each input (and, for
// row_scale, the scale of its row i / cols; for add_scalar_times, the single scalar) and writes
// element i of the output, nothing else, so "out" may be the same buffer as an input.
//
// FP_CONTRACT OFF: a*x + b must round after the multiply and after the add, exactly as Java does,
// so both backends give bit-identical results for these kernels.
#pragma OPENCL FP_CONTRACT OFF

__kernel void fill(__global float* out, const float value, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = value;
}

__kernel void copy_elements(__global const float* src, __global float* dst, const int n) {
    int i = get_global_id(0);
    if (i < n) dst[i] = src[i];
}

__kernel void add_elements(__global const float* a, __global const float* b, __global float* out, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = a[i] + b[i];
}

// y += alpha * x
__kernel void axpy(const float alpha, __global const float* x, __global float* y, const int n) {
    int i = get_global_id(0);
    if (i < n) y[i] += alpha * x[i];
}

// out = alpha * x + beta
__kernel void affine(__global const float* x, const float alpha, const float beta, __global float* out, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = alpha * x[i] + beta;
}

// -1, 0 or +1; 0 for 0 and for NaN (every comparison with NaN is false), as torch.sign.
__kernel void sign_elements(__global const float* x, __global float* out, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = x[i] > 0.0f ? 1.0f : (x[i] < 0.0f ? -1.0f : 0.0f);
}

// Java's Math.max and Math.min: NaN if either argument is NaN, and +0 > -0. (OpenCL's fmax/fmin
// instead return the other argument when one is NaN.)
static inline float java_max(float a, float b) {
    if (a != a || b != b) return NAN;  // x != x: x is NaN (isnan is a library call on some CPU runtimes)
    if (a == b) return signbit(a) ? b : a;  // equal: only the sign of zero can differ
    return a > b ? a : b;
}

static inline float java_min(float a, float b) {
    if (a != a || b != b) return NAN;  // x != x: x is NaN (isnan is a library call on some CPU runtimes)
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}

// out = min(max(x, lo), hi)
__kernel void clamp_elements(__global const float* x, const float lo, const float hi, __global float* out, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = java_min(java_max(x[i], lo), hi);
}

// out = 1 / sqrt(max(x, floor)): per-image L2 norms for the L2 attacks (floor keeps 0 from dividing)
__kernel void rsqrt_elements(__global const float* x, const float floor_value, __global float* out, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = 1.0f / sqrt(java_max(x[i], floor_value));
}

__kernel void minimum_elements(__global const float* a, __global const float* b, __global float* out, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = java_min(a[i], b[i]);
}

__kernel void maximum_elements(__global const float* a, __global const float* b, __global float* out, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = java_max(a[i], b[i]);
}

// out[i] += alpha * scalar[0]: the backward of a sum, every element gets the same share.
__kernel void add_scalar_times(__global const float* scalar, const float alpha, __global float* out, const int n) {
    int i = get_global_id(0);
    if (i < n) {
        float share = alpha * scalar[0];
        out[i] += share;
    }
}

// out[i] = x[i] * scales[row of i], rows of cols elements.
__kernel void row_scale(__global const float* x, __global const float* scales, __global float* out,
                        const int cols, const int n) {
    int i = get_global_id(0);
    if (i < n) out[i] = x[i] * scales[i / cols];
}

// max(x, 0); NaN gives 0 (NaN > 0 is false), as the Java kernel.
__kernel void relu(__global const float* input, __global float* output, const int n) {
    int i = get_global_id(0);
    if (i < n) output[i] = input[i] > 0.0f ? input[i] : 0.0f;
}

// The gradient passes where the output was positive.
__kernel void relu_backward(__global const float* output, __global const float* outputGrad,
                            __global float* inputGrad, const int n) {
    int i = get_global_id(0);
    if (i < n && output[i] > 0.0f) inputGrad[i] += outputGrad[i];
}
