package dev.pagoda.nn.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.Golden;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.nn.attention.Transformer2DModel;
import dev.pagoda.nn.unet.UNetFloat64.Image;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * H != W: the tiny SDXL UNet and its building blocks, with the real tiny weights, at non-square
 * (and odd, and 1-wide) sizes against {@link UNetFloat64}, a scalar float64 evaluation of diffusers'
 * definitions. The golden fixtures are square only, so a height/width mix-up anywhere (a kernel
 * indexing [H, W] as [W, H], tokens laid out column-major on one side of a transformer) would pass
 * them; here each comparison with both sides above 1 is paired with the reference of the mix-up,
 * which must be far off, so the comparison provably tells the two apart.
 */
class NonSquareLatentTest {

    /** The fixtures' tolerance for a single forward: rel = max|got-ref| / max(1, max|ref|). */
    static final double TOL = 1e-4;
    /** How far the reference of a height/width mix-up must be from the result (100 × TOL). */
    static final double MIXUP_MIN = 1e-2;
    static final int CONTEXT_TOKENS = 77;

    static UNet2DConditionModel unet;
    static SafetensorsFile weights;
    static UNetFloat64 ref;

    @BeforeAll
    static void load() throws IOException {
        Path config = Golden.model("tiny-sdxl").resolve("unet/config.json");
        unet = UNet2DConditionModel.fromConfig(config);
        weights = SafetensorsFile.open(Golden.model("tiny-sdxl").resolve("unet/diffusion_pytorch_model.safetensors"));
        WeightLoader.load(unet, weights, "");
        ref = UNetFloat64.ofUNet(unet, Json.parseObject(Files.readString(config)));
    }

    @AfterAll
    static void close() {
        weights.close();
    }

    // ---------------------------------------------------------------- blocks

    @Test
    void resnetWithTimeEmbeddingAndShortcutMatchesFloat64() {
        String p = "down_blocks.1.resnets.0.";
        ResnetBlock2D block = module(p, ResnetBlock2D.class);
        assertTrue(ref.has(p + "conv_shortcut.weight"), "the block must change width (8 -> 16)");
        int in = shape(p + "conv1.weight")[1];
        int temb = shape(p + "time_emb_proj.weight")[1];
        Random r = new Random(11);
        for (int[] s : new int[][] {{2, 8, 12}, {1, 5, 3}, {1, 1, 7}, {2, 7, 1}}) {
            Tensor x = randn(r, s[0], in, s[1], s[2]);
            Tensor t = randn(r, s[0], temb);
            Tensor got = block.forward(x, t);
            String what = "resnet " + sizeName(s);
            assertClose(what, got, b -> ref.resnet(p, Image.row(x, b), row(t, b)));
            if (s[1] > 1 && s[2] > 1) {
                assertMixupFar(what, got, b -> ref.resnet(p, Image.row(x, b).transposed(), row(t, b)).transposed());
            }
        }
    }

    @Test
    void transformerMatchesFloat64() {
        Random r = new Random(12);
        checkTransformer("down_blocks.1.attentions.0.", ref.heads(1), r, new int[][] {{2, 8, 12}, {1, 3, 5}, {1, 1, 6}});
        checkTransformer("mid_block.attentions.0.", ref.heads(2), r, new int[][] {{2, 4, 6}, {1, 3, 1}});
    }

    private void checkTransformer(String p, int heads, Random r, int[][] sizes) {
        Transformer2DModel block = module(p, Transformer2DModel.class);
        int c = shape(p + "norm.weight")[0];
        for (int[] s : sizes) {
            Tensor x = randn(r, s[0], c, s[1], s[2]);
            Tensor ctx = randn(r, s[0], CONTEXT_TOKENS, shape(p + "transformer_blocks.0.attn2.to_k.weight")[1]);
            Tensor got = block.forward(x, ctx, PagPlan.NONE);
            String what = "transformer " + p + " " + sizeName(s);
            Image[] want = new Image[s[0]];
            for (int b = 0; b < s[0]; b++) {
                want[b] = ref.transformer(p, Image.row(x, b), rows(ctx, b), heads, Set.of());
            }
            assertClose(what, got, b -> want[b]);
            if (s[1] > 1 && s[2] > 1) {
                // attention is token-order equivariant, so transposing the input proves nothing here; the
                // mix-up to rule out is tokens written back column-major: the branch lands on the wrong pixels
                assertMixupFar(what, got, b -> tokensMisplaced(Image.row(x, b), want[b]));
            }
        }
    }

