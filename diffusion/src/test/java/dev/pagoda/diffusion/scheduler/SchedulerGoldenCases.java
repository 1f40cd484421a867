package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseReplay;
import dev.pagoda.tensor.random.NoiseSource;
import java.util.List;
import java.util.Map;

/**
 * The checks of the {@code scheduler_*} golden cases (README §4.7), shared by the Euler and DPM
 * tests: schedule tables, full step sequences replayed in order, and add_noise.
 */
final class SchedulerGoldenCases {

    static final double TABLE_TOL = 1e-6;
    static final double STEP_TOL = 1e-5;

    private SchedulerGoldenCases() {
    }

    static Scheduler schedulerOf(GoldenCase c) {
        Scheduler s = SchedulerFactory.fromConfig(new SchedulerConfig(c.object("config"), c.dir + "/case.json"));
        assertEquals(c.object("config").get("_class_name"), s.className());
        return s;
    }

    /** Every table: timesteps and σ against both the JSON lists and the stored tensors. */
    static int checkTables(GoldenCase c) {
        Scheduler s = schedulerOf(c);
        int checked = 0;
        for (Map<String, Object> table : c.list("tables")) {
            int n = ((Number) table.get("num_inference_steps")).intValue();
            s.setTimesteps(n);
            String what = c.dir.getFileName() + " n=" + n;
            GoldenCase.assertClose(what + " timesteps", s.timesteps(), GoldenCase.floats(table.get("timesteps")), TABLE_TOL);
            GoldenCase.assertClose(what + " sigmas", s.sigmas(), GoldenCase.floats(table.get("sigmas")), TABLE_TOL);
            GoldenCase.assertClose(what + " timesteps tensor", s.timesteps(), c.tensor("n" + n + ".timesteps").toFloatArray(), TABLE_TOL);
            GoldenCase.assertClose(what + " sigmas tensor", s.sigmas(), c.tensor("n" + n + ".sigmas").toFloatArray(), TABLE_TOL);
            float init = ((Number) table.get("init_noise_sigma")).floatValue();
            GoldenCase.assertClose(what + " init_noise_sigma", new float[] {s.initNoiseSigma()}, new float[] {init}, TABLE_TOL);
            checked++;
        }
        return checked;
    }

    /**
     * Every sequence from the stored initial sample, feeding each step our own previous output, so
     * that multistep state and error accumulation are both exercised.
     */
    @SuppressWarnings("unchecked")
    static int checkSequences(GoldenCase c, boolean hasPredOriginal) {
        Scheduler s = schedulerOf(c);
        int steps = 0;
        for (Map<String, Object> seq : c.list("sequences")) {
            int n = ((Number) seq.get("num_inference_steps")).intValue();
            String prefix = "seq" + n;
            List<Object> tape = (List<Object>) c.json.get(prefix + ".noise_calls");
            assertTrue(tape.isEmpty(), "these sequences draw no noise");
            NoiseReplay noise = NoiseSource.replay(List.of());
            s.setTimesteps(n);
            float[] ts = s.timesteps();
            Tensor sample = c.tensor(prefix + ".initial_sample");
            for (Map<String, Object> step : (List<Map<String, Object>>) seq.get("steps")) {
                int i = ((Number) step.get("i")).intValue();
                float t = ((Number) step.get("t")).floatValue();
                assertEquals(ts[i], t, 0.0f, prefix + " step " + i + " timestep");
                String p = prefix + ".step" + i + ".";
                GoldenCase.assertClose(p + "scaled_model_input", s.scaleModelInput(sample, t),
                        c.tensor(p + "scaled_model_input"), STEP_TOL);
                SchedulerOutput out = s.step(c.tensor(p + "model_output"), t, sample, noise);
                GoldenCase.assertClose(p + "prev_sample", out.prevSample(), c.tensor(p + "prev_sample"), STEP_TOL);
                if (hasPredOriginal) {
                    GoldenCase.assertClose(p + "pred_original_sample", out.predOriginalSample(),
                            c.tensor(p + "pred_original_sample"), STEP_TOL);
                }
                assertEquals(i + 1, s.stepIndex(), p + "step index after the step");
                sample = out.prevSample();
                steps++;
            }
            assertEquals(0, noise.consumed());
        }
        return steps;
    }

    /** add_noise at the listed timesteps of a fresh schedule (no begin index: lookup by timestep). */
    static int checkAddNoise(GoldenCase c) {
        Scheduler s = schedulerOf(c);
        Tensor original = c.tensor("add_noise.original");
        Tensor noise = c.tensor("add_noise.noise");
        int checked = 0;
        for (Map<String, Object> e : c.list("add_noise")) {
            s.setTimesteps(((Number) e.get("num_inference_steps")).intValue());
            float t = ((Number) e.get("t")).floatValue();
            String name = (String) e.get("tensor");
            GoldenCase.assertClose(name + " (t=" + t + ")", s.addNoise(original, noise, t), c.tensor(name), STEP_TOL);
            checked++;
        }
        return checked;
    }
}
