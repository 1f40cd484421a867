package dev.pagoda.tensor.cpu;

import static dev.pagoda.tensor.cpu.GemmTest.random;
import static dev.pagoda.tensor.cpu.GemmTest.segment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(RestoresThreads.class)
class WinogradTest {

    private static final double EPS = 0x1p-24;

    /**
     * Error bound factor for F(m×m, 3×3). Each output is {@code Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A} summed over
     * channels; a first-order rounding analysis (Barabasz et al., "Error analysis and improving the
     * accuracy of Winograd convolution", 2020) bounds the error by a few ε times
     * {@code (‖Aᵀ‖∞·‖G‖∞·‖Bᵀ‖∞)²} times {@code Σ_ci max|d|·Σ|g|} (the window's magnitude, not the
     * nine taps', since the transforms mix the whole α×α window). The 1-D norms are 3·1.5·2 = 9 for
     * F(2×2) and 19·0.5·10 = 95 for F(4×4); we allow 4 roundings per stage, and add the GEMM's
     * summation error (Cin roundings). A wrong tap, transform entry or tile offset gives errors of
     * the order of the scale itself, far above either bound ({@link #aShiftedResultFailsTheCheck}).
     */
    private static double factor(int m, int cin) {
        double norms = m == 4 ? 95 : 9;
        return 4 * norms * norms + cin + 8;
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 4})
    void awkwardSizesMatchFloat64(int m) {
        Random rnd = new Random(31 + m);
        int[] channels = {1, 3, 7, 17, 33};
        int[] sizes = {1, 2, 5, 13, 31};
        int caseNo = 0;
        for (int cin : channels) {
            for (int cout : channels) {
                for (int s = 0; s < 2; s++) {
                    int h = sizes[(caseNo + s) % sizes.length];
                    int w = sizes[(caseNo * 3 + s + 1) % sizes.length];
                    int batch = caseNo % 2 == 0 ? 1 : 3;
                    Tensor x = random(rnd, batch, cin, h, w);
                    Tensor wt = random(rnd, cout, cin, 3, 3);
                    Tensor bias = caseNo % 3 == 0 ? null : random(rnd, cout);
                    if (caseNo % 4 == 1) {
                        wt = segment(wt, DType.F16);
                    }
                    String what = "F(" + m + ") " + batch + "x" + cin + "x" + h + "x" + w + " -> " + cout
                            + (bias == null ? "" : " +bias") + " " + wt.dtype();
                    Parallel.setThreads(1 + caseNo % 2);
                    check(what, m, x, wt, bias, Winograd.conv3x3(MicroKernel.preferred(), m, x, wt, bias));
                    caseNo++;
                }
            }
        }
    }

    @Test
    void everyKernelBlockAndWeightDtype() {
        Random rnd = new Random(40);
        // 70 tiles at m=2 over two images with 40 channels: several tile blocks would need
        // BLOCK_FLOATS / (16·40) > 70 — one block here; the large case below spans several.
        for (MicroKernel kernel : GemmTest.kernels()) {
            for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                Tensor x = random(rnd, 2, 40, 9, 14);
                Tensor wt = segment(random(rnd, 36, 40, 3, 3), dt);
                Tensor bias = segment(random(rnd, 36), DType.BF16);
                for (int m : new int[] {2, 4}) {
                    check(kernel + " " + dt + " F(" + m + ")", m, x, wt, bias,
                            Winograd.conv3x3(kernel, m, x, wt, bias));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 4})
    void manyTileBlocks(int m) {
        Random rnd = new Random(41 + m);
        // 2×97×71 pixels: 98 tile rows of 36 tiles at m=2 (25 of 18 at m=4, over the image border).
        // A one-float budget leaves blocks of the minimum ⌈256 / tilesX⌉ rows, so 11 (m=2) or 4 (m=4)
        // blocks, the last one partial, and the rows of 36 or 18 tiles span a vector and a masked tail.
        Tensor x = random(rnd, 2, 40, 97, 71);
        Tensor wt = random(rnd, 33, 40, 3, 3);
        Tensor bias = random(rnd, 33);
        Tensor manyBlocks = Winograd.conv3x3(MicroKernel.preferred(), m, x, wt, bias, 1);
        check("blocks F(" + m + ")", m, x, wt, bias, manyBlocks);
        // the block split changes which tiles share a GEMM, never a tile's arithmetic
        assertArrayEquals(Winograd.conv3x3(MicroKernel.preferred(), m, x, wt, bias).toFloatArray(),
                manyBlocks.toFloatArray());
    }

    @Test
    void stridedInputAndPermutedWeight() {
        Random rnd = new Random(42);
        Tensor x = random(rnd, 2, 9, 11, 6).permute(0, 3, 1, 2); // channels-last view [2, 6, 9, 11]
        Tensor wt = random(rnd, 3, 3, 6, 5).permute(3, 2, 0, 1); // [5, 6, 3, 3] view
        for (int m : new int[] {2, 4}) {
            check("strided F(" + m + ")", m, x, wt, null, Winograd.conv3x3(MicroKernel.preferred(), m, x, wt, null));
        }
    }

    @Test
    void bitIdenticalWithOneAndTwoThreads() {
        Random rnd = new Random(43);
        Tensor x = random(rnd, 1, 48, 21, 19);
        Tensor wt = random(rnd, 40, 48, 3, 3);
        Tensor bias = random(rnd, 40);
        Parallel.setThreads(1);
        float[] one = Winograd.conv3x3(MicroKernel.preferred(), 4, x, wt, bias).toFloatArray();
        Parallel.setThreads(2);
        assertArrayEquals(one, Winograd.conv3x3(MicroKernel.preferred(), 4, x, wt, bias).toFloatArray());
    }

    @Test
    void backendPicksWinogradOnlyForEligibleShapes() {
        Random rnd = new Random(44);
        int c = Math.max(32, CpuBackend.WINOGRAD_MIN_CHANNELS);
        Tensor x = random(rnd, 1, c, 10, 12);
        Tensor wt = random(rnd, c, c, 3, 3);
        Tensor bias = random(rnd, c);
        Tensor viaBackend = CpuBackend.INSTANCE.conv2d(x, wt, bias, 1, 1, 1);
        Tensor direct = Conv2d.conv2d(x, wt, bias, 1, 1, 1);
        assertArrayEquals(direct.shape(), viaBackend.shape());
        float[] expect = (CpuBackend.convWinograd()
                ? Winograd.conv3x3(MicroKernel.preferred(), CpuBackend.WINOGRAD_TILE, x, wt, bias) : direct)
                .toFloatArray();
        assertArrayEquals(expect, viaBackend.toFloatArray());
        check("backend", CpuBackend.WINOGRAD_TILE, x, wt, bias, viaBackend);
        boolean saved = CpuBackend.convWinograd();
        try {
            CpuBackend.setConvWinograd(false);
            assertArrayEquals(direct.toFloatArray(), CpuBackend.INSTANCE.conv2d(x, wt, bias, 1, 1, 1).toFloatArray());
            CpuBackend.setConvWinograd(true);
            assertArrayEquals(Winograd.conv3x3(MicroKernel.preferred(), CpuBackend.WINOGRAD_TILE, x, wt, bias)
                    .toFloatArray(), CpuBackend.INSTANCE.conv2d(x, wt, bias, 1, 1, 1).toFloatArray());
            // stride 2, padding 0, groups 2, 1×1 and too few channels keep the implicit GEMM, bit for bit
            Tensor w2 = random(rnd, c, c / 2, 3, 3);
            Tensor w1 = random(rnd, c, c, 1, 1);
            assertArrayEquals(Conv2d.conv2d(x, wt, bias, 2, 1, 1).toFloatArray(),
                    CpuBackend.INSTANCE.conv2d(x, wt, bias, 2, 1, 1).toFloatArray());
            assertArrayEquals(Conv2d.conv2d(x, wt, bias, 1, 0, 1).toFloatArray(),
                    CpuBackend.INSTANCE.conv2d(x, wt, bias, 1, 0, 1).toFloatArray());
            assertArrayEquals(Conv2d.conv2d(x, w2, null, 1, 1, 2).toFloatArray(),
                    CpuBackend.INSTANCE.conv2d(x, w2, null, 1, 1, 2).toFloatArray());
            assertArrayEquals(Conv2d.conv2d(x, w1, null, 1, 1, 1).toFloatArray(),
                    CpuBackend.INSTANCE.conv2d(x, w1, null, 1, 1, 1).toFloatArray());
            if (CpuBackend.WINOGRAD_MIN_CHANNELS > 1) {
                // one output channel short of the threshold; there is no such shape when it is forced to 1
                Tensor few = random(rnd, CpuBackend.WINOGRAD_MIN_CHANNELS - 1, c, 3, 3);
                assertArrayEquals(Conv2d.conv2d(x, few, null, 1, 1, 1).toFloatArray(),
                        CpuBackend.INSTANCE.conv2d(x, few, null, 1, 1, 1).toFloatArray());
            }
        } finally {
            CpuBackend.setConvWinograd(saved);
        }
        // shape errors still come from the conv's own checks
        GemmTest.assertMessage(() -> CpuBackend.INSTANCE.conv2d(x, random(rnd, 32, 31, 3, 3), null, 1, 1, 1),
                "conv2d", "[32, 31, 3, 3]");
        GemmTest.assertMessage(() -> CpuBackend.INSTANCE.conv2d(x, wt, random(rnd, 31), 1, 1, 1), "conv2d", "bias");
    }

    @Test
    void aShiftedResultFailsTheCheck() {
        Random rnd = new Random(45);
        Tensor x = random(rnd, 1, 5, 9, 9);
        Tensor wt = random(rnd, 4, 5, 3, 3);
        Tensor good = Winograd.conv3x3(MicroKernel.preferred(), 4, x, wt, null);
        check("good", 4, x, wt, null, good);
        Tensor shifted = Tensor.zeros(1, 4, 9, 9);
        for (int c = 0; c < 4; c++) {
            for (int y = 0; y < 9; y++) {
                for (int xx = 0; xx < 9; xx++) {
                    shifted.setFloat(good.getFloat(0, c, y, (xx + 1) % 9), 0, c, y, xx);
                }
            }
        }
        assertThrows(AssertionError.class, () -> check("shifted", 4, x, wt, null, shifted));
        Tensor transposed = Winograd.conv3x3(MicroKernel.preferred(), 4, x, wt.permute(0, 1, 3, 2), null);
        assertThrows(AssertionError.class, () -> check("transposed taps", 4, x, wt, null, transposed));
    }

    @Test
    void badTileSizeIsRejected() {
        GemmTest.assertMessage(() -> Winograd.conv3x3(MicroKernel.preferred(), 3, Tensor.zeros(1, 1, 2, 2),
                Tensor.zeros(1, 1, 3, 3), null), "tile size", "3");
    }

    /**
     * Accuracy at the SDXL shapes with SDXL-like magnitudes (unit-variance activations, as after
     * GroupNorm; weights of std 1/√(9·Cin), as trained convs keep outputs near unit scale; small
     * bias): max error against float64 at sampled pixels, borders included, for F(4×4), F(2×2) and
     * the implicit GEMM. The golden tolerance for a single UNet/VAE forward is rel ≤ 1e-4
     * (shared/golden/README.md), through ~40 convs; each conv of the chosen tile must stay an order
     * below it, at 1e-5.
     */
    @Test
    void sdxlShapesStayFarWithinTheGoldenTolerance() {
        int[][] shapes = {{640, 640, 64, 64}, {320, 320, 128, 128}, {1280, 1280, 32, 32}, {960, 640, 64, 64}};
        Random rnd = new Random(46);
        for (int[] sh : shapes) {
            int cin = sh[0];
            int cout = sh[1];
            int h = sh[2];
            int w = sh[3];
            Tensor x = random(rnd, 1, cin, h, w);
            float[] wv = random(rnd, cout, cin, 3, 3).toFloatArray();
            float std = (float) (1 / Math.sqrt(9.0 * cin));
            for (int i = 0; i < wv.length; i++) {
                wv[i] *= std;
            }
            Tensor wt = Tensor.of(wv, cout, cin, 3, 3);
            float[] bv = random(rnd, cout).toFloatArray();
            for (int i = 0; i < bv.length; i++) {
                bv[i] *= 0.1f;
            }
            Tensor bias = Tensor.of(bv, cout);
            float[] f4 = Winograd.conv3x3(MicroKernel.preferred(), 4, x, wt, bias).toFloatArray();
            float[] f2 = Winograd.conv3x3(MicroKernel.preferred(), 2, x, wt, bias).toFloatArray();
            float[] direct = Conv2d.conv2d(x, wt, bias, 1, 1, 1).toFloatArray();
            float[] xv = x.toFloatArray();
            double[] err = new double[3];
            double refMax = 0;
            int samples = 48;
            for (int sIdx = 0; sIdx < samples; sIdx++) {
                // a quarter of the samples on the image border, where tiles are clipped
                int oy = sIdx % 4 == 0 ? (sIdx % 8 == 0 ? 0 : h - 1) : rnd.nextInt(h);
                int ox = rnd.nextInt(w);
                for (int co = 0; co < cout; co++) {
                    double s = bv[co];
                    for (int ci = 0; ci < cin; ci++) {
                        for (int ky = 0; ky < 3; ky++) {
                            int iy = oy + ky - 1;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < 3; kx++) {
                                int ix = ox + kx - 1;
                                if (ix >= 0 && ix < w) {
                                    s += (double) wv[((co * cin + ci) * 3 + ky) * 3 + kx] * xv[(ci * h + iy) * w + ix];
                                }
                            }
                        }
                    }
                    int o = (co * h + oy) * w + ox;
                    refMax = Math.max(refMax, Math.abs(s));
                    err[0] = Math.max(err[0], Math.abs(f4[o] - s));
                    err[1] = Math.max(err[1], Math.abs(f2[o] - s));
                    err[2] = Math.max(err[2], Math.abs(direct[o] - s));
                }
            }
            double denom = Math.max(1, refMax);
            System.out.printf("winograd accuracy %dx%dx%d -> %d (max|ref| %.3f): F(4x4) abs %.3g rel %.3g, "
                    + "F(2x2) abs %.3g rel %.3g, implicit GEMM abs %.3g rel %.3g%n", cin, h, w, cout, refMax,
                    err[0], err[0] / denom, err[1], err[1] / denom, err[2], err[2] / denom);
            int chosen = CpuBackend.WINOGRAD_TILE == 4 ? 0 : 1;
            assertTrue(err[chosen] / denom <= 1e-5, "F(" + CpuBackend.WINOGRAD_TILE + ") at " + cin + "x" + h + "x"
                    + w + ": rel error " + err[chosen] / denom);
            assertTrue(err[2] / denom <= 1e-5, "the check itself: implicit GEMM rel error " + err[2] / denom);
        }
    }

    /** Direct float64 convolution (3×3, stride 1, padding 1) and the bound of {@link #factor}. */
    static void check(String what, int m, Tensor x, Tensor w, Tensor bias, Tensor got) {
        int n = x.dim(0);
        int cin = x.dim(1);
        int h = x.dim(2);
        int wd = x.dim(3);
        int cout = w.dim(0);
        assertArrayEquals(new int[] {n, cout, h, wd}, got.shape(), what + ": output shape");
        float[] xv = x.contiguous().toFloatArray();
        float[] wv = w.contiguous().toFloatArray();
        float[] bv = bias == null ? null : bias.toFloatArray();
        float[] gv = got.toFloatArray();
        double[] wAbs = new double[cout * cin];
        for (int f = 0; f < cout * cin; f++) {
            for (int t = 0; t < 9; t++) {
                wAbs[f] += Math.abs(wv[f * 9 + t]);
            }
        }
        double factor = factor(m, cin);
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < h; oy++) {
                for (int ox = 0; ox < wd; ox++) {
                    int wy = oy / m * m - 1;
                    int wx = ox / m * m - 1;
                    double[] winMax = new double[cin];
                    for (int ci = 0; ci < cin; ci++) {
                        for (int iy = Math.max(0, wy); iy < Math.min(h, wy + m + 2); iy++) {
                            for (int ix = Math.max(0, wx); ix < Math.min(wd, wx + m + 2); ix++) {
                                winMax[ci] = Math.max(winMax[ci], Math.abs(xv[((b * cin + ci) * h + iy) * wd + ix]));
                            }
                        }
                    }
                    for (int co = 0; co < cout; co++) {
                        double s = bv == null ? 0 : bv[co];
                        double scale = Math.abs(s);
                        for (int ci = 0; ci < cin; ci++) {
                            scale += winMax[ci] * wAbs[co * cin + ci];
                            for (int ky = 0; ky < 3; ky++) {
                                int iy = oy + ky - 1;
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int kx = 0; kx < 3; kx++) {
                                    int ix = ox + kx - 1;
                                    if (ix >= 0 && ix < wd) {
                                        s += (double) wv[((co * cin + ci) * 3 + ky) * 3 + kx]
                                                * xv[((b * cin + ci) * h + iy) * wd + ix];
                                    }
                                }
                            }
                        }
                        double g = gv[((b * cout + co) * h + oy) * wd + ox];
                        double bound = factor * EPS * scale + 1e-30;
                        if (!(Math.abs(g - s) <= bound)) {
                            throw new AssertionError(what + ": out[" + b + ", " + co + ", " + oy + ", " + ox + "] = " + g
                                    + ", float64 " + s + ", error " + Math.abs(g - s) + " > bound " + bound);
                        }
                    }
                }
            }
        }
    }
}
