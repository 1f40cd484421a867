package dev.pagoda.diffusion.singlefile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.diffusion.pipeline.AutoPipelineForInpainting;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.StableDiffusionXLPipeline;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.nn.WeightLoadException;
import dev.pagoda.tensor.SegmentStorage;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import dev.pagoda.tensor.safetensors.SafetensorsWriter;
import dev.pagoda.tensor.safetensors.TensorInfo;
import dev.pagoda.tensor.safetensors.TensorStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Original-layout single-file checkpoints load into the diffusers tree and give the folder's image exactly. */
class SingleFileCheckpointTest {

    static final Path TINY = Path.of(System.getProperty("pagoda.golden"), "models", "tiny-sdxl");

    @TempDir
    static Path tmp;
    static Path checkpoint;

    @BeforeAll
    static void writeCheckpoint() {
        checkpoint = tmp.resolve("tiny-sdxl.safetensors");
        SgmCheckpointWriter.write(TINY, checkpoint);
    }

    @Test
    void testConverterWritesTheLayoutOfDiffusersScript() throws IOException {
        List<String> expected = Files.readAllLines(Path.of("src/test/resources/singlefile/tiny-sdxl-sgm-keys.txt"));
        List<String> actual = new ArrayList<>();
        try (TensorStore s = SafetensorsFile.open(checkpoint)) {
            for (String n : new java.util.TreeSet<>(s.names())) {
                TensorInfo i = s.info(n);
                actual.add(n + " " + i.dtype() + " " + Shapes.str(i.shape()).replaceAll("[\\[\\] ]", "").replace(',', 'x'));
            }
        }
        assertEquals(expected, actual);
    }

    @Test
    void unetKeyMapBothWaysAgreesWithTheScriptsTables() {
        dev.pagoda.nn.unet.UNetConfig config = dev.pagoda.nn.unet.UNetConfig.from(
                dev.pagoda.nn.JsonConfig.read(TINY.resolve("unet/config.json")));
        LdmUnetKeys keys = new LdmUnetKeys(config);
        try (TensorStore s = SafetensorsFile.open(TINY.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            for (String k : s.names()) {
                String ldm = SgmCheckpointWriter.unetName(k);
                assertEquals(ldm, keys.toLdm(k), k);
                assertEquals(k, keys.toDiffusers(ldm), ldm);
            }
        }
    }

    @Test
    void familyIsSdxlBase() {
        try (SingleFileCheckpoint c = SingleFileCheckpoint.open(checkpoint)) {
            assertEquals(CheckpointFamily.SDXL_BASE, c.family());
        }
    }

    @Test
    void singleFileImageEqualsFolderImage() {
        // a params object carries its generator's state: each call gets a fresh one
        java.util.function.Supplier<GenerationParams> params = () -> GenerationParams.builder("a red cube on a table")
                .negativePrompt("blurry").steps(3).size(64, 64).pagScale(2f).seed(7).build();
        float[] folder;
        try (SdxlPipeline p = AutoPipelineForText2Image.fromPretrained(TINY,
                PipelineOptions.pag(List.of("mid")))) {
            folder = p.generate(params.get()).image().toFloatArray();
        }
        try (StableDiffusionXLPipeline p = AutoPipelineForText2Image.fromSingleFile(checkpoint, TINY,
                PipelineOptions.pag(List.of("mid")))) {
            assertArrayEquals(folder, p.generate(params.get()).image().toFloatArray());
            assertViewsOfTheFile(p.components().unet(), null);
            assertViewsOfTheFile(p.components().vae(), null);
            assertViewsOfTheFile(p.components().textEncoder(), null);
            assertViewsOfTheFile(p.components().textEncoder2(), "text_projection.weight");
        }
    }

    /** Every weight reads the mapped file in place (a slice of the mapping), except the one transposed copy. */
    private static void assertViewsOfTheFile(Module m, String except) {
        int views = 0;
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            Tensor t = e.getValue().get();
            boolean inFile = t.storage() instanceof SegmentStorage s && s.segment().isMapped();
            if (!e.getKey().equals(except)) {
                assertTrue(inFile, e.getKey() + " was copied out of the mapped file");
                views++;
            } else {
                assertFalse(inFile, e.getKey() + " should be a transposed copy");
            }
        }
        assertTrue(views > 0);
    }

