package dev.pagoda.diffusion.scheduler;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.TorchGenerator;
import java.util.LinkedHashMap;
import java.util.Map;

/** Configs and random tensors for the scheduler unit tests. */
final class SchedulerTestConfigs {

    private SchedulerTestConfigs() {
    }

    /** The real SDXL base scheduler config (EulerDiscreteScheduler). */
    static SchedulerConfig sdxl() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "EulerDiscreteScheduler");
        m.put("beta_end", 0.012);
        m.put("beta_schedule", "scaled_linear");
        m.put("beta_start", 0.00085);
        m.put("clip_sample", false);
        m.put("interpolation_type", "linear");
        m.put("num_train_timesteps", 1000L);
        m.put("prediction_type", "epsilon");
        m.put("sample_max_value", 1.0);
        m.put("set_alpha_to_one", false);
        m.put("skip_prk_steps", true);
        m.put("steps_offset", 1L);
        m.put("timestep_spacing", "leading");
        m.put("trained_betas", null);
        m.put("use_karras_sigmas", false);
        return new SchedulerConfig(m, "test SDXL config");
    }

    /** The PixArt-Σ DPM-Solver++ config. */
    static SchedulerConfig pixart() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "DPMSolverMultistepScheduler");
        m.put("algorithm_type", "dpmsolver++");
        m.put("beta_end", 0.02);
        m.put("beta_schedule", "linear");
        m.put("beta_start", 0.0001);
        m.put("lambda_min_clipped", Double.NEGATIVE_INFINITY);
        m.put("lower_order_final", true);
        m.put("num_train_timesteps", 1000L);
        m.put("prediction_type", "epsilon");
        m.put("solver_order", 2L);
        m.put("solver_type", "midpoint");
        m.put("steps_offset", 0L);
        m.put("timestep_spacing", "linspace");
        m.put("final_sigmas_type", "zero");
        return new SchedulerConfig(m, "test PixArt config");
    }

    static Tensor randn(long seed, int... shape) {
        return new TorchGenerator(seed).randn(shape);
    }

    /** ᾱ_t of the scaled-linear SDXL schedule computed independently in double. */
    static double[] sdxlAlphasCumprodDouble() {
        int n = 1000;
        double s = Math.sqrt(0.00085);
        double e = Math.sqrt(0.012);
        double[] ac = new double[n];
        double acc = 1;
        for (int i = 0; i < n; i++) {
            double b = s + (e - s) * i / (n - 1);
            acc *= 1 - b * b;
            ac[i] = acc;
        }
        return ac;
    }

    /** max|a−b| / max(1, max|b|) of a float result against a double reference. */
    static double rel(float[] got, double[] ref) {
        double diff = 0;
        double scale = 1;
        for (int i = 0; i < ref.length; i++) {
            diff = Math.max(diff, Math.abs(got[i] - ref[i]));
            scale = Math.max(scale, Math.abs(ref[i]));
        }
        return diff / scale;
    }
}
