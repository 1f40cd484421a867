package dev.pagoda.tensor.cpu;

/**
 * An A operand already in the GEMM's panel layout: matrix {@code b}'s rows {@code [p·mr, p·mr + mr)}
 * lie k-major at {@code data[b·batchStride + (p·k + kk)·mr + i]}, the last panel padded with zero
 * rows. {@link PackedGemm} reads such panels in place instead of copying them, which is what lets
 * {@link Winograd} write its transformed weights once and multiply every tile block against them.
 */
final class PrepackedPanels implements PanelSource {

    private final float[] data;
    private final int mr;
    private final int k;
    private final int batchStride;

    PrepackedPanels(float[] data, int mr, int rows, int k, int batches) {
        this.data = data;
        this.mr = mr;
        this.k = k;
        this.batchStride = batchFloats(mr, rows, k);
        if ((long) batchStride * batches > data.length) {
            throw new IllegalArgumentException("prepacked panels: " + batches + " × " + rows + " × " + k
                    + " (mr " + mr + ") need " + (long) batchStride * batches + " floats, have " + data.length);
        }
    }

    /** Floats one matrix of this layout takes: {@code ⌈rows / mr⌉·mr·k}. */
    static int batchFloats(int mr, int rows, int k) {
        return PackedGemm.ceilDiv(rows, mr) * mr * k;
    }

    float[] data() {
        return data;
    }

    int mr() {
        return mr;
    }

    /** Where the panel holding row {@code row0} (a multiple of mr) starts at column {@code k0}. */
    int offset(int batch, int row0, int k0) {
        return batch * batchStride + (row0 / mr * k + k0) * mr;
    }

    @Override
    public void pack(int batch, int row0, int rows, int k0, int kc, float[] dst, int off, int width,
            PackedGemm.Workspace ws) {
        if (width != mr || row0 % mr != 0) {
            throw new IllegalArgumentException("prepacked panels of " + mr + " rows asked for " + width
                    + "-wide panels at row " + row0);
        }
        System.arraycopy(data, offset(batch, row0, k0), dst, off, kc * mr);
    }
}
