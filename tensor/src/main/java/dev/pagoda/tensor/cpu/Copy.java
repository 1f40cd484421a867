package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Storage;
import dev.pagoda.tensor.Tensor;

/** Contiguous copies with dtype conversion: the kernel behind {@code contiguous()} and {@code to()}. */
final class Copy {

    private Copy() {
    }

    /**
     * {@code x} itself when it is a contiguous F32 tensor on the heap, else a heap copy: kernels that
     * read {@link Tensor#array()} must not receive an F32 view of a mapped file.
     */
    static Tensor heapF32(Tensor x) {
        return x.isHeapF32() ? x : copy(x, DType.F32);
    }

    static Tensor copy(Tensor x, DType dtype) {
        int[] shape = x.shape();
        // a float-to-F32 copy writes every element, so its output need not be zeroed first
        Tensor out = dtype == DType.F32 && x.dtype().isFloating() ? Tensor.uninitialized(shape)
                : Tensor.zeros(dtype, shape);
        long n = x.numel();
        if (n == 0) {
            return out;
        }
        int rank = shape.length;
        long[] st = x.strides();
        Storage src = x.storage();
        Storage dst = out.storage();
        DType sd = x.dtype();
        if (dtype == DType.F32 && sd.isFloating() && n <= Integer.MAX_VALUE) {
            copyToFloats(x, ((FloatArrayStorage) dst).data());
            return out;
        }
        boolean integral = !dtype.isFloating() && !sd.isFloating();
        int[] idx = new int[rank];
        long base = x.offset();
        for (long i = 0; i < n; i++) {
            long p = base;
            for (int d = 0; d < rank; d++) {
                p += idx[d] * st[d];
            }
            if (integral) {
                dst.setLong(dtype, i, src.getLong(sd, p));
            } else {
                dst.setFloat(dtype, i, src.getFloat(sd, p));
            }
            Shapes.increment(idx, shape);
        }
        return out;
    }

    /**
     * Widens any float tensor into {@code out} in row-major order. The innermost dimension is copied
     * as a run, so strided views of heap arrays and F16/BF16 segments both take the fast loops.
     */
    static void copyToFloats(Tensor x, float[] out) {
        int[] shape = x.shape();
        int rank = shape.length;
        if (rank == 0) {
            out[0] = x.item();
            return;
        }
        long[] st = x.strides();
        int inner = shape[rank - 1];
        long innerStride = st[rank - 1];
        int outer = (int) (x.numel() / Math.max(1, inner));
        int[] outerShape = java.util.Arrays.copyOf(shape, rank - 1);
        Storage src = x.storage();
        DType sd = x.dtype();
        Parallel.range(outer, Math.max(1, 65536 / Math.max(1, inner)), (start, end) -> {
            int[] idx = new int[rank - 1];
            // position the multi-index at 'start'
            int rem = start;
            for (int d = rank - 2; d >= 0; d--) {
                idx[d] = rem % outerShape[d];
                rem /= outerShape[d];
            }
            for (int o = start; o < end; o++) {
                long p = x.offset();
                for (int d = 0; d < rank - 1; d++) {
                    p += idx[d] * st[d];
                }
                copyRun(src, sd, p, innerStride, out, o * inner, inner);
                if (rank > 1) {
                    Shapes.increment(idx, outerShape);
                }
            }
        });
    }

    /**
     * Widens {@code len} elements of a float dtype, {@code stride} apart from element {@code p}, into
     * {@code out[o..]}.
     */
    static void copyRun(Storage src, DType sd, long p, long stride, float[] out, int o, int len) {
        if (src instanceof FloatArrayStorage heap) {
            float[] a = heap.data();
            if (stride == 1) {
                System.arraycopy(a, (int) p, out, o, len);
            } else {
                for (int i = 0; i < len; i++) {
                    out[o + i] = a[(int) (p + i * stride)];
                }
            }
        } else if (src instanceof SegmentStorage(var seg) && sd == DType.F16) {
            for (int i = 0; i < len; i++) {
                out[o + i] = Float.float16ToFloat(seg.get(SegmentStorage.U16, (p + i * stride) * 2));
            }
        } else if (src instanceof SegmentStorage(var seg) && sd == DType.BF16) {
            for (int i = 0; i < len; i++) {
                out[o + i] = DType.bf16ToFloat(seg.get(SegmentStorage.U16, (p + i * stride) * 2));
            }
        } else if (src instanceof SegmentStorage(var seg) && sd == DType.F32) {
            for (int i = 0; i < len; i++) {
                out[o + i] = seg.get(SegmentStorage.F32, (p + i * stride) * 4);
            }
        } else {
            for (int i = 0; i < len; i++) {
                out[o + i] = src.getFloat(sd, p + i * stride);
            }
        }
    }
}
