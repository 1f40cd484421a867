package dev.pagoda.diffusion.ipadapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.SdxlComponents;
import dev.pagoda.diffusion.pipeline.StableDiffusionXLPipeline;
import dev.pagoda.nn.WeightLoadException;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.nn.ipadapter.IpAdapterException;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import dev.pagoda.tensor.safetensors.SafetensorsWriter;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IP-Adapter on the tiny SDXL pipeline with the golden tiny IP-Adapter plus: scale 0 is exactly no
 * adapter, precomputed embeds equal computed ones, two adapters compose, unload restores the plain
 * pipeline, and bad input is refused by name. The numbers themselves are pinned by the golden case.
 */
class IpAdapterPipelineTest {

    static final Path GOLDEN = Path.of(System.getProperty("pagoda.golden"));
    static final Path TINY = GOLDEN.resolve("models/tiny-sdxl");
    static final Path REPO = GOLDEN.resolve("models/tiny-ip-adapter");
    static final Path PLUS = REPO.resolve("sdxl_models/ip-adapter-plus_sdxl_tiny.safetensors");
    static final Path ENCODER = REPO.resolve("models/image_encoder");
    static final BufferedImage IMAGE = ImageSource.load(
            GOLDEN.resolve("cases/sdxl_ip_adapter_plus_cfg_pag/ip_image.png").toString());

    static SdxlComponents parts;

    @BeforeAll
    static void load() {
        parts = SdxlComponents.load(TINY, false);
    }

    @AfterAll
    static void close() {
        parts.close();
    }

    static GenerationParams.Builder params() {
        return GenerationParams.builder("a cat wearing a tiny hat").negativePrompt("deformed, ugly").size(64, 64)
                .steps(2).seed(4).outputType(GenerationParams.OutputType.LATENT);
    }

    static Tensor run(SdxlPipeline pipe, GenerationParams p) {
        return pipe.generate(p).latents();
    }

    @Test
    void scaleZeroIsExactlyNoAdapterAndUnloadRestoresThePlainPipeline() {
        StableDiffusionXLPipeline pipe = new StableDiffusionXLPipeline(parts, true, List.of("mid"));
        try {
            pipe.unloadIpAdapter();
            Tensor plain = run(pipe, params().build());
            pipe.loadIpAdapter(List.of(PLUS), ENCODER);
            pipe.setIpAdapterScale(0f);
            Tensor zero = run(pipe, params().ipAdapterImage(IMAGE).build());
            assertEquals(0.0, Difference.of(zero, plain).maxAbs());
            pipe.setIpAdapterScale(0.7f);
            Tensor with = run(pipe, params().ipAdapterImage(IMAGE).build());
            assertTrue(Difference.of(with, plain).maxAbs() > 1e-3, "the adapter must change the result");
            pipe.unloadIpAdapter();
            assertEquals(0.0, Difference.of(run(pipe, params().build()), plain).maxAbs());
        } finally {
            pipe.unloadIpAdapter();
        }
    }

    @Test
    void precomputedEmbedsEqualComputedOnesWithAndWithoutGuidance() {
        StableDiffusionXLPipeline pipe = new StableDiffusionXLPipeline(parts, true, List.of("mid"));
        try {
            pipe.loadIpAdapter(List.of(PLUS), ENCODER);
            pipe.setIpAdapterScale(0.7f);
            for (float cfg : new float[] {5f, 0f}) {
                List<Tensor> seen = new ArrayList<>();
                pipe.setObserver((call, in, out) -> {
                    if (call == 0) {
                        seen.add(in.ipAdapter().imageEmbeds().get(0));
                    }
                });
                Tensor computed = run(pipe, params().guidanceScale(cfg).ipAdapterImage(IMAGE).build());
                Tensor rows = seen.get(0);
                // rows [neg?, pos, pos]; the call takes [neg, pos] with CFG, [pos] without
                Tensor embeds = cfg > 1 ? rows.narrow(0, 0, 2) : rows.narrow(0, 0, 1);
                Tensor given = run(pipe, params().guidanceScale(cfg).ipAdapterImageEmbeds(List.of(embeds)).build());
                assertEquals(0.0, Difference.of(given, computed).maxAbs(), "guidance " + cfg);
            }
        } finally {
            pipe.setObserver(null);
            pipe.unloadIpAdapter();
        }
    }

