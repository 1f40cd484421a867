package dev.pagoda.nn.clip;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.WeightLoadException;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Building and loading SDXL's text encoders, and their errors. Their outputs are compared with
 * transformers' (case text_encoders) by the conformance runner (GoldenConformanceTest).
 */
class ClipTextModelTest {

    static SafetensorsFile w1;
    static SafetensorsFile w2;
    static ClipTextModel te1;
    static ClipTextModel te2;

    @BeforeAll
    static void load() {
        Path model = GoldenFixtures.vendored().model("tiny-sdxl");
        te1 = ClipTextModel.fromConfig(model.resolve("text_encoder/config.json"));
        te2 = ClipTextModel.fromConfig(model.resolve("text_encoder_2/config.json"));
        w1 = SafetensorsFile.open(model.resolve("text_encoder/model.safetensors"));
        w2 = SafetensorsFile.open(model.resolve("text_encoder_2/model.safetensors"));
        WeightLoader.load(te1, w1, "", ClipTextModel.IGNORED_KEYS);
        WeightLoader.load(te2, w2, "", ClipTextModel.IGNORED_KEYS);
    }

    @AfterAll
    static void close() {
        w1.close();
        w2.close();
    }

    @Test
    void weightsStayInTheirStoredHalfPrecision() {
        assertEquals(DType.F16, te1.namedParameters().get("text_model.final_layer_norm.weight").get().dtype());
        assertTrue(te2.hasProjection());
        assertTrue(!te1.hasProjection());
    }

    @Test
    void unknownActivationIsANamedConfigError(@TempDir Path dir) throws IOException {
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, "{\"hidden_act\": \"swish\", \"hidden_size\": 8, \"num_attention_heads\": 2}");
        ConfigException e = assertThrows(ConfigException.class, () -> ClipTextModel.fromConfig(cfg));
        assertTrue(e.getMessage().contains("hidden_act") && e.getMessage().contains("swish"), e.getMessage());
    }

    @Test
    void malformedConfigIsANamedError(@TempDir Path dir) throws IOException {
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, "{\"hidden_size\": 8,");
        ConfigException e = assertThrows(ConfigException.class, () -> ClipTextModel.fromConfig(cfg));
        assertTrue(e.getMessage().contains(cfg.toString()), e.getMessage());
    }

    @Test
    void weightFileMissingATensorNamesIt() {
        // te2's file loaded into te1's architecture: every name differs in shape or is absent
        ClipTextModel other = ClipTextModel.fromConfig(GoldenFixtures.vendored().model("tiny-sdxl").resolve("text_encoder/config.json"));
        WeightLoadException e = assertThrows(WeightLoadException.class,
                () -> WeightLoader.load(other, w2, "", ClipTextModel.IGNORED_KEYS));
        assertTrue(e.unexpected().contains("text_projection.weight"), e.getMessage());
        assertTrue(!e.mismatched().isEmpty(), e.getMessage());
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> te1.forward(Tensor.ofLongs(new long[] {49406, 50000}, 1, 2)));
        assertTrue(e.getMessage().contains("50000"), e.getMessage());
        assertArrayEquals(new int[] {1, 2, 16}, te1.forward(Tensor.ofLongs(new long[] {49406, 49407}, 1, 2))
                .lastHiddenState().shape());
    }
}
