// The small data-movement and embedding kernels of a UNet/CLIP forward.

// x[rows, 2F] → x[:, :F] · gelu_erf(x[:, F:]), diffusers' GEGLU.
__kernel void geglu(__global const float* x, __global float* out, const long rows, const int f) {
    long i = get_global_id(0);
    if (i < rows * f) {
        long r = i / f;
        int c = (int) (i - r * f);
        float a = x[r * 2 * f + c];
        float g = x[r * 2 * f + f + c];
        out[i] = a * (0.5f * g * (1.0f + erf(g * 0.70710678118654752f)));
    }
}

// out[r, c] = table[ids[r], c] (ids validated on the host), widening half tables.
#define EMBED(NAME, T, LOAD)                                                                     \
__kernel void NAME(__global const T* table, const long tOffset, const long rowStride,            \
                   const long colStride, __global const long* ids, __global float* out,          \
                   const long rows, const int d) {                                               \
    long i = get_global_id(0);                                                                   \
    if (i < rows * d) {                                                                          \
        long r = i / d;                                                                          \
        int c = (int) (i - r * d);                                                               \
        out[i] = LOAD(table, tOffset + ids[r] * rowStride + c * colStride);                      \
    }                                                                                            \
}

EMBED(embedding_f32, float, LOAD_F32)
EMBED(embedding_f16, half, LOAD_F16)
EMBED(embedding_bf16, ushort, LOAD_BF16)

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

// Sinusoidal timestep embedding: freq[i] comes from the host (rounded as torch rounds it), the
// argument fl(scale · fl(t · freq)) is formed in float32 like torch, and sin/cos are evaluated in
// double and rounded once where the device has doubles (arguments reach ~1000 rad).
__kernel void timestep_embedding(__global const float* t, __global const float* freq, __global float* out,
                                 const int n, const int dim, const int halfDim, const float scale,
                                 const int sinAt, const int cosAt) {
    int i = get_global_id(0);
    if (i < n * halfDim) {
        int r = i / halfDim;
        int c = i - r * halfDim;
        if (c == 0 && (dim & 1)) {
            out[r * dim + dim - 1] = 0.0f;
        }
        float prod = t[r] * freq[c];
        float arg = scale * prod;
#ifdef cl_khr_fp64
        out[r * dim + sinAt + c] = (float) sin((double) arg);
        out[r * dim + cosAt + c] = (float) cos((double) arg);
#else
        out[r * dim + sinAt + c] = sin(arg);
        out[r * dim + cosAt + c] = cos(arg);
#endif
    }
}
