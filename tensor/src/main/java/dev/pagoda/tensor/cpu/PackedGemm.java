package dev.pagoda.tensor.cpu;

/**
 * The one GEMM behind linear, matmul, convolution and attention: BLIS-style blocking over packed
 * panels. For every K block of at most {@link #KC_MAX}, a task packs its rows of A once (a block of
 * up to {@link #MC_MAX} rows), then, block by block of up to {@link #NC_MAX} columns, packs B and
 * sweeps it with the {@link MicroKernel} for each {@code mr}-row A panel (which stays in L1 during
 * the sweep).
 *
 * <p>Work is split over batches, M chunks and N ranges, never over K, and the K blocking depends on
 * K alone: every output element is summed in the same order whatever the thread count, so results
 * are bit-identical with 1 or many threads.
 */
final class PackedGemm {

    /**
     * K block. An A panel (8×640 floats, 20 KB) stays in L1 while the B block streams from L2.
     * Measured against 256 and 320: every C tile is reloaded once per K block, and halving those
     * reloads gained 3–6% at the SDXL shapes; 960 gained nothing more.
     */
    static final int KC_MAX = 640;
    /**
     * N block, a multiple of every kernel's {@code nr}. 256 columns keep the B block (256×640 floats,
     * 640 KB) inside a 1 MB L2 with room for the A panel and the C tiles; 640 (a 1.6 MB block) ran
     * 5–25% slower at every SDXL shape on a 2 MB-L2 Xeon, where L2 delivers B at the rate the two
     * 512-bit FMA ports consume it only when the block stays resident.
     */
    static final int NC_MAX = 256;
    /** Rows of A one task packs and keeps for all its N blocks. */
    static final int MC_MAX = 1024;
    /** Below this many flops the whole product runs on the calling thread. */
    private static final long SERIAL_FLOPS = 1L << 20;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /** This thread's buffers, for a packing pass outside a GEMM (the Winograd weight transform). */
    static Workspace workspace() {
        return WORKSPACE.get();
    }

    /** Per-thread packing buffers, reused across calls so that the hot loops allocate nothing. */
    static final class Workspace {
        final float[] a = new float[MC_MAX * KC_MAX];
        final float[] b = new float[KC_MAX * NC_MAX];
        final float[] tile = new float[8 * 32];
        /** Rows of a segment operand widened to F32 before they are transposed into a panel. */
        final float[] stage = new float[32 * KC_MAX];
        final short[] halves = new short[Math.max(KC_MAX, 32)];
        /** Output-row runs of a convolution panel: (output row, first column, length, panel column). */
        final int[] runs = new int[4 * 32];
        /** Per-tap offsets and clipping of a convolution panel (grows with the kernel size). */
        private int[] taps = new int[3 * 9];

        int[] taps(int n) {
            if (taps.length < n) {
                taps = new int[n];
            }
            return taps;
        }
    }

    /**
     * Values added to C ahead of the first K block, while each panel's rows are about to be loaded
     * anyway: {@code values[j]} along columns (linear), or {@code values[rowOffsets[b] + i]} along
     * the rows of batch {@code b} (a convolution's output channels).
     */
    record Bias(float[] values, boolean perRow, int[] rowOffsets) {

        static Bias columns(float[] values) {
            return values == null ? null : new Bias(values, false, null);
        }

        static Bias rows(float[] values, int[] rowOffsets) {
            return values == null ? null : new Bias(values, true, rowOffsets);
        }

        float at(int batch, int row, int col) {
            return perRow ? values[rowOffsets[batch] + row] : values[col];
        }
    }

    /** How one product is cut into tasks: {@code batches × mChunks × nRanges}. */
    private record Split(int panelsPerChunk, int mChunks, int colsPerRange, int nRanges) {
    }

    private PackedGemm() {
    }

