// sgd_step: SGD with PyTorch's momentum, velocity = momentum * velocity + grad; param -= lr * velocity.
//
// Indexing: a 1-D range of n work items; work item i reads grad[i], updates velocity[i] and
// param[i], and touches nothing else.
//
// FP_CONTRACT OFF: each multiply and add rounds separately, as in the Java backend, so a training
// run gives the same weights bit for bit on both backends as long as the gradients agree.
#pragma OPENCL FP_CONTRACT OFF

__kernel void sgd_step(__global float* param, __global const float* grad, __global float* velocity,
                       const float lr, const float momentum, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float v = momentum * velocity[i] + grad[i];
    velocity[i] = v;
    param[i] -= lr * v;
}
