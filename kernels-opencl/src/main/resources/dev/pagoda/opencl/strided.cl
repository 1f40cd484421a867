// Strided addressing shared by the element-wise and copy kernels.
//
// An operand is (buffer, element offset, strides) over the output's shape. The host collapses
// dimensions that can be merged for every operand before launching, so contiguous operands arrive
// as rank 1 and pay a single multiply; broadcast dimensions carry stride 0. At most 8 dimensions
// remain after collapsing (the host falls back otherwise), which lets shape and strides travel as
// int8/long8 kernel arguments instead of a buffer allocated per launch.

inline long strided_offset(long i, int rank, int8 shape, long8 stride) {
    if (rank == 1) {
        return i * stride.s0;
    }
    int sh[8];
    long st[8];
    vstore8(shape, 0, sh);
    vstore8(stride, 0, st);
    long off = 0;
    for (int d = rank - 1; d >= 0; d--) {
        long q = i / sh[d];
        off += (i - q * sh[d]) * st[d];
        i = q;
    }
    return off;
}

inline long2 strided_offset2(long i, int rank, int8 shape, long8 sa, long8 sb) {
    if (rank == 1) {
        return (long2)(i * sa.s0, i * sb.s0);
    }
    int sh[8];
    long a[8];
    long b[8];
    vstore8(shape, 0, sh);
    vstore8(sa, 0, a);
    vstore8(sb, 0, b);
    long oa = 0;
    long ob = 0;
    for (int d = rank - 1; d >= 0; d--) {
        long q = i / sh[d];
        long r = i - q * sh[d];
        oa += r * a[d];
        ob += r * b[d];
        i = q;
    }
    return (long2)(oa, ob);
}

// Element loads that widen to float. The device need not support cl_khr_fp16: vload_half only
// converts storage, and bfloat16 is the upper half of a float32.
#define LOAD_F32(p, i) ((p)[i])
#define LOAD_F16(p, i) vload_half((i), (p))
#define LOAD_BF16(p, i) as_float(((uint) (p)[i]) << 16)
