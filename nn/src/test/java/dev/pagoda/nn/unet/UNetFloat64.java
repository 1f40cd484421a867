package dev.pagoda.nn.unet;

import dev.pagoda.nn.Float64Math;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * diffusers' {@code UNet2DConditionModel} and its pieces evaluated in plain scalar float64 code, one
 * batch row at a time (every op of the UNet is row-independent), from the weights of a loaded module
 * tree looked up by their safetensors names. The structure (how many blocks, resnets, transformers,
 * whether a resnet has a shortcut) is discovered from which weights exist, not from Pagoda's module
 * classes, so the two evaluations share only the weights. Written for obviousness, not speed.
 */
final class UNetFloat64 {

    /** One batch row of an NCHW activation: {@code v[(c * h + y) * w + x]}. */
    record Image(int c, int h, int w, double[] v) {

        static Image zeros(int c, int h, int w) {
            return new Image(c, h, w, new double[c * h * w]);
        }

        static Image row(Tensor t, int b) {
            int[] s = t.shape();
            float[] all = t.contiguous().toFloatArray();
            int n = s[1] * s[2] * s[3];
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = all[b * n + i];
            }
            return new Image(s[1], s[2], s[3], v);
        }

        double at(int ch, int y, int x) {
            return v[(ch * h + y) * w + x];
        }

