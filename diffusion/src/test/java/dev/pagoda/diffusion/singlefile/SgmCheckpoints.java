package dev.pagoda.diffusion.singlefile;

import java.nio.file.Path;

/** Test helper visible to other test packages: writes the original-layout checkpoint of a diffusers SDXL folder. */
public final class SgmCheckpoints {

    private SgmCheckpoints() {
    }

    public static void write(Path diffusersFolder, Path out) {
        SgmCheckpointWriter.write(diffusersFolder, out);
    }
}
