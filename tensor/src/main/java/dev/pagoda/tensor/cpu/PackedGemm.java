package dev.pagoda.tensor.cpu;

/**
 * The one GEMM behind linear, matmul, convolution and attention: BLIS-style blocking over packed
 * panels. For every K block of at most {@link #KC_MAX} a task packs a block of B (up to {@link
 * #NC_MAX} columns, kept in L2), then for each {@code mr}-row panel of A (packed into L1) sweeps the
 * B panels with the {@link MicroKernel}.
 *
 * <p>Work is split over batches, N blocks and M chunks, never over K, and the K blocking depends on
 * K alone: every output element is summed in the same order whatever the thread count, so results
 * are bit-identical with 1 or many threads.
 */
final class PackedGemm {

    /** K block: an A panel (8×320 floats) stays in L1, a B block (320×640) in L2. */
    static final int KC_MAX = 320;
    /** N block, a multiple of every kernel's {@code nr}. */
    static final int NC_MAX = 640;
    /** Below this many flops the whole product runs on the calling thread. */
    private static final long SERIAL_FLOPS = 1L << 20;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /** Per-thread packing buffers, reused across calls so that the hot loops allocate nothing. */
    static final class Workspace {
        final float[] a = new float[8 * KC_MAX];
        final float[] b = new float[KC_MAX * NC_MAX];
        final float[] tile = new float[8 * 32];
        /** Rows of a segment operand widened to F32 before they are transposed into a panel. */
        final float[] stage = new float[32 * KC_MAX];
        final short[] halves = new short[Math.max(KC_MAX, 32)];
        /** Output-row runs of a convolution panel: (output row, first column, length, panel column). */
        final int[] runs = new int[4 * 32];
    }

    private PackedGemm() {
    }

    /**
     * For every batch {@code b < batches}: {@code C_b[m × n] (+)= A_b[m × k] · B_b[k × n] + colBias},
     * where {@code C_b} starts at {@code c[cOffsets[b]]} with row stride {@code ldc}, {@code A_b} is
     * {@code a}'s matrix {@code b} and {@code B_b} is the transpose of {@code bt}'s.
     *
     * @param colBias    null, or {@code n} values added to every row of C
     * @param accumulate add to the existing C instead of overwriting it
     */
    static void multiply(MicroKernel kernel, PanelSource a, PanelSource bt, int batches, int m, int n, int k,
            float[] c, int[] cOffsets, int ldc, float[] colBias, boolean accumulate) {
        if (batches == 0 || m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            fillWithoutProduct(batches, m, n, c, cOffsets, ldc, colBias, accumulate);
            return;
        }
        int mr = kernel.mr();
        int nr = kernel.nr();
        int kBlocks = ceilDiv(k, KC_MAX);
        int kcStep = Math.min(KC_MAX, roundUp(ceilDiv(k, kBlocks), 8));
        int ncStep = roundUp(ceilDiv(n, ceilDiv(n, NC_MAX)), nr);
        int nBlocks = ceilDiv(n, ncStep);
        int mPanels = ceilDiv(m, mr);

        boolean parallel = Parallel.threads() > 1 && 2.0 * m * n * k * batches > SERIAL_FLOPS;
        int mChunks = 1;
        long outer = (long) batches * nBlocks;
        if (parallel && outer < 2L * Parallel.threads()) {
            // Too few N blocks to keep every thread busy: split M as well; each chunk packs its own B block.
            mChunks = (int) Math.min(mPanels, ceilDiv(2 * Parallel.threads(), (int) outer));
        }
        int panelsPerChunk = ceilDiv(mPanels, mChunks);
        int chunks = ceilDiv(mPanels, panelsPerChunk);
        long taskCount = outer * chunks;
        if (taskCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("GEMM: too many tiles (" + taskCount + ")");
        }
        Parallel.RangeBody body = (start, end) -> {
            Workspace ws = WORKSPACE.get();
            for (int t = start; t < end; t++) {
                int chunk = t % chunks;
                int rest = t / chunks;
                int nb = rest % nBlocks;
                int batch = rest / nBlocks;
                int p0 = chunk * panelsPerChunk;
                int p1 = Math.min(mPanels, p0 + panelsPerChunk);
                int n0 = nb * ncStep;
                int n1 = Math.min(n, n0 + ncStep);
                block(kernel, a, bt, batch, m, n, k, kcStep, p0, p1, n0, n1, c, cOffsets[batch], ldc, colBias,
                        accumulate, ws);
            }
        };
        if (parallel) {
            Parallel.range((int) taskCount, 1, body);
        } else {
            body.run(0, (int) taskCount);
        }
    }

