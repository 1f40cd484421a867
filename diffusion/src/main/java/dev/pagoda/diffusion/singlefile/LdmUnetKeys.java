package dev.pagoda.diffusion.singlefile;

import dev.pagoda.nn.unet.UNetConfig;
import java.util.List;
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
public final class LdmUnetKeys {

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
    private final boolean[] hasAttention;

    public LdmUnetKeys(UNetConfig config) {
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
        hasAttention = new boolean[blocks];
        List<String> up = config.upBlockTypes();
        for (int b = 0; b < blocks; b++) {
            hasAttention[b] = up.get(b).contains("CrossAttn");
        }
    }

    /**
     * The diffusers name of the UNet tensor {@code key} (without {@code model.diffusion_model.}), or
     * {@code key} itself when it fits no rule, so strict loading reports it as unexpected.
     */
    public String toDiffusers(String key) {
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

    private static final Pattern D_DOWN = Pattern.compile("down_blocks\\.(\\d+)\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
    private static final Pattern D_DOWNSAMPLER = Pattern.compile("down_blocks\\.(\\d+)\\.downsamplers\\.0\\.conv\\.(.+)");
    private static final Pattern D_UP = Pattern.compile("up_blocks\\.(\\d+)\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
    private static final Pattern D_UPSAMPLER = Pattern.compile("up_blocks\\.(\\d+)\\.upsamplers\\.0\\.(conv\\..+)");
    private static final Pattern D_MID = Pattern.compile("mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.+)");

    /**
     * The inverse of {@link #toDiffusers}: the original name of the diffusers UNet tensor (or module
     * path plus a suffix) {@code key}, or null when it has none. Kohya's SDXL LoRA files name their
     * targets this way ({@code lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q}).
     */
    public String toLdm(String key) {
        for (String[] f : FIXED) {
            if (key.startsWith(f[1])) {
                return f[0] + key.substring(f[1].length());
            }
        }
        String label = labelEmbedding;
        if (key.startsWith(label + "linear_1.")) {
            return "label_emb.0.0." + key.substring((label + "linear_1.").length());
        }
        if (key.startsWith(label + "linear_2.")) {
            return "label_emb.0.2." + key.substring((label + "linear_2.").length());
        }
        Matcher m = D_DOWN.matcher(key);
        if (m.matches()) {
            int n = find(input, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(3)));
            boolean res = m.group(2).equals("resnets");
            return n < 0 ? null : "input_blocks." + n + (res ? ".0." + ldmResnet(m.group(4)) : ".1." + m.group(4));
        }
        m = D_DOWNSAMPLER.matcher(key);
        if (m.matches()) {
            int n = find(input, Integer.parseInt(m.group(1)), -1);
            return n < 0 ? null : "input_blocks." + n + ".0.op." + m.group(2);
        }
        m = D_UP.matcher(key);
        if (m.matches()) {
            int n = find(output, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(3)));
            boolean res = m.group(2).equals("resnets");
            return n < 0 ? null : "output_blocks." + n + (res ? ".0." + ldmResnet(m.group(4)) : ".1." + m.group(4));
        }
        m = D_UPSAMPLER.matcher(key);
        if (m.matches()) {
            int b = Integer.parseInt(m.group(1));
            int last = -1;
            for (int i = 0; i < output.length; i++) {
                if (output[i][0] == b) {
                    last = i;
                }
            }
            if (last < 0) {
                return null;
            }
            // the upsampler follows the attention in the same slot when the block has one
            return "output_blocks." + last + "." + (hasAttention[b] ? 2 : 1) + "." + m.group(2);
        }
        m = D_MID.matcher(key);
        if (m.matches()) {
            return m.group(1).equals("attentions") ? "middle_block.1." + m.group(3)
                    : "middle_block." + (2 * Integer.parseInt(m.group(2))) + "." + ldmResnet(m.group(3));
        }
        return null;
    }

    private static int find(int[][] table, int block, int layer) {
        for (int i = 0; i < table.length; i++) {
            if (table[i] != null && table[i][0] == block && table[i][1] == layer) {
                return i;
            }
        }
        return -1;
    }

    private static String ldmResnet(String rest) {
        for (String[] r : RESNET) {
            if (rest.startsWith(r[1])) {
                return r[0] + rest.substring(r[1].length());
            }
        }
        return rest;
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
