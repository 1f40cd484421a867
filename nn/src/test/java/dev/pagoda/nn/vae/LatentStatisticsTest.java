package dev.pagoda.nn.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code latents_mean} / {@code latents_std} and {@code force_upcast} of {@code vae/config.json}, as diffusers' SDXL pipelines use them. */
class LatentStatisticsTest {

    private static final List<Double> MEAN = List.of(-1.6574, 1.886, -1.383, 2.5155);
    private static final List<Double> STD = List.of(8.4927, 5.9022, 6.5498, 5.2299);

    private static AutoencoderKL vae(Object mean, Object std, Object upcast) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("block_out_channels", List.of(8L, 16L));
        m.put("down_block_types", List.of("DownEncoderBlock2D", "DownEncoderBlock2D"));
        m.put("up_block_types", List.of("UpDecoderBlock2D", "UpDecoderBlock2D"));
        m.put("norm_num_groups", 4L);
        m.put("scaling_factor", 0.5);
        m.put("latents_mean", mean);
        m.put("latents_std", std);
        if (upcast != null) {
            m.put("force_upcast", upcast);
        }
        return new AutoencoderKL(VaeConfig.from(new JsonConfig("test vae config", m)));
    }

    private static Tensor latents() {
        float[] v = new float[2 * 4 * 3 * 5];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(i * 0.7) * 3;
        }
        return Tensor.of(v, 2, 4, 3, 5);
    }

    @Test
    void meanAndStdFollowDiffusersFormulas() {
        AutoencoderKL vae = vae(MEAN, STD, false);
        assertTrue(vae.config().hasLatentsMeanStd());
        assertFalse(vae.config().forceUpcast());
        Tensor z = latents();
        float[] in = z.toFloatArray();
        float[] un = vae.unscale(z).toFloatArray();
        float[] sc = vae.scaleLatents(z).toFloatArray();
        float[] plain = vae.scaleLatentsPlain(z).toFloatArray();
        for (int i = 0; i < in.length; i++) {
            int c = (i / 15) % 4;
            double decode = in[i] * STD.get(c) / 0.5 + MEAN.get(c);
            double encode = (in[i] - MEAN.get(c)) * 0.5 / STD.get(c);
            assertEquals(decode, un[i], 1e-5 * Math.max(1, Math.abs(decode)), "unscale at " + i);
            assertEquals(encode, sc[i], 1e-5 * Math.max(1, Math.abs(encode)), "scaleLatents at " + i);
            assertEquals(in[i] * 0.5, plain[i], 1e-6, "plain scaling at " + i);
        }
    }

    @Test
    void withoutStatisticsOnlyTheScalingFactor() {
        AutoencoderKL vae = vae(null, null, null);
        assertTrue(vae.config().forceUpcast(), "diffusers' default");
        Tensor z = latents();
        float[] in = z.toFloatArray();
        float[] un = vae.unscale(z).toFloatArray();
        for (int i = 0; i < in.length; i++) {
            assertEquals(in[i] / 0.5f, un[i], 0f);
        }
        // one statistic alone is ignored, as in diffusers
        assertFalse(vae(MEAN, null, null).config().hasLatentsMeanStd());
    }

    @Test
    void malformedStatisticsAreNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> vae(List.of(1.0, 2.0), STD, null));
        assertTrue(e.getMessage().contains("latents_mean") && e.getMessage().contains("test vae config"), e.getMessage());
    }
}
