package dev.pagoda.nn.pixart;

import dev.pagoda.nn.Parameter;
import java.util.Map;

/**
 * A plain float64 PixArtTransformer2DModel forward written from diffusers' definitions, reading the
 * weights by their safetensors names: the oracle of {@link PixArtTransformer2DModelTest}. No Pagoda
 * kernel is used; every sum is a double loop.
 */
final class PixArtFloat64 {

    private final Map<String, Parameter> p;
    private final PixArtConfig c;

    PixArtFloat64(Map<String, Parameter> params, PixArtConfig config) {
        this.p = params;
        this.c = config;
    }

    private double[] w(String name) {
        float[] f = p.get(name).get().toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** y = x·Wᵀ + b for one vector. */
    private double[] lin(String prefix, double[] x) {
        double[] wt = w(prefix + ".weight");
        double[] b = w(prefix + ".bias");
        int out = b.length;
        int in = x.length;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int i = 0; i < in; i++) {
                s += wt[o * in + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    private double[][] lin(String prefix, double[][] x) {
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            y[i] = lin(prefix, x[i]);
        }
        return y;
    }

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    private static double[] map(double[] x, java.util.function.DoubleUnaryOperator f) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = f.applyAsDouble(x[i]);
        }
        return y;
    }

    /** get_timestep_embedding(t, 256, flip_sin_to_cos=True, downscale_freq_shift=0). */
    static double[] sinusoid(double t) {
        double[] e = new double[256];
        for (int k = 0; k < 128; k++) {
            double a = t * Math.exp(-Math.log(10000) * k / 128.0);
            e[k] = Math.cos(a);
            e[128 + k] = Math.sin(a);
        }
        return e;
    }

    private double[] timestepEmbedding(String prefix, double[] x) {
        return lin(prefix + ".linear_2", map(lin(prefix + ".linear_1", x), PixArtFloat64::silu));
    }

