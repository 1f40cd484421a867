package dev.pagoda.nn.pixart;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.tensor.Tensor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * diffusers' {@code PatchEmbed} as PixArt uses it: a {@code patch × patch} convolution with stride
 * {@code patch} ({@code proj}), flattened to tokens {@code [B, h·w, dim]} in row-major order, plus the
 * fixed 2-D sin-cos position embedding of the token grid. The embedding is not a weight: it is
 * computed for each grid size as {@code get_2d_sincos_pos_embed} does, with {@code base_size =
 * sample_size / patch} and the config's {@code interpolation_scale}, so any latent size works.
 */
public final class PatchEmbed extends Module {

    private final Conv2d proj;
    private final int patch;
    private final int dim;
    private final int baseSize;
    private final float interpolationScale;
    private final Map<Long, Tensor> posEmbeds = new ConcurrentHashMap<>();

    public PatchEmbed(int inChannels, int dim, int patch, int sampleSize, float interpolationScale) {
        this.proj = child("proj", new Conv2d(inChannels, dim, patch, patch, 0, true));
        this.patch = patch;
        this.dim = dim;
        this.baseSize = sampleSize / patch;
        this.interpolationScale = interpolationScale;
    }

    /** {@code latent[B, C, H, W]} → {@code [B, (H/p)·(W/p), dim]}. */
    public Tensor forward(Tensor latent) {
        int b = latent.dim(0);
        int gh = latent.dim(2) / patch;
        int gw = latent.dim(3) / patch;
        Tensor x = proj.forward(latent);
        Tensor tokens = x.reshape(b, dim, gh * gw).transpose(1, 2);
        Tensor pos = posEmbeds.computeIfAbsent(((long) gh << 32) | gw, k -> sinCos(dim, gh, gw, baseSize,
                interpolationScale));
        return x.backend().add(tokens, x.backend().resident(pos));
    }

    /**
     * {@code get_2d_sincos_pos_embed(dim, (gh, gw), base_size, interpolation_scale)} as {@code [1, gh·gw, dim]}:
     * grid coordinates in float32 ({@code arange / (n / base) / scale}, as numpy computes them), sin and cos
     * in float64, rounded to float32 at the end. The first half of the channels encodes the column, the
     * second half the row (numpy's {@code meshgrid(w, h)} puts w first).
     */
    static Tensor sinCos(int dim, int gh, int gw, int baseSize, float interpolationScale) {
        float[] rows = grid(gh, baseSize, interpolationScale);
        float[] cols = grid(gw, baseSize, interpolationScale);
        int half = dim / 2;
        int quarter = half / 2;
        double[] omega = new double[quarter];
        for (int d = 0; d < quarter; d++) {
            omega[d] = 1.0 / Math.pow(10000, d / (half / 2.0));
        }
        float[] out = new float[gh * gw * dim];
        for (int i = 0; i < gh; i++) {
            for (int j = 0; j < gw; j++) {
                int base = (i * gw + j) * dim;
                for (int d = 0; d < quarter; d++) {
                    double a = cols[j] * omega[d];
                    double r = rows[i] * omega[d];
                    out[base + d] = (float) Math.sin(a);
                    out[base + quarter + d] = (float) Math.cos(a);
                    out[base + half + d] = (float) Math.sin(r);
                    out[base + half + quarter + d] = (float) Math.cos(r);
                }
            }
        }
        return Tensor.of(out, 1, gh * gw, dim);
    }

    private static float[] grid(int n, int baseSize, float interpolationScale) {
        float step = (float) ((double) n / baseSize);
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = ((float) i / step) / interpolationScale;
        }
        return g;
    }
}
