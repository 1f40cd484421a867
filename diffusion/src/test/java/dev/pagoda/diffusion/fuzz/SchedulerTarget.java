package dev.pagoda.diffusion.fuzz;

import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.diffusion.scheduler.SchedulerFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * {@code scheduler_config.json} for the four schedulers: parsed, built, and asked for a schedule of
 * 1 to 60 steps (full and img2img strength), which is where config values turn into array sizes.
 * The first input byte is the step count.
 */
final class SchedulerTarget implements FuzzTarget {

    private final List<String> seeds;

    SchedulerTarget() {
        String euler = Seeds.text("models/tiny-sdxl/scheduler/scheduler_config.json");
        String dpm = Seeds.text("models/tiny-pixart-sigma/scheduler/scheduler_config.json");
        seeds = List.of(euler, dpm,
                euler.replace("EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler"),
                euler.replace("EulerDiscreteScheduler", "DDIMScheduler"),
                euler.replace("EulerDiscreteScheduler", "DEISMultistepScheduler"),
                dpm.replace("DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler"),
                euler.replace("EulerDiscreteScheduler", "DPMSolverSDEScheduler")
                        .replace("\"steps_offset\"", "\"noise_sampler_seed\": 3, \"steps_offset\""),
                euler.replace("\"use_karras_sigmas\": false", "\"use_karras_sigmas\": true"),
                dpm.replace("\"thresholding\": false", "\"thresholding\": true")
                        .replace("\"prediction_type\": \"epsilon\"", "\"prediction_type\": \"v_prediction\""));
    }

    @Override
    public String name() {
        return "scheduler";
    }

    @Override
    public byte[] next(Random r) {
        String seed = seeds.get(r.nextInt(seeds.size()));
        byte[] other = seeds.get(r.nextInt(seeds.size())).getBytes(StandardCharsets.UTF_8);
        byte[] body = r.nextInt(6) == 0 ? Mutator.bytes(seed.getBytes(StandardCharsets.UTF_8), other, r)
                : Mutator.json(seed, other, r);
        byte[] out = new byte[body.length + 1];
        out[0] = (byte) r.nextInt(256);
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }

    @Override
    public void run(byte[] input, Path scratch) throws Exception {
        if (input.length == 0) { // Jazzer's first input; the layout needs the step byte
            input = new byte[1];
        }
        Path file = scratch.resolve("scheduler_config.json");
        Files.write(file, Arrays.copyOfRange(input, 1, input.length));
        Scheduler s = SchedulerFactory.fromConfigFile(file);
        // More steps than training timesteps is a misuse of setTimesteps, not a config problem.
        int steps = Math.min(1 + Math.floorMod(input[0], 60), s.numTrainTimesteps());
        s.setTimesteps(steps);
        s.timesteps();
        s.initNoiseSigma();
        double strength = 0.3 + (input[0] & 7) / 10.0;
        if ((int) (steps * strength) >= 1) { // fewer is a misuse of setTimesteps, named as such
            SchedulerFactory.fromConfigFile(file).setTimesteps(steps, strength);
        }
    }
}
