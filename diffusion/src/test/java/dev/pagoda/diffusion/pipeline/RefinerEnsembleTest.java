package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDXL refiner and the base + refiner ensemble of experts ({@code denoising_end} /
 * {@code denoising_start}, aesthetic-score time ids, the text_encoder_2-only prompt encoding) against
 * diffusers 0.31 (fixtures made by src/test/resources/refiner/make_fixtures.py; tolerances from
 * golden/README.md).
 */
public class RefinerEnsembleTest {

    static final Path GOLDEN = Path.of(System.getProperty("pagoda.golden"));
    static final Path TINY = GOLDEN.resolve("models").resolve("tiny-sdxl");
    static final String PROMPT = "a photo of an astronaut riding a horse on mars";

    @TempDir
    static Path tmp;
    static SafetensorsFile ref;
    static SafetensorsFile textEncoders;

    @BeforeAll
    static void open() throws Exception {
        ref = SafetensorsFile.open(resource("refiner.safetensors"));
        textEncoders = SafetensorsFile.open(GOLDEN.resolve("cases/text_encoders/tensors.safetensors"));
    }

    @AfterAll
    static void close() {
        ref.close();
        textEncoders.close();
    }

    public static Path resource(String name) throws URISyntaxException {
        return Path.of(RefinerEnsembleTest.class.getResource("/refiner/" + name).toURI());
    }

    /**
     * The tiny refiner folder: the vendored model_index.json and UNet, with golden tiny-sdxl's
     * text_encoder_2, tokenizer_2, VAE and scheduler (as the fixture script used them).
     */
    public static Path refinerFolder(Path parent) throws Exception {
        Path dir = Files.createDirectories(parent.resolve("tiny-refiner"));
        if (!Files.exists(dir.resolve("model_index.json"))) {
            Files.copy(resource("tiny-refiner/model_index.json"), dir.resolve("model_index.json"));
            Files.createSymbolicLink(dir.resolve("unet"), resource("tiny-refiner/unet").toAbsolutePath());
            for (String part : List.of("text_encoder_2", "tokenizer_2", "vae", "scheduler")) {
                Files.createSymbolicLink(dir.resolve(part), TINY.resolve(part).toAbsolutePath());
            }
        }
        return dir;
    }

    static SdxlPipeline refiner() throws Exception {
        return AutoPipelineForImage2Image.fromPretrained(refinerFolder(tmp), PipelineOptions.pag(List.of("mid")));
    }

    /** max|got - want| / max(1, max|want|), golden/README.md's "rel". */
    static double rel(Tensor got, Tensor want) {
        return dev.pagoda.tensor.Difference.of(got, want).rel();
    }

    /** Records each denoiser call's timestep and the first call's batched conditioning. */
    static final class Recorder implements SdxlPipeline.DenoiserObserver {
        final List<Float> timesteps = new ArrayList<>();
        UNet2DConditionModel.Input first;

        @Override
        public void onDenoiserCall(int call, UNet2DConditionModel.Input input, Tensor output) {
            timesteps.add(input.timesteps()[0]);
            if (first == null) {
                first = input;
            }
        }

        float[] timestepArray() {
            float[] t = new float[timesteps.size()];
            for (int i = 0; i < t.length; i++) {
                t[i] = timesteps.get(i);
            }
            return t;
        }
    }

    static GenerationParams.Builder refineParams(Tensor latents) {
        return GenerationParams.builder(PROMPT).steps(10).guidanceScale(5f).pagScale(3f).image(latents)
                .denoisingStart(0.8).seed(0).outputType(GenerationParams.OutputType.LATENT);
    }

    @Test
    void baseStopsAtDenoisingEnd() {
        try (SdxlPipeline base = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid")))) {
            Recorder rec = new Recorder();
            base.setObserver(rec);
            Tensor got = base.generate(GenerationParams.builder(PROMPT).size(128, 128).steps(10).guidanceScale(5f)
                    .pagScale(3f).denoisingEnd(0.8).seed(0).outputType(GenerationParams.OutputType.LATENT).build())
                    .latents();
            assertArrayEquals(ref.tensor("base.timesteps").toFloatArray(), rec.timestepArray());
            double err = rel(got, ref.tensor("base.output.latent"));
            assertTrue(err <= 2e-4, "base output.latent rel error " + err);
        }
    }

