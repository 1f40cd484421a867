package dev.pagoda.nn.layers;

import dev.pagoda.nn.Parameter;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The LoRA adapters of one linear or convolution layer: {@code W + Σ wᵢ·sᵢ·upᵢ·downᵢ}, where
 * {@code sᵢ = alphaᵢ / rankᵢ} comes with the adapter's file and {@code wᵢ} is the weight
 * {@code set_adapters} gives it. Unfused, the adapters run as a low-rank side path next to the
 * untouched base weight (still the mapped file, in its stored dtype). {@link #fuse} writes the sum into
 * a new tensor of the base weight's dtype once and keeps the base tensor for {@link #unfuse}, so no
 * float32 copy of the base weights exists at any time.
 *
 * <p>Adapters and weights are set between generate calls, not during one: they are read by every run.
 */
public final class LowRankAdapters {

    /**
     * The LoRA scale of the call running on this thread (diffusers' {@code cross_attention_kwargs={"scale": s}}
     * / {@code lora_scale}), multiplying every unfused adapter's update; 1 when unbound. A scoped value, so
     * concurrent calls on shared modules each keep their own scale; module code runs on the calling thread.
     */
    public static final ScopedValue<Float> CALL_SCALE = ScopedValue.newInstance();

    /** {@code down [r, in(, k, k)]}, {@code up [out, r(, 1, 1)]}, {@code scale = alpha / r}. */
    public record Adapter(Tensor down, Tensor up, float scale) {
    }

    private final Map<String, Adapter> adapters = new LinkedHashMap<>();
    private final Map<String, Float> weights = new LinkedHashMap<>();
    private Tensor unfused;

    void add(String name, Adapter a) {
        adapters.put(name, a);
        weights.put(name, 1f);
    }

    /** Removes an adapter; a fused layer must be unfused first. */
    void remove(String name) {
        requireUnfused("remove an adapter from");
        adapters.remove(name);
        weights.remove(name);
    }

    public boolean isEmpty() {
        return adapters.isEmpty();
    }

    public java.util.Set<String> names() {
        return java.util.Collections.unmodifiableSet(adapters.keySet());
    }

    /** The active adapters and their weights; adapters not named are off (weight 0). */
    void setWeights(Map<String, Float> active) {
        requireUnfused("change the adapter weights of");
        for (String n : adapters.keySet()) {
            weights.put(n, active.getOrDefault(n, 0f));
        }
    }

    boolean fused() {
        return unfused != null;
    }

    private void requireUnfused(String what) {
        if (unfused != null) {
            throw new IllegalStateException("cannot " + what + " a layer with fused LoRA weights; unfuseLora first");
        }
    }

    /** {@code y + Σ wᵢ·sᵢ·up(down(x))}, or {@code y} when fused or nothing is active. */
    Tensor sidePath(Tensor x, Tensor y, java.util.function.BiFunction<Tensor, Adapter, Tensor> lowRank) {
        if (unfused != null) {
            return y;
        }
        float call = CALL_SCALE.orElse(1f);
        for (Map.Entry<String, Adapter> e : adapters.entrySet()) {
            float w = weights.get(e.getKey());
            if (w != 0f && call != 0f) {
                // PEFT's scale_lora_layers: the layer's scaling (weight·alpha/rank) times the call's scale
                y = y.backend().axpby(1f, y, w * e.getValue().scale() * call, lowRank.apply(x, e.getValue()));
            }
        }
        return y;
    }

    /** Replaces {@code weight}'s value by {@code W + Σ wᵢ·sᵢ·upᵢ·downᵢ} in its stored dtype. */
    void fuse(Parameter weight) {
        if (unfused != null) {
            return;
        }
        Tensor base = weight.get();
        float[] w = base.toFloatArray();
        int out = base.dim(0);
        int cols = (int) (base.numel() / out);
        for (Map.Entry<String, Adapter> e : adapters.entrySet()) {
            float k = weights.get(e.getKey()) * e.getValue().scale();
            if (k == 0f) {
                continue;
            }
            float[] up = e.getValue().up().toFloatArray();
            float[] down = e.getValue().down().toFloatArray();
            int r = e.getValue().down().dim(0);
            for (int o = 0; o < out; o++) {
                for (int j = 0; j < r; j++) {
                    float u = k * up[o * r + j];
                    if (u == 0f) {
                        continue;
                    }
                    int d = j * cols;
                    int row = o * cols;
                    for (int c = 0; c < cols; c++) {
                        w[row + c] += u * down[d + c];
                    }
                }
            }
        }
        DType dt = base.dtype();
        Tensor fusedWeight = Tensor.zeros(dt, base.shape());
        for (int i = 0; i < w.length; i++) {
            fusedWeight.storage().setFloat(dt, i, w[i]);
        }
        unfused = base;
        weight.set(fusedWeight);
    }

    /** Restores the base tensor (the mapped file's) exactly. */
    void unfuse(Parameter weight) {
        if (unfused != null) {
            weight.set(unfused);
            unfused = null;
        }
    }
}
