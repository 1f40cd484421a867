package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.PngWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --scheduler NAME --karras --scheduler-config k=v} on the tiny SDXL model. */
class SchedulerOptionsCliTest {

    @Test
    void karrasAndConfigOverridesReachTheScheduler(@TempDir Path dir) throws IOException {
        Path plain = dir.resolve("plain.png");
        Path karras = dir.resolve("karras.png");
        Path overridden = dir.resolve("over.png");
        GenerateCommandTest.Run r = GenerateCommandTest.run(GenerateCommandTest.gen(plain, "--scheduler", "dpm++-single"));
        assertEquals(0, r.code(), r.err());
        r = GenerateCommandTest.run(GenerateCommandTest.gen(karras, "--scheduler", "dpm++-single", "--karras"));
        assertEquals(0, r.code(), r.err());
        r = GenerateCommandTest.run(GenerateCommandTest.gen(overridden, "--scheduler", "deis",
                "--scheduler-config", "timestep_spacing=trailing,solver_order=1"));
        assertEquals(0, r.code(), r.err());
        // The README's example.
        r = GenerateCommandTest.run(GenerateCommandTest.gen(dir.resolve("readme.png"), "--scheduler", "dpm++",
                "--karras", "--scheduler-config", "timestep_spacing=trailing,solver_order=3"));
        assertEquals(0, r.code(), r.err());
        assertEquals("DPMSolverSinglestepScheduler", PngWriter.readText(Files.readAllBytes(karras)).get("sampler"));
        assertEquals("DEISMultistepScheduler", PngWriter.readText(Files.readAllBytes(overridden)).get("sampler"));
        // Karras sigmas change the schedule, so the image changes.
        assertFalse(Arrays.equals(Files.readAllBytes(plain), Files.readAllBytes(karras)));
    }

    @Test
    void badOverridesAreNamed(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("o.png");
        GenerateCommandTest.refused(dir, 2, "\"use_karas_sigmas\" is not a field any scheduler reads",
                GenerateCommandTest.gen(out, "--scheduler-config", "use_karas_sigmas=true"));
        GenerateCommandTest.refused(dir, 2, "is not key=value",
                GenerateCommandTest.gen(out, "--scheduler-config", "karras"));
        GenerateCommandTest.refused(dir, 1, "solver_order",
                GenerateCommandTest.gen(out, "--scheduler", "deis", "--scheduler-config", "solver_order=0"));
    }

    @Test
    void helpListsTheSchedulerOptions() {
        GenerateCommandTest.Run r = GenerateCommandTest.run("generate", "--help");
        for (String flag : new String[] {"--karras", "--scheduler-config", "dpm++-sde", "deis"}) {
            assertTrue(r.out().contains(flag) || r.err().contains(flag), flag);
        }
    }
}
