package dev.pagoda.opencl;

import static dev.pagoda.opencl.ClStorage.mem;

import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * Launches of the element-wise kernels (elementwise.cl) and of the strided gather (copy.cl). The
 * operands are read in place through their strides, broadcast dimensions included, so no
 * broadcast copy is ever materialised; the output is a new contiguous F32 device tensor.
 */
final class ClElementwise {

    private final OpenClBackend backend;
    private final ClDevice device;

    ClElementwise(OpenClBackend backend) {
        this.backend = backend;
        this.device = backend.device();
    }

    /**
     * {@code out = kernel(a, b)} with numpy broadcasting; {@code alpha} and {@code beta} are passed
     * to the kernel (only axpby reads them).
     *
     * @param onHost the same operation on host tensors, for the rare layouts the kernel cannot address
     */
    Tensor binary(String op, String kernel, float alpha, Tensor a, float beta, Tensor b, BinaryOperator<Tensor> onHost) {
        int[] shape = Shapes.broadcast(op, a.shape(), b.shape());
        try (ClOperands ops = new ClOperands(backend, op)) {
            Tensor da = ops.f32(a).expand(shape);
            Tensor db = ops.f32(b).expand(shape);
            ClLayout layout = ClLayout.of(shape, da.strides(), db.strides());
            if (layout != null) {
                Tensor out = backend.allocate(DType.F32, shape);
                long n = out.numel();
                launchInto(out, kernel, n, mem(da), da.offset(), layout.strides()[0], mem(db), db.offset(),
                        layout.strides()[1], mem(out), n, layout.rank(), layout.shape(), alpha, beta);
                return out;
            }
        }
        return backend.hostFallback(op, h -> onHost.apply(h[0], h[1]), a, b);
    }

    /** {@code out = kernel(x)}; {@code p} and {@code q} are passed to the kernel (affine, clamp). */
    Tensor unary(String op, String kernel, Tensor x, float p, float q, UnaryOperator<Tensor> onHost) {
        int[] shape = x.shape();
        try (ClOperands ops = new ClOperands(backend, op)) {
            Tensor dx = ops.f32(x);
            ClLayout layout = ClLayout.of(shape, dx.strides());
            if (layout != null) {
                Tensor out = backend.allocate(DType.F32, shape);
                long n = out.numel();
                launchInto(out, kernel, n, mem(dx), dx.offset(), layout.strides()[0], mem(out), n, layout.rank(),
                        layout.shape(), p, q);
                return out;
            }
        }
        return backend.hostFallback(op, h -> onHost.apply(h[0]), x);
    }

    /** A new contiguous F32 copy of device tensor {@code x} (any float dtype, any layout). */
    Tensor contiguousF32(Tensor x) {
        String kernel = switch (x.dtype()) {
            case F32 -> "gather_f32";
            case F16 -> "gather_f16";
            case BF16 -> "gather_bf16";
            default -> throw new IllegalArgumentException("copy: cannot widen " + x + " to F32 on the device");
        };
        int[] shape = x.shape();
        ClLayout layout = ClLayout.of(shape, x.strides());
        if (layout == null) {
            // More than 8 dimensions that do not merge: gather on the host instead.
            return backend.hostFallback("copy " + x.dtype() + "->F32", h -> h[0].to(DType.F32), x);
        }
        Tensor out = backend.allocate(DType.F32, shape);
        long n = out.numel();
        launchInto(out, kernel, n, mem(x), x.offset(), layout.strides()[0], mem(out), n, layout.rank(), layout.shape());
        return out;
    }

    /** Enqueues a one-dimensional launch of n work-items that writes {@code out}; frees out on failure. */
    void launchInto(Tensor out, String kernel, long n, Object... args) {
        if (n == 0) {
            return;
        }
        try {
            long group = device.linearGroup;
            device.launch(kernel, new long[] {(n + group - 1) / group * group}, new long[] {group}, args);
        } catch (RuntimeException e) {
            ((ClStorage) out.storage()).close();
            throw e;
        }
    }
}
