package dev.pagoda.diffusion.scheduler;

import java.util.List;

/**
 * How inference timesteps are placed over the training range ({@code timestep_spacing}; Table 2 of
 * "Common Diffusion Noise Schedules and Sample Steps are Flawed"). Each scheduler applies the choice
 * with its own numpy expression, so the formulas live in the schedulers.
 */
enum TimestepSpacing {
    LINSPACE("linspace"),
    LEADING("leading"),
    TRAILING("trailing");

    private static final List<String> NAMES = List.of("linspace", "leading", "trailing");

    final String configName;

    TimestepSpacing(String configName) {
        this.configName = configName;
    }

    static TimestepSpacing fromConfig(SchedulerConfig config, String def) {
        String s = config.choice("timestep_spacing", def, NAMES);
        return values()[NAMES.indexOf(s)];
    }
}
