package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Tensor;

/**
 * One call of a kernel that reads one float tensor as a dense heap array and writes a new contiguous
 * F32 tensor: the elementwise map, activation, norm, softmax and upsample kernels. It holds the
 * kernel's operands and runs its work units over the pool. Output allocation for these kernels
 * happens only here, so buffer reuse (or fusing a kernel into its producer) changes one class.
 *
 * <p>The input is the tensor's own array when it is contiguous heap F32 ({@link #src} at
 * {@link #srcOffset}). Otherwise, for a same-shape output, it is widened into the output array and
 * the kernel runs in place ({@code src == dst}, offset 0), which costs no temporary; kernels must
 * then read each element before writing it, as all of them do. An output of another shape gets a
 * separate widened copy.
 */
final class DenseLaunch {

    /** The new output tensor; {@link #dst} is its array. */
    final Tensor out;
    final float[] dst;
    /** The input's elements in row-major order from {@link #srcOffset}. */
    final float[] src;
    final int srcOffset;

    private DenseLaunch(Tensor out, float[] src, int srcOffset) {
        this.out = out;
        this.dst = out.array();
        this.src = src;
        this.srcOffset = srcOffset;
    }

    /** An output of {@code x}'s shape; a non-dense input is widened into it. */
    static DenseLaunch sameShape(Tensor x) {
        Tensor out = output(x.shape());
        if (out.numel() == 0) {
            return new DenseLaunch(out, out.array(), 0);
        }
        if (x.isHeapF32()) {
            return new DenseLaunch(out, x.array(), (int) x.offset());
        }
        float[] dst = out.array();
        Copy.copyToFloats(x, dst);
        return new DenseLaunch(out, dst, 0);
    }

    /** An output of {@code outShape}; a non-dense input is widened into a copy of its own. */
    static DenseLaunch reshaped(Tensor x, int... outShape) {
        Tensor out = output(outShape);
        if (out.numel() == 0) {
            return new DenseLaunch(out, out.array(), 0);
        }
        Tensor in = Copy.heapF32(x);
        return new DenseLaunch(out, in.array(), (int) in.offset());
    }

    /** A new contiguous F32 output, for kernels (binary broadcasting) that gather their own operands. */
    static Tensor output(int... shape) {
        return Tensor.zeros(shape);
    }

    boolean isEmpty() {
        return dst.length == 0;
    }

    /** Runs {@code body} over work units {@code [0, units)} in chunks of {@code grain}; nothing for an empty output. */
    void range(int units, int grain, Parallel.RangeBody body) {
        if (!isEmpty()) {
            Parallel.range(units, grain, body);
        }
    }
}
