// The fully connected layer, y = x . w^T + b, and its backward, as matrix products.
// x is [batch, in], w is [out, in], b is [out], y is [batch, out]; everything row-major.
//
// Two versions of the same arithmetic:
//
// PLAIN kernels, one work item per output element, a loop over the reduction inside it:
// - linear_forward:          item (n, o) reads row n of x and row o of w, writes y[n, o].
// - linear_backward_input:   item (n, i) reads row n of dy and column i of w, adds into dx[n, i].
// - linear_backward_weight:  item (o, i) reads column o of dy and column i of x, adds into dw[o, i].
// - linear_backward_bias:    item o reads column o of dy, adds into db[o].
// Global range: (columns, rows) of the output, so neighbouring work items (dimension 0) write
// neighbouring elements.
//
// TILED kernel gemm_tiled: C[m, n] (+)= sum_k A(m, k) * B(k, n) (+ bias[n]), with A and B read
// through strides, so one kernel does all three products:
//   forward          C = y  [batch, out], A = x  (m = n, k = i),   B = w^T (B(k, n) = w[n, k])
//   backward input   C = dx [batch, in],  A = dy (m = n, k = o),   B = w   (B(k, n) = w[k, n])
//   backward weight  C = dw [out, in],    A = dy^T (A(m, k) = dy[k, m]), B = x
// A work group computes one GEMM_TILE_M x GEMM_TILE_N tile of C. It walks the reduction in slices
// of GEMM_TILE_K: all its work items copy an A slice [GEMM_TILE_M x GEMM_TILE_K] and a B slice
// [GEMM_TILE_K x GEMM_TILE_N] from global into local memory (each element read from global memory
// once per work group instead of once per output), wait at a barrier, and multiply out of local
// memory. Work item (tx, ty) keeps GEMM_WORK_M rows x 8 neighbouring columns of C in registers, one
// float8 per row (register blocking: each B vector loaded serves GEMM_WORK_M rows, each A value 8
// columns; on a CPU the float8 is one SIMD register). Its rows are ty + i * (GEMM_TILE_M /
// GEMM_WORK_M), its columns 8 tx .. 8 tx + 7. Local size: (GEMM_TILE_N / 8, GEMM_TILE_M / GEMM_WORK_M);
// global size: the tiles covering C, edges padded with zeros and masked on the way out.
//
// Each output element is computed by exactly one work item, in a fixed order: no atomics, and the
// same result on every run.

// ---- plain -------------------------------------------------------------------------------------

__kernel void linear_forward(__global const float* x, __global const float* w, __global const float* bias,
                             const int hasBias, __global float* y, const int batch, const int inFeatures,
                             const int outFeatures) {
    int o = get_global_id(0), n = get_global_id(1);
    if (o >= outFeatures || n >= batch) return;
    __global const float* xRow = x + (long) n * inFeatures;
    __global const float* wRow = w + (long) o * inFeatures;
    float acc = 0.0f;
    for (int i = 0; i < inFeatures; i++) acc += xRow[i] * wRow[i];
    y[(long) n * outFeatures + o] = acc + (hasBias ? bias[o] : 0.0f);
}

// dx[n, i] += sum over o of dy[n, o] * w[o, i]
__kernel void linear_backward_input(__global const float* dy, __global const float* w, __global float* dx,
                                    const int batch, const int inFeatures, const int outFeatures) {
    int i = get_global_id(0), n = get_global_id(1);
    if (i >= inFeatures || n >= batch) return;
    float acc = dx[(long) n * inFeatures + i];
    for (int o = 0; o < outFeatures; o++) acc += dy[(long) n * outFeatures + o] * w[(long) o * inFeatures + i];
    dx[(long) n * inFeatures + i] = acc;
}

// dw[o, i] += sum over n of dy[n, o] * x[n, i]
__kernel void linear_backward_weight(__global const float* dy, __global const float* x, __global float* dw,
                                     const int batch, const int inFeatures, const int outFeatures) {
    int i = get_global_id(0), o = get_global_id(1);
    if (i >= inFeatures || o >= outFeatures) return;
    float acc = dw[(long) o * inFeatures + i];
    for (int n = 0; n < batch; n++) acc += dy[(long) n * outFeatures + o] * x[(long) n * inFeatures + i];
    dw[(long) o * inFeatures + i] = acc;
}

// db[o] += sum over n of dy[n, o]
__kernel void linear_backward_bias(__global const float* dy, __global float* db, const int batch, const int outFeatures) {
    int o = get_global_id(0);
    if (o >= outFeatures) return;
    float acc = db[o];
    for (int n = 0; n < batch; n++) acc += dy[(long) n * outFeatures + o];
    db[o] = acc;
}

// ---- tiled ---------------------------------------------------------------------------------------

