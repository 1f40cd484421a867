package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax over the last dimension: {@code exp(x - max) / Σ exp(x - max)} per row, max subtracted
 * first so that no finite input overflows.
 *
 * <p>Edge cases: a row of length 1 gives 1; {@code -inf} entries give 0; a row whose entries are all
 * {@code -inf} (every position masked) gives all zeros. torch's {@code softmax} gives NaN there; zeros
 * is what torch's own fused attention ({@code _safe_softmax}) returns for a fully masked row, and a
 * NaN would poison every later layer. A NaN or {@code +inf} entry makes its row NaN, as in torch.
 */
final class Softmax {

    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();
    /** Elements per parallel chunk: enough to amortise a task, small enough to balance two cores. */
    private static final int CHUNK_ELEMENTS = 1 << 15;

    private Softmax() {
    }

    static Tensor softmax(Tensor x) {
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException("softmax: input must be a floating tensor, got " + x);
        }
        int[] shape = x.shape();
        int n = shape.length == 0 ? 1 : shape[shape.length - 1];
        // Strided or non-heap input: the contiguous copy is written into the output, then normalised
        // in place, which costs one pass less than copying into a temporary.
        DenseLaunch k = DenseLaunch.sameShape(x);
        float[] dst = k.dst;
        float[] src = k.src;
        int srcOff = k.srcOffset;
        int rows = dst.length / Math.max(1, n);
        int grain = Math.max(1, CHUNK_ELEMENTS / Math.max(1, n));
        k.range(rows, grain, (start, end) -> {
            for (int r = start; r < end; r++) {
                row(src, srcOff + r * n, dst, r * n, n);
            }
        });
        return k.out;
    }

    /** Softmax of {@code src[s .. s+n)} into {@code dst[d .. d+n)}; the two ranges may be the same. */
    static void row(float[] src, int s, float[] dst, int d, int n) {
        int full = n - n % L;
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (; j < full; j += L) {
            mx = mx.max(FloatVector.fromArray(S, src, s + j));
        }
        float max = mx.reduceLanes(VectorOperators.MAX);
        for (; j < n; j++) {
            max = Math.max(max, src[s + j]);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            Arrays.fill(dst, d, d + n, 0f);
            return;
        }
        FloatVector mv = FloatVector.broadcast(S, max);
        FloatVector acc = FloatVector.zero(S);
        // One loop with a masked last vector: a single exp call site stays small enough to be
        // inlined (an exp that is not inlined boxes its vectors).
        for (j = 0; j < n; j += L) {
            VectorMask<Float> in = S.indexInRange(j, n);
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, src, s + j, in).sub(mv));
            e.intoArray(dst, d + j, in);
            acc = acc.add(e, in);
        }
        float sum = VectorMath.sum(acc);
        FloatVector inv = FloatVector.broadcast(S, 1f / sum);
        for (j = 0; j < full; j += L) {
            FloatVector.fromArray(S, dst, d + j).mul(inv).intoArray(dst, d + j);
        }
        float invS = 1f / sum;
        for (; j < n; j++) {
            dst[d + j] = dst[d + j] * invS;
        }
    }
}
