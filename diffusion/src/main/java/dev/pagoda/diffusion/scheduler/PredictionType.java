package dev.pagoda.diffusion.scheduler;

import java.util.ArrayList;
import java.util.List;

/** What the denoiser predicts ({@code prediction_type}). */
enum PredictionType {
    /** The noise ε. */
    EPSILON("epsilon"),
    /** The clean sample x₀ directly ({@code original_sample} is diffusers' legacy alias). */
    SAMPLE("sample"),
    /** The velocity v = α·ε − σ·x₀ (Imagen Video §2.4). */
    V_PREDICTION("v_prediction");

    final String configName;

    PredictionType(String configName) {
        this.configName = configName;
    }

    /** Parses {@code prediction_type}, accepting only {@code supported}. */
    static PredictionType fromConfig(SchedulerConfig config, String schedulerName, PredictionType... supported) {
        List<String> names = new ArrayList<>();
        for (PredictionType p : supported) {
            names.add(p.configName);
        }
        boolean legacyAlias = List.of(supported).contains(SAMPLE) && "original_sample".equals(
                config.optionalString("prediction_type"));
        if (legacyAlias) {
            return SAMPLE;
        }
        String s = config.choice("prediction_type", "epsilon", names);
        for (PredictionType p : supported) {
            if (p.configName.equals(s)) {
                return p;
            }
        }
        throw config.error("prediction_type", "one of " + SchedulerConfig.quoted(names) + " for " + schedulerName, s);
    }
}
