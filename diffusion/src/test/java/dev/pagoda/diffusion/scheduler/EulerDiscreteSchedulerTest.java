package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseReplay;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.List;
import org.junit.jupiter.api.Test;

class EulerDiscreteSchedulerTest {

    private static EulerDiscreteScheduler euler(SchedulerConfig c) {
        return new EulerDiscreteScheduler(c);
    }

    @Test
    void timestepSpacingsGiveDiffusersGrids() {
        EulerDiscreteScheduler s = euler(SchedulerTestConfigs.sdxl().with("timestep_spacing", "trailing"));
        s.setTimesteps(10);
        assertArrayEquals(new float[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99}, s.timesteps());
        s.setTimesteps(3);
        assertArrayEquals(new float[] {999, 666, 332}, s.timesteps());
        EulerDiscreteScheduler l = euler(SchedulerTestConfigs.sdxl().with("timestep_spacing", "linspace"));
        l.setTimesteps(4);
        assertArrayEquals(new float[] {999, 666, 333, 0}, l.timesteps());
        l.setTimesteps(3);
        assertArrayEquals(new float[] {999, 499.5f, 0}, l.timesteps());
        EulerDiscreteScheduler lead = euler(SchedulerTestConfigs.sdxl());
        lead.setTimesteps(50);
        assertEquals(981, lead.timesteps()[0]);
        assertEquals(1, lead.timesteps()[49]);
    }

    @Test
    void fractionalTimestepsInterpolateTheSigmaTable() {
        EulerDiscreteScheduler l = euler(SchedulerTestConfigs.sdxl().with("timestep_spacing", "linspace"));
        l.setTimesteps(3);
        float[] sig = l.sigmas();
        NoiseSchedule table = NoiseSchedule.fromConfig(SchedulerTestConfigs.sdxl(), true);
        double expected = table.sigma(499) + 0.5 * ((double) table.sigma(500) - table.sigma(499));
        assertEquals((float) expected, sig[1]);
        assertEquals(table.sigma(999), sig[0]);
        assertEquals(0.0f, sig[3]);
    }

    @Test
    void stepFollowsTheEulerEquationForEpsilonAndVPrediction() {
        for (String prediction : List.of("epsilon", "v_prediction")) {
            EulerDiscreteScheduler s = euler(SchedulerTestConfigs.sdxl().with("prediction_type", prediction));
            s.setTimesteps(5);
            float[] sig = s.sigmas();
            Tensor x = SchedulerTestConfigs.randn(1, 2, 4, 5, 7);
            for (int i = 0; i < 5; i++) {
                Tensor m = SchedulerTestConfigs.randn(100 + i, 2, 4, 5, 7);
                float t = s.timesteps()[i];
                float[] xv = x.toFloatArray();
                float[] mv = m.toFloatArray();
                double sigma = sig[i];
                double[] ref = new double[xv.length];
                double[] ref0 = new double[xv.length];
                for (int k = 0; k < xv.length; k++) {
                    double x0 = prediction.equals("epsilon") ? xv[k] - sigma * mv[k]
                            : mv[k] * (-sigma / Math.sqrt(sigma * sigma + 1)) + xv[k] / (sigma * sigma + 1);
                    ref0[k] = x0;
                    ref[k] = xv[k] + (xv[k] - x0) / sigma * (sig[i + 1] - sigma);
                }
                double[] scaled = new double[xv.length];
                for (int k = 0; k < xv.length; k++) {
                    scaled[k] = xv[k] / Math.sqrt(sigma * sigma + 1);
                }
                assertTrue(SchedulerTestConfigs.rel(s.scaleModelInput(x, t).toFloatArray(), scaled) < 1e-6);
                SchedulerOutput out = s.step(m, t, x, null);
                assertTrue(SchedulerTestConfigs.rel(out.prevSample().toFloatArray(), ref) < 1e-5, prediction + " step " + i);
                assertTrue(SchedulerTestConfigs.rel(out.predOriginalSample().toFloatArray(), ref0) < 1e-5);
                x = out.prevSample();
            }
        }
    }

