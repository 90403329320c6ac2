// Row-wise log-softmax and the negative log-likelihood loss, forward and backward.
//
// Indexing: one work item per row of a [rows, cols] matrix (a row is one image's class scores;
// cols is small, 10 for CIFAR-10). Work item r reads row r (and labels[r]) and writes row r (or
// losses[r]) only: no two work items touch the same element.
//
// FP_CONTRACT OFF: keep every rounding step where the Java kernel has it.
#pragma OPENCL FP_CONTRACT OFF

// y = x - max - log(sum(exp(x - max))): subtracting the row's largest value first keeps exp from overflowing.
__kernel void log_softmax(__global const float* input, __global float* output, const int rows, const int cols) {
    int row = get_global_id(0);
    if (row >= rows) return;
    __global const float* x = input + (long) row * cols;
    __global float* y = output + (long) row * cols;
    float largest = -INFINITY;
    for (int c = 0; c < cols; c++) largest = fmax(largest, x[c]);
    float sum = 0.0f;
    for (int c = 0; c < cols; c++) sum += exp(x[c] - largest);
    float logSum = log(sum);
    for (int c = 0; c < cols; c++) y[c] = x[c] - largest - logSum;
}

// dx += dy - softmax * sum(dy), with softmax = exp(y) recovered from the output.
__kernel void log_softmax_backward(__global const float* output, __global const float* outputGrad,
                                   __global float* inputGrad, const int rows, const int cols) {
    int row = get_global_id(0);
    if (row >= rows) return;
    long base = (long) row * cols;
    float gradSum = 0.0f;
    for (int c = 0; c < cols; c++) gradSum += outputGrad[base + c];
    for (int c = 0; c < cols; c++) {
        float softmaxTimesSum = exp(output[base + c]) * gradSum;
        inputGrad[base + c] += outputGrad[base + c] - softmaxTimesSum;
    }
}

// A label is a class index stored as a float; anything else is not a class.
static inline int class_index(float label, int cols) {
    int index = (int) label;
    return ((float) index == label && index >= 0 && index < cols) ? index : -1;
}

// losses[r] = -logProbs[r, labels[r]]. A label that is not a class index gives NaN: the device
// cannot throw, and a NaN loss is impossible to miss.
__kernel void nll_loss(__global const float* logProbs, __global const float* labels, __global float* losses,
                       const int rows, const int cols) {
    int row = get_global_id(0);
    if (row >= rows) return;
    int label = class_index(labels[row], cols);
    losses[row] = label < 0 ? NAN : -logProbs[(long) row * cols + label];
}

// logProbsGrad[r, labels[r]] -= lossesGrad[r]
__kernel void nll_loss_backward(__global const float* labels, __global const float* lossesGrad,
                                __global float* logProbsGrad, const int rows, const int cols) {
    int row = get_global_id(0);
    if (row >= rows) return;
    int label = class_index(labels[row], cols);
    if (label >= 0) logProbsGrad[(long) row * cols + label] -= lossesGrad[row];
}
