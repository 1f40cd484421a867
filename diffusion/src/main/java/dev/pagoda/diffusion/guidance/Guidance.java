package dev.pagoda.diffusion.guidance;

import dev.pagoda.tensor.Tensor;

/**
 * The scales of classifier-free guidance and perturbed-attention guidance, and how diffusers' PAG
 * pipelines combine the terms. The batch layout that carries the terms is {@link GuidedBatch}'s.
 *
 * <pre>
 * CFG + PAG: ε = ε_u + w·(ε_c − ε_u) + s·(ε_c − ε_p)
 * PAG only:  ε = ε_c + s·(ε_c − ε_p)
 * CFG only:  ε = ε_u + w·(ε_c − ε_u)
 * </pre>
 * With an adaptive scale a &gt; 0, {@code s(t) = max(0, s − a·(1000 − t))}. Arithmetic is float32 in
 * torch's evaluation order, so results match diffusers to the bit where the inputs do.
 *
 * @param guidanceScale     w; CFG is on iff w &gt; 1
 * @param pagScale          s; PAG is on iff s &gt; 0 and layers are selected ({@code pagLayersSelected})
 * @param pagAdaptiveScale  a (0 = constant scale)
 * @param guidanceRescale   φ of "Common Diffusion Noise Schedules…" (0 = off; CFG only)
 * @param pagLayersSelected whether the denoiser has self-attention modules selected for PAG
 */
public record Guidance(float guidanceScale, float pagScale, float pagAdaptiveScale, float guidanceRescale,
        boolean pagLayersSelected) {

    public Guidance {
        if (!(guidanceScale >= 0) || !(pagScale >= 0) || !(pagAdaptiveScale >= 0) || !(guidanceRescale >= 0)) {
            throw new IllegalArgumentException("guidance scales must be >= 0: guidance " + guidanceScale + ", pag "
                    + pagScale + ", pag adaptive " + pagAdaptiveScale + ", rescale " + guidanceRescale);
        }
    }

    public boolean cfg() {
        return guidanceScale > 1;
    }

    public boolean pag() {
        return pagScale > 0 && pagLayersSelected;
    }

    /** The PAG scale at timestep {@code t}. */
    public float pagScaleAt(float t) {
        if (pagAdaptiveScale > 0 && pag()) {
            float s = pagScale - pagAdaptiveScale * (1000f - t);
            return Math.max(s, 0f);
        }
        return pagScale;
    }

    /**
     * The guided prediction from the terms' predictions (each {@code [n, ...]}): {@code uncond} null
     * without CFG, {@code perturbed} null without PAG.
     */
    public Tensor combine(Tensor uncond, Tensor cond, Tensor perturbed, float t) {
        if (cfg() != (uncond != null) || pag() != (perturbed != null)) {
            throw new IllegalArgumentException("guidance: terms given (uncond " + (uncond != null) + ", perturbed "
                    + (perturbed != null) + ") do not match the scales (CFG " + cfg() + ", PAG " + pag() + ")");
        }
        if (uncond == null && perturbed == null) {
            return cond.contiguous();
        }
        int n = (int) cond.numel();
        float[] result = new float[n];
        float[] c = cond.toFloatArray();
        if (uncond != null) {
            float[] u = uncond.toFloatArray();
            float w = guidanceScale;
            for (int i = 0; i < n; i++) {
                result[i] = u[i] + w * (c[i] - u[i]);
            }
            if (perturbed != null) {
                float[] p = perturbed.toFloatArray();
                float s = pagScaleAt(t);
                for (int i = 0; i < n; i++) {
                    result[i] = result[i] + s * (c[i] - p[i]);
                }
            }
            if (guidanceRescale > 0) {
                rescale(result, c, cond.dim(0));
            }
        } else {
            float[] p = perturbed.toFloatArray();
            float s = pagScaleAt(t);
            for (int i = 0; i < n; i++) {
                result[i] = c[i] + s * (c[i] - p[i]);
            }
        }
        return Tensor.of(result, cond.shape());
    }

    /**
     * diffusers' {@code rescale_noise_cfg}: match the per-image std of the guided to the text
     * prediction. torch returns each std as a float32 tensor and divides them in float32, so the ratio
     * is the float quotient of the two rounded stds (a double quotient rounded once differs in about
     * a quarter of the cases).
     */
    private void rescale(float[] cfgOut, float[] text, int images) {
        int per = cfgOut.length / images;
        float phi = guidanceRescale;
        for (int b = 0; b < images; b++) {
            float stdText = std(text, b * per, per);
            float stdCfg = std(cfgOut, b * per, per);
            float ratio = stdText / stdCfg;
            for (int i = b * per; i < (b + 1) * per; i++) {
                float rescaled = cfgOut[i] * ratio;
                cfgOut[i] = phi * rescaled + (1 - phi) * cfgOut[i];
            }
        }
    }

    /**
     * Unbiased standard deviation as {@code torch.std} returns it for float32: a float. The sums run
     * in double and are rounded once at the end; torch's two-pass float32 reduction gives the same
     * float for the prediction sizes of a pipeline (checked by the diffusers-made fixture).
     */
    private static float std(float[] v, int from, int len) {
        double mean = 0;
        for (int i = from; i < from + len; i++) {
            mean += v[i];
        }
        mean /= len;
        double ss = 0;
        for (int i = from; i < from + len; i++) {
            double d = v[i] - mean;
            ss += d * d;
        }
        return (float) Math.sqrt(ss / Math.max(1, len - 1));
    }
}
