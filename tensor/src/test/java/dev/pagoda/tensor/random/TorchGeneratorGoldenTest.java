package dev.pagoda.tensor.random;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every entry of the golden case {@code rng_torch_randn} must match torch bit for bit. */
class TorchGeneratorGoldenTest {

    private static Path caseDir() {
        return GoldenFixtures.vendored().caseDir("rng_torch_randn");
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyGoldenEntryMatchesTorchBitForBit() throws IOException {
        Path dir = caseDir();
        Map<String, Object> c = Json.parseObject(Files.readString(dir.resolve("case.json")));
        List<Map<String, Object>> entries = (List<Map<String, Object>>) c.get("entries");
        int checked = 0;
        int values = 0;
        try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("tensors.safetensors"))) {
            for (Map<String, Object> e : entries) {
                String api = (String) e.get("api");
                long seed = ((Number) e.get("seed")).longValue();
                TorchGenerator g = new TorchGenerator(seed);
                switch (api) {
                    case "generator", "manual_seed" -> {
                        values += assertBitExact(api + " seed " + seed, g.randn(shape(e.get("shape"))),
                                file.tensor((String) e.get("tensor")));
                        checked++;
                    }
                    case "generator_sequence" -> {
                        int k = 0;
                        for (Map<String, Object> d : (List<Map<String, Object>>) e.get("draws")) {
                            values += assertBitExact("sequence seed " + seed + " draw " + k++,
                                    g.randn(shape(d.get("shape"))), file.tensor((String) d.get("tensor")));
                        }
                        checked++;
                    }
                    default -> throw new AssertionError("unknown api " + api + " in rng_torch_randn");
                }
            }
        }
        assertEquals(entries.size(), checked);
        assertTrue(values > 5000, "too few values compared: " + values);
    }

    @Test
    void seedsAbove2To32UseTheLow32BitsButKeepTheFullSeed() {
        long big = (1L << 32) + 7;
        TorchGenerator a = new TorchGenerator(big);
        TorchGenerator b = new TorchGenerator(7);
        assertArrayEquals(b.randn(3, 7).toFloatArray(), a.randn(3, 7).toFloatArray());
        assertEquals(big, a.initialSeed());
    }

    private static int[] shape(Object o) {
        List<?> l = (List<?>) o;
        int[] s = new int[l.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = ((Number) l.get(i)).intValue();
        }
        return s;
    }

    private static int assertBitExact(String what, Tensor got, Tensor ref) {
        assertArrayEquals(ref.shape(), got.shape(), what + ": shape");
        float[] g = got.toFloatArray();
        float[] r = ref.toFloatArray();
        for (int i = 0; i < r.length; i++) {
            if (Float.floatToRawIntBits(g[i]) != Float.floatToRawIntBits(r[i])) {
                throw new AssertionError(what + ": element " + i + " is " + g[i] + " (bits "
                        + Integer.toHexString(Float.floatToRawIntBits(g[i])) + "), torch gives " + r[i]
                        + " (bits " + Integer.toHexString(Float.floatToRawIntBits(r[i])) + ")");
            }
        }
        return r.length;
    }
}
