package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * {@code generate} from several threads at once, on one pipeline and on {@code fromPipe} siblings
 * sharing its modules, with different PAG layers and scales: every result must be bit-equal to the
 * same call made alone.
 */
class ConcurrentGenerateTest {

    static final Path TINY = GoldenFixtures.vendored().model("tiny-sdxl");
    static final int THREADS = 4;
    static final int ROUNDS = 3;

    private record Job(String name, SdxlPipeline pipe, Supplier<GenerationParams> params) {
    }

    @Test
    void concurrentCallsAreBitEqualToSequentialOnes() throws Exception {
        try (SdxlPipeline mid = AutoPipelineForText2Image.fromPretrained(TINY,
                PipelineOptions.pag(List.of("mid")))) {
            SdxlPipeline down = AutoPipelineForText2Image.fromPipe(mid, true,
                    List.of("down_blocks.2", "up_blocks.1"));
            SdxlPipeline plain = AutoPipelineForText2Image.fromPipe(mid, false);
            SdxlPipeline i2i = AutoPipelineForImage2Image.fromPipe(mid, true, List.of("up_blocks.0"));
            List<Job> jobs = new ArrayList<>();
            float[] scales = {3f, 1.5f, 0f};
            for (int k = 0; k < scales.length; k++) {
                float s = scales[k];
                long seed = 10 + k;
                jobs.add(new Job("mid pag " + s, mid, () -> latent("a red cube").pagScale(s).seed(seed).build()));
                jobs.add(new Job("down pag " + s, down, () -> latent("a blue ball").pagScale(s).guidanceScale(1f)
                        .seed(seed).build()));
            }
            jobs.add(new Job("plain", plain, () -> latent("a cat").seed(4).build()));
            jobs.add(new Job("mid image", mid, () -> GenerationParams.builder("a dog").steps(2).size(64, 64)
                    .pagAdaptiveScale(0.2f).seed(5).build()));
            jobs.add(new Job("img2img", i2i, () -> GenerationParams.builder("a tree").steps(3).size(64, 64)
                    .strength(0.7f).image(dev.pagoda.tensor.Tensor.zeros(1, 3, 64, 64)).seed(6).build()));

            List<float[]> expected = new ArrayList<>();
            for (Job j : jobs) {
                expected.add(run(j));
            }
            // the layouts really differ: PAG, its layers and its scale each change the result
            assertTrue(!Arrays.equals(expected.get(0), expected.get(2)), "PAG scale changed nothing");
            assertTrue(!Arrays.equals(expected.get(0), expected.get(4)), "PAG off changed nothing");

            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                for (int round = 0; round < ROUNDS; round++) {
                    CyclicBarrier start = new CyclicBarrier(THREADS);
                    List<Future<?>> futures = new ArrayList<>();
                    for (int t = 0; t < THREADS; t++) {
                        int offset = t * 3 + round;
                        futures.add(pool.submit(() -> {
                            start.await();
                            // each thread walks the jobs from a different place, so different
                            // layouts and siblings overlap
                            for (int i = 0; i < jobs.size(); i++) {
                                int j = (offset + i) % jobs.size();
                                assertArrayEquals(expected.get(j), run(jobs.get(j)), jobs.get(j).name());
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : futures) {
                        f.get();
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static GenerationParams.Builder latent(String prompt) {
        return GenerationParams.builder(prompt).steps(3).size(64, 64).outputType(GenerationParams.OutputType.LATENT);
    }

    private static float[] run(Job j) {
        GenerationResult r = j.pipe().generate(j.params().get());
        return r.image() != null ? r.image().toFloatArray() : r.latents().toFloatArray();
    }
}
