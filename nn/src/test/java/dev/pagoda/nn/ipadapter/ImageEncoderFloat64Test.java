package dev.pagoda.nn.ipadapter;

import dev.pagoda.nn.Float64Math;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.WeightLoader;
import dev.pagoda.nn.clip.ClipVisionConfig;
import dev.pagoda.nn.clip.ClipVisionModel;
import dev.pagoda.nn.clip.ClipVisionOutput;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * transformers' {@code CLIPVisionModelWithProjection} and diffusers' {@code ImageProjection} and
 * {@code IPAdapterPlusImageProjection} against scalar float64 evaluations of the same weights
 * ({@link Float64Ops}), on awkward sizes (odd head widths, 3x3 patch grids, batch 2) with random
 * weights. Float32 against float64 over a few layers: rel 2e-5 of the largest output.
 */
class ImageEncoderFloat64Test {

    static final double TOL = 2e-5;

    @Test
    void visionEncoderMatchesFloat64ForBothActivations() {
        for (String act : new String[] {"gelu", "quick_gelu"}) {
            // hidden 20 over 4 heads (head width 5), 21-pixel images in 7-pixel patches: 9 patches + class
            ClipVisionConfig c = new ClipVisionConfig(20, 36, 3, 4, 3, 21, 7, act, 1e-5f, 12);
            ClipVisionModel m = new ClipVisionModel(c);
            WeightLoader.randomize(m, DType.F32, 77);
            Tensor pixels = random(new SplittableRandom(5), 2, 3, 21, 21);
            ClipVisionOutput out = m.forward(pixels);
            assertEquals(c.numHiddenLayers() + 1, out.hiddenStates().size());
            assertArrayEquals(new int[] {2, 10, 20}, out.penultimateHiddenState().shape());
            Float64Ops o = new Float64Ops(m);
            for (int b = 0; b < 2; b++) {
                List<double[][]> hidden = visionOracle(o, c, pixels, b);
                for (int i = 0; i < hidden.size(); i++) {
                    double e = Float64Ops.relError(out.hiddenStates().get(i), b, hidden.get(i));
                    assertTrue(e <= TOL, act + " row " + b + " hidden_states[" + i + "]: rel " + e);
                }
                double[][] last = hidden.get(hidden.size() - 1);
                double[][] pooled = o.layerNorm("vision_model.post_layernorm.", new double[][] {last[0]}, 1e-5);
                double[][] embeds = o.linear("visual_projection.", pooled);
                double ep = Float64Ops.relError(out.poolerOutput().reshape(2, 1, 20), b, pooled);
                double ee = Float64Ops.relError(out.imageEmbeds().reshape(2, 1, 12), b, embeds);
                assertTrue(ep <= TOL && ee <= TOL, act + " pooled " + ep + ", image_embeds " + ee);
                double el = Float64Ops.relError(out.lastHiddenState(), b, last);
                assertTrue(el <= TOL, "last_hidden_state " + el);
            }
            // the oracle must see a difference the tolerance cannot hide: another image differs
            List<double[][]> other = visionOracle(o, c, random(new SplittableRandom(6), 1, 3, 21, 21), 0);
            assertTrue(Float64Ops.relError(out.penultimateHiddenState(), 0, other.get(other.size() - 2)) > 100 * TOL);
        }
    }

    @Test
    void resamplerMatchesFloat64() {
        // embed 18 -> hidden 24 (3 heads of width 8), 2 blocks, 5 queries, output 14, ffn x3
        IpAdapterPlusImageProjection p = new IpAdapterPlusImageProjection(18, 14, 24, 2, 8, 3, 5, 3);
        WeightLoader.randomize(p, DType.F32, 91);
        // the latents are a rank-3 parameter: give them the spread of real queries, not 1/sqrt(fan-in)
        Tensor lat = random(new SplittableRandom(3), 1, 5, 24);
        p.namedParameters().get("latents").set(lat);
        Tensor x = random(new SplittableRandom(4), 3, 11, 18);
        Tensor out = p.project(x);
        assertArrayEquals(new int[] {3, 5, 14}, out.shape());
        Float64Ops o = new Float64Ops(p);
        for (int b = 0; b < 3; b++) {
            double[][] want = resamplerOracle(o, 2, 3, Float64Ops.tokens(x, b));
            double e = Float64Ops.relError(out, b, want);
            assertTrue(e <= TOL, "row " + b + ": rel " + e);
        }
        double[][] other = resamplerOracle(o, 2, 3, Float64Ops.tokens(x, 1));
        assertTrue(Float64Ops.relError(out, 0, other) > 100 * TOL, "rows must differ beyond the tolerance");
    }

