package dev.pagoda.nn.t5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.tensor.golden.GoldenFixtures;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The T5 encoder against a float64 re-computation on awkward sizes (position bias with log buckets,
 * attention mask, gated and plain feed-forwards, half-precision weights), the bucket function
 * against torch, and its errors. The golden model's outputs are checked by the conformance runner
 * (case pixart_components).
 */
class T5EncoderModelTest {

    @Test
    @SuppressWarnings("unchecked")
    void relativePositionBucketsEqualTorch() throws IOException {
        Map<String, Object> ref;
        try (InputStream in = T5EncoderModelTest.class.getResourceAsStream("relative_buckets.json")) {
            ref = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        List<Object> tables = (List<Object>) ref.get("tables");
        assertEquals(5, tables.size());
        for (Object o : tables) {
            Map<String, Object> t = (Map<String, Object>) o;
            int nb = ((Number) t.get("num_buckets")).intValue();
            int md = ((Number) t.get("max_distance")).intValue();
            int from = ((Number) t.get("from")).intValue();
            List<Object> want = (List<Object>) t.get("buckets");
            for (int i = 0; i < want.size(); i++) {
                int rp = from + i;
                assertEquals(((Number) want.get(i)).intValue(), T5Attention.relativePositionBucket(rp, true, nb, md),
                        "relative position " + rp + " with " + nb + " buckets, max distance " + md);
            }
        }
    }

    static T5Config config(int dModel, int heads, int dKv, int dFf, int layers, int buckets, int maxDistance,
            T5Config.Activation act, boolean gated) {
        return new T5Config(50, dModel, dKv, dFf, layers, heads, buckets, maxDistance, 1e-6f, act, gated);
    }

    @Test
    void gatedGeluEncoderMatchesFloat64() {
        // awkward sizes; 37 tokens with max distance 11 reach the logarithmic and the clipped buckets
        check(config(20, 3, 7, 29, 3, 11, 11, T5Config.Activation.GELU_TANH, true), DType.F32, 2, 37, 1e-5);
    }

    @Test
    void plainReluEncoderMatchesFloat64() {
        check(config(18, 2, 5, 23, 2, 8, 9, T5Config.Activation.RELU, false), DType.F32, 3, 19, 1e-5);
    }

    @Test
    void halfPrecisionWeightsStayStoredAndMatchFloat64() {
        T5EncoderModel m = check(config(24, 4, 6, 33, 2, 32, 128, T5Config.Activation.GELU_TANH, true), DType.BF16,
                1, 45, 1e-5);
        assertEquals(DType.BF16, m.namedParameters().get("encoder.block.1.layer.1.DenseReluDense.wi_0.weight").get().dtype());
        check(config(16, 2, 8, 24, 2, 32, 128, T5Config.Activation.GELU, true), DType.F16, 2, 13, 1e-5);
    }

    /** Random weights of {@code dtype}, random ids and a mask that pads each row differently. */
    private static T5EncoderModel check(T5Config c, DType dtype, int batch, int len, double tol) {
        T5EncoderModel m = new T5EncoderModel(c);
        WeightLoader.randomize(m, dtype, 7 + len);
        SplittableRandom rng = new SplittableRandom(len);
        long[] ids = new long[batch * len];
        long[] mask = new long[batch * len];
        for (int b = 0; b < batch; b++) {
            int real = Math.max(1, len - 5 * b);
            for (int i = 0; i < len; i++) {
                ids[b * len + i] = rng.nextInt(c.vocabSize());
                mask[b * len + i] = i < real ? 1 : 0;
            }
        }
        Tensor got = m.forward(Tensor.ofLongs(ids, batch, len), Tensor.ofLongs(mask, batch, len));
        double[] ref = Float64Reference.encode(m, c, ids, mask, batch, len);
        float[] g = got.toFloatArray();
        assertEquals(ref.length, g.length);
        double maxRef = 1;
        double maxErr = 0;
        for (int i = 0; i < g.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxErr = Math.max(maxErr, Math.abs(g[i] - ref[i]));
        }
        assertTrue(maxErr / maxRef <= tol, "rel error " + maxErr / maxRef + " > " + tol);
        return m;
    }

    @Test
    void maskedKeysDoNotChangeTheOutputOfRealTokens() {
        T5Config c = config(16, 2, 8, 24, 2, 32, 128, T5Config.Activation.GELU_TANH, true);
        T5EncoderModel m = new T5EncoderModel(c);
        WeightLoader.randomize(m, DType.F32, 3);
        long[] a = {5, 9, 11, 1, 0, 0};
        long[] b = {5, 9, 11, 1, 7, 42};
        long[] mask = {1, 1, 1, 1, 0, 0};
        float[] x = m.forward(Tensor.ofLongs(a, 1, 6), Tensor.ofLongs(mask, 1, 6)).narrow(1, 0, 4).contiguous().toFloatArray();
        float[] y = m.forward(Tensor.ofLongs(b, 1, 6), Tensor.ofLongs(mask, 1, 6)).narrow(1, 0, 4).contiguous().toFloatArray();
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], y[i], 1e-6, "element " + i);
        }
    }

    @Test
    void unsupportedFeedForwardIsANamedConfigError(@TempDir Path dir) throws IOException {
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, "{\"feed_forward_proj\": \"gated-mish\"}");
        ConfigException e = assertThrows(ConfigException.class, () -> T5EncoderModel.fromConfig(cfg));
        assertTrue(e.getMessage().contains("feed_forward_proj") && e.getMessage().contains("gated-mish"), e.getMessage());
        Files.writeString(cfg, "{\"feed_forward_proj\": \"relu-gated\"}");
        e = assertThrows(ConfigException.class, () -> T5EncoderModel.fromConfig(cfg));
        assertTrue(e.getMessage().contains("relu-gated"), e.getMessage());
    }

    @Test
    void feedForwardProjIsParsedAsTransformersDoes() {
        T5Config gated = T5Config.from(new JsonConfig("test", Map.of("feed_forward_proj", "gated-gelu")));
        assertEquals(T5Config.Activation.GELU_TANH, gated.denseActivation());
        assertTrue(gated.gatedActivation());
        T5Config plain = T5Config.from(new JsonConfig("test", Map.of("feed_forward_proj", "gelu")));
        assertEquals(T5Config.Activation.GELU, plain.denseActivation());
        assertTrue(!plain.gatedActivation());
        assertEquals(T5Config.Activation.RELU, T5Config.from(new JsonConfig("test", Map.of())).denseActivation());
    }

    @Test
    void goldenEncoderLoadsAndRefusesUseAfterClose() {
        T5EncoderModel m = T5EncoderModel.fromPretrained(GoldenFixtures.vendored().model("tiny-pixart-sigma").resolve("text_encoder"));
        assertEquals(32, m.config().dModel());
        Tensor ids = Tensor.ofLongs(new long[] {66, 45, 1}, 1, 3);
        assertEquals(List.of(1, 3, 32), java.util.Arrays.stream(m.forward(ids, null).shape()).boxed().toList());
        m.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.forward(ids, null));
        assertTrue(e.getMessage().contains("close"), e.getMessage());
        m.close();
    }

    @Test
    void badInputsAreNamedErrors() {
        T5EncoderModel m = new T5EncoderModel(config(16, 2, 8, 24, 1, 32, 128, T5Config.Activation.RELU, false));
        WeightLoader.randomize(m, DType.F32, 1);
        assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.ofLongs(new long[] {50}, 1, 1), null));
        assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.ofLongs(new long[] {1, 2}, 1, 2), Tensor.ofLongs(new long[] {1}, 1, 1)));
        assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.of(new float[] {1}, 1, 1), null));
    }
}