    @Test
    void karrasSigmasFollowTheRho7ScheduleBetweenTheInterpolatedEnds() {
        EulerDiscreteScheduler plain = euler(SchedulerTestConfigs.sdxl());
        plain.setTimesteps(12);
        float[] table = plain.sigmas();
        EulerDiscreteScheduler k = euler(SchedulerTestConfigs.sdxl().with("use_karras_sigmas", true));
        k.setTimesteps(12);
        float[] sig = k.sigmas();
        double max = table[0];
        double min = table[11];
        for (int i = 0; i < 12; i++) {
            double ramp = i / 11.0;
            double ref = Math.pow(Math.pow(max, 1 / 7.0) + ramp * (Math.pow(min, 1 / 7.0) - Math.pow(max, 1 / 7.0)), 7);
            assertEquals(ref, sig[i], 1e-6 * ref);
        }
        assertEquals(0.0f, sig[12]);
        // Each timestep maps back to its sigma through the log-linear table interpolation.
        NoiseSchedule ns = NoiseSchedule.fromConfig(SchedulerTestConfigs.sdxl(), true);
        float[] ts = k.timesteps();
        for (int i = 0; i < 12; i++) {
            int lo = (int) Math.floor(ts[i]);
            double w = ts[i] - lo;
            double logSigma = (1 - w) * ns.logSigma(lo) + w * ns.logSigma(Math.min(lo + 1, 999));
            assertEquals(Math.log(sig[i]), logSigma, 2e-4, "timestep " + ts[i]);
        }
        assertEquals(500.0, ns.sigmaToTimestep(ns.sigma(500)), 1e-5);
        // Overrides of the ends come from sigma_min / sigma_max.
        EulerDiscreteScheduler o = euler(SchedulerTestConfigs.sdxl().with("use_karras_sigmas", true)
                .with("sigma_min", 0.1).with("sigma_max", 10.0));
        o.setTimesteps(4);
        assertEquals(10.0f, o.sigmas()[0], 1e-5f);
        assertEquals(0.1f, o.sigmas()[3], 1e-7f);
    }

    @Test
    void exponentialAndBetaSigmasRunFromMaxToMin() {
        for (String flag : List.of("use_exponential_sigmas", "use_beta_sigmas")) {
            EulerDiscreteScheduler s = euler(SchedulerTestConfigs.sdxl().with(flag, true));
            s.setTimesteps(8);
            float[] sig = s.sigmas();
            EulerDiscreteScheduler plain = euler(SchedulerTestConfigs.sdxl());
            plain.setTimesteps(8);
            assertEquals(plain.sigmas()[0], sig[0], 1e-5f * sig[0], flag);
            assertEquals(plain.sigmas()[7], sig[7], 1e-5f, flag);
            for (int i = 1; i < 8; i++) {
                assertTrue(sig[i] < sig[i - 1], flag + " decreasing");
            }
        }
        EulerDiscreteScheduler e = euler(SchedulerTestConfigs.sdxl().with("use_exponential_sigmas", true));
        e.setTimesteps(5);
        float[] sig = e.sigmas();
        double ratio = Math.log(sig[1] / sig[0]);
        for (int i = 2; i < 5; i++) {
            assertEquals(ratio, Math.log(sig[i] / sig[i - 1]), 1e-5);
        }
    }

    @Test
    void finalSigmaMinAndContinuousTimesteps() {
        EulerDiscreteScheduler s = euler(SchedulerTestConfigs.sdxl().with("final_sigmas_type", "sigma_min"));
        s.setTimesteps(3);
        // σ at training timestep 0, √(β₀/(1−β₀)) with β₀ = 0.00085 (float32 1−ᾱ loses ~4 digits here).
        assertEquals(NoiseSchedule.fromConfig(SchedulerTestConfigs.sdxl(), true).sigma(0), s.sigmas()[3]);
        assertEquals(Math.sqrt(0.00085 / (1 - 0.00085)), s.sigmas()[3], 1e-4 * s.sigmas()[3]);
        EulerDiscreteScheduler c = euler(SchedulerTestConfigs.sdxl().with("timestep_type", "continuous")
                .with("prediction_type", "v_prediction"));
        c.setTimesteps(3);
        for (int i = 0; i < 3; i++) {
            assertEquals(0.25f * (float) Math.log(c.sigmas()[i]), c.timesteps()[i]);
        }
        // continuous only applies to v_prediction, as in diffusers
        EulerDiscreteScheduler d = euler(SchedulerTestConfigs.sdxl().with("timestep_type", "continuous"));
        d.setTimesteps(3);
        assertArrayEquals(new float[] {667, 334, 1}, d.timesteps());
    }

