package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FlashAttentionTest {

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    private static final int THREADS = Parallel.threads();
    /** Worst error seen, as a fraction of the bound's scale (printed at the end of a run). */
    private static double worstRelative;

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(THREADS);
    }

    // ---------------------------------------------------------------- reference

    /** The float64 result and, per element, Σ_j p_j·|v_j|: the scale of that weighted sum. */
    private record Reference(double[] out, double[] scale) {
    }

    /**
     * Plain triple loop with an exact softmax. Inputs are the dense contents ([B, L, H·D] row-major);
     * the mask is dense [B, H, Lq, Lk] (already broadcast) or null.
     */
    private static Reference reference(float[] q, float[] k, float[] v, int b, int lq, int lk, int heads, int d,
            int dv, float scale, float[] mask, boolean[] identity) {
        double[] out = new double[b * lq * heads * dv];
        double[] mag = new double[out.length];
        double[] p = new double[lk];
        for (int n = 0; n < b; n++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < lq; i++) {
                    int o = (n * lq + i) * heads * dv + h * dv;
                    if (identity != null && identity[n]) {
                        for (int c = 0; c < dv; c++) {
                            out[o + c] = v[(n * lk + i) * heads * dv + h * dv + c];
                            mag[o + c] = Math.abs(out[o + c]);
                        }
                        continue;
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < lk; j++) {
                        double s = 0;
                        for (int c = 0; c < d; c++) {
                            s += (double) q[(n * lq + i) * heads * d + h * d + c] * k[(n * lk + j) * heads * d + h * d + c];
                        }
                        s *= scale;
                        if (mask != null) {
                            s += mask[((n * heads + h) * lq + i) * lk + j];
                        }
                        p[j] = s;
                        max = Math.max(max, s);
                    }
                    double sum = 0;
                    for (int j = 0; j < lk; j++) {
                        p[j] = max == Double.NEGATIVE_INFINITY ? 0 : Math.exp(p[j] - max);
                        sum += p[j];
                    }
                    for (int c = 0; c < dv; c++) {
                        double acc = 0;
                        double abs = 0;
                        for (int j = 0; j < lk; j++) {
                            double w = sum == 0 ? 0 : p[j] / sum;
                            double x = v[(n * lk + j) * heads * dv + h * dv + c];
                            acc += w * x;
                            abs += w * Math.abs(x);
                        }
                        out[o + c] = acc;
                        mag[o + c] = abs;
                    }
                }
            }
        }
        return new Reference(out, mag);
    }

    /**
     * Float32 bound: 1e-5 of the scale Σ p·|v| of each weighted sum (which bounds |ref|). The scores
     * have unit variance in these tests, so their float32 dot products (≤ 64 terms) are good to a
     * few 1e-7, the softmax to a few ulps, and the P·V sums (≤ 300 terms) to ~1e-6 of that scale.
     */
    private static void assertClose(Reference ref, float[] got, String what) {
        assertEquals(ref.out.length, got.length, what + ": output length");
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            double err = Math.abs(got[i] - ref.out[i]);
            double bound = 1e-5 * ref.scale[i] + 1e-30;
            assertTrue(err <= bound, what + ": element " + i + " got " + got[i] + ", expected " + ref.out[i]
                    + " (error " + err + ", bound " + bound + ")");
            worst = Math.max(worst, err / (ref.scale[i] + 1e-30));
        }
        worstRelative = Math.max(worstRelative, worst);
    }

    private static float[] randn(Random rnd, int n, double sigma) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return x;
    }

    // ---------------------------------------------------------------- random shapes

    static Stream<Arguments> awkwardShapes() {
        int[] bs = {1, 2, 3};
        int[] hs = {1, 2, 5};
        int[] ds = {1, 7, 8, 13, 64};
        int[] ls = {1, 2, 7, 77, 129, 300};
        List<Arguments> out = new ArrayList<>();
        Random rnd = new Random(2024);
        // every value of every dimension at least once, the rest drawn at random
        for (int i = 0; i < 36; i++) {
            int b = bs[i % 3];
            int h = hs[(i / 3) % 3];
            int d = ds[i % 5];
            int lq = ls[i % 6];
            int lk = ls[(i / 6) % 6];
            int dv = i % 4 == 3 ? ds[rnd.nextInt(ds.length)] : d;
            // keep the float64 reference fast: skip the few largest draws
            if ((long) b * h * lq * lk * (d + dv) > 60_000_000L) {
                b = 1;
                h = Math.min(h, 2);
            }
            out.add(Arguments.of(b, h, d, dv, lq, lk));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "B={0} heads={1} D={2} Dv={3} Lq={4} Lk={5}")
    @MethodSource("awkwardShapes")
    void matchesFloat64ReferenceOnAwkwardShapes(int b, int heads, int d, int dv, int lq, int lk) {
        Random rnd = new Random(31L * b + 7L * heads + d + 1000L * lq + 100000L * lk);
        float[] q = randn(rnd, b * lq * heads * d, 1);
        float[] k = randn(rnd, b * lk * heads * d, 1);
        float[] v = randn(rnd, b * lk * heads * dv, 1);
        float scale = (float) (1 / Math.sqrt(d));
        Tensor out = FlashAttention.attention(Tensor.of(q, b, lq, heads * d), Tensor.of(k, b, lk, heads * d),
                Tensor.of(v, b, lk, heads * dv), heads, scale, null, null);
        assertArrayEquals(new int[] {b, lq, heads * dv}, out.shape());
        assertClose(reference(q, k, v, b, lq, lk, heads, d, dv, scale, null, null), out.toFloatArray(), "random");
    }

    @Test
    void everySdxlHeadDimWorks() {
        for (int d : new int[] {8, 40, 64, 80, 128}) {
            Random rnd = new Random(d);
            int b = 2;
            int heads = 2;
            int lq = 70;
            int lk = 150;
            float[] q = randn(rnd, b * lq * heads * d, 1);
            float[] k = randn(rnd, b * lk * heads * d, 1);
            float[] v = randn(rnd, b * lk * heads * d, 1);
            float scale = (float) (1 / Math.sqrt(d));
            Tensor out = FlashAttention.attention(Tensor.of(q, b, lq, heads * d), Tensor.of(k, b, lk, heads * d),
                    Tensor.of(v, b, lk, heads * d), heads, scale, null, null);
            assertClose(reference(q, k, v, b, lq, lk, heads, d, d, scale, null, null), out.toFloatArray(), "D=" + d);
        }
    }

    @Test
    void crossAttentionShapeWithSeventySevenKeys() {
        Random rnd = new Random(77);
        int heads = 2;
        int d = 64;
        int lq = 200;
        int lk = 77;
        float[] q = randn(rnd, lq * heads * d, 1);
        float[] k = randn(rnd, lk * heads * d, 1);
        float[] v = randn(rnd, lk * heads * d, 1);
        Tensor out = FlashAttention.attention(Tensor.of(q, 1, lq, heads * d), Tensor.of(k, 1, lk, heads * d),
                Tensor.of(v, 1, lk, heads * d), heads, 0.125f, null, null);
        assertClose(reference(q, k, v, 1, lq, lk, heads, d, d, 0.125f, null, null), out.toFloatArray(), "cross");
    }

    /** Scores that grow along the keys force the running maximum to move in every key tile. */
    @Test
    void onlineSoftmaxRescalesWhenLaterKeysDominate() {
        Random rnd = new Random(5);
        int heads = 1;
        int d = 8;
        int lq = 9;
        int lk = 300;
        float[] q = new float[lq * d];
        Arrays.fill(q, 1f);
        float[] k = new float[lk * d];
        for (int j = 0; j < lk; j++) {
            for (int c = 0; c < d; c++) {
                // score = j/30 (scale 1/8): increasing, and e^10 between the first and last key
                k[j * d + c] = j / 30f;
            }
        }
        float[] v = randn(rnd, lk * d, 1);
        Tensor out = FlashAttention.attention(Tensor.of(q, 1, lq, d), Tensor.of(k, 1, lk, d), Tensor.of(v, 1, lk, d),
                heads, 0.125f, null, null);
        assertClose(reference(q, k, v, 1, lq, lk, heads, d, d, 0.125f, null, null), out.toFloatArray(), "growing");
    }

    // ---------------------------------------------------------------- masks

    /** Dense [B, H, Lq, Lk] values of a mask of any broadcastable shape. */
    private static float[] dense(Tensor mask, int b, int heads, int lq, int lk) {
        return mask.expand(b, heads, lq, lk).contiguous().toFloatArray();
    }

    private void checkMask(Tensor mask, int b, int heads, int d, int lq, int lk, long seed, String what) {
        Random rnd = new Random(seed);
        float[] q = randn(rnd, b * lq * heads * d, 1);
        float[] k = randn(rnd, b * lk * heads * d, 1);
        float[] v = randn(rnd, b * lk * heads * d, 1);
        float scale = (float) (1 / Math.sqrt(d));
        Tensor out = FlashAttention.attention(Tensor.of(q, b, lq, heads * d), Tensor.of(k, b, lk, heads * d),
                Tensor.of(v, b, lk, heads * d), heads, scale, mask, null);
        float[] m = dense(mask, b, heads, lq, lk);
        assertClose(reference(q, k, v, b, lq, lk, heads, d, d, scale, m, null), out.toFloatArray(), what);
    }

    @Test
    void paddingMaskPerBatchRow() {
        int b = 3;
        int lk = 130;
        for (float masked : new float[] {NEG_INF, -10000f, -Float.MAX_VALUE}) {
            float[] m = new float[b * lk];
            for (int n = 0; n < b; n++) {
                for (int j = lk - 20 * (n + 1); j < lk; j++) {
                    m[n * lk + j] = masked;
                }
            }
            checkMask(Tensor.of(m, b, 1, 1, lk), b, 2, 13, 21, lk, 1, "padding " + masked);
        }
    }

    @Test
    void causalMaskWithNegativeInfinity() {
        for (int l : new int[] {1, 7, 77, 129, 300}) {
            float[] m = new float[l * l];
            for (int i = 0; i < l; i++) {
                for (int j = i + 1; j < l; j++) {
                    m[i * l + j] = NEG_INF;
                }
            }
            checkMask(Tensor.of(m, 1, 1, l, l), 2, 2, 8, l, l, l, "causal " + l);
            // the same mask at rank 2
            checkMask(Tensor.of(m, l, l), 1, 3, 7, l, l, l + 1, "causal rank 2 " + l);
        }
    }

    @Test
    void fullBiasAndOtherBroadcastShapes() {
        Random rnd = new Random(11);
        int b = 2;
        int h = 5;
        int lq = 33;
        int lk = 70;
        checkMask(Tensor.of(randn(rnd, b * h * lq * lk, 2), b, h, lq, lk), b, h, 7, lq, lk, 2, "full");
        checkMask(Tensor.of(randn(rnd, h * lq * lk, 2), h, lq, lk), b, h, 7, lq, lk, 3, "[H, Lq, Lk]");
        checkMask(Tensor.of(randn(rnd, lk, 2), lk), b, h, 7, lq, lk, 4, "[Lk]");
        // constant along the keys: stride 0 in the key dimension
        checkMask(Tensor.of(randn(rnd, b * lq, 2), b, 1, lq, 1), b, h, 7, lq, lk, 5, "[B, 1, Lq, 1]");
        checkMask(Tensor.scalar(-3f), b, h, 7, lq, lk, 6, "scalar");
        // a transposed view (key stride != 1) and a half-precision mask
        Tensor t = Tensor.of(randn(rnd, lk * lq, 2), 1, 1, lk, lq).transpose(2, 3);
        checkMask(t, b, h, 7, lq, lk, 7, "transposed");
        checkMask(Tensor.of(randn(rnd, lq * lk, 2), lq, lk).to(DType.F16), b, h, 7, lq, lk, 8, "f16");
        // an expanded view: read through stride 0 without materialising it
        checkMask(Tensor.of(randn(rnd, lk, 2), 1, 1, 1, lk).expand(b, h, lq, lk), b, h, 7, lq, lk, 9, "expanded");
    }

    @Test
    void fullyMaskedRowsGiveZerosNotNaN() {
        int lq = 5;
        int lk = 90;
        float[] m = new float[lq * lk];
        Arrays.fill(m, 2 * lk, 3 * lk, NEG_INF); // query row 2 sees no key
        Random rnd = new Random(3);
        float[] q = randn(rnd, lq * 8, 1);
        float[] k = randn(rnd, lk * 8, 1);
        float[] v = randn(rnd, lk * 8, 1);
        float[] out = FlashAttention.attention(Tensor.of(q, 1, lq, 8), Tensor.of(k, 1, lk, 8), Tensor.of(v, 1, lk, 8), 1,
                0.35f, Tensor.of(m, lq, lk), null).toFloatArray();
        for (int c = 0; c < 8; c++) {
            assertEquals(0f, out[2 * 8 + c]);
        }
        assertClose(reference(q, k, v, 1, lq, lk, 1, 8, 8, 0.35f, m, null), out, "fully masked row");
        // no keys at all: every row is empty
        Tensor none = FlashAttention.attention(Tensor.of(q, 1, lq, 8), Tensor.zeros(1, 0, 8), Tensor.zeros(1, 0, 8), 1,
                1f, null, null);
        assertArrayEquals(new float[lq * 8], none.toFloatArray());
    }

    // ---------------------------------------------------------------- identity rows (PAG)

    @Test
    void identityRowsReturnVBitForBitAndNeverReadQOrK() {
        Random rnd = new Random(8);
        int b = 3;
        int heads = 5;
        int d = 13;
        int l = 77;
        for (boolean[] id : new boolean[][] {{true, false, false}, {false, true, false}, {false, false, true},
                {true, false, true}, {true, true, true}, {false, false, false}}) {
            float[] q = randn(rnd, b * l * heads * d, 1);
            float[] k = randn(rnd, b * l * heads * d, 1);
            float[] v = randn(rnd, b * l * heads * d, 1);
            float[] cleanQ = q.clone();
            float[] cleanK = k.clone();
            for (int n = 0; n < b; n++) {
                if (id[n]) {
                    // poison: a read would turn the output (or a shared tile) into NaN
                    Arrays.fill(q, n * l * heads * d, (n + 1) * l * heads * d, Float.NaN);
                    Arrays.fill(k, n * l * heads * d, (n + 1) * l * heads * d, Float.NaN);
                }
            }
            float[] out = FlashAttention.attention(Tensor.of(q, b, l, heads * d), Tensor.of(k, b, l, heads * d),
                    Tensor.of(v, b, l, heads * d), heads, 0.3f, null, id).toFloatArray();
            int row = l * heads * d;
            for (int n = 0; n < b; n++) {
                if (id[n]) {
                    for (int i = 0; i < row; i++) {
                        assertEquals(Float.floatToRawIntBits(v[n * row + i]), Float.floatToRawIntBits(out[n * row + i]),
                                "identity row " + n + " element " + i);
                    }
                }
            }
            assertClose(reference(cleanQ, cleanK, v, b, l, l, heads, d, d, 0.3f, null, id), out, Arrays.toString(id));
        }
    }

    @Test
    void identityRowsWithStridedValueViewAndOtherValueDim() {
        Random rnd = new Random(12);
        int b = 2;
        int heads = 2;
        int d = 8;
        int dv = 5;
        int l = 9;
        float[] q = randn(rnd, b * l * heads * d, 1);
        float[] k = randn(rnd, b * l * heads * d, 1);
        // v stored as [B, H·Dv + 3, L]: transposed and narrowed, neither contiguous nor unit-stride
        Tensor vStore = Tensor.of(randn(rnd, b * (heads * dv + 3) * l, 1), b, heads * dv + 3, l);
        Tensor v = vStore.narrow(1, 2, heads * dv).transpose(1, 2);
        float[] vd = v.contiguous().toFloatArray();
        boolean[] id = {false, true};
        Tensor m = Tensor.of(randn(rnd, l * l, 1), l, l);
        float[] out = FlashAttention.attention(Tensor.of(q, b, l, heads * d), Tensor.of(k, b, l, heads * d), v, heads,
                0.5f, m, id).toFloatArray();
        for (int i = 0; i < l * heads * dv; i++) {
            assertEquals(Float.floatToRawIntBits(vd[l * heads * dv + i]), Float.floatToRawIntBits(out[l * heads * dv + i]));
        }
        assertClose(reference(q, k, vd, b, l, l, heads, d, dv, 0.5f, dense(m, b, heads, l, l), id), out, "strided v");
    }

    // ---------------------------------------------------------------- strided inputs

    @Test
    void readsNarrowedViewsOfAFusedQkvProjection() {
        Random rnd = new Random(21);
        int b = 2;
        int heads = 5;
        int d = 13;
        int l = 129;
        Tensor qkv = Tensor.of(randn(rnd, b * l * 3 * heads * d, 1), b, l, 3 * heads * d);
        Tensor q = qkv.narrow(2, 0, heads * d);
        Tensor k = qkv.narrow(2, heads * d, heads * d);
        Tensor v = qkv.narrow(2, 2 * heads * d, heads * d);
        float scale = (float) (1 / Math.sqrt(d));
        float[] out = FlashAttention.attention(q, k, v, heads, scale, null, new boolean[] {false, true}).toFloatArray();
        assertClose(reference(q.contiguous().toFloatArray(), k.contiguous().toFloatArray(),
                v.contiguous().toFloatArray(), b, l, l, heads, d, d, scale, null, new boolean[] {false, true}), out, "qkv");
    }

    @Test
    void readsPermutedSelectedAndHalfPrecisionInputs() {
        Random rnd = new Random(22);
        int b = 3;
        int heads = 2;
        int d = 7;
        int lq = 30;
        int lk = 45;
        // q as a permute of [Lq, B, H·D]; k from a select of a bigger tensor; v in half precision
        Tensor q = Tensor.of(randn(rnd, lq * b * heads * d, 1), lq, b, heads * d).permute(1, 0, 2);
        Tensor k = Tensor.of(randn(rnd, 2 * b * lk * heads * d, 1), 2, b, lk, heads * d).select(0, 1);
        Tensor v = Tensor.of(randn(rnd, b * lk * heads * d, 1), b, lk, heads * d).to(DType.F16);
        float scale = 0.4f;
        float[] out = FlashAttention.attention(q, k, v, heads, scale, null, null).toFloatArray();
        assertClose(reference(q.contiguous().toFloatArray(), k.contiguous().toFloatArray(), v.toFloatArray(), b, lq, lk,
                heads, d, d, scale, null, null), out, "views");
    }

    // ---------------------------------------------------------------- threads and errors

    @Test
    void resultDoesNotDependOnTheThreadCount() {
        Random rnd = new Random(4);
        int b = 2;
        int heads = 5;
        int d = 64;
        int l = 200;
        Tensor q = Tensor.of(randn(rnd, b * l * heads * d, 1), b, l, heads * d);
        Tensor k = Tensor.of(randn(rnd, b * l * heads * d, 1), b, l, heads * d);
        Tensor v = Tensor.of(randn(rnd, b * l * heads * d, 1), b, l, heads * d);
        Parallel.setThreads(1);
        float[] one = FlashAttention.attention(q, k, v, heads, 0.125f, null, null).toFloatArray();
        Parallel.setThreads(2);
        float[] two = FlashAttention.attention(q, k, v, heads, 0.125f, null, null).toFloatArray();
        assertArrayEquals(one, two);
    }

    @Test
    void badShapesAreIllegalArgumentsNamingTheOpAndShapes() {
        Tensor q = Tensor.zeros(2, 5, 8);
        Tensor k = Tensor.zeros(2, 6, 8);
        Tensor v = Tensor.zeros(2, 6, 8);
        expectBad(() -> FlashAttention.attention(q, Tensor.zeros(3, 6, 8), v, 2, 1f, null, null), "[3, 6, 8]");
        expectBad(() -> FlashAttention.attention(q, k, Tensor.zeros(2, 7, 8), 2, 1f, null, null), "[2, 7, 8]");
        expectBad(() -> FlashAttention.attention(q, Tensor.zeros(2, 6, 4), v, 2, 1f, null, null), "[2, 6, 4]");
        expectBad(() -> FlashAttention.attention(q, k, v, 3, 1f, null, null), "3 heads");
        expectBad(() -> FlashAttention.attention(q, k, Tensor.zeros(2, 6, 9), 2, 1f, null, null), "[2, 6, 9]");
        expectBad(() -> FlashAttention.attention(q, k, v, 0, 1f, null, null), "heads");
        expectBad(() -> FlashAttention.attention(Tensor.zeros(2, 5, 2, 4), k, v, 2, 1f, null, null), "[2, 5, 2, 4]");
        expectBad(() -> FlashAttention.attention(q, k, v, 2, 1f, null, new boolean[3]), "identityRows");
        expectBad(() -> FlashAttention.attention(q, k, v, 2, 1f, null, new boolean[] {false, true}), "[2, 5, 8]");
        expectBad(() -> FlashAttention.attention(q, k, v, 2, 1f, Tensor.zeros(2, 1, 5, 5), null), "mask");
        expectBad(() -> FlashAttention.attention(q, k, v, 2, 1f, Tensor.zeros(1, 2, 2, 5, 6), null), "mask");
        expectBad(() -> FlashAttention.attention(q, k, v, 2, 1f, Tensor.ofInts(new int[6], 6), null), "mask");
        // identity flags all false: Lq != Lk is fine
        assertArrayEquals(new int[] {2, 5, 8}, FlashAttention.attention(q, k, v, 2, 1f, null, new boolean[2]).shape());
    }

    private static void expectBad(org.junit.jupiter.api.function.Executable call, String mentions) {
        var e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith("attention"), e.getMessage());
        assertTrue(e.getMessage().contains(mentions), "'" + e.getMessage() + "' should mention " + mentions);
    }

    @org.junit.jupiter.api.AfterAll
    static void printWorst() {
        System.out.printf("FlashAttentionTest (%s): worst error %.3g of Σp|v| (bound 1e-5)%n", VectorMath.S, worstRelative);
    }
}