        /** The same planes with height and width exchanged. */
        Image transposed() {
            Image t = zeros(c, w, h);
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        t.v[(ch * w + x) * h + y] = at(ch, y, x);
                    }
                }
            }
            return t;
        }
    }

    private final Map<String, double[]> weights = new HashMap<>();
    private final Map<String, int[]> shapes = new HashMap<>();
    private final int groups;
    private final double eps;
    private final int[] heads;
    private final boolean flipSinToCos;
    private final double freqShift;
    private final int additionTimeEmbedDim;

    /**
     * @param model                a loaded module tree
     * @param groups               norm_num_groups of the resnets' and transformers' group norms
     * @param eps                  norm_eps of the resnets' group norms
     * @param heads                attention heads per level (down order)
     * @param flipSinToCos         flip_sin_to_cos
     * @param freqShift            freq_shift
     * @param additionTimeEmbedDim addition_time_embed_dim (0 without SDXL's size conditioning)
     */
    UNetFloat64(Module model, int groups, double eps, int[] heads, boolean flipSinToCos, double freqShift,
            int additionTimeEmbedDim) {
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            float[] f = e.getValue().get().toFloatArray();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            weights.put(e.getKey(), d);
            shapes.put(e.getKey(), e.getValue().shape());
        }
        this.groups = groups;
        this.eps = eps;
        this.heads = heads.clone();
        this.flipSinToCos = flipSinToCos;
        this.freqShift = freqShift;
        this.additionTimeEmbedDim = additionTimeEmbedDim;
    }

    /** The reference of a loaded UNet, configured from its {@code config.json} (parsed JSON). */
    static UNetFloat64 ofUNet(Module unet, Map<String, Object> config) {
        // diffusers: num_attention_heads = num_attention_heads or attention_head_dim
        Object h = config.get("num_attention_heads") != null ? config.get("num_attention_heads")
                : config.get("attention_head_dim");
        int[] heads = ((List<?>) h).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
        return new UNetFloat64(unet, ((Number) config.get("norm_num_groups")).intValue(),
                ((Number) config.get("norm_eps")).doubleValue(), heads, (Boolean) config.get("flip_sin_to_cos"),
                ((Number) config.get("freq_shift")).doubleValue(),
                ((Number) config.get("addition_time_embed_dim")).intValue());
    }

    int heads(int level) {
        return heads[level];
    }

    int groups() {
        return groups;
    }

    double eps() {
        return eps;
    }

    boolean has(String key) {
        return weights.containsKey(key);
    }

    private double[] w(String key) {
        double[] v = weights.get(key);
        if (v == null) {
            throw new IllegalArgumentException("reference: no weight " + key);
        }
        return v;
    }

    // ---------------------------------------------------------------- whole model

    /**
     * One row of {@code UNet2DConditionModel.forward}.
     *
     * @param identityAttn self-attention modules ({@code ...attn1}) whose map is the identity for this
     *                     row (PAG's perturbed branch); empty for an ordinary row
     */
    Image unet(Image sample, double timestep, double[][] context, double[] textEmbeds, double[] timeIds,
            Set<String> identityAttn) {
        double[] temb = silu(timeEmbedding(timestep, textEmbeds, timeIds));
        Deque<Image> skips = new ArrayDeque<>();
        Image h = encoder(conv("conv_in.", sample, 1, 1), temb, context, identityAttn, skips);
        int levels = heads.length;
        for (int i = 0; has("up_blocks." + i + ".resnets.0.conv1.weight"); i++) {
            String p = "up_blocks." + i + ".";
            for (int j = 0; has(p + "resnets." + j + ".conv1.weight"); j++) {
                h = resnet(p + "resnets." + j + ".", concatChannels(h, skips.removeLast()), temb);
                if (has(p + "attentions." + j + ".norm.weight")) {
                    h = transformer(p + "attentions." + j + ".", h, context, heads[levels - 1 - i], identityAttn);
                }
            }
            if (has(p + "upsamplers.0.conv.weight")) {
                h = upsample(p + "upsamplers.0.", h);
            }
        }
        if (!skips.isEmpty()) {
            throw new IllegalStateException("reference: " + skips.size() + " skip connections left over");
        }
        return conv("conv_out.", groupNorm("conv_norm_out.", h, groups, eps, true), 1, 1);
    }

    /**
     * The encoder half shared by the UNet and the ControlNet: from the conv_in output {@code h}
     * through the down blocks (every skip appended to {@code skips}, conv_in's first) and the mid block.
     */
    Image encoder(Image h, double[] temb, double[][] context, Set<String> identityAttn,
            java.util.Collection<Image> skips) {
        skips.add(h);
        int levels = 0;
        for (int i = 0; has("down_blocks." + i + ".resnets.0.conv1.weight"); i++) {
            String p = "down_blocks." + i + ".";
            for (int j = 0; has(p + "resnets." + j + ".conv1.weight"); j++) {
                h = resnet(p + "resnets." + j + ".", h, temb);
                if (has(p + "attentions." + j + ".norm.weight")) {
                    h = transformer(p + "attentions." + j + ".", h, context, heads[i], identityAttn);
                }
                skips.add(h);
            }
            if (has(p + "downsamplers.0.conv.weight")) {
                h = downsample(p + "downsamplers.0.", h);
                skips.add(h);
            }
            levels++;
        }
        h = resnet("mid_block.resnets.0.", h, temb);
        for (int k = 0; has("mid_block.attentions." + k + ".norm.weight"); k++) {
            h = transformer("mid_block.attentions." + k + ".", h, context, heads[levels - 1], identityAttn);
            h = resnet("mid_block.resnets." + (k + 1) + ".", h, temb);
        }
        return h;
    }

    /**
     * One row of {@code ControlNetModel.forward} (same weights layout as the UNet's encoder half plus
     * {@code controlnet_cond_embedding.*}, {@code controlnet_down_blocks.*}, {@code controlnet_mid_block}):
     * the scaled down residuals, then the mid residual last.
     */
    java.util.List<Image> controlnet(Image sample, Image cond, double timestep, double[][] context,
            double[] textEmbeds, double[] timeIds, double scale, boolean guessMode) {
        double[] temb = silu(timeEmbedding(timestep, textEmbeds, timeIds));
        Image c = silu(conv("controlnet_cond_embedding.conv_in.", cond, 1, 1));
        for (int k = 0; has("controlnet_cond_embedding.blocks." + k + ".weight"); k++) {
            c = silu(conv("controlnet_cond_embedding.blocks." + k + ".", c, k % 2 == 1 ? 2 : 1, 1));
        }
        c = conv("controlnet_cond_embedding.conv_out.", c, 1, 1);
        Image h = conv("conv_in.", sample, 1, 1);
        for (int i = 0; i < h.v.length; i++) {
            h.v[i] += c.v[i];
        }
        java.util.List<Image> skips = new java.util.ArrayList<>();
        h = encoder(h, temb, context, Set.of(), skips);
        int n = skips.size();
        java.util.List<Image> out = new java.util.ArrayList<>();
        for (int i = 0; i <= n; i++) {
            Image r = i < n ? conv("controlnet_down_blocks." + i + ".", skips.get(i), 1, 0)
                    : conv("controlnet_mid_block.", h, 1, 0);
            // guess mode: torch.logspace(-1, 0, n + 1)[i] * scale
            double f = guessMode ? Math.pow(10, -1 + (double) i / n) * scale : scale;
            for (int k = 0; k < r.v.length; k++) {
                r.v[k] *= f;
            }
            out.add(r);
        }
        return out;
    }

    private static Image silu(Image x) {
        return new Image(x.c, x.h, x.w, silu(x.v));
    }

    /** {@code emb}: the timestep embedding plus SDXL's text-and-size embedding, before any SiLU. */
    double[] timeEmbedding(double timestep, double[] textEmbeds, double[] timeIds) {
        int ch = shapes.get("conv_in.weight")[0];
        double[] e = mlp("time_embedding.", sinusoid(timestep, ch));
        if (has("add_embedding.linear_1.weight")) {
            double[] in = new double[textEmbeds.length + timeIds.length * additionTimeEmbedDim];
            System.arraycopy(textEmbeds, 0, in, 0, textEmbeds.length);
            for (int k = 0; k < timeIds.length; k++) {
                System.arraycopy(sinusoid(timeIds[k], additionTimeEmbedDim), 0, in,
                        textEmbeds.length + k * additionTimeEmbedDim, additionTimeEmbedDim);
            }
            double[] a = mlp("add_embedding.", in);
            for (int i = 0; i < e.length; i++) {
                e[i] += a[i];
            }
        }
        return e;
    }

    /** diffusers' {@code get_timestep_embedding} with max period 10000 and scale 1. */
    double[] sinusoid(double t, int dim) {
        int half = dim / 2;
        double[] out = new double[dim];
        for (int j = 0; j < half; j++) {
            double arg = t * Math.exp(-Math.log(10000) * j / (half - freqShift));
            double s = Math.sin(arg);
            double c = Math.cos(arg);
            out[j] = flipSinToCos ? c : s;
            out[half + j] = flipSinToCos ? s : c;
        }
        return out;
    }

    private double[] mlp(String p, double[] x) {
        return linear(p + "linear_2.", silu(linear(p + "linear_1.", x)));
    }

    // ---------------------------------------------------------------- blocks

    /** {@code ResnetBlock2D}; {@code tembAct} is the already SiLU-activated embedding (or null). */
    Image resnet(String p, Image x, double[] tembAct) {
        Image h = conv(p + "conv1.", groupNorm(p + "norm1.", x, groups, eps, true), 1, 1);
        if (has(p + "time_emb_proj.weight")) {
            double[] t = linear(p + "time_emb_proj.", tembAct);
            int plane = h.h * h.w;
            for (int c = 0; c < h.c; c++) {
                for (int i = 0; i < plane; i++) {
                    h.v[c * plane + i] += t[c];
                }
            }
        }
        h = conv(p + "conv2.", groupNorm(p + "norm2.", h, groups, eps, true), 1, 1);
        Image shortcut = has(p + "conv_shortcut.weight") ? conv(p + "conv_shortcut.", x, 1, 0) : x;
        for (int i = 0; i < h.v.length; i++) {
            h.v[i] += shortcut.v[i];
        }
        return h;
    }

    /** {@code Downsample2D} (UNet flavour): 3×3 convolution, stride 2, padding 1. */
    Image downsample(String p, Image x) {
        return conv(p + "conv.", x, 2, 1);
    }

    /** {@code Downsample2D} (VAE flavour): {@code F.pad(x, (0, 1, 0, 1))}, then 3×3 stride 2 without padding. */
    Image downsamplePadRightBottom(String p, Image x) {
        Image padded = Image.zeros(x.c, x.h + 1, x.w + 1);
        for (int c = 0; c < x.c; c++) {
            for (int y = 0; y < x.h; y++) {
                for (int xx = 0; xx < x.w; xx++) {
                    padded.v[(c * padded.h + y) * padded.w + xx] = x.at(c, y, xx);
                }
            }
        }
        return conv(p + "conv.", padded, 2, 0);
    }

    /** {@code Upsample2D}: nearest ×2, then 3×3 convolution with padding 1. */
    Image upsample(String p, Image x) {
        Image u = Image.zeros(x.c, 2 * x.h, 2 * x.w);
        for (int c = 0; c < x.c; c++) {
            for (int y = 0; y < u.h; y++) {
                for (int xx = 0; xx < u.w; xx++) {
                    u.v[(c * u.h + y) * u.w + xx] = x.at(c, y / 2, xx / 2);
                }
            }
        }
        return conv(p + "conv.", u, 1, 1);
    }

    /**
     * {@code Transformer2DModel} (continuous input, linear projections): group norm (eps 1e-6), tokens in
     * row-major (y, x) order, proj_in, the transformer blocks, proj_out, back to NCHW, plus the input.
     */
    Image transformer(String p, Image x, double[][] context, int nHeads, Set<String> identityAttn) {
        Image n = groupNorm(p + "norm.", x, groups, 1e-6, false);
        int hw = x.h * x.w;
        double[][] tokens = new double[hw][x.c];
        for (int c = 0; c < x.c; c++) {
            for (int i = 0; i < hw; i++) {
                tokens[i][c] = n.v[c * hw + i];
            }
        }
        double[][] t = linear(p + "proj_in.", tokens);
        for (int k = 0; has(p + "transformer_blocks." + k + ".norm1.weight"); k++) {
            t = basicBlock(p + "transformer_blocks." + k + ".", t, context, nHeads, identityAttn);
        }
        t = linear(p + "proj_out.", t);
        Image out = Image.zeros(x.c, x.h, x.w);
        for (int c = 0; c < x.c; c++) {
            for (int i = 0; i < hw; i++) {
                out.v[c * hw + i] = t[i][c] + x.v[c * hw + i];
            }
        }
        return out;
    }

    /** {@code BasicTransformerBlock}: pre-norm self-attention, cross-attention, GEGLU feed-forward. */
    double[][] basicBlock(String p, double[][] x, double[][] context, int nHeads, Set<String> identityAttn) {
        double[][] n = layerNorm(p + "norm1.", x, 1e-5);
        double[][] a = identityAttn.contains(p + "attn1")
                ? linear(p + "attn1.to_out.0.", linear(p + "attn1.to_v.", n))
                : attention(p + "attn1.", n, n, nHeads);
        double[][] h = add(x, a);
        n = layerNorm(p + "norm2.", h, 1e-5);
        h = add(h, attention(p + "attn2.", n, context, nHeads));
        n = layerNorm(p + "norm3.", h, 1e-5);
        double[][] proj = linear(p + "ff.net.0.proj.", n);
        int inner = proj[0].length / 2;
        double[][] g = new double[proj.length][inner];
        for (int i = 0; i < proj.length; i++) {
            for (int j = 0; j < inner; j++) {
                g[i][j] = proj[i][j] * gelu(proj[i][inner + j]);
            }
        }
        return add(h, linear(p + "ff.net.2.", g));
    }

    /** diffusers' {@code Attention} with its default processor: softmax(q kᵀ / √d) v per head, then to_out. */
    double[][] attention(String p, double[][] x, double[][] kvSource, int nHeads) {
        double[][] q = linear(p + "to_q.", x);
        double[][] k = linear(p + "to_k.", kvSource);
        double[][] v = linear(p + "to_v.", kvSource);
        double scale = 1 / Math.sqrt(q[0].length / nHeads);
        double[][] o = Float64Math.attention(q, k, v, nHeads, scale);
        return linear(p + "to_out.0.", o);
    }

    // ---------------------------------------------------------------- layers

    /** torch {@code Conv2d} with square kernel, stride and symmetric zero padding. */
    Image conv(String p, Image x, int stride, int pad) {
        int[] s = shapes.get(p + "weight");
        int co = s[0];
        int ci = s[1];
        int k = s[2];
        if (ci != x.c) {
            throw new IllegalArgumentException("reference conv " + p + ": " + ci + " input channels, got " + x.c);
        }
        double[] wt = w(p + "weight");
        double[] b = has(p + "bias") ? w(p + "bias") : new double[co];
        int oh = (x.h + 2 * pad - k) / stride + 1;
        int ow = (x.w + 2 * pad - k) / stride + 1;
        Image out = Image.zeros(co, oh, ow);
        for (int o = 0; o < co; o++) {
            for (int y = 0; y < oh; y++) {
                for (int xx = 0; xx < ow; xx++) {
                    double acc = b[o];
                    for (int c = 0; c < ci; c++) {
                        for (int ky = 0; ky < k; ky++) {
                            int iy = y * stride - pad + ky;
                            if (iy < 0 || iy >= x.h) {
                                continue;
                            }
                            for (int kx = 0; kx < k; kx++) {
                                int ix = xx * stride - pad + kx;
                                if (ix >= 0 && ix < x.w) {
                                    acc += wt[((o * ci + c) * k + ky) * k + kx] * x.at(c, iy, ix);
                                }
                            }
                        }
                    }
                    out.v[(o * oh + y) * ow + xx] = acc;
                }
            }
        }
        return out;
    }

    /** torch {@code GroupNorm} (biased variance), optionally followed by SiLU. */
    Image groupNorm(String p, Image x, int g, double epsilon, boolean silu) {
        double[] gamma = w(p + "weight");
        double[] beta = w(p + "bias");
        int per = x.c / g;
        int plane = x.h * x.w;
        Image out = Image.zeros(x.c, x.h, x.w);
        for (int gi = 0; gi < g; gi++) {
            int from = gi * per * plane;
            int to = from + per * plane;
            double mean = 0;
            for (int i = from; i < to; i++) {
                mean += x.v[i];
            }
            mean /= to - from;
            double var = 0;
            for (int i = from; i < to; i++) {
                var += (x.v[i] - mean) * (x.v[i] - mean);
            }
            var /= to - from;
            double inv = 1 / Math.sqrt(var + epsilon);
            for (int i = from; i < to; i++) {
                int c = i / plane;
                double y = (x.v[i] - mean) * inv * gamma[c] + beta[c];
                out.v[i] = silu ? silu(y) : y;
            }
        }
        return out;
    }

    /** torch {@code LayerNorm} over the last dimension (biased variance). */
    double[][] layerNorm(String p, double[][] x, double epsilon) {
        return Float64Math.layerNorm(x, w(p + "weight"), w(p + "bias"), epsilon);
    }

    /** torch {@code Linear}: {@code weight[out, in]}, bias when the checkpoint has one. */
    double[] linear(String p, double[] x) {
        int[] s = shapes.get(p + "weight");
        if (s == null) {
            throw new IllegalArgumentException("reference: no weight " + p + "weight");
        }
        if (s[1] != x.length) {
            throw new IllegalArgumentException("reference linear " + p + ": " + s[1] + " inputs, got " + x.length);
        }
        double[] wt = w(p + "weight");
        double[] b = has(p + "bias") ? w(p + "bias") : null;
        double[] out = new double[s[0]];
        for (int o = 0; o < s[0]; o++) {
            double acc = b == null ? 0 : b[o];
            for (int i = 0; i < s[1]; i++) {
                acc += wt[o * s[1] + i] * x[i];
            }
            out[o] = acc;
        }
        return out;
    }

    double[][] linear(String p, double[][] x) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            out[i] = linear(p, x[i]);
        }
        return out;
    }

    static Image concatChannels(Image a, Image b) {
        if (a.h != b.h || a.w != b.w) {
            throw new IllegalArgumentException("reference concat: " + a.h + "x" + a.w + " and " + b.h + "x" + b.w);
        }
        double[] v = new double[a.v.length + b.v.length];
        System.arraycopy(a.v, 0, v, 0, a.v.length);
        System.arraycopy(b.v, 0, v, a.v.length, b.v.length);
        return new Image(a.c + b.c, a.h, a.w, v);
    }

    private static double[][] add(double[][] a, double[][] b) {
        double[][] out = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                out[i][j] = a[i][j] + b[i][j];
            }
        }
        return out;
    }

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    static double[] silu(double[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = silu(x[i]);
        }
        return out;
    }

    /** The exact (erf) GELU torch uses by default. */
    static double gelu(double x) {
        return Float64Math.gelu(x);
    }

}
