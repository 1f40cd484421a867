package dev.pagoda.diffusion.fuzz;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Writes the seed inputs Jazzer starts from (and replays in ordinary test runs): the first few cases
 * of each target's generator. Run with the test class path and {@code -Dpagoda.golden=golden}:
 * {@code java ... dev.pagoda.diffusion.fuzz.JazzerSeeds diffusion/src/test/resources/dev/pagoda/diffusion/fuzz/JazzerFuzzTestInputs}.
 */
public final class JazzerSeeds {

    private JazzerSeeds() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        for (FuzzTarget t : FuzzCorpusTest.targets()) {
            Path dir = Files.createDirectories(out.resolve(t.name()));
            for (int i = 0; i < 6; i++) {
                Files.write(dir.resolve("seed-" + i), t.next(new Random(i)));
            }
        }
    }
}
