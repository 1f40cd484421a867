package dev.pagoda.opencl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Tensor;

import org.jocl.Pointer;

/**
 * Moves tensors between host memory and the device. Uploads keep the dtype (a BF16 weight takes
 * BF16 space on the device); downloads of floating tensors arrive as F32 heap tensors, since that
 * is what host code computes with.
 */
final class ClTransfer {

    /** Segments are moved in pieces a {@link java.nio.ByteBuffer} can address. */
    private static final long CHUNK = 1L << 30;

    private final OpenClBackend backend;
    private final ClDevice device;

    ClTransfer(OpenClBackend backend) {
        this.backend = backend;
        this.device = backend.device();
    }

    /** A new contiguous device tensor with the elements and dtype of host tensor {@code x}. */
    Tensor upload(Tensor x) {
        if (x.storage() instanceof ClStorage other) {
            // Another OpenCL context cannot read this one's buffers: go through the host.
            x = other.openClBackend().transfer().toHost(x);
        }
        Tensor c = hostContiguous(x);
        Tensor out = backend.allocate(c.dtype(), c.shape());
        long bytes = c.numel() * c.dtype().byteSize();
        ClStorage target = (ClStorage) out.storage();
        if (c.storage() instanceof FloatArrayStorage heap) {
            device.write(target.mem(), 0, bytes, Pointer.to(heap.data()).withByteOffset(c.offset() * 4));
        } else {
            MemorySegment seg = ((SegmentStorage) c.storage()).segment();
            long base = c.offset() * c.dtype().byteSize();
            for (long pos = 0; pos < bytes; pos += CHUNK) {
                long len = Math.min(CHUNK, bytes - pos);
                device.write(target.mem(), pos, len, Pointer.to(seg.asSlice(base + pos, len).asByteBuffer()));
            }
        }
        return out;
    }

    /** Host heap F32 for floating dtypes; a host tensor of the same dtype for integer ones. */
    Tensor download(Tensor x) {
        if (!x.dtype().isFloating()) {
            return rawToHost(x);
        }
        if (x.dtype() == DType.F32 && x.isContiguous()) {
            return readFloats(x);
        }
        Tensor widened = backend.elementwise().contiguousF32(x);
        try {
            return readFloats(widened);
        } finally {
            ((ClStorage) widened.storage()).close();
        }
    }

    /**
     * The host form the CPU kernels want for a host fallback: F32 on the heap, contiguous half
     * weights kept half (the CPU widens them itself), integers as they are.
     */
    Tensor toHost(Tensor x) {
        if (x.dtype() == DType.F32 || (x.dtype().isFloating() && !x.isContiguous())) {
            return download(x);
        }
        return rawToHost(x);
    }

    /** A contiguous host copy in the same dtype, read as raw bytes. */
    Tensor rawToHost(Tensor x) {
        int size = x.dtype().byteSize();
        if (x.numel() == 0) {
            return Tensor.zeros(x.dtype(), x.shape());
        }
        if (x.isContiguous()) {
            return Tensor.wrap(readBytes(x, x.offset() * size, x.numel() * size), x.dtype(), x.shape());
        }
        // Read the span the view covers and let the host copy gather it.
        int[] shape = x.shape();
        long[] strides = x.strides();
        long lo = x.offset();
        long hi = x.offset();
        for (int d = 0; d < shape.length; d++) {
            long extent = (shape[d] - 1L) * strides[d];
            lo += Math.min(0, extent);
            hi += Math.max(0, extent);
        }
        MemorySegment span = readBytes(x, lo * size, (hi - lo + 1) * size);
        Tensor view = new Tensor(x.dtype(), shape, strides, x.offset() - lo, new SegmentStorage(span));
        return Backend.cpu().copy(view, x.dtype());
    }

    private Tensor readFloats(Tensor contiguousF32) {
        long n = contiguousF32.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("download: " + contiguousF32 + " exceeds the 2^31 element limit "
                    + "of a heap tensor");
        }
        float[] data = new float[(int) n];
        ClStorage source = (ClStorage) contiguousF32.storage();
        device.read(source.mem(), contiguousF32.offset() * 4, n * 4, Pointer.to(data));
        return Tensor.of(data, contiguousF32.shape());
    }

    private MemorySegment readBytes(Tensor x, long byteOffset, long bytes) {
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(bytes, 1), 8);
        ClStorage source = (ClStorage) x.storage();
        for (long pos = 0; pos < bytes; pos += CHUNK) {
            long len = Math.min(CHUNK, bytes - pos);
            device.read(source.mem(), byteOffset + pos, len, Pointer.to(seg.asSlice(pos, len).asByteBuffer()));
        }
        return seg;
    }

    /** Heap F32 or a segment, contiguous: the two layouts a transfer can read directly. */
    private static Tensor hostContiguous(Tensor x) {
        if (x.isHeapF32() || (x.storage() instanceof SegmentStorage && x.isContiguous())) {
            return x;
        }
        return Backend.cpu().copy(x, x.dtype());
    }
}
