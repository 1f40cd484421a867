package dev.pagoda.nn.pixart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** PixArtTransformer2DModel against a float64 oracle on awkward sizes, its config rules and input errors. */
class PixArtTransformer2DModelTest {

    /** 3 heads × 4 channels, 3 in / 6 out channels, sample 6 (base grid 3), caption width 5, extra conditions. */
    static final String CONFIG = """
            {"num_attention_heads": 3, "attention_head_dim": 4, "in_channels": 3, "out_channels": 6,
             "num_layers": 3, "cross_attention_dim": 12, "sample_size": 6, "patch_size": 2,
             "activation_fn": "gelu-approximate", "norm_type": "ada_norm_single", "norm_elementwise_affine": false,
             "norm_eps": 1e-6, "interpolation_scale": 1.5, "use_additional_conditions": true, "caption_channels": 5,
             "num_embeds_ada_norm": 1000, "attention_type": "default"}
            """;

    static PixArtConfig config(String json) {
        return PixArtConfig.from(new JsonConfig("test config", Json.parseObject(json)));
    }

    static float[] random(SplittableRandom r, int n, double scale) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return f;
    }

    /** Rows [neg, pos, pos] with PAG on block 1 for the last row; a 6×10 latent (3×5 grid, not the base 3×3). */
    private static void checkAgainstFloat64(DType weights, double tol) {
        PixArtConfig c = config(CONFIG);
        PixArtTransformer2DModel m = new PixArtTransformer2DModel(c);
        WeightLoader.randomize(m, weights, 11);
        SplittableRandom r = new SplittableRandom(3);
        int h = 6;
        int w = 10;
        int len = 7;
        float[] lat = random(r, 2 * 3 * h * w, 1.5);
        float[] text = random(r, 2 * len * 5, 1.0);
        // rows: 0 = neg (own latent and text), 1 = pos, 2 = copy of pos
        float[] sample = new float[3 * 3 * h * w];
        System.arraycopy(lat, 0, sample, 0, 3 * h * w);
        System.arraycopy(lat, 3 * h * w, sample, 3 * h * w, 3 * h * w);
        System.arraycopy(lat, 3 * h * w, sample, 2 * 3 * h * w, 3 * h * w);
        float[] ctx = new float[3 * len * 5];
        System.arraycopy(text, 0, ctx, 0, len * 5);
        System.arraycopy(text, len * 5, ctx, len * 5, len * 5);
        System.arraycopy(text, len * 5, ctx, 2 * len * 5, len * 5);
        float[] mask = {1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0};
        float[] ts = {999, 421, 421};
        float[] res = {48, 80, 64, 64, 64, 64};
        float[] ar = {0.6f, 1f, 1f};
        List<Attention> perturbed = PagLayers.modules(m, List.of("transformer_blocks.1"), PagLayers.Mode.DIFFUSERS);
        PagPlan plan = PagPlan.of(perturbed, 3, 1);
        Tensor out = m.forward(new PixArtTransformer2DModel.Input(Tensor.of(sample, 3, 3, h, w), ts,
                Tensor.of(ctx, 3, len, 5), Tensor.of(mask, 3, len), Tensor.of(res, 3, 2), Tensor.of(ar, 3, 1), plan));
        assertEquals(List.of(3, 6, h, w), java.util.Arrays.stream(out.shape()).boxed().toList());

        PixArtFloat64 ref = new PixArtFloat64(m.namedParameters(), c);
        double maxErr = 0;
        double maxRef = 0;
        for (int b = 0; b < 3; b++) {
            double[][][] x = new double[3][h][w];
            for (int ch = 0; ch < 3; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int xx = 0; xx < w; xx++) {
                        x[ch][y][xx] = sample[((b * 3 + ch) * h + y) * w + xx];
                    }
                }
            }
            double[][] t = new double[len][5];
            double[] mk = new double[len];
            for (int j = 0; j < len; j++) {
                mk[j] = mask[b * len + j];
                for (int k = 0; k < 5; k++) {
                    t[j][k] = ctx[(b * len + j) * 5 + k];
                }
            }
            boolean[] pert = {false, b == 2, false};
            double[][][] want = ref.forward(x, ts[b], t, mk, new double[] {res[2 * b], res[2 * b + 1]}, ar[b], pert);
            for (int ch = 0; ch < 6; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int xx = 0; xx < w; xx++) {
                        maxErr = Math.max(maxErr, Math.abs(out.getFloat(b, ch, y, xx) - want[ch][y][xx]));
                        maxRef = Math.max(maxRef, Math.abs(want[ch][y][xx]));
                    }
                }
            }
        }
        assertTrue(maxRef > 0.1, "the oracle output is not degenerate: " + maxRef);
        assertTrue(maxErr / Math.max(1, maxRef) < tol, weights + ": rel error " + maxErr / Math.max(1, maxRef));
        // the perturbed row differs from the cond row it copies (PAG reached block 1)
        double diff = 0;
        for (int i = 0; i < 6 * h * w; i++) {
            diff = Math.max(diff, Math.abs(out.getFloat(1, i / (h * w), i / w % h, i % w)
                    - out.getFloat(2, i / (h * w), i / w % h, i % w)));
        }
        assertTrue(diff > 1e-3, "perturbed row equals the cond row: " + diff);
    }

    @Test
    void forwardMatchesFloat64WithPagMaskAndExtraConditions() {
        checkAgainstFloat64(DType.F32, 5e-6);
    }

    @Test
    void halfPrecisionWeightsAreWidenedExactly() {
        checkAgainstFloat64(DType.BF16, 5e-6);
    }

    @Test
    void sinCosPositionEmbeddingOfTheBaseGridMatchesNumpyValues() {
        // get_2d_sincos_pos_embed(4, (2, 3), base_size=2, interpolation_scale=1): column 2 of row 1
        Tensor pe = PatchEmbed.sinCos(4, 2, 3, 2, 1f);
        double col = 2 / (3 / 2.0);
        assertEquals(Math.sin(col), pe.getFloat(0, 5, 0), 1e-7);
        assertEquals(Math.cos(col), pe.getFloat(0, 5, 1), 1e-7);
        assertEquals(Math.sin(1.0), pe.getFloat(0, 5, 2), 1e-7);
        assertEquals(Math.cos(1.0), pe.getFloat(0, 5, 3), 1e-7);
    }

    @Test
    void configDefaultsFollowDiffusers() {
        PixArtConfig c = config("{\"caption_channels\": 4096}");
        assertEquals(1152, c.innerDim());
        assertEquals(8, c.outChannels());
        assertTrue(c.useAdditionalConditions(), "sample_size 128 turns additional conditions on");
        assertEquals(2f, c.interpolationScale());
        PixArtConfig sigma = config("{\"caption_channels\": 4096, \"use_additional_conditions\": false,"
                + " \"interpolation_scale\": null, \"out_channels\": null, \"sample_size\": 256}");
        assertEquals(4, sigma.outChannels(), "null out_channels means in_channels");
        assertEquals(4f, sigma.interpolationScale());
        assertTrue(!sigma.useAdditionalConditions());
    }

    @Test
    void unsupportedConfigsAreNamed() {
        assertTrue(assertThrows(ConfigException.class, () -> config("{\"norm_type\": \"layer_norm\"}"))
                .getMessage().contains("norm_type"));
        assertTrue(assertThrows(ConfigException.class, () -> config("{\"activation_fn\": \"swiglu\"}"))
                .getMessage().contains("activation_fn"));
        assertTrue(assertThrows(ConfigException.class, () -> config("{\"caption_channels\": 64, \"cross_attention_dim\": 100}"))
                .getMessage().contains("cross_attention_dim"));
        assertTrue(assertThrows(ConfigException.class, () -> config("{\"attention_type\": \"gated\"}"))
                .getMessage().contains("attention_type"));
    }

    @Test
    void badInputsAreNamed() {
        PixArtTransformer2DModel m = new PixArtTransformer2DModel(config(CONFIG));
        WeightLoader.randomize(m, DType.F32, 1);
        Tensor ehs = Tensor.zeros(1, 4, 5);
        Map<String, Tensor> res = Map.of("r", Tensor.of(new float[] {64, 64}, 1, 2), "a", Tensor.of(new float[] {1}, 1, 1));
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class, () -> m.forward(
                new PixArtTransformer2DModel.Input(Tensor.zeros(1, 3, 6, 5), new float[] {1}, ehs, null, res.get("r"),
                        res.get("a"), PagPlan.NONE)));
        assertTrue(odd.getMessage().contains("patch size 2"), odd.getMessage());
        IllegalArgumentException mask = assertThrows(IllegalArgumentException.class, () -> m.forward(
                new PixArtTransformer2DModel.Input(Tensor.zeros(1, 3, 6, 6), new float[] {1}, ehs, Tensor.zeros(1, 3),
                        res.get("r"), res.get("a"), PagPlan.NONE)));
        assertTrue(mask.getMessage().contains("encoder_attention_mask"), mask.getMessage());
        IllegalArgumentException caption = assertThrows(IllegalArgumentException.class, () -> m.forward(
                new PixArtTransformer2DModel.Input(Tensor.zeros(1, 3, 6, 6), new float[] {1}, Tensor.zeros(1, 4, 6),
                        null, res.get("r"), res.get("a"), PagPlan.NONE)));
        assertTrue(caption.getMessage().contains("caption_channels"), caption.getMessage());
        IllegalArgumentException extra = assertThrows(IllegalArgumentException.class, () -> m.forward(
                PixArtTransformer2DModel.Input.of(Tensor.zeros(1, 3, 6, 6), 1f, ehs, null)));
        assertTrue(extra.getMessage().contains("use_additional_conditions"), extra.getMessage());
    }

    @Test
    void pagSelectsTheSelfAttentionOfTransformerBlocks() {
        PixArtTransformer2DModel m = new PixArtTransformer2DModel(config(CONFIG.replace("\"num_layers\": 3",
                "\"num_layers\": 12")));
        assertEquals(List.of("transformer_blocks.1.attn1", "transformer_blocks.10.attn1", "transformer_blocks.11.attn1"),
                PagLayers.select(m, List.of("blocks.1")));
    }
}
