package dev.pagoda.tensor.cpu;

import static dev.pagoda.tensor.cpu.GemmTest.assertMessage;
import static dev.pagoda.tensor.cpu.GemmTest.random;
import static dev.pagoda.tensor.cpu.GemmTest.segment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(RestoresThreads.class)
class Conv2dTest {

    /** {N, Cin, H, W, Cout, k, stride, padding, groups} */
    private static final int[][] CASES = {
        {1, 3, 5, 7, 4, 3, 1, 1, 1},
        {2, 5, 9, 6, 7, 3, 1, 1, 1},
        {2, 5, 9, 6, 7, 3, 2, 1, 1},
        {1, 4, 8, 11, 6, 3, 2, 0, 1},
        {1, 6, 7, 5, 9, 1, 1, 0, 1},
        {2, 6, 7, 5, 10, 1, 2, 0, 1},
        {1, 6, 7, 5, 9, 1, 1, 1, 1},
        {2, 8, 6, 9, 12, 3, 1, 1, 2},
        {1, 6, 5, 5, 6, 3, 1, 1, 6},
        {1, 4, 1, 1, 5, 3, 1, 1, 1},
        {1, 4, 1, 1, 5, 1, 1, 0, 1},
        {1, 3, 3, 3, 2, 3, 1, 0, 1},
        {1, 2, 6, 4, 3, 5, 1, 2, 1},
        {1, 40, 30, 25, 33, 3, 1, 1, 1},
        {1, 17, 13, 29, 40, 3, 2, 1, 1},
        {2, 64, 8, 12, 20, 1, 1, 0, 1},
        {1, 3, 5, 70, 4, 3, 1, 1, 1},
        {2, 2, 4, 40, 3, 3, 1, 0, 1},
        {1, 80, 9, 7, 12, 3, 1, 1, 1},
    };

    @ParameterizedTest
    @MethodSource("dev.pagoda.tensor.cpu.GemmTest#kernelsAndThreads")
    void convolutionMatchesFloat64(MicroKernel kernel, int threads) {
        Parallel.setThreads(threads);
        Random rnd = new Random(11);
        for (int i = 0; i < CASES.length; i++) {
            int[] c = CASES[i];
            Tensor x = random(rnd, c[0], c[1], c[2], c[3]);
            Tensor w = random(rnd, c[4], c[1] / c[8], c[5], c[5]);
            Tensor bias = i % 3 == 2 ? null : random(rnd, c[4]);
            check(java.util.Arrays.toString(c), x, w, bias, c[6], c[7], c[8],
                    Conv2d.conv2d(kernel, x, w, bias, c[6], c[7], c[8]));
        }
    }

    @Test
    void halfPrecisionWeightsAreWidenedExactly() {
        Random rnd = new Random(12);
        for (DType dt : new DType[] {DType.F16, DType.BF16, DType.F32}) {
            for (int[] c : new int[][] {{1, 12, 9, 10, 20, 3, 1, 1, 1}, {2, 8, 6, 6, 8, 1, 1, 0, 2}, {1, 9, 7, 8, 5, 3, 2, 1, 1}}) {
                Tensor x = random(rnd, c[0], c[1], c[2], c[3]);
                Tensor w = segment(random(rnd, c[4], c[1] / c[8], c[5], c[5]), dt);
                Tensor bias = segment(random(rnd, c[4]), DType.BF16);
                check(dt + " " + java.util.Arrays.toString(c), x, w, bias, c[6], c[7], c[8],
                        Conv2d.conv2d(x, w, bias, c[6], c[7], c[8]));
            }
        }
    }

    @Test
    void stridedInputsAndWeights() {
        Random rnd = new Random(13);
        Tensor xNhwc = random(rnd, 2, 7, 9, 5).permute(0, 3, 1, 2);       // channels-last view
        Tensor w = random(rnd, 6, 5, 3, 3);
        check("NHWC view 3x3", xNhwc, w, null, 1, 1, 1, Conv2d.conv2d(xNhwc, w, null, 1, 1, 1));
        Tensor w1 = random(rnd, 6, 5, 1, 1);
        check("NHWC view 1x1", xNhwc, w1, null, 1, 0, 1, Conv2d.conv2d(xNhwc, w1, null, 1, 0, 1));
        Tensor xNarrow = random(rnd, 1, 5, 12, 14).narrow(2, 1, 9).narrow(3, 2, 10);
        check("narrowed 1x1", xNarrow, w1, null, 1, 0, 1, Conv2d.conv2d(xNarrow, w1, null, 1, 0, 1));
        Tensor wPerm = random(rnd, 3, 3, 5, 6).permute(3, 2, 0, 1);       // [Cout, Cin, kh, kw] view
        check("permuted weight", xNarrow, wPerm, null, 2, 1, 1, Conv2d.conv2d(xNarrow, wPerm, null, 2, 1, 1));
        Tensor xHalf = segment(random(rnd, 1, 5, 6, 7), DType.F16);      // an input outside the heap
        check("F16 input", xHalf, w, null, 1, 1, 1, Conv2d.conv2d(xHalf, w, null, 1, 1, 1));
    }

