package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Finds a model as {@code from_pretrained} does offline: a folder as given, or a Hugging Face repo id
 * ({@code stabilityai/stable-diffusion-xl-base-1.0}) in the local Hugging Face cache
 * ({@code $HF_HUB_CACHE}, {@code $HF_HOME/hub}, or {@code ~/.cache/huggingface/hub}):
 * {@code models--org--name/snapshots/<rev>/}, the revision {@code refs/main} names when present, else
 * the newest snapshot. Nothing is downloaded.
 */
public final class HuggingFaceCache {

    private HuggingFaceCache() {
    }

    /**
     * The folder of {@code model}: itself when it is a folder, else the cached snapshot of that repo id.
     *
     * @throws ConfigException naming what was looked for and where
     */
    public static Path resolve(String model) {
        Path p = Path.of(model);
        if (Files.isDirectory(p)) {
            return p;
        }
        boolean repoId = model.matches("[A-Za-z0-9][\\w.-]*/[\\w.-]+") && !model.startsWith(".");
        if (!repoId) {
            throw new ConfigException("model folder " + model + " not found");
        }
        Path repo = hubCache().resolve("models--" + model.replace("/", "--"));
        Path snapshots = repo.resolve("snapshots");
        Path ref = repo.resolve("refs/main");
        try {
            if (Files.isRegularFile(ref)) {
                Path snap = snapshots.resolve(Files.readString(ref).trim());
                if (Files.isDirectory(snap)) {
                    return snap;
                }
            }
            if (Files.isDirectory(snapshots)) {
                try (Stream<Path> s = Files.list(snapshots)) {
                    Path newest = s.filter(Files::isDirectory)
                            .max(Comparator.comparing(HuggingFaceCache::modified)).orElse(null);
                    if (newest != null) {
                        return newest;
                    }
                }
            }
        } catch (IOException e) {
            throw new ConfigException("cannot read the Hugging Face cache at " + repo + ": " + e.getMessage());
        }
        throw new ConfigException("model " + model + " is neither a folder nor in the Hugging Face cache (looked in "
                + snapshots + "); download it first, e.g. `huggingface-cli download " + model
                + "`, or pass the pipeline folder");
    }

    /** The hub cache folder the environment selects, as huggingface_hub chooses it. */
    public static Path hubCache() {
        String hubCache = System.getenv("HF_HUB_CACHE");
        if (hubCache != null && !hubCache.isBlank()) {
            return Path.of(hubCache);
        }
        String home = System.getenv("HF_HOME");
        if (home != null && !home.isBlank()) {
            return Path.of(home, "hub");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub");
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }
}
