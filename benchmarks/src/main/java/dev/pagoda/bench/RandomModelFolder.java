package dev.pagoda.bench;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Writes a diffusers-layout SDXL folder with deterministic random weights from published configs
 * ({@code benchmarks/configs/sdxl-base-1.0}), so Pagoda and the diffusers peer script time the same
 * weights through their ordinary loaders (mmap'd safetensors in Pagoda, {@code from_pretrained} in
 * diffusers). Vocabulary files come from {@code tokenizerFrom} where the config folder has none (the
 * published configs ship without the 1.4 MB CLIP vocabulary; the test model carries the real one).
 */
final class RandomModelFolder {

    private RandomModelFolder() {
    }

    /** Writes {@code dir} unless it already holds a model_index.json; returns {@code dir}. */
    static Path ensure(Path dir, Path configs, Path tokenizerFrom, DType dtype) {
        if (Files.isRegularFile(dir.resolve("model_index.json"))) {
            return dir;
        }
        try {
            Path tmp = dir.resolveSibling(dir.getFileName() + ".partial");
            deleteTree(tmp);
            Files.createDirectories(tmp);
            copyConfigs(configs, tmp, tokenizerFrom);
            write(tmp, "text_encoder", "model.safetensors", ClipTextModel::fromConfig, dtype);
            write(tmp, "text_encoder_2", "model.safetensors", ClipTextModel::fromConfig, dtype);
            write(tmp, "unet", "diffusion_pytorch_model.safetensors", UNet2DConditionModel::fromConfig, dtype);
            write(tmp, "vae", "diffusion_pytorch_model.safetensors", AutoencoderKL::fromConfig, dtype);
            // model_index.json last and the folder renamed whole: a cut-off run leaves no half model
            Files.copy(configs.resolve("model_index.json"), tmp.resolve("model_index.json"));
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("writing the random model folder " + dir, e);
        }
    }

    private static void copyConfigs(Path configs, Path out, Path tokenizerFrom) throws IOException {
        for (String part : new String[] {"scheduler", "text_encoder", "text_encoder_2", "unet", "vae", "tokenizer",
                "tokenizer_2"}) {
            Path src = configs.resolve(part);
            if (!Files.isDirectory(src)) {
                throw new IllegalArgumentException(src + ": config folder missing");
            }
            Files.createDirectories(out.resolve(part));
            try (var files = Files.list(src)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".json") || p.toString().endsWith(".txt"))
                        .toList()) {
                    Files.copy(f, out.resolve(part).resolve(f.getFileName()));
                }
            }
            if (part.startsWith("tokenizer")) {
                for (String vocab : new String[] {"vocab.json", "merges.txt"}) {
                    Path dst = out.resolve(part).resolve(vocab);
                    if (!Files.exists(dst)) {
                        Files.copy(tokenizerFrom.resolve(part).resolve(vocab), dst);
                    }
                }
            }
        }
    }

    private static void write(Path dir, String part, String file, Function<Path, ? extends Module> build,
            DType dtype) {
        Module m = RealSizeModels.randomize(build.apply(dir.resolve(part).resolve("config.json")), dtype);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            tensors.put(e.getKey(), e.getValue().get());
        }
        long t0 = System.nanoTime();
        SafetensorsWriter.write(dir.resolve(part).resolve(file), tensors);
        System.err.printf("wrote %s/%s in %.1f s%n", part, file, (System.nanoTime() - t0) / 1e9);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
