package dev.pagoda.nn.ipadapter;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * Scalar float64 building blocks for the image-encoder and image-projection oracles: the weights of
 * a module tree by safetensors name, and token-major ({@code [T][C]}) linear, layer norm, softmax
 * attention and activations. Written for obviousness, not speed; shares only the weights with the
 * modules under test.
 */
final class Float64Ops {

    private final Map<String, double[]> weights = new HashMap<>();
    private final Map<String, int[]> shapes = new HashMap<>();

    Float64Ops(Module model) {
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            weights.put(e.getKey(), toDouble(e.getValue().get()));
            shapes.put(e.getKey(), e.getValue().shape());
        }
    }

    double[] w(String key) {
        double[] v = weights.get(key);
        if (v == null) {
            throw new IllegalArgumentException("oracle: no weight " + key + " (have " + weights.keySet() + ")");
        }
        return v;
    }

    int[] shape(String key) {
        w(key);
        return shapes.get(key);
    }

    boolean has(String key) {
        return weights.containsKey(key);
    }

    /** {@code x · Wᵀ + b} per token; {@code p} ends with a dot. */
    double[][] linear(String p, double[][] x) {
        double[] wt = w(p + "weight");
        int[] s = shapes.get(p + "weight");
        double[] b = has(p + "bias") ? w(p + "bias") : null;
        double[][] out = new double[x.length][s[0]];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < s[0]; o++) {
                double acc = b == null ? 0 : b[o];
                for (int i = 0; i < s[1]; i++) {
                    acc += wt[o * s[1] + i] * x[t][i];
                }
                out[t][o] = acc;
            }
        }
        return out;
    }

    double[][] layerNorm(String p, double[][] x, double eps) {
        double[] g = w(p + "weight");
        double[] b = w(p + "bias");
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            int c = x[t].length;
            double mean = 0;
            for (double v : x[t]) {
                mean += v;
            }
            mean /= c;
            double var = 0;
            for (double v : x[t]) {
                var += (v - mean) * (v - mean);
            }
            var /= c;
            double inv = 1 / Math.sqrt(var + eps);
            out[t] = new double[c];
            for (int i = 0; i < c; i++) {
                out[t][i] = (x[t][i] - mean) * inv * g[i] + b[i];
            }
        }
        return out;
    }

    /** Multi-head softmax attention of projected q/k/v ({@code heads} equal slices of the channels). */
    static double[][] attention(double[][] q, double[][] k, double[][] v, int heads, double scale) {
        int inner = q[0].length;
        int d = inner / heads;
        double[][] out = new double[q.length][inner];
        double[] s = new double[k.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < q.length; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < k.length; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) {
                        dot += q[i][h * d + c] * k[j][h * d + c];
                    }
                    s[j] = dot * scale;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < k.length; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j < k.length; j++) {
                    for (int c = 0; c < d; c++) {
                        out[i][h * d + c] += s[j] / sum * v[j][h * d + c];
                    }
                }
            }
        }
        return out;
    }

    static double[][] add(double[][] a, double[][] b) {
        double[][] out = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                out[i][j] = a[i][j] + b[i][j];
            }
        }
        return out;
    }

    static double[][] map(double[][] x, java.util.function.DoubleUnaryOperator f) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            out[i] = java.util.Arrays.stream(x[i]).map(f).toArray();
        }
        return out;
    }

    static double quickGelu(double x) {
        return x / (1 + Math.exp(-1.702 * x));
    }

    /** The exact (erf) GELU. */
    static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /** erf to ~1e-14: Maclaurin series below 3, the continued fraction of erfc above. */
    static double erf(double x) {
        double a = Math.abs(x);
        double r;
        if (a < 3) {
            double term = a;
            double sum = a;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else if (a < 7) {
            double f = a;
            for (int n = 80; n >= 1; n--) {
                f = a + n / 2.0 / f;
            }
            r = 1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
        } else {
            r = 1;
        }
        return Math.copySign(r, x);
    }

    static double[] toDouble(Tensor t) {
        float[] f = t.contiguous().toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Row {@code b} of a {@code [B, T, C]} tensor as {@code [T][C]}. */
    static double[][] tokens(Tensor t, int b) {
        double[] all = toDouble(t);
        int tt = t.dim(1);
        int c = t.dim(2);
        double[][] out = new double[tt][c];
        for (int i = 0; i < tt; i++) {
            System.arraycopy(all, (b * tt + i) * c, out[i], 0, c);
        }
        return out;
    }

    /** Largest |got - want| over the largest |want| (at least 1), for tokens of row {@code b}. */
    static double relError(Tensor got, int b, double[][] want) {
        double[][] g = tokens(got, b);
        double diff = 0;
        double scale = 1;
        for (int i = 0; i < want.length; i++) {
            for (int j = 0; j < want[i].length; j++) {
                diff = Math.max(diff, Math.abs(g[i][j] - want[i][j]));
                scale = Math.max(scale, Math.abs(want[i][j]));
            }
        }
        return diff / scale;
    }
}
