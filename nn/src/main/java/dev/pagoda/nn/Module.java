package dev.pagoda.nn;

import dev.pagoda.tensor.Backend;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A node of a model tree. Children and parameters are registered under the names diffusers and
 * transformers use, so the dotted path of every parameter is its safetensors key
 * ({@code down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight}) and loading needs no
 * renaming table. Forward methods are declared by each subclass with the arguments it needs.
 */
public abstract class Module {

    private final Map<String, Module> children = new LinkedHashMap<>();
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();

    /** Registers a child module under {@code name} and returns it. */
    protected final <M extends Module> M child(String name, M module) {
        if (children.containsKey(name) || parameters.containsKey(name)) {
            throw new IllegalStateException(getClass().getSimpleName() + " registers \"" + name + "\" twice");
        }
        children.put(name, module);
        return module;
    }

    /** Declares a parameter of the given shape under {@code name}. */
    protected final Parameter param(String name, int... shape) {
        if (children.containsKey(name) || parameters.containsKey(name)) {
            throw new IllegalStateException(getClass().getSimpleName() + " registers \"" + name + "\" twice");
        }
        Parameter p = new Parameter(shape);
        parameters.put(name, p);
        return p;
    }

    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter below this module by dotted path, in registration order. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        parameters.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, c) -> c.collect(prefix + n + ".", out));
    }

    /** Every module below (and including, under "") this one by dotted path. */
    public Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String name, Map<String, Module> out) {
        out.put(name, this);
        children.forEach((n, c) -> c.collectModules(name.isEmpty() ? n : name + "." + n, out));
    }

    /**
     * Moves every loaded parameter below this module to {@code backend}'s memory, in its stored
     * dtype (F16 weights stay F16), so forward calls on that backend's tensors read the weights in
     * place instead of uploading them per call. Parameters already there are left as they are, so
     * moving twice uploads nothing twice. Returns this module.
     */
    public Module to(Backend backend) {
        for (Parameter p : namedParameters().values()) {
            if (p.isLoaded()) {
                p.set(backend.resident(p.get()));
            }
        }
        return this;
    }

    /**
     * Drops the resident pages of every parameter that is a view of a memory-mapped file (the weights stay
     * mapped and are read again from the file or the page cache on next use): for a part that runs once
     * per call, such as a text encoder, so its weights stop counting against the process's memory while
     * the rest runs.
     */
    public void unloadWeightPages() {
        for (Parameter p : namedParameters().values()) {
            if (p.isLoaded() && p.get().storage() instanceof dev.pagoda.tensor.SegmentStorage s) {
                s.unload();
            }
        }
    }

    /** Bytes of the loaded parameters in their stored dtypes. */
    public long parameterBytes() {
        long bytes = 0;
        for (Parameter p : namedParameters().values()) {
            if (p.isLoaded()) {
                bytes += p.get().numel() * p.get().dtype().byteSize();
            }
        }
        return bytes;
    }

    /** Number of scalar weights. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : namedParameters().values()) {
            long k = 1;
            for (int d : p.shape()) {
                k *= d;
            }
            n += k;
        }
        return n;
    }
}