    private static double[] layerNorm(double[] x, double eps) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        double mu = mean / x.length;
        double var = 0;
        for (double v : x) {
            var += (v - mu) * (v - mu);
        }
        double inv = 1 / Math.sqrt(var / x.length + eps);
        return map(x, v -> (v - mu) * inv);
    }

    /** Multi-head attention of one batch row; {@code identity}: return v (PAG). */
    private double[][] attention(String prefix, double[][] x, double[][] ctx, double[] bias, boolean identity) {
        double[][] kv = ctx == null ? x : ctx;
        double[][] v = lin(prefix + ".to_v", kv);
        double[][] o;
        if (identity) {
            o = v;
        } else {
            double[][] q = lin(prefix + ".to_q", x);
            double[][] k = lin(prefix + ".to_k", kv);
            int heads = c.numAttentionHeads();
            int dh = c.attentionHeadDim();
            o = new double[x.length][heads * dh];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < x.length; i++) {
                    double[] s = new double[kv.length];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < kv.length; j++) {
                        double d = 0;
                        for (int e = 0; e < dh; e++) {
                            d += q[i][h * dh + e] * k[j][h * dh + e];
                        }
                        s[j] = d / Math.sqrt(dh) + (bias == null ? 0 : bias[j]);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < kv.length; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j < kv.length; j++) {
                        for (int e = 0; e < dh; e++) {
                            o[i][h * dh + e] += s[j] / sum * v[j][h * dh + e];
                        }
                    }
                }
            }
        }
        return lin(prefix + ".to_out.0", o);
    }

    /**
     * @param x          latents of one row {@code [C][H][W]}
     * @param text       caption {@code [L][caption]}
     * @param mask       1/0 per text token, or null
     * @param resolution (h, w) or null; aspect the aspect ratio
     * @param perturbed  which blocks' attn1 take the identity path for this row
     * @return {@code [outC][H][W]}
     */
    double[][][] forward(double[][][] x, double t, double[][] text, double[] mask, double[] resolution, double aspect,
            boolean[] perturbed) {
        int pch = c.patchSize();
        int gh = x[0].length / pch;
        int gw = x[0][0].length / pch;
        int dim = c.innerDim();
        double[] pw = w("pos_embed.proj.weight");
        double[] pb = w("pos_embed.proj.bias");
        int cin = c.inChannels();
        double[][] h = new double[gh * gw][dim];
        int base = c.sampleSize() / pch;
        for (int i = 0; i < gh; i++) {
            for (int j = 0; j < gw; j++) {
                double[] tok = h[i * gw + j];
                for (int o = 0; o < dim; o++) {
                    double s = pb[o];
                    for (int ci = 0; ci < cin; ci++) {
                        for (int ky = 0; ky < pch; ky++) {
                            for (int kx = 0; kx < pch; kx++) {
                                s += pw[((o * cin + ci) * pch + ky) * pch + kx] * x[ci][i * pch + ky][j * pch + kx];
                            }
                        }
                    }
                    // sin-cos position: first half the column, second half the row
                    double col = j / ((double) gw / base) / c.interpolationScale();
                    double row = i / ((double) gh / base) / c.interpolationScale();
                    int half = dim / 2;
                    int quarter = half / 2;
                    int part = o / quarter;
                    int d = o % quarter;
                    double omega = 1 / Math.pow(10000, d / (double) quarter);
                    double pos = part < 2 ? col : row;
                    s += part % 2 == 0 ? Math.sin(pos * omega) : Math.cos(pos * omega);
                    tok[o] = s;
                }
            }
        }
        double[] emb = timestepEmbedding("adaln_single.emb.timestep_embedder", sinusoid(t));
        if (c.useAdditionalConditions()) {
            double[] rh = timestepEmbedding("adaln_single.emb.resolution_embedder", sinusoid(resolution[0]));
            double[] rw = timestepEmbedding("adaln_single.emb.resolution_embedder", sinusoid(resolution[1]));
            double[] ar = timestepEmbedding("adaln_single.emb.aspect_ratio_embedder", sinusoid(aspect));
            int third = dim / 3;
            for (int k = 0; k < third; k++) {
                emb[k] += rh[k];
                emb[third + k] += rw[k];
                emb[2 * third + k] += ar[k];
            }
        }
        double[] mod = lin("adaln_single.linear", map(emb, PixArtFloat64::silu));
        double[][] ctx = lin("caption_projection.linear_2", map2(lin("caption_projection.linear_1", text)));
        double[] bias = null;
        if (mask != null) {
            bias = new double[mask.length];
            for (int j = 0; j < mask.length; j++) {
                bias[j] = (1 - mask[j]) * -10000.0;
            }
        }
        for (int blk = 0; blk < c.numLayers(); blk++) {
            String pre = "transformer_blocks." + blk + ".";
            double[] table = w(pre + "scale_shift_table");
            double[][] m = new double[6][dim];
            for (int k = 0; k < 6; k++) {
                for (int d = 0; d < dim; d++) {
                    m[k][d] = table[k * dim + d] + mod[k * dim + d];
                }
            }
            double[][] n = new double[h.length][];
            for (int i = 0; i < h.length; i++) {
                double[] ln = layerNorm(h[i], c.normEps());
                n[i] = new double[dim];
                for (int d = 0; d < dim; d++) {
                    n[i][d] = ln[d] * (1 + m[1][d]) + m[0][d];
                }
            }
            double[][] a = attention(pre + "attn1", n, null, null, perturbed[blk]);
            for (int i = 0; i < h.length; i++) {
                for (int d = 0; d < dim; d++) {
                    h[i][d] += m[2][d] * a[i][d];
                }
            }
            a = attention(pre + "attn2", h, ctx, bias, false);
            for (int i = 0; i < h.length; i++) {
                for (int d = 0; d < dim; d++) {
                    h[i][d] += a[i][d];
                }
            }
            for (int i = 0; i < h.length; i++) {
                double[] ln = layerNorm(h[i], c.normEps());
                for (int d = 0; d < dim; d++) {
                    ln[d] = ln[d] * (1 + m[4][d]) + m[3][d];
                }
                double[] f = lin(pre + "ff.net.2", map(lin(pre + "ff.net.0.proj", ln), PixArtFloat64::geluTanh));
                for (int d = 0; d < dim; d++) {
                    h[i][d] += m[5][d] * f[d];
                }
            }
        }
        double[] table = w("scale_shift_table");
        int oc = c.outChannels();
        double[][][] out = new double[oc][gh * pch][gw * pch];
        for (int i = 0; i < h.length; i++) {
            double[] ln = layerNorm(h[i], 1e-6);
            for (int d = 0; d < dim; d++) {
                ln[d] = ln[d] * (1 + table[dim + d] + emb[d]) + table[d] + emb[d];
            }
            double[] y = lin("proj_out", ln);
            int ti = i / gw;
            int tj = i % gw;
            for (int py = 0; py < pch; py++) {
                for (int px = 0; px < pch; px++) {
                    for (int ch = 0; ch < oc; ch++) {
                        out[ch][ti * pch + py][tj * pch + px] = y[(py * pch + px) * oc + ch];
                    }
                }
            }
        }
        return out;
    }

    private static double[][] map2(double[][] x) {
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            y[i] = map(x[i], PixArtFloat64::geluTanh);
        }
        return y;
    }
}