    @Test
    void img2imgStrengthKeepsTheLastStepsAndStartsThere() {
        EulerDiscreteScheduler s = euler(SchedulerTestConfigs.sdxl());
        float[] run = s.setTimesteps(4, 0.6);
        assertArrayEquals(new float[] {251, 1}, run);
        assertEquals(2, s.beginIndex());
        float[] sig = s.sigmas();
        Tensor x0 = SchedulerTestConfigs.randn(3, 1, 4, 3, 3);
        Tensor noise = SchedulerTestConfigs.randn(4, 1, 4, 3, 3);
        // add_noise before the first step uses the begin index, whatever timestep is passed.
        float[] noisy = s.addNoise(x0, noise, 999).toFloatArray();
        float[] xv = x0.toFloatArray();
        float[] nv = noise.toFloatArray();
        for (int k = 0; k < xv.length; k++) {
            assertEquals(xv[k] + nv[k] * sig[2], noisy[k]);
        }
        s.scaleModelInput(x0, run[0]);
        assertEquals(2, s.stepIndex());
        s.step(noise, run[0], x0, null);
        // after a step (inpainting re-noising) it uses the current step index.
        float[] after = s.addNoise(x0, noise, 999).toFloatArray();
        assertEquals(xv[0] + nv[0] * sig[3], after[0]);
        assertArrayEquals(new float[] {751, 501, 251, 1}, s.setTimesteps(4, 1.0));
        assertEquals(0, s.beginIndex());
    }

    @Test
    void repeatedTimestepStartsAtItsSecondOccurrence() {
        // leading spacing with more steps than training timesteps repeats timestep 1 everywhere.
        EulerDiscreteScheduler s = euler(SchedulerTestConfigs.sdxl().with("num_train_timesteps", 10L));
        s.setTimesteps(12);
        assertEquals(1.0f, s.timesteps()[0]);
        s.scaleModelInput(Tensor.zeros(1), 1.0f);
        assertEquals(1, s.stepIndex());
    }

    @Test
    void churnDrawsNoiseAndWidensSigma() {
        EulerDiscreteScheduler s = euler(SchedulerTestConfigs.sdxl());
        s.setTimesteps(4);
        s.setChurn(new EulerDiscreteScheduler.Churn(0.4, 0.0, Double.POSITIVE_INFINITY, 1.0));
        Tensor x = SchedulerTestConfigs.randn(5, 1, 2, 3, 3);
        Tensor m = SchedulerTestConfigs.randn(6, 1, 2, 3, 3);
        Tensor z = SchedulerTestConfigs.randn(7, 1, 2, 3, 3);
        NoiseReplay tape = NoiseSource.replay(z);
        SchedulerOutput out = s.step(m, 751, x, tape);
        assertEquals(1, tape.consumed());
        double sigma = s.sigmas()[0];
        double gamma = Math.min(0.4 / 4, Math.sqrt(2) - 1);
        double hat = sigma * (gamma + 1);
        float[] xv = x.toFloatArray();
        float[] mv = m.toFloatArray();
        float[] zv = z.toFloatArray();
        double[] ref = new double[xv.length];
        for (int k = 0; k < xv.length; k++) {
            double xs = xv[k] + zv[k] * Math.sqrt(hat * hat - sigma * sigma);
            double x0 = xs - hat * mv[k];
            ref[k] = xs + (xs - x0) / hat * (s.sigmas()[1] - hat);
        }
        assertTrue(SchedulerTestConfigs.rel(out.prevSample().toFloatArray(), ref) < 1e-5);
        assertThrows(IllegalArgumentException.class, () -> s.step(m, 501, x, null));
    }

    @Test
    void initNoiseSigmaDependsOnSpacing() {
        EulerDiscreteScheduler lead = euler(SchedulerTestConfigs.sdxl());
        lead.setTimesteps(4);
        float max = lead.sigmas()[0];
        assertEquals((float) Math.sqrt(max * max + 1.0f), lead.initNoiseSigma());
        EulerDiscreteScheduler trail = euler(SchedulerTestConfigs.sdxl().with("timestep_spacing", "trailing"));
        trail.setTimesteps(4);
        assertEquals(trail.sigmas()[0], trail.initNoiseSigma());
    }
}
