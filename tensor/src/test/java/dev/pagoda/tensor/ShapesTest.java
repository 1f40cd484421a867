package dev.pagoda.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShapesTest {

    @Test
    void broadcastFollowsNumpy() {
        assertArrayEquals(new int[] {2, 3, 4}, Shapes.broadcast("op", new int[] {2, 3, 4}, new int[] {4}));
        assertArrayEquals(new int[] {2, 3, 4}, Shapes.broadcast("op", new int[] {3, 1}, new int[] {2, 1, 4}));
        assertArrayEquals(new int[] {5, 7}, Shapes.broadcast("op", new int[] {}, new int[] {5, 7}));
        assertArrayEquals(new int[] {}, Shapes.broadcast("op", new int[] {}, new int[] {}));
        // a size-1 dimension broadcasts to 0; 0 against 1 stays 0
        assertArrayEquals(new int[] {0, 3}, Shapes.broadcast("op", new int[] {1, 3}, new int[] {0, 1}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Shapes.broadcast("mul", new int[] {2, 3}, new int[] {4, 3}));
        assertEquals("mul: shapes [2, 3] and [4, 3] do not broadcast", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shapes.broadcast("add", new int[] {0}, new int[] {2}));
    }

    @Test
    void numelAndStrides() {
        assertEquals(1, Shapes.numel(new int[] {}));
        assertEquals(0, Shapes.numel(new int[] {3, 0, 5}));
        assertEquals(1L << 40, Shapes.numel(new int[] {1 << 20, 1 << 20}));
        assertArrayEquals(new long[] {20, 5, 1}, Shapes.contiguousStrides(new int[] {3, 4, 5}));
        assertArrayEquals(new long[] {}, Shapes.contiguousStrides(new int[] {}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Shapes.numel(new int[] {2, -1}));
        assertTrue(e.getMessage().contains("[2, -1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Shapes.numel(new int[] {1 << 30, 1 << 30, 1 << 30}));
        assertTrue(e.getMessage().contains("overflow"), e.getMessage());
    }

    @Test
    void incrementWalksRowMajor() {
        int[] shape = {2, 3};
        int[] idx = new int[2];
        StringBuilder seen = new StringBuilder();
        do {
            seen.append(idx[0]).append(idx[1]).append(' ');
        } while (Shapes.increment(idx, shape));
        assertEquals("00 01 02 10 11 12 ", seen.toString());
        assertArrayEquals(new int[] {0, 0}, idx);
        assertFalse(Shapes.increment(new int[0], new int[0]));
    }

    @Test
    void inferReshape() {
        assertArrayEquals(new int[] {3, 8}, Shapes.inferReshape(new int[] {2, 3, 4}, new int[] {3, -1}));
        assertArrayEquals(new int[] {}, Shapes.inferReshape(new int[] {1, 1}, new int[] {}));
        assertArrayEquals(new int[] {0, 7}, Shapes.inferReshape(new int[] {7, 0}, new int[] {0, 7}));
        assertThrows(IllegalArgumentException.class, () -> Shapes.inferReshape(new int[] {7, 0}, new int[] {-1, 0}));
        assertThrows(IllegalArgumentException.class, () -> Shapes.inferReshape(new int[] {6}, new int[] {4, -1}));
    }

    @Test
    void requireSameNamesTheOp() {
        Shapes.requireSame("op", new int[] {1, 2}, new int[] {1, 2});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Shapes.requireSame("attention", new int[] {1, 2}, new int[] {2, 1}));
        assertEquals("attention: shapes [1, 2] and [2, 1] differ", e.getMessage());
    }
}