    @Test
    void transformerWithPerturbedRowMatchesFloat64() {
        String p = "mid_block.attentions.0.";
        Transformer2DModel block = module(p, Transformer2DModel.class);
        Set<String> flagged = midSelfAttentions();
        {
            assertEquals(List.copyOf(flagged).stream().sorted().toList(),
                    PagLayers.select(unet, List.of("mid")).stream().sorted().toList());
            PagPlan plan = PagPlan.of(PagLayers.modules(unet, List.of("mid"), PagLayers.Mode.DIFFUSERS), 3, 1);
            Random r = new Random(13);
            int c = shape(p + "norm.weight")[0];
            for (int[] s : new int[][] {{3, 4, 6}, {3, 5, 3}}) {
                Tensor x = randn(r, s[0], c, s[1], s[2]);
                Tensor ctx = randn(r, s[0], CONTEXT_TOKENS, shape(p + "transformer_blocks.0.attn2.to_k.weight")[1]);
                Tensor got = block.forward(x, ctx, plan);
                String what = "PAG transformer " + sizeName(s);
                IntFunction<Image> want = b -> ref.transformer(p, Image.row(x, b), rows(ctx, b), ref.heads(2),
                        b == 2 ? flagged : Set.of());
                assertClose(what, got, want);
                // the perturbed row really took the identity path: ordinary attention is far from it
                assertMixupFar(what + " (row 2 with ordinary attention)", got,
                        b -> ref.transformer(p, Image.row(x, b), rows(ctx, b), ref.heads(2), Set.of()));
            }
        }
    }

    @Test
    void downsampleMatchesFloat64() {
        String p = "down_blocks.0.downsamplers.0.";
        Downsample2D block = module(p, Downsample2D.class);
        int c = shape(p + "conv.weight")[1];
        Random r = new Random(14);
        for (int[] s : new int[][] {{2, 8, 12}, {1, 5, 7}, {1, 1, 6}, {1, 9, 2}}) {
            Tensor x = randn(r, s[0], c, s[1], s[2]);
            Tensor got = block.forward(x);
            String what = "downsample " + sizeName(s);
            assertArrayEquals(new int[] {s[0], c, (s[1] + 1) / 2, (s[2] + 1) / 2}, got.shape(), what);
            assertClose(what, got, b -> ref.downsample(p, Image.row(x, b)));
            if (s[1] > 1 && s[2] > 1) {
                assertMixupFar(what, got, b -> ref.downsample(p, Image.row(x, b).transposed()).transposed());
            }
        }
    }

    @Test
    void vaeDownsamplePaddingRightAndBottomMatchesFloat64() {
        // The VAE's flavour pads only the far edges, so it is where a swapped H/W shows first; the
        // tiny VAE has no file here, so its weights are random.
        Downsample2D block = new Downsample2D(3, 0);
        Random r = new Random(15);
        for (Parameter prm : block.namedParameters().values()) {
            prm.set(randn(r, prm.shape()));
        }
        UNetFloat64 blockRef = new UNetFloat64(block, 1, 1e-5, new int[] {1}, true, 0, 0);
        for (int[] s : new int[][] {{2, 6, 10}, {1, 5, 8}, {1, 2, 5}, {1, 7, 3}}) {
            Tensor x = randn(r, s[0], 3, s[1], s[2]);
            Tensor got = block.forward(x);
            String what = "VAE downsample " + sizeName(s);
            assertArrayEquals(new int[] {s[0], 3, s[1] / 2, s[2] / 2}, got.shape(), what);
            assertClose(what, got, b -> blockRef.downsamplePadRightBottom("", Image.row(x, b)));
            if (s[1] > 1 && s[2] > 1) {
                assertMixupFar(what, got,
                        b -> blockRef.downsamplePadRightBottom("", Image.row(x, b).transposed()).transposed());
            }
        }
    }

    @Test
    void upsampleMatchesFloat64() {
        String p = "up_blocks.1.upsamplers.0.";
        Upsample2D block = module(p, Upsample2D.class);
        int c = shape(p + "conv.weight")[1];
        Random r = new Random(16);
        for (int[] s : new int[][] {{2, 4, 6}, {1, 3, 5}, {1, 1, 2}, {1, 5, 1}}) {
            Tensor x = randn(r, s[0], c, s[1], s[2]);
            Tensor got = block.forward(x);
            String what = "upsample " + sizeName(s);
            assertArrayEquals(new int[] {s[0], c, 2 * s[1], 2 * s[2]}, got.shape(), what);
            assertClose(what, got, b -> ref.upsample(p, Image.row(x, b)));
            if (s[1] > 1 && s[2] > 1) {
                assertMixupFar(what, got, b -> ref.upsample(p, Image.row(x, b).transposed()).transposed());
            }
        }
    }

    // ---------------------------------------------------------------- whole UNet

