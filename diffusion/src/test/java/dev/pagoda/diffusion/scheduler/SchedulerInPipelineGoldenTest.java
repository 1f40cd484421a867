package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.TorchGenerator;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The schedulers inside the recorded pipeline runs: the seeded generator gives the recorded initial
 * noise, and the denoising loop driven by the recorded denoiser outputs (combined with the
 * CFG + PAG guidance of diffusers) reproduces every recorded latent. This checks the scheduler API
 * the way pipelines use it: init_noise_sigma, scale_model_input on the batch, the img2img strength
 * schedule with its begin index, and DPM-Solver++ on PixArt's learned-sigma output.
 */
class SchedulerInPipelineGoldenTest {

    private static final double PIPELINE_TOL = 1e-4;

    @Test
    void sdxlTextToImageWithEuler() {
        try (GoldenFixtures.Case c = GoldenFixtures.vendored().open("sdxl_t2i_cfg_pag")) {
            Scheduler s = SchedulerFactory.fromPretrained(GoldenFixtures.vendored().root().resolve((String) c.json().get("model")));
            s.setTimesteps(intParam(c, "num_inference_steps"));
            assertArrayEquals(recordedTimesteps(c), s.timesteps());
            Tensor noise = new TorchGenerator(intParam(c, "seed")).randn(1, 4, 16, 16);
            assertArrayEquals(c.tensor("noise.000").toFloatArray(), noise.toFloatArray(), "initial noise");
            float[] latents = noise.toFloatArray();
            float init = s.initNoiseSigma();
            for (int k = 0; k < latents.length; k++) {
                latents[k] = latents[k] * init;
            }
            runLoop(c, s, Tensor.of(latents, 1, 4, 16, 16), s.timesteps(), 3, 4);
        }
    }

    @Test
    void sdxlImageToImageStrengthScheduleWithEuler() {
        try (GoldenFixtures.Case c = GoldenFixtures.vendored().open("sdxl_img2img_cfg_pag")) {
            Scheduler s = SchedulerFactory.fromPretrained(GoldenFixtures.vendored().root().resolve((String) c.json().get("model")));
            float[] run = s.setTimesteps(intParam(c, "num_inference_steps"), ((Number) params(c).get("strength")).doubleValue());
            assertArrayEquals(recordedTimesteps(c), run);
            assertEquals(2, s.beginIndex());
            // The generator's two draws (VAE sample, then the add_noise noise) in order.
            TorchGenerator g = new TorchGenerator(intParam(c, "seed"));
            assertArrayEquals(c.tensor("noise.000").toFloatArray(), g.randn(1, 4, 16, 16).toFloatArray());
            assertArrayEquals(c.tensor("noise.001").toFloatArray(), g.randn(1, 4, 16, 16).toFloatArray());
            // Without a VAE here, recover the noised latents from the first (scaled) denoiser input.
            float sigma = s.sigmas()[s.beginIndex()];
            float[] in0 = Arrays.copyOf(c.tensor("denoiser0.sample_in").toFloatArray(), 4 * 16 * 16);
            float scale = (float) Math.sqrt(sigma * sigma + 1.0f);
            for (int k = 0; k < in0.length; k++) {
                in0[k] = in0[k] * scale;
            }
            runLoop(c, s, Tensor.of(in0, 1, 4, 16, 16), run, 3, 4);
        }
    }

    @Test
    void pixartSigmaWithDpmSolverAndCfgPag() {
        try (GoldenFixtures.Case c = GoldenFixtures.vendored().open("pixart_sigma_cfg_pag")) {
            pixart(c, 3);
        }
    }

    @Test
    void pixartSigmaWithDpmSolverAndPagOnly() {
        try (GoldenFixtures.Case c = GoldenFixtures.vendored().open("pixart_sigma_pag_only")) {
            pixart(c, 2);
        }
    }

