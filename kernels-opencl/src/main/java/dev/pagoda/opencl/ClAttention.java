package dev.pagoda.opencl;

import static dev.pagoda.opencl.ClStorage.mem;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * Fused scaled-dot-product attention (attention.cl) with PAG's identity rows and an optional
 * additive mask. q, k and v are read in place when their last dimension is unit-stride (narrow()s
 * of a fused projection), else first gathered to contiguous F32.
 */
final class ClAttention {

    private final OpenClBackend backend;
    private final ClDevice device;

    ClAttention(OpenClBackend backend) {
        this.backend = backend;
        this.device = backend.device();
    }

    Tensor attention(Tensor q, Tensor k, Tensor v, int heads, float scale, Tensor mask, boolean[] identityRows) {
        validate(q, k, v, heads, identityRows);
        int batch = q.dim(0);
        int lq = q.dim(1);
        int lk = k.dim(1);
        int d = q.dim(2) / heads;
        int dv = v.dim(2) / heads;
        Tensor out = backend.allocate(DType.F32, new int[] {batch, lq, heads * dv});
        if (out.numel() == 0) {
            return out;
        }
        try (ClOperands ops = new ClOperands(backend, "attention")) {
            Tensor dq = rows(ops, q);
            Tensor dk = rows(ops, k);
            Tensor dv3 = rows(ops, v);
            Tensor dm = dq;
            long[] mStride = new long[4];
            long mOffset = 0;
            if (mask != null) {
                dm = ops.f32(mask);
                if (dm.rank() > 4) {
                    throw new IllegalArgumentException("attention: mask " + Shapes.str(mask.shape())
                            + " has more than 4 dimensions; expected one broadcastable to [B, heads, Lq, Lk]");
                }
                while (dm.rank() < 4) {
                    dm = dm.unsqueeze(0);
                }
                dm = dm.expand(batch, heads, lq, lk);
                long[] st = dm.strides();
                System.arraycopy(st, 0, mStride, 0, 4);
                mOffset = dm.offset();
            }
            int[] flags = new int[batch];
            for (int b = 0; identityRows != null && b < batch; b++) {
                flags[b] = identityRows[b] ? 1 : 0;
            }
            Tensor dflags = ops.scratch(Tensor.ofInts(flags, batch));
            long group = device.linearGroup;
            long[] global = {(lq + group - 1) / group * group, heads, batch};
            device.launch("attention", global, new long[] {group, 1, 1}, lq, lk, heads, d, dv, scale,
                    mem(dq), dq.offset(), dq.stride(0), dq.stride(1),
                    mem(dk), dk.offset(), dk.stride(0), dk.stride(1),
                    mem(dv3), dv3.offset(), dv3.stride(0), dv3.stride(1),
                    mem(dm), mOffset, new ClDevice.Long4(mStride), mask == null ? 0 : 1, mem(dflags), mem(out));
        } catch (RuntimeException e) {
            ((ClStorage) out.storage()).close();
            throw e;
        }
        return out;
    }

    /** {@code x[B, L, C]} as F32 on the device with a unit-stride last dimension. */
    private static Tensor rows(ClOperands ops, Tensor x) {
        Tensor d = ops.f32(x);
        return d.stride(2) == 1 || d.dim(2) == 1 ? d : ops.contiguousF32(x);
    }

    private static void validate(Tensor q, Tensor k, Tensor v, int heads, boolean[] identityRows) {
        if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3) {
            throw new IllegalArgumentException("attention: expected q[B, Lq, heads·D], k[B, Lk, heads·D], "
                    + "v[B, Lk, heads·Dv], got " + Shapes.str(q.shape()) + ", " + Shapes.str(k.shape()) + ", "
                    + Shapes.str(v.shape()));
        }
        if (heads <= 0 || q.dim(2) % heads != 0 || v.dim(2) % heads != 0 || k.dim(2) != q.dim(2)) {
            throw new IllegalArgumentException("attention: " + heads + " heads do not split q " + Shapes.str(q.shape())
                    + ", k " + Shapes.str(k.shape()) + ", v " + Shapes.str(v.shape()));
        }
        if (k.dim(0) != q.dim(0) || v.dim(0) != q.dim(0) || v.dim(1) != k.dim(1)) {
            throw new IllegalArgumentException("attention: batch or key counts differ: q " + Shapes.str(q.shape())
                    + ", k " + Shapes.str(k.shape()) + ", v " + Shapes.str(v.shape()));
        }
        if (identityRows != null) {
            if (identityRows.length != q.dim(0)) {
                throw new IllegalArgumentException("attention: " + identityRows.length + " identity flags for a batch of "
                        + q.dim(0));
            }
            for (boolean f : identityRows) {
                if (f && q.dim(1) != k.dim(1)) {
                    throw new IllegalArgumentException("attention: identity rows need Lq == Lk, got q "
                            + Shapes.str(q.shape()) + " and k " + Shapes.str(k.shape()));
                }
            }
        }
    }
}