    @Test
    void twoAdaptersComposeAndEachHasItsScale() {
        StableDiffusionXLPipeline pipe = new StableDiffusionXLPipeline(parts, true, List.of("mid"));
        try {
            pipe.loadIpAdapter(List.of(PLUS), ENCODER);
            pipe.setIpAdapterScale(0.7f);
            Tensor one = run(pipe, params().ipAdapterImage(IMAGE).build());
            pipe.loadIpAdapter(List.of(PLUS, PLUS), ENCODER);
            pipe.setIpAdapterScale(List.of(0.7f, 0f));
            // a NoiseSource has state: every run gets freshly built params
            java.util.function.Supplier<GenerationParams> two = () -> params().ipAdapterImage(IMAGE, IMAGE).build();
            assertEquals(0.0, Difference.of(run(pipe, two.get()), one).maxAbs(), "second adapter at scale 0 is skipped");
            pipe.setIpAdapterScale(List.of(0.35f, 0.35f));
            double halves = Difference.of(run(pipe, two.get()), one).maxAbs();
            assertTrue(halves < 1e-4, "two halves of one adapter = the adapter: " + halves);
            pipe.setIpAdapterScale(List.of(0.7f, 0.7f));
            assertTrue(Difference.of(run(pipe, two.get()), one).maxAbs() > 1e-3, "the second adapter must count");
            IpAdapterException e = assertThrows(IpAdapterException.class,
                    () -> run(pipe, params().ipAdapterImage(IMAGE).build()));
            assertTrue(e.getMessage().contains("got 1 for 2"), e.getMessage());
        } finally {
            pipe.unloadIpAdapter();
        }
    }

    @Test
    void fromPipeSharesTheAdapterAsDiffusersDoes() {
        StableDiffusionXLPipeline plain = new StableDiffusionXLPipeline(parts, false, List.of("mid"));
        try {
            plain.loadIpAdapter(List.of(PLUS), ENCODER);
            plain.setIpAdapterScale(0.7f);
            SdxlPipeline pag = AutoPipelineForText2Image.fromPipe(plain, true);
            StableDiffusionXLPipeline direct = new StableDiffusionXLPipeline(parts, true, List.of("mid"));
            assertEquals(0.0, Difference.of(run(pag, params().ipAdapterImage(IMAGE).build()),
                    run(direct, params().ipAdapterImage(IMAGE).build())).maxAbs());
        } finally {
            plain.unloadIpAdapter();
        }
    }

