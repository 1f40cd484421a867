package dev.pagoda.diffusion.lora;

import dev.pagoda.diffusion.singlefile.CheckpointException;
import dev.pagoda.diffusion.singlefile.LdmUnetKeys;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.LoraTarget;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import dev.pagoda.tensor.safetensors.TensorStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The LoRA adapters of one set of pipeline components, as diffusers' {@code load_lora_weights},
 * {@code set_adapters}, {@code fuse_lora}, {@code unfuse_lora} and {@code delete_adapters}. Adapters
 * live in the modules, so pipelines sharing components ({@code fromPipe}) share them too, as in
 * diffusers. The pairs stay memory-mapped in their stored dtype; the base weights are never copied
 * (see {@link dev.pagoda.nn.layers.LowRankAdapters}). Change adapters between generate calls only.
 */
public final class LoraAdapters implements AutoCloseable {

    private final Map<String, Module> components;
    private final LdmUnetKeys unetKeys;
    private final Map<String, Map<String, String>> tables = new HashMap<>();
    private final Map<String, List<LoraTarget>> adapters = new LinkedHashMap<>();
    private final List<TensorStore> files = new ArrayList<>();
    private boolean fused;

    /** @param components {@code unet}, {@code text_encoder}, {@code text_encoder_2} (absent ones may be missing) */
    public LoraAdapters(Map<String, Module> components) {
        this.components = Map.copyOf(components);
        Module unet = components.get("unet");
        this.unetKeys = unet instanceof UNet2DConditionModel u ? new LdmUnetKeys(u.config()) : null;
    }

    public synchronized Set<String> names() {
        return java.util.Collections.unmodifiableSet(new LinkedHashSet<>(adapters.keySet()));
    }

    /**
     * Loads the LoRA file {@code file} as adapter {@code name}, active with weight 1 (and the others
     * keep theirs). Nothing is attached unless every pair fits.
     *
     * @throws CheckpointException naming the file and every target module that does not exist, every pair
     *         whose ranks disagree and every pair whose shapes do not fit its layer
     */
    public synchronized void load(Path file, String name) {
        if (adapters.containsKey(name)) {
            throw new IllegalArgumentException("an adapter named \"" + name + "\" is already loaded");
        }
        if (fused) {
            throw new IllegalStateException("LoRA weights are fused; unfuseLora before loading another adapter");
        }
        TensorStore store = SafetensorsFile.open(file);
        try {
            List<LoraFile.Pair> pairs = LoraFile.read(store);
            List<String> missing = new ArrayList<>();
            List<String> rank = new ArrayList<>();
            List<LoraTarget> targets = new ArrayList<>();
            for (LoraFile.Pair p : pairs) {
                LoraTarget t = resolve(p);
                if (t == null) {
                    missing.add(p.component() + ":" + p.target());
                } else if (p.down().dim(0) != p.up().dim(1)) {
                    rank.add(p.key() + " (down rank " + p.down().dim(0) + ", up rank " + p.up().dim(1) + ")");
                }
                targets.add(t);
            }
            if (!missing.isEmpty() || !rank.isEmpty()) {
                StringBuilder b = new StringBuilder(store.describe()).append(": LoRA ").append(name).append(" does not fit");
                if (!missing.isEmpty()) {
                    b.append("; target modules that do not exist: ").append(LoraFile.first(missing));
                }
                if (!rank.isEmpty()) {
                    b.append("; rank mismatch between lora_down/A and lora_up/B: ").append(LoraFile.first(rank));
                }
                throw new CheckpointException(b.toString());
            }
            List<LoraTarget> attached = new ArrayList<>();
            try {
                for (int i = 0; i < pairs.size(); i++) {
                    LoraFile.Pair p = pairs.get(i);
                    int r = p.down().dim(0);
                    float scale = p.alpha() == null ? 1f : p.alpha() / r;
                    targets.get(i).addLora(name, p.down(), p.up(), scale);
                    attached.add(targets.get(i));
                }
            } catch (IllegalArgumentException e) {
                attached.forEach(t -> t.removeLora(name));
                throw new CheckpointException(store.describe() + ": " + e.getMessage());
            }
            adapters.put(name, attached);
            files.add(store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    private LoraTarget resolve(LoraFile.Pair p) {
        Module root = components.get(p.component());
        if (root == null) {
            return null;
        }
        String path = p.underscored() ? table(p.component(), root).get(p.target()) : p.target();
        Module m = path == null ? null : root.namedModules().get(path);
        return m instanceof LoraTarget t ? t : null;
    }

    /** Kohya's spelling (dots as underscores, diffusers' or the original UNet's path) → module path. */
    private Map<String, String> table(String component, Module root) {
        return tables.computeIfAbsent(component, c -> {
            Map<String, String> t = new HashMap<>();
            for (Map.Entry<String, Module> e : root.namedModules().entrySet()) {
                if (e.getValue() instanceof LoraTarget) {
                    t.put(e.getKey().replace('.', '_'), e.getKey());
                    if (c.equals("unet") && unetKeys != null) {
                        String ldm = unetKeys.toLdm(e.getKey() + ".weight");
                        if (ldm != null) {
                            t.putIfAbsent(ldm.substring(0, ldm.length() - ".weight".length()).replace('.', '_'), e.getKey());
                        }
                    }
                }
            }
            return t;
        });
    }

    /**
     * diffusers' {@code set_adapters}: exactly the adapters {@code names} are active, each with its
     * weight (multiplying its alpha/rank scale); the others are off.
     *
     * @throws IllegalArgumentException for an unknown adapter or lists of different lengths
     */
    public synchronized void setAdapters(List<String> names, List<Float> weights) {
        if (names.size() != weights.size()) {
            throw new IllegalArgumentException("setAdapters: " + names.size() + " names but " + weights.size() + " weights");
        }
        if (fused) {
            throw new IllegalStateException("LoRA weights are fused; unfuseLora before changing adapter weights");
        }
        Map<String, Float> w = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            if (!adapters.containsKey(names.get(i))) {
                throw new IllegalArgumentException("no adapter named \"" + names.get(i) + "\" (loaded: " + adapters.keySet() + ")");
            }
            w.put(names.get(i), weights.get(i));
        }
        for (LoraTarget t : allTargets()) {
            t.setLoraWeights(w);
        }
    }

    /** diffusers' {@code fuse_lora}: the active adapters are written into the weights (stored dtype). */
    public synchronized void fuse() {
        for (LoraTarget t : allTargets()) {
            t.fuseLora();
        }
        fused = true;
    }

    /** diffusers' {@code unfuse_lora}: the original weights come back exactly. */
    public synchronized void unfuse() {
        for (LoraTarget t : allTargets()) {
            t.unfuseLora();
        }
        fused = false;
    }

    /** diffusers' {@code delete_adapters}. */
    public synchronized void delete(String name) {
        List<LoraTarget> ts = adapters.get(name);
        if (ts == null) {
            throw new IllegalArgumentException("no adapter named \"" + name + "\" (loaded: " + adapters.keySet() + ")");
        }
        if (fused) {
            throw new IllegalStateException("LoRA weights are fused; unfuseLora before deleting an adapter");
        }
        ts.forEach(t -> t.removeLora(name));
        adapters.remove(name);
    }

    private Set<LoraTarget> allTargets() {
        Set<LoraTarget> all = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        adapters.values().forEach(all::addAll);
        return all;
    }

    /** Unmaps the LoRA files (with the weights they belong to). */
    @Override
    public synchronized void close() {
        files.forEach(TensorStore::close);
        files.clear();
    }
}
