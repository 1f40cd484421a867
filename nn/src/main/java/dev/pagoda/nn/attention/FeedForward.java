package dev.pagoda.nn.attention;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.layers.Linear;
import dev.pagoda.tensor.Tensor;

/**
 * diffusers' {@code FeedForward}: {@code net.0.proj} projects to the inner width (twice that for
 * GEGLU, which gates one half with the GELU of the other), the activation follows, {@code net.2}
 * projects back ({@code net.1} is dropout, inactive).
 */
public final class FeedForward extends Module {

    /** {@code activation_fn}: "geglu" (UNets), "gelu-approximate" (PixArt: tanh GELU), "gelu" (erf). */
    public enum Activation {
        GEGLU, GELU_TANH, GELU
    }

    private final Linear proj;
    private final Linear out;
    private final Activation activation;

    /** The GEGLU feed-forward of the UNet's transformer blocks. */
    public FeedForward(int dim, int inner) {
        this(dim, inner, Activation.GEGLU);
    }

    public FeedForward(int dim, int inner, Activation activation) {
        ModuleList<Module> net = child("net", new ModuleList<>());
        Projection act = net.add(new Projection(dim, activation == Activation.GEGLU ? inner * 2 : inner));
        this.proj = act.proj;
        net.add(new Dropout());
        this.out = net.add(new Linear(inner, dim, true));
        this.activation = activation;
    }

    public Tensor forward(Tensor x) {
        Tensor h = proj.forward(x);
        var be = h.backend();
        Tensor g = switch (activation) {
            case GEGLU -> be.geglu(h);
            case GELU_TANH -> be.gelu(h, true);
            case GELU -> be.gelu(h, false);
        };
        h.release();
        Tensor y = out.forward(g);
        g.release();
        return y;
    }

    /** diffusers' {@code GEGLU} / {@code GELU} activation modules: hold the projection as {@code proj}. */
    static final class Projection extends Module {
        final Linear proj;

        Projection(int dim, int out) {
            this.proj = child("proj", new Linear(dim, out, true));
        }
    }

    /** A parameterless placeholder keeping torch's child numbering ({@code net.1}). */
    static final class Dropout extends Module {
    }
}
