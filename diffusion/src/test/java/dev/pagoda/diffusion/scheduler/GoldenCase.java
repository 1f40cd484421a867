package dev.pagoda.diffusion.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** One vendored golden case (case.json + tensors.safetensors) and the comparisons the tests need. */
final class GoldenCase implements AutoCloseable {

    final Path dir;
    final Map<String, Object> json;
    private final SafetensorsFile tensors;

    private GoldenCase(Path dir) {
        this.dir = dir;
        try {
            this.json = Json.parseObjectWithNonFinite(Files.readString(dir.resolve("case.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.tensors = SafetensorsFile.open(dir.resolve("tensors.safetensors"));
    }

    static Path root() {
        String golden = System.getProperty("pagoda.golden");
        assertTrue(golden != null, "system property pagoda.golden is not set");
        return Path.of(golden);
    }

    static GoldenCase open(String name) {
        return new GoldenCase(root().resolve("cases").resolve(name));
    }

    Tensor tensor(String name) {
        return tensors.tensor(name);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> object(String key) {
        return (Map<String, Object>) json.get(key);
    }

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> list(String key) {
        return (List<Map<String, Object>>) json.get(key);
    }

    @Override
    public void close() {
        tensors.close();
    }

    /** max|got − ref| / max(1, max|ref|), the golden README's "rel". */
    static double rel(float[] got, float[] ref) {
        double diff = 0;
        double scale = 1;
        for (int i = 0; i < ref.length; i++) {
            diff = Math.max(diff, Math.abs((double) got[i] - ref[i]));
            scale = Math.max(scale, Math.abs(ref[i]));
            if (Float.isNaN(got[i]) != Float.isNaN(ref[i])) {
                return Double.POSITIVE_INFINITY;
            }
        }
        return diff / scale;
    }

    static void assertClose(String what, float[] got, float[] ref, double tol) {
        assertTrue(got.length == ref.length, what + ": " + got.length + " values, expected " + ref.length);
        double r = rel(got, ref);
        assertTrue(r <= tol, what + ": rel error " + r + " exceeds " + tol);
    }

    static void assertClose(String what, Tensor got, Tensor ref, double tol) {
        assertArrayEquals(ref.shape(), got.shape(), what + ": shape");
        assertClose(what, got.toFloatArray(), ref.toFloatArray(), tol);
    }

    static float[] floats(Object jsonList) {
        List<?> l = (List<?>) jsonList;
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) l.get(i)).floatValue();
        }
        return out;
    }
}