    @Test
    void fusedInProjectionIsSplitIntoViews() {
        try (SingleFileCheckpoint c = SingleFileCheckpoint.open(checkpoint)) {
            ConvertedStore te2 = c.openClip();
            String fused = "conditioner.embedders.1.model.transformer.resblocks.1.attn.in_proj_weight";
            Tensor all = c.store().tensor(fused);
            int d = all.dim(0) / 3;
            String[] parts = {"q_proj", "k_proj", "v_proj"};
            for (int p = 0; p < 3; p++) {
                String name = "text_model.encoder.layers.1.self_attn." + parts[p] + ".weight";
                assertEquals(fused, te2.sourceOf(name));
                Tensor v = te2.tensor(name);
                assertArrayEquals(all.narrow(0, p * d, d).contiguous().toFloatArray(), v.toFloatArray());
                assertEquals(0, v.offset());
                assertEquals(te2.info(name).begin(), c.store().info(fused).begin() + (long) p * d * all.dim(1) * 2);
            }
        }
    }

    @Test
    void keysOfNoKnownLayoutNameTheFamiliesTried() {
        Path bad = tmp.resolve("bad.safetensors");
        SafetensorsWriter.write(bad, Map.of("some.other.model.weight", Tensor.zeros(2, 2)));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> AutoPipelineForText2Image.fromSingleFile(bad, PipelineOptions.defaults()));
        for (CheckpointFamily f : CheckpointFamily.values()) {
            assertTrue(e.getMessage().contains(f.title()), e.getMessage());
        }
        assertTrue(e.getMessage().contains("bad.safetensors") && e.getMessage().contains("some.other.model.weight"),
                e.getMessage());
    }

    @Test
    void aDiffusersComponentFileIsToldApart() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SingleFileCheckpoint.open(
                TINY.resolve("unet/diffusion_pytorch_model.safetensors")));
        assertTrue(e.getMessage().contains("one diffusers component"), e.getMessage());
    }

    /** The file with some keys renamed or replaced. */
    private static Path variant(String name, Map<String, String> prefixes, Map<String, Tensor> replace) {
        Path out = tmp.resolve(name);
        try (TensorStore s = SafetensorsFile.open(checkpoint)) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String n : s.names()) {
                String k = n;
                for (Map.Entry<String, String> p : prefixes.entrySet()) {
                    if (k.startsWith(p.getKey())) {
                        k = p.getValue() + k.substring(p.getKey().length());
                    }
                }
                all.put(k, replace.getOrDefault(n, s.tensor(n)));
            }
            SafetensorsWriter.write(out, all);
        }
        return out;
    }

    @Test
    void otherFamiliesAreDetectedAndRefusedByName() {
        Path refiner = variant("refiner.safetensors", Map.of("conditioner.embedders.1.model.", "conditioner.embedders.0.model.",
                "conditioner.embedders.0.transformer.", "dropped."), Map.of());
        Path sd1 = variant("sd1.safetensors", Map.of("conditioner.embedders.0.transformer.", "cond_stage_model.transformer.",
                "conditioner.embedders.1.model.", "dropped."), Map.of());
        Path sd2 = variant("sd2.safetensors", Map.of("conditioner.embedders.1.model.", "cond_stage_model.model.",
                "conditioner.embedders.0.transformer.", "dropped."), Map.of());
        Map<Path, CheckpointFamily> cases = Map.of(refiner, CheckpointFamily.SDXL_REFINER, sd1, CheckpointFamily.SD_1,
                sd2, CheckpointFamily.SD_2);
        for (Map.Entry<Path, CheckpointFamily> c : cases.entrySet()) {
            try (SingleFileCheckpoint ck = SingleFileCheckpoint.open(c.getKey())) {
                assertEquals(c.getValue(), ck.family());
            }
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> AutoPipelineForText2Image.fromSingleFile(c.getKey(), TINY, PipelineOptions.defaults()));
            assertTrue(e.getMessage().contains(c.getValue().title()), e.getMessage());
        }
    }

    @Test
    void nineChannelUnetIsInpaintingAndItsConfigMustAgree() {
        String convIn = "model.diffusion_model.input_blocks.0.0.weight";
        Tensor nine;
        try (TensorStore s = SafetensorsFile.open(checkpoint)) {
            int[] shape = s.info(convIn).shape();
            shape[1] = 9;
            nine = Tensor.zeros(s.info(convIn).dtype(), shape);
        }
        Path inpaint = variant("inpaint.safetensors", Map.of(), Map.of(convIn, nine));
        try (SingleFileCheckpoint ck = SingleFileCheckpoint.open(inpaint)) {
            assertEquals(CheckpointFamily.SDXL_INPAINTING, ck.family());
        }
        // the tiny folder's UNet takes 4 channels: the strict load names the mismatching tensor
        WeightLoadException e = assertThrows(WeightLoadException.class,
                () -> AutoPipelineForInpainting.fromSingleFile(inpaint, TINY, PipelineOptions.defaults()));
        assertTrue(e.getMessage().contains("conv_in.weight"), e.getMessage());
        assertTrue(e.missing().isEmpty() && e.unexpected().isEmpty(), e.getMessage());
    }
}
