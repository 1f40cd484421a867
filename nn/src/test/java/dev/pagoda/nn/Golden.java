package dev.pagoda.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The vendored golden fixtures (golden), as the nn tests read them. */
public final class Golden {

    private Golden() {
    }

    public static Path root() {
        String p = System.getProperty("pagoda.golden");
        if (p == null) {
            throw new IllegalStateException("system property pagoda.golden is not set (surefire sets it)");
        }
        return Path.of(p);
    }

    public static Path model(String name) {
        return root().resolve("models").resolve(name);
    }

    public static Map<String, Object> caseJson(String name) {
        try {
            return Json.parseObjectWithNonFinite(Files.readString(root().resolve("cases").resolve(name).resolve("case.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static SafetensorsFile tensors(String name) {
        return SafetensorsFile.open(root().resolve("cases").resolve(name).resolve("tensors.safetensors"));
    }

    /** Asserts {@code rel = max|got-ref| / max(1, max|ref|) <= tol}, naming the tensor on failure. */
    public static Difference assertClose(String what, Tensor got, Tensor ref, double tol) {
        Difference d = Difference.of(got, ref);
        assertTrue(d.within(tol), what + ": " + d + " exceeds rel " + tol);
        return d;
    }
}