    @Test
    void wholeUnetAtWideLatentMatchesFloat64() {
        checkUnet(new Random(21), 1, 16, 24, new float[] {801f});
    }

    @Test
    void wholeUnetAtTallLatentBatchTwoMatchesFloat64() {
        // per-row timesteps, as img2img-style batches use
        checkUnet(new Random(22), 2, 24, 16, new float[] {801f, 17.5f});
    }

    private void checkUnet(Random r, int b, int h, int w, float[] timesteps) {
        Conditioning c = Conditioning.random(r, b, h, w);
        Tensor sample = randn(r, b, 4, h, w);
        Tensor got = unet.forward(new UNet2DConditionModel.Input(sample, timesteps, c.context, c.textEmbeds,
                c.timeIds, PagPlan.NONE, null, null));
        assertArrayEquals(new int[] {b, 4, h, w}, got.shape());
        String what = "UNet " + b + "x4x" + h + "x" + w;
        IntFunction<Double> t = i -> (double) timesteps[timesteps.length == 1 ? 0 : i];
        assertClose(what, got, i -> ref.unet(Image.row(sample, i), t.apply(i), rows(c.context, i),
                row(c.textEmbeds, i), row(c.timeIds, i), Set.of()));
        assertMixupFar(what, got, i -> ref.unet(Image.row(sample, i).transposed(), t.apply(i), rows(c.context, i),
                row(c.textEmbeds, i), row(c.timeIds, i), Set.of()).transposed());
    }

    @Test
    void wholeUnetWithPagRowMatchesFloat64() {
        // CFG + PAG layout [neg, pos, pos], the last row perturbed on the mid block; 12x20 makes the mid
        // block's latent 3x5, odd in both directions
        int h = 12;
        int w = 20;
        Random r = new Random(23);
        Conditioning neg = Conditioning.random(r, 1, h, w);
        Conditioning pos = Conditioning.random(r, 1, h, w);
        Tensor latent = randn(r, 1, 4, h, w);
        var be = latent.backend();
        Tensor sample = be.concat(0, latent, latent, latent);
        Tensor ctx = be.concat(0, neg.context, pos.context, pos.context);
        Tensor text = be.concat(0, neg.textEmbeds, pos.textEmbeds, pos.textEmbeds);
        Tensor ids = be.concat(0, neg.timeIds, pos.timeIds, pos.timeIds);
        float timestep = 501f;
        Set<String> flagged = midSelfAttentions();
        {
            List<String> applied = PagLayers.select(unet, List.of("mid"));
            assertEquals(flagged.stream().sorted().toList(), applied.stream().sorted().toList());
            PagPlan plan = PagPlan.of(PagLayers.modules(unet, List.of("mid"), PagLayers.Mode.DIFFUSERS), 3, 1);
            Tensor got = unet.forward(UNet2DConditionModel.Input.of(sample, timestep, ctx, text, ids).withPag(plan));
            Image[] want = new Image[3];
            for (int i = 0; i < 3; i++) {
                want[i] = ref.unet(Image.row(sample, i), timestep, rows(ctx, i), row(text, i), row(ids, i),
                        i == 2 ? flagged : Set.of());
            }
            assertClose("PAG UNet 3x4x12x20", got, i -> want[i]);
            // rows 1 and 2 have the same inputs, so row 1's result is row 2's without the perturbation:
            // the perturbation must matter
            assertMixupFar("PAG UNet 3x4x12x20 (row 2 unperturbed)", got, i -> want[i == 2 ? 1 : i]);
            // (the H/W mix-up check of the whole model is in the two tests above)
        }
    }

    @Test
    void referenceItselfMatchesDiffusersAtTheGoldenSquareSize() {
        // The reference is only worth trusting where it provably reads diffusers the same way: run it on
        // the fixture's CFG + PAG batch (selection "mid", last row perturbed) and compare with diffusers.
        try (SafetensorsFile golden = Golden.tensors("unet_forward")) {
            double timestep = ((Number) Golden.caseJson("unet_forward").get("timestep")).doubleValue();
            Tensor sample = golden.tensor("in.sample");
            Tensor ids = golden.tensor("in.time_ids");
            Tensor want = golden.tensor("out.pag0.cfg");
            String[] rows = {"neg", "pos", "pos"};
            Set<String> flagged = midSelfAttentions();
            Image[] got = new Image[rows.length];
            for (int i = 0; i < rows.length; i++) {
                got[i] = ref.unet(Image.row(sample, 0), timestep, rows(golden.tensor("in.encoder_hidden_states."
                        + rows[i]), 0), row(golden.tensor("in.text_embeds." + rows[i]), 0), row(ids, 0),
                        i == 2 ? flagged : Set.of());
            }
            assertClose("float64 reference vs diffusers (out.pag0.cfg)", want, i -> got[i]);
        }
    }

