package dev.pagoda.opencl;

import java.util.ArrayList;
import java.util.List;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;

/**
 * The inputs of one device operation, brought onto the device in the form its kernel reads.
 * Host tensors are uploaded and half-precision activations widened into temporary buffers, which
 * {@link #close()} releases as soon as the operation has been enqueued (OpenCL keeps them alive
 * until the queued kernels finish). Device inputs are used in place, strided views included.
 */
final class ClOperands implements AutoCloseable {

    private final OpenClBackend backend;
    private final String op;
    private final List<Tensor> temporaries = new ArrayList<>();

    ClOperands(OpenClBackend backend, String op) {
        this.backend = backend;
        this.op = op;
    }

    /** {@code x} on this device in its own floating dtype (half weights stay half), possibly strided. */
    Tensor raw(Tensor x) {
        requireFloating(x);
        return any(x);
    }

    /**
     * {@code x} on this device in its own dtype (integers included), possibly strided. A host
     * operand is uploaded for this call only and counted as an implicit upload
     * ({@link OpenClBackend#counters()}): a weight that arrives here was never made resident.
     */
    Tensor any(Tensor x) {
        if (backend.owns(x)) {
            return x;
        }
        backend.counters().implicitUpload(op, x);
        return temporary(backend.upload(x));
    }

    /** Host data the operation itself made (frequencies, validated ids), uploaded for this call. */
    Tensor scratch(Tensor host) {
        return temporary(backend.upload(host));
    }

    /** {@code x} on this device as F32, possibly a strided view of its own buffer. */
    Tensor f32(Tensor x) {
        Tensor d = raw(x);
        return d.dtype() == DType.F32 ? d : temporary(backend.elementwise().contiguousF32(d));
    }

    /** {@code x} on this device as contiguous F32. */
    Tensor contiguousF32(Tensor x) {
        Tensor d = f32(x);
        return d.isContiguous() ? d : temporary(backend.elementwise().contiguousF32(d));
    }

    private Tensor temporary(Tensor t) {
        temporaries.add(t);
        return t;
    }

    private void requireFloating(Tensor x) {
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expects a floating-point tensor, got " + x);
        }
    }

    @Override
    public void close() {
        for (Tensor t : temporaries) {
            ((ClStorage) t.storage()).close();
        }
        temporaries.clear();
    }
}
