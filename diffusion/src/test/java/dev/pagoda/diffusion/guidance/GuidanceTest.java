package dev.pagoda.diffusion.guidance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.guidance.GuidedBatch.Term;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.tensor.Tensor;
import java.util.List;
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

    /** One self-attention module to stand for a PAG layer selection. */
    private static final List<Attention> LAYER = List.of(Attention.transformer(8, 0, 2, 4));

    private static GuidedBatch batch(Guidance g, int images) {
        return GuidedBatch.of(g, images, LAYER);
    }

    @Test
    void layoutsFollowWhichGuidanceIsOn() {
        assertEquals(List.of(Term.UNCOND, Term.COND, Term.PERTURBED), batch(new Guidance(5f, 3f, 0f, 0f, true), 1).terms());
        assertEquals(List.of(Term.COND, Term.PERTURBED), batch(new Guidance(0f, 3f, 0f, 0f, true), 1).terms());
        assertEquals(List.of(Term.UNCOND, Term.COND), batch(new Guidance(5f, 0f, 0f, 0f, true), 1).terms());
        assertEquals(List.of(Term.UNCOND, Term.COND), batch(new Guidance(5f, 3f, 0f, 0f, false), 1).terms());
        assertEquals(List.of(Term.COND), batch(new Guidance(1f, 0f, 0f, 0f, true), 1).terms());
        GuidedBatch b = batch(new Guidance(5f, 3f, 0f, 0f, true), 2);
        assertEquals(6, b.rows());
        assertEquals(2, b.pagPlan().perturbedRows());
        assertEquals(4, b.row(Term.PERTURBED, 0));
        assertArrayEquals(new boolean[] {false, false, false, false, true, true},
                b.pagPlan().identityRows(LAYER.get(0), 6));
        assertTrue(batch(new Guidance(5f, 0f, 0f, 0f, true), 2).pagPlan().isEmpty());
        assertThrows(IllegalArgumentException.class,
                () -> GuidedBatch.of(new Guidance(5f, 3f, 0f, 0f, true), 1, List.of()));
    }

    @Test
    void conditioningRowsFollowTheLayout() {
        GuidedBatch b = batch(new Guidance(5f, 3f, 0f, 0f, true), 2);
        Tensor neg = Tensor.of(new float[] {-1f}, 1, 1);
        Tensor pos = Tensor.of(new float[] {1f}, 1, 1);
        assertArrayEquals(new float[] {-1, -1, 1, 1, 1, 1}, b.conditioning(neg, pos).toFloatArray());
        // shared tensors (latents, time ids, ControlNet images) repeat per term; [images, ...] keeps its rows
        Tensor lat = Tensor.of(new float[] {7f, 8f}, 2, 1);
        assertArrayEquals(new float[] {7, 8, 7, 8, 7, 8}, b.repeat(lat).toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> b.repeat(Tensor.zeros(3, 1)));
        assertThrows(IllegalArgumentException.class, () -> b.conditioning(null, pos));
        Tensor out = Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 6, 1);
        assertArrayEquals(new float[] {4, 5}, b.term(out, Term.PERTURBED).toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> b.combine(Tensor.zeros(3, 1), 500f));
    }

    @Test
    void cfgAndPagCombineAsDiffusers() {
        // u = 1, c = 2, p = 4: u + 5(c - u) + 3(c - p) = 1 + 5 - 6 = 0
        Tensor out = batch(new Guidance(5f, 3f, 0f, 0f, true), 1).combine(rows(1, 2, 4), 500f);
        assertArrayEquals(new float[] {0f, 0f}, out.toFloatArray());
        // PAG only: c + 3(c - p) = 2 - 6 = -4
        assertArrayEquals(new float[] {-4f, -8f}, batch(new Guidance(0f, 3f, 0f, 0f, true), 1).combine(rows(2, 4), 500f)
                .toFloatArray());
        // CFG only: 1 + 5(2 - 1) = 6
        assertArrayEquals(new float[] {6f, 12f}, batch(new Guidance(5f, 0f, 0f, 0f, true), 1).combine(rows(1, 2), 500f)
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
        assertArrayEquals(new float[] {2.2f, -2.2f}, batch(g, 1).combine(out, 500f).toFloatArray(), 1e-5f);
    }

    @Test
    void negativeScalesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Guidance(-1f, 0f, 0f, 0f, true));
        assertThrows(IllegalArgumentException.class, () -> new Guidance(1f, Float.NaN, 0f, 0f, true));
    }
}
