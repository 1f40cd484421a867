package dev.pagoda.diffusion.scheduler;

import java.util.Arrays;

/**
 * Imagen's dynamic thresholding of the predicted x₀ ({@code thresholding=True}): per batch row, s is
 * the {@code dynamic_thresholding_ratio} quantile of |x₀| clamped to [1, {@code sample_max_value}],
 * and x₀ becomes clamp(x₀, −s, s)/s. The quantile follows {@code torch.quantile} (linear
 * interpolation between order statistics, in float32).
 */
final class DynamicThresholding {

    private final float ratio;
    private final float maxValue;

    private DynamicThresholding(float ratio, float maxValue) {
        this.ratio = ratio;
        this.maxValue = maxValue;
    }

    /** Null when the config leaves thresholding off. */
    static DynamicThresholding fromConfig(SchedulerConfig config) {
        if (!config.bool("thresholding", false)) {
            return null;
        }
        double ratio = config.number("dynamic_thresholding_ratio", 0.995);
        if (!(ratio >= 0 && ratio <= 1)) {
            throw config.error("dynamic_thresholding_ratio", "a number in [0, 1]", ratio);
        }
        return new DynamicThresholding((float) ratio, (float) config.number("sample_max_value", 1.0));
    }

    /** Thresholds {@code x0} (shape {@code shape}, batch first) in place and returns it. */
    float[] apply(float[] x0, int[] shape) {
        int batch = shape.length == 0 ? 1 : shape[0];
        if (batch == 0) {
            return x0;
        }
        int per = x0.length / batch;
        float[] sorted = new float[per];
        for (int b = 0; b < batch; b++) {
            int off = b * per;
            for (int k = 0; k < per; k++) {
                sorted[k] = Math.abs(x0[off + k]);
            }
            Arrays.sort(sorted);
            float rank = ratio * (float) (per - 1);
            int below = (int) rank;
            int above = (int) Math.ceil(rank);
            float w = rank - below;
            float lo = sorted[below];
            float hi = sorted[above];
            float q = w < 0.5f ? lo + w * (hi - lo) : hi - (hi - lo) * (1.0f - w);
            float s = Math.min(Math.max(q, 1.0f), maxValue);
            for (int k = 0; k < per; k++) {
                x0[off + k] = Math.min(Math.max(x0[off + k], -s), s) / s;
            }
        }
        return x0;
    }
}