    private static void pixart(GoldenFixtures.Case c, int rows) {
        Scheduler s = SchedulerFactory.fromPretrained(GoldenFixtures.vendored().root().resolve((String) c.json().get("model")));
        assertEquals(DPMSolverMultistepScheduler.CLASS_NAME, s.className());
        s.setTimesteps(intParam(c, "num_inference_steps"));
        assertArrayEquals(recordedTimesteps(c), s.timesteps());
        Tensor noise = new TorchGenerator(intParam(c, "seed")).randn(1, 4, 16, 16);
        assertArrayEquals(c.tensor("noise.000").toFloatArray(), noise.toFloatArray());
        assertEquals(1.0f, s.initNoiseSigma());
        runLoop(c, s, noise, s.timesteps(), rows, 4);
    }

    /** The denoising loop of the PAG pipelines with the recorded denoiser outputs. */
    private static void runLoop(GoldenFixtures.Case c, Scheduler s, Tensor latents, float[] timesteps, int rows, int channels) {
        double g = ((Number) params(c).get("guidance_scale")).doubleValue();
        double pag = ((Number) params(c).get("pag_scale")).doubleValue();
        int per = channels * 16 * 16;
        for (int i = 0; i < timesteps.length; i++) {
            float t = timesteps[i];
            String d = "denoiser" + i + ".";
            float[] scaled = s.scaleModelInput(latents, t).toFloatArray();
            float[] recordedIn = c.tensor(d + "sample_in").toFloatArray();
            for (int r = 0; r < rows; r++) {
                assertClose(d + "sample_in row " + r, scaled,
                        Arrays.copyOfRange(recordedIn, r * per, (r + 1) * per), PIPELINE_TOL);
            }
            Tensor out = c.tensor(d + "out");
            float[] eps = guidance(out.toFloatArray(), out.dim(1), channels, rows, (float) g, (float) pag);
            latents = s.step(Tensor.of(eps, 1, channels, 16, 16), t, latents, null).prevSample();
            assertClose("step" + i + ".latents", latents, c.tensor("step" + i + ".latents"), PIPELINE_TOL);
        }
        assertClose("output.latent", latents, c.tensor("output.latent"), 2e-4);
    }

    /**
     * diffusers' PAG guidance in float32: with CFG (rows uncond, cond, perturbed)
     * {@code u + g·(c − u) + s·(c − p)}, else (rows cond, perturbed) {@code c + s·(c − p)}; only the
     * first {@code channels} of each row (PixArt's learned-sigma output keeps the first half).
     */
    private static float[] guidance(float[] out, int outChannels, int channels, int rows, float g, float pag) {
        int hw = 16 * 16;
        int row = outChannels * hw;
        float[] eps = new float[channels * hw];
        for (int k = 0; k < eps.length; k++) {
            if (rows == 3) {
                float u = out[k];
                float cnd = out[row + k];
                float p = out[2 * row + k];
                eps[k] = (u + g * (cnd - u)) + pag * (cnd - p);
            } else {
                float cnd = out[k];
                float p = out[row + k];
                eps[k] = cnd + pag * (cnd - p);
            }
        }
        return eps;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> params(GoldenFixtures.Case c) {
        return (Map<String, Object>) c.json().get("params");
    }

    private static int intParam(GoldenFixtures.Case c, String key) {
        return ((Number) params(c).get(key)).intValue();
    }

    private static float[] recordedTimesteps(GoldenFixtures.Case c) {
        List<Map<String, Object>> calls = c.objects("denoiser_calls");
        float[] ts = new float[calls.size()];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = ((Number) ((List<?>) calls.get(i).get("timestep")).get(0)).floatValue();
        }
        return ts;
    }

    private static void assertClose(String what, Tensor got, Tensor ref, double tol) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(ref.shape(), got.shape(), what + ": shape");
        assertClose(what, got.toFloatArray(), ref.toFloatArray(), tol);
    }

    private static void assertClose(String what, float[] got, float[] ref, double tol) {
        double r = GoldenFixtures.rel(got, ref);
        org.junit.jupiter.api.Assertions.assertTrue(r <= tol, what + ": rel error " + r + " exceeds " + tol
                + " (" + got.length + " values, expected " + ref.length + ")");
    }
}
