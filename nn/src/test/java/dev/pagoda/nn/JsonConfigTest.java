package dev.pagoda.nn;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.vae.AutoencoderKL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The typed-config reader, and regression tests for the configs the fuzz suite found. */
class JsonConfigTest {

    private static JsonConfig of(String json) {
        return JsonConfig.parse(json, "test.json");
    }

    @Test
    void typedAccessorsReadValuesAndDefaults() {
        JsonConfig c = of("{\"i\": 3, \"f\": 1000.0, \"d\": 0.5, \"b\": true, \"s\": \"x\", \"n\": null,"
                + " \"l\": [1, 2], \"nums\": [1, 2.5], \"strs\": [\"a\"]}");
        assertEquals(3, c.integer("i"));
        assertEquals(1000, c.integer("f"), "an integral number reads as an integer, as Python's int() reads it");
        assertEquals(0.5, c.number("d"));
        assertEquals(7, c.integer("n", 7), "null takes the default");
        assertTrue(c.contains("n") && !c.has("n"));
        assertNull(c.optionalNumber("n"));
        assertNull(c.optionalString("missing"));
        assertEquals("x", c.choice("s", "y", List.of("x", "y")));
        assertEquals("y", c.choice("missing", "y", List.of("x", "y")));
        assertArrayEquals(new double[] {1, 2.5}, c.optionalNumbers("nums"));
        assertArrayEquals(new int[] {1, 2}, c.ints("l"));
        assertArrayEquals(new int[] {3, 3}, c.intOrList("i", 2, null));
        assertEquals(List.of("a"), c.strings("strs"));
        assertEquals(5, c.with("i", 5L).integer("i"));
        assertEquals(3, c.integer("i"), "with() copies");
    }

    @Test
    void errorsNameSourceFieldExpectationAndValue() {
        JsonConfig c = of("{\"s\": \"cubic\", \"big\": 4294967296, \"l\": [1, 4294967296]}");
        ConfigException e = assertThrows(ConfigException.class, () -> c.choice("s", "linear", List.of("linear")));
        assertTrue(e.getMessage().contains("test.json") && e.getMessage().contains("\"s\"")
                && e.getMessage().contains("\"cubic\"") && e.getMessage().contains("\"linear\""), e.getMessage());
        assertThrows(ConfigException.class, () -> c.integer("big"));
        // a list entry beyond int range used to wrap around silently
        assertThrows(ConfigException.class, () -> c.ints("l"));
        assertThrows(ConfigException.class, () -> c.intOrList("big", 2, 1));
        assertTrue(assertThrows(ConfigException.class, () -> c.inRange("n", 0, 1, 4)).getMessage().contains("[1, 4]"));
        assertTrue(assertThrows(ConfigException.class, () -> of("{\"a\": ")).getMessage().contains("not valid JSON"));
        assertTrue(new ConfigException("x") instanceof IllegalArgumentException);
    }

    private static Path withField(Path dir, String model, String field, String value) throws Exception {
        String text = Files.readString(GoldenFixtures.vendored().model("tiny-sdxl").resolve(model).resolve("config.json"));
        String changed = text.replaceFirst("\"" + field + "\": (\\[[^\\]]*\\]|[^,\\n]+)", "\"" + field + "\": " + value);
        assertTrue(!changed.equals(text), field + " not found in " + model);
        Path p = dir.resolve(model + ".json");
        Files.writeString(p, changed);
        return p;
    }

    /** Fuzz finding: 2^31 - 1 layers built modules until the per-case time limit. */
    @Test
    void hugeLayerCountsAreRefusedAtOnce(@TempDir Path dir) throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertThrows(ConfigException.class, () -> ClipTextModel.fromConfig(
                    withField(dir, "text_encoder", "num_hidden_layers", "2147483647")));
            assertThrows(ConfigException.class, () -> UNet2DConditionModel.fromConfig(
                    withField(dir, "unet", "transformer_layers_per_block", "[1, 2, 1073741824]")));
            assertThrows(ConfigException.class, () -> UNet2DConditionModel.fromConfig(
                    withField(dir, "unet", "layers_per_block", "1000000")));
            assertThrows(ConfigException.class, () -> AutoencoderKL.fromConfig(
                    withField(dir, "vae", "layers_per_block", "1000000")));
        });
    }

    /** Fuzz finding: channels that do not divide into the norm groups threw a bare IllegalArgumentException. */
    @Test
    void anArchitectureThatCannotBeBuiltNamesTheFile(@TempDir Path dir) throws Exception {
        Path p = withField(dir, "unet", "norm_num_groups", "7");
        ConfigException e = assertThrows(ConfigException.class, () -> UNet2DConditionModel.fromConfig(p));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("GroupNorm"), e.getMessage());
    }

    /** Review finding while fuzzing: an empty or non-integer sample_size list indexed or cast blindly. */
    @Test
    void vaeSampleSizeListIsChecked(@TempDir Path dir) throws Exception {
        assertThrows(ConfigException.class, () -> AutoencoderKL.fromConfig(withField(dir, "vae", "sample_size", "[]")));
        assertThrows(ConfigException.class,
                () -> AutoencoderKL.fromConfig(withField(dir, "vae", "sample_size", "[\"x\"]")));
        assertEquals(48, AutoencoderKL.fromConfig(withField(dir, "vae", "sample_size", "[48, 64]")).config().sampleSize());
    }
}
