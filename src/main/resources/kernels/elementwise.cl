// Elementwise kernels: fill, copy, add, axpy, affine, sign, clamp, rsqrt, minimum, maximum, relu and
// its backward, and binary_groups and axpy_groups, whose second operand is repeated over groups.
//
// Indexing: a 1-D range of n work items. Work item i reads element i of each input (for the
// _groups kernels, element i / groupSize of the repeated one) and writes element i of the output,
// nothing else, so "out" may be the same buffer as an input.
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

// out[i] = op(a[i], b[i / groupSize]) with op 0 add, 1 multiply, 2 min, 3 max (Backend.BinaryOp's
// order): b repeated over groups of groupSize consecutive elements (per-image scales, say).
__kernel void binary_groups(__global const float* a, __global const float* b, __global float* out,
                            const int op, const int groupSize, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float x = a[i], y = b[i / groupSize];
    out[i] = op == 0 ? x + y : op == 1 ? x * y : op == 2 ? java_min(x, y) : java_max(x, y);
}

// y[i] += alpha * x[i / groupSize]: x repeated over groups of groupSize consecutive elements (a
// single scalar for the backward of a sum or mean).
__kernel void axpy_groups(const float alpha, __global const float* x, __global float* y, const int groupSize, const int n) {
    int i = get_global_id(0);
    if (i < n) {
        float step = alpha * x[i / groupSize];
        y[i] += step;
    }
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
