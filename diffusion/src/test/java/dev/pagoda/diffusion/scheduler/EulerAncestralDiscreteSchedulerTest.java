package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseReplay;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.random.TorchGenerator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Ancestral sampling against its defining equations (k-diffusion's sample_euler_ancestral). */
class EulerAncestralDiscreteSchedulerTest {

    private static SchedulerConfig config() {
        return SchedulerTestConfigs.sdxl().with("_class_name", "EulerAncestralDiscreteScheduler");
    }

    @Test
    void scheduleEqualsEulersPlainSchedule() {
        Scheduler a = SchedulerFactory.fromConfig(config());
        EulerDiscreteScheduler e = new EulerDiscreteScheduler(SchedulerTestConfigs.sdxl());
        for (int n : new int[] {1, 3, 25}) {
            a.setTimesteps(n);
            e.setTimesteps(n);
            assertArrayEquals(e.timesteps(), a.timesteps());
            assertArrayEquals(e.sigmas(), a.sigmas());
            assertEquals(e.initNoiseSigma(), a.initNoiseSigma());
        }
    }

    @Test
    void everyStepIsAnEulerStepToSigmaDownPlusNoiseOfSigmaUp() {
        for (String prediction : List.of("epsilon", "v_prediction")) {
            Scheduler s = SchedulerFactory.fromConfig(config().with("prediction_type", prediction));
            int n = 6;
            s.setTimesteps(n);
            float[] sig = s.sigmas();
            float[] ts = s.timesteps();
            int[] shape = {2, 4, 3, 5};
            TorchGenerator gen = new TorchGenerator(77);
            List<Tensor> drawn = new ArrayList<>();
            NoiseSource recording = sh -> {
                Tensor t = gen.randn(sh);
                drawn.add(t);
                return t;
            };
            Tensor x = SchedulerTestConfigs.randn(1, shape);
            for (int i = 0; i < n; i++) {
                Tensor m = SchedulerTestConfigs.randn(40 + i, shape);
                SchedulerOutput out = s.step(m, ts[i], x, recording);
                assertEquals(i + 1, drawn.size(), "one draw per step, the last one included");
                assertArrayEquals(shape, drawn.get(i).shape());
                double sigma = sig[i];
                double next = sig[i + 1];
                double up = Math.sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma));
                double down = Math.sqrt(next * next - up * up);
                assertEquals(next * next, up * up + down * down, 1e-9 * Math.max(1, next * next));
                float[] xv = x.toFloatArray();
                float[] mv = m.toFloatArray();
                float[] zv = drawn.get(i).toFloatArray();
                double[] ref = new double[xv.length];
                for (int k = 0; k < xv.length; k++) {
                    double x0 = prediction.equals("epsilon") ? xv[k] - sigma * mv[k]
                            : mv[k] * (-sigma / Math.sqrt(sigma * sigma + 1)) + xv[k] / (sigma * sigma + 1);
                    ref[k] = xv[k] + (xv[k] - x0) / sigma * (down - sigma) + zv[k] * up;
                }
                double r = SchedulerTestConfigs.rel(out.prevSample().toFloatArray(), ref);
                assertTrue(r < 1e-5, prediction + " step " + i + ": rel " + r);
                x = out.prevSample();
            }
        }
    }

    @Test
    void lastStepLandsOnTheDenoisedEstimate() {
        // σ_next = 0 gives σ_up = σ_down = 0: the last sample is x₀ whatever noise is drawn.
        Scheduler s = SchedulerFactory.fromConfig(config());
        s.setTimesteps(1);
        Tensor x = SchedulerTestConfigs.randn(2, 1, 4, 4, 4);
        Tensor m = SchedulerTestConfigs.randn(3, 1, 4, 4, 4);
        NoiseReplay tape = NoiseSource.replay(SchedulerTestConfigs.randn(4, 1, 4, 4, 4));
        SchedulerOutput out = s.step(m, s.timesteps()[0], x, tape);
        assertEquals(1, tape.consumed());
        float[] prev = out.prevSample().toFloatArray();
        float[] x0 = out.predOriginalSample().toFloatArray();
        for (int k = 0; k < prev.length; k++) {
            assertEquals(x0[k], prev[k], 1e-5f * Math.max(1, Math.abs(x0[k])));
        }
    }

    @Test
    void needsANoiseSource() {
        Scheduler s = SchedulerFactory.fromConfig(config());
        s.setTimesteps(2);
        Tensor x = Tensor.zeros(1, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.step(x, s.timesteps()[0], x, null));
        assertTrue(e.getMessage().contains("NoiseSource"), e.getMessage());
    }

    @Test
    void samplePredictionIsRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SchedulerFactory.fromConfig(config().with("prediction_type", "sample")));
        assertTrue(e.getMessage().contains("prediction_type") && e.getMessage().contains("\"sample\""), e.getMessage());
    }
}
