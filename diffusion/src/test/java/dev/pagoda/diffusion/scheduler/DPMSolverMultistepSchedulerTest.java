package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseReplay;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.random.TorchGenerator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DPM-Solver++ against a float64 transcription of its update rules (Lu et al. 2022, diffusers'
 * multistep orders with lower-order warm-up and final steps), for orders 1 to 3, midpoint and Heun,
 * ODE and SDE.
 */
class DPMSolverMultistepSchedulerTest {

    private static DPMSolverMultistepScheduler dpm(SchedulerConfig c) {
        return (DPMSolverMultistepScheduler) SchedulerFactory.fromConfig(c);
    }

    private static double alpha(double s) {
        return 1 / Math.sqrt(s * s + 1);
    }

    private static double lambda(double s) {
        return Math.log(alpha(s)) - Math.log(s * alpha(s));
    }

    /** One update in double; {@code hist} holds x₀ of this step and the previous ones, newest first. */
    private static double[] reference(int order, boolean heun, double[] sig, int i, double[] x,
            List<double[]> hist, float[] z) {
        double st = sig[i + 1];
        double s0 = sig[i];
        double at = alpha(st);
        double sigT = st * at;
        double sigS0 = s0 * alpha(s0);
        double h = lambda(st) - lambda(s0);
        double e = Math.exp(-h);
        double[] out = new double[x.length];
        double[] m0 = hist.get(0);
        for (int k = 0; k < x.length; k++) {
            double v;
            if (z == null) {
                v = sigT / sigS0 * x[k] - at * (e - 1) * m0[k];
            } else {
                v = sigT / sigS0 * e * x[k] + at * (1 - e * e) * m0[k] + sigT * Math.sqrt(1 - e * e) * z[k];
            }
            out[k] = v;
        }
        if (order == 1) {
            return out;
        }
        double r0 = (lambda(s0) - lambda(sig[i - 1])) / h;
        double[] m1 = hist.get(1);
        if (order == 2) {
            for (int k = 0; k < x.length; k++) {
                double d1 = (m0[k] - m1[k]) / r0;
                if (z == null) {
                    out[k] += heun ? at * ((e - 1) / h + 1) * d1 : -0.5 * at * (e - 1) * d1;
                } else {
                    out[k] += heun ? at * ((1 - e * e) / (-2 * h) + 1) * d1 : 0.5 * at * (1 - e * e) * d1;
                }
            }
            return out;
        }
        double r1 = (lambda(sig[i - 1]) - lambda(sig[i - 2])) / h;
        double[] m2 = hist.get(2);
        for (int k = 0; k < x.length; k++) {
            double d10 = (m0[k] - m1[k]) / r0;
            double d11 = (m1[k] - m2[k]) / r1;
            double d1 = d10 + r0 / (r0 + r1) * (d10 - d11);
            double d2 = (d10 - d11) / (r0 + r1);
            out[k] += at * ((e - 1) / h + 1) * d1 - at * ((e - 1 + h) / (h * h) - 0.5) * d2;
        }
        return out;
    }

