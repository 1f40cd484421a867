package dev.pagoda.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UpsampleTest {

    private static final Backend B = Backend.cpu();

    private static float[] reference(float[] x, int n, int c, int h, int w) {
        float[] out = new float[n * c * 4 * h * w];
        for (int nc = 0; nc < n * c; nc++) {
            for (int y = 0; y < 2 * h; y++) {
                for (int z = 0; z < 2 * w; z++) {
                    out[(nc * 2 * h + y) * 2 * w + z] = x[(nc * h + y / 2) * w + z / 2];
                }
            }
        }
        return out;
    }

    @Test
    void repeatsEachPixelTwiceInBothDirections() {
        Random rng = new Random(1);
        int[][] shapes = {{1, 1, 1, 1}, {2, 3, 5, 7}, {1, 2, 3, 17}, {1, 1, 2, 16}, {2, 4, 33, 40}, {1, 8, 64, 64}};
        for (int[] s : shapes) {
            float[] x = Layouts.normal(rng, s[0] * s[1] * s[2] * s[3], 0, 1);
            Tensor out = B.upsampleNearest2x(Tensor.of(x.clone(), s));
            assertArrayEquals(new int[] {s[0], s[1], 2 * s[2], 2 * s[3]}, out.shape());
            float[] expected = reference(x, s[0], s[1], s[2], s[3]);
            assertArrayEquals(expected, out.toFloatArray());
            assertArrayEquals(expected, B.upsampleNearest2x(Layouts.transposed(x, s)).toFloatArray());
            assertArrayEquals(expected, B.upsampleNearest2x(Layouts.padded(x, s)).toFloatArray());
            Tensor half = Layouts.ofDtype(DType.F16, x, s);
            assertArrayEquals(reference(half.toFloatArray(), s[0], s[1], s[2], s[3]),
                    B.upsampleNearest2x(half).toFloatArray());
        }
    }

    @Test
    void rejectsNonImages() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> B.upsampleNearest2x(Tensor.zeros(3, 4, 4)));
        assertTrue(e.getMessage().contains("upsampleNearest2x") && e.getMessage().contains("[3, 4, 4]"), e.getMessage());
        assertArrayEquals(new int[] {0, 3, 8, 8}, B.upsampleNearest2x(Tensor.zeros(0, 3, 4, 4)).shape());
    }
}
