package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 3×3, stride-1, padding-1, ungrouped convolution by Winograd's minimal filtering F(m×m, 3×3),
 * m = 4 or 2 (Lavin and Gray's transforms, interpolation points 0, ±1, ±2, ∞). The output is cut into
 * m×m tiles, each reading an α×α input window (α = m + 2). Per block of whole tile rows:
 * <ol>
 * <li>input transform {@code V = Bᵀ d B} into {@code V[ξ][ci][tile]} (ξ < α², the transform point),
 *     vectorised along each tile row by {@link WinogradTiles};</li>
 * <li>α² independent GEMMs {@code M[ξ] = U[ξ][Cout × Cin] · V[ξ][Cin × tiles]} on {@link PackedGemm},
 *     one call with α² batches so the tasks spread over the threads;</li>
 * <li>output transform {@code Y = Aᵀ M A} plus bias, clipped to the image at the right/bottom border.</li>
 * </ol>
 * The weights are transformed once per call ({@code U = G g Gᵀ}), widened from F16/BF16/F32 on the way
 * and written in the GEMM's panel layout ({@link PrepackedPanels}), so no block copies them again.
 * F(4×4) does 36 multiplies per 16 outputs against the direct 144 (4×), F(2×2) 16 per 4 (2.25×);
 * the larger tile has larger transform coefficients and so more rounding error.
 */
final class Winograd {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /**
     * Floats per transformed-input (and per transformed-output) scratch of one block: 12 M floats
     * (48 MB) hold every tile of a batch-3 SDXL level at 1280 channels (192 tiles of F(4×4)) and 512
     * at 640. The transformed weights stream from memory once per block, and at 64 tiles per block
     * (the former 12 MB) the 1280-channel product ran 20% slower on that traffic.
     */
    private static final int BLOCK_FLOATS = 12 << 20;

    /**
     * Input channels per chunk of the weight transform: a row's run of 9·64 values fits the GEMM
     * workspace's widening buffer in one copy, and a chunk's transformed filters (α²·mr·64 floats,
     * 74 KB for F(4×4) on the 8-row kernel) stay in L2 until they are transposed into panels.
     */
    private static final int FILTER_CHUNK = 64;

    /** Reused per calling thread: transformed weights, transformed tiles, their products. */
    private static final ScratchArray U_SCRATCH = new ScratchArray();
    private static final ScratchArray V_SCRATCH = new ScratchArray();
    private static final ScratchArray M_SCRATCH = new ScratchArray();

    /** Fewest tiles per block (where the image has them): fewer columns make the GEMM stream U for too little work. */
    private static final int MIN_BLOCK_TILES = 256;

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
        return conv3x3(kernel, m, x, weight, bias, BLOCK_FLOATS);
    }

    /** As above with a scratch budget of {@code blockFloats} per block (tests force many blocks with a small one). */
    static Tensor conv3x3(MicroKernel kernel, int m, Tensor x, Tensor weight, Tensor bias, int blockFloats) {
        if (m != 2 && m != 4) {
            throw new IllegalArgumentException("winograd: tile size must be 2 or 4, got " + m);
        }
        int batch = x.dim(0);
        int cin = x.dim(1);
        int h = x.dim(2);
        int w = x.dim(3);
        int cout = weight.dim(0);
        float[] biasValues = bias == null ? null : bias.toFloatArray();
        Tensor out = Tensor.uninitialized(batch, cout, h, w);
        if (out.numel() == 0) {
            return out;
        }
        if (!(x.storage() instanceof FloatArrayStorage) || x.dtype() != DType.F32) {
            x = Tensor.of(x.toFloatArray(), x.shape());
        }
        int alpha = m + 2;
        int points = alpha * alpha;
        PrepackedPanels a = transformWeights(weight, m, cout, cin, kernel.mr());
        int tilesY = PackedGemm.ceilDiv(h, m);
        int tilesX = PackedGemm.ceilDiv(w, m);
        int tileRows = batch * tilesY;
        // Blocks are whole tile rows, since the transforms run along the tiles of one row.
        int blockRows = Math.max(PackedGemm.ceilDiv(MIN_BLOCK_TILES, tilesX),
                blockFloats / (points * Math.max(cin, cout) * tilesX));
        blockRows = Math.min(blockRows, tileRows);
        int block = blockRows * tilesX;
        int slack = FloatVector.SPECIES_PREFERRED.length();
        float[] v = V_SCRATCH.get((long) points * cin * block + slack);
        float[] mm = M_SCRATCH.get((long) points * cout * block + slack);
        Tensor vT = Tensor.of(v, v.length);
        long[] bOffsets = new long[points];
        int[] cOffsets = new int[points];
        for (int p = 0; p < points; p++) {
            bOffsets[p] = (long) p * cin * block;
            cOffsets[p] = p * cout * block;
        }
        MatrixPanels b = new MatrixPanels(vT, bOffsets, 1, block);
        WinogradTiles.Geometry g = new WinogradTiles.Geometry(((FloatArrayStorage) x.storage()).data(), x.offset(),
                x.strides(), h, w, tilesY, tilesX, m);
        float[] y = out.array();
        for (int row0 = 0; row0 < tileRows; row0 += blockRows) {
            int firstRow = row0;
            int rows = Math.min(blockRows, tileRows - row0);
            Parallel.range(cin, (c0, c1) -> {
                WinogradTiles.Scratch scratch = new WinogradTiles.Scratch(g, cin * block);
                for (int ci = c0; ci < c1; ci++) {
                    for (int r = 0; r < rows; r++) {
                        WinogradTiles.input(g, ci, firstRow + r, v, ci * block + r * tilesX, cin * block, scratch);
                    }
                }
            });
            PackedGemm.multiply(kernel, a, b, points, cout, rows * tilesX, cin, mm, cOffsets, block, null, false);
            Parallel.range(cout, (c0, c1) -> {
                WinogradTiles.Scratch scratch = new WinogradTiles.Scratch(g, cout * block);
                for (int co = c0; co < c1; co++) {
                    float bv = biasValues == null ? 0f : biasValues[co];
                    for (int r = 0; r < rows; r++) {
                        WinogradTiles.output(g, co, cout, firstRow + r, mm, co * block + r * tilesX, cout * block, bv,
                                y, scratch);
                    }
                }
            });
        }
        return out;
    }

    /**
     * {@code U[ξ] = (G g Gᵀ)[ξ]} for every filter {@code g = weight[co][ci]}, written straight in the
     * GEMM's panel layout ({@link PrepackedPanels}: rows co, columns ci) so that every tile block
     * multiplies against it without a copy. A chunk is one panel's {@code mr} filters rows over
     * {@link #FILTER_CHUNK} input channels: each row's filters, one contiguous run, are widened by
     * {@link MatrixPanels} and dealt into nine planes, transformed along vectors of filters, and each
     * point's {@code mr × chunk} result is transposed into its panel.
     */
    private static PrepackedPanels transformWeights(Tensor weight, int m, int cout, int cin, int mr) {
        float[][] gm = m == 4 ? G4 : G2;
        int alpha = m + 2;
        int points = alpha * alpha;
        weight = Gemm.onCpu(weight);
        if (!weight.isContiguous()) {
            weight = Gemm.onCpu(weight.contiguous());
        }
        // one run of a row's filters at a time: weight[co][ci0 … ci0 + len) is 9·len consecutive values
        MatrixPanels src = new MatrixPanels(weight, new long[] {weight.offset()}, 0, 1);
        float[] u = U_SCRATCH.get((long) points * PrepackedPanels.batchFloats(mr, cout, cin));
        PrepackedPanels prepacked = new PrepackedPanels(u, mr, cout, cin, points);
        int panels = PackedGemm.ceilDiv(cout, mr);
        int ciChunks = PackedGemm.ceilDiv(cin, FILTER_CHUNK);
        Parallel.range(panels * ciChunks, (c0, c1) -> {
            float[] run = new float[9 * FILTER_CHUNK];
            float[] planes = new float[9 * FILTER_CHUNK];
            float[] half = new float[alpha * 3 * FILTER_CHUNK];
            float[] rows = new float[points * mr * FILTER_CHUNK];
            PackedGemm.Workspace work = PackedGemm.workspace();
            for (int c = c0; c < c1; c++) {
                int p = c / ciChunks;
                int ci0 = (c - p * ciChunks) * FILTER_CHUNK;
                int len = Math.min(FILTER_CHUNK, cin - ci0);
                int panelRows = Math.min(mr, cout - p * mr);
                for (int r = 0; r < panelRows; r++) {
                    src.pack(0, 0, 1, ((p * mr + r) * cin + ci0) * 9, 9 * len, run, 0, 1, work);
                    for (int i = 0; i < len; i++) {
                        for (int tap = 0; tap < 9; tap++) {
                            planes[tap * FILTER_CHUNK + i] = run[9 * i + tap];
                        }
                    }
                    // half[a][kx] = Σ_ky G[a][ky]·g[ky][kx], then U[a][b] = Σ_kx G[b][kx]·half[a][kx]
                    for (int aa = 0; aa < alpha; aa++) {
                        for (int kx = 0; kx < 3; kx++) {
                            combine(gm[aa], planes, kx * FILTER_CHUNK, 3 * FILTER_CHUNK, half,
                                    (aa * 3 + kx) * FILTER_CHUNK, len);
                        }
                    }
                    for (int aa = 0; aa < alpha; aa++) {
                        for (int bb = 0; bb < alpha; bb++) {
                            combine(gm[bb], half, aa * 3 * FILTER_CHUNK, FILTER_CHUNK, rows,
                                    ((aa * alpha + bb) * mr + r) * FILTER_CHUNK, len);
                        }
                    }
                }
                for (int xi = 0; xi < points; xi++) {
                    MatrixPanels.packRows(rows, xi * mr * FILTER_CHUNK, FILTER_CHUNK, panelRows, len, u,
                            prepacked.offset(xi, p * mr, ci0), mr);
                }
            }
        });
        return prepacked;
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
}
