// Element-wise kernels over strided, broadcast operands; the output is contiguous. Binary kernels
// read a and b at the offsets of the output index under their own (possibly zero) strides.

#define BINARY(NAME, EXPR)                                                                       \
__kernel void NAME(__global const float* a, const long aOffset, const long8 aStride,             \
                   __global const float* b, const long bOffset, const long8 bStride,             \
                   __global float* out, const long n, const int rank, const int8 shape,          \
                   const float alpha, const float beta) {                                        \
    long i = get_global_id(0);                                                                   \
    if (i < n) {                                                                                 \
        long2 o = strided_offset2(i, rank, shape, aStride, bStride);                             \
        float x = a[aOffset + o.x];                                                              \
        float y = b[bOffset + o.y];                                                              \
        out[i] = EXPR;                                                                           \
    }                                                                                            \
}

// add and sub are axpby with alpha = 1 and beta = ±1: multiplying by ±1 is exact, so even a
// contracted fma(alpha, x, beta * y) rounds once, exactly like x ± y.
BINARY(ew_axpby, alpha * x + beta * y)
BINARY(ew_mul, x * y)
BINARY(ew_div, x / y)

#define UNARY(NAME, EXPR)                                                                        \
__kernel void NAME(__global const float* a, const long aOffset, const long8 aStride,             \
                   __global float* out, const long n, const int rank, const int8 shape,          \
                   const float p, const float q) {                                               \
    long i = get_global_id(0);                                                                   \
    if (i < n) {                                                                                 \
        float x = a[aOffset + strided_offset(i, rank, shape, aStride)];                          \
        out[i] = EXPR;                                                                           \
    }                                                                                            \
}

UNARY(ew_affine, x * p + q)
UNARY(ew_exp, exp(x))
// Comparisons (not fmin/fmax) so that NaN passes through, as torch.clamp does.
UNARY(ew_clamp, x < p ? p : (x > q ? q : x))
// x / (1 + e^-x) saturates to ±0 and x at the extremes instead of producing inf·0.
UNARY(ew_silu, x / (1.0f + exp(-x)))
UNARY(ew_quick_gelu, x / (1.0f + exp(-1.702f * x)))
UNARY(ew_gelu_erf, 0.5f * x * (1.0f + erf(x * 0.70710678118654752f)))
UNARY(ew_gelu_tanh, 0.5f * x * (1.0f + tanh(0.79788456080286536f * (x + 0.044715f * x * x * x))))
