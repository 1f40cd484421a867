// Softmax over the last dimension of a contiguous [rows, L] buffer: one work-group per row,
// max-shifted so that large logits do not overflow; the work-group size is a power of two for the
// tree reductions in local memory.

inline float reduce_max(__local float* scratch, float v) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s) {
            scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline float reduce_sum(__local float* scratch, float v) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s) {
            scratch[lid] += scratch[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

__kernel void softmax_rows(__global const float* x, const long xOffset, __global float* out,
                           const int L, __local float* scratch) {
    const long row = get_group_id(0);
    const int lid = get_local_id(0);
    const int ls = get_local_size(0);
    __global const float* xr = x + xOffset + row * L;
    __global float* outr = out + row * L;
    float m = -INFINITY;
    for (int j = lid; j < L; j += ls) {
        m = fmax(m, xr[j]);
    }
    m = reduce_max(scratch, m);
    float s = 0.0f;
    for (int j = lid; j < L; j += ls) {
        s += exp(xr[j] - m);
    }
    s = reduce_sum(scratch, s);
    for (int j = lid; j < L; j += ls) {
        outr[j] = exp(xr[j] - m) / s;
    }
}
