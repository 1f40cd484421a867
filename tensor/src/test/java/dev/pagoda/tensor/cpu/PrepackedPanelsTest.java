package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.pagoda.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The in-place A operand of {@link PackedGemm} and the reused {@link ScratchArray}. */
@ExtendWith(RestoresThreads.class)
class PrepackedPanelsTest {

    /**
     * Panels read in place give the same bits as the same matrices packed from a plain row-major
     * operand: 3 batches of 37 rows (a partial last panel for both kernels) over K = 700 (two K
     * blocks) and N = 45, on one and two threads.
     */
    @Test
    void inPlacePanelsMatchPackedRows() {
        Random rnd = new Random(7);
        int batches = 3;
        int m = 37;
        int k = 700;
        int n = 45;
        float[] a = GemmTest.random(rnd, batches, m, k).toFloatArray();
        Tensor bt = GemmTest.random(rnd, batches, n, k);
        long[] aOffsets = new long[batches];
        long[] bOffsets = new long[batches];
        int[] cOffsets = new int[batches];
        for (int b = 0; b < batches; b++) {
            aOffsets[b] = (long) b * m * k;
            bOffsets[b] = (long) b * n * k;
            cOffsets[b] = b * m * n;
        }
        MatrixPanels rows = new MatrixPanels(Tensor.of(a, a.length), aOffsets, k, 1);
        MatrixPanels bs = new MatrixPanels(bt, bOffsets, k, 1);
        for (MicroKernel kernel : GemmTest.kernels()) {
            int mr = kernel.mr();
            float[] packed = new float[batches * PrepackedPanels.batchFloats(mr, m, k)];
            java.util.Arrays.fill(packed, Float.NaN); // every float, padding included, must be written
            PrepackedPanels panels = new PrepackedPanels(packed, mr, m, k, batches);
            for (int b = 0; b < batches; b++) {
                for (int r0 = 0; r0 < m; r0 += mr) {
                    MatrixPanels.packRows(a, b * m * k + r0 * k, k, Math.min(mr, m - r0), k, packed,
                            panels.offset(b, r0, 0), mr);
                }
            }
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                float[] expect = new float[batches * m * n];
                float[] got = new float[batches * m * n];
                PackedGemm.multiply(kernel, rows, bs, batches, m, n, k, expect, cOffsets, n, null, false);
                PackedGemm.multiply(kernel, panels, bs, batches, m, n, k, got, cOffsets, n, null, false);
                assertArrayEquals(expect, got, kernel + ", " + threads + " threads");
                // the copying path (a panel asked for by width) gives the same bits as well
                float[] copy = new float[mr * 5];
                panels.pack(2, mr * (m / mr), m % mr, 695, 5, copy, 0, mr, null);
                float[] ref = new float[mr * 5];
                rows.pack(2, mr * (m / mr), m % mr, 695, 5, ref, 0, mr, null);
                assertArrayEquals(ref, copy);
            }
        }
    }

    @Test
    void mismatchedGeometryIsRejected() {
        GemmTest.assertMessage(() -> new PrepackedPanels(new float[100], 8, 9, 5, 2), "prepacked", "160");
        PrepackedPanels p = new PrepackedPanels(new float[160], 8, 9, 5, 2);
        GemmTest.assertMessage(() -> p.pack(0, 0, 8, 0, 5, new float[64], 0, 4, null), "8 rows", "4-wide");
        GemmTest.assertMessage(() -> p.pack(0, 3, 5, 0, 5, new float[64], 0, 8, null), "row 3");
    }

    @Test
    void scratchIsReusedOnItsThreadAndGrows() throws Exception {
        ScratchArray scratch = new ScratchArray();
        float[] first = scratch.get(1000);
        assertEquals(1000, first.length);
        assertSame(first, scratch.get(10));
        float[] larger = scratch.get(1001);
        assertNotSame(first, larger);
        assertSame(larger, scratch.get(1001));
        float[][] other = new float[1][];
        Thread t = new Thread(() -> other[0] = scratch.get(10));
        t.start();
        t.join();
        assertNotSame(larger, other[0]);
        GemmTest.assertMessage(() -> scratch.get(1L << 31), "scratch", "2147483648");
    }
}
