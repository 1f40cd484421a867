package dev.pagoda.nn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** LoRA side path and fusion against the defining equation {@code W + Σ w·(alpha/r)·B·A}, in float64. */
class LowRankAdaptersTest {

    private static Tensor random(SplittableRandom rng, DType dt, int... shape) {
        Tensor t = Tensor.zeros(dt, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.storage().setFloat(dt, i, (float) (rng.nextDouble() * 2 - 1));
        }
        return t;
    }

    private static double[] d(Tensor t) {
        float[] f = t.contiguous().toFloatArray();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /** {@code W + Σ kᵢ·upᵢ·downᵢ} for weights flattened to {@code [out, cols]}, in float64. */
    private static double[] effective(Tensor w, Tensor[] downs, Tensor[] ups, double[] k) {
        double[] out = d(w);
        int rows = w.dim(0);
        int cols = (int) (w.numel() / rows);
        for (int a = 0; a < downs.length; a++) {
            double[] dn = d(downs[a]);
            double[] up = d(ups[a]);
            int r = downs[a].dim(0);
            for (int o = 0; o < rows; o++) {
                for (int c = 0; c < cols; c++) {
                    double s = 0;
                    for (int j = 0; j < r; j++) {
                        s += up[o * r + j] * dn[j * cols + c];
                    }
                    out[o * cols + c] += k[a] * s;
                }
            }
        }
        return out;
    }

    private static void close(double[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        for (double v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= tol * scale, what + " at " + i + ": " + got[i] + " vs " + want[i]);
        }
    }

    @Test
    void linearSidePathAndFusionFollowTheEquation() {
        SplittableRandom rng = new SplittableRandom(3);
        int in = 37;
        int out = 23;
        Linear lin = new Linear(in, out, true);
        Tensor w = random(rng, DType.F16, out, in);
        lin.weight().set(w);
        lin.namedParameters().get("bias").set(random(rng, DType.F32, out));
        Tensor[] downs = {random(rng, DType.F16, 5, in), random(rng, DType.F32, 3, in)};
        Tensor[] ups = {random(rng, DType.F16, out, 5), random(rng, DType.F32, out, 3)};
        float[] alphas = {2f, 3f};
        lin.addLora("a", downs[0], ups[0], alphas[0] / 5);
        lin.addLora("b", downs[1], ups[1], alphas[1] / 3);
        lin.setLoraWeights(Map.of("a", 0.8f, "b", -1.5f));
        double[] k = {0.8 * 2 / 5, -1.5 * 3 / 3};
        double[] weff = effective(w, downs, ups, k);

        Tensor x = random(rng, DType.F32, 3, 7, in);
        double[] xd = d(x);
        double[] bias = d(lin.namedParameters().get("bias").get());
        double[] want = new double[3 * 7 * out];
        for (int t = 0; t < 21; t++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int c = 0; c < in; c++) {
                    s += xd[t * in + c] * weff[o * in + c];
                }
                want[t * out + o] = s;
            }
        }
        close(want, lin.forward(x).toFloatArray(), 1e-5, "side path");

        lin.fuseLora();
        Tensor fused = lin.weight().get();
        assertEquals(DType.F16, fused.dtype(), "the fused weight keeps the stored dtype");
        close(weff, fused.toFloatArray(), 1e-3, "fused weight (one float16 rounding)");
        // the side path is off while fused: the forward is the fused weight's alone
        close(want, lin.forward(x).toFloatArray(), 2e-3, "fused forward");
        assertThrows(IllegalStateException.class, () -> lin.setLoraWeights(Map.of("a", 1f)));
        lin.unfuseLora();
        assertSame(w, lin.weight().get(), "unfuse puts the original tensor back");

        lin.setLoraWeights(Map.of());
        Linear plain = new Linear(in, out, true);
        plain.weight().set(w);
        plain.namedParameters().get("bias").set(lin.namedParameters().get("bias").get());
        assertArrayEquals(plain.forward(x).toFloatArray(), lin.forward(x).toFloatArray(), "all adapters off");
    }

    @Test
    void convolutionSidePathAndFusionFollowTheEquation() {
        SplittableRandom rng = new SplittableRandom(5);
        int in = 6;
        int out = 5;
        for (int stride : new int[] {1, 2}) {
            Conv2d conv = new Conv2d(in, out, 3, stride, 1, true);
            Tensor w = random(rng, DType.F32, out, in, 3, 3);
            conv.namedParameters().get("weight").set(w);
            conv.namedParameters().get("bias").set(random(rng, DType.F32, out));
            Tensor down = random(rng, DType.F32, 4, in, 3, 3);
            Tensor up = random(rng, DType.F32, out, 4, 1, 1);
            Tensor x = random(rng, DType.F32, 2, in, 9, 11);
            Tensor base = conv.forward(x);
            conv.addLora("a", down, up, 0.25f);
            conv.setLoraWeights(Map.of("a", 0.6f));
            double[] weff = effective(w, new Tensor[] {down}, new Tensor[] {up}, new double[] {0.6 * 0.25});
            // reference convolution in float64 with the effective weight
            int oh = (9 + 2 - 3) / stride + 1;
            int ow = (11 + 2 - 3) / stride + 1;
            double[] xd = d(x);
            double[] b = d(conv.namedParameters().get("bias").get());
            double[] want = new double[2 * out * oh * ow];
            for (int n = 0; n < 2; n++) {
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < oh; i++) {
                        for (int j = 0; j < ow; j++) {
                            double s = b[o];
                            for (int c = 0; c < in; c++) {
                                for (int ki = 0; ki < 3; ki++) {
                                    for (int kj = 0; kj < 3; kj++) {
                                        int yi = i * stride - 1 + ki;
                                        int xj = j * stride - 1 + kj;
                                        if (yi >= 0 && yi < 9 && xj >= 0 && xj < 11) {
                                            s += xd[((n * in + c) * 9 + yi) * 11 + xj] * weff[((o * in + c) * 3 + ki) * 3 + kj];
                                        }
                                    }
                                }
                            }
                            want[((n * out + o) * oh + i) * ow + j] = s;
                        }
                    }
                }
            }
            close(want, conv.forward(x).toFloatArray(), 1e-5, "conv side path, stride " + stride);
            conv.fuseLora();
            close(weff, conv.namedParameters().get("weight").get().toFloatArray(), 1e-6, "fused conv weight");
            close(want, conv.forward(x).toFloatArray(), 1e-5, "fused conv forward");
            conv.unfuseLora();
            assertSame(w, conv.namedParameters().get("weight").get());
            conv.removeLora("a");
            assertArrayEquals(base.toFloatArray(), conv.forward(x).toFloatArray());
        }
    }

    @Test
    void pairsThatDoNotFitAreRefusedByShape() {
        Linear lin = new Linear(8, 6, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> lin.addLora("x", Tensor.zeros(4, 8), Tensor.zeros(6, 3), 1f));
        assertTrue(e.getMessage().contains("same rank"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> lin.addLora("x", Tensor.zeros(4, 7), Tensor.zeros(6, 4), 1f));
        Conv2d conv = new Conv2d(3, 2, 3, 1, 1);
        assertThrows(IllegalArgumentException.class,
                () -> conv.addLora("x", Tensor.zeros(4, 3, 1, 1), Tensor.zeros(2, 4, 1, 1), 1f));
    }
}
