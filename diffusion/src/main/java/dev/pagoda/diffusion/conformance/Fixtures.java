package dev.pagoda.diffusion.conformance;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import dev.pagoda.tensor.Backend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A golden fixture folder in the format of shared/golden (index.json, cases/NAME/case.json, tensors). */
record Fixtures(Path root, Backend backend) {

    Fixtures(Path root) {
        this(root, Backend.cpu());
    }


    Map<String, Object> index() {
        return json(root.resolve("index.json"));
    }

    Path caseDir(String name) {
        return root.resolve("cases").resolve(name);
    }

    Map<String, Object> caseJson(String name) {
        return json(caseDir(name).resolve("case.json"));
    }

    SafetensorsFile tensors(String name) {
        return SafetensorsFile.open(caseDir(name).resolve("tensors.safetensors"));
    }

    Path model(String relative) {
        return root.resolve(relative);
    }

    static Map<String, Object> json(Path p) {
        try {
            return Json.parseObjectWithNonFinite(Files.readString(p));
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v == null ? List.of() : (List<Object>) v;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        for (Object x : (List<?>) o) {
            out.add((String) x);
        }
        return out;
    }

    static int[] ints(Object o) {
        return ((List<?>) o).stream().mapToInt(x -> ((Number) x).intValue()).toArray();
    }

    static Tensor longs(Object o) {
        long[] v = ((List<?>) o).stream().mapToLong(x -> ((Number) x).longValue()).toArray();
        return Tensor.ofLongs(v, 1, v.length);
    }
}
