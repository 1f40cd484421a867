package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseReplay;
import dev.pagoda.tensor.random.NoiseSource;
import org.junit.jupiter.api.Test;

/** DDIM against eq. 12 and 16 of Song et al., with ᾱ computed independently in double. */
class DDIMSchedulerTest {

    private static DDIMScheduler ddim(SchedulerConfig c) {
        return (DDIMScheduler) SchedulerFactory.create("DDIMScheduler", c);
    }

    @Test
    void timestepGridsOfTheThreeSpacings() {
        DDIMScheduler s = ddim(SchedulerTestConfigs.sdxl());
        s.setTimesteps(50);
        float[] ts = s.timesteps();
        assertEquals(981, ts[0]);
        assertEquals(961, ts[1]);
        assertEquals(1, ts[49]);
        DDIMScheduler t = ddim(SchedulerTestConfigs.sdxl().with("timestep_spacing", "trailing"));
        t.setTimesteps(10);
        assertArrayEquals(new float[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99}, t.timesteps());
        DDIMScheduler l = ddim(SchedulerTestConfigs.sdxl().with("timestep_spacing", "linspace"));
        l.setTimesteps(10);
        assertArrayEquals(new float[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0}, l.timesteps());
        assertEquals(1.0f, s.initNoiseSigma());
    }

    @Test
    void alphasCumprodAgreeWithAnIndependentDoubleComputation() {
        double[] ref = SchedulerTestConfigs.sdxlAlphasCumprodDouble();
        NoiseSchedule ns = NoiseSchedule.fromConfig(SchedulerTestConfigs.sdxl(), false);
        for (int t = 0; t < 1000; t++) {
            assertEquals(ref[t], ns.alphaCumprod(t), 2e-6 * ref[t], "t=" + t);
        }
    }

    @Test
    void deterministicStepMovesAnExactNoisySampleAlongItsTrajectory() {
        // x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε with the model predicting ε exactly: eta = 0 lands on
        // √ᾱ_prev x₀ + √(1−ᾱ_prev) ε and predicts x₀.
        double[] ac = SchedulerTestConfigs.sdxlAlphasCumprodDouble();
        DDIMScheduler s = ddim(SchedulerTestConfigs.sdxl());
        s.setTimesteps(20);
        int[] shape = {2, 4, 3, 7};
        float[] x0 = SchedulerTestConfigs.randn(1, shape).toFloatArray();
        float[] eps = SchedulerTestConfigs.randn(2, shape).toFloatArray();
        for (float tf : s.timesteps()) {
            int t = (int) tf;
            int prev = t - 1000 / 20;
            double aPrev = prev >= 0 ? ac[prev] : ac[0];
            float[] xt = new float[x0.length];
            double[] want = new double[x0.length];
            for (int k = 0; k < xt.length; k++) {
                xt[k] = (float) (Math.sqrt(ac[t]) * x0[k] + Math.sqrt(1 - ac[t]) * eps[k]);
                want[k] = Math.sqrt(aPrev) * x0[k] + Math.sqrt(1 - aPrev) * eps[k];
            }
            SchedulerOutput out = s.step(Tensor.of(eps.clone(), shape), tf, Tensor.of(xt, shape), null);
            double[] x0d = new double[x0.length];
            for (int k = 0; k < x0.length; k++) {
                x0d[k] = x0[k];
            }
            double tol = 2e-5 / Math.sqrt(ac[t]);
            assertTrue(SchedulerTestConfigs.rel(out.prevSample().toFloatArray(), want) < tol, "t=" + t);
            assertTrue(SchedulerTestConfigs.rel(out.predOriginalSample().toFloatArray(), x0d) < tol, "x0 at t=" + t);
        }
    }

