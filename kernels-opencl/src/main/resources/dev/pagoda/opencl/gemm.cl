// Batched GEMM C[b] = A[b] · B[b] (+ bias), tiled through local memory.
//
// A work-group computes a GEMM_TS × GEMM_TS tile of C; each of its GEMM_RTS² work-items owns a
// GEMM_WPT × GEMM_WPT register block whose rows and columns are GEMM_RTS apart, so neighbouring
// work-items store neighbouring columns. K advances GEMM_TK at a time: the work-group stages the
// A and B slabs in local memory (zero outside the matrix, so ragged edges need no special case in
// the inner loop) and every work-item reads them GEMM_WPT times.
//
// A and B are strided: A(m, k) = A[aBase + m·aRowStride + k·aColStride] and likewise for B, so
// transposed views and linear's weightᵀ are read in place. batchOffsets holds (aBase, bBase) per
// batch entry, computed on the host from the broadcast batch dimensions. C is contiguous.
// The tile sizes are -D options chosen from the device's work-group limit.

#define GEMM_RTS (GEMM_TS / GEMM_WPT)

#define GEMM(NAME, TB, LOADB)                                                                    \
__kernel __attribute__((reqd_work_group_size(GEMM_RTS, GEMM_RTS, 1)))                            \
void NAME(const int M, const int N, const int K,                                                \
          __global const float* A, const long aRowStride, const long aColStride,                \
          __global const TB* B, const long bRowStride, const long bColStride,                   \
          __global const long* batchOffsets,                                                    \
          __global const float* bias, const long biasOffset, const int hasBias,                 \
          __global float* C) {                                                                  \
    __local float As[GEMM_TK][GEMM_TS];                                                          \
    __local float Bs[GEMM_TK][GEMM_TS];                                                          \
    const int tn = get_local_id(0);                                                              \
    const int tm = get_local_id(1);                                                              \
    const int tid = tm * GEMM_RTS + tn;                                                          \
    const int n0 = get_group_id(0) * GEMM_TS;                                                    \
    const int m0 = get_group_id(1) * GEMM_TS;                                                    \
    const long batch = get_global_id(2);                                                         \
    const long aBase = batchOffsets[2 * batch];                                                  \
    const long bBase = batchOffsets[2 * batch + 1];                                              \
    /* Stage along whichever index is unit-stride, so that neighbouring work-items read */      \
    /* neighbouring addresses. */                                                                \
    const int aKFast = aColStride == 1;                                                          \
    const int bKFast = bRowStride == 1;                                                          \
    float acc[GEMM_WPT][GEMM_WPT];                                                               \
    for (int i = 0; i < GEMM_WPT; i++) {                                                         \
        for (int j = 0; j < GEMM_WPT; j++) {                                                     \
            acc[i][j] = 0.0f;                                                                    \
        }                                                                                        \
    }                                                                                            \
    for (int k0 = 0; k0 < K; k0 += GEMM_TK) {                                                    \
        for (int l = tid; l < GEMM_TK * GEMM_TS; l += GEMM_RTS * GEMM_RTS) {                     \
            int kk = aKFast ? l % GEMM_TK : l / GEMM_TS;                                         \
            int mm = aKFast ? l / GEMM_TK : l % GEMM_TS;                                         \
            int m = m0 + mm;                                                                     \
            int k = k0 + kk;                                                                     \
            As[kk][mm] = (m < M && k < K)                                                        \
                    ? A[aBase + m * aRowStride + k * aColStride] : 0.0f;                         \
        }                                                                                        \
        for (int l = tid; l < GEMM_TK * GEMM_TS; l += GEMM_RTS * GEMM_RTS) {                     \
            int kk = bKFast ? l % GEMM_TK : l / GEMM_TS;                                         \
            int nn = bKFast ? l / GEMM_TK : l % GEMM_TS;                                         \
            int n = n0 + nn;                                                                     \
            int k = k0 + kk;                                                                     \
            Bs[kk][nn] = (n < N && k < K)                                                        \
                    ? LOADB(B, bBase + k * bRowStride + n * bColStride) : 0.0f;                  \
        }                                                                                        \
        barrier(CLK_LOCAL_MEM_FENCE);                                                            \
        for (int kk = 0; kk < GEMM_TK; kk++) {                                                   \
            float a[GEMM_WPT];                                                                   \
            float b[GEMM_WPT];                                                                   \
            for (int w = 0; w < GEMM_WPT; w++) {                                                 \
                a[w] = As[kk][tm + w * GEMM_RTS];                                                \
                b[w] = Bs[kk][tn + w * GEMM_RTS];                                                \
            }                                                                                    \
            for (int i = 0; i < GEMM_WPT; i++) {                                                 \
                for (int j = 0; j < GEMM_WPT; j++) {                                             \
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);                                      \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
        barrier(CLK_LOCAL_MEM_FENCE);                                                            \
    }                                                                                            \
    for (int i = 0; i < GEMM_WPT; i++) {                                                         \
        int m = m0 + tm + i * GEMM_RTS;                                                          \
        if (m < M) {                                                                             \
            for (int j = 0; j < GEMM_WPT; j++) {                                                 \
                int n = n0 + tn + j * GEMM_RTS;                                                  \
                if (n < N) {                                                                     \
                    C[(batch * M + m) * (long) N + n] = acc[i][j]                                    \
                            + (hasBias ? bias[biasOffset + n] : 0.0f);                           \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
}

GEMM(gemm_f32, float, LOAD_F32)
GEMM(gemm_f16, half, LOAD_F16)
GEMM(gemm_bf16, ushort, LOAD_BF16)
