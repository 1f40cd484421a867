package dev.pagoda.diffusion.conformance;

import static dev.pagoda.tensor.golden.GoldenFixtures.list;
import static dev.pagoda.tensor.golden.GoldenFixtures.map;

import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.diffusion.scheduler.SchedulerConfig;
import dev.pagoda.diffusion.scheduler.SchedulerFactory;
import dev.pagoda.diffusion.scheduler.SchedulerOutput;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code scheduler_*} cases: schedule tables (timesteps and sigmas, rel ≤ 1e-6), full step
 * sequences replayed in order from the stored initial sample, each step fed our own previous output
 * (rel ≤ 1e-5, so multistep state is exercised), and add_noise.
 */
final class SchedulerCases {

    static final double TABLE_TOL = 1e-6;
    static final double STEP_TOL = 1e-5;

    private SchedulerCases() {
    }

    static CaseResult run(Fixtures fx, String name, Map<String, Object> c) {
        Checks chk = new Checks(name);
        SchedulerConfig config = new SchedulerConfig(map(c.get("config")), fx.golden().caseDir(name).resolve("case.json")
                .toString());
        try (SafetensorsFile ref = fx.golden().tensors(name)) {
            Scheduler s = SchedulerFactory.fromConfig(config);
            chk.exact("_class_name", s.className(), map(c.get("config")).get("_class_name"));
            for (Object o : list(c, "tables")) {
                Map<String, Object> table = map(o);
                int n = ((Number) table.get("num_inference_steps")).intValue();
                s.setTimesteps(n);
                String p = "n" + n + ".";
                chk.rel(p + "timesteps", vector(s.timesteps()), ref.tensor(p + "timesteps"), TABLE_TOL);
                chk.rel(p + "sigmas", vector(s.sigmas()), ref.tensor(p + "sigmas"), TABLE_TOL);
                chk.rel(p + "init_noise_sigma", vector(s.initNoiseSigma()),
                        vector(((Number) table.get("init_noise_sigma")).floatValue()), TABLE_TOL);
            }
            for (Object o : list(c, "sequences")) {
                Map<String, Object> seq = map(o);
                int n = ((Number) seq.get("num_inference_steps")).intValue();
                String prefix = "seq" + n;
                List<Tensor> draws = new ArrayList<>();
                for (Object call : list(c, prefix + ".noise_calls")) {
                    draws.add(ref.tensor((String) map(call).get("tensor")));
                }
                NoiseSource noise = NoiseSource.replay(draws);
                s.setTimesteps(n);
                Tensor sample = ref.tensor(prefix + ".initial_sample");
                for (Object st : (List<?>) seq.get("steps")) {
                    Map<String, Object> step = map(st);
                    int i = ((Number) step.get("i")).intValue();
                    float t = ((Number) step.get("t")).floatValue();
                    String p = prefix + ".step" + i + ".";
                    chk.exact(p + "timestep", s.timesteps()[i], t);
                    chk.rel(p + "scaled_model_input", s.scaleModelInput(sample, t), ref.tensor(p + "scaled_model_input"),
                            STEP_TOL);
                    SchedulerOutput out = s.step(ref.tensor(p + "model_output"), t, sample, noise);
                    chk.rel(p + "prev_sample", out.prevSample(), ref.tensor(p + "prev_sample"), STEP_TOL);
                    if (ref.contains(p + "pred_original_sample")) {
                        chk.rel(p + "pred_original_sample", out.predOriginalSample(),
                                ref.tensor(p + "pred_original_sample"), STEP_TOL);
                    }
                    chk.exact(p + "step_index", s.stepIndex(), i + 1);
                    sample = out.prevSample();
                }
            }
            if (ref.contains("add_noise.original")) {
                Tensor original = ref.tensor("add_noise.original");
                Tensor noise = ref.tensor("add_noise.noise");
                for (Object o : list(c, "add_noise")) {
                    Map<String, Object> e = map(o);
                    Scheduler fresh = SchedulerFactory.fromConfig(config);
                    fresh.setTimesteps(((Number) e.get("num_inference_steps")).intValue());
                    String t = (String) e.get("tensor");
                    chk.rel(t, fresh.addNoise(original, noise, ((Number) e.get("t")).floatValue()), ref.tensor(t),
                            STEP_TOL);
                }
            }
        }
        return chk.result();
    }

    private static Tensor vector(float... v) {
        return Tensor.of(v.clone(), v.length);
    }
}