    @Test
    void stochasticStepAddsSigmaTimesOneDrawPerStep() {
        double[] ac = SchedulerTestConfigs.sdxlAlphasCumprodDouble();
        for (String prediction : new String[] {"epsilon", "v_prediction", "sample"}) {
            DDIMScheduler s = ddim(SchedulerTestConfigs.sdxl().with("prediction_type", prediction));
            s.setEta(1.0f);
            s.setTimesteps(10);
            int[] shape = {1, 4, 5, 5};
            Tensor x = SchedulerTestConfigs.randn(3, shape);
            Tensor m = SchedulerTestConfigs.randn(4, shape);
            Tensor z = SchedulerTestConfigs.randn(5, shape);
            NoiseReplay tape = NoiseSource.replay(z);
            int t = 501;
            SchedulerOutput out = s.step(m, t, x, tape);
            assertEquals(1, tape.consumed());
            double a = ac[t];
            double aPrev = ac[t - 100];
            double std = Math.sqrt((1 - aPrev) / (1 - a) * (1 - a / aPrev));
            float[] xv = x.toFloatArray();
            float[] mv = m.toFloatArray();
            float[] zv = z.toFloatArray();
            double[] ref = new double[xv.length];
            for (int k = 0; k < xv.length; k++) {
                double x0;
                double e;
                switch (prediction) {
                    case "epsilon" -> {
                        x0 = (xv[k] - Math.sqrt(1 - a) * mv[k]) / Math.sqrt(a);
                        e = mv[k];
                    }
                    case "v_prediction" -> {
                        x0 = Math.sqrt(a) * xv[k] - Math.sqrt(1 - a) * mv[k];
                        e = Math.sqrt(a) * mv[k] + Math.sqrt(1 - a) * xv[k];
                    }
                    default -> {
                        x0 = mv[k];
                        e = (xv[k] - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
                    }
                }
                ref[k] = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev - std * std) * e + std * zv[k];
            }
            double r = SchedulerTestConfigs.rel(out.prevSample().toFloatArray(), ref);
            assertTrue(r < 1e-4, prediction + ": rel " + r);
        }
    }

    @Test
    void clipSampleClampsThePredictedOriginal() {
        DDIMScheduler s = ddim(SchedulerTestConfigs.sdxl().with("clip_sample", true).with("clip_sample_range", 0.5));
        s.setTimesteps(10);
        Tensor x = SchedulerTestConfigs.randn(8, 1, 2, 4, 4);
        Tensor m = SchedulerTestConfigs.randn(9, 1, 2, 4, 4);
        float[] x0 = s.step(m, 901, x, null).predOriginalSample().toFloatArray();
        boolean clamped = false;
        for (float v : x0) {
            assertTrue(Math.abs(v) <= 0.5f);
            clamped |= Math.abs(v) == 0.5f;
        }
        assertTrue(clamped);
    }

    @Test
    void addNoiseIsTheForwardProcess() {
        double[] ac = SchedulerTestConfigs.sdxlAlphasCumprodDouble();
        DDIMScheduler s = ddim(SchedulerTestConfigs.sdxl());
        s.setTimesteps(10);
        Tensor x = SchedulerTestConfigs.randn(10, 2, 3, 3);
        Tensor n = SchedulerTestConfigs.randn(11, 2, 3, 3);
        float[] got = s.addNoise(x, n, 300).toFloatArray();
        float[] xv = x.toFloatArray();
        float[] nv = n.toFloatArray();
        double[] ref = new double[xv.length];
        for (int k = 0; k < ref.length; k++) {
            ref[k] = Math.sqrt(ac[300]) * xv[k] + Math.sqrt(1 - ac[300]) * nv[k];
        }
        assertTrue(SchedulerTestConfigs.rel(got, ref) < 1e-5);
    }

    @Test
    void img2imgStrengthAndBadTimesteps() {
        DDIMScheduler s = ddim(SchedulerTestConfigs.sdxl());
        assertArrayEquals(new float[] {501, 251, 1}, s.setTimesteps(4, 0.75));
        assertEquals(1, s.beginIndex());
        Tensor x = Tensor.zeros(1, 1, 2, 2);
        assertThrows(IllegalArgumentException.class, () -> s.step(x, 250.5f, x, null));
        assertThrows(IllegalArgumentException.class, () -> s.addNoise(x, x, 1000));
        assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(1001));
        assertThrows(IllegalArgumentException.class, () -> s.setEta(-1));
    }
}
