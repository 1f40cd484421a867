package dev.pagoda.nn.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.ContextCache;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A denoising loop's {@link ContextCache}: steps that pass the same context reuse the first step's
 * cross-attention keys and values, with outputs bit-identical to projecting them every step, and a
 * different context (new values, or another view of the same storage) is projected afresh.
 */
class ContextCacheTest {

    @Test
    void stepsWithTheSameContextReuseItsProjectionsAndMatchExactly() {
        try (TinySdxlUNet tiny = TinySdxlUNet.open()) {
            UNet2DConditionModel unet = tiny.unet();
            Backend be = Backend.cpu();
            Tensor neg = tiny.neg();
            Tensor pos = tiny.pos();
            long crossModules = unet.namedModules().values().stream()
                    .filter(m -> m instanceof Attention a && a.isCrossAttention()).count();
            // CFG + PAG on mid: the down blocks run on a narrowed view of the context (the branch fork)
            UNet2DConditionModel.Input in = tiny.cfgPagBatch(667f)
                    .withPag(PagPlan.of(PagLayers.modules(unet, List.of("mid"), PagLayers.Mode.DIFFUSERS), 3, 1));
            float[] plain667 = unet.forward(in).toFloatArray();
            UNet2DConditionModel.Input at500 = withTimestep(in, 500f);
            float[] plain500 = unet.forward(at500).toFloatArray();

            ContextCache cache = new ContextCache();
            assertArrayEquals(plain667, unet.forward(in.withContextCache(cache)).toFloatArray(), "first step");
            assertEquals(0, cache.hits(), "the first step projects every context");
            assertEquals(crossModules, cache.size());
            assertArrayEquals(plain500, unet.forward(at500.withContextCache(cache)).toFloatArray(), "second step");
            assertEquals(crossModules, cache.hits(), "the second step reuses every projection");

            // new values in a new tensor of the same shape: projected afresh, not taken from the cache
            Tensor other = be.concat(0, pos, neg, neg);
            UNet2DConditionModel.Input changed = new UNet2DConditionModel.Input(at500.sample(), at500.timesteps(),
                    other, at500.textEmbeds(), at500.timeIds(), at500.pag(), null, null, at500.ipAdapter());
            float[] plainChanged = unet.forward(changed).toFloatArray();
            assertFalse(Arrays.equals(plain500, plainChanged), "the test's second context must change the output");
            assertArrayEquals(plainChanged, unet.forward(changed.withContextCache(cache)).toFloatArray(),
                    "changed context");
            assertEquals(crossModules, cache.hits(), "a changed context is never a hit");

            // another view of one storage: rows 1..3 of [neg, pos, pos, neg] against rows 0..2
            Tensor four = be.concat(0, neg, pos, pos, neg);
            UNet2DConditionModel.Input first3 = new UNet2DConditionModel.Input(in.sample(), in.timesteps(),
                    four.narrow(0, 0, 3), in.textEmbeds(), in.timeIds(), in.pag(), null, null, in.ipAdapter());
            UNet2DConditionModel.Input last3 = new UNet2DConditionModel.Input(in.sample(), in.timesteps(),
                    four.narrow(0, 1, 3), in.textEmbeds(), in.timeIds(), in.pag(), null, null, in.ipAdapter());
            ContextCache views = new ContextCache();
            assertArrayEquals(plain667, unet.forward(first3.withContextCache(views)).toFloatArray(), "view 0..2");
            assertArrayEquals(unet.forward(last3).toFloatArray(),
                    unet.forward(last3.withContextCache(views)).toFloatArray(), "view 1..3");
            assertEquals(0, views.hits(), "a view at another offset is never a hit");
        }
    }

    private static UNet2DConditionModel.Input withTimestep(UNet2DConditionModel.Input in, float t) {
        return new UNet2DConditionModel.Input(in.sample(), new float[] {t}, in.encoderHiddenStates(), in.textEmbeds(),
                in.timeIds(), in.pag(), in.downResiduals(), in.midResidual(), in.ipAdapter());
    }
}
