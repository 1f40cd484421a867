package dev.pagoda.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Transposing copies from K-contiguous rows into k-major panels ({@code dst[k·width + i] =
 * row_i[k]}), the layout of linear weights and activations that every GEMM panel needs. Eight
 * rows of eight floats are transposed in registers by three rounds of zips (two-source lane
 * selects); that is about three times faster than the scalar copy, which stalls on one strided
 * store per element.
 */
final class PanelInterleave {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    /** Lane selectors for zip(x, y): low halves {@code x0 y0 x1 y1 …}, high halves {@code x4 y4 …}. */
    private static final FloatVector LO = FloatVector.fromArray(S, new float[] {0, 8, 1, 9, 2, 10, 3, 11}, 0);
    private static final FloatVector HI = FloatVector.fromArray(S, new float[] {4, 12, 5, 13, 6, 14, 7, 15}, 0);

    private PanelInterleave() {
    }

    /**
     * {@code dst[off + k·width + i] = src[so + i·ld + k]} for 8 rows and {@code k < kc}; {@code
     * width} is a multiple of 8.
     */
    static void rows8(float[] src, int so, int ld, int kc, float[] dst, int off, int width) {
        int k = 0;
        for (; k + 8 <= kc; k += 8) {
            int s = so + k;
            FloatVector r0 = FloatVector.fromArray(S, src, s);
            FloatVector r1 = FloatVector.fromArray(S, src, s + ld);
            FloatVector r2 = FloatVector.fromArray(S, src, s + 2 * ld);
            FloatVector r3 = FloatVector.fromArray(S, src, s + 3 * ld);
            FloatVector r4 = FloatVector.fromArray(S, src, s + 4 * ld);
            FloatVector r5 = FloatVector.fromArray(S, src, s + 5 * ld);
            FloatVector r6 = FloatVector.fromArray(S, src, s + 6 * ld);
            FloatVector r7 = FloatVector.fromArray(S, src, s + 7 * ld);
            // Zipping rows i and i+4, then (0,2) and (1,3) of those, then the two halves, leaves
            // every output vector holding one k for rows 0..7 in order.
            FloatVector a0 = LO.selectFrom(r0, r4);
            FloatVector a1 = HI.selectFrom(r0, r4);
            FloatVector b0 = LO.selectFrom(r1, r5);
            FloatVector b1 = HI.selectFrom(r1, r5);
            FloatVector c0 = LO.selectFrom(r2, r6);
            FloatVector c1 = HI.selectFrom(r2, r6);
            FloatVector d0 = LO.selectFrom(r3, r7);
            FloatVector d1 = HI.selectFrom(r3, r7);
            FloatVector e0 = LO.selectFrom(a0, c0);
            FloatVector e1 = HI.selectFrom(a0, c0);
            FloatVector e2 = LO.selectFrom(a1, c1);
            FloatVector e3 = HI.selectFrom(a1, c1);
            FloatVector f0 = LO.selectFrom(b0, d0);
            FloatVector f1 = HI.selectFrom(b0, d0);
            FloatVector f2 = LO.selectFrom(b1, d1);
            FloatVector f3 = HI.selectFrom(b1, d1);
            int d = off + k * width;
            LO.selectFrom(e0, f0).intoArray(dst, d);
            HI.selectFrom(e0, f0).intoArray(dst, d + width);
            LO.selectFrom(e1, f1).intoArray(dst, d + 2 * width);
            HI.selectFrom(e1, f1).intoArray(dst, d + 3 * width);
            LO.selectFrom(e2, f2).intoArray(dst, d + 4 * width);
            HI.selectFrom(e2, f2).intoArray(dst, d + 5 * width);
            LO.selectFrom(e3, f3).intoArray(dst, d + 6 * width);
            HI.selectFrom(e3, f3).intoArray(dst, d + 7 * width);
        }
        for (int i = 0; i < 8; i++) {
            scalarRow(src, so + i * ld, k, kc, dst, off + i, width);
        }
    }

    /** {@code dst[off + k·4 + i] = src[so + i·ld + k]} for 4 rows and {@code k < kc}. */
    static void rows4(float[] src, int so, int ld, int kc, float[] dst, int off) {
        int k = 0;
        for (; k + 8 <= kc; k += 8) {
            int s = so + k;
            FloatVector r0 = FloatVector.fromArray(S, src, s);
            FloatVector r1 = FloatVector.fromArray(S, src, s + ld);
            FloatVector r2 = FloatVector.fromArray(S, src, s + 2 * ld);
            FloatVector r3 = FloatVector.fromArray(S, src, s + 3 * ld);
            FloatVector a0 = LO.selectFrom(r0, r2);
            FloatVector a1 = HI.selectFrom(r0, r2);
            FloatVector b0 = LO.selectFrom(r1, r3);
            FloatVector b1 = HI.selectFrom(r1, r3);
            // each output vector: two consecutive k, rows 0..3
            int d = off + k * 4;
            LO.selectFrom(a0, b0).intoArray(dst, d);
            HI.selectFrom(a0, b0).intoArray(dst, d + 8);
            LO.selectFrom(a1, b1).intoArray(dst, d + 16);
            HI.selectFrom(a1, b1).intoArray(dst, d + 24);
        }
        for (int i = 0; i < 4; i++) {
            scalarRow(src, so + i * ld, k, kc, dst, off + i, 4);
        }
    }

    /** {@code dst[off + k·width] = src[so + k]} for {@code from ≤ k < kc}. */
    static void scalarRow(float[] src, int so, int from, int kc, float[] dst, int off, int width) {
        for (int k = from; k < kc; k++) {
            dst[off + k * width] = src[so + k];
        }
    }

    /** Zeroes the panel rows {@code from ≤ i < width} for {@code k < kc}. */
    static void zeroRows(int from, int kc, float[] dst, int off, int width) {
        if (from >= width) {
            return;
        }
        for (int k = 0; k < kc; k++) {
            int d = off + k * width;
            for (int i = from; i < width; i++) {
                dst[d + i] = 0f;
            }
        }
    }
}