    /** The conditioning rows of a batch: text context, pooled text, SDXL size ids for an h×w latent. */
    private record Conditioning(Tensor context, Tensor textEmbeds, Tensor timeIds) {
        static Conditioning random(Random r, int b, int h, int w) {
            int textDim = shape("add_embedding.linear_1.weight")[1] - 6 * 8;
            float[] ids = new float[b * 6];
            for (int i = 0; i < b; i++) {
                // original size, crop top-left, target size, in pixels
                float[] row = {8 * h, 8 * w, 0, 0, 8 * h, 8 * w};
                System.arraycopy(row, 0, ids, i * 6, 6);
            }
            return new Conditioning(randn(r, b, CONTEXT_TOKENS, shape("down_blocks.1.attentions.0"
                    + ".transformer_blocks.0.attn2.to_k.weight")[1]), randn(r, b, textDim), Tensor.of(ids, b, 6));
        }
    }

    // ---------------------------------------------------------------- helpers

    /** The self-attention modules diffusers' pattern "mid" selects, found from the weight names. */
    private static Set<String> midSelfAttentions() {
        Set<String> out = new java.util.TreeSet<>();
        for (String key : unet.namedParameters().keySet()) {
            if (key.contains("mid") && key.endsWith(".attn1.to_q.weight")) {
                out.add(key.substring(0, key.length() - ".to_q.weight".length()));
            }
        }
        assertEquals(3, out.size(), "the tiny mid block has three transformer layers");
        return out;
    }

    private static <M extends Module> M module(String prefix, Class<M> type) {
        return type.cast(unet.namedModules().get(prefix.substring(0, prefix.length() - 1)));
    }

    private static int[] shape(String key) {
        return unet.namedParameters().get(key).shape();
    }

    private static String sizeName(int[] s) {
        return "B=" + s[0] + " " + s[1] + "x" + s[2];
    }

    static Tensor randn(Random r, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(v, shape);
    }

    /** Row {@code b} of a {@code [B, N]} tensor. */
    static double[] row(Tensor t, int b) {
        float[] f = t.narrow(0, b, 1).contiguous().toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Row {@code b} of a {@code [B, L, C]} tensor as L vectors. */
    static double[][] rows(Tensor t, int b) {
        double[] flat = row(t, b);
        int l = t.dim(1);
        int c = t.dim(2);
        double[][] out = new double[l][c];
        for (int i = 0; i < l; i++) {
            System.arraycopy(flat, i * c, out[i], 0, c);
        }
        return out;
    }

    /** {@code x + branch} with the branch's tokens (row-major y, x) read back as if column-major. */
    static Image tokensMisplaced(Image x, Image out) {
        int hw = x.h() * x.w();
        Image m = Image.zeros(x.c(), x.h(), x.w());
        for (int c = 0; c < x.c(); c++) {
            for (int y = 0; y < x.h(); y++) {
                for (int xx = 0; xx < x.w(); xx++) {
                    int token = xx * x.h() + y;
                    m.v()[c * hw + y * x.w() + xx] = x.v()[c * hw + y * x.w() + xx]
                            + out.v()[c * hw + token] - x.v()[c * hw + token];
                }
            }
        }
        return m;
    }

    /** rel = max|got - ref| / max(1, max|ref|) over every row; NaN compares as infinitely far. */
    static double rel(Tensor got, IntFunction<Image> ref) {
        int b = got.dim(0);
        double maxAbs = 0;
        double maxRef = 0;
        for (int i = 0; i < b; i++) {
            Image g = Image.row(got, i);
            Image want = ref.apply(i);
            assertArrayEquals(new int[] {want.c(), want.h(), want.w()}, new int[] {g.c(), g.h(), g.w()},
                    "shape of row " + i);
            for (int k = 0; k < g.v().length; k++) {
                double d = Math.abs(g.v()[k] - want.v()[k]);
                maxAbs = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(maxAbs, d);
                maxRef = Math.max(maxRef, Math.abs(want.v()[k]));
            }
        }
        return maxAbs / Math.max(1, maxRef);
    }

    static void assertClose(String what, Tensor got, IntFunction<Image> ref) {
        double rel = rel(got, ref);
        assertTrue(rel <= TOL, what + ": rel " + rel + " exceeds " + TOL);
    }

    static void assertMixupFar(String what, Tensor got, IntFunction<Image> mixup) {
        double rel = rel(got, mixup);
        assertTrue(rel >= MIXUP_MIN, what + ": the mixed-up reference is only rel " + rel
                + " away, so this comparison could not catch the mix-up");
    }
}
