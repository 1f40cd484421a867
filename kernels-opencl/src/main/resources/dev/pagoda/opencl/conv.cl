// 2-D convolution as an implicit GEMM per group: C[m, p] = Σ_k W[m, k] · X̂[k, p] with m the output
// channel, p = (n, oy, ox) the output pixel and k = (ci, ky, kx) the filter tap. X̂ (the im2col
// matrix) is never stored: the work-group gathers its slab straight from the NCHW input, zero
// outside the image. The tiling is the GEMM's (gemm.cl): GEMM_TS² outputs per work-group, a
// GEMM_WPT² register block per work-item, K staged GEMM_TK at a time in local memory. Half
// weights are widened as they are staged.

#define CONV(NAME, TW, LOADW)                                                                    \
__kernel __attribute__((reqd_work_group_size(GEMM_RTS, GEMM_RTS, 1)))                            \
void NAME(const int batch, const int cin, const int h, const int w,                             \
          const int cout, const int ho, const int wo, const int kh, const int kw,               \
          const int stride, const int pad,                                                      \
          __global const float* x, const long xOffset,                                          \
          __global const TW* wt, const long wOffset,                                            \
          __global const float* bias, const long biasOffset, const int hasBias,                 \
          __global float* out) {                                                                \
    __local float As[GEMM_TK][GEMM_TS];                                                          \
    __local float Bs[GEMM_TK][GEMM_TS];                                                          \
    const int groups = get_num_groups(2);                                                        \
    const int g = get_group_id(2);                                                               \
    const int cg = cin / groups;                                                                 \
    const int M = cout / groups;                                                                 \
    const int taps = kh * kw;                                                                    \
    const int K = cg * taps;                                                                     \
    const int hw = ho * wo;                                                                      \
    const int P = batch * hw;                                                                    \
    const int tn = get_local_id(0);                                                              \
    const int tm = get_local_id(1);                                                              \
    const int tid = tm * GEMM_RTS + tn;                                                          \
    const int p0 = get_group_id(0) * GEMM_TS;                                                    \
    const int m0 = get_group_id(1) * GEMM_TS;                                                    \
    float acc[GEMM_WPT][GEMM_WPT];                                                               \
    for (int i = 0; i < GEMM_WPT; i++) {                                                         \
        for (int j = 0; j < GEMM_WPT; j++) {                                                     \
            acc[i][j] = 0.0f;                                                                    \
        }                                                                                        \
    }                                                                                            \
    for (int k0 = 0; k0 < K; k0 += GEMM_TK) {                                                    \
        for (int l = tid; l < GEMM_TK * GEMM_TS; l += GEMM_RTS * GEMM_RTS) {                     \
            int kk = l % GEMM_TK;                                                                \
            int mm = l / GEMM_TK;                                                                \
            int m = m0 + mm;                                                                     \
            int k = k0 + kk;                                                                     \
            As[kk][mm] = (m < M && k < K)                                                        \
                    ? LOADW(wt, wOffset + (long) (g * M + m) * K + k) : 0.0f;                    \
        }                                                                                        \
        for (int l = tid; l < GEMM_TK * GEMM_TS; l += GEMM_RTS * GEMM_RTS) {                     \
            int kk = l / GEMM_TS;                                                                \
            int pp = l % GEMM_TS;                                                                \
            int p = p0 + pp;                                                                     \
            int k = k0 + kk;                                                                     \
            float v = 0.0f;                                                                      \
            if (p < P && k < K) {                                                                \
                int n = p / hw;                                                                  \
                int s = p - n * hw;                                                              \
                int oy = s / wo;                                                                 \
                int ox = s - oy * wo;                                                            \
                int ci = k / taps;                                                               \
                int t = k - ci * taps;                                                           \
                int ky = t / kw;                                                                 \
                int kx = t - ky * kw;                                                            \
                int iy = oy * stride - pad + ky;                                                 \
                int ix = ox * stride - pad + kx;                                                 \
                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {                                    \
                    v = x[xOffset + (((long) n * cin + g * cg + ci) * h + iy) * w + ix];         \
                }                                                                                \
            }                                                                                    \
            Bs[kk][pp] = v;                                                                      \
        }                                                                                        \
        barrier(CLK_LOCAL_MEM_FENCE);                                                            \
        for (int kk = 0; kk < GEMM_TK; kk++) {                                                   \
            float a[GEMM_WPT];                                                                   \
            float b[GEMM_WPT];                                                                   \
            for (int q = 0; q < GEMM_WPT; q++) {                                                 \
                a[q] = As[kk][tm + q * GEMM_RTS];                                                \
                b[q] = Bs[kk][tn + q * GEMM_RTS];                                                \
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
            int co = g * M + m;                                                                  \
            float b0 = hasBias ? bias[biasOffset + co] : 0.0f;                                   \
            for (int j = 0; j < GEMM_WPT; j++) {                                                 \
                int p = p0 + tn + j * GEMM_RTS;                                                  \
                if (p < P) {                                                                     \
                    int n = p / hw;                                                              \
                    int s = p - n * hw;                                                          \
                    out[((long) n * cout + co) * hw + s] = acc[i][j] + b0;                       \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
}

CONV(gemm_conv_f32, float, LOAD_F32)
CONV(gemm_conv_f16, half, LOAD_F16)
CONV(gemm_conv_bf16, ushort, LOAD_BF16)
