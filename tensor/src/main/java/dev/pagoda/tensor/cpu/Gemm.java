package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.Arrays;

/**
 * {@code matmul} and {@code linear}: shape checking, batch broadcasting and the mapping of (possibly
 * strided, possibly half-precision) tensors onto the operands of {@link PackedGemm}.
 */
final class Gemm {

    private Gemm() {
    }

    /** {@code a[..., M, K] @ b[..., K, N]} with numpy broadcasting of the batch dimensions. */
    static Tensor matmul(Tensor a, Tensor b) {
        return matmul(MicroKernel.preferred(), a, b);
    }

    static Tensor matmul(MicroKernel kernel, Tensor a, Tensor b) {
        requireFloat("matmul", a, "a");
        requireFloat("matmul", b, "b");
        if (a.rank() < 2 || b.rank() < 2 || a.dim(-1) != b.dim(-2)) {
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(a.shape()) + " and "
                    + Shapes.str(b.shape()) + " do not multiply (need a[..., M, K] and b[..., K, N])");
        }
        a = onCpu(a);
        b = onCpu(b);
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int[] aBatch = Arrays.copyOf(a.shape(), a.rank() - 2);
        int[] bBatch = Arrays.copyOf(b.shape(), b.rank() - 2);
        int[] batch;
        try {
            batch = Shapes.broadcast("matmul", aBatch, bBatch);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("matmul: batch dimensions of shapes " + Shapes.str(a.shape())
                    + " and " + Shapes.str(b.shape()) + " do not broadcast", e);
        }
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        Tensor out = Tensor.uninitialized(outShape);
        if (out.numel() == 0) {
            return out;
        }
        float[] c = out.array();
        if (Shapes.numel(bBatch) == 1) {
            // One B for every batch: the batch dimensions of A fold into its rows where strides allow,
            // so a [B, L, K] activation becomes one tall product instead of B short ones.
            RowLayout ra = RowLayout.of(a, a.rank() - 1);
            int batches = ra.batchOffsets.length;
            PackedGemm.multiply(kernel, new MatrixPanels(a, ra.batchOffsets, ra.rowStride, a.stride(-1)),
                    new MatrixPanels(b, repeat(b.offset(), batches), b.stride(-1), b.stride(-2)), batches,
                    ra.rows, n, k, c, contiguousOffsets(batches, ra.rows * n), n, null, false);
            return out;
        }
        int[] aFull = Arrays.copyOf(batch, batch.length + 2);
        aFull[batch.length] = m;
        aFull[batch.length + 1] = k;
        int[] bFull = Arrays.copyOf(batch, batch.length + 2);
        bFull[batch.length] = k;
        bFull[batch.length + 1] = n;
        Tensor ae = a.expand(aFull);
        Tensor be = b.expand(bFull);
        long[] aOffsets = batchOffsets(ae, batch.length);
        long[] bOffsets = batchOffsets(be, batch.length);
        int batches = aOffsets.length;
        PackedGemm.multiply(kernel, new MatrixPanels(a, aOffsets, a.stride(-2), a.stride(-1)),
                new MatrixPanels(b, bOffsets, b.stride(-1), b.stride(-2)), batches, m, n, k, c,
                contiguousOffsets(batches, m * n), n, null, false);
        return out;
    }

    /** {@code x[..., K] · weight[N, K]ᵀ + bias[N]}, as torch's {@code F.linear}; bias may be null. */
    static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return linear(MicroKernel.preferred(), x, weight, bias);
    }

    static Tensor linear(MicroKernel kernel, Tensor x, Tensor weight, Tensor bias) {
        requireFloat("linear", x, "x");
        requireFloat("linear", weight, "weight");
        if (weight.rank() != 2) {
            throw new IllegalArgumentException("linear: weight must be [N, K], got shape "
                    + Shapes.str(weight.shape()) + " for x of shape " + Shapes.str(x.shape()));
        }
        if (x.rank() < 1 || x.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException("linear: x of shape " + Shapes.str(x.shape())
                    + " does not match weight of shape " + Shapes.str(weight.shape()) + " (need x[..., K], weight[N, K])");
        }
        int n = weight.dim(0);
        int k = weight.dim(1);
        float[] colBias = null;
        if (bias != null) {
            requireFloat("linear", bias, "bias");
            if (bias.rank() != 1 || bias.dim(0) != n) {
                throw new IllegalArgumentException("linear: bias of shape " + Shapes.str(bias.shape())
                        + " does not match weight of shape " + Shapes.str(weight.shape()) + " (need [" + n + "])");
            }
            colBias = bias.toFloatArray();
        }
        x = onCpu(x);
        weight = onCpu(weight);
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = n;
        Tensor out = Tensor.uninitialized(outShape);
        if (out.numel() == 0) {
            return out;
        }
        RowLayout rx = RowLayout.of(x, x.rank() - 1);
        int batches = rx.batchOffsets.length;
        PackedGemm.multiply(kernel, new MatrixPanels(x, rx.batchOffsets, rx.rowStride, x.stride(-1)),
                new MatrixPanels(weight, repeat(weight.offset(), batches), weight.stride(0), weight.stride(1)), batches, rx.rows, n, k, out.array(),
                contiguousOffsets(batches, rx.rows * n), n, PackedGemm.Bias.columns(colBias), false);
        return out;
    }

    /**
     * The leading dimensions {@code [0, lead)} of a tensor as {@code batch × rows}: the innermost ones
     * that step with one stride merge into rows, the rest are enumerated as batches.
     */
    record RowLayout(long[] batchOffsets, int rows, long rowStride) {

        static RowLayout of(Tensor t, int lead) {
            int[] shape = t.shape();
            long[] st = t.strides();
            int rows = 1;
            long rowStride = 0;
            int d = lead - 1;
            for (; d >= 0; d--) {
                if (shape[d] == 1) {
                    continue;
                }
                if (rows == 1) {
                    rows = shape[d];
                    rowStride = st[d];
                } else if (st[d] == rowStride * rows) {
                    rows *= shape[d];
                } else {
                    break;
                }
            }
            return new RowLayout(Gemm.batchOffsets(t, d + 1), rows, rowStride);
        }
    }

    /** Element offsets of every index of the first {@code dims} dimensions, in row-major order. */
    static long[] batchOffsets(Tensor t, int dims) {
        int[] shape = Arrays.copyOf(t.shape(), dims);
        long[] st = t.strides();
        long count = Shapes.numel(shape);
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("GEMM: too many batches in " + t);
        }
        long[] out = new long[(int) count];
        int[] idx = new int[dims];
        for (int i = 0; i < out.length; i++) {
            long p = t.offset();
            for (int d = 0; d < dims; d++) {
                p += idx[d] * st[d];
            }
            out[i] = p;
            Shapes.increment(idx, shape);
        }
        return out;
    }

    private static int[] contiguousOffsets(int batches, int stride) {
        int[] out = new int[batches];
        for (int i = 0; i < batches; i++) {
            out[i] = i * stride;
        }
        return out;
    }

    private static long[] repeat(long offset, int batches) {
        long[] out = new long[batches];
        Arrays.fill(out, offset);
        return out;
    }

    static void requireFloat(String op, Tensor t, String name) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": " + name + " must be a float tensor, got " + t);
        }
    }

    /** Tensors the GEMM can read in place: heap F32 or any float dtype in a memory segment. */
    static Tensor onCpu(Tensor t) {
        boolean readable = t.storage() instanceof FloatArrayStorage && t.dtype() == DType.F32
                || t.storage() instanceof SegmentStorage;
        return readable ? t : Tensor.of(t.toFloatArray(), t.shape());
    }
}
