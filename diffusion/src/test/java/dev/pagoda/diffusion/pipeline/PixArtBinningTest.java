package dev.pagoda.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Resolution binning against diffusers 0.31 ({@code classify_height_width_bin}) and torch 1.13
 * ({@code resize_and_crop_tensor}), fixture made by {@code src/test/resources/pixart/make_binning_fixture.py}.
 */
class PixArtBinningTest {

    @SuppressWarnings("unchecked")
    static Map<String, Object> fixture() throws IOException {
        try (InputStream in = PixArtBinningTest.class.getResourceAsStream("/pixart/binning_fixture.json")) {
            return Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static int num(Object o) {
        return ((Number) o).intValue();
    }

    @Test
    @SuppressWarnings("unchecked")
    void binsAreDiffusers() throws IOException {
        List<Object> items = (List<Object>) fixture().get("classify");
        assertEquals(12, items.size());
        for (Object o : items) {
            Map<String, Object> m = (Map<String, Object>) o;
            List<Object> bin = (List<Object>) m.get("bin");
            assertArrayEquals(new int[] {num(bin.get(0)), num(bin.get(1))},
                    AspectRatioBins.classify(num(m.get("height")), num(m.get("width")), num(m.get("resolution"))),
                    m.toString());
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void resizeAndCropIsTorchBilinear() throws IOException {
        for (Object o : (List<Object>) fixture().get("resize")) {
            Map<String, Object> m = (Map<String, Object>) o;
            int[] shape = ((List<Object>) m.get("shape")).stream().mapToInt(PixArtBinningTest::num).toArray();
            Tensor x = Tensor.of(floats((List<Object>) m.get("input")), shape);
            Tensor y = AspectRatioBins.resizeAndCrop(x, num(m.get("height")), num(m.get("width")));
            int[] want = ((List<Object>) m.get("output_shape")).stream().mapToInt(PixArtBinningTest::num).toArray();
            assertArrayEquals(want, y.shape());
            float[] ref = floats((List<Object>) m.get("output"));
            float[] got = y.toFloatArray();
            // indices and weights are torch's; its vectorised kernel rounds the 4-term sum in another
            // order (a few float32 ulps, < 7e-7 on these [-1, 1] values), far below output.np's 1e-4
            for (int i = 0; i < ref.length; i++) {
                assertEquals(ref[i], got[i], 1e-6, "element " + i + " of " + m.get("shape"));
            }
        }
    }

    @Test
    void sampleSizesWithoutBinsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AspectRatioBins.binResolution(16));
        assertTrue(e.getMessage().contains("sample_size of 16") && e.getMessage().contains("useResolutionBinning(false)"),
                e.getMessage());
        assertEquals(1024, AspectRatioBins.binResolution(128));
        assertEquals(2048, AspectRatioBins.binResolution(256));
    }

    private static float[] floats(List<Object> l) {
        float[] f = new float[l.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = ((Number) l.get(i)).floatValue();
        }
        return f;
    }
}
