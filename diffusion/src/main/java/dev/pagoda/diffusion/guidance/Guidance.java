package dev.pagoda.diffusion.guidance;

import dev.pagoda.tensor.Tensor;

/**
 * Classifier-free guidance and perturbed-attention guidance, combined as diffusers' PAG pipelines do.
 * The denoiser batch is {@code [uncond, cond, perturbed]} with CFG and PAG, {@code [cond, perturbed]}
 * with PAG only, {@code [uncond, cond]} with CFG only, {@code [cond]} with neither.
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
 * @param pagLayersSelected whether the denoiser has PAG layers flagged
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

    /** Batch rows per image: 1, 2 or 3. */
    public int rows() {
        return 1 + (cfg() ? 1 : 0) + (pag() ? 1 : 0);
    }

    /** Number of trailing perturbed rows in a batch of {@code images} images. */
    public int perturbedRows(int images) {
        return pag() ? images : 0;
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
     * Combines the denoiser output {@code out[rows·n, ...]} (chunks in this record's batch layout) into
     * the guided prediction {@code [n, ...]}.
     */
    public Tensor combine(Tensor out, float t) {
        int r = rows();
        if (out.dim(0) % r != 0) {
            throw new IllegalArgumentException("guidance: denoiser batch " + out.dim(0) + " is not a multiple of "
                    + r + " rows");
        }
        Tensor[] chunks = out.chunk(r, 0);
        if (r == 1) {
            return chunks[0].contiguous();
        }
        int n = (int) chunks[0].numel();
        float[] result = new float[n];
        float[] cond;
        if (cfg()) {
            float[] u = chunks[0].toFloatArray();
            cond = chunks[1].toFloatArray();
            float w = guidanceScale;
            for (int i = 0; i < n; i++) {
                result[i] = u[i] + w * (cond[i] - u[i]);
            }
            if (pag()) {
                float[] p = chunks[2].toFloatArray();
                float s = pagScaleAt(t);
                for (int i = 0; i < n; i++) {
                    result[i] = result[i] + s * (cond[i] - p[i]);
                }
            }
            if (guidanceRescale > 0) {
                rescale(result, cond, chunks[0].dim(0));
            }
        } else {
            cond = chunks[0].toFloatArray();
            float[] p = chunks[1].toFloatArray();
            float s = pagScaleAt(t);
            for (int i = 0; i < n; i++) {
                result[i] = cond[i] + s * (cond[i] - p[i]);
            }
        }
        return Tensor.of(result, chunks[0].shape());
    }

    /** diffusers' {@code rescale_noise_cfg}: match the per-image std of the guided to the text prediction. */
    private void rescale(float[] cfgOut, float[] text, int images) {
        int per = cfgOut.length / images;
        float phi = guidanceRescale;
        for (int b = 0; b < images; b++) {
            double stdText = std(text, b * per, per);
            double stdCfg = std(cfgOut, b * per, per);
            float ratio = (float) (stdText / stdCfg);
            for (int i = b * per; i < (b + 1) * per; i++) {
                float rescaled = cfgOut[i] * ratio;
                cfgOut[i] = phi * rescaled + (1 - phi) * cfgOut[i];
            }
        }
    }

    /** Unbiased standard deviation, as {@code torch.std}. */
    private static double std(float[] v, int from, int len) {
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
        return Math.sqrt(ss / Math.max(1, len - 1));
    }
}
