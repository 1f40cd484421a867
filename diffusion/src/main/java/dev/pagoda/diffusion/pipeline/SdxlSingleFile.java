package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.singlefile.CheckpointException;
import dev.pagoda.diffusion.singlefile.CheckpointFamily;
import dev.pagoda.diffusion.singlefile.ShippedConfigs;
import dev.pagoda.diffusion.singlefile.SingleFileCheckpoint;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.unet.UNetConfig;
import dev.pagoda.nn.vae.VaeConfig;
import dev.pagoda.tensor.safetensors.TensorStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SDXL components from one original-layout checkpoint, as diffusers' {@code from_single_file}: the
 * weights are the checkpoint's tensors under diffusers' names (views, no copies); the architecture,
 * tokenizers and scheduler come from a diffusers folder whose weights are ignored ({@code config}),
 * or, when none is given, from the published configs Pagoda ships for the detected family.
 */
final class SdxlSingleFile {

    private SdxlSingleFile() {
    }

    /**
     * @param config a diffusers SDXL folder giving configs and tokenizers, or null for the shipped ones
     * @throws CheckpointException for a file of no known layout, or a family Pagoda has no pipeline for
     */
    static SdxlComponents load(Path file, Path config) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file + ": checkpoint file not found");
        }
        SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file);
        try {
            CheckpointFamily family = ckpt.family();
            if (family != CheckpointFamily.SDXL_BASE && family != CheckpointFamily.SDXL_INPAINTING) {
                throw new CheckpointException(file + ": a " + family.title() + " checkpoint; Pagoda's pipelines run "
                        + "SDXL base and SDXL inpainting checkpoints (its key layout is recognised, but there is no "
                        + family.title() + " pipeline)");
            }
            Path configDir = config != null ? config : ShippedConfigs.folder(family);
            if (!Files.isDirectory(configDir)) {
                throw new CheckpointException(configDir + ": config folder not found");
            }
            UNetConfig unetConfig = unetConfig(configDir, config == null && family == CheckpointFamily.SDXL_INPAINTING);
            VaeConfig vaeConfig = VaeConfig.from(JsonConfig.read(configDir.resolve("vae/config.json")));
            Map<String, TensorStore> weights = new LinkedHashMap<>();
            weights.put("text_encoder", ckpt.clipL());
            weights.put("text_encoder_2", ckpt.openClip());
            weights.put("unet", ckpt.unet(unetConfig));
            weights.put("vae", ckpt.vae(vaeConfig.blockOutChannels().length));
            return SdxlComponents.assemble(file, configDir, config == null ? ShippedConfigs.clipBpe() : null,
                    unetConfig, configDir.resolve("vae"), weights, new java.util.ArrayList<>(List.of(ckpt.store())));
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    /** The folder's UNet config; for a bare inpainting checkpoint, the base config with 9 input channels. */
    private static UNetConfig unetConfig(Path configDir, boolean inpainting) {
        JsonConfig c = JsonConfig.read(configDir.resolve("unet/config.json"));
        if (inpainting) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (String k : c.keys()) {
                m.put(k, c.raw(k));
            }
            m.put("in_channels", 9L);
            c = new JsonConfig(c.source() + " (in_channels 9 for inpainting)", m);
        }
        return UNetConfig.from(c);
    }
}
