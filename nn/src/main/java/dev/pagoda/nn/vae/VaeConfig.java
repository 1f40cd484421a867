package dev.pagoda.nn.vae;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import java.util.List;

/** The fields of {@code vae/config.json} ({@code AutoencoderKL}) with diffusers' defaults. */
public record VaeConfig(
        int inChannels,
        int outChannels,
        int latentChannels,
        int[] blockOutChannels,
        int layersPerBlock,
        int normNumGroups,
        int sampleSize,
        float scalingFactor,
        Float shiftFactor,
        boolean midBlockAddAttention,
        boolean useQuantConv,
        boolean usePostQuantConv,
        float[] latentsMean,
        float[] latentsStd,
        boolean forceUpcast) {

    /** Both per-channel latent statistics are given (Playground v2.5-style VAEs). */
    public boolean hasLatentsMeanStd() {
        return latentsMean != null && latentsStd != null;
    }

    public static VaeConfig from(JsonConfig c) {
        int[] blocks = c.inRange("block_out_channels",
                c.has("block_out_channels") ? c.ints("block_out_channels") : new int[] {64}, 1, 1 << 16);
        c.inRange("block_out_channels (number of blocks)", blocks.length, 1, 16);
        for (String key : List.of("down_block_types", "up_block_types")) {
            if (c.has(key)) {
                List<String> types = c.strings(key);
                String want = key.startsWith("down") ? "DownEncoderBlock2D" : "UpDecoderBlock2D";
                if (types.size() != blocks.length || types.stream().anyMatch(t -> !t.equals(want))) {
                    throw new ConfigException(c.source() + ": " + key + " must list " + blocks.length + " \"" + want
                            + "\" entries, found " + types);
                }
            }
        }
        String act = c.string("act_fn", "silu");
        if (!act.equals("silu")) {
            throw new ConfigException(c.source() + ": unsupported act_fn \"" + act + "\" (supported: silu)");
        }
        // sample_size is one size or [height, width]; the first entry is the one used
        int sample;
        if (c.has("sample_size") && c.raw("sample_size") instanceof List<?>) {
            int[] hw = c.ints("sample_size");
            if (hw.length == 0) {
                throw c.error("sample_size", "a size or a non-empty list of sizes", c.raw("sample_size"));
            }
            sample = hw[0];
        } else {
            sample = c.integer("sample_size", 32);
        }
        return new VaeConfig(
                c.integer("in_channels", 3),
                c.integer("out_channels", 3),
                c.integer("latent_channels", 4),
                blocks,
                c.inRange("layers_per_block", c.integer("layers_per_block", 1), 1, 128),
                c.integer("norm_num_groups", 32),
                sample,
                (float) c.number("scaling_factor", 0.18215),
                c.has("shift_factor") ? (float) c.number("shift_factor") : null,
                c.bool("mid_block_add_attention", true),
                c.bool("use_quant_conv", true),
                c.bool("use_post_quant_conv", true),
                channels(c, "latents_mean", c.integer("latent_channels", 4)),
                channels(c, "latents_std", c.integer("latent_channels", 4)),
                c.bool("force_upcast", true));
    }

    private static float[] channels(JsonConfig c, String key, int n) {
        Object v = c.has(key) ? c.raw(key) : null;
        if (v == null) {
            return null;
        }
        if (!(v instanceof List<?> l) || l.size() != n || !l.stream().allMatch(x -> x instanceof Number)) {
            throw new ConfigException(c.source() + ": " + key + " must be null or a list of " + n + " numbers, found " + v);
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = ((Number) l.get(i)).floatValue();
        }
        return out;
    }
}
