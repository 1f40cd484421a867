package dev.pagoda.diffusion.scheduler;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.tensor.json.Json;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which scheduler a pipeline builds for a call: a class (null = the class the model's
 * {@code scheduler_config.json} names) and config overrides on top of the model's config, as in
 * diffusers' {@code DPMSolverMultistepScheduler.from_config(pipe.scheduler.config, use_karras_sigmas=True)}.
 * Override keys must be fields some scheduler here reads, so a typo is an error instead of being
 * silently ignored; values are JSON values (a null value means "the class default").
 */
public record SchedulerChoice(String className, Map<String, Object> overrides) {

    /** The model's own scheduler, as configured. */
    public static final SchedulerChoice MODEL = new SchedulerChoice(null, Map.of());

    /** The short names the CLI ({@code --scheduler}) and the studio take, and the diffusers class of each. */
    public static final Map<String, String> SHORT_NAMES = Collections.unmodifiableMap(new java.util.TreeMap<>(Map.ofEntries(
            Map.entry("euler", "EulerDiscreteScheduler"),
            Map.entry("euler-a", "EulerAncestralDiscreteScheduler"),
            Map.entry("ddim", "DDIMScheduler"),
            Map.entry("dpm++", "DPMSolverMultistepScheduler"),
            Map.entry("dpm++-single", "DPMSolverSinglestepScheduler"),
            Map.entry("dpm++-sde", "DPMSolverSDEScheduler"),
            Map.entry("deis", "DEISMultistepScheduler"),
            Map.entry("unipc", "UniPCMultistepScheduler"),
            Map.entry("heun", "HeunDiscreteScheduler"),
            Map.entry("lms", "LMSDiscreteScheduler"),
            Map.entry("dpm2", "KDPM2DiscreteScheduler"),
            Map.entry("dpm2-a", "KDPM2AncestralDiscreteScheduler"),
            Map.entry("pndm", "PNDMScheduler"),
            Map.entry("ddpm", "DDPMScheduler"),
            Map.entry("lcm", "LCMScheduler"),
            Map.entry("tcd", "TCDScheduler"))));

    /** Every config field a Pagoda scheduler reads (diffusers' names). */
    public static final Set<String> KNOWN_FIELDS = Collections.unmodifiableSet(new TreeSet<>(List.of(
            "algorithm_type", "beta_end", "beta_schedule", "beta_start", "clip_sample", "clip_sample_range",
            "disable_corrector", "dynamic_thresholding_ratio", "euler_at_final", "final_sigmas_type",
            "interpolation_type", "lambda_min_clipped", "lower_order_final", "noise_sampler_seed",
            "num_train_timesteps", "original_inference_steps", "predict_x0", "prediction_type",
            "rescale_betas_zero_snr", "sample_max_value", "set_alpha_to_one", "sigma_max", "sigma_min",
            "skip_prk_steps", "solver_order", "solver_type", "steps_offset", "thresholding", "timestep_scaling",
            "timestep_spacing", "timestep_type", "trained_betas", "use_beta_sigmas", "use_dynamic_shifting",
            "use_exponential_sigmas", "use_flow_sigmas", "use_karras_sigmas", "use_lu_lambdas",
            "variance_type")));

    public SchedulerChoice {
        if (className != null && !SchedulerFactory.SUPPORTED.contains(className)) {
            throw new IllegalArgumentException("scheduler class \"" + className + "\" is not supported; expected one of "
                    + SchedulerConfig.quoted(SchedulerFactory.SUPPORTED));
        }
        Map<String, Object> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : (overrides == null ? Map.<String, Object>of() : overrides).entrySet()) {
            if (!KNOWN_FIELDS.contains(e.getKey())) {
                throw new IllegalArgumentException("scheduler config override \"" + e.getKey()
                        + "\" is not a field any scheduler reads; expected one of " + KNOWN_FIELDS);
            }
            copy.put(e.getKey(), e.getValue());
        }
        overrides = Collections.unmodifiableMap(copy);
    }

    /** Another class with the model's config. */
    public static SchedulerChoice of(String className) {
        return new SchedulerChoice(className, Map.of());
    }

    /**
     * The scheduler for the model's {@code scheduler_config.json} with the overrides applied.
     *
     * @throws ConfigException naming the file or the field when the result is not a valid config
     */
    public Scheduler build(Path schedulerConfigFile) {
        SchedulerConfig c = SchedulerConfig.read(schedulerConfigFile);
        for (Map.Entry<String, Object> e : overrides.entrySet()) {
            c = c.with(e.getKey(), e.getValue());
        }
        return className == null ? SchedulerFactory.fromConfig(c) : SchedulerFactory.create(className, c);
    }

    /**
     * Parses {@code key=value[,key=value…]} (the CLI's {@code --scheduler-config}): each value is JSON
     * ({@code true}, {@code 3}, {@code 0.5}, {@code null}, {@code "x"}) or, failing that, a bare string
     * ({@code timestep_spacing=trailing}).
     *
     * @throws IllegalArgumentException naming the item that has no {@code =} or an empty key
     */
    public static Map<String, Object> parseOverrides(String spec) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        for (String item : spec.split(",")) {
            int eq = item.indexOf('=');
            String key = eq < 0 ? "" : item.substring(0, eq).trim();
            if (key.isEmpty()) {
                throw new IllegalArgumentException("scheduler config override \"" + item
                        + "\" is not key=value (e.g. use_karras_sigmas=true)");
            }
            out.put(key, value(item.substring(eq + 1).trim()));
        }
        return out;
    }

    private static Object value(String text) {
        if (text.equals("null")) {
            return null;
        }
        try {
            return Json.parseObjectWithNonFinite("{\"v\":" + text + "}").get("v");
        } catch (RuntimeException notJson) {
            return text;
        }
    }
}
