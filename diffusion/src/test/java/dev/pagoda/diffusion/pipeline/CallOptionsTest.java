package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.random.NoiseSource;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SDXL call options against diffusers 0.31's {@code StableDiffusionXLPAGPipeline} on golden tiny-sdxl
 * (fixtures and the script that made them: src/test/resources/callopts/): prompt and negative prompt
 * lists with a list of generators, {@code clip_skip}, the negative micro-conditioning, given latents,
 * DDIM's {@code eta}, custom timesteps and sigmas. diffusers got the prompts as embeddings composed from
 * golden's recorded text-encoder states; Pagoda gets the strings and encodes them itself. Each case also
 * runs once without its option, which must land far outside the tolerance, so no case passes by
 * ignoring the option.
 */
class CallOptionsTest {

    static final Path GOLDEN = Path.of(System.getProperty("pagoda.golden"));
    static final Path TINY = GOLDEN.resolve("models").resolve("tiny-sdxl");
    static SdxlPipeline pipe;
    static List<String> prompts;

    @BeforeAll
    static void load() throws Exception {
        pipe = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")));
        prompts = goldenPrompts();
    }

    /** The prompts p0..p3 of golden's text_encoders case, whose recorded states made the fixtures. */
    static List<String> goldenPrompts() throws Exception {
        Map<String, Object> cases = Json.parseObject(Files.readString(resource("cases.json")));
        return ((List<?>) cases.get("prompts")).stream().map(String.class::cast).toList();
    }

    @AfterAll
    static void close() {
        pipe.close();
    }

    static Path resource(String name) throws Exception {
        return Path.of(CallOptionsTest.class.getResource("/callopts/" + name).toURI());
    }

    static GenerationParams.Builder call(List<Integer> promptIds, int h, int w) {
        return GenerationParams.builder(promptIds.stream().map(prompts::get).toList()).size(h, w).steps(3)
                .guidanceScale(5f).pagScale(3f).outputType(GenerationParams.OutputType.LATENT);
    }

