package dev.pagoda.opencl;

import static dev.pagoda.opencl.ClStorage.mem;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;

/** Softmax over the last dimension (softmax.cl): one work-group per row. */
final class ClSoftmax {

    private final OpenClBackend backend;
    private final ClDevice device;

    ClSoftmax(OpenClBackend backend) {
        this.backend = backend;
        this.device = backend.device();
    }

    Tensor softmax(Tensor x) {
        if (x.rank() == 0) {
            throw new IllegalArgumentException("softmax: needs at least one dimension, got a scalar " + x);
        }
        try (ClOperands ops = new ClOperands(backend, "softmax")) {
            Tensor dx = ops.contiguousF32(x);
            Tensor out = backend.allocate(DType.F32, x.shape());
            int length = x.dim(-1);
            long rows = length == 0 ? 0 : x.numel() / length;
            if (rows == 0) {
                return out;
            }
            // No more work-items than the row has elements (short attention rows, tests).
            int group = Math.min(device.maxReductionGroup, length == 1 ? 1 : Integer.highestOneBit(length - 1) << 1);
            try {
                device.launch("softmax_rows", new long[] {rows * group}, new long[] {group}, mem(dx), dx.offset(),
                        mem(out), length, new ClDevice.LocalBytes(4L * group));
            } catch (RuntimeException e) {
                ((ClStorage) out.storage()).close();
                throw e;
            }
            return out;
        }
    }
}