    @Test
    void badInputIsRefusedByName(@TempDir Path dir) throws Exception {
        StableDiffusionXLPipeline pipe = new StableDiffusionXLPipeline(parts, true, List.of("mid"));
        try {
            assertTrue(assertThrows(IpAdapterException.class,
                    () -> run(pipe, params().ipAdapterImage(IMAGE).build())).getMessage().contains("no IP-Adapter"));
            pipe.loadIpAdapter(List.of(PLUS), ENCODER);
            assertTrue(assertThrows(IpAdapterException.class, () -> run(pipe, params().build())).getMessage()
                    .contains("needs ip_adapter_image"));
            assertThrows(IllegalArgumentException.class,
                    () -> params().ipAdapterImage(IMAGE).ipAdapterImageEmbeds(List.of(Tensor.zeros(2, 1, 17, 16)))
                            .build());
            assertTrue(assertThrows(IpAdapterException.class, () -> run(pipe,
                    params().ipAdapterImageEmbeds(List.of(Tensor.zeros(2, 1, 17, 15))).build())).getMessage()
                    .contains("17, 15"));

            // a file with one key missing and one mis-shaped: both named, the loaded adapter kept
            Map<String, Tensor> t = new LinkedHashMap<>();
            try (SafetensorsFile f = SafetensorsFile.open(PLUS)) {
                for (String k : f.names()) {
                    t.put(k, Tensor.of(f.tensor(k).toFloatArray(), f.tensor(k).shape()));
                }
            }
            t.remove("ip_adapter.3.to_v_ip.weight");
            t.put("ip_adapter.5.to_k_ip.weight", Tensor.zeros(16, 47));
            Path bad = dir.resolve("bad.safetensors");
            SafetensorsWriter.write(bad, t);
            WeightLoadException w = assertThrows(WeightLoadException.class,
                    () -> pipe.loadIpAdapter(List.of(bad), ENCODER));
            assertEquals(List.of("ip_adapter.3.to_v_ip.weight"), w.missing());
            assertTrue(w.mismatched().get(0).startsWith("ip_adapter.5.to_k_ip.weight"), w.mismatched().toString());
            assertFalse(parts.ipAdapters().isEmpty(), "a failed load changes nothing");

            Path notAdapter = dir.resolve("unet.safetensors");
            SafetensorsWriter.write(notAdapter, Map.of("conv_in.weight", Tensor.zeros(2, 2)));
            assertTrue(assertThrows(IpAdapterException.class, () -> pipe.loadIpAdapter(List.of(notAdapter), ENCODER))
                    .getMessage().contains("not an IP-Adapter file"));
            assertTrue(assertThrows(IpAdapterException.class,
                    () -> pipe.loadIpAdapter(List.of(dir.resolve("absent.safetensors")), ENCODER)).getMessage()
                    .contains("no such"));

            // an encoder whose hidden size does not fit the Resampler's proj_in
            pipe.unloadIpAdapter();
            Path enc = dir.resolve("encoder");
            Files.createDirectories(enc);
            String cfg = Files.readString(ENCODER.resolve("config.json")).replace("\"hidden_size\": 16",
                    "\"hidden_size\": 8").replace("\"intermediate_size\": 32", "\"intermediate_size\": 16");
            Files.writeString(enc.resolve("config.json"), cfg);
            var model = dev.pagoda.nn.clip.ClipVisionModel.fromConfig(enc.resolve("config.json"));
            Map<String, Tensor> w8 = new LinkedHashMap<>();
            model.namedParameters().forEach((k, p) -> w8.put(k, Tensor.zeros(p.shape())));
            SafetensorsWriter.write(enc.resolve("model.safetensors"), w8);
            IpAdapterException m = assertThrows(IpAdapterException.class, () -> pipe.loadIpAdapter(List.of(PLUS), enc));
            assertTrue(m.getMessage().contains("16 channels") && m.getMessage().contains("gives 8"), m.getMessage());
            assertTrue(parts.ipAdapters().isEmpty());
        } finally {
            pipe.unloadIpAdapter();
        }
    }

    @Test
    void imageTokensFollowTheGuidedBatch() {
        StableDiffusionXLPipeline pipe = new StableDiffusionXLPipeline(parts, true, List.of("mid"));
        try {
            pipe.loadIpAdapter(List.of(PLUS), ENCODER);
            List<IpAdapterPlan> plans = new ArrayList<>();
            pipe.setObserver((call, in, out) -> plans.add(in.ipAdapter()));
            run(pipe, params().numImagesPerPrompt(2).ipAdapterImage(IMAGE).build());
            IpAdapterPlan plan = plans.get(0);
            Tensor tokens = plan.adapters().get(0).tokens();
            assertArrayEquals(new int[] {6, 4, 48}, tokens.shape());
            float[] v = tokens.toFloatArray();
            int row = 4 * 48;
            for (int r : new int[] {1, 2, 3, 4, 5}) {
                Tensor want = tokens.narrow(0, r < 2 ? 0 : 2, 1);
                assertEquals(0.0, Difference.of(tokens.narrow(0, r, 1), want).maxAbs(), "row " + r);
            }
            assertTrue(Difference.of(tokens.narrow(0, 0, 1), tokens.narrow(0, 2, 1)).maxAbs() > 1e-4,
                    "negative rows encode a zero image, not the image");
            assertEquals(row, v.length / 6);
        } finally {
            pipe.setObserver(null);
            pipe.unloadIpAdapter();
        }
    }
}
