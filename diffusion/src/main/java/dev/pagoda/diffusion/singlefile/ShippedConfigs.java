package dev.pagoda.diffusion.singlefile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.Map;

/**
 * The published configs and tokenizer files Pagoda ships for the known families, so that a bare
 * checkpoint loads offline. They are class-path resources read in place as {@link Path}s (a folder
 * when running from classes, a zip file system inside the jar), so the usual folder readers take them.
 */
public final class ShippedConfigs {

    private static final String ROOT = "/dev/pagoda/diffusion/singlefile/";

    private ShippedConfigs() {
    }

    /**
     * The diffusers config folder (no weights) for {@code family}.
     *
     * @throws CheckpointException when Pagoda ships none for it
     */
    public static Path folder(CheckpointFamily family) {
        return switch (family) {
            case SDXL_BASE, SDXL_INPAINTING -> resource("sdxl-base-1.0", "model_index.json");
            default -> throw new CheckpointException("Pagoda ships no configs for " + family.title()
                    + " checkpoints; pass a diffusers folder of that model with --config DIR");
        };
    }

    /** The folder holding OpenAI CLIP's {@code vocab.json} and {@code merges.txt}. */
    public static Path clipBpe() {
        return resource("clip-bpe", "vocab.json");
    }

    private static synchronized Path resource(String name, String marker) {
        URL url = ShippedConfigs.class.getResource(ROOT + name + "/" + marker);
        if (url == null) {
            throw new IllegalStateException("resource " + ROOT + name + " is missing from the Pagoda jar");
        }
        try {
            URI uri = url.toURI();
            if ("jar".equals(uri.getScheme())) {
                try {
                    FileSystems.newFileSystem(uri, Map.of());
                } catch (FileSystemAlreadyExistsException e) {
                    // opened by an earlier call: Path.of finds it
                }
            }
            Path p = Path.of(uri);
            return p.getParent();
        } catch (URISyntaxException | IOException e) {
            throw new UncheckedIOException(new IOException("cannot read the shipped resource " + name + ": " + e, e));
        }
    }
}
