package dev.pagoda.diffusion.singlefile;

import dev.pagoda.tensor.safetensors.TensorInfo;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names of the original autoencoder ({@code first_stage_model.*}) in diffusers' {@code AutoencoderKL}
 * tree, as diffusers' {@code convert_ldm_vae_checkpoint}: {@code down.i.block.j} →
 * {@code down_blocks.i.resnets.j}, the decoder's {@code up.i} counted from the other end
 * ({@code up_blocks.(n-1-i)}), {@code mid.block_1/2} and {@code mid.attn_1}, whose q/k/v/proj_out are
 * 1×1 convolutions in the original and linear layers in diffusers (read as a reshaped view).
 */
final class LdmVaeKeys {

    private static final Pattern DOWN = Pattern.compile("encoder\\.down\\.(\\d+)\\.(block\\.(\\d+)|downsample)\\.(.+)");
    private static final Pattern UP = Pattern.compile("decoder\\.up\\.(\\d+)\\.(block\\.(\\d+)|upsample)\\.(.+)");
    private static final Pattern MID = Pattern.compile("(encoder|decoder)\\.mid\\.(block_([12])|attn_1)\\.(.+)");
    private static final Pattern NORM_OUT = Pattern.compile("(encoder|decoder)\\.norm_out\\.(.+)");
    private static final String[][] ATTENTION = {
        {"norm.", "group_norm."}, {"q.", "to_q."}, {"k.", "to_k."}, {"v.", "to_v."}, {"proj_out.", "to_out.0."},
    };

    private final int upBlocks;

    LdmVaeKeys(int upBlocks) {
        this.upBlocks = upBlocks;
    }

    /** The diffusers name and view of the VAE tensor {@code key} (without {@code first_stage_model.}). */
    ConvertedStore.View view(String key, TensorInfo info) {
        if (key.contains(".mid.attn_1.") && key.endsWith(".weight") && info.rank() > 2) {
            int[] s = info.shape();
            return new ConvertedStore.Reshape(new int[] {s[0], s[1]});
        }
        return new ConvertedStore.Same();
    }

    String toDiffusers(String key) {
        Matcher m = DOWN.matcher(key);
        if (m.matches()) {
            String block = "encoder.down_blocks." + m.group(1) + ".";
            return m.group(3) != null ? block + "resnets." + m.group(3) + "." + resnet(m.group(4))
                    : block + "downsamplers.0." + m.group(4);
        }
        m = UP.matcher(key);
        if (m.matches()) {
            int i = Integer.parseInt(m.group(1));
            if (i >= upBlocks) {
                return key;
            }
            String block = "decoder.up_blocks." + (upBlocks - 1 - i) + ".";
            return m.group(3) != null ? block + "resnets." + m.group(3) + "." + resnet(m.group(4))
                    : block + "upsamplers.0." + m.group(4);
        }
        m = MID.matcher(key);
        if (m.matches()) {
            String mid = m.group(1) + ".mid_block.";
            if (m.group(3) != null) {
                return mid + "resnets." + (Integer.parseInt(m.group(3)) - 1) + "." + resnet(m.group(4));
            }
            for (String[] a : ATTENTION) {
                if (m.group(4).startsWith(a[0])) {
                    return mid + "attentions.0." + a[1] + m.group(4).substring(a[0].length());
                }
            }
            return key;
        }
        m = NORM_OUT.matcher(key);
        if (m.matches()) {
            return m.group(1) + ".conv_norm_out." + m.group(2);
        }
        return key;
    }

    private static String resnet(String rest) {
        return rest.startsWith("nin_shortcut.") ? "conv_shortcut." + rest.substring("nin_shortcut.".length()) : rest;
    }
}
