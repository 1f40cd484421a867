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

// Strided copy from one view into another (concat writes each input into its slice of the
// output, narrowing copies round to nearest even). Both sides are addressed through the merged
// layout of the output's iteration space.
#define STORE_F32(p, i, v) ((p)[i] = (v))
#define STORE_F16(p, i, v) vstore_half_rte((v), (i), (p))
#define STORE_BF16(p, i, v) ((p)[i] = float_to_bf16(v))

inline ushort float_to_bf16(float v) {
    uint u = as_uint(v);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return (ushort) ((u >> 16) | 0x40u); // quiet NaN
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    return (ushort) (u >> 16);
}

#define COPY(NAME, TS, LOAD, TD, STORE)                                                          \
__kernel void NAME(__global const TS* src, const long srcOffset, const long8 srcStride,          \
                   __global TD* dst, const long dstOffset, const long8 dstStride,                \
                   const long n, const int rank, const int8 shape) {                             \
    long i = get_global_id(0);                                                                   \
    if (i < n) {                                                                                 \
        long2 o = strided_offset2(i, rank, shape, srcStride, dstStride);                         \
        STORE(dst, dstOffset + o.y, LOAD(src, srcOffset + o.x));                                 \
    }                                                                                            \
}

#define RAW_LOAD(p, i) ((p)[i])
#define RAW_STORE(p, i, v) ((p)[i] = (v))

COPY(copy_f32_f32, float, LOAD_F32, float, STORE_F32)
COPY(copy_f32_f16, float, LOAD_F32, half, STORE_F16)
COPY(copy_f32_bf16, float, LOAD_F32, ushort, STORE_BF16)
COPY(copy_f16_f32, half, LOAD_F16, float, STORE_F32)
COPY(copy_f16_f16, ushort, RAW_LOAD, ushort, RAW_STORE)
COPY(copy_f16_bf16, half, LOAD_F16, ushort, STORE_BF16)
COPY(copy_bf16_f32, ushort, LOAD_BF16, float, STORE_F32)
COPY(copy_bf16_f16, ushort, LOAD_BF16, half, STORE_F16)
COPY(copy_bf16_bf16, ushort, RAW_LOAD, ushort, RAW_STORE)
COPY(copy_i32_i32, uint, RAW_LOAD, uint, RAW_STORE)
COPY(copy_i64_i64, ulong, RAW_LOAD, ulong, RAW_STORE)
COPY(copy_bool_bool, uchar, RAW_LOAD, uchar, RAW_STORE)
COPY(copy_i64_i32, long, RAW_LOAD, int, RAW_STORE)
COPY(copy_i32_i64, int, RAW_LOAD, long, RAW_STORE)
