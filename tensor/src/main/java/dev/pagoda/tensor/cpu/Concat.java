package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Storage;
import dev.pagoda.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Concatenation along one dimension. Seen as {@code [outer, size·inner]} matrices, each input
 * contributes one contiguous run per output row, so the kernel is a list of block copies
 * ({@code System.arraycopy} for F32, segment copies for the other dtypes). Long runs are cut into
 * pieces so that one huge row (batch 1, channel concat) still spreads over the threads.
 */
final class Concat {

    /** Elements per piece of a run: a unit of parallel work. */
    private static final int PIECE = 65536;
    /** Least elements worth a second thread. */
    private static final int MIN_PARALLEL = 32768;

    private Concat() {
    }

    static Tensor concat(int dim, Tensor... xs) {
        if (xs == null || xs.length == 0) {
            throw new IllegalArgumentException("concat: no tensors given");
        }
        Tensor first = xs[0];
        int rank = first.rank();
        if (rank == 0) {
            throw new IllegalArgumentException("concat: cannot concatenate 0-dimensional tensors");
        }
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) {
            throw new IllegalArgumentException("concat: dimension " + dim + " out of range for shape "
                    + Shapes.str(first.shape()));
        }
        DType dtype = commonDtype(xs);
        int[] outShape = first.shape();
        outShape[d] = 0;
        for (Tensor x : xs) {
            int[] s = x.shape();
            boolean same = s.length == rank;
            for (int i = 0; same && i < rank; i++) {
                same = i == d || s[i] == outShape[i];
            }
            if (!same) {
                throw new IllegalArgumentException("concat along dimension " + d + ": shapes "
                        + Shapes.str(first.shape()) + " and " + Shapes.str(s) + " differ outside that dimension");
            }
            outShape[d] = Math.addExact(outShape[d], s[d]);
        }
        Tensor out = dtype == DType.F32 ? Tensor.uninitialized(outShape) : Tensor.zeros(dtype, outShape);
        if (out.numel() == 0) {
            return out;
        }
        long outer = 1;
        for (int i = 0; i < d; i++) {
            outer *= outShape[i];
        }
        long rowLen = out.numel() / outer;

        // Sources in the output dtype, contiguous; run length per row and offset within the output row.
        Tensor[] src = new Tensor[xs.length];
        long[] run = new long[xs.length];
        long[] col = new long[xs.length];
        long[] firstUnit = new long[xs.length + 1];
        long c = 0;
        for (int i = 0; i < xs.length; i++) {
            src[i] = xs[i].to(dtype);
            run[i] = src[i].numel() / outer;
            col[i] = c;
            c += run[i];
            firstUnit[i + 1] = firstUnit[i] + (run[i] + PIECE - 1) / PIECE;
        }
        long unitsPerRow = firstUnit[xs.length];
        int units = Math.toIntExact(outer * unitsPerRow);
        int bytes = dtype.byteSize();
        long unitLen = Math.max(1, rowLen / unitsPerRow);
        Parallel.range(units, (int) Math.max(1, MIN_PARALLEL / unitLen), (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                long row = u / unitsPerRow;
                long k = u - row * unitsPerRow;
                int i = 0;
                while (firstUnit[i + 1] <= k) {
                    i++;
                }
                long start = (k - firstUnit[i]) * PIECE;
                long len = Math.min(PIECE, run[i] - start);
                long from = src[i].offset() + row * run[i] + start;
                long to = row * rowLen + col[i] + start;
                copyBlock(src[i], from, out, to, (int) len, bytes);
            }
        });
        return out;
    }

    private static void copyBlock(Tensor src, long from, Tensor out, long to, int len, int bytes) {
        Storage s = src.storage();
        Storage o = out.storage();
        if (s instanceof FloatArrayStorage a && o instanceof FloatArrayStorage b) {
            System.arraycopy(a.data(), (int) from, b.data(), (int) to, len);
        } else if (s instanceof SegmentStorage(MemorySegment a) && o instanceof FloatArrayStorage b) {
            // an F32 weight in a mapped file joining heap activations
            MemorySegment.copy(a, SegmentStorage.F32, from * 4, b.data(), (int) to, len);
        } else if (s instanceof SegmentStorage(MemorySegment a) && o instanceof SegmentStorage(MemorySegment b)) {
            MemorySegment.copy(a, from * bytes, b, to * bytes, (long) len * bytes);
        } else if (out.dtype().isFloating()) {
            for (int i = 0; i < len; i++) {
                o.setFloat(out.dtype(), to + i, s.getFloat(src.dtype(), from + i));
            }
        } else {
            for (int i = 0; i < len; i++) {
                o.setLong(out.dtype(), to + i, s.getLong(src.dtype(), from + i));
            }
        }
    }

    /** The inputs' dtype when they agree; F32 for a mix of float dtypes; an error for any other mix. */
    private static DType commonDtype(Tensor[] xs) {
        DType t = xs[0].dtype();
        boolean allFloat = true;
        boolean same = true;
        for (Tensor x : xs) {
            same &= x.dtype() == t;
            allFloat &= x.dtype().isFloating();
        }
        if (same) {
            return t;
        }
        if (allFloat) {
            return DType.F32;
        }
        StringBuilder sb = new StringBuilder("concat: cannot mix dtypes");
        for (Tensor x : xs) {
            sb.append(' ').append(x.dtype());
        }
        throw new IllegalArgumentException(sb.toString());
    }
}
