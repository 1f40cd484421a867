package dev.pagoda.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** torch's {@code nn.ModuleList}: children named {@code 0, 1, …}. */
public final class ModuleList<M extends Module> extends Module {

    private final List<M> items = new ArrayList<>();

    public <T extends M> T add(T module) {
        child(Integer.toString(items.size()), module);
        items.add(module);
        return module;
    }

    public List<M> items() {
        return Collections.unmodifiableList(items);
    }

    public int size() {
        return items.size();
    }

    public M get(int i) {
        return items.get(i);
    }
}
