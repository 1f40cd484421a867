package dev.pagoda.diffusion.fuzz;

import dev.pagoda.tensor.golden.GoldenFixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Seed inputs read from the vendored golden models (top-level golden/, system property pagoda.golden). */
final class Seeds {

    private Seeds() {
    }

    static Path golden() {
        return GoldenFixtures.vendored().root();
    }

    static String text(String relative) {
        try {
            return Files.readString(golden().resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
