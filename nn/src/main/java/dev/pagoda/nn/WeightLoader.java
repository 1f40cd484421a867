package dev.pagoda.nn;

import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.TensorInfo;
import dev.pagoda.tensor.safetensors.TensorStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.Set;

/** Strict loading of a module tree from named tensors, and random initialisation for benchmarks. */
public final class WeightLoader {

    private WeightLoader() {
    }

    /**
     * Binds every parameter of {@code root} to the tensor of the same dotted name in {@code store},
     * zero-copy and in the stored dtype. Any missing key, unexpected key or shape mismatch fails the
     * whole load with one {@link WeightLoadException} listing them all.
     *
     * @param prefix prepended to every parameter path (e.g. {@code "text_model."} is not needed for
     *               diffusers files, but sub-models inside a bigger file use it); "" for none
     */
    public static void load(Module root, TensorStore store, String prefix) {
        load(root, store, prefix, Set.of());
    }

    /** As {@link #load(Module, TensorStore, String)}, tolerating the extra file keys in {@code ignored}. */
    public static void load(Module root, TensorStore store, String prefix, Set<String> ignored) {
        Map<String, Parameter> params = root.namedParameters();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String key = prefix + e.getKey();
            if (!store.contains(key)) {
                missing.add(key);
                continue;
            }
            used.add(key);
            TensorInfo entry = store.info(key);
            int[] want = e.getValue().shape();
            if (!Arrays.equals(entry.shape(), want)) {
                mismatched.add(key + " (file " + Shapes.str(entry.shape()) + ", model " + Shapes.str(want) + ")");
            } else if (!entry.dtype().isFloating()) {
                mismatched.add(key + " (dtype " + entry.dtype() + ", expected a floating type)");
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String name : store.names()) {
            if (name.startsWith(prefix) && !used.contains(name) && !ignored.contains(name)) {
                unexpected.add(name);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty()) {
            throw new WeightLoadException(store.describe(), missing, unexpected, mismatched);
        }
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            e.getValue().set(store.tensor(prefix + e.getKey()));
        }
    }

    /**
     * Fills every parameter with deterministic random values of the given dtype (benchmarks and
     * memory tests at real size, where no weights exist): weights ~ U(-a, a) with a = 1/sqrt(fan-in),
     * norm scales near 1 and other vectors small, so activations stay in a realistic range. Each
     * parameter has its own generator seeded from {@code seed} and its index, so the result does not
     * depend on the number of threads filling them.
     */
    public static void randomize(Module root, DType dtype, long seed) {
        List<Map.Entry<String, Parameter>> params = new ArrayList<>(root.namedParameters().entrySet());
        java.util.stream.IntStream.range(0, params.size()).parallel().forEach(i -> {
            Map.Entry<String, Parameter> e = params.get(i);
            int[] shape = e.getValue().shape();
            Tensor t = Tensor.zeros(dtype, shape);
            long n = t.numel();
            boolean vector = shape.length == 1;
            boolean normScale = vector && e.getKey().endsWith(".weight");
            int fanIn = 1;
            for (int d = 1; d < shape.length; d++) {
                fanIn *= shape[d];
            }
            float a = vector ? 0.02f : (float) (1.0 / Math.sqrt(Math.max(1, fanIn)));
            SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + i);
            var storage = t.storage();
            for (long j = 0; j < n; j++) {
                float v = (float) (rng.nextDouble() * 2 - 1) * a;
                storage.setFloat(dtype, j, normScale ? 1f + v : v);
            }
            e.getValue().set(t);
        });
    }
}
