// Group, layer and RMS norm over contiguous float32 rows: one work-group per normalised group
// (group norm: one (n, group) slice of cg·hw elements; layer/RMS norm: one row). Moments are two
// passes (mean, then the mean of squared deviations) accumulated in double where the device has
// it, so a 80k-element SDXL group does not lose digits to float32 summation.

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

inline acc_t reduce_acc(__local acc_t* scratch, acc_t v) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s) {
            scratch[lid] += scratch[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    acc_t r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline acc_t slice_mean(__global const float* x, long len, __local acc_t* scratch) {
    acc_t s = 0;
    for (long j = get_local_id(0); j < len; j += get_local_size(0)) {
        s += x[j];
    }
    return reduce_acc(scratch, s) / (acc_t) len;
}

inline acc_t slice_var(__global const float* x, long len, acc_t mean, __local acc_t* scratch) {
    acc_t s = 0;
    for (long j = get_local_id(0); j < len; j += get_local_size(0)) {
        acc_t d = x[j] - mean;
        s += d * d;
    }
    return reduce_acc(scratch, s) / (acc_t) len;
}

// x, out: [N, C, hw]; gamma, beta: [C] float32.
__kernel void group_norm(__global const float* x, __global float* out, const int channels, const int groups,
                         const long hw, __global const float* gamma, __global const float* beta,
                         const float eps, const int silu, __local acc_t* scratch) {
    const long slice = get_group_id(0);
    const int g = slice % groups;
    const int cg = channels / groups;
    const long len = cg * hw;
    __global const float* xs = x + slice * len;
    __global float* os = out + slice * len;
    acc_t mean = slice_mean(xs, len, scratch);
    acc_t var = slice_var(xs, len, mean, scratch);
    float m = (float) mean;
    float rstd = (float) (1.0 / sqrt(var + (acc_t) eps));
    for (long j = get_local_id(0); j < len; j += get_local_size(0)) {
        int c = g * cg + (int) (j / hw);
        float y = (xs[j] - m) * rstd * gamma[c] + beta[c];
        os[j] = silu ? y / (1.0f + exp(-y)) : y;
    }
}

// x, out: [rows, d]; gamma, beta: [d] float32 (hasAffine 0: identity).
__kernel void layer_norm(__global const float* x, __global float* out, const int d,
                         __global const float* gamma, __global const float* beta, const int hasGamma,
                         const int hasBeta, const float eps, __local acc_t* scratch) {
    const long row = get_group_id(0);
    __global const float* xr = x + row * d;
    __global float* orow = out + row * d;
    acc_t mean = slice_mean(xr, d, scratch);
    acc_t var = slice_var(xr, d, mean, scratch);
    float m = (float) mean;
    float rstd = (float) (1.0 / sqrt(var + (acc_t) eps));
    for (int j = get_local_id(0); j < d; j += get_local_size(0)) {
        float y = (xr[j] - m) * rstd;
        if (hasGamma) {
            y *= gamma[j];
        }
        if (hasBeta) {
            y += beta[j];
        }
        orow[j] = y;
    }
}

// T5 layer norm: x / sqrt(mean(x²) + eps) · gamma.
__kernel void rms_norm(__global const float* x, __global float* out, const int d, __global const float* gamma,
                       const float eps, __local acc_t* scratch) {
    const long row = get_group_id(0);
    __global const float* xr = x + row * d;
    __global float* orow = out + row * d;
    acc_t s = 0;
    for (int j = get_local_id(0); j < d; j += get_local_size(0)) {
        acc_t v = xr[j];
        s += v * v;
    }
    acc_t ms = reduce_acc(scratch, s) / (acc_t) d;
    float rstd = (float) (1.0 / sqrt(ms + (acc_t) eps));
    for (int j = get_local_id(0); j < d; j += get_local_size(0)) {
        orow[j] = xr[j] * rstd * gamma[j];
    }
}
