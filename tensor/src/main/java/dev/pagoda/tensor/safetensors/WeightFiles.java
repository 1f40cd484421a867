package dev.pagoda.tensor.safetensors;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds and opens the weights of one model folder as diffusers and transformers lay them out:
 * {@code <stem>.safetensors}, or a sharded {@code <stem>.safetensors.index.json}, and their fp16
 * variants. The stem is {@code diffusion_pytorch_model} for diffusers models and {@code model}
 * for transformers models (text encoders).
 *
 * <p>Variant names follow the libraries' rule of putting the variant before the last extension:
 * {@code <stem>.fp16.safetensors} and {@code <stem>.safetensors.index.fp16.json}; the form
 * {@code <stem>.fp16.safetensors.index.json} is accepted too. As in diffusers, an index wins over
 * a single file of the same variant.
 */
public final class WeightFiles {

    private WeightFiles() {
    }

    /**
     * File names to look for, best first: the preferred variant's names (index, then single file),
     * then the other variant's, so a folder that only has one variant still loads.
     */
    public static List<String> candidates(String stem, boolean preferFp16) {
        List<String> full = List.of(stem + ".safetensors.index.json", stem + ".safetensors");
        List<String> half = List.of(stem + ".safetensors.index.fp16.json", stem + ".fp16.safetensors.index.json",
                stem + ".fp16.safetensors");
        return preferFp16 ? concat(half, full) : concat(full, half);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return Stream.concat(a.stream(), b.stream()).toList();
    }

    /**
     * The weight file (a {@code .safetensors} file or an index) to load from {@code folder}.
     *
     * @throws SafetensorsException naming the folder and every name looked for, when none exists
     */
    public static Path find(Path folder, String stem, boolean preferFp16) {
        if (!Files.isDirectory(folder)) {
            throw new SafetensorsException(folder, Files.exists(folder) ? "not a folder" : "no such folder");
        }
        List<String> names = candidates(stem, preferFp16);
        for (String name : names) {
            Path p = folder.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new SafetensorsException(folder, "no weights found; looked for " + String.join(", ", names));
    }

    /** Opens the weights of {@code folder} (see {@link #find}). */
    public static TensorStore open(Path folder, String stem, boolean preferFp16) {
        return open(find(folder, stem, preferFp16));
    }

    /** Opens one weight file: an index ({@code .json}) as a {@link ShardedSafetensors}, anything else as a {@link SafetensorsFile}. */
    public static TensorStore open(Path file) {
        Path name = file.getFileName();
        return name != null && name.toString().endsWith(".json") ? ShardedSafetensors.open(file)
                : SafetensorsFile.open(file);
    }
}
