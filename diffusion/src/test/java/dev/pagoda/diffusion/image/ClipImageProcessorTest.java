package dev.pagoda.diffusion.image;

import static dev.pagoda.tensor.golden.GoldenFixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * CLIPImageProcessor against values computed with Pillow 9.4 and numpy by
 * {@code resources/clip-image-processor/make_fixtures.py} (transformers' arithmetic, written out):
 * wide, tall, gray, RGBA-over-white, upsampled 3x5, a crop larger than the resized image (zero
 * padding), a bilinear non-square crop. Float32 results, compared to 1e-6 (one float32 ulp of
 * values near 2 is 2.4e-7; Pillow's resampling is bit-exact, so any real divergence is >= 1/255/std).
 */
class ClipImageProcessorTest {

    static final Path DIR = Path.of("src/test/resources/clip-image-processor");

    @Test
    void matchesPillowAndNumpyForEveryCase() throws IOException {
        JsonConfig cfg = JsonConfig.read(DIR.resolve("cases.json"));
        List<?> cases = (List<?>) cfg.raw("cases");
        assertEquals(6, cases.size());
        for (Object o : cases) {
            Map<?, ?> c = (Map<?, ?>) o;
            String name = (String) c.get("name");
            List<?> crop = (List<?>) c.get("crop");
            PilResize.Filter f = PilResize.Filter.valueOf(((String) c.get("resample")).toUpperCase());
            int size = ((Number) c.get("shortest_edge")).intValue();
            ClipImageProcessor p = new ClipImageProcessor(true, size, 0, 0, f, true, ((Number) crop.get(0)).intValue(),
                    ((Number) crop.get(1)).intValue(), true, 1 / 255.0, true, floats(c.get("mean")), floats(c.get("std")),
                    true);
            BufferedImage img = ImageSource.load(DIR.resolve((String) c.get("image")).toString());
            Tensor got = p.preprocess(img);
            List<?> shape = (List<?>) c.get("shape");
            assertArrayEquals(new int[] {1, ((Number) shape.get(0)).intValue(), ((Number) shape.get(1)).intValue(),
                    ((Number) shape.get(2)).intValue()}, got.shape(), name);
            float[] want = readF32(DIR.resolve(name + ".f32"));
            float[] g = got.toFloatArray();
            double max = 0;
            for (int i = 0; i < want.length; i++) {
                max = Math.max(max, Math.abs(g[i] - want[i]));
            }
            assertTrue(max <= 1e-6, name + ": max abs diff " + max);
        }
    }

    @Test
    void theDefaultsAreDiffusersLoadIpAdapterOnes() throws IOException {
        // case wide_default is CLIPImageProcessor(size=24, crop_size=24) with OpenAI's mean/std
        Tensor got = ClipImageProcessor.defaults(24).preprocess(ImageSource.load(DIR.resolve("wide_rgb.png").toString()));
        float[] want = readF32(DIR.resolve("wide_default.f32"));
        assertArrayEquals(want, got.toFloatArray(), 1e-6f);
    }

    @Test
    void anEmptyImageIsANamedError() {
        ImageException e = assertThrows(ImageException.class, () -> ClipImageProcessor.defaults(24).preprocess(null));
        assertTrue(e.getMessage().contains("empty image"), e.getMessage());
    }

    private static float[] readF32(Path p) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }
}
