package dev.pagoda.diffusion.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Seed inputs read from the vendored golden models (top-level golden/, system property pagoda.golden). */
final class Seeds {

    private Seeds() {
    }

    static Path golden() {
        String p = System.getProperty("pagoda.golden");
        if (p == null) {
            throw new IllegalStateException("system property pagoda.golden is not set (surefire sets it)");
        }
        return Path.of(p);
    }

    static String text(String relative) {
        try {
            return Files.readString(golden().resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