    /**
     * For every batch {@code b < batches}: {@code C_b[m × n] (+)= A_b[m × k] · B_b[k × n] + bias},
     * where {@code C_b} starts at {@code c[cOffsets[b]]} with row stride {@code ldc}, {@code A_b} is
     * {@code a}'s matrix {@code b} and {@code B_b} is the transpose of {@code bt}'s.
     *
     * @param bias       null, or the bias to add
     * @param accumulate add to the existing C instead of overwriting it
     */
    static void multiply(MicroKernel kernel, PanelSource a, PanelSource bt, int batches, int m, int n, int k,
            float[] c, int[] cOffsets, int ldc, Bias bias, boolean accumulate) {
        if (batches == 0 || m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            fillWithoutProduct(batches, m, n, c, cOffsets, ldc, bias, accumulate);
            return;
        }
        int mr = kernel.mr();
        int nr = kernel.nr();
        int kcStep = Math.min(KC_MAX, roundUp(ceilDiv(k, ceilDiv(k, KC_MAX)), 8));
        int ncStep = roundUp(ceilDiv(n, ceilDiv(n, NC_MAX)), nr);
        boolean parallel = Parallel.threads() > 1 && 2.0 * m * n * k * batches > SERIAL_FLOPS;
        Split split = split(batches, ceilDiv(m, mr), ceilDiv(n, nr), mr, nr, parallel ? Parallel.threads() : 1);
        long taskCount = (long) batches * split.mChunks * split.nRanges;
        if (taskCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("GEMM: too many tiles (" + taskCount + ")");
        }
        Parallel.RangeBody body = (start, end) -> {
            Workspace ws = WORKSPACE.get();
            for (int t = start; t < end; t++) {
                int range = t % split.nRanges;
                int rest = t / split.nRanges;
                int chunk = rest % split.mChunks;
                int batch = rest / split.mChunks;
                int row0 = chunk * split.panelsPerChunk * mr;
                int row1 = Math.min(m, row0 + split.panelsPerChunk * mr);
                int col0 = range * split.colsPerRange;
                int col1 = Math.min(n, col0 + split.colsPerRange);
                task(kernel, a, bt, batch, k, kcStep, ncStep, row0, row1, col0, col1, c, cOffsets[batch], ldc, bias,
                        accumulate, ws);
            }
        };
        if (parallel && taskCount > 1) {
            Parallel.range((int) taskCount, 1, body);
        } else {
            body.run(0, (int) taskCount);
        }
    }

