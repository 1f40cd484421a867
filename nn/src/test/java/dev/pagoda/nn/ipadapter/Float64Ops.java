package dev.pagoda.nn.ipadapter;

import dev.pagoda.nn.Float64Math;
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
        return Float64Math.layerNorm(x, w(p + "weight"), w(p + "bias"), eps);
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