// Tile sizes; the host may set others with -D (GEMM_TILE_N a multiple of 8, GEMM_WORK_M dividing GEMM_TILE_M).
#ifndef GEMM_TILE_M
#define GEMM_TILE_M 32
#endif
#ifndef GEMM_TILE_N
#define GEMM_TILE_N 64
#endif
#ifndef GEMM_TILE_K
#define GEMM_TILE_K 32
#endif
#ifndef GEMM_WORK_M
#define GEMM_WORK_M 4
#endif
#define GEMM_THREADS_M (GEMM_TILE_M / GEMM_WORK_M)   // work items along M
#define GEMM_THREADS_N (GEMM_TILE_N / 8)             // work items along N, 8 columns each
#define GEMM_THREADS (GEMM_THREADS_M * GEMM_THREADS_N)
#if GEMM_TILE_M % GEMM_WORK_M != 0 || GEMM_TILE_N % 8 != 0
#error "GEMM_WORK_M must divide GEMM_TILE_M, and GEMM_TILE_N be a multiple of 8"
#endif

// accumulate = 0: C = A.B (+ bias); accumulate = 1: C += A.B
__kernel __attribute__((reqd_work_group_size(GEMM_THREADS_N, GEMM_THREADS_M, 1)))
void gemm_tiled(const int M, const int N, const int K,
                __global const float* A, const int aRowStride, const int aColStride,
                __global const float* B, const int bRowStride, const int bColStride,
                __global float* C, const int accumulate, __global const float* bias, const int hasBias) {
    __local float aTile[GEMM_TILE_M][GEMM_TILE_K];   // aTile[m][k] = A(m0 + m, k0 + k)
    __local float bTile[GEMM_TILE_K][GEMM_TILE_N];   // bTile[k][n] = B(k0 + k, n0 + n)
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int item = ty * GEMM_THREADS_N + tx;
    const int m0 = get_group_id(1) * GEMM_TILE_M, n0 = get_group_id(0) * GEMM_TILE_N;

    float8 acc[GEMM_WORK_M];
    for (int i = 0; i < GEMM_WORK_M; i++) acc[i] = (float8)(0.0f);

    for (int k0 = 0; k0 < K; k0 += GEMM_TILE_K) {
        // Copy the two slices; every work item copies every GEMM_THREADS-th element, zero outside the matrices.
        for (int e = item; e < GEMM_TILE_M * GEMM_TILE_K; e += GEMM_THREADS) {
            int m = e / GEMM_TILE_K, k = e % GEMM_TILE_K;
            bool inside = m0 + m < M && k0 + k < K;
            aTile[m][k] = inside ? A[(long) (m0 + m) * aRowStride + (long) (k0 + k) * aColStride] : 0.0f;
        }
        for (int e = item; e < GEMM_TILE_K * GEMM_TILE_N; e += GEMM_THREADS) {
            int k = e / GEMM_TILE_N, n = e % GEMM_TILE_N;
            bool inside = k0 + k < K && n0 + n < N;
            bTile[k][n] = inside ? B[(long) (k0 + k) * bRowStride + (long) (n0 + n) * bColStride] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        for (int k = 0; k < GEMM_TILE_K; k++) {
            float8 b = vload8(tx, bTile[k]);
            for (int i = 0; i < GEMM_WORK_M; i++) acc[i] += aTile[ty + i * GEMM_THREADS_M][k] * b;
        }
        barrier(CLK_LOCAL_MEM_FENCE);  // the slices are overwritten next round
    }

    const int nFirst = n0 + tx * 8;
    float8 biasLanes = (float8)(0.0f);
    if (hasBias) {
        float lanes[8];
        for (int j = 0; j < 8; j++) lanes[j] = nFirst + j < N ? bias[nFirst + j] : 0.0f;
        biasLanes = vload8(0, lanes);
    }
    for (int i = 0; i < GEMM_WORK_M; i++) {
        int m = m0 + ty + i * GEMM_THREADS_M;
        if (m >= M) break;
        float lanes[8];
        vstore8(acc[i] + biasLanes, 0, lanes);
        __global float* row = C + (long) m * N;
        for (int j = 0; j < 8 && nFirst + j < N; j++) row[nFirst + j] = accumulate ? row[nFirst + j] + lanes[j] : lanes[j];
    }
}

// ---- rows (CPU devices) ----------------------------------------------------------------------------
//
// For CPU runtimes such as PoCL (OpenClBackend.Kernels.ROWS): no local memory, no barriers; each
// work item keeps a register tile of C in float16 vectors, as the Java backend's micro-kernels do.
//
// - gemm_rows: C[m, n] (+)= sum_k A(m, k) * B[k * bRowStride + n] (+ bias[n]), B contiguous along n
//   (the two backward products). Work item (dimension 0, dimension 1) = (block of 32 columns, block
//   of GEMM_ROWS_M rows); for every k it loads 2 vectors of B's row k and broadcasts GEMM_ROWS_M
//   values of A into them: 2 x GEMM_ROWS_M accumulators.
// - gemm_dot_rows: C[m, n] = sum_k A[m * K + k] * B[n * K + k] (+ bias[n]), both contiguous along k
//   (the forward product, x . w^T). Work item = GEMM_DOT_M rows x GEMM_DOT_N columns of C; it walks
//   k 16 at a time, one float16 accumulator per element of its tile, and adds each one's lanes in a
//   fixed order at the end.

#define GEMM_ROWS_M 6
#define GEMM_DOT_M 4
#define GEMM_DOT_N 4

// 16 floats of p from index `from`, lanes at or past `end` zero (the tail of a row).
static inline float16 load16_until(__global const float* p, int from, int end) {
    if (from + 16 <= end) return vload16(0, p + from);
    float lanes[16];
    for (int l = 0; l < 16; l++) lanes[l] = from + l < end ? p[from + l] : 0.0f;
    return vload16(0, lanes);
}

__kernel void gemm_rows(const int M, const int N, const int K,
                        __global const float* A, const int aRowStride, const int aColStride,
                        __global const float* B, const int bRowStride,
                        __global float* C, const int accumulate, __global const float* bias, const int hasBias) {
    const int n0 = get_global_id(0) * 32, m0 = get_global_id(1) * GEMM_ROWS_M;
    if (n0 >= N || m0 >= M) return;
    const bool fullWidth = n0 + 32 <= N;
    int rowOf[GEMM_ROWS_M];  // rows past the last: any row, never stored
    #pragma unroll
    for (int i = 0; i < GEMM_ROWS_M; i++) rowOf[i] = min(m0 + i, M - 1) * aRowStride;

    float16 acc0[GEMM_ROWS_M], acc1[GEMM_ROWS_M];
    #pragma unroll
    for (int i = 0; i < GEMM_ROWS_M; i++) { acc0[i] = (float16)(0.0f); acc1[i] = (float16)(0.0f); }
    for (int k = 0; k < K; k++) {
        __global const float* bRow = B + (long) k * bRowStride;
        float16 b0 = fullWidth ? vload16(0, bRow + n0) : load16_until(bRow, n0, N);
        float16 b1 = fullWidth ? vload16(0, bRow + n0 + 16) : load16_until(bRow, n0 + 16, N);
        #pragma unroll
        for (int i = 0; i < GEMM_ROWS_M; i++) {
            float16 a = (float16)(A[rowOf[i] + (long) k * aColStride]);
            acc0[i] = fma(a, b0, acc0[i]);
            acc1[i] = fma(a, b1, acc1[i]);
        }
    }
    for (int i = 0; i < GEMM_ROWS_M && m0 + i < M; i++) {
        float lanes[32];
        vstore16(acc0[i], 0, lanes);
        vstore16(acc1[i], 1, lanes);
        __global float* row = C + (long) (m0 + i) * N;
        for (int j = 0; j < 32 && n0 + j < N; j++) {
            float value = lanes[j] + (hasBias ? bias[n0 + j] : 0.0f);
            row[n0 + j] = accumulate ? row[n0 + j] + value : value;
        }
    }
}

__kernel void gemm_dot_rows(const int M, const int N, const int K, __global const float* A, __global const float* B,
                            __global float* C, __global const float* bias, const int hasBias) {
    const int n0 = get_global_id(0) * GEMM_DOT_N, m0 = get_global_id(1) * GEMM_DOT_M;
    if (n0 >= N || m0 >= M) return;
    __global const float* aRow[GEMM_DOT_M];
    __global const float* bRow[GEMM_DOT_N];
    #pragma unroll
    for (int i = 0; i < GEMM_DOT_M; i++) aRow[i] = A + (long) min(m0 + i, M - 1) * K;  // past the last: any row
    #pragma unroll
    for (int j = 0; j < GEMM_DOT_N; j++) bRow[j] = B + (long) min(n0 + j, N - 1) * K;

    float16 acc[GEMM_DOT_M][GEMM_DOT_N];
    #pragma unroll
    for (int i = 0; i < GEMM_DOT_M; i++) {
        #pragma unroll
        for (int j = 0; j < GEMM_DOT_N; j++) acc[i][j] = (float16)(0.0f);
    }
    for (int k = 0; k < K; k += 16) {
        float16 a[GEMM_DOT_M], b[GEMM_DOT_N];
        #pragma unroll
        for (int i = 0; i < GEMM_DOT_M; i++) a[i] = load16_until(aRow[i], k, K);
        #pragma unroll
        for (int j = 0; j < GEMM_DOT_N; j++) b[j] = load16_until(bRow[j], k, K);
        #pragma unroll
        for (int i = 0; i < GEMM_DOT_M; i++) {
            #pragma unroll
            for (int j = 0; j < GEMM_DOT_N; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
    }
    for (int i = 0; i < GEMM_DOT_M && m0 + i < M; i++) {
        for (int j = 0; j < GEMM_DOT_N && n0 + j < N; j++) {
            float16 s = acc[i][j];
            float8 h = s.lo + s.hi;
            float4 f = h.lo + h.hi;
            C[(long) (m0 + i) * N + n0 + j] = ((f.x + f.y) + (f.z + f.w)) + (hasBias ? bias[n0 + j] : 0.0f);
        }
    }
}
