package dev.pagoda.opencl;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Storage;
import dev.pagoda.tensor.Tensor;

import org.jocl.Pointer;
import org.jocl.cl_mem;

/**
 * A buffer in OpenCL device memory. It holds raw little-endian elements of whatever dtype its
 * tensors declare (F32 activations, F16/BF16 weights kept at their stored size, integer ids).
 *
 * <p>Element access ({@link #getFloat}, {@link #setFloat}, …) performs one blocking transfer per
 * element: correct but slow, for tests and cold code. Bulk movement goes through
 * {@link OpenClBackend#upload} and {@link OpenClBackend#download}.
 *
 * <p>The device memory is released by {@link #close()}, or by a {@link Cleaner} once no tensor
 * refers to the storage any more. Closing while kernels that read the buffer are still queued is
 * safe: OpenCL defers the release until they finish. Any use after close is an
 * {@link IllegalStateException}.
 */
public final class ClStorage implements Storage, AutoCloseable {

    private static final Cleaner CLEANER = Cleaner.create();

    private final OpenClBackend backend;
    private final long byteSize;
    private final Release release;
    private final Cleaner.Cleanable cleanable;

    ClStorage(OpenClBackend backend, long byteSize) {
        this.backend = backend;
        this.byteSize = byteSize;
        ClDevice device = backend.device();
        this.release = new Release(device, device.allocate(byteSize), byteSize);
        this.cleanable = CLEANER.register(this, release);
    }

    /**
     * The release action; it must not refer to the storage, or the storage would never become
     * unreachable.
     */
    private static final class Release implements Runnable {
        private final ClDevice device;
        private final cl_mem mem;
        private final long bytes;
        private volatile boolean released;

        Release(ClDevice device, cl_mem mem, long bytes) {
            this.device = device;
            this.mem = mem;
            this.bytes = bytes;
        }

        @Override
        public void run() {
            released = true;
            device.released(mem, bytes);
        }
    }

    /** The device buffer; fails once the storage is closed. */
    cl_mem mem() {
        if (release.released) {
            throw new IllegalStateException("OpenCL buffer of " + byteSize + " bytes used after close()");
        }
        return release.mem;
    }

    /** The device buffer of a tensor held in a ClStorage. */
    static cl_mem mem(Tensor t) {
        return ((ClStorage) t.storage()).mem();
    }

    /** Whether the device memory is still held. */
    public boolean isOpen() {
        return !release.released;
    }

    /** Releases the device memory now; later calls do nothing. */
    @Override
    public void close() {
        cleanable.clean();
    }

    @Override
    public long byteSize() {
        return byteSize;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    OpenClBackend openClBackend() {
        return backend;
    }

    @Override
    public float getFloat(DType dtype, long index) {
        ByteBuffer b = readElement(dtype, index);
        return switch (dtype) {
            case F32 -> b.getFloat(0);
            case F16 -> Float.float16ToFloat(b.getShort(0));
            case BF16 -> DType.bf16ToFloat(b.getShort(0));
            case I32 -> b.getInt(0);
            case I64 -> b.getLong(0);
            case BOOL -> b.get(0) != 0 ? 1f : 0f;
        };
    }

    @Override
    public void setFloat(DType dtype, long index, float value) {
        ByteBuffer b = ByteBuffer.allocate(dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.putFloat(0, value);
            case F16 -> b.putShort(0, Float.floatToFloat16(value));
            case BF16 -> b.putShort(0, DType.floatToBf16(value));
            case I32 -> b.putInt(0, (int) value);
            case I64 -> b.putLong(0, (long) value);
            case BOOL -> b.put(0, (byte) (value != 0 ? 1 : 0));
        }
        writeElement(dtype, index, b);
    }

    @Override
    public long getLong(DType dtype, long index) {
        ByteBuffer b = readElement(dtype, index);
        return switch (dtype) {
            case I32 -> b.getInt(0);
            case I64 -> b.getLong(0);
            case BOOL -> b.get(0);
            default -> (long) getFloat(dtype, index);
        };
    }

    @Override
    public void setLong(DType dtype, long index, long value) {
        ByteBuffer b = ByteBuffer.allocate(dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case I32 -> b.putInt(0, (int) value);
            case I64 -> b.putLong(0, value);
            case BOOL -> b.put(0, (byte) (value != 0 ? 1 : 0));
            default -> {
                setFloat(dtype, index, value);
                return;
            }
        }
        writeElement(dtype, index, b);
    }

    private ByteBuffer readElement(DType dtype, long index) {
        long at = checkedByteOffset(dtype, index);
        byte[] bytes = new byte[dtype.byteSize()];
        backend.device().read(mem(), at, bytes.length, Pointer.to(bytes));
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void writeElement(DType dtype, long index, ByteBuffer b) {
        long at = checkedByteOffset(dtype, index);
        backend.device().write(mem(), at, dtype.byteSize(), Pointer.to(b.array()));
    }

    private long checkedByteOffset(DType dtype, long index) {
        long at = index * dtype.byteSize();
        if (index < 0 || at + dtype.byteSize() > byteSize) {
            throw new IndexOutOfBoundsException(dtype + " element " + index + " outside an OpenCL buffer of "
                    + byteSize + " bytes");
        }
        return at;
    }

    @Override
    public String toString() {
        return "ClStorage[" + byteSize + " bytes" + (isOpen() ? "" : ", closed") + " on " + backend.deviceName() + "]";
    }
}
