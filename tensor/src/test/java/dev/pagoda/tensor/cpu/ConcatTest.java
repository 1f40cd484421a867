package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ConcatTest {

    private static final Backend B = Backend.cpu();

    /** Reference: element by element through the public accessors. */
    private static float[] reference(int dim, Tensor... xs) {
        int[] shape = xs[0].shape();
        int d = dim < 0 ? dim + shape.length : dim;
        shape[d] = 0;
        for (Tensor x : xs) {
            shape[d] += x.dim(d);
        }
        float[] out = new float[Math.toIntExact(Shapes.numel(shape))];
        int[] idx = new int[shape.length];
        for (int i = 0; i < out.length; i++) {
            int k = 0;
            int pos = idx[d];
            while (pos >= xs[k].dim(d)) {
                pos -= xs[k].dim(d);
                k++;
            }
            int[] local = idx.clone();
            local[d] = pos;
            out[i] = xs[k].getFloat(local);
            Shapes.increment(idx, shape);
        }
        return out;
    }

    private static Tensor random(Random rng, int... shape) {
        return Tensor.of(Layouts.normal(rng, Math.toIntExact(Shapes.numel(shape)), 0, 1), shape);
    }

    @Test
    void concatenatesAlongEveryDimension() {
        Random rng = new Random(1);
        for (int dim = -3; dim < 3; dim++) {
            int d = dim < 0 ? dim + 3 : dim;
            int[] s1 = {2, 3, 5};
            int[] s2 = {2, 3, 5};
            int[] s3 = {2, 3, 5};
            s1[d] = 1;
            s2[d] = 4;
            s3[d] = 0;   // an empty input contributes nothing
            Tensor a = random(rng, s1);
            Tensor b = random(rng, s2);
            Tensor c = Tensor.zeros(s3);
            Tensor out = B.concat(dim, a, b, c);
            int[] expectedShape = {2, 3, 5};
            expectedShape[d] = 5;
            assertArrayEquals(expectedShape, out.shape());
            assertTrue(out.isHeapF32());
            assertArrayEquals(reference(dim, a, b, c), out.toFloatArray(), "dim " + dim);
        }
    }

    @Test
    void acceptsStridedViewsAndLongRuns() {
        Random rng = new Random(2);
        float[] av = Layouts.normal(rng, 2 * 7 * 9, 0, 1);
        Tensor a = Layouts.transposed(av, 2, 7, 9);
        Tensor b = Layouts.padded(Layouts.normal(rng, 2 * 3 * 9, 0, 1), 2, 3, 9);
        assertArrayEquals(reference(1, a, b), B.concat(1, a, b).toFloatArray());
        assertArrayEquals(reference(-1, a, a), B.concat(-1, a, a).toFloatArray());
        // batch 1, channel concat of SDXL-like skip connections: rows longer than one copy piece
        Tensor x = random(rng, 1, 5, 100, 150);
        Tensor y = random(rng, 1, 3, 100, 150);
        assertArrayEquals(reference(1, x, y), B.concat(1, x, y).toFloatArray());
        Tensor single = B.concat(0, x);
        assertArrayEquals(x.toFloatArray(), single.toFloatArray());
        assertTrue(single.storage() != x.storage(), "concat returns a new tensor");
    }

    @Test
    void keepsACommonDtypeAndWidensMixedFloats() {
        Random rng = new Random(3);
        float[] v = Layouts.normal(rng, 12, 0, 1);
        Tensor h1 = Layouts.ofDtype(DType.F16, v, 3, 4);
        Tensor h2 = Layouts.ofDtype(DType.F16, v, 3, 4);
        Tensor hh = B.concat(0, h1, h2);
        assertEquals(DType.F16, hh.dtype());
        assertArrayEquals(reference(0, h1, h2), hh.toFloatArray());

        Tensor f = Tensor.of(v.clone(), 3, 4);
        Tensor mixed = B.concat(1, f, h1, Layouts.ofDtype(DType.BF16, v, 3, 4));
        assertEquals(DType.F32, mixed.dtype());
        assertArrayEquals(reference(1, f, h1, Layouts.ofDtype(DType.BF16, v, 3, 4)), mixed.toFloatArray());

        Tensor ids = B.concat(0, Tensor.ofLongs(new long[] {1, 2}, 2), Tensor.ofLongs(new long[] {1L << 40}, 1));
        assertEquals(DType.I64, ids.dtype());
        assertArrayEquals(new long[] {1, 2, 1L << 40}, ids.toLongArray());

        // an F32 tensor living in a memory segment (a mapped weight) next to heap activations
        MemorySegment seg = Arena.ofAuto().allocate(12 * 4, 8);
        for (int i = 0; i < 12; i++) {
            seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i, v[i]);
        }
        Tensor mapped = Tensor.wrap(seg, DType.F32, 3, 4);
        assertArrayEquals(reference(0, f, mapped), B.concat(0, f, mapped).toFloatArray());
    }

    @Test
    void badInputsAreReportedWithShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> B.concat(1, Tensor.zeros(2, 3, 4), Tensor.zeros(2, 5, 3)));
        assertTrue(e.getMessage().contains("concat") && e.getMessage().contains("[2, 3, 4]")
                && e.getMessage().contains("[2, 5, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> B.concat(0, Tensor.zeros(2, 3), Tensor.zeros(3)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> B.concat(2, Tensor.zeros(2, 3)));
        assertTrue(e.getMessage().contains("dimension 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> B.concat(0));
        assertThrows(IllegalArgumentException.class, () -> B.concat(0, Tensor.scalar(1f), Tensor.scalar(2f)));
        e = assertThrows(IllegalArgumentException.class,
                () -> B.concat(0, Tensor.zeros(2), Tensor.ofLongs(new long[] {1}, 1)));
        assertTrue(e.getMessage().contains("F32") && e.getMessage().contains("I64"), e.getMessage());
    }
}
