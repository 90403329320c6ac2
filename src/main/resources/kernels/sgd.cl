// sgd_step: SGD with PyTorch's momentum and weight decay, g = grad + weight_decay * param;
// velocity = momentum * velocity + g; param -= lr * velocity.
//
// Indexing: a 1-D range of n work items; work item i reads grad[i], updates velocity[i] and
// param[i], and touches nothing else (g stays in a register: grad is not written).
//
// FP_CONTRACT OFF: each multiply and add rounds separately, as in the Java backend, so a training
// run gives the same weights bit for bit on both backends as long as the gradients agree. A zero
// weight_decay skips the term (the branch is the same for every work item), so it gives the bits of
// SGD without decay.
#pragma OPENCL FP_CONTRACT OFF

__kernel void sgd_step(__global float* param, __global const float* grad, __global float* velocity,
                       const float lr, const float momentum, const float weight_decay, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = grad[i];
    if (weight_decay != 0.0f) g += weight_decay * param[i];
    float v = momentum * velocity[i] + g;
    velocity[i] = v;
    param[i] -= lr * v;
}
