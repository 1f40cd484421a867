package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A step callback or a cancellation token stops a run; close() waits for running calls. */
class CancellationTest {

    static final Path TINY = GoldenFixtures.vendored().model("tiny-sdxl");

    private static GenerationParams.Builder params() {
        return GenerationParams.builder("a red cube").steps(4).size(64, 64).seed(3);
    }

    /** Generates and writes a PNG the way an application would; the file exists only if generate returned. */
    private static void generateTo(SdxlPipeline pipe, GenerationParams p, Path out) {
        GenerationResult r = pipe.generate(p);
        PngWriter.write(ImageTensors.toImage(r.image()), Map.of(), out);
    }

    private static long files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void callbackCancelStopsAfterThatStepAndNothingIsWritten(@TempDir Path dir) throws IOException {
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY,
                PipelineOptions.pag(List.of("mid")))) {
            int[] calls = new int[1];
            pipe.setObserver((i, in, out) -> calls[0]++);
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> generateTo(pipe, params().callback(s -> {
                        if (s.index() == 1) {
                            s.cancel();
                        }
                    }).build(), dir.resolve("out.png")));
            assertEquals(2, e.completedSteps());
            assertEquals(2, calls[0], "denoiser calls after the cancelling step");
            assertEquals(0, files(dir));
        }
    }

    @Test
    void tokenCancelledFromAnotherThreadStopsAtTheNextStep(@TempDir Path dir) throws Exception {
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY,
                PipelineOptions.pag(List.of("mid")))) {
            Cancellation cancel = new Cancellation();
            CountDownLatch firstStep = new CountDownLatch(1);
            CountDownLatch cancelled = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread run = new Thread(() -> {
                try {
                    generateTo(pipe, params().steps(20).cancellation(cancel).callback(s -> {
                        firstStep.countDown();
                        if (s.index() == 0) {
                            await(cancelled);
                        }
                    }).build(), dir.resolve("out.png"));
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            run.start();
            assertTrue(firstStep.await(60, TimeUnit.SECONDS));
            cancel.cancel();
            cancelled.countDown();
            run.join(60_000);
            GenerationCancelledException e = (GenerationCancelledException) failure.get();
            assertEquals(1, e.completedSteps());
            assertEquals(0, files(dir));
        }
    }

    @Test
    void callbackMayReplaceTheLatents() {
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.defaults())) {
            GenerationParams.Builder b = params().outputType(GenerationParams.OutputType.LATENT);
            Tensor plain = pipe.generate(b.seed(3).build()).latents();
            Tensor zeroed = pipe.generate(b.seed(3).callback(s -> {
                if (s.index() == 3) {
                    s.setLatents(Tensor.zeros(s.latents().shape()));
                }
            }).build()).latents();
            assertArrayEquals(new float[(int) plain.numel()], zeroed.toFloatArray());
            // changing an earlier step's latents changes the rest of the run
            Tensor halved = pipe.generate(b.seed(3).callback(s -> {
                if (s.index() == 0) {
                    s.setLatents(s.latents().backend().affine(s.latents(), 0.5f, 0f));
                }
            }).build()).latents();
            assertTrue(!java.util.Arrays.equals(plain.toFloatArray(), halved.toFloatArray()));
            assertThrows(IllegalArgumentException.class, () -> pipe.generate(b.seed(3)
                    .callback(s -> s.setLatents(Tensor.zeros(1, 4, 2, 2))).build()));
        }
    }

    @Test
    void closeDuringARunWaitsForItAndLaterCallsAreRefused() throws Exception {
        SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")));
        SdxlPipeline sibling = AutoPipelineForText2Image.fromPipe(pipe, false);
        CountDownLatch inLoop = new CountDownLatch(1);
        AtomicLong runEnded = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread run = new Thread(() -> {
            try {
                sibling.generate(params().steps(6).callback(s -> {
                    inLoop.countDown();
                    sleep(150);
                }).build());
                runEnded.set(System.nanoTime());
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        run.start();
        assertTrue(inLoop.await(60, TimeUnit.SECONDS));
        pipe.close(); // the sibling still holds the components: nothing is unmapped, nothing waits
        assertEquals(0, runEnded.get(), "the sibling's run must still be going");
        sibling.close(); // the last holder: waits for the run, then unmaps
        long closed = System.nanoTime();
        run.join(60_000);
        assertEquals(null, failure.get(), "the running call must finish normally");
        assertTrue(runEnded.get() != 0 && runEnded.get() <= closed, "close() returned before the run ended");
        for (SdxlPipeline p : List.of(pipe, sibling)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.generate(params().build()));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        assertThrows(IllegalStateException.class, () -> pipe.components().acquire(), "the weights must be unmapped");
        pipe.close(); // idempotent
    }

    private static void await(CountDownLatch l) {
        try {
            l.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
