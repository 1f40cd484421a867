package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 3×3, stride-1, padding-1, ungrouped convolution by Winograd's minimal filtering F(m×m, 3×3),
 * m = 4 or 2 (Lavin and Gray's transforms, interpolation points 0, ±1, ±2, ∞). The output is cut into
 * m×m tiles, each reading an α×α input window (α = m + 2). Per block of tiles:
 * <ol>
 * <li>input transform {@code V = Bᵀ d B} into {@code V[ξ][ci][tile]} (ξ < α², the transform point);</li>
 * <li>α² independent GEMMs {@code M[ξ] = U[ξ][Cout × Cin] · V[ξ][Cin × tiles]} on {@link PackedGemm},
 *     one call with α² batches so the tasks spread over the threads;</li>
 * <li>output transform {@code Y = Aᵀ M A} plus bias, clipped to the image at the right/bottom border.</li>
 * </ol>
 * The weights are transformed once per call ({@code U = G g Gᵀ}), widened from F16/BF16/F32 on the way.
 * F(4×4) does 36 multiplies per 16 outputs against the direct 144 (4×), F(2×2) 16 per 4 (2.25×);
 * the larger tile has larger transform coefficients and so more rounding error.
 */
final class Winograd {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /**
     * Floats per transformed-input (and per transformed-output) scratch of one block: 3 M floats
     * (12 MB) gives 128 tiles at 640 channels and 256 at 320, enough columns that the re-packing of
     * U for every block (a copy per 2·tiles flops) stays a few percent of the GEMM.
     */
    private static final int BLOCK_FLOATS = 3 << 20;

    /** Filters widened and transformed per chunk of the weight transform. */
    private static final int FILTER_CHUNK = 256;

    private static final float[][] G4 = {
        {1f / 4, 0, 0},
        {-1f / 6, -1f / 6, -1f / 6},
        {-1f / 6, 1f / 6, -1f / 6},
        {1f / 24, 1f / 12, 1f / 6},
        {1f / 24, -1f / 12, 1f / 6},
        {0, 0, 1},
    };

    private static final float[][] G2 = {
        {1, 0, 0},
        {0.5f, 0.5f, 0.5f},
        {0.5f, -0.5f, 0.5f},
        {0, 0, 1},
    };

    private Winograd() {
    }

    /** True where this path computes {@code conv2d(x, weight, bias, stride, padding, groups)}. */
    static boolean applies(Tensor x, Tensor weight, int stride, int padding, int groups) {
        return x.rank() == 4 && weight.rank() == 4 && stride == 1 && padding == 1 && groups == 1
                && weight.dim(2) == 3 && weight.dim(3) == 3 && weight.dim(1) == x.dim(1);
    }

    /**
     * The convolution with F(m×m, 3×3); the caller has checked {@link #applies} and the dtypes.
     *
     * @param m output tile size, 2 or 4
     */
    static Tensor conv3x3(MicroKernel kernel, int m, Tensor x, Tensor weight, Tensor bias) {
        if (m != 2 && m != 4) {
            throw new IllegalArgumentException("winograd: tile size must be 2 or 4, got " + m);
        }
        int batch = x.dim(0);
        int cin = x.dim(1);
        int h = x.dim(2);
        int w = x.dim(3);
        int cout = weight.dim(0);
        float[] biasValues = bias == null ? null : bias.toFloatArray();
        Tensor out = Tensor.zeros(batch, cout, h, w);
        if (out.numel() == 0) {
            return out;
        }
        if (!(x.storage() instanceof FloatArrayStorage) || x.dtype() != DType.F32) {
            x = Tensor.of(x.toFloatArray(), x.shape());
        }
        int alpha = m + 2;
        int points = alpha * alpha;
        float[] u = transformWeights(weight, m, cout, cin);
        int tilesY = PackedGemm.ceilDiv(h, m);
        int tilesX = PackedGemm.ceilDiv(w, m);
        int tilesPerImage = tilesY * tilesX;
        long totalTiles = (long) batch * tilesPerImage;
        int nr = kernel.nr();
        int block = Math.max(nr, BLOCK_FLOATS / (points * Math.max(cin, cout)) / nr * nr);
        block = (int) Math.min(block, (totalTiles + nr - 1) / nr * nr);
        float[] v = new float[points * cin * block];
        float[] mm = new float[points * cout * block];
        Tensor uT = Tensor.of(u, points, cout, cin);
        Tensor vT = Tensor.of(v, points, cin, block);
        long[] aOffsets = new long[points];
        long[] bOffsets = new long[points];
        int[] cOffsets = new int[points];
        for (int p = 0; p < points; p++) {
            aOffsets[p] = (long) p * cout * cin;
            bOffsets[p] = (long) p * cin * block;
            cOffsets[p] = p * cout * block;
        }
        MatrixPanels a = new MatrixPanels(uT, aOffsets, cin, 1);
        MatrixPanels b = new MatrixPanels(vT, bOffsets, 1, block);
        Geometry g = new Geometry(((FloatArrayStorage) x.storage()).data(), x.offset(), x.strides(), h, w, tilesX,
                tilesPerImage, m);
        float[] y = out.array();
        for (long t0 = 0; t0 < totalTiles; t0 += block) {
            int first = (int) t0;
            int count = (int) Math.min(block, totalTiles - t0);
            int blk = block;
            Parallel.range(cin, (c0, c1) -> {
                for (int ci = c0; ci < c1; ci++) {
                    inputTransform(g, ci, first, count, v, ci * blk, cin * blk);
                }
            });
            PackedGemm.multiply(kernel, a, b, points, cout, count, cin, mm, cOffsets, block, null, false);
            Parallel.range(cout, (c0, c1) -> {
                for (int co = c0; co < c1; co++) {
                    outputTransform(g, co, cout, first, count, mm, co * blk, cout * blk,
                            biasValues == null ? 0f : biasValues[co], y);
                }
            });
        }
        return out;
    }

    /** Where the tiles and the input pixels lie. */
    private record Geometry(float[] x, long offset, long[] strides, int h, int w, int tilesX, int tilesPerImage,
            int m) {
    }

    /**
     * {@code U[ξ][co][ci] = (G g Gᵀ)[ξ]} for every filter {@code g = weight[co][ci]}. The filters, rows
     * of a {@code [Cout·Cin × 9]} matrix, are widened a chunk at a time by {@link MatrixPanels} into
     * nine planes, so the transform runs along vectors of filters.
     */
    private static float[] transformWeights(Tensor weight, int m, int cout, int cin) {
        float[][] gm = m == 4 ? G4 : G2;
        int alpha = m + 2;
        int filters = cout * cin;
        weight = Gemm.onCpu(weight);
        long[] ws = weight.strides();
        if (ws[2] != 3 * ws[3] || cout > 1 && ws[0] != cin * ws[1]) {
            weight = weight.contiguous();
            weight = Gemm.onCpu(weight);
            ws = weight.strides();
        }
        long rowStride = cin > 1 ? ws[1] : ws[0];
        MatrixPanels src = new MatrixPanels(weight, new long[] {weight.offset()}, rowStride, ws[3]);
        float[] u = new float[alpha * alpha * filters];
        int chunks = PackedGemm.ceilDiv(filters, FILTER_CHUNK);
        Parallel.range(chunks, (c0, c1) -> {
            float[] planes = new float[9 * FILTER_CHUNK];
            float[] half = new float[alpha * 3 * FILTER_CHUNK];
            PackedGemm.Workspace work = PackedGemm.workspace();
            for (int c = c0; c < c1; c++) {
                int f0 = c * FILTER_CHUNK;
                int len = Math.min(FILTER_CHUNK, filters - f0);
                src.pack(0, f0, len, 0, 9, planes, 0, FILTER_CHUNK, work);
                // half[a][kx] = Σ_ky G[a][ky]·g[ky][kx], then U[a][b] = Σ_kx G[b][kx]·half[a][kx]
                for (int aa = 0; aa < alpha; aa++) {
                    for (int kx = 0; kx < 3; kx++) {
                        combine(gm[aa], planes, kx * FILTER_CHUNK, 3 * FILTER_CHUNK, half,
                                (aa * 3 + kx) * FILTER_CHUNK, len);
                    }
                }
                for (int aa = 0; aa < alpha; aa++) {
                    for (int bb = 0; bb < alpha; bb++) {
                        combine(gm[bb], half, aa * 3 * FILTER_CHUNK, FILTER_CHUNK, u,
                                (aa * alpha + bb) * filters + f0, len);
                    }
                }
            }
        });
        return u;
    }

    /** {@code dst[d + i] = Σ_j coef[j]·src[s + j·step + i]} for {@code i < len}, j < 3. */
    private static void combine(float[] coef, float[] src, int s, int step, float[] dst, int d, int len) {
        float c0 = coef[0];
        float c1 = coef[1];
        float c2 = coef[2];
        int i = 0;
        for (; i + S.length() <= len; i += S.length()) {
            FloatVector acc = FloatVector.fromArray(S, src, s + i).mul(c0);
            acc = FloatVector.fromArray(S, src, s + step + i).fma(FloatVector.broadcast(S, c1), acc);
            acc = FloatVector.fromArray(S, src, s + 2 * step + i).fma(FloatVector.broadcast(S, c2), acc);
            acc.intoArray(dst, d + i);
        }
        for (; i < len; i++) {
            dst[d + i] = Math.fma(c2, src[s + 2 * step + i], Math.fma(c1, src[s + step + i], c0 * src[s + i]));
        }
    }

    /**
     * Transforms channel {@code ci} of tiles {@code [first, first + count)} into
     * {@code v[base + ξ·pointStride + j]} for tile {@code first + j}.
     */
    private static void inputTransform(Geometry g, int ci, int first, int count, float[] v, int base,
            int pointStride) {
        int m = g.m;
        int alpha = m + 2;
        float[] d = new float[alpha * alpha];
        float[] x = g.x;
        long sy = g.strides[2];
        long sx = g.strides[3];
        for (int j = 0; j < count; j++) {
            int t = first + j;
            int n = t / g.tilesPerImage;
            int r = t - n * g.tilesPerImage;
            int ty = r / g.tilesX;
            int tx = r - ty * g.tilesX;
            int y0 = ty * m - 1;
            int x0 = tx * m - 1;
            long plane = g.offset + n * g.strides[0] + ci * g.strides[1];
            boolean inside = y0 >= 0 && x0 >= 0 && y0 + alpha <= g.h && x0 + alpha <= g.w;
            for (int ry = 0; ry < alpha; ry++) {
                int iy = y0 + ry;
                long row = plane + iy * sy;
                for (int rx = 0; rx < alpha; rx++) {
                    int ix = x0 + rx;
                    d[ry * alpha + rx] = inside || iy >= 0 && iy < g.h && ix >= 0 && ix < g.w
                            ? x[(int) (row + ix * sx)] : 0f;
                }
            }
            // Bᵀ along columns (in place, row by row of d viewed as columns), then along rows
            for (int c = 0; c < alpha; c++) {
                inputPass(m, d, c, alpha);
            }
            for (int rr = 0; rr < alpha; rr++) {
                inputPass(m, d, rr * alpha, 1);
            }
            int o = base + j;
            for (int p = 0; p < alpha * alpha; p++) {
                v[o + p * pointStride] = d[p];
            }
        }
    }

    /** {@code d[o + i·step] ← (Bᵀ d)[i]} over one line of α values. */
    private static void inputPass(int m, float[] d, int o, int step) {
        if (m == 4) {
            float d0 = d[o];
            float d1 = d[o + step];
            float d2 = d[o + 2 * step];
            float d3 = d[o + 3 * step];
            float d4 = d[o + 4 * step];
            float d5 = d[o + 5 * step];
            d[o] = 4 * d0 - 5 * d2 + d4;
            d[o + step] = -4 * (d1 + d2) + d3 + d4;
            d[o + 2 * step] = 4 * (d1 - d2) - d3 + d4;
            d[o + 3 * step] = 2 * (d3 - d1) - d2 + d4;
            d[o + 4 * step] = 2 * (d1 - d3) - d2 + d4;
            d[o + 5 * step] = 4 * d1 - 5 * d3 + d5;
        } else {
            float d0 = d[o];
            float d1 = d[o + step];
            float d2 = d[o + 2 * step];
            float d3 = d[o + 3 * step];
            d[o] = d0 - d2;
            d[o + step] = d1 + d2;
            d[o + 2 * step] = d2 - d1;
            d[o + 3 * step] = d1 - d3;
        }
    }

    /**
     * Output channel {@code co} of tiles {@code [first, first + count)}: {@code Aᵀ M A} from
     * {@code mm[base + ξ·pointStride + j]}, plus the bias, into the output image.
     */
    private static void outputTransform(Geometry g, int co, int cout, int first, int count, float[] mm, int base,
            int pointStride, float bias, float[] y) {
        int m = g.m;
        int alpha = m + 2;
        float[] s = new float[alpha * alpha];
        int h = g.h;
        int w = g.w;
        for (int j = 0; j < count; j++) {
            int o = base + j;
            for (int p = 0; p < alpha * alpha; p++) {
                s[p] = mm[o + p * pointStride];
            }
            // Aᵀ along columns: rows 0..m-1 of s hold the result; then along those rows
            for (int c = 0; c < alpha; c++) {
                outputPass(m, s, c, alpha);
            }
            for (int rr = 0; rr < m; rr++) {
                outputPass(m, s, rr * alpha, 1);
            }
            int t = first + j;
            int n = t / g.tilesPerImage;
            int r = t - n * g.tilesPerImage;
            int ty = r / g.tilesX;
            int tx = r - ty * g.tilesX;
            int oy0 = ty * m;
            int ox0 = tx * m;
            int rows = Math.min(m, h - oy0);
            int cols = Math.min(m, w - ox0);
            int dst = ((n * cout + co) * h + oy0) * w + ox0;
            for (int ry = 0; ry < rows; ry++) {
                for (int rx = 0; rx < cols; rx++) {
                    y[dst + ry * w + rx] = s[ry * alpha + rx] + bias;
                }
            }
        }
    }

    /** {@code s[o + i·step] ← (Aᵀ s)[i]} for i < m over one line of α values. */
    private static void outputPass(int m, float[] s, int o, int step) {
        if (m == 4) {
            float m0 = s[o];
            float m1 = s[o + step];
            float m2 = s[o + 2 * step];
            float m3 = s[o + 3 * step];
            float m4 = s[o + 4 * step];
            float m5 = s[o + 5 * step];
            float p12 = m1 + m2;
            float d12 = m1 - m2;
            float p34 = m3 + m4;
            float d34 = m3 - m4;
            s[o] = m0 + p12 + p34;
            s[o + step] = d12 + 2 * d34;
            s[o + 2 * step] = p12 + 4 * p34;
            s[o + 3 * step] = d12 + 8 * d34 + m5;
        } else {
            float m0 = s[o];
            float m1 = s[o + step];
            float m2 = s[o + 2 * step];
            float m3 = s[o + 3 * step];
            s[o] = m0 + m1 + m2;
            s[o + step] = m1 - m2 - m3;
        }
    }
}
