package dev.pagoda.nn.t5;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import java.util.Map;

/**
 * transformers' T5 encoder written out in float64 from its definition (modeling_t5.py), reading the
 * model's weights: the oracle for {@link T5EncoderModelTest}. Shares only the bucket function with
 * the code under test; that function is checked against torch separately.
 */
final class Float64Reference {

    private Float64Reference() {
    }

    static double[] encode(Module m, T5Config c, long[] ids, long[] mask, int batch, int len) {
        Map<String, Parameter> p = m.namedParameters();
        int d = c.dModel();
        int heads = c.numHeads();
        int dkv = c.dKv();
        double[] emb = w(p, "shared.weight");
        double[] rel = w(p, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
        double[] out = new double[batch * len * d];
        for (int b = 0; b < batch; b++) {
            double[][] h = new double[len][d];
            for (int i = 0; i < len; i++) {
                System.arraycopy(emb, (int) ids[b * len + i] * d, h[i], 0, d);
            }
            double[][][] bias = new double[heads][len][len];
            for (int hh = 0; hh < heads; hh++) {
                for (int i = 0; i < len; i++) {
                    for (int j = 0; j < len; j++) {
                        int bucket = T5Attention.relativePositionBucket(j - i, true, c.relativeAttentionNumBuckets(),
                                c.relativeAttentionMaxDistance());
                        bias[hh][i][j] = rel[bucket * heads + hh] + (mask[b * len + j] == 0 ? -Float.MAX_VALUE : 0);
                    }
                }
            }
            for (int l = 0; l < c.numLayers(); l++) {
                String pre = "encoder.block." + l + ".layer.";
                double[][] x = rms(h, w(p, pre + "0.layer_norm.weight"), c.layerNormEpsilon());
                double[][] q = lin(x, w(p, pre + "0.SelfAttention.q.weight"), heads * dkv);
                double[][] k = lin(x, w(p, pre + "0.SelfAttention.k.weight"), heads * dkv);
                double[][] v = lin(x, w(p, pre + "0.SelfAttention.v.weight"), heads * dkv);
                double[][] att = new double[len][heads * dkv];
                for (int hh = 0; hh < heads; hh++) {
                    for (int i = 0; i < len; i++) {
                        double[] s = new double[len];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < len; j++) {
                            double dot = 0;
                            for (int e = 0; e < dkv; e++) {
                                dot += q[i][hh * dkv + e] * k[j][hh * dkv + e];
                            }
                            s[j] = dot + bias[hh][i][j];
                            max = Math.max(max, s[j]);
                        }
                        double sum = 0;
                        for (int j = 0; j < len; j++) {
                            s[j] = Math.exp(s[j] - max);
                            sum += s[j];
                        }
                        for (int j = 0; j < len; j++) {
                            for (int e = 0; e < dkv; e++) {
                                att[i][hh * dkv + e] += s[j] / sum * v[j][hh * dkv + e];
                            }
                        }
                    }
                }
                add(h, lin(att, w(p, pre + "0.SelfAttention.o.weight"), d));
                x = rms(h, w(p, pre + "1.layer_norm.weight"), c.layerNormEpsilon());
                String ff = pre + "1.DenseReluDense.";
                double[][] inner;
                if (c.gatedActivation()) {
                    inner = lin(x, w(p, ff + "wi_0.weight"), c.dFf());
                    double[][] lin1 = lin(x, w(p, ff + "wi_1.weight"), c.dFf());
                    for (int i = 0; i < len; i++) {
                        for (int e = 0; e < c.dFf(); e++) {
                            inner[i][e] = act(c.denseActivation(), inner[i][e]) * lin1[i][e];
                        }
                    }
                } else {
                    inner = lin(x, w(p, ff + "wi.weight"), c.dFf());
                    for (double[] row : inner) {
                        for (int e = 0; e < row.length; e++) {
                            row[e] = act(c.denseActivation(), row[e]);
                        }
                    }
                }
                add(h, lin(inner, w(p, ff + "wo.weight"), d));
            }
            double[][] fin = rms(h, w(p, "encoder.final_layer_norm.weight"), c.layerNormEpsilon());
            for (int i = 0; i < len; i++) {
                System.arraycopy(fin[i], 0, out, (b * len + i) * d, d);
            }
        }
        return out;
    }

    private static double act(T5Config.Activation a, double x) {
        return switch (a) {
            case RELU -> Math.max(0, x);
            case GELU -> 0.5 * x * (1 + erf(x / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case SILU -> x / (1 + Math.exp(-x));
        };
    }

    private static double erf(double x) {
        return org.apache.commons.math3.special.Erf.erf(x);
    }

    private static double[] w(Map<String, Parameter> p, String name) {
        float[] f = p.get(name).get().toFloatArray();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    private static double[][] rms(double[][] h, double[] g, double eps) {
        double[][] out = new double[h.length][];
        for (int i = 0; i < h.length; i++) {
            double ms = 0;
            for (double v : h[i]) {
                ms += v * v;
            }
            double r = 1 / Math.sqrt(ms / h[i].length + eps);
            out[i] = new double[h[i].length];
            for (int e = 0; e < h[i].length; e++) {
                out[i][e] = h[i][e] * r * g[e];
            }
        }
        return out;
    }

    /** {@code x · Wᵀ} with {@code W[out, in]}. */
    private static double[][] lin(double[][] x, double[] wt, int outDim) {
        int in = x[0].length;
        double[][] out = new double[x.length][outDim];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < outDim; o++) {
                double s = 0;
                for (int e = 0; e < in; e++) {
                    s += x[i][e] * wt[o * in + e];
                }
                out[i][o] = s;
            }
        }
        return out;
    }

    private static void add(double[][] h, double[][] y) {
        for (int i = 0; i < h.length; i++) {
            for (int e = 0; e < h[i].length; e++) {
                h[i][e] += y[i][e];
            }
        }
    }
}
