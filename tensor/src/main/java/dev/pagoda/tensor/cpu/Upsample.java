package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Nearest-neighbour ×2 upsampling of NCHW images ({@code F.interpolate(scale_factor=2, mode="nearest")}):
 * {@code out[n, c, 2h+i, 2w+j] = x[n, c, h, w]}. Each input row is widened once (every element
 * twice, by two lane shuffles per vector) and the widened row is written to both output rows.
 */
final class Upsample {

    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();
    /** Lane i of the low (high) half of a doubled vector takes source lane i/2 (L/2 + i/2). */
    private static final VectorShuffle<Float> LOW = VectorShuffle.fromOp(S, i -> i / 2);
    private static final VectorShuffle<Float> HIGH = VectorShuffle.fromOp(S, i -> L / 2 + i / 2);
    private static final int MIN_PARALLEL = 32768;

    private Upsample() {
    }

    static Tensor nearest2x(Tensor x) {
        int[] s = x.shape();
        if (s.length != 4) {
            throw new IllegalArgumentException("upsampleNearest2x: expected x[N, C, H, W], got shape " + Shapes.str(s));
        }
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException("upsampleNearest2x: expected a floating-point tensor, got " + x);
        }
        int h = s[2];
        int w = s[3];
        DenseLaunch k = DenseLaunch.reshaped(x, s[0], s[1], Math.multiplyExact(2, h), Math.multiplyExact(2, w));
        float[] src = k.src;
        int so = k.srcOffset;
        float[] dst = k.dst;
        int rows = s[0] * s[1] * h;
        int w2 = 2 * w;
        k.range(rows, Math.max(1, MIN_PARALLEL / Math.max(1, 4 * w)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int sp = so + r * w;
                int dp = 2 * r * w2;
                int i = 0;
                for (int upper = S.loopBound(w); i < upper; i += L) {
                    FloatVector v = FloatVector.fromArray(S, src, sp + i);
                    v.rearrange(LOW).intoArray(dst, dp + 2 * i);
                    v.rearrange(HIGH).intoArray(dst, dp + 2 * i + L);
                }
                for (; i < w; i++) {
                    float v = src[sp + i];
                    dst[dp + 2 * i] = v;
                    dst[dp + 2 * i + 1] = v;
                }
                System.arraycopy(dst, dp, dst, dp + w2, w2);
            }
        });
        return k.out;
    }
}
