package dev.pagoda.diffusion.cli;

import dev.pagoda.diffusion.pipeline.HuggingFaceCache;
import dev.pagoda.nn.ConfigException;
import java.nio.file.Path;

/** {@code --model}, {@code --config} and {@code --controlnet} values as folders: see {@link HuggingFaceCache}. */
final class ModelLocator {

    private ModelLocator() {
    }

    static Path resolve(String model) {
        try {
            return HuggingFaceCache.resolve(model);
        } catch (ConfigException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
