package dev.pagoda.tensor.golden;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A fixture folder in the golden layout ({@code index.json}, {@code cases/NAME/case.json} with
 * {@code tensors.safetensors}, {@code models/NAME/}): the one reader of that layout, used by the
 * conformance runner and by the tests of every module. It lives in tensor's main code because the
 * runner (main code of diffusion) needs it too, and tensor is what every module already depends on;
 * no test-jar is involved. The vendored copy is the top-level {@code golden/} folder, passed to tests
 * in the system property {@code pagoda.golden}.
 */
public final class GoldenFixtures {

    /** The system property surefire sets to the vendored fixture folder. */
    public static final String PROPERTY = "pagoda.golden";

    private final Path root;

    public GoldenFixtures(Path root) {
        this.root = root;
    }

    /** The vendored fixtures named by {@value #PROPERTY}. */
    public static GoldenFixtures vendored() {
        String p = System.getProperty(PROPERTY);
        if (p == null) {
            throw new IllegalStateException("system property " + PROPERTY + " is not set (surefire sets it)");
        }
        return new GoldenFixtures(Path.of(p));
    }

    public Path root() {
        return root;
    }

    /** {@code index.json}: the list of cases and what each covers. */
    public Map<String, Object> index() {
        return json(root.resolve("index.json"));
    }

    public Path caseDir(String name) {
        return root.resolve("cases").resolve(name);
    }

    public Map<String, Object> caseJson(String name) {
        return json(caseDir(name).resolve("case.json"));
    }

    /** The case's tensors; the caller closes the file. */
    public SafetensorsFile tensors(String name) {
        return SafetensorsFile.open(caseDir(name).resolve("tensors.safetensors"));
    }

    /** A model folder under {@code models/}. */
    public Path model(String name) {
        return root.resolve("models").resolve(name);
    }

    /** A path relative to the root, as case files name their models ({@code "models/tiny-sdxl"}). */
    public Path path(String relative) {
        return root.resolve(relative);
    }

    /** One case: its {@code case.json} and its tensors, open until closed. */
    public Case open(String name) {
        return new Case(caseDir(name), caseJson(name), tensors(name));
    }

    /** A case's JSON and tensors. */
    public record Case(Path dir, Map<String, Object> json, SafetensorsFile tensors) implements AutoCloseable {

        public Tensor tensor(String name) {
            return tensors.tensor(name);
        }

        public Map<String, Object> object(String key) {
            return map(json.get(key));
        }

        @SuppressWarnings("unchecked")
        public List<Map<String, Object>> objects(String key) {
            return (List<Map<String, Object>>) json.get(key);
        }

        @Override
        public void close() {
            tensors.close();
        }
    }

    /** A JSON file that must hold an object (non-finite numbers allowed, as Python writes them). */
    public static Map<String, Object> json(Path p) {
        try {
            return Json.parseObjectWithNonFinite(Files.readString(p));
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** {@code m[key]} as a list; absent is empty. */
    @SuppressWarnings("unchecked")
    public static List<Object> list(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v == null ? List.of() : (List<Object>) v;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    public static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        for (Object x : (List<?>) o) {
            out.add((String) x);
        }
        return out;
    }

    public static int[] ints(Object o) {
        return ((List<?>) o).stream().mapToInt(x -> ((Number) x).intValue()).toArray();
    }

    public static float[] floats(Object o) {
        List<?> l = (List<?>) o;
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) l.get(i)).floatValue();
        }
        return out;
    }

    /** A JSON list of integers as a 1×n I64 tensor (token ids). */
    public static Tensor longs(Object o) {
        long[] v = ((List<?>) o).stream().mapToLong(x -> ((Number) x).longValue()).toArray();
        return Tensor.ofLongs(v, 1, v.length);
    }

    /**
     * The golden README's error measure, {@code max|got − ref| / max(1, max|ref|)}; infinite when
     * the lengths differ or NaN appears on one side only.
     */
    public static double rel(float[] got, float[] ref) {
        if (got.length != ref.length) {
            return Double.POSITIVE_INFINITY;
        }
        double diff = 0;
        double scale = 1;
        for (int i = 0; i < ref.length; i++) {
            if (Float.isNaN(got[i]) != Float.isNaN(ref[i])) {
                return Double.POSITIVE_INFINITY;
            }
            diff = Math.max(diff, Math.abs((double) got[i] - ref[i]));
            scale = Math.max(scale, Math.abs(ref[i]));
        }
        return diff / scale;
    }
}
