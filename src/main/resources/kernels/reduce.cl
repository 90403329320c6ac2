// Reductions: sum of a whole tensor, sum (or sum of squares) of each group of consecutive
// elements, argmax of each group.
//
// Indexing:
// - sum: ONE work group of G work items (G a power of two). Work item t adds up elements
//   t, t + G, t + 2G, ... into a private total; then the group adds the G totals pairwise in local
//   memory (a tree: t += t + G/2, then t += t + G/4, ...). The order of every addition is fixed by n
//   and G, so the result is the same run after run (no atomics, no dependence on timing).
// - group_sums: one work group per group of cols consecutive elements (work group r reads group
//   r), the same two steps inside it.
// - argmax_rows: one work item per row; it scans its row left to right (rows are short: classes).
//
// The scratch argument is __local memory of G floats, given by the host.

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

// out[0] = sum of x[0 .. n)
__kernel void sum_all(__global const float* x, __global float* out, const int n, __local float* scratch) {
    int t = get_local_id(0), groupSize = get_local_size(0);
    float mine = 0.0f;
    for (int i = t; i < n; i += groupSize) mine += x[i];
    float total = group_sum(scratch, mine);
    if (t == 0) out[0] = total;
}

// out[r] = sum of x[r, c] (squares != 0: of x[r, c]^2) over the cols elements of row r
__kernel void group_sums(__global const float* x, __global float* out, const int cols, const int squares,
                         __local float* scratch) {
    int row = get_group_id(0), t = get_local_id(0), groupSize = get_local_size(0);
    __global const float* rowStart = x + (long) row * cols;
    float mine = 0.0f;
    for (int c = t; c < cols; c += groupSize) mine += squares ? rowStart[c] * rowStart[c] : rowStart[c];
    float total = group_sum(scratch, mine);
    if (t == 0) out[row] = total;
}

// out[r] = the first index of the largest element of row r (as a float); NaN is never the largest.
__kernel void argmax_rows(__global const float* x, __global float* out, const int rows, const int cols) {
    int row = get_global_id(0);
    if (row >= rows) return;
    __global const float* rowStart = x + (long) row * cols;
    int best = 0;
    for (int c = 1; c < cols; c++) {
        if (rowStart[c] > rowStart[best]) best = c;
    }
    out[row] = (float) best;
}
