package dev.pagoda.diffusion.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The same parsers under Jazzer's coverage-guided fuzzing (libFuzzer mutating raw bytes, steered by
 * branch coverage of {@code dev.pagoda.**}). Each method takes the byte layout its {@link FuzzTarget}
 * documents. In an ordinary test run (no {@code JAZZER_FUZZ}) Jazzer only replays the inputs under
 * {@code src/test/resources/dev/pagoda/diffusion/fuzz/JazzerFuzzTestInputs/<method>/} (seeds drawn from
 * the targets' generators); with {@code JAZZER_FUZZ=1} it fuzzes the one method named by
 * {@code -Dtest}; RELIABILITY.md has the command. Findings: anything but success or a named Pagoda
 * exception.
 */
class JazzerFuzzTest {

    private static final Path SCRATCH;

    static {
        try {
            SCRATCH = Files.createTempDirectory("pagoda-jazzer");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final FuzzTarget SAFETENSORS = new SafetensorsTarget();
    private static final FuzzTarget JSON = new JsonTarget();
    private static final FuzzTarget CONFIG = new ConfigTarget();
    private static final FuzzTarget SCHEDULER = new SchedulerTarget();
    private static final FuzzTarget TOKENIZER = new TokenizerTarget();
    private static final FuzzTarget IMAGE = new ImageTarget();
    private static final FuzzTarget CLI = new CliTarget();

    private static void feed(FuzzTarget t, byte[] data) throws Exception {
        try {
            t.run(data, SCRATCH);
        } catch (RuntimeException e) {
            if (!FuzzRunner.named(e)) {
                throw e;
            }
        }
    }

    @FuzzTest(maxDuration = "10m")
    void safetensors(byte[] data) throws Exception {
        feed(SAFETENSORS, data);
    }

    @FuzzTest(maxDuration = "10m")
    void json(byte[] data) throws Exception {
        feed(JSON, data);
    }

    @FuzzTest(maxDuration = "10m")
    void config(byte[] data) throws Exception {
        feed(CONFIG, data);
    }

    @FuzzTest(maxDuration = "10m")
    void scheduler(byte[] data) throws Exception {
        feed(SCHEDULER, data);
    }

    @FuzzTest(maxDuration = "10m")
    void tokenizer(byte[] data) throws Exception {
        feed(TOKENIZER, data);
    }

    @FuzzTest(maxDuration = "10m")
    void image(byte[] data) throws Exception {
        feed(IMAGE, data);
    }

    @FuzzTest(maxDuration = "10m")
    void cli(byte[] data) throws Exception {
        feed(CLI, data);
    }
}
