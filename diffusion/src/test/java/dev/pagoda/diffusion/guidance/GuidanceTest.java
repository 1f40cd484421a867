package dev.pagoda.diffusion.guidance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pagoda.tensor.Tensor;
import org.junit.jupiter.api.Test;

class GuidanceTest {

    private static Tensor rows(float... perRow) {
        float[] v = new float[perRow.length * 2];
        for (int r = 0; r < perRow.length; r++) {
            v[2 * r] = perRow[r];
            v[2 * r + 1] = perRow[r] * 2;
        }
        return Tensor.of(v, perRow.length, 2);
    }

    @Test
    void layoutsFollowWhichGuidanceIsOn() {
        assertEquals(3, new Guidance(5f, 3f, 0f, 0f, true).rows());
        assertEquals(2, new Guidance(0f, 3f, 0f, 0f, true).rows());
        assertEquals(2, new Guidance(5f, 0f, 0f, 0f, true).rows());
        assertEquals(2, new Guidance(5f, 3f, 0f, 0f, false).rows());
        assertEquals(1, new Guidance(1f, 0f, 0f, 0f, true).rows());
        assertEquals(1, new Guidance(5f, 3f, 0f, 0f, true).perturbedRows(1));
        assertEquals(0, new Guidance(5f, 0f, 0f, 0f, true).perturbedRows(1));
    }

    @Test
    void cfgAndPagCombineAsDiffusers() {
        // u = 1, c = 2, p = 4: u + 5(c - u) + 3(c - p) = 1 + 5 - 6 = 0
        Tensor out = new Guidance(5f, 3f, 0f, 0f, true).combine(rows(1, 2, 4), 500f);
        assertArrayEquals(new float[] {0f, 0f}, out.toFloatArray());
        // PAG only: c + 3(c - p) = 2 - 6 = -4
        assertArrayEquals(new float[] {-4f, -8f}, new Guidance(0f, 3f, 0f, 0f, true).combine(rows(2, 4), 500f)
                .toFloatArray());
        // CFG only: 1 + 5(2 - 1) = 6
        assertArrayEquals(new float[] {6f, 12f}, new Guidance(5f, 0f, 0f, 0f, true).combine(rows(1, 2), 500f)
                .toFloatArray());
    }

    @Test
    void adaptiveScaleDecaysToZero() {
        Guidance g = new Guidance(5f, 3f, 0.004f, 0f, true);
        assertEquals(3f - 0.004f * (1000f - 999f), g.pagScaleAt(999f));
        assertEquals(0f, g.pagScaleAt(1f));
        assertEquals(3f, new Guidance(5f, 3f, 0f, 0f, true).pagScaleAt(1f));
    }

    @Test
    void rescaleMatchesTheStdRatio() {
        Guidance g = new Guidance(5f, 0f, 0f, 0.7f, true);
        Tensor out = Tensor.of(new float[] {0, 0, 1, -1}, 2, 2);
        // cfg = 0 + 5(c - 0) = (5, -5), std 7.07; text std 1.41 -> rescaled (1, -1); mix 0.7*1 + 0.3*5 = 2.2
        assertArrayEquals(new float[] {2.2f, -2.2f}, g.combine(out, 500f).toFloatArray(), 1e-5f);
    }

    @Test
    void negativeScalesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Guidance(-1f, 0f, 0f, 0f, true));
        assertThrows(IllegalArgumentException.class, () -> new Guidance(1f, Float.NaN, 0f, 0f, true));
    }
}
