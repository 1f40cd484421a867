package dev.pagoda.tensor.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class NoiseReplayTest {

    @Test
    void handsOutRecordedDrawsInOrder() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 2, 3);
        Tensor b = Tensor.of(new float[] {7}, 1);
        NoiseReplay r = NoiseSource.replay(List.of(a, b));
        assertArrayEquals(a.toFloatArray(), r.next(1, 2, 3).toFloatArray());
        assertEquals(1, r.remaining());
        assertArrayEquals(new float[] {7}, r.next(1).toFloatArray());
        assertEquals(2, r.consumed());
    }

    @Test
    void returnsCopiesSoCallersMayModifyThem() {
        Tensor a = Tensor.of(new float[] {1, 2}, 2);
        Tensor got = NoiseSource.replay(a).next(2);
        got.setFloat(42, 0);
        assertEquals(1, a.getFloat(0));
        assertTrue(got.isHeapF32());
    }

    @Test
    void recordedValuesAreCopiedWhenTheReplayIsBuilt() {
        float[] data = {1, 2};
        NoiseReplay r = NoiseSource.replay(Tensor.of(data, 2));
        data[0] = 99;
        assertArrayEquals(new float[] {1, 2}, r.next(2).toFloatArray());
    }

    @Test
    void widensHalfPrecisionRecordings() {
        Tensor h = Tensor.of(new float[] {0.5f, -2f}, 2).to(DType.F16);
        assertArrayEquals(new float[] {0.5f, -2f}, NoiseSource.replay(h).next(2).toFloatArray());
    }

    @Test
    void shapeMismatchNamesTheDrawAndBothShapes() {
        NoiseReplay r = NoiseSource.replay(Tensor.zeros(1, 4, 16, 16));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.next(1, 4, 8, 8));
        assertTrue(e.getMessage().contains("draw #0"), e.getMessage());
        assertTrue(e.getMessage().contains("[1, 4, 8, 8]"), e.getMessage());
        assertTrue(e.getMessage().contains("[1, 4, 16, 16]"), e.getMessage());
        assertEquals(0, r.consumed());
    }

    @Test
    void exhaustionIsAClearError() {
        NoiseReplay r = NoiseSource.replay(Tensor.zeros(2));
        r.next(2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> r.next(2));
        assertTrue(e.getMessage().contains("exhausted"), e.getMessage());
        assertTrue(e.getMessage().contains("draw #1"), e.getMessage());
    }

    @Test
    void integerRecordingsAreRejected() {
        Tensor ints = Tensor.ofInts(new int[] {1, 2}, 2);
        assertThrows(IllegalArgumentException.class, () -> NoiseSource.replay(ints));
    }

    @Test
    void seededSourceIsTheTorchGenerator() {
        assertArrayEquals(new TorchGenerator(42).randn(1, 4, 8, 8).toFloatArray(),
                NoiseSource.seeded(42).next(1, 4, 8, 8).toFloatArray());
    }
}
