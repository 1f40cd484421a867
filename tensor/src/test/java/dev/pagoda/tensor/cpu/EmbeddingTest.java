package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EmbeddingTest {

    private static final Backend B = Backend.cpu();

    // ---------------------------------------------------------------- lookup

    @Test
    void lookupGathersRowsForIdsOfAnyShape() {
        Random rng = new Random(1);
        int v = 11;
        int d = 19;
        float[] table = Layouts.normal(rng, v * d, 0, 1);
        int[] ids = {3, 0, 10, 3, 7, 1};
        float[] expected = new float[ids.length * d];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(table, ids[i] * d, expected, i * d, d);
        }
        Tensor t = Tensor.of(table.clone(), v, d);
        Tensor out = B.embedding(t, Tensor.ofInts(ids, 2, 3));
        assertArrayEquals(new int[] {2, 3, d}, out.shape());
        assertArrayEquals(expected, out.toFloatArray());
        long[] longIds = Arrays.stream(ids).asLongStream().toArray();
        assertArrayEquals(expected, B.embedding(t, Tensor.ofLongs(longIds, 6)).toFloatArray());
        assertArrayEquals(new int[] {6, d}, B.embedding(t, Tensor.ofLongs(longIds, 6)).shape());
        // a 0-d id gives one row [D]
        Tensor one = B.embedding(t, Tensor.ofLongs(new long[] {10}));
        assertArrayEquals(new int[] {d}, one.shape());
        assertArrayEquals(Arrays.copyOfRange(table, 10 * d, 11 * d), one.toFloatArray());
    }

    @Test
    void lookupWidensHalfPrecisionAndStridedTables() {
        Random rng = new Random(2);
        int v = 13;
        int d = 37;
        float[] table = Layouts.normal(rng, v * d, 0, 1);
        long[] ids = {12, 0, 5, 5};
        for (DType dt : new DType[] {DType.F16, DType.BF16, DType.F32}) {
            Tensor seg = Layouts.ofDtype(dt, table, v, d);
            float[] widened = seg.toFloatArray();
            float[] expected = new float[ids.length * d];
            for (int i = 0; i < ids.length; i++) {
                System.arraycopy(widened, (int) ids[i] * d, expected, i * d, d);
            }
            assertArrayEquals(expected, B.embedding(seg, Tensor.ofLongs(ids, 4)).toFloatArray(), dt.name());
        }
        // a transposed view: table rows are columns of the stored matrix
        Tensor transposed = Layouts.transposed(table, v, d);
        float[] expected = new float[ids.length * d];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(table, (int) ids[i] * d, expected, i * d, d);
        }
        assertArrayEquals(expected, B.embedding(transposed, Tensor.ofLongs(ids, 4)).toFloatArray());
        // a large lookup takes the threaded path
        long[] many = new long[3000];
        for (int i = 0; i < many.length; i++) {
            many[i] = (i * 7L) % v;
        }
        float[] big = B.embedding(Tensor.of(table.clone(), v, d), Tensor.ofLongs(many, 3000)).toFloatArray();
        for (int i = 0; i < many.length; i++) {
            assertArrayEquals(Arrays.copyOfRange(table, (int) many[i] * d, (int) many[i] * d + d),
                    Arrays.copyOfRange(big, i * d, i * d + d));
        }
    }

    @Test
    void outOfRangeIdsNameTheIdAndTheTableSize() {
        Tensor table = Tensor.zeros(49408, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> B.embedding(table, Tensor.ofLongs(new long[] {1, 49408}, 2)));
        assertTrue(e.getMessage().contains("49408") && e.getMessage().contains("V = 49408"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> B.embedding(table, Tensor.ofInts(new int[] {-1}, 1)));
        assertTrue(e.getMessage().contains("id -1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> B.embedding(table, Tensor.of(new float[] {1f}, 1)));
        assertTrue(e.getMessage().contains("I32 or I64"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> B.embedding(Tensor.zeros(4), Tensor.ofInts(new int[] {0}, 1)));
        assertTrue(e.getMessage().contains("[V, D]"), e.getMessage());
    }

    // ---------------------------------------------------------------- timestep embedding

    /** Values computed with diffusers' get_timestep_embedding under torch 1.13.1 (CPU, float32). */
    private static final float[] TORCH_D9 = {0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 1.0f, 0.0f, 0.8414709568023682f,
        0.04639922454953194f, 0.0021544331684708595f, 9.99999901978299e-05f, 0.5403023362159729f, 0.9989229440689087f,
        0.9999976754188538f, 1.0f, 0.0f, -0.9613975286483765f, 0.7096984386444092f, 0.036617204546928406f,
        0.0016999989748001099f, -0.27516335248947144f, 0.7045055627822876f, 0.9993293881416321f, 0.9999985694885254f,
        0.0f, -0.4677717983722687f, -0.9379929304122925f, 0.880642831325531f, 0.049979161471128464f,
        -0.8838492631912231f, -0.34665435552597046f, 0.47378072142601013f, 0.9987502694129944f, 0.0f,
        -0.02646075189113617f, 0.6848641633987427f, 0.8356484770774841f, 0.09973391145467758f, 0.9996498227119446f,
        -0.7286707162857056f, -0.549264669418335f, 0.9950141310691833f, 0.0f};
    private static final float[] TORCH_D10_FLIP_SHIFT0 = {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
        0.5403023362159729f, 0.9874668121337891f, 0.9996845722198486f, 0.9999920725822449f, 0.9999998211860657f,
        0.8414709568023682f, 0.15782663226127625f, 0.025116223841905594f, 0.003981061279773712f,
        0.0006309572490863502f, -0.27516335248947144f, -0.9016293287277222f, 0.9102036952972412f,
        0.9977107048034668f, 0.9999424815177917f, -0.9613975286483765f, 0.4325096309185028f, 0.4141608774662018f,
        0.06762656569480896f, 0.010726068168878555f, -0.8838492631912231f, -0.7617132067680359f,
        0.9999759197235107f, -0.40752270817756653f, 0.9506480097770691f, -0.4677717983722687f,
        -0.6479142904281616f, -0.006937575526535511f, 0.9131950736045837f, 0.3102715313434601f,
        0.9996498227119446f, 0.3141898810863495f, 0.9992398023605347f, -0.6708083152770996f, 0.8078352212905884f,
        -0.02646075189113617f, 0.949360191822052f, -0.03898516297340393f, -0.7416307926177979f,
        0.5894083976745605f};
    /** dim 7, flip, shift 1, scale 2.5, max period 100. */
    private static final float[] TORCH_D7_SCALED = {1.0f, 1.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, -0.8011435866355896f,
        0.9689124226570129f, 0.9996875524520874f, 0.5984721183776855f, 0.24740394949913025f, 0.024997394531965256f,
        0.0f, 0.08838369697332382f, -0.44608747959136963f, 0.9110387563705444f, -0.9960864782333374f,
        -0.8949893712997437f, 0.4123207926750183f, 0.0f, 0.9380365610122681f, 0.7877098321914673f,
        0.9977982640266418f, -0.3465363681316376f, -0.6160464882850647f, -0.06632189452648163f, 0.0f,
        -0.9978122711181641f, -0.006631170399487019f, 0.9875844120979309f, 0.06611134856939316f,
        -0.9999780058860779f, -0.15708938241004944f, 0.0f};
    /** SDXL's time_proj (dim 320, flip, shift 0) for int64 timesteps 999 and 1, at a few columns. */
    private static final int[] D320_COLUMNS = {0, 1, 37, 100, 159, 160, 161, 250, 319};
    private static final float[] TORCH_D320 = {0.9996498227119446f, 0.8026775121688843f, 0.7966060638427734f,
        -0.9998465180397034f, 0.9944063425064087f, -0.02646075189113617f, 0.5964133143424988f, -0.6173710823059082f,
        0.1056220605969429f, 0.5403023362159729f, 0.586503803730011f, 0.9929456114768982f, 0.9999949932098389f, 1.0f,
        0.8414709568023682f, 0.8099464774131775f, 0.005623382516205311f, 0.00010592537000775337f};

    private static final float[] TIMESTEPS = {0f, 1f, 17f, 500f, 999f};

    /**
     * Our exp, sin and cos are correctly rounded; torch's float32 ones are within about an ulp (its
     * exp(-3.0701134) is 0.61 ulp off). An ulp of the frequency moves the argument by
     * |scale·t|·ulp(freq), so the tolerance is that plus an ulp of the result.
     */
    private static void assertMatchesTorch(float[] expected, float[] actual, float[] argUlps) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            double tol = Math.ulp(expected[i]) + argUlps[i];
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    "element " + i + ": " + actual[i] + " vs torch " + expected[i] + " (tolerance " + tol + ")");
        }
    }

    /** |scale·t|·ulp(freq) for each element of an embedding, laid out as the kernel lays it out. */
    private static float[] args(float[] ts, int dim, boolean flip, float shift, float scale, int maxPeriod) {
        int half = dim / 2;
        float[] a = new float[ts.length * dim];
        for (int r = 0; r < ts.length; r++) {
            for (int i = 0; i < half; i++) {
                float freq = (float) Math.exp(-Math.log(maxPeriod) * i / (half - shift));
                float v = Math.abs(scale * ts[r]) * Math.ulp(freq);
                a[r * dim + i] = v;
                a[r * dim + half + i] = v;
            }
        }
        return a;
    }

    @Test
    void timestepEmbeddingMatchesDiffusersUnderTorch() {
        Tensor t = Tensor.of(TIMESTEPS.clone(), 5);
        assertMatchesTorch(TORCH_D9, B.timestepEmbedding(t, 9, false, 1f, 1f, 10000).toFloatArray(),
                args(TIMESTEPS, 9, false, 1f, 1f, 10000));
        assertMatchesTorch(TORCH_D10_FLIP_SHIFT0, B.timestepEmbedding(t, 10, true, 0f, 1f, 10000).toFloatArray(),
                args(TIMESTEPS, 10, true, 0f, 1f, 10000));
        assertMatchesTorch(TORCH_D7_SCALED, B.timestepEmbedding(t, 7, true, 1f, 2.5f, 100).toFloatArray(),
                args(TIMESTEPS, 7, true, 1f, 2.5f, 100));

        Tensor e = B.timestepEmbedding(Tensor.ofLongs(new long[] {999, 1}, 2), 320, true, 0f, 1f, 10000);
        assertArrayEquals(new int[] {2, 320}, e.shape());
        float[] picked = new float[TORCH_D320.length];
        float[] pickedArgs = new float[TORCH_D320.length];
        float[] allArgs = args(new float[] {999f, 1f}, 320, true, 0f, 1f, 10000);
        for (int r = 0; r < 2; r++) {
            for (int j = 0; j < D320_COLUMNS.length; j++) {
                picked[r * D320_COLUMNS.length + j] = e.getFloat(r, D320_COLUMNS[j]);
                pickedArgs[r * D320_COLUMNS.length + j] = allArgs[r * 320 + D320_COLUMNS[j]];
            }
        }
        assertMatchesTorch(TORCH_D320, picked, pickedArgs);
    }

    @Test
    void timestepEmbeddingFollowsTheFormulaInFloat64() {
        // the exact formula; float32 rounding of the argument t·freq moves sin by up to |arg|·2^-22
        Random rng = new Random(3);
        float[] ts = Layouts.uniform(rng, 6, 0, 1000);
        int dim = 33;
        int half = dim / 2;
        float shift = 1f;
        float scale = 1.5f;
        Tensor e = B.timestepEmbedding(Tensor.of(ts.clone(), 6), dim, false, shift, scale, 10000);
        for (int r = 0; r < ts.length; r++) {
            for (int i = 0; i < half; i++) {
                double arg = scale * ts[r] * Math.exp(-Math.log(10000) * i / (half - shift));
                double tol = Math.abs(arg) * 0x1p-21 + 1e-7;
                assertEquals(Math.sin(arg), e.getFloat(r, i), tol);
                assertEquals(Math.cos(arg), e.getFloat(r, half + i), tol);
            }
            assertEquals(0f, e.getFloat(r, dim - 1));
        }
    }

    @Test
    void timestepEmbeddingRejectsBadArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> B.timestepEmbedding(Tensor.zeros(2, 1), 8, true, 0f, 1f, 10000));
        assertTrue(e.getMessage().contains("1-D") && e.getMessage().contains("[2, 1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> B.timestepEmbedding(Tensor.zeros(2), 0, true, 0f, 1f, 10000));
        assertThrows(IllegalArgumentException.class, () -> B.timestepEmbedding(Tensor.zeros(2), 8, true, 0f, 1f, 0));
        // dim 1: no frequencies, one zero column
        assertArrayEquals(new float[] {0f, 0f}, B.timestepEmbedding(Tensor.zeros(2), 1, true, 0f, 1f, 10000).toFloatArray());
    }
}