    /** golden/README.md's rel (max|got-ref| / max(1, max|ref|)) of a fixture's output.latent; pipelines need <= 2e-4. */
    static double rel(String fixture, Tensor got) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(resource(fixture + ".safetensors"))) {
            return dev.pagoda.tensor.Difference.of(got, f.tensor("output.latent")).rel();
        }
    }

    static void matches(String fixture, GenerationParams p) throws Exception {
        matches(pipe, fixture, p);
    }

    static void differs(String fixture, GenerationParams p) throws Exception {
        differs(pipe, fixture, p);
    }

    static void matches(DiffusionPipeline on, String fixture, GenerationParams p) throws Exception {
        double r = rel(fixture, on.generate(p).latents());
        assertTrue(r <= 2e-4, fixture + ": output.latent rel error " + r);
    }

    static void differs(DiffusionPipeline on, String fixture, GenerationParams p) throws Exception {
        double r = rel(fixture, on.generate(p).latents());
        assertTrue(r > 1e-2, fixture + ": the run without the option is as close as " + r);
    }

    @Test
    void promptListsWithOneGeneratorPerImage() throws Exception {
        pipe.setScheduler("EulerAncestralDiscreteScheduler");
        try {
            GenerationParams.Builder b = call(List.of(0, 2), 96, 128)
                    .negativePrompts(List.of(prompts.get(1), prompts.get(3))).numImagesPerPrompt(2)
                    .generators(List.of(NoiseSource.seeded(3), NoiseSource.seeded(1), NoiseSource.seeded(4),
                            NoiseSource.seeded(5)));
            matches("batch_lists", b.build());
            // the same generators in another order give other images
            differs("batch_lists", b.generators(List.of(NoiseSource.seeded(1), NoiseSource.seeded(3),
                    NoiseSource.seeded(4), NoiseSource.seeded(5))).build());
        } finally {
            pipe.setScheduler((String) null);
        }
    }

    @Test
    void clipSkipNegativeMicroConditioningAndGivenLatents() throws Exception {
        Tensor latents;
        try (SafetensorsFile f = SafetensorsFile.open(resource("clip_skip_sizes_latents.safetensors"))) {
            Tensor t = f.tensor("input.latents");
            latents = Tensor.of(t.toFloatArray(), t.shape()); // a heap copy: the file's mapping closes here
        }
        GenerationParams.Builder b = call(List.of(0), 128, 96).clipSkip(1).originalSize(256, 192)
                .negativeOriginalSize(64, 80).negativeCropsCoordsTopLeft(8, 16).negativeTargetSize(96, 112)
                .latents(latents);
        matches("clip_skip_sizes_latents", b.build());
        differs("clip_skip_sizes_latents", b.clipSkip(null).build());
    }

    @Test
    void negativeMicroConditioningReachesOnlyTheUncondRows() {
        List<Tensor> timeIds = new java.util.ArrayList<>();
        pipe.setObserver((i, in, out) -> timeIds.add(in.timeIds()));
        try {
            pipe.generate(call(List.of(0), 64, 64).originalSize(256, 192).cropsCoordsTopLeft(4, 2)
                    .negativeOriginalSize(64, 80).negativeTargetSize(96, 112).build());
        } finally {
            pipe.setObserver(null);
        }
        // rows [uncond, cond, perturbed]; negative_crops_coords_top_left defaults to (0, 0) in diffusers
        assertArrayEquals(new float[] {64, 80, 0, 0, 96, 112, 256, 192, 4, 2, 64, 64, 256, 192, 4, 2, 64, 64},
                timeIds.get(0).contiguous().toFloatArray());
        timeIds.clear();
        pipe.setObserver((i, in, out) -> timeIds.add(in.timeIds()));
        try {
            // the text-to-image pipeline uses negative ids only when both negative sizes are given
            pipe.generate(call(List.of(0), 64, 64).originalSize(256, 192).negativeOriginalSize(64, 80)
                    .negativeCropsCoordsTopLeft(8, 8).build());
        } finally {
            pipe.setObserver(null);
        }
        assertArrayEquals(new float[] {256, 192, 0, 0, 64, 64, 256, 192, 0, 0, 64, 64, 256, 192, 0, 0, 64, 64},
                timeIds.get(0).contiguous().toFloatArray());
    }

    @Test
    void ddimEta() throws Exception {
        pipe.setScheduler("DDIMScheduler");
        try {
            GenerationParams.Builder b = call(List.of(0), 128, 128).negativePrompt(prompts.get(1)).eta(0.7f).seed(2);
            matches("ddim_eta", b.build());
            differs("ddim_eta", b.eta(0f).seed(2).build());
        } finally {
            pipe.setScheduler((String) null);
        }
    }

    @Test
    void customTimestepsAndSigmas() throws Exception {
        GenerationParams.Builder b = call(List.of(2), 128, 128).timesteps(900, 650, 420, 77).seed(6);
        matches("custom_timesteps", b.build());
        differs("custom_timesteps", call(List.of(2), 128, 128).steps(4).seed(6).build());
        matches("custom_sigmas", call(List.of(2), 128, 128).sigmas(12f, 5.5f, 2f, 0.6f, 0f).seed(8).build());
        pipe.setScheduler("DPMSolverMultistepScheduler");
        try {
            matches("custom_timesteps_dpm", call(List.of(2), 128, 128).timesteps(999, 700, 400, 150).seed(6).build());
            differs("custom_timesteps_dpm", call(List.of(2), 128, 128).steps(4).seed(6).build());
            pipe.setScheduler("DDPMScheduler");
            matches("custom_timesteps_ddpm", call(List.of(2), 128, 128).timesteps(999, 800, 500, 200).seed(3).build());
            differs("custom_timesteps_ddpm", call(List.of(2), 128, 128).steps(4).seed(3).build());
            pipe.setScheduler("LCMScheduler");
            matches("custom_timesteps_lcm", call(List.of(2), 128, 128).timesteps(999, 879, 519, 139).seed(4).build());
            differs("custom_timesteps_lcm", call(List.of(2), 128, 128).steps(4).seed(4).build());
            pipe.setScheduler("TCDScheduler");
            matches("custom_timesteps_tcd", call(List.of(2), 128, 128).timesteps(999, 600, 300).eta(0.3f).seed(5)
                    .build());
            differs("custom_timesteps_tcd", call(List.of(2), 128, 128).timesteps(999, 600, 300).seed(5).build());
        } finally {
            pipe.setScheduler((String) null);
        }
    }

    @Test
    void givenPromptEmbedsEqualTheEncodedPrompt() {
        SdxlPromptEncoder.Encoded enc = pipe.components().promptEncoder().encode(prompts.get(0), null, "blurry",
                null, true);
        // a built call holds a generator with state: build each run afresh
        java.util.function.Supplier<GenerationParams> byText = () -> call(List.of(0), 64, 64).negativePrompt("blurry")
                .seed(4).build();
        GenerationParams byEmbeds = GenerationParams.builder((String) null).size(64, 64).steps(3).guidanceScale(5f)
                .pagScale(3f).outputType(GenerationParams.OutputType.LATENT).seed(4)
                .promptEmbeds(enc.positive().embeds(), enc.positive().pooled())
                .negativePromptEmbeds(enc.negative().embeds(), enc.negative().pooled()).build();
        assertArrayEquals(pipe.generate(byText.get()).latents().toFloatArray(), pipe.generate(byEmbeds).latents().toFloatArray());
        // a negative prompt string with given prompt embeds is encoded, as diffusers does
        GenerationParams mixed = byEmbeds.toBuilder().negativePromptEmbeds(null, null).negativePrompt("blurry").seed(4)
                .build();
        assertArrayEquals(pipe.generate(byText.get()).latents().toFloatArray(), pipe.generate(mixed).latents().toFloatArray());
    }

    @Test
    void imageIOfABatchIsTheImageItsGeneratorGivesAlone() {
        GenerationParams both = call(List.of(0, 3), 64, 64).generators(List.of(NoiseSource.seeded(11),
                NoiseSource.seeded(12))).outputType(GenerationParams.OutputType.IMAGE).build();
        GenerationResult r = pipe.generate(both);
        GenerationResult second = pipe.generate(GenerationParams.builder(prompts.get(3)).size(64, 64).steps(3)
                .guidanceScale(5f).pagScale(3f).seed(12).build());
        float[] batch = r.latents().narrow(0, 1, 1).contiguous().toFloatArray();
        float[] alone = second.latents().toFloatArray();
        double err = 0;
        for (int i = 0; i < alone.length; i++) {
            err = Math.max(err, Math.abs(batch[i] - alone[i]));
        }
        // batch rows go through the same kernels; only summation blocking may differ
        assertTrue(err < 1e-4, "row 1 of the batch vs the same prompt and generator alone: " + err);
        Tensor pt = r.pt();
        assertArrayEquals(new int[] {2, 3, 64, 64}, pt.shape());
        for (float v : pt.toFloatArray()) {
            assertTrue(v >= 0 && v <= 1, "pt output outside [0, 1]: " + v);
        }
    }

    @Test
    void givenMaskedImageLatentsFeedTheNineChannelUNet(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // golden tiny-sdxl with the 9-channel inpainting UNet of ../call/inpaint9
        for (String part : List.of("model_index.json", "scheduler", "text_encoder", "text_encoder_2", "tokenizer",
                "tokenizer_2", "vae")) {
            Files.createSymbolicLink(dir.resolve(part), TINY.resolve(part).toAbsolutePath());
        }
        Files.createSymbolicLink(dir.resolve("unet"), resource("../call/inpaint9/unet").toAbsolutePath());
        Path inpaintCase = GOLDEN.resolve("cases").resolve("sdxl_inpaint_cfg_pag");
        Tensor given;
        try (SafetensorsFile f = SafetensorsFile.open(resource("inpaint_masked_image_latents.safetensors"))) {
            Tensor t = f.tensor("input.masked_image_latents");
            given = Tensor.of(t.toFloatArray(), t.shape());
        }
        try (StableDiffusionXLInpaintPipeline inpaint = AutoPipelineForInpainting.fromPretrained(dir,
                PipelineOptions.pag(List.of("mid")))) {
            GenerationParams.Builder b = GenerationParams.builder("a yellow sun in a clear blue sky").size(128, 128)
                    .steps(4).guidanceScale(5f).pagScale(3f).strength(0.8f).seed(13)
                    .image(dev.pagoda.diffusion.image.ImageTensors.toTensor(dev.pagoda.diffusion.image.ImageSource
                            .load(inpaintCase.resolve("input.png").toString())))
                    .mask(dev.pagoda.diffusion.image.ImageTensors.toMask(dev.pagoda.diffusion.image.ImageSource
                            .load(inpaintCase.resolve("mask.png").toString())))
                    .outputType(GenerationParams.OutputType.LATENT).maskedImageLatents(given);
            double r = rel("inpaint_masked_image_latents", inpaint.generate(b.build()).latents());
            assertTrue(r <= 2e-4, "output.latent rel error " + r);
            double without = rel("inpaint_masked_image_latents", inpaint.generate(b.maskedImageLatents(null).seed(13)
                    .build()).latents());
            assertTrue(without > 1e-2, "encoding the masked image instead is as close as " + without);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> inpaint.generate(b.maskedImageLatents(
                    Tensor.zeros(1, 4, 8, 8)).seed(13).build())).getMessage().startsWith(
                    "maskedImageLatents (masked_image_latents) must be [1, 4, 16, 16]"));
        }
    }

    static Tensor golden(String caseName, String file) {
        return dev.pagoda.diffusion.image.ImageTensors.toTensor(dev.pagoda.diffusion.image.ImageSource.load(
                GOLDEN.resolve("cases").resolve(caseName).resolve(file).toString()));
    }

    static Tensor goldenMask(String caseName, String file) {
        return dev.pagoda.diffusion.image.ImageTensors.toMask(dev.pagoda.diffusion.image.ImageSource.load(
                GOLDEN.resolve("cases").resolve(caseName).resolve(file).toString()));
    }

    @Test
    void aListOfGeneratorsWithAnInputImage() throws Exception {
        try (SdxlPipeline i2i = AutoPipelineForImage2Image.fromPipe(pipe, true)) {
            GenerationParams.Builder b = GenerationParams.builder("a red cube on a wooden table, studio light")
                    .steps(4).guidanceScale(5f).pagScale(3f).strength(0.6f).numImagesPerPrompt(2)
                    .image(golden("sdxl_img2img_cfg_pag", "input.png")).outputType(GenerationParams.OutputType.LATENT)
                    .generators(List.of(NoiseSource.seeded(5), NoiseSource.seeded(6)));
            matches(i2i, "img2img_generators", b.build());
            // one encode sampled with the first generator and repeated (the single-generator path) is different
            differs(i2i, "img2img_generators", b.noise(NoiseSource.seeded(5)).build());
            GenerationParams.Builder t = GenerationParams.builder("a red cube on a wooden table, studio light")
                    .guidanceScale(5f).pagScale(3f).strength(0.6f).seed(7).timesteps(900, 700, 500, 300, 100)
                    .image(golden("sdxl_img2img_cfg_pag", "input.png")).outputType(GenerationParams.OutputType.LATENT);
            matches(i2i, "img2img_timesteps", t.build());
            differs(i2i, "img2img_timesteps", t.timesteps((float[]) null).steps(5).seed(7).build());
            Tensor lat;
            try (SafetensorsFile f = SafetensorsFile.open(resource("img2img_latents.safetensors"))) {
                Tensor x = f.tensor("input.latents");
                lat = Tensor.of(x.toFloatArray(), x.shape());
            }
            GenerationParams.Builder l = GenerationParams.builder("a red cube on a wooden table, studio light").steps(4)
                    .guidanceScale(5f).pagScale(3f).strength(0.6f).seed(8).latents(lat)
                    .image(golden("sdxl_img2img_cfg_pag", "input.png")).outputType(GenerationParams.OutputType.LATENT);
            matches(i2i, "img2img_latents", l.build());
            differs(i2i, "img2img_latents", l.latents(null).seed(8).build());
        }
        try (SdxlPipeline inpaint = AutoPipelineForInpainting.fromPipe(pipe, true)) {
            GenerationParams.Builder b = GenerationParams.builder("a yellow sun in a clear blue sky").size(128, 128)
                    .steps(4).guidanceScale(5f).pagScale(3f).strength(0.7f).numImagesPerPrompt(2)
                    .image(golden("sdxl_inpaint_cfg_pag", "input.png"))
                    .mask(goldenMask("sdxl_inpaint_cfg_pag", "mask.png")).outputType(GenerationParams.OutputType.LATENT)
                    .generators(List.of(NoiseSource.seeded(15), NoiseSource.seeded(16)));
            matches(inpaint, "inpaint_generators", b.build());
            Tensor lat;
            try (SafetensorsFile f = SafetensorsFile.open(resource("inpaint_latents.safetensors"))) {
                Tensor x = f.tensor("input.latents");
                lat = Tensor.of(x.toFloatArray(), x.shape());
            }
            GenerationParams.Builder l = GenerationParams.builder("a yellow sun in a clear blue sky").size(128, 128)
                    .steps(4).guidanceScale(5f).pagScale(3f).strength(0.7f).seed(17).latents(lat)
                    .image(golden("sdxl_inpaint_cfg_pag", "input.png"))
                    .mask(goldenMask("sdxl_inpaint_cfg_pag", "mask.png")).outputType(GenerationParams.OutputType.LATENT);
            matches(inpaint, "inpaint_latents", l.build());
            differs(inpaint, "inpaint_latents", l.latents(null).seed(17).build());
            GenerationParams.Builder d = GenerationParams.builder("a yellow sun in a clear blue sky").size(128, 128)
                    .steps(5).guidanceScale(5f).pagScale(3f).denoisingStart(0.6).seed(19)
                    .image(golden("sdxl_inpaint_cfg_pag", "input.png"))
                    .mask(goldenMask("sdxl_inpaint_cfg_pag", "mask.png")).outputType(GenerationParams.OutputType.LATENT);
            matches(inpaint, "inpaint_denoising_start", d.build());
            differs(inpaint, "inpaint_denoising_start", d.denoisingStart(null).strength(0.4f).seed(19).build());
            // latents as the image (a base's hand-off) run too: diffusers 0.31's PAG pipeline fails there, so
            // only the shape of the result is checked
            Tensor handOff = Tensor.zeros(1, 4, 16, 16);
            assertArrayEquals(new int[] {1, 4, 16, 16}, inpaint.generate(d.image(handOff).denoisingStart(0.6).seed(19)
                    .build()).latents().shape());
            differs(inpaint, "inpaint_generators", b.generators(List.of(NoiseSource.seeded(16), NoiseSource.seeded(15)))
                    .build());
        }
    }

    @Test
    void eachSavedImageOfAPromptBatchCarriesItsOwnPrompt(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        GenerationResult r = pipe.generate(call(List.of(0, 3), 64, 64).numImagesPerPrompt(2)
                .outputType(GenerationParams.OutputType.IMAGE).build());
        for (int i = 0; i < 4; i++) {
            r.save(dir.resolve(i + ".png"), i);
            Map<String, String> text = dev.pagoda.diffusion.image.PngWriter.readText(
                    Files.readAllBytes(dir.resolve(i + ".png")));
            assertEquals(prompts.get(i < 2 ? 0 : 3), text.get("prompt"), "image " + i);
        }
        // the call's options that change the image are in the parameters too
        Map<String, String> more = pipe.generate(call(List.of(0), 64, 64).clipSkip(1).eta(0.5f).denoisingEnd(0.5)
                .timesteps(900, 500, 100).build()).parameters();
        assertEquals("1", more.get("clip_skip"));
        assertEquals("0.5", more.get("eta"));
        assertEquals("0.5", more.get("denoising_end"));
        assertEquals("[900.0, 500.0, 100.0]", more.get("timesteps"));
    }

    @Test
    void badCallOptionsAreNamed() {
        assertEquals("negativePrompts (negative_prompt) has 1 entries but the prompt batch has 2 (give one per prompt)",
                assertThrows(IllegalArgumentException.class, () -> call(List.of(0, 2), 64, 64)
                        .negativePrompts(List.of("x")).build()).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(call(List.of(0, 2), 64, 64)
                .generators(List.of(NoiseSource.seeded(1))).build())).getMessage()
                .contains("a list of 1 generators was given"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(call(List.of(0), 64, 64)
                .latents(Tensor.zeros(1, 4, 8, 9)).build())).getMessage()
                .startsWith("latents must be [1, 4, 8, 8]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(call(List.of(0), 64, 64)
                .clipSkip(5).build())).getMessage().contains("clipSkip (clip_skip) 5 skips more layers than text_encoder"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(GenerationParams.builder(
                (String) null).size(64, 64).steps(1).promptEmbeds(Tensor.zeros(1, 77, 48), null).build())).getMessage()
                .contains("also need pooledPromptEmbeds"));
        pipe.setScheduler("DDIMScheduler");
        try {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pipe.generate(call(List.of(0), 64, 64)
                    .timesteps(900, 100).build())).getMessage().contains("does not support custom timestep"));
        } finally {
            pipe.setScheduler((String) null);
        }
    }
}