    @Test
    void plainImageProjectionMatchesFloat64() {
        ImageProjection p = new ImageProjection(10, 6, 4);
        WeightLoader.randomize(p, DType.F32, 12);
        Tensor e = random(new SplittableRandom(8), 2, 10);
        Tensor out = p.project(e);
        assertArrayEquals(new int[] {2, 4, 6}, out.shape());
        Float64Ops o = new Float64Ops(p);
        for (int b = 0; b < 2; b++) {
            double[] row = new double[10];
            System.arraycopy(Float64Ops.toDouble(e), b * 10, row, 0, 10);
            double[] flat = o.linear("image_embeds.", new double[][] {row})[0];
            double[][] tok = new double[4][6];
            for (int t = 0; t < 4; t++) {
                System.arraycopy(flat, t * 6, tok[t], 0, 6);
            }
            double err = Float64Ops.relError(out, b, o.layerNorm("norm.", tok, 1e-5));
            assertTrue(err <= TOL, "row " + b + ": rel " + err);
        }
    }

    /** hidden_states of one batch row: pre-layernormed embeddings, then every layer's output. */
    static List<double[][]> visionOracle(Float64Ops o, ClipVisionConfig c, Tensor pixels, int b) {
        String e = "vision_model.embeddings.";
        int s = c.imageSize();
        int ps = c.patchSize();
        int side = s / ps;
        int ch = c.numChannels();
        int hid = c.hiddenSize();
        double[] px = Float64Ops.toDouble(pixels);
        int base = b * ch * s * s;
        double[] conv = o.w(e + "patch_embedding.weight");
        double[] cls = o.w(e + "class_embedding");
        double[] pos = o.w(e + "position_embedding.weight");
        double[][] x = new double[side * side + 1][hid];
        for (int d = 0; d < hid; d++) {
            x[0][d] = cls[d] + pos[d];
        }
        for (int py = 0; py < side; py++) {
            for (int pxi = 0; pxi < side; pxi++) {
                int t = 1 + py * side + pxi;
                for (int d = 0; d < hid; d++) {
                    double acc = 0;
                    for (int ci = 0; ci < ch; ci++) {
                        for (int ky = 0; ky < ps; ky++) {
                            for (int kx = 0; kx < ps; kx++) {
                                acc += conv[((d * ch + ci) * ps + ky) * ps + kx]
                                        * px[base + (ci * s + py * ps + ky) * s + pxi * ps + kx];
                            }
                        }
                    }
                    x[t][d] = acc + pos[t * hid + d];
                }
            }
        }
        double eps = c.layerNormEps();
        double[][] h = o.layerNorm("vision_model.pre_layrnorm.", x, eps);
        List<double[][]> hidden = new ArrayList<>();
        hidden.add(h);
        int heads = c.numAttentionHeads();
        double scale = 1 / Math.sqrt((double) hid / heads);
        boolean quick = c.hiddenAct().equals("quick_gelu");
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "vision_model.encoder.layers." + l + ".";
            double[][] n = o.layerNorm(p + "layer_norm1.", h, eps);
            double[][] a = Float64Math.attention(o.linear(p + "self_attn.q_proj.", n), o.linear(p + "self_attn.k_proj.", n),
                    o.linear(p + "self_attn.v_proj.", n), heads, scale);
            h = Float64Ops.add(h, o.linear(p + "self_attn.out_proj.", a));
            n = o.layerNorm(p + "layer_norm2.", h, eps);
            double[][] f = Float64Ops.map(o.linear(p + "mlp.fc1.", n), quick ? Float64Ops::quickGelu : Float64Math::gelu);
            h = Float64Ops.add(h, o.linear(p + "mlp.fc2.", f));
            hidden.add(h);
        }
        return hidden;
    }

    /** diffusers' IPAdapterPlusImageProjection on one row's hidden states {@code [T][embed]}. */
    static double[][] resamplerOracle(Float64Ops o, int depth, int heads, double[][] x) {
        int[] ls = o.shape("latents");
        double[] lv = o.w("latents");
        double[][] lat = new double[ls[1]][ls[2]];
        for (int q = 0; q < ls[1]; q++) {
            System.arraycopy(lv, q * ls[2], lat[q], 0, ls[2]);
        }
        double[][] h = o.linear("proj_in.", x);
        for (int i = 0; i < depth; i++) {
            String p = "layers." + i + ".";
            double[][] normed = o.layerNorm(p + "ln1.", lat, 1e-5);
            double[][] ctx = o.layerNorm(p + "ln0.", h, 1e-5);
            double[][] kv = new double[ctx.length + normed.length][];
            System.arraycopy(ctx, 0, kv, 0, ctx.length);
            System.arraycopy(normed, 0, kv, ctx.length, normed.length);
            double[][] q = o.linear(p + "attn.to_q.", normed);
            double scale = 1 / Math.sqrt((double) q[0].length / heads);
            double[][] a = Float64Math.attention(q, o.linear(p + "attn.to_k.", kv), o.linear(p + "attn.to_v.", kv), heads,
                    scale);
            lat = Float64Ops.add(o.linear(p + "attn.to_out.0.", a), lat);
            double[][] f = o.linear(p + "ff.1.net.2.", Float64Ops.map(
                    o.linear(p + "ff.1.net.0.proj.", o.layerNorm(p + "ff.0.", lat, 1e-5)), Float64Math::gelu));
            lat = Float64Ops.add(f, lat);
        }
        return o.layerNorm("norm_out.", o.linear("proj_out.", lat), 1e-5);
    }

    static Tensor random(SplittableRandom r, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] a = t.array();
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return t;
    }
}
