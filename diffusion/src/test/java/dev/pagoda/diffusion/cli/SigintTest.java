package dev.pagoda.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** {@code pagoda generate} in its own JVM, interrupted with SIGINT after its first step line. */
class SigintTest {

    static final Path TINY = Path.of(System.getProperty("pagoda.golden"), "models", "tiny-sdxl");

    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void sigintAfterTheFirstStepExitsWith130AndWritesNothing(@TempDir Path dir) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "generate", "--model", TINY.toString(), "--prompt", "a red cube",
                // enough steps that the run cannot end before the signal lands
                "--steps", "1000", "--width", "128", "--height", "128", "--out", dir.resolve("x.png").toString()));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        StringBuilder err = new StringBuilder();
        CountDownLatch firstStep = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getErrorStream()) {
                byte[] buf = new byte[4096];
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (err) {
                        err.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                        if (err.indexOf("step 1/1000") >= 0) {
                            firstStep.countDown();
                        }
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        });
        reader.start();
        try {
            assertTrue(firstStep.await(120, TimeUnit.SECONDS), "no step line: " + err);
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start();
            assertEquals(0, kill.waitFor());
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the run did not stop");
            reader.join(10_000);
            String log;
            synchronized (err) {
                log = err.toString();
            }
            assertEquals(GenerateCommand.CANCELLED, p.exitValue(), log);
            assertTrue(log.contains("interrupted") && log.contains("nothing written"), log);
            assertTrue(!log.contains("step 1000/1000"), log);
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(List.of(), s.toList(), "files left behind");
            }
        } finally {
            p.destroyForcibly();
        }
    }
}
