package dev.pagoda.opencl;

import static dev.pagoda.opencl.ClStorage.mem;

import java.util.Arrays;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

import org.jocl.Pointer;
import org.jocl.cl_mem;

/**
 * matmul and linear on the tiled GEMM kernel (gemm.cl). Both reduce to strided
 * {@code C[b] = A[b]·B[b] + bias}: linear reads {@code weightᵀ} through swapped strides, so a
 * weight is never transposed or copied, and half-precision weights are widened inside the kernel.
 */
final class ClGemm {

    private final OpenClBackend backend;
    private final ClDevice device;

    ClGemm(OpenClBackend backend) {
        this.backend = backend;
        this.device = backend.device();
    }

    /** {@code a[..., M, K] @ b[..., K, N]} with broadcast batch dimensions. */
    Tensor matmul(Tensor a, Tensor b) {
        int[] as = a.shape();
        int[] bs = b.shape();
        if (as.length < 2 || bs.length < 2) {
            throw new IllegalArgumentException("matmul: needs two matrices (rank >= 2), got " + Shapes.str(as)
                    + " and " + Shapes.str(bs));
        }
        int m = as[as.length - 2];
        int k = as[as.length - 1];
        int n = bs[bs.length - 1];
        if (bs[bs.length - 2] != k) {
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(as) + " and " + Shapes.str(bs)
                    + ": inner dimensions differ (" + k + " vs " + bs[bs.length - 2] + ")");
        }
        int[] batch = Shapes.broadcast("matmul " + Shapes.str(as) + " @ " + Shapes.str(bs) + ": batch dimensions",
                Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2));
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        try (ClOperands ops = new ClOperands(backend, "matmul")) {
            Tensor da = ops.f32(a).expand(withMatrix(batch, m, k));
            Tensor db = ops.raw(b).expand(withMatrix(batch, k, n));
            long count = Shapes.numel(batch);
            long[] offsets = new long[Math.toIntExact(2 * count)];
            long[] sa = da.strides();
            long[] sb = db.strides();
            int[] idx = new int[batch.length];
            for (int i = 0; i < count; i++) {
                long oa = da.offset();
                long ob = db.offset();
                for (int d = 0; d < batch.length; d++) {
                    oa += idx[d] * sa[d];
                    ob += idx[d] * sb[d];
                }
                offsets[2 * i] = oa;
                offsets[2 * i + 1] = ob;
                Shapes.increment(idx, batch);
            }
            int r = outShape.length;
            return run(m, n, k, da, sa[r - 2], sa[r - 1], db, sb[r - 2], sb[r - 1], offsets, null, outShape);
        }
    }

    /** {@code x[..., K] · weight[N, K]ᵀ + bias[N]}; bias may be null. */
    Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        int[] xs = x.shape();
        int[] ws = weight.shape();
        if (ws.length != 2 || xs.length == 0 || xs[xs.length - 1] != ws[1]) {
            throw new IllegalArgumentException("linear: x " + Shapes.str(xs) + " and weight " + Shapes.str(ws)
                    + ": expected x[..., K] and weight[N, K]");
        }
        int n = ws[0];
        int k = ws[1];
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != n)) {
            throw new IllegalArgumentException("linear: bias " + Shapes.str(bias.shape()) + " for weight "
                    + Shapes.str(ws) + ": expected [" + n + "]");
        }
        int[] outShape = xs.clone();
        outShape[xs.length - 1] = n;
        long rows = Shapes.numel(Arrays.copyOf(xs, xs.length - 1));
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("linear: " + rows + " rows in x " + Shapes.str(xs) + " exceed 2^31");
        }
        try (ClOperands ops = new ClOperands(backend, "linear")) {
            Tensor dx = ops.f32(x);
            long rowStride = rowStride(dx);
            if (rowStride < 0) {
                dx = ops.contiguousF32(x);
                rowStride = k;
            }
            Tensor dw = ops.raw(weight);
            Tensor db = bias == null ? null : ops.contiguousF32(bias);
            long[] offsets = {dx.offset(), dw.offset()};
            // B(k, n) = weight[n, k]
            return run((int) rows, n, k, dx, rowStride, dx.stride(-1), dw, dw.stride(1), dw.stride(0), offsets, db,
                    outShape);
        }
    }

    private Tensor run(int m, int n, int k, Tensor a, long aRowStride, long aColStride, Tensor b, long bRowStride,
            long bColStride, long[] batchOffsets, Tensor bias, int[] outShape) {
        Tensor out = backend.allocate(DType.F32, outShape);
        int batches = batchOffsets.length / 2;
        if (out.numel() == 0) {
            return out;
        }
        String kernel = switch (b.dtype()) {
            case F32 -> "gemm_f32";
            case F16 -> "gemm_f16";
            case BF16 -> "gemm_bf16";
            default -> throw new IllegalStateException("gemm operand " + b);
        };
        int tile = device.gemmTile;
        int group = tile / device.gemmBlock;
        long[] global = {(n + tile - 1L) / tile * group, (m + tile - 1L) / tile * group, batches};
        long[] local = {group, group, 1};
        ClStorage offsets = new ClStorage(backend, 8L * batchOffsets.length);
        try {
            device.write(offsets.mem(), 0, 8L * batchOffsets.length, Pointer.to(batchOffsets));
            cl_mem biasMem = bias == null ? mem(out) : mem(bias);
            device.launch(kernel, global, local, m, n, k, mem(a), aRowStride, aColStride, mem(b), bRowStride,
                    bColStride, offsets.mem(), biasMem, bias == null ? 0L : bias.offset(), bias == null ? 0 : 1,
                    mem(out));
        } catch (RuntimeException e) {
            ((ClStorage) out.storage()).close();
            throw e;
        } finally {
            offsets.close();
        }
        return out;
    }

    /**
     * The stride between consecutive rows when x's leading dimensions flatten into one row index
     * without a copy, else -1.
     */
    private static long rowStride(Tensor x) {
        int[] s = x.shape();
        long[] st = x.strides();
        long stride = -1;
        long expected = -1;
        for (int d = s.length - 2; d >= 0; d--) {
            if (s[d] == 1) {
                continue;
            }
            if (stride < 0) {
                stride = st[d];
            } else if (st[d] != expected) {
                return -1;
            }
            expected = st[d] * s[d];
        }
        return stride < 0 ? (long) x.dim(-1) * x.stride(-1) : stride;
    }

    private static int[] withMatrix(int[] batch, int rows, int cols) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = rows;
        s[batch.length + 1] = cols;
        return s;
    }
}
