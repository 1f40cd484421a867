package dev.pagoda.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The B operand of a convolution as an implicit GEMM: row {@code p} of {@code Bᵀ} is output pixel
 * {@code p} (row-major over {@code H' × W'}), column {@code k} is patch element {@code (ci, ky, kx)}
 * of one group's input channels. Panels are cut straight from the input image, zero where the
 * patch overhangs the padding, so the {@code kh·kw}-times-larger im2col matrix never exists.
 */
final class Im2colPanels implements PanelSource {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private final float[] x;
    /** Offset of channel 0 of the group, image by image: one entry per GEMM batch. */
    private final long[] batchOffsets;
    private final int channelStride;
    private final int rowStride;
    private final int colStride;
    private final int height;
    private final int width;
    private final int kh;
    private final int kw;
    private final int stride;
    private final int padding;
    private final int outWidth;

    Im2colPanels(float[] x, long[] batchOffsets, int channelStride, int rowStride, int colStride, int height,
            int width, int kh, int kw, int stride, int padding, int outWidth) {
        this.x = x;
        this.batchOffsets = batchOffsets;
        this.channelStride = channelStride;
        this.rowStride = rowStride;
        this.colStride = colStride;
        this.height = height;
        this.width = width;
        this.kh = kh;
        this.kw = kw;
        this.stride = stride;
        this.padding = padding;
        this.outWidth = outWidth;
    }

    @Override
    public void pack(int batch, int row0, int rows, int k0, int kc, float[] dst, int off, int panelWidth,
            PackedGemm.Workspace ws) {
        // The panel's pixels fall into runs along output rows; find them once for all kc columns.
        int[] runs = ws.runs;
        int nRuns = 0;
        for (int j = 0, p = row0; j < rows; nRuns++) {
            int oy = p / outWidth;
            int ox = p - oy * outWidth;
            int len = Math.min(rows - j, outWidth - ox);
            runs[4 * nRuns] = oy;
            runs[4 * nRuns + 1] = ox;
            runs[4 * nRuns + 2] = len;
            runs[4 * nRuns + 3] = j;
            j += len;
            p += len;
        }
        int base = (int) batchOffsets[batch];
        boolean unitStep = stride == 1 && colStride == 1;
        if (nRuns == 1 && unitStep) {
            packOneRow(base, runs[0], runs[1], rows, k0, kc, dst, off, panelWidth, ws);
            return;
        }
        int khw = kh * kw;
        int ci = k0 / khw;
        int ky = (k0 - ci * khw) / kw;
        int kx = k0 - ci * khw - ky * kw;
        for (int kk = 0; kk < kc; kk++) {
            int d = off + kk * panelWidth;
            int plane = base + ci * channelStride;
            for (int r = 0; r < nRuns; r++) {
                int len = runs[4 * r + 2];
                int dj = d + runs[4 * r + 3];
                int iy = runs[4 * r] * stride + ky - padding;
                if (iy < 0 || iy >= height) {
                    zero(dst, dj, len);
                    continue;
                }
                int ix0 = runs[4 * r + 1] * stride + kx - padding;
                int src = plane + iy * rowStride + ix0 * colStride;
                if (unitStep) {
                    // columns t in [lo, hi) fall inside the image: 0 <= ix0 + t < width
                    int lo = Math.min(len, Math.max(0, -ix0));
                    int hi = Math.max(lo, Math.min(len, width - ix0));
                    zero(dst, dj, lo);
                    copy(x, src + lo, dst, dj + lo, hi - lo);
                    zero(dst, dj + hi, len - hi);
                    continue;
                }
                // the same with a step: 0 <= ix0 + t·stride < width
                int lo = ix0 >= 0 ? 0 : Math.min(len, (-ix0 + stride - 1) / stride);
                int hi = ix0 >= width ? 0 : Math.min(len, (width - ix0 + stride - 1) / stride);
                hi = Math.max(hi, lo);
                zero(dst, dj, lo);
                int step = stride * colStride;
                for (int t = lo; t < hi; t++) {
                    dst[dj + t] = x[src + t * step];
                }
                zero(dst, dj + hi, len - hi);
            }
            zero(dst, d + rows, panelWidth - rows);
            if (++kx == kw) {
                kx = 0;
                if (++ky == kh) {
                    ky = 0;
                    ci++;
                }
            }
        }
    }

