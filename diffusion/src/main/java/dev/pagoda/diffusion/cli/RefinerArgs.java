package dev.pagoda.diffusion.cli;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.unet.UNetConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code --refiner DIR --high-noise-frac F}: diffusers' ensemble of experts. The base runs the first
 * {@code F} of the schedule ({@code denoising_end=F}, latent output), the refiner img2img pipeline the
 * rest from those latents ({@code denoising_start=F}), both drawing from one generator. Everything
 * about the refiner folder is checked before any model loads, so a bad refiner writes nothing.
 *
 * @param folder        the refiner's diffusers folder
 * @param highNoiseFrac the hand-off point, in (0, 1)
 */
record RefinerArgs(Path folder, double highNoiseFrac) {

    static final String HELP = """
              --refiner DIR            SDXL refiner folder (stabilityai/stable-diffusion-xl-refiner-1.0
                                       layout): the base runs to --high-noise-frac and hands its
                                       latents to the refiner, which runs the rest (ensemble of experts)
              --high-noise-frac F      where the base stops and the refiner starts, in (0, 1) (default 0.8)
            """;

    /** The flags' refiner, or null without {@code --refiner}; {@code model} is the base folder. */
    static RefinerArgs parse(Args a, Path model, boolean sdxlFolder) {
        if (!a.has("refiner")) {
            if (a.has("high-noise-frac")) {
                throw new UsageException("--high-noise-frac needs --refiner");
            }
            return null;
        }
        for (String f : List.of("init-image", "mask", "strength", "controlnet")) {
            if (a.has(f)) {
                throw new UsageException("--refiner runs after SDXL text-to-image; it does not combine with --" + f);
            }
        }
        if (!sdxlFolder) {
            throw new UsageException("--refiner needs an SDXL pipeline folder as --model, got " + model);
        }
        String v = a.get("high-noise-frac", "0.8");
        double frac;
        try {
            frac = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--high-noise-frac must be a number, got \"" + v + "\"");
        }
        if (!(frac > 0 && frac < 1)) {
            throw new UsageException("--high-noise-frac must be in (0, 1), got " + v);
        }
        Path dir = ModelLocator.resolve(a.get("refiner", null));
        if (!Files.isDirectory(dir)) {
            throw new UsageException("--refiner: folder " + dir + " not found");
        }
        check(dir, model);
        return new RefinerArgs(dir, frac);
    }

    /** A refiner folder: model_index.json with requires_aesthetics_score, a UNet for 5 time ids fitting the base. */
    private static void check(Path dir, Path base) {
        Path index = dir.resolve("model_index.json");
        if (!Files.isRegularFile(index)) {
            throw new UsageException("--refiner: " + dir + " is not a diffusers pipeline folder (no model_index.json)");
        }
        try {
            JsonConfig mi = JsonConfig.read(index);
            if (!mi.bool("requires_aesthetics_score", false)) {
                throw new UsageException("--refiner: " + dir + " is not an SDXL refiner (model_index.json has no"
                        + " requires_aesthetics_score true)");
            }
            UNetConfig unet = readUnet(dir);
            UNetConfig baseUnet = readUnet(base);
            JsonConfig te2 = JsonConfig.read(dir.resolve("text_encoder_2/config.json"));
            int pooled = te2.integer("projection_dim", 0);
            if (unet.projectionClassEmbeddingsInputDim() != 5 * unet.additionTimeEmbedDim() + pooled) {
                throw new UsageException("--refiner: " + dir + "'s UNet does not take the refiner's 5 time ids"
                        + " (projection_class_embeddings_input_dim " + unet.projectionClassEmbeddingsInputDim()
                        + ", expected 5 x " + unet.additionTimeEmbedDim() + " + " + pooled + ")");
            }
            if (unet.inChannels() != baseUnet.inChannels()) {
                throw new UsageException("--refiner: the refiner UNet's in_channels " + unet.inChannels()
                        + " does not match the base UNet's " + baseUnet.inChannels());
            }
        } catch (ConfigException e) {
            throw new UsageException("--refiner: " + e.getMessage());
        }
    }

    private static UNetConfig readUnet(Path dir) {
        Path cfg = dir.resolve("unet/config.json");
        if (!Files.isRegularFile(cfg)) {
            throw new UsageException("--refiner: " + cfg + " not found");
        }
        return UNetConfig.from(JsonConfig.read(cfg));
    }
}
