package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.FloatArrayStorage;
import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * A strided tensor operand of the GEMM: matrix {@code b} starts at element {@code batchOffsets[b]}
 * and element {@code (i, k)} lies {@code i·rowStride + k·kStride} further. Heap F32 arrays are read
 * in place; memory segments (F32, F16 or BF16 weights, e.g. slices of a mapped safetensors file)
 * are widened to F32 a few rows at a time while packing, never as a whole.
 *
 * <p>Two layouts are fast: K-contiguous rows ({@code kStride == 1}: linear weights, activations),
 * transposed in registers, and row-contiguous columns ({@code rowStride == 1}: the B of a
 * row-major matmul, a transposed A), copied as runs. Anything else takes a scalar gather.
 */
final class MatrixPanels implements PanelSource {

    private final float[] array;
    private final MemorySegment segment;
    private final DType dtype;
    private final long[] batchOffsets;
    private final long rowStride;
    private final long kStride;

    /**
     * @param t a tensor on the heap (F32) or in a memory segment (F32, F16, BF16); only its storage
     *          is used, the matrix geometry comes from the other arguments
     */
    MatrixPanels(Tensor t, long[] batchOffsets, long rowStride, long kStride) {
        if (t.storage() instanceof FloatArrayStorage heap) {
            this.array = heap.data();
            this.segment = null;
        } else if (t.storage() instanceof SegmentStorage(MemorySegment seg)) {
            this.array = null;
            this.segment = seg;
        } else {
            throw new IllegalArgumentException("GEMM operand " + t + " is neither a heap nor a segment tensor");
        }
        this.dtype = t.dtype();
        this.batchOffsets = batchOffsets;
        this.rowStride = rowStride;
        this.kStride = kStride;
    }

    @Override
    public void pack(int batch, int row0, int rows, int k0, int kc, float[] dst, int off, int width,
            PackedGemm.Workspace ws) {
        long base = batchOffsets[batch] + row0 * rowStride + k0 * kStride;
        if (array != null) {
            if (kStride == 1) {
                packRows(array, (int) base, (int) rowStride, rows, kc, dst, off, width);
            } else if (rowStride == 1 || rows == 1) {
                packColumns(base, rows, kc, dst, off, width);
            } else {
                gather(base, rows, kc, dst, off, width);
            }
        } else if (kStride == 1) {
            // widen the rows into a dense scratch, then transpose from there like a heap operand
            float[] stage = ws.stage;
            for (int i = 0; i < rows; i++) {
                widen(base + i * rowStride, kc, stage, i * kc, ws.halves);
            }
            packRows(stage, 0, kc, rows, kc, dst, off, width);
        } else if (rowStride == 1 || rows == 1) {
            for (int k = 0; k < kc; k++) {
                widen(base + k * kStride, rows, dst, off + k * width, ws.halves);
            }
            PanelInterleave.zeroRows(rows, kc, dst, off, width);
        } else {
            gather(base, rows, kc, dst, off, width);
        }
    }

    /** {@code dst[off + k·width + i] = src[so + i·ld + k]} for {@code i < rows, k < kc}, zero for rows ≤ i < width. */
    static void packRows(float[] src, int so, int ld, int rows, int kc, float[] dst, int off, int width) {
        int i = 0;
        if ((width & 7) == 0) {
            for (; i + 8 <= rows; i += 8) {
                PanelInterleave.rows8(src, so + i * ld, ld, kc, dst, off + i, width);
            }
        } else if (width == 4 && rows == 4) {
            PanelInterleave.rows4(src, so, ld, kc, dst, off);
            i = 4;
        }
        for (; i < rows; i++) {
            PanelInterleave.scalarRow(src, so + i * ld, 0, kc, dst, off + i, width);
        }
        PanelInterleave.zeroRows(rows, kc, dst, off, width);
    }

    private void packColumns(long base, int rows, int kc, float[] dst, int off, int width) {
        float[] src = array;
        for (int k = 0; k < kc; k++) {
            int s = (int) (base + k * kStride);
            int d = off + k * width;
            for (int i = 0; i < rows; i++) {
                dst[d + i] = src[s + i];
            }
            for (int i = rows; i < width; i++) {
                dst[d + i] = 0f;
            }
        }
    }

    private void gather(long base, int rows, int kc, float[] dst, int off, int width) {
        for (int k = 0; k < kc; k++) {
            int d = off + k * width;
            long s = base + k * kStride;
            for (int i = 0; i < rows; i++) {
                dst[d + i] = get(s + i * rowStride);
            }
            for (int i = rows; i < width; i++) {
                dst[d + i] = 0f;
            }
        }
    }

    private float get(long index) {
        if (array != null) {
            return array[(int) index];
        }
        return switch (dtype) {
            case F32 -> segment.get(SegmentStorage.F32, index * 4);
            case F16 -> Float.float16ToFloat(segment.get(SegmentStorage.U16, index * 2));
            case BF16 -> DType.bf16ToFloat(segment.get(SegmentStorage.U16, index * 2));
            default -> throw new IllegalStateException("GEMM operand of dtype " + dtype);
        };
    }

    /** Widens {@code count} consecutive segment elements from element {@code index} into {@code out}. */
    private void widen(long index, int count, float[] out, int outOff, short[] halves) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(segment, SegmentStorage.F32, index * 4, out, outOff, count);
            case F16 -> {
                MemorySegment.copy(segment, SegmentStorage.U16, index * 2, halves, 0, count);
                for (int j = 0; j < count; j++) {
                    out[outOff + j] = Float.float16ToFloat(halves[j]);
                }
            }
            case BF16 -> {
                MemorySegment.copy(segment, SegmentStorage.U16, index * 2, halves, 0, count);
                for (int j = 0; j < count; j++) {
                    out[outOff + j] = Float.intBitsToFloat(halves[j] << 16);
                }
            }
            default -> throw new IllegalStateException("GEMM operand of dtype " + dtype);
        }
    }
}
