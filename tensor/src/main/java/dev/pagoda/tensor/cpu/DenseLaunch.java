package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Tensor;

/**
 * One call of a kernel that reads one float tensor as a dense heap array and writes a contiguous
 * F32 output: the elementwise map, activation, norm, softmax and upsample kernels. It holds the
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

    /** A pass that only reads the input, over work units {@code [start, end)}. */
    @FunctionalInterface
    interface InputPass {
        void run(float[] src, int srcOffset, int start, int end);
    }

    /**
     * {@link #sameShape}, with {@code pass} run over units {@code [0, units)} of the input while the
     * output is allocated. The JVM zero-fills a new array on the allocating thread; for an activation
     * of tens of MB that is a serial pass over memory as long as a kernel's, so the other threads read
     * the input (a norm's statistics) meanwhile instead of waiting for it. One unit of the pool's work
     * is the allocation, the others are the pass's units, so a single thread simply runs both. A
     * non-dense input is widened into the output first and the pass follows.
     */
    static DenseLaunch sameShapeWhile(Tensor x, int units, InputPass pass) {
        if (x.numel() == 0 || !x.isHeapF32()) {
            DenseLaunch k = sameShape(x);
            k.range(units, 1, (u0, u1) -> pass.run(k.src, k.srcOffset, u0, u1));
            return k;
        }
        float[] src = x.array();
        int so = (int) x.offset();
        int[] shape = x.shape();
        Tensor[] out = new Tensor[1];
        // Parallel.range returns after every unit is done (joins), so out[0] is visible here.
        Parallel.range(units + 1, 1, (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                if (u == 0) {
                    out[0] = output(shape);
                } else {
                    pass.run(src, so, u - 1, u);
                }
            }
        });
        return new DenseLaunch(out[0], src, so);
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

    /**
     * A contiguous F32 output with arbitrary contents (often a released activation's array, see
     * {@code Tensor.release}); the kernel must write every element. Also for kernels (binary
     * broadcasting) that gather their own operands.
     */
    static Tensor output(int... shape) {
        return Tensor.uninitialized(shape);
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
