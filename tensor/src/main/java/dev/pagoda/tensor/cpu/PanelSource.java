package dev.pagoda.tensor.cpu;

/**
 * One operand of {@link PackedGemm}, seen as a batch of {@code [rows × K]} matrices {@code X_b} (for
 * A: rows are the M rows; for B: rows are the N columns, i.e. {@code Bᵀ}). The GEMM never reads an
 * operand directly: it asks for panels, so a strided view, a half-precision weight or a convolution
 * input (whose "matrix" is its im2col patches) is widened and laid out exactly once per panel.
 */
interface PanelSource {

    /**
     * Writes {@code dst[off + k·width + i] = X_batch[row0 + i][k0 + k]} for {@code i < rows} and
     * {@code k < kc}, and zero for {@code rows ≤ i < width}, so that edge tiles compute on zeros.
     */
    void pack(int batch, int row0, int rows, int k0, int kc, float[] dst, int off, int width,
            PackedGemm.Workspace ws);
}
