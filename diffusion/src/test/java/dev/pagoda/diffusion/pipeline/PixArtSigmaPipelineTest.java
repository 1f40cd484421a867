package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The PixArt-Σ pipelines on the tiny golden model: binning at a non-square size, T5 offload, routing, errors. */
class PixArtSigmaPipelineTest {

    static final Path TINY = Path.of(System.getProperty("pagoda.golden"), "models", "tiny-pixart-sigma");

    /** A copy of the tiny model (weights linked) with edits to {@code transformer/config.json}. */
    static Path variant(Path dir, String from, String to) throws IOException {
        Path root = dir.resolve("pixart");
        try (Stream<Path> s = Files.walk(TINY)) {
            for (Path p : s.toList()) {
                Path q = root.resolve(TINY.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else if (p.getFileName().toString().endsWith(".json")) {
                    Files.writeString(q, Files.readString(p).replace(from, to));
                } else {
                    Files.createSymbolicLink(q, p.toAbsolutePath());
                }
            }
        }
        return root;
    }

    static GenerationParams.Builder params() {
        return GenerationParams.builder("A Small Cactus").steps(2).guidanceScale(4.5f).pagScale(3f).seed(5);
    }

    @Test
    void nonSquareSizeGoesThroughTheNearestBinAndComesBackAtTheRequestedSize(@TempDir Path dir) throws IOException {
        // the same weights with sample_size 32 use diffusers' 256-pixel bins: 200x304 -> 208x304
        Path model = variant(dir, "\"sample_size\": 16", "\"sample_size\": 32");
        try (PixArtSigmaPipeline pipe = AutoPipelineForText2Image.fromPretrainedPixArt(model,
                PipelineOptions.pag(List.of("blocks.1")))) {
            assertInstanceOf(PixArtSigmaPAGPipeline.class, pipe);
            GenerationResult r = pipe.generate(params().size(200, 304).build());
            assertArrayEquals(new int[] {1, 4, 26, 38}, r.latents().shape());
            assertArrayEquals(new int[] {1, 3, 200, 304}, r.image().shape());
            Tensor decoded = pipe.vae().decode(pipe.vae().unscale(r.latents()));
            assertArrayEquals(new int[] {1, 3, 208, 304}, decoded.shape());
            assertEquals(0, Difference.of(AspectRatioBins.resizeAndCrop(decoded, 200, 304), r.image()).maxAbs());
            // without binning the size itself must fit the patch grid (16 px)
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> pipe.generate(params().size(200, 304).useResolutionBinning(false).build()));
            assertTrue(e.getMessage().contains("multiples of 16") && e.getMessage().contains("binning is off"),
                    e.getMessage());
            GenerationResult exact = pipe.generate(params().size(208, 304).useResolutionBinning(false)
                    .outputType(GenerationParams.OutputType.LATENT).build());
            assertEquals(0, Difference.of(exact.latents(), r.latents()).maxAbs(), "the bin is what was generated");
        }
    }

    @Test
    void textEncoderCanBeUnmappedAfterEncodingAndComesBack() {
        try (PixArtSigmaPipeline pipe = AutoPipelineForText2Image.fromPretrainedPixArt(TINY,
                PipelineOptions.pag(List.of("blocks.1")))) {
            GenerationParams p = params().useResolutionBinning(false).outputType(GenerationParams.OutputType.LATENT)
                    .build();
            Tensor first = pipe.generate(p).latents();
            assertTrue(pipe.components().textEncoderLoaded());
            pipe.components().setOffloadTextEncoder(true);
            Tensor second = pipe.generate(p.toBuilder().seed(5).build()).latents();
            assertFalse(pipe.components().textEncoderLoaded(), "unmapped right after encoding");
            assertEquals(0, Difference.of(first, second).maxAbs());
            pipe.components().setOffloadTextEncoder(false);
            pipe.components().unloadTextEncoder();
            assertEquals(0, Difference.of(first, pipe.generate(p.toBuilder().seed(5).build()).latents()).maxAbs());
        }
    }

    @Test
    void fromPipeSharesTheModulesAndPlainEqualsPagScaleZero() {
        try (PixArtSigmaPipeline pag = AutoPipelineForText2Image.fromPretrainedPixArt(TINY,
                PipelineOptions.pag(List.of("blocks.1")))) {
            PixArtSigmaPipeline plain = AutoPipelineForText2Image.fromPipe(pag, false);
            assertSame(pag.components(), plain.components());
            assertFalse(plain instanceof PixArtSigmaPAGPipeline);
            GenerationParams p = params().useResolutionBinning(false).outputType(GenerationParams.OutputType.LATENT)
                    .build();
            Tensor a = plain.generate(p).latents();
            Tensor b = pag.generate(p.toBuilder().seed(5).pagScale(0f).build()).latents();
            assertEquals(0, Difference.of(a, b).maxAbs());
            Tensor c = pag.generate(p.toBuilder().seed(5).build()).latents();
            assertTrue(Difference.of(a, c).maxAbs() > 1e-3, "PAG changes the result");
            assertInstanceOf(PixArtSigmaPipeline.class, AutoPipelineForText2Image.load(TINY, PipelineOptions.defaults()
                    .backend(dev.pagoda.tensor.Backend.cpu())));
        }
    }

    @Test
    void badFoldersAndSizesAreNamed(@TempDir Path dir) throws IOException {
        ConfigException sdxl = assertThrows(ConfigException.class,
                () -> AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.defaults()));
        assertTrue(sdxl.getMessage().contains("PixArt"), sdxl.getMessage());
        Path mismatch = variant(dir, "\"caption_channels\": 32", "\"caption_channels\": 48");
        ConfigException cap = assertThrows(ConfigException.class,
                () -> PixArtComponents.load(mismatch, false));
        assertTrue(cap.getMessage().contains("caption_channels 48") && cap.getMessage().contains("d_model 32"),
                cap.getMessage());
        try (PixArtSigmaPipeline pipe = AutoPipelineForText2Image.fromPretrainedPixArt(TINY, PipelineOptions.defaults())) {
            IllegalArgumentException bins = assertThrows(IllegalArgumentException.class,
                    () -> pipe.generate(params().build()));
            assertTrue(bins.getMessage().contains("sample_size of 16"), bins.getMessage());
            IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                    () -> pipe.generate(params().size(128, 120).useResolutionBinning(false).build()));
            assertTrue(size.getMessage().contains("multiples of 16"), size.getMessage());
            IllegalArgumentException sdxl2 = assertThrows(IllegalArgumentException.class,
                    () -> pipe.generate(params().useResolutionBinning(false).guidanceRescale(0.7f).prompt2("x").build()));
            assertTrue(sdxl2.getMessage().contains("guidanceRescale") && sdxl2.getMessage().contains("prompt2"),
                    sdxl2.getMessage());
        }
    }

    @Test
    void captionPreprocessingIsPythonLowerStrip() {
        assertEquals("a cat", PixArtPromptEncoder.preprocess("\u00a0 A Cat \u2003\n"));
        assertEquals("", PixArtPromptEncoder.preprocess("   "));
        assertEquals("straße ünï", PixArtPromptEncoder.preprocess("STRAßE ÜNÏ"));
    }
}
