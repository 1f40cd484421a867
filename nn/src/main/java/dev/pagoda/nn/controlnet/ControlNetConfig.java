package dev.pagoda.nn.controlnet;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.unet.UNetConfig;

/**
 * The fields of a {@code ControlNetModel}'s {@code config.json}: the encoder half of a UNet config
 * (see {@link UNetConfig#encoderHalf}) plus the conditioning image's embedding.
 *
 * @param unet                               conv_in, time embeddings, down and mid blocks
 * @param conditioningChannels               channels of the control image (3 for RGB)
 * @param conditioningEmbeddingOutChannels   widths of {@code controlnet_cond_embedding}; each step
 *                                           after the first halves the resolution
 * @param globalPoolConditions               residuals are averaged over H and W (shuffle ControlNets)
 * @param bgr                                {@code controlnet_conditioning_channel_order} is "bgr":
 *                                           the image's channels are flipped before use
 */
public record ControlNetConfig(
        UNetConfig unet,
        int conditioningChannels,
        int[] conditioningEmbeddingOutChannels,
        boolean globalPoolConditions,
        boolean bgr) {

    public static ControlNetConfig from(JsonConfig c) {
        UNetConfig unet = UNetConfig.encoderHalf(c);
        int[] embed = c.has("conditioning_embedding_out_channels")
                ? c.inRange("conditioning_embedding_out_channels", c.ints("conditioning_embedding_out_channels"),
                        1, 1 << 16)
                : new int[] {16, 32, 96, 256};
        if (embed.length < 1 || embed.length > 8) {
            throw new ConfigException(c.source() + ": conditioning_embedding_out_channels must have 1 to 8 entries,"
                    + " got " + embed.length);
        }
        String order = c.choice("controlnet_conditioning_channel_order", "rgb", java.util.List.of("rgb", "bgr"));
        double midScale = c.number("mid_block_scale_factor", 1);
        if (midScale != 1) {
            throw new ConfigException(c.source() + ": mid_block_scale_factor " + midScale + " is not supported"
                    + " (supported: 1)");
        }
        if (c.has("encoder_hid_dim") || c.has("encoder_hid_dim_type")) {
            throw new ConfigException(c.source() + ": encoder_hid_dim / encoder_hid_dim_type are not supported");
        }
        if (c.has("num_class_embeds")) {
            throw new ConfigException(c.source() + ": num_class_embeds is not supported");
        }
        return new ControlNetConfig(unet,
                c.inRange("conditioning_channels", c.integer("conditioning_channels", 3), 1, 64),
                embed,
                c.bool("global_pool_conditions", false),
                order.equals("bgr"));
    }

    /** How much smaller the latents are than the control image: 2 per embedding step after the first. */
    public int imageScale() {
        return 1 << (conditioningEmbeddingOutChannels.length - 1);
    }
}
