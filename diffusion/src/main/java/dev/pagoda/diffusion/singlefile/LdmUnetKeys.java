package dev.pagoda.diffusion.singlefile;

import dev.pagoda.nn.unet.UNetConfig;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names of the original (CompVis LDM / Stability SGM) UNet, {@code model.diffusion_model.*}, in the
 * diffusers module tree. The LDM UNet numbers its blocks flat ({@code input_blocks.N},
 * {@code output_blocks.N}); which diffusers block and layer a number is follows from the config's
 * {@code layers_per_block}: down block {@code b} takes {@code layers_per_block[b]} resnet slots plus one
 * downsampler slot (not the last block), up block {@code b} takes one more resnet slot than its down
 * twin, with its upsampler inside its last slot. The same rule as diffusers' {@code convert_ldm_unet_checkpoint},
 * written as a table so per-block layer counts work too.
 */
final class LdmUnetKeys {

    private static final Pattern INPUT = Pattern.compile("input_blocks\\.(\\d+)\\.([01])\\.(.+)");
    private static final Pattern MIDDLE = Pattern.compile("middle_block\\.([012])\\.(.+)");
    private static final Pattern OUTPUT = Pattern.compile("output_blocks\\.(\\d+)\\.([012])\\.(.+)");
    private static final String[][] FIXED = {
        {"time_embed.0.", "time_embedding.linear_1."},
        {"time_embed.2.", "time_embedding.linear_2."},
        {"input_blocks.0.0.", "conv_in."},
        {"out.0.", "conv_norm_out."},
        {"out.2.", "conv_out."},
    };
    private static final String[][] RESNET = {
        {"in_layers.0.", "norm1."},
        {"in_layers.2.", "conv1."},
        {"out_layers.0.", "norm2."},
        {"out_layers.3.", "conv2."},
        {"emb_layers.1.", "time_emb_proj."},
        {"skip_connection.", "conv_shortcut."},
    };

    /** Diffusers block and layer of each flat LDM index; layer -1 is the down/upsampler slot. */
    private final int[][] input;
    private final int[][] output;
    private final String labelEmbedding;

    LdmUnetKeys(UNetConfig config) {
        int[] layers = config.layersPerBlock();
        int blocks = layers.length;
        int inputs = 1;
        int outputs = 0;
        for (int b = 0; b < blocks; b++) {
            inputs += layers[b] + (b < blocks - 1 ? 1 : 0);
            outputs += layers[blocks - 1 - b] + 1;
        }
        input = new int[inputs][];
        output = new int[outputs][];
        int i = 1;
        int o = 0;
        for (int b = 0; b < blocks; b++) {
            for (int l = 0; l < layers[b]; l++) {
                input[i++] = new int[] {b, l};
            }
            if (b < blocks - 1) {
                input[i++] = new int[] {b, -1};
            }
            for (int l = 0; l < layers[blocks - 1 - b] + 1; l++) {
                output[o++] = new int[] {b, l};
            }
        }
        labelEmbedding = config.textTime() ? "add_embedding." : "class_embedding.";
    }

    /**
     * The diffusers name of the UNet tensor {@code key} (without {@code model.diffusion_model.}), or
     * {@code key} itself when it fits no rule, so strict loading reports it as unexpected.
     */
    String toDiffusers(String key) {
        for (String[] f : FIXED) {
            if (key.startsWith(f[0])) {
                return f[1] + key.substring(f[0].length());
            }
        }
        if (key.startsWith("label_emb.0.0.")) {
            return labelEmbedding + "linear_1." + key.substring("label_emb.0.0.".length());
        }
        if (key.startsWith("label_emb.0.2.")) {
            return labelEmbedding + "linear_2." + key.substring("label_emb.0.2.".length());
        }
        Matcher m = INPUT.matcher(key);
        if (m.matches()) {
            int n = Integer.parseInt(m.group(1));
            if (n >= 1 && n < input.length) {
                int b = input[n][0];
                int l = input[n][1];
                String rest = m.group(3);
                String down = "down_blocks." + b + ".";
                if (l < 0) {
                    return m.group(2).equals("0") && rest.startsWith("op.")
                            ? down + "downsamplers.0.conv." + rest.substring(3) : key;
                }
                return m.group(2).equals("0") ? down + "resnets." + l + "." + resnet(rest)
                        : down + "attentions." + l + "." + rest;
            }
            return key;
        }
        m = MIDDLE.matcher(key);
        if (m.matches()) {
            int n = Integer.parseInt(m.group(1));
            return n == 1 ? "mid_block.attentions.0." + m.group(2)
                    : "mid_block.resnets." + (n / 2) + "." + resnet(m.group(2));
        }
        m = OUTPUT.matcher(key);
        if (m.matches()) {
            int n = Integer.parseInt(m.group(1));
            if (n >= output.length) {
                return key;
            }
            String up = "up_blocks." + output[n][0] + ".";
            int slot = Integer.parseInt(m.group(2));
            String rest = m.group(3);
            if (slot == 0) {
                return up + "resnets." + output[n][1] + "." + resnet(rest);
            }
            if (rest.startsWith("conv.")) {
                return up + "upsamplers.0." + rest;
            }
            return slot == 1 ? up + "attentions." + output[n][1] + "." + rest : key;
        }
        return key;
    }

    private static String resnet(String rest) {
        for (String[] r : RESNET) {
            if (rest.startsWith(r[0])) {
                return r[1] + rest.substring(r[0].length());
            }
        }
        return rest;
    }
}
