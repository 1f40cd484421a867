package dev.pagoda.nn;

/**
 * The weight-free float64 arithmetic the module oracles share (UNet, image encoder and image
 * projection): exact GELU, layer norm over the last dimension, and multi-head softmax attention of
 * already-projected q/k/v. Scalar and written for obviousness, not speed.
 */
public final class Float64Math {

    private Float64Math() {
    }

    /** The exact (erf) GELU. */
    public static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /**
     * erf to ~1e-14: its Maclaurin series below 3 (terms peak near 1e2 there, so little cancellation),
     * the continued fraction of erfc above, where it converges within a few dozen terms.
     */
    public static double erf(double x) {
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

    /** torch {@code LayerNorm} over the last dimension (biased variance) of token-major {@code x[T][C]}. */
    public static double[][] layerNorm(double[][] x, double[] gamma, double[] beta, double eps) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            int n = x[i].length;
            double mean = 0;
            for (double v : x[i]) {
                mean += v;
            }
            mean /= n;
            double var = 0;
            for (double v : x[i]) {
                var += (v - mean) * (v - mean);
            }
            var /= n;
            double inv = 1 / Math.sqrt(var + eps);
            out[i] = new double[n];
            for (int j = 0; j < n; j++) {
                out[i][j] = (x[i][j] - mean) * inv * gamma[j] + beta[j];
            }
        }
        return out;
    }

    /** Multi-head softmax attention of projected q/k/v ({@code heads} equal slices of the channels). */
    public static double[][] attention(double[][] q, double[][] k, double[][] v, int heads, double scale) {
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
}
