package dev.pagoda.diffusion.fuzz;

import dev.pagoda.diffusion.pipeline.SdxlComponents;
import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.vae.AutoencoderKL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Model configs: {@code config.json} of the UNet, the VAE and both CLIP text encoders (parsed and the
 * module tree built from it, as loading does), and a pipeline's {@code model_index.json}. The first
 * input byte picks the kind, the rest is the file.
 */
final class ConfigTarget implements FuzzTarget {

    private static final List<String> FILES = List.of("tiny-sdxl/unet/config.json", "tiny-sdxl/vae/config.json",
            "tiny-sdxl/text_encoder/config.json", "tiny-sdxl/text_encoder_2/config.json",
            "tiny-sdxl/model_index.json");
    private final List<String> seeds;

    ConfigTarget() {
        seeds = FILES.stream().map(f -> Seeds.text("models/" + f)).toList();
    }

    @Override
    public String name() {
        return "config";
    }

    @Override
    public byte[] next(Random r) {
        int kind = r.nextInt(FILES.size());
        byte[] other = seeds.get(r.nextInt(seeds.size())).getBytes(StandardCharsets.UTF_8);
        byte[] body = r.nextInt(5) == 0 ? Mutator.bytes(seeds.get(kind).getBytes(StandardCharsets.UTF_8), other, r)
                : Mutator.json(seeds.get(kind), other, r);
        byte[] out = new byte[body.length + 1];
        out[0] = (byte) kind;
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }

    @Override
    public void run(byte[] input, Path scratch) throws Exception {
        if (input.length == 0) { // Jazzer's first input; the layout needs the kind byte
            input = new byte[1];
        }
        int kind = Math.floorMod(input[0], FILES.size());
        byte[] body = Arrays.copyOfRange(input, 1, input.length);
        if (kind == 4) {
            Path pipe = Files.createDirectories(scratch.resolve("pipe"));
            Files.write(pipe.resolve("model_index.json"), body);
            // Stops at the first component folder (there is none): only model_index.json is parsed.
            SdxlComponents.load(pipe, false).close();
            return;
        }
        Path file = scratch.resolve("config.json");
        Files.write(file, body);
        switch (kind) {
            case 0 -> UNet2DConditionModel.fromConfig(file);
            case 1 -> AutoencoderKL.fromConfig(file);
            default -> ClipTextModel.fromConfig(file);
        }
    }
}