    /** Runs n steps on random model outputs and compares every step with the double reference. */
    private static void runAgainstReference(SchedulerConfig config, int n, int[] expectedOrders, boolean sde) {
        DPMSolverMultistepScheduler s = dpm(config);
        s.setTimesteps(n);
        double[] sig = new double[n + 1];
        float[] fs = s.sigmas();
        for (int i = 0; i <= n; i++) {
            sig[i] = fs[i];
        }
        boolean heun = "heun".equals(config.optionalString("solver_type"));
        int[] shape = {2, 3, 4, 5};
        TorchGenerator noiseGen = new TorchGenerator(99);
        List<Tensor> drawn = new ArrayList<>();
        NoiseSource recording = sh -> {
            Tensor t = noiseGen.randn(sh);
            drawn.add(t);
            return t;
        };
        Tensor x = SchedulerTestConfigs.randn(1, shape);
        List<double[]> hist = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Tensor m = SchedulerTestConfigs.randn(10 + i, shape);
            float[] xv = x.toFloatArray();
            float[] mv = m.toFloatArray();
            double[] xd = new double[xv.length];
            double[] x0 = new double[xv.length];
            double a = alpha(sig[i]);
            for (int k = 0; k < xv.length; k++) {
                xd[k] = xv[k];
                x0[k] = (xv[k] - sig[i] * a * mv[k]) / a;
            }
            hist.add(0, x0);
            SchedulerOutput out = s.step(m, s.timesteps()[i], x, recording);
            assertEquals(sde ? i + 1 : 0, drawn.size());
            float[] z = sde ? drawn.get(i).toFloatArray() : null;
            double[] ref = reference(expectedOrders[i], heun, sig, i, xd, hist, z);
            double r = SchedulerTestConfigs.rel(out.prevSample().toFloatArray(), ref);
            assertTrue(r < 2e-5, config.values() + " step " + i + " (order " + expectedOrders[i] + "): rel " + r);
            assertTrue(SchedulerTestConfigs.rel(out.predOriginalSample().toFloatArray(), x0) < 2e-5);
            x = out.prevSample();
        }
    }

    @Test
    void secondOrderMidpointWithLowerOrderWarmUpAndFinal() {
        runAgainstReference(SchedulerTestConfigs.pixart(), 5, new int[] {1, 2, 2, 2, 1}, false);
    }

    @Test
    void secondOrderHeun() {
        runAgainstReference(SchedulerTestConfigs.pixart().with("solver_type", "heun"), 5, new int[] {1, 2, 2, 2, 1}, false);
    }

    @Test
    void thirdOrderDropsToLowerOrdersAtTheEndOfShortSchedules() {
        runAgainstReference(SchedulerTestConfigs.pixart().with("solver_order", 3L), 6, new int[] {1, 2, 3, 3, 2, 1}, false);
    }

    @Test
    void thirdOrderWithoutLowerOrderFinalRunsToTheEnd() {
        SchedulerConfig c = SchedulerTestConfigs.pixart().with("solver_order", 3L)
                .with("lower_order_final", false).with("final_sigmas_type", "sigma_min");
        runAgainstReference(c, 5, new int[] {1, 2, 3, 3, 3}, false);
    }

    @Test
    void firstOrderOnly() {
        runAgainstReference(SchedulerTestConfigs.pixart().with("solver_order", 1L), 4, new int[] {1, 1, 1, 1}, false);
    }

    @Test
    void sdeVariantDrawsOneNoisePerStep() {
        SchedulerConfig c = SchedulerTestConfigs.pixart().with("algorithm_type", "sde-dpmsolver++");
        runAgainstReference(c, 5, new int[] {1, 2, 2, 2, 1}, true);
        runAgainstReference(c.with("solver_type", "heun").with("final_sigmas_type", "sigma_min")
                .with("lower_order_final", false), 4, new int[] {1, 2, 2, 2}, true);
    }

    @Test
    void firstOrderStepFollowsTheTrajectoryOfAnExactNoisePrediction() {
        // x_s = α_s x₀ + σ_s ε and the model predicting ε: one step lands on α_t x₀ + σ_t ε.
        DPMSolverMultistepScheduler s = dpm(SchedulerTestConfigs.pixart().with("solver_order", 1L));
        s.setTimesteps(8);
        float[] sig = s.sigmas();
        int[] shape = {1, 4, 6, 6};
        float[] x0 = SchedulerTestConfigs.randn(5, shape).toFloatArray();
        float[] eps = SchedulerTestConfigs.randn(6, shape).toFloatArray();
        for (int i = 3; i < 8; i++) {
            s.setTimesteps(8);
            s.setBeginIndex(i);
            double as = alpha(sig[i]);
            double at = alpha(sig[i + 1]);
            float[] xs = new float[x0.length];
            double[] want = new double[x0.length];
            for (int k = 0; k < xs.length; k++) {
                xs[k] = (float) (as * x0[k] + sig[i] * as * eps[k]);
                want[k] = at * x0[k] + sig[i + 1] * at * eps[k];
            }
            SchedulerOutput out = s.step(Tensor.of(eps.clone(), shape), s.timesteps()[i], Tensor.of(xs, shape), null);
            assertTrue(SchedulerTestConfigs.rel(out.prevSample().toFloatArray(), want) < 1e-5, "step " + i);
        }
    }

    @Test
    void karrasScheduleUsesTheTrainingEndsAndRoundedTimesteps() {
        DPMSolverMultistepScheduler s = dpm(SchedulerTestConfigs.pixart().with("use_karras_sigmas", true));
        s.setTimesteps(10);
        NoiseSchedule ns = NoiseSchedule.fromConfig(SchedulerTestConfigs.pixart(), true);
        float[] sig = s.sigmas();
        assertEquals(ns.sigma(999), sig[0], 1e-4f);
        assertEquals(ns.sigma(0), sig[9], 1e-7f);
        assertEquals(0.0f, sig[10]);
        assertEquals(999, s.timesteps()[0]);
        assertEquals(0, s.timesteps()[9]);
        for (float t : s.timesteps()) {
            assertEquals(Math.rint(t), t);
        }
    }

    @Test
    void lambdaMinClippedShortensTheSchedule() {
        // λ(999) of the linear schedule is about −5.06: clipping at −4 removes the noisiest timesteps.
        DPMSolverMultistepScheduler s = dpm(SchedulerTestConfigs.pixart().with("lambda_min_clipped", -4.0));
        s.setTimesteps(10);
        NoiseSchedule ns = NoiseSchedule.fromConfig(SchedulerTestConfigs.pixart(), true);
        int clipped = 0;
        for (int t = 0; t < 1000; t++) {
            if (Math.log(Math.sqrt(ns.alphaCumprod(t))) - Math.log(Math.sqrt(1 - ns.alphaCumprod(t))) < -4) {
                clipped++;
            }
        }
        assertTrue(clipped > 0);
        assertEquals(Math.rint(1000 - clipped - 1), s.timesteps()[0]);
    }

    @Test
    void modelInputIsNotScaledAndUnknownTimestepMapsToTheLastStep() {
        DPMSolverMultistepScheduler s = dpm(SchedulerTestConfigs.pixart());
        s.setTimesteps(4);
        Tensor x = Tensor.zeros(1, 4, 2, 2);
        assertSame(x, s.scaleModelInput(x, 999));
        assertEquals(1.0f, s.initNoiseSigma());
        s.step(x, 12345, x, null);
        assertEquals(4, s.stepIndex());
    }

    @Test
    void img2imgStartsFirstOrderAtTheBeginIndex() {
        DPMSolverMultistepScheduler s = dpm(SchedulerTestConfigs.pixart());
        float[] run = s.setTimesteps(20, 0.5);
        assertEquals(10, run.length);
        assertEquals(10, s.beginIndex());
        Tensor orig = SchedulerTestConfigs.randn(1, 1, 4, 3, 3);
        Tensor noise = SchedulerTestConfigs.randn(2, 1, 4, 3, 3);
        float[] got = s.addNoise(orig, noise, run[0]).toFloatArray();
        double sigma = s.sigmas()[10];
        float[] ov = orig.toFloatArray();
        float[] nv = noise.toFloatArray();
        double[] ref = new double[ov.length];
        for (int k = 0; k < ref.length; k++) {
            ref[k] = alpha(sigma) * ov[k] + sigma * alpha(sigma) * nv[k];
        }
        assertTrue(SchedulerTestConfigs.rel(got, ref) < 1e-6);
    }

    @Test
    void learnedVarianceChannelsAreDropped() {
        DPMSolverMultistepScheduler s = dpm(SchedulerTestConfigs.pixart().with("variance_type", "learned_range"));
        s.setTimesteps(3);
        Tensor x = SchedulerTestConfigs.randn(1, 1, 3, 4, 4);
        Tensor m6 = SchedulerTestConfigs.randn(2, 1, 6, 4, 4);
        Tensor m3 = Tensor.of(java.util.Arrays.copyOf(m6.toFloatArray(), 48), 1, 3, 4, 4);
        DPMSolverMultistepScheduler ref = dpm(SchedulerTestConfigs.pixart());
        ref.setTimesteps(3);
        assertArrayEquals(ref.step(m3, 999, x, null).prevSample().toFloatArray(),
                s.step(m6, 999, x, null).prevSample().toFloatArray());
    }

    @Test
    void thresholdingClampsX0ToTheQuantile() {
        DPMSolverMultistepScheduler s = dpm(SchedulerTestConfigs.pixart().with("thresholding", true)
                .with("sample_max_value", 1.5).with("prediction_type", "sample"));
        s.setTimesteps(3);
        float[] big = new float[8];
        for (int k = 0; k < 8; k++) {
            big[k] = (k - 4) * 1.0f;
        }
        Tensor m = Tensor.of(big, 2, 4);
        NoiseReplay none = NoiseSource.replay(List.of());
        float[] x0 = s.step(m, 999, Tensor.zeros(2, 4), none).predOriginalSample().toFloatArray();
        // row 0: |x| = 4,3,2,1 → quantile 0.995 ≈ 3.985, clamped to 1.5 → clamp(x, ±1.5)/1.5
        assertEquals(-1.0f, x0[0]);
        assertEquals(-1.0f, x0[2]);
        assertEquals(-1.0f / 1.5f, x0[3], 1e-7f);
        assertEquals(1.0f / 1.5f, x0[5], 1e-7f);
    }
}
