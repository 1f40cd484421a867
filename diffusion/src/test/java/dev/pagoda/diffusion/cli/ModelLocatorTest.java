package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLocatorTest {

    @Test
    void aFolderIsTakenAsIs(@TempDir Path dir) {
        assertEquals(dir, ModelLocator.resolve(dir.toString()));
    }

    @Test
    void aRepoIdResolvesToTheSnapshotThatRefsMainNames(@TempDir Path home) throws Exception {
        assumeTrue(System.getenv("HF_HOME") == null && System.getenv("HF_HUB_CACHE") == null,
                "HF_HOME / HF_HUB_CACHE set in this environment: the cache location is not the default one");
        String saved = System.getProperty("user.home");
        System.setProperty("user.home", home.toString());
        try {
            Path repo = home.resolve(".cache/huggingface/hub/models--stabilityai--stable-diffusion-xl-base-1.0");
            Path snap = Files.createDirectories(repo.resolve("snapshots/462165984030d82259a11f4367a4eed129e94a7b"));
            Files.createDirectories(repo.resolve("snapshots/0000000000000000000000000000000000000000"));
            Files.createDirectories(repo.resolve("refs"));
            Files.writeString(repo.resolve("refs/main"), "462165984030d82259a11f4367a4eed129e94a7b\n");
            assertEquals(snap, ModelLocator.resolve("stabilityai/stable-diffusion-xl-base-1.0"));

            UsageException e = assertThrows(UsageException.class, () -> ModelLocator.resolve("org/absent-model"));
            assertTrue(e.getMessage().contains("models--org--absent-model") && e.getMessage().contains("download"),
                    e.getMessage());
        } finally {
            System.setProperty("user.home", saved);
        }
    }
}