    /**
     * Cuts M into chunks of at most {@link #MC_MAX} rows and, when that leaves few tasks, cuts one
     * dimension further so that the task count is a multiple of the thread count: with a handful of
     * equal tasks, one left over keeps a thread idle for its whole length. Splitting M repacks B once
     * per chunk and splitting N repacks A once per range, so the larger of M and N is split, and no
     * more than needed (two tasks per thread measured 5–10% slower than one at M = 1024).
     */
    private static Split split(int batches, int mPanels, int nPanels, int mr, int nr, int threads) {
        int mChunks = ceilDiv(mPanels, MC_MAX / mr);
        int nRanges = 1;
        if (threads > 1 && (long) batches * mChunks < 8L * threads) {
            int unit = threads / gcd(batches, threads); // tasks per batch must be a multiple of this
            if ((long) mPanels * mr >= (long) nPanels * nr) {
                mChunks = Math.min(mPanels, roundUp(mChunks, unit));
            } else {
                nRanges = Math.min(nPanels, unit / gcd(mChunks, unit));
            }
        }
        int panelsPerChunk = ceilDiv(mPanels, mChunks);
        int panelsPerRange = ceilDiv(nPanels, nRanges);
        return new Split(panelsPerChunk, ceilDiv(mPanels, panelsPerChunk), panelsPerRange * nr,
                ceilDiv(nPanels, panelsPerRange));
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** Rows {@code [row0, row1)} × columns {@code [col0, col1)} of one batch's C. */
    private static void task(MicroKernel kernel, PanelSource a, PanelSource bt, int batch, int k, int kcStep,
            int ncStep, int row0, int row1, int col0, int col1, float[] c, int cBase, int ldc, Bias bias,
            boolean accumulate, Workspace ws) {
        int mr = kernel.mr();
        int nr = kernel.nr();
        int panels = ceilDiv(row1 - row0, mr);
        PrepackedPanels prepacked = a instanceof PrepackedPanels p && p.mr() == mr ? p : null;
        float[] ap = prepacked != null ? prepacked.data() : ws.a;
        float[] bp = ws.b;
        float[] tile = ws.tile;
        for (int pc = 0; pc < k; pc += kcStep) {
            int kc = Math.min(kcStep, k - pc);
            boolean first = pc == 0;
            boolean acc = accumulate || !first || bias != null;
            for (int n0 = col0; n0 < col1; n0 += ncStep) {
                int n1 = Math.min(col1, n0 + ncStep);
                int nPanels = ceilDiv(n1 - n0, nr);
                for (int jp = 0; jp < nPanels; jp++) {
                    int j0 = n0 + jp * nr;
                    bt.pack(batch, j0, Math.min(nr, n1 - j0), pc, kc, bp, jp * kc * nr, nr, ws);
                }
                for (int ip = 0; ip < panels; ip++) {
                    int i0 = row0 + ip * mr;
                    int rows = Math.min(mr, row1 - i0);
                    int ao;
                    if (prepacked != null) {
                        ao = prepacked.offset(batch, i0, pc);
                    } else {
                        ao = ip * mr * kc;
                        if (n0 == col0) {
                            a.pack(batch, i0, rows, pc, kc, ap, ao, mr, ws);
                        }
                    }
                    int cRow = cBase + i0 * ldc;
                    if (first && bias != null) {
                        addBias(bias, batch, i0, rows, n0, n1, c, cRow, ldc, accumulate);
                    }
                    for (int jp = 0; jp < nPanels; jp++) {
                        int j0 = n0 + jp * nr;
                        int cols = Math.min(nr, n1 - j0);
                        if (rows == mr && cols == nr) {
                            kernel.multiply(ap, ao, bp, jp * kc * nr, kc, c, cRow + j0, ldc, acc);
                        } else {
                            // Edge tile: compute it whole into scratch, keep the part inside C.
                            kernel.multiply(ap, ao, bp, jp * kc * nr, kc, tile, 0, nr, false);
                            for (int i = 0; i < rows; i++) {
                                int d = cRow + i * ldc + j0;
                                for (int j = 0; j < cols; j++) {
                                    c[d + j] = acc ? c[d + j] + tile[i * nr + j] : tile[i * nr + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Seeds C rows with the bias before the first K block accumulates into them. */
    private static void addBias(Bias bias, int batch, int row0, int rows, int n0, int n1, float[] c, int cRow,
            int ldc, boolean accumulate) {
        for (int i = 0; i < rows; i++) {
            int d = cRow + i * ldc;
            if (bias.perRow()) {
                float v = bias.at(batch, row0 + i, 0);
                for (int j = n0; j < n1; j++) {
                    c[d + j] = accumulate ? c[d + j] + v : v;
                }
            } else if (accumulate) {
                for (int j = n0; j < n1; j++) {
                    c[d + j] += bias.values()[j];
                }
            } else {
                System.arraycopy(bias.values(), n0, c, d + n0, n1 - n0);
            }
        }
    }

    private static void fillWithoutProduct(int batches, int m, int n, float[] c, int[] cOffsets, int ldc, Bias bias,
            boolean accumulate) {
        for (int b = 0; b < batches; b++) {
            for (int i = 0; i < m; i++) {
                int d = cOffsets[b] + i * ldc;
                for (int j = 0; j < n; j++) {
                    float v = bias == null ? 0f : bias.at(b, i, j);
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