    @Test
    void refinerContinuesFromDenoisingStartWithoutNoise() throws Exception {
        try (SdxlPipeline refiner = refiner()) {
            assertTrue(refiner instanceof StableDiffusionXLImg2ImgPipeline);
            Recorder rec = new Recorder();
            refiner.setObserver(rec);
            Tensor base = ref.tensor("base.output.latent");
            GenerationResult r = refiner.generate(refineParams(base).outputType(GenerationParams.OutputType.IMAGE).build());
            assertArrayEquals(ref.tensor("refine.timesteps").toFloatArray(), rec.timestepArray());
            assertArrayEquals(ref.tensor("refine.denoiser0.time_ids").toFloatArray(),
                    rec.first.timeIds().toFloatArray(), "time ids [H, W, 0, 0, aesthetic] per batch row");
            double embeds = rel(rec.first.encoderHiddenStates(), ref.tensor("refine.denoiser0.encoder_hidden_states"));
            assertTrue(embeds <= 1e-4, "encoder_hidden_states rel error " + embeds);
            double pooled = rel(rec.first.textEmbeds(), ref.tensor("refine.denoiser0.text_embeds"));
            assertTrue(pooled <= 1e-4, "text_embeds rel error " + pooled);
            double err = rel(r.latents(), ref.tensor("refine.output.latent"));
            assertTrue(err <= 2e-4, "refine output.latent rel error " + err);
            float[] np = r.numpy().toFloatArray();
            float[] want = ref.tensor("refine.output.np").toFloatArray();
            double maxAbs = 0;
            for (int i = 0; i < want.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(np[i] - want[i]));
            }
            assertTrue(maxAbs <= 1e-4, "refine output.np max abs error " + maxAbs);
        }
    }

    /** The test above must fail when denoising_start is ignored: strength 0.3 would add noise at t=301. */
    @Test
    void ignoringDenoisingStartGivesAnotherResult() throws Exception {
        try (SdxlPipeline refiner = refiner()) {
            Tensor base = ref.tensor("base.output.latent");
            GenerationParams p = refineParams(base).build();
            GenerationParams ignored = GenerationParams.builder(PROMPT).steps(10).guidanceScale(5f).pagScale(3f)
                    .image(base).seed(0).outputType(GenerationParams.OutputType.LATENT).build();
            double err = rel(refiner.generate(ignored).latents(), ref.tensor("refine.output.latent"));
            assertTrue(err > 1e-2, "a run without denoising_start came within " + err + " of the reference");
            assertTrue(p.denoisingStart() == 0.8);
        }
    }

    @Test
    void aestheticScoresConditionImg2Img() throws Exception {
        try (SdxlPipeline refiner = refiner()) {
            Recorder rec = new Recorder();
            refiner.setObserver(rec);
            Path input = GOLDEN.resolve("cases/sdxl_img2img_cfg_pag/input.png");
            Tensor got = refiner.generate(GenerationParams.builder(PROMPT).negativePrompt("blurry, low quality, watermark")
                    .image(ImageTensors.toTensor(ImageSource.load(input.toString()))).strength(0.6f).steps(4)
                    .guidanceScale(5f).pagScale(3f).aestheticScore(7.5f).negativeAestheticScore(1.5f).seed(1)
                    .outputType(GenerationParams.OutputType.LATENT).build()).latents();
            assertArrayEquals(ref.tensor("aesthetic.timesteps").toFloatArray(), rec.timestepArray());
            float[] ids = rec.first.timeIds().toFloatArray();
            assertArrayEquals(ref.tensor("aesthetic.denoiser0.time_ids").toFloatArray(), ids);
            // rows [uncond, cond, perturbed]: the negative aesthetic score only on the uncond row
            assertEquals(1.5f, ids[4]);
            assertEquals(7.5f, ids[9]);
            assertEquals(7.5f, ids[14]);
            double err = rel(got, ref.tensor("aesthetic.output.latent"));
            assertTrue(err <= 2e-4, "aesthetic output.latent rel error " + err);
        }
    }

    /** The refiner layout as inpainting: aesthetic time ids, and denoising_end truncating the blend's schedule. */
    @Test
    void inpaintWithAestheticScoresStopsAtDenoisingEnd() throws Exception {
        try (SdxlPipeline inpaint = AutoPipelineForInpainting.fromPretrained(refinerFolder(tmp),
                PipelineOptions.pag(List.of("mid")))) {
            Recorder rec = new Recorder();
            inpaint.setObserver(rec);
            Path dir = GOLDEN.resolve("cases/sdxl_inpaint_cfg_pag");
            Tensor got = inpaint.generate(GenerationParams.builder(PROMPT).size(128, 128)
                    .image(ImageTensors.toTensor(ImageSource.load(dir.resolve("input.png").toString())))
                    .mask(ImageTensors.toMask(ImageSource.load(dir.resolve("mask.png").toString())))
                    .strength(0.75f).steps(10).denoisingEnd(0.6).aestheticScore(7f).negativeAestheticScore(2f)
                    .guidanceScale(5f).pagScale(3f).seed(3).outputType(GenerationParams.OutputType.LATENT).build())
                    .latents();
            assertArrayEquals(ref.tensor("inpaint.timesteps").toFloatArray(), rec.timestepArray());
            assertArrayEquals(ref.tensor("inpaint.denoiser0.time_ids").toFloatArray(), rec.first.timeIds().toFloatArray());
            double err = rel(got, ref.tensor("inpaint.output.latent"));
            assertTrue(err <= 2e-4, "inpaint output.latent rel error " + err);
        }
    }

    /**
     * ControlNet text-to-image with denoising_end: the guidance window (end 0.5) is a fraction of the
     * whole 10-step schedule, not of the 8 steps left (step 4 keeps the net in diffusers).
     */
    @Test
    void controlNetWindowsSpanTheUntruncatedSchedule() throws Exception {
        Path net = GOLDEN.resolve("models/tiny-sdxl-controlnet");
        try (SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid"))
                .controlnet(dev.pagoda.nn.controlnet.ControlNetModel.fromPretrained(net, false)))) {
            Recorder rec = new Recorder();
            pipe.setObserver(rec);
            java.awt.image.BufferedImage control = ImageSource.load(
                    GOLDEN.resolve("cases/sdxl_controlnet_cfg_pag/control.png").toString());
            Tensor got = pipe.generate(GenerationParams.builder("a futuristic city at night, neon lights")
                    .size(128, 128).steps(10).denoisingEnd(0.8).guidanceScale(5f).pagScale(3f).seed(3)
                    .controlNet(ControlNetParams.of(control).withScale(0.8f)
                            .withGuidance(new float[] {0f}, new float[] {0.5f}))
                    .outputType(GenerationParams.OutputType.LATENT).build()).latents();
            assertArrayEquals(ref.tensor("controlnet.timesteps").toFloatArray(), rec.timestepArray());
            double err = rel(got, ref.tensor("controlnet.output.latent"));
            assertTrue(err <= 2e-4, "controlnet output.latent rel error " + err);
        }
    }

    /** diffusers' encode_prompt with text_encoder None, checked against golden text_encoders' encoder-2 outputs. */
    @Test
    void refinerEncodesPromptsWithTextEncoder2Only() throws Exception {
        try (SdxlPipeline refiner = refiner()) {
            SdxlComponents c = refiner.components();
            assertEquals(null, c.textEncoder());
            assertTrue(c.requiresAestheticsScore());
            assertTrue(!c.forceZerosForEmptyPrompt());
            SdxlPromptEncoder enc = c.promptEncoder();
            SdxlPromptEncoder.Encoded e = enc.encode(PROMPT, null, null, null, true);
            check(e.positive(), "p0");
            check(e.negative(), "p1"); // "" is encoded: the refiner does not force zeros
            check(enc.encode(PROMPT, null, "blurry, low quality, watermark", null, true).negative(), "p5");
            // the zip of [prompt, prompt_2] with the one encoder hands encoder 2 the first prompt
            SdxlPromptEncoder.Encoded other = enc.encode(PROMPT, "a red cube", null, "a blue ball", true);
            check(other.positive(), "p0");
            check(other.negative(), "p1");
        }
    }

    private static void check(SdxlPromptEncoder.Embeddings got, String item) {
        double embeds = rel(got.embeds(), textEncoders.tensor(item + ".te2.penultimate_hidden_state"));
        double pooled = rel(got.pooled(), textEncoders.tensor(item + ".te2.text_embeds"));
        assertTrue(embeds <= 1e-4 && pooled <= 1e-4, item + ": embeds rel " + embeds + ", pooled rel " + pooled);
    }

    @Test
    void refinerUnetNeedsAestheticTimeIds() throws Exception {
        try (SdxlPipeline t2i = AutoPipelineForText2Image.fromPretrained(refinerFolder(tmp), PipelineOptions.defaults())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t2i.generate(
                    GenerationParams.builder(PROMPT).size(128, 128).steps(2).build()));
            assertTrue(e.getMessage().contains("aesthetic score (a refiner UNet)"), e.getMessage());
            IllegalArgumentException start = assertThrows(IllegalArgumentException.class, () -> t2i.generate(
                    GenerationParams.builder(PROMPT).size(128, 128).steps(2).denoisingStart(0.8).build()));
            assertTrue(start.getMessage().contains("denoising_start"), start.getMessage());
        }
    }

    /** Pipelines without the ensemble-of-experts options refuse them by name instead of ignoring them. */
    @Test
    void pipelinesWithoutTheOptionsRefuseThem() {
        for (Path model : List.of(Path.of("src/test/resources/sd15/models/tiny-sd15"),
                GOLDEN.resolve("models/tiny-pixart-sigma"))) {
            try (DiffusionPipeline pipe = AutoPipelineForText2Image.load(model, PipelineOptions.defaults())) {
                for (GenerationParams p : List.of(GenerationParams.builder("x").steps(1).denoisingEnd(0.8).build(),
                        GenerationParams.builder("x").steps(1).aestheticScore(7f).build())) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pipe.generate(p));
                    assertTrue(e.getMessage().contains(p.denoisingEnd() != null ? "denoisingEnd" : "aestheticScore"),
                            e.getMessage());
                }
            }
        }
    }

    @Test
    void denoisingFractionsAreChecked() {
        for (double bad : new double[] {0, 1, -0.1, 1.5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GenerationParams.builder("x").denoisingStart(bad).build());
            assertTrue(e.getMessage().contains("denoisingStart"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> GenerationParams.builder("x").denoisingEnd(bad).build());
        }
        IllegalArgumentException order = assertThrows(IllegalArgumentException.class,
                () -> GenerationParams.builder("x").denoisingStart(0.8).denoisingEnd(0.8).build());
        assertTrue(order.getMessage().contains("below denoisingEnd"), order.getMessage());
    }
}