    @Test
    void resultsAreBitIdenticalWithOneAndTwoThreads() {
        Random rnd = new Random(14);
        Tensor x = random(rnd, 2, 16, 20, 24);
        Tensor w = random(rnd, 24, 16, 3, 3);
        Tensor bias = random(rnd, 24);
        Parallel.setThreads(1);
        float[] one = Conv2d.conv2d(x, w, bias, 1, 1, 1).toFloatArray();
        Parallel.setThreads(2);
        assertArrayEquals(one, Conv2d.conv2d(x, w, bias, 1, 1, 1).toFloatArray());
    }

    @Test
    void shapeErrorsNameTheOpAndShapes() {
        Tensor x = Tensor.zeros(1, 4, 5, 5);
        assertMessage(() -> Conv2d.conv2d(x, Tensor.zeros(3, 4, 3), null, 1, 1, 1), "conv2d", "[3, 4, 3]");
        assertMessage(() -> Conv2d.conv2d(x, Tensor.zeros(3, 5, 3, 3), null, 1, 1, 1), "conv2d", "[1, 4, 5, 5]", "[3, 5, 3, 3]");
        assertMessage(() -> Conv2d.conv2d(x, Tensor.zeros(3, 2, 3, 3), null, 1, 1, 2), "conv2d", "groups=2");
        assertMessage(() -> Conv2d.conv2d(x, Tensor.zeros(3, 4, 9, 9), null, 1, 1, 1), "conv2d", "9x9");
        assertMessage(() -> Conv2d.conv2d(x, Tensor.zeros(3, 4, 3, 3), Tensor.zeros(4), 1, 1, 1), "conv2d", "bias");
        assertMessage(() -> Conv2d.conv2d(x, Tensor.zeros(3, 4, 3, 3), null, 0, 1, 1), "conv2d", "stride 0");
        assertMessage(() -> Conv2d.conv2d(Tensor.zeros(4, 5, 5), Tensor.zeros(3, 4, 3, 3), null, 1, 1, 1), "conv2d", "[4, 5, 5]");
    }

    @Test
    void referenceCheckDetectsAShiftedWindow() {
        Random rnd = new Random(15);
        Tensor x = random(rnd, 1, 3, 6, 6);
        Tensor w = random(rnd, 2, 3, 3, 3);
        Tensor shifted = Conv2d.conv2d(x, w, null, 1, 0, 1); // padding 0 result cannot pass for padding 1
        assertThrows(AssertionError.class,
                () -> check("shifted", x, w, null, 1, 1, 1, padTo(shifted, 6, 6)));
    }

    private static Tensor padTo(Tensor t, int h, int w) {
        Tensor out = Tensor.zeros(t.dim(0), t.dim(1), h, w);
        for (int c = 0; c < t.dim(1); c++) {
            for (int y = 0; y < t.dim(2); y++) {
                for (int x = 0; x < t.dim(3); x++) {
                    out.setFloat(t.getFloat(0, c, y, x), 0, c, y, x);
                }
            }
        }
        return out;
    }

    private static void check(String what, Tensor x, Tensor w, Tensor bias, int stride, int pad, int groups,
            Tensor got) {
        int n = x.dim(0);
        int cin = x.dim(1);
        int h = x.dim(2);
        int wd = x.dim(3);
        int cout = w.dim(0);
        int kh = w.dim(2);
        int kw = w.dim(3);
        int ho = (h + 2 * pad - kh) / stride + 1;
        int wo = (wd + 2 * pad - kw) / stride + 1;
        assertArrayEquals(new int[] {n, cout, ho, wo}, got.shape(), what + ": output shape");
        float[] xv = x.toFloatArray();
        float[] wv = w.toFloatArray();
        float[] bv = bias == null ? null : bias.toFloatArray();
        int cinG = cin / groups;
        int coutG = cout / groups;
        double[] ref = new double[n * cout * ho * wo];
        double[] abs = new double[ref.length];
        for (int b = 0; b < n; b++) {
            for (int co = 0; co < cout; co++) {
                int g = co / coutG;
                for (int oy = 0; oy < ho; oy++) {
                    for (int ox = 0; ox < wo; ox++) {
                        double s = bv == null ? 0 : bv[co];
                        double sa = Math.abs(s);
                        for (int ci = 0; ci < cinG; ci++) {
                            for (int ky = 0; ky < kh; ky++) {
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = oy * stride + ky - pad;
                                    int ix = ox * stride + kx - pad;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                                        continue;
                                    }
                                    double v = (double) xv[((b * cin + g * cinG + ci) * h + iy) * wd + ix]
                                            * wv[((co * cinG + ci) * kh + ky) * kw + kx];
                                    s += v;
                                    sa += Math.abs(v);
                                }
                            }
                        }
                        int o = ((b * cout + co) * ho + oy) * wo + ox;
                        ref[o] = s;
                        abs[o] = sa;
                    }
                }
            }
        }
        Float32Accumulation.assertClose(what, ref, abs, got.toFloatArray(), cinG * kh * kw);
    }
}