    /**
     * The common case of a stride-1 convolution: all pixels of the panel lie on output row {@code oy}
     * from column {@code ox}. Every tap {@code (ky, kx)} then reads one run of an input row, clipped
     * the same way in every channel, so the clipping is worked out once per tap, not per column.
     */
    private void packOneRow(int base, int oy, int ox, int rows, int k0, int kc, float[] dst, int off,
            int panelWidth, PackedGemm.Workspace ws) {
        int khw = kh * kw;
        int[] taps = ws.taps(3 * khw);
        for (int ky = 0; ky < kh; ky++) {
            int iy = oy + ky - padding;
            boolean rowInside = iy >= 0 && iy < height;
            for (int kx = 0; kx < kw; kx++) {
                int t = 3 * (ky * kw + kx);
                int ix0 = ox + kx - padding;
                // pixels [lo, hi) of the run read inside the image; a row outside reads nothing
                int lo = rowInside ? Math.min(rows, Math.max(0, -ix0)) : rows;
                int hi = rowInside ? Math.max(lo, Math.min(rows, width - ix0)) : rows;
                taps[t] = iy * rowStride + ix0;
                taps[t + 1] = lo;
                taps[t + 2] = hi;
            }
        }
        int ci = k0 / khw;
        int t = 3 * (k0 - ci * khw);
        int plane = base + ci * channelStride;
        // One or two whole vectors cover a full panel (the kernels' nr is one or two vectors):
        // written out rather than looped, which C2 compiled 40% slower.
        int lanes = S.length();
        int vectors = rows != panelWidth ? 0 : rows == lanes ? 1 : rows == 2 * lanes ? 2 : 0;
        for (int kk = 0; kk < kc; kk++) {
            int d = off + kk * panelWidth;
            int lo = taps[t + 1];
            int hi = taps[t + 2];
            int src = plane + taps[t];
            if (vectors != 0 && lo == 0 && hi == rows) {
                FloatVector.fromArray(S, x, src).intoArray(dst, d);
                if (vectors == 2) {
                    FloatVector.fromArray(S, x, src + lanes).intoArray(dst, d + lanes);
                }
            } else if (vectors != 0) {
                // a window overhanging the padding: masked loads leave the outside lanes zero
                FloatVector.fromArray(S, x, src, S.indexInRange(-lo, hi - lo)).intoArray(dst, d);
                if (vectors == 2) {
                    FloatVector.fromArray(S, x, src + lanes, S.indexInRange(lanes - lo, hi - lo))
                            .intoArray(dst, d + lanes);
                }
            } else {
                zero(dst, d, lo);
                copy(x, src + lo, dst, d + lo, hi - lo);
                zero(dst, d + hi, rows - hi);
            }
            t += 3;
            if (t == 3 * khw) {
                t = 0;
                plane += channelStride;
            }
        }
        PanelInterleave.zeroRows(rows, kc, dst, off, panelWidth);
    }

    private static void copy(float[] src, int from, float[] dst, int to, int count) {
        int t = 0;
        for (; t + S.length() <= count; t += S.length()) {
            FloatVector.fromArray(S, src, from + t).intoArray(dst, to + t);
        }
        for (; t < count; t++) {
            dst[to + t] = src[from + t];
        }
    }

    private static void zero(float[] dst, int from, int count) {
        for (int i = 0; i < count; i++) {
            dst[from + i] = 0f;
        }
    }
}
