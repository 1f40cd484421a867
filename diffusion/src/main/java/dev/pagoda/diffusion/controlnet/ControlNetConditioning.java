package dev.pagoda.diffusion.controlnet;

import dev.pagoda.diffusion.guidance.GuidedBatch;
import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One call's ControlNet conditioning (the SDXL ControlNet pipelines' {@code controlnet(...)} step):
 * the prepared control images, per-net scales and guidance windows, and the rows the nets see.
 *
 * <p>The nets run on the uncond and cond rows only. PAG's perturbed rows receive exactly the cond
 * rows' inputs (the ControlNet's attention is never perturbed), so their residuals are the cond rows'
 * and are copied rather than recomputed. In guess mode with CFG the nets see only the cond rows and
 * the uncond rows' residuals are zero, as diffusers.
 */
public final class ControlNetConditioning {

    private final MultiControlNetModel nets;
    private final List<Tensor> images;
    private final float[] scales;
    private final float[] start;
    private final float[] end;
    private final boolean guessMode;
    private final int images0;
    private final int offset;
    private final int count;
    private final boolean zeroUncond;
    private final boolean copyPerturbed;

    private ControlNetConditioning(MultiControlNetModel nets, List<Tensor> images, float[] scales, float[] start,
            float[] end, boolean guessMode, GuidedBatch batch) {
        this.nets = nets;
        this.scales = scales;
        this.start = start;
        this.end = end;
        this.guessMode = guessMode;
        this.images0 = batch.images();
        boolean cfg = batch.has(GuidedBatch.Term.UNCOND);
        this.copyPerturbed = batch.has(GuidedBatch.Term.PERTURBED);
        this.zeroUncond = guessMode && cfg;
        this.offset = zeroUncond ? batch.row(GuidedBatch.Term.COND, 0) : 0;
        this.count = zeroUncond ? images0 : batch.rows() - (copyPerturbed ? images0 : 0);
        List<Tensor> batched = new ArrayList<>(images.size());
        for (Tensor img : images) {
            Tensor rows = count == 1 ? img : Backend.cpu().concat(0, Collections.nCopies(count, img)
                    .toArray(Tensor[]::new));
            batched.add(rows);
        }
        this.images = batched;
    }

    /**
     * Prepares a call: checks the arguments against the nets and makes the control images' batch.
     *
     * @param images    per net, the preprocessed control image {@code [1, C, H, W]}
     * @param scales    per net {@code controlnet_conditioning_scale}
     * @param start     per net {@code control_guidance_start}
     * @param end       per net {@code control_guidance_end}
     * @throws IllegalArgumentException naming the argument that does not fit
     */
    public static ControlNetConditioning prepare(MultiControlNetModel nets, List<Tensor> images, float[] scales,
            float[] start, float[] end, boolean guessMode, GuidedBatch batch, Backend device) {
        int n = nets.size();
        if (images.size() != n) {
            throw new IllegalArgumentException("ControlNet: " + images.size() + " control image"
                    + (images.size() == 1 ? "" : "s") + " for " + n + " ControlNet" + (n == 1 ? "" : "s")
                    + " (give one per net)");
        }
        if (scales.length != n || start.length != n || end.length != n) {
            throw new IllegalArgumentException("ControlNet: expected " + n + " scales and guidance windows, got "
                    + scales.length + ", " + start.length + " and " + end.length);
        }
        for (int k = 0; k < n; k++) {
            if (start[k] >= end[k]) {
                throw new IllegalArgumentException("ControlNet " + k + ": control_guidance_start " + start[k]
                        + " must be smaller than control_guidance_end " + end[k]);
            }
            if (start[k] < 0) {
                throw new IllegalArgumentException("ControlNet " + k + ": control_guidance_start " + start[k]
                        + " must be >= 0");
            }
            if (end[k] > 1) {
                throw new IllegalArgumentException("ControlNet " + k + ": control_guidance_end " + end[k]
                        + " must be <= 1");
            }
        }
        ControlNetConditioning c = new ControlNetConditioning(nets, images, scales.clone(), start.clone(), end.clone(),
                guessMode, batch);
        c.images.replaceAll(device::resident);
        return c;
    }

    /** The control images as the nets see them (for conformance checks): per net {@code [rows seen, C, H, W]}. */
    public List<Tensor> images() {
        return Collections.unmodifiableList(images);
    }

    /**
     * diffusers' {@code controlnet_keep[i]}: 1 while step {@code i} of {@code steps} lies in net
     * {@code k}'s guidance window, else 0.
     */
    public float keep(int k, int i, int steps) {
        boolean off = (double) i / steps < start[k] || (double) (i + 1) / steps > end[k];
        return off ? 0f : 1f;
    }

    /**
     * The UNet input of step {@code i} of {@code steps} with the nets' residuals in the full batch
     * layout; {@code in} unchanged when every net is outside its window at this step (its residuals
     * would be all zero).
     */
    public UNet2DConditionModel.Input apply(UNet2DConditionModel.Input in, int i, int steps) {
        float[] s = new float[scales.length];
        boolean any = false;
        for (int k = 0; k < s.length; k++) {
            s[k] = scales[k] * keep(k, i, steps);
            any |= s[k] != 0f;
        }
        if (!any) {
            return in;
        }
        float[] ts = in.timesteps();
        ControlNetModel.Input base = new ControlNetModel.Input(rows(latentChannels(in.sample())),
                ts.length == 1 ? ts : java.util.Arrays.copyOfRange(ts, offset, offset + count),
                rows(in.encoderHiddenStates()), rows(in.textEmbeds()), rows(in.timeIds()), null, 1f, guessMode,
                in.contextCache());
        ControlNetModel.Output out = nets.forward(base, images, s);
        List<Tensor> down = new ArrayList<>(out.downResiduals().size());
        for (Tensor r : out.downResiduals()) {
            down.add(fullBatch(r));
        }
        return in.withResiduals(down, fullBatch(out.midResidual()));
    }

    /**
     * The latent part of the UNet's sample: a 9-channel inpainting UNet's input also carries the mask and the
     * masked-image latents, which the nets never see (diffusers' {@code control_model_input}).
     */
    private Tensor latentChannels(Tensor sample) {
        int c = nets.nets().get(0).config().unet().inChannels();
        return sample.dim(1) == c ? sample : sample.narrow(1, 0, c).contiguous();
    }

    private Tensor rows(Tensor x) {
        return x == null || (offset == 0 && count == x.dim(0)) ? x : x.narrow(0, offset, count);
    }

    /** The nets' rows placed in the denoiser batch: zeros for unseen uncond rows, the cond rows copied for PAG. */
    private Tensor fullBatch(Tensor r) {
        List<Tensor> parts = new ArrayList<>(3);
        Backend be = r.backend();
        if (zeroUncond) {
            int[] shape = r.shape().clone();
            shape[0] = images0;
            parts.add(be.resident(Tensor.zeros(shape)));
        }
        parts.add(r);
        if (copyPerturbed) {
            parts.add(r.narrow(0, r.dim(0) - images0, images0));
        }
        return parts.size() == 1 ? r : be.concat(0, parts.toArray(Tensor[]::new));
    }
}
