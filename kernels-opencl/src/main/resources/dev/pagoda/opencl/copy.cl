// Gathers a strided view into a new contiguous float32 buffer, widening half-precision storage:
// the kernel behind contiguous(), download of views and the F32 operands of the other kernels.

#define GATHER(NAME, T, LOAD)                                                                    \
__kernel void NAME(__global const T* src, const long srcOffset, const long8 srcStride,           \
                   __global float* out, const long n, const int rank, const int8 shape) {       \
    long i = get_global_id(0);                                                                   \
    if (i < n) {                                                                                 \
        out[i] = LOAD(src, srcOffset + strided_offset(i, rank, shape, srcStride));              \
    }                                                                                            \
}

GATHER(gather_f32, float, LOAD_F32)
GATHER(gather_f16, half, LOAD_F16)
GATHER(gather_bf16, ushort, LOAD_BF16)
