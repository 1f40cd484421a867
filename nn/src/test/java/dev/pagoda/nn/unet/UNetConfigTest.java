package dev.pagoda.nn.unet;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.ConfigException;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.vae.AutoencoderKL;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The published configs build the published architectures; unsupported values are named errors. */
class UNetConfigTest {

    /** The real configs vendored for the benchmarks (surefire runs in the module folder). */
    static Path published(String model, String part) {
        return Path.of("..", "benchmarks", "configs", model, part, "config.json");
    }

    @Test
    void sdxlBaseHasItsPublishedParameterCount() {
        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(published("sdxl-base-1.0", "unet"));
        assertEquals(2_567_463_684L, unet.parameterCount());
        assertEquals(128, unet.config().sampleSize());
        // down: 2 attentions x 2 blocks (640) + 2 x 10 (1280); up: 3 x 10 + 3 x 2; mid: 10
        assertEquals(2 * 2 + 2 * 10 + 3 * 10 + 3 * 2 + 10, PagLayers.selfAttentions(unet).size());
        assertEquals(83_653_863L, AutoencoderKL.fromConfig(published("sdxl-base-1.0", "vae")).parameterCount());
    }

    @Test
    void sd15LoadsThroughTheSameClasses() {
        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(published("sd-1.5", "unet"));
        assertEquals(859_520_964L, unet.parameterCount());
        assertTrue(!unet.config().textTime());
    }

    private static Path withField(Path dir, String from, String to) throws IOException {
        Path cfg = dir.resolve("config.json");
        String text = Files.readString(GoldenFixtures.vendored().model("tiny-sdxl").resolve("unet/config.json"));
        assertTrue(text.contains(from), from);
        Files.writeString(cfg, text.replace(from, to));
        return cfg;
    }

    @Test
    void unknownBlockTypeIsNamed(@TempDir Path dir) throws IOException {
        Path cfg = withField(dir, "\"DownBlock2D\",", "\"SimpleCrossAttnDownBlock2D\",");
        ConfigException e = assertThrows(ConfigException.class, () -> UNet2DConditionModel.fromConfig(cfg));
        assertTrue(e.getMessage().contains("SimpleCrossAttnDownBlock2D") && e.getMessage().contains("down_block_types"),
                e.getMessage());
    }

    @Test
    void unsupportedValuesAreNamed(@TempDir Path dir) throws IOException {
        ConfigException e = assertThrows(ConfigException.class, () -> UNet2DConditionModel.fromConfig(
                withField(dir, "\"resnet_time_scale_shift\": \"default\"", "\"resnet_time_scale_shift\": \"scale_shift\"")));
        assertTrue(e.getMessage().contains("resnet_time_scale_shift"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> UNet2DConditionModel.fromConfig(
                withField(dir, "\"mid_block_type\": \"UNetMidBlock2DCrossAttn\"", "\"mid_block_type\": \"UNetMidBlock2D\"")));
        assertTrue(e.getMessage().contains("mid_block_type"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> UNet2DConditionModel.fromConfig(
                withField(dir, "\"layers_per_block\": 2", "\"layers_per_block\": \"two\"")));
        assertTrue(e.getMessage().contains("layers_per_block"), e.getMessage());
    }
}