    /** C rows of A panels {@code [p0, p1)} times columns {@code [n0, n1)} of one batch. */
    private static void block(MicroKernel kernel, PanelSource a, PanelSource bt, int batch, int m, int n, int k,
            int kcStep, int p0, int p1, int n0, int n1, float[] c, int cBase, int ldc, float[] colBias,
            boolean accumulate, Workspace ws) {
        int mr = kernel.mr();
        int nr = kernel.nr();
        int nPanels = ceilDiv(n1 - n0, nr);
        float[] ap = ws.a;
        float[] bp = ws.b;
        for (int pc = 0; pc < k; pc += kcStep) {
            int kc = Math.min(kcStep, k - pc);
            boolean first = pc == 0;
            for (int jp = 0; jp < nPanels; jp++) {
                int col0 = n0 + jp * nr;
                bt.pack(batch, col0, Math.min(nr, n1 - col0), pc, kc, bp, jp * kc * nr, nr, ws);
            }
            for (int ip = p0; ip < p1; ip++) {
                int row0 = ip * mr;
                int rows = Math.min(mr, m - row0);
                a.pack(batch, row0, rows, pc, kc, ap, 0, mr, ws);
                int cRow = cBase + row0 * ldc;
                boolean acc = accumulate || !first;
                if (first && colBias != null) {
                    addBias(colBias, rows, n0, n1, c, cRow, ldc, accumulate);
                    acc = true;
                }
                for (int jp = 0; jp < nPanels; jp++) {
                    int col0 = n0 + jp * nr;
                    int cols = Math.min(nr, n1 - col0);
                    if (rows == mr && cols == nr) {
                        kernel.multiply(ap, 0, bp, jp * kc * nr, kc, c, cRow + col0, ldc, acc);
                    } else {
                        float[] tile = ws.tile;
                        kernel.multiply(ap, 0, bp, jp * kc * nr, kc, tile, 0, nr, false);
                        for (int i = 0; i < rows; i++) {
                            int d = cRow + i * ldc + col0;
                            for (int j = 0; j < cols; j++) {
                                c[d + j] = acc ? c[d + j] + tile[i * nr + j] : tile[i * nr + j];
                            }
                        }
                    }
                }
            }
        }
    }

    /** Seeds the C rows of one panel with the bias (before its first K block accumulates into them). */
    private static void addBias(float[] colBias, int rows, int n0, int n1, float[] c, int cRow, int ldc,
            boolean accumulate) {
        for (int i = 0; i < rows; i++) {
            int d = cRow + i * ldc;
            if (accumulate) {
                for (int j = n0; j < n1; j++) {
                    c[d + j] += colBias[j];
                }
            } else {
                System.arraycopy(colBias, n0, c, d + n0, n1 - n0);
            }
        }
    }

    private static void fillWithoutProduct(int batches, int m, int n, float[] c, int[] cOffsets, int ldc,
            float[] colBias, boolean accumulate) {
        for (int b = 0; b < batches; b++) {
            for (int i = 0; i < m; i++) {
                int d = cOffsets[b] + i * ldc;
                for (int j = 0; j < n; j++) {
                    float v = colBias == null ? 0f : colBias[j];
                    c[d + j] = accumulate ? c[d + j] + v : v;
                }
            }
        }
    }

    static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private static int roundUp(int x, int multiple) {
        return ceilDiv(x, multiple) * multiple;
    }
}
