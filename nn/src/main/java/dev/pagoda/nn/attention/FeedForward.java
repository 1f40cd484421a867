package dev.pagoda.nn.attention;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code FeedForward} with the GEGLU activation: {@code net.0.proj} projects to twice the
 * inner width, GEGLU gates it, {@code net.2} projects back ({@code net.1} is dropout, inactive).
 */
public final class FeedForward extends Module {

    private final Linear proj;
    private final Linear out;

    public FeedForward(int dim, int inner) {
        ModuleList<Module> net = child("net", new ModuleList<>());
        Geglu geglu = net.add(new Geglu(dim, inner));
        this.proj = geglu.proj;
        net.add(new Dropout());
        this.out = net.add(new Linear(inner, dim, true));
    }

    public Tensor forward(Tensor x) {
        Tensor h = proj.forward(x);
        return out.forward(h.backend().geglu(h));
    }

    /** {@code GEGLU}: holds the projection under the name {@code proj}. */
    static final class Geglu extends Module {
        final Linear proj;

        Geglu(int dim, int inner) {
            this.proj = child("proj", new Linear(dim, inner * 2, true));
        }
    }

    /** A parameterless placeholder keeping torch's child numbering ({@code net.1}). */
    static final class Dropout extends Module {
    }
}
