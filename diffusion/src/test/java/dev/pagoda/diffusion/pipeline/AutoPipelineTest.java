package dev.pagoda.diffusion.pipeline;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AutoPipelineTest {

    static final Path TINY = GoldenFixtures.vendored().model("tiny-sdxl");

    @Test
    void fromPipeReusesEveryModuleInstance() {
        try (SdxlPipeline t2i = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.defaults())) {
            SdxlPipeline i2i = AutoPipelineForImage2Image.fromPipe(t2i, true);
            StableDiffusionXLInpaintPipeline inp = AutoPipelineForInpainting.fromPipe(i2i, true, List.of("down_blocks.2"));
            assertSame(t2i.components(), i2i.components());
            assertSame(t2i.components().unet(), inp.components().unet());
            assertSame(t2i.components().vae(), inp.components().vae());
            assertSame(t2i.components().textEncoder2(), inp.components().textEncoder2());
            // every weight tensor is the very same object: no second copy exists
            Map<String, Parameter> a = t2i.components().unet().namedParameters();
            Map<String, Parameter> b = inp.components().unet().namedParameters();
            a.forEach((k, p) -> assertSame(p.get(), b.get(k).get(), k));
            assertTrue(i2i.pagEnabled());
            assertEquals(List.of("mid"), i2i.pagAppliedLayers());
            assertEquals(List.of("down_blocks.2"), inp.pagAppliedLayers());
        }
    }

    @Test
    void closingOneFromPipeSiblingLeavesTheOthersWeightsMapped() {
        SdxlPipeline a = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")));
        SdxlPipeline plain = AutoPipelineForText2Image.fromPipe(a, false);
        SdxlPipeline i2i = AutoPipelineForImage2Image.fromPipe(plain, false);
        GenerationParams p = GenerationParams.builder("a cat").steps(2).seed(3)
                .outputType(GenerationParams.OutputType.LATENT).build();
        float[] before = a.generate(p.toBuilder().seed(3).build()).latents().toFloatArray();
        a.close();
        a.close(); // idempotent: must not give back a sibling's share as well
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> a.generate(p));
        assertTrue(refused.getMessage().contains("closed"), refused.getMessage());
        // built from a survivor after the first close: holds a share of its own
        SdxlPipeline pag = AutoPipelineForText2Image.fromPipe(i2i, true);
        assertArrayEquals(before, pag.generate(p.toBuilder().seed(3).build()).latents().toFloatArray());
        plain.close();
        i2i.close();
        assertArrayEquals(before, pag.generate(p.toBuilder().seed(3).build()).latents().toFloatArray(),
                "closing siblings must leave the weights mapped");
        a.components().acquire(); // still open
        a.components().release();
        pag.close(); // the last holder
        assertThrows(IllegalStateException.class, () -> a.components().acquire(), "the last close must unmap");
    }

    @Test
    void fromPretrainedTakesARepoIdFromTheLocalHuggingFaceCache(@TempDir Path home) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("HF_HOME") == null
                && System.getenv("HF_HUB_CACHE") == null, "HF_HOME / HF_HUB_CACHE set: not the default cache");
        String saved = System.getProperty("user.home");
        System.setProperty("user.home", home.toString());
        try {
            Path repo = home.resolve(".cache/huggingface/hub/models--pagoda--tiny-sdxl");
            java.nio.file.Files.createDirectories(repo.resolve("snapshots"));
            java.nio.file.Files.createSymbolicLink(repo.resolve("snapshots/abc123"), TINY.toAbsolutePath());
            try (SdxlPipeline byId = AutoPipelineForText2Image.fromPretrained("pagoda/tiny-sdxl",
                    PipelineOptions.defaults()); SdxlPipeline byPath = AutoPipelineForText2Image.fromPretrained(
                    TINY, PipelineOptions.defaults())) {
                assertEquals(repo.resolve("snapshots/abc123"), byId.components().folder());
                GenerationParams p = GenerationParams.builder("a cat").steps(2).seed(3)
                        .outputType(GenerationParams.OutputType.LATENT).build();
                assertArrayEquals(byPath.generate(p).latents().toFloatArray(),
                        byId.generate(p.toBuilder().seed(3).build()).latents().toFloatArray());
            }
            ConfigException e = assertThrows(ConfigException.class,
                    () -> AutoPipelineForImage2Image.fromPretrained("pagoda/absent", PipelineOptions.defaults()));
            assertTrue(e.getMessage().contains("models--pagoda--absent"), e.getMessage());
        } finally {
            System.setProperty("user.home", saved);
        }
    }

    @Test
    void pagScaleZeroEqualsThePlainPipeline() {
        try (SdxlPipeline pag = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")))) {
            SdxlPipeline plain = AutoPipelineForText2Image.fromPipe(pag, false);
            GenerationParams p = GenerationParams.builder("a cat").steps(2).seed(3)
                    .outputType(GenerationParams.OutputType.LATENT).build();
            Tensor a = pag.generate(p.toBuilder().pagScale(0f).seed(3).build()).latents();
            Tensor b = plain.generate(p.toBuilder().seed(3).build()).latents();
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
            Tensor c = pag.generate(p.toBuilder().seed(3).build()).latents();
            assertTrue(!java.util.Arrays.equals(a.toFloatArray(), c.toFloatArray()), "PAG changed nothing");
        }
    }

    @Test
    void setPagAppliedLayersValidatesAtOnce() {
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> pipe.setPagAppliedLayers(List.of("up_blocks.2")));
            assertEquals("Cannot find PAG layer to set attention processor for: up_blocks.2", e.getMessage());
            assertEquals(List.of("mid"), pipe.pagAppliedLayers());
            pipe.setPagAppliedLayers(List.of("down.block_2"));
            assertEquals(List.of("down.block_2"), pipe.pagAppliedLayers());
        }
    }

    @Test
    void missingFolderIsNamed(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> AutoPipelineForText2Image.fromPretrained(dir.resolve("none"), PipelineOptions.defaults()));
        assertTrue(e.getMessage().contains("model folder not found"), e.getMessage());
    }

    @Test
    void numImagesPerPromptBatchesEveryRowOfTheLayout() {
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")))) {
            int[] rows = new int[1];
            pipe.setObserver((call, in, out) -> rows[0] = in.sample().dim(0));
            GenerationResult r = pipe.generate(GenerationParams.builder("a cat").steps(1).seed(5).numImagesPerPrompt(2)
                    .size(64, 96).build());
            assertEquals(6, rows[0], "[uncond x2, cond x2, perturbed x2]");
            assertArrayEquals(new int[] {2, 4, 8, 12}, r.latents().shape());
            assertArrayEquals(new int[] {2, 3, 64, 96}, r.image().shape());
            // the two images come from different noise
            Tensor a = r.latents().select(0, 0);
            Tensor b = r.latents().select(0, 1);
            assertTrue(!java.util.Arrays.equals(a.toFloatArray(), b.toFloatArray()));
        }
    }
}
