package dev.pagoda.diffusion.pipeline;

import dev.pagoda.diffusion.guidance.GuidedBatch;
import dev.pagoda.diffusion.scheduler.Scheduler;
import dev.pagoda.nn.attention.ContextCache;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The UNet denoising loop the SDXL and SD 1.5/2.x pipelines share: per timestep the guided batch is
 * scaled by the scheduler, sent through the UNet with the call's conditioning, combined (CFG, PAG,
 * rescale) and stepped; then the start's post-step hook, the step callback, cancellation and the
 * finite checks. The family decides only what goes into the UNet ({@link Inputs}).
 */
final class DenoiseLoop {

    /** The UNet input of step {@code i} of {@code steps} for the resident scaled batch {@code sample}. */
    interface Inputs {
        UNet2DConditionModel.Input at(int i, int steps, Tensor sample, float t);
    }

    static final String OPT_OUT = "; the check can be turned off with GenerationParams.checkFinite(false)"
            + " (CLI: --no-finite-check)";

    private DenoiseLoop() {
    }

    /** Runs the loop from {@code start} and returns the final latents (on the host). */
    static Tensor run(GenerationParams p, Scheduler scheduler, GuidedBatch batch, SdxlPipeline.Start start,
            UNet2DConditionModel unet, Backend device, SdxlPipeline.DenoiserObserver obs, Inputs inputs) {
        Tensor latents = start.latents();
        float[] ts = start.timesteps();
        // the steps share the call's text embeddings: their cross-attention keys and values are projected once
        ContextCache contextCache = new ContextCache();
        for (int i = 0; i < ts.length; i++) {
            stopIfCancelled(p, i, ts.length);
            float t = ts[i];
            Tensor input = start.extendInput(scheduler.scaleModelInput(batch.repeat(latents), t), batch);
            UNet2DConditionModel.Input in = inputs.at(i, ts.length, device.resident(input), t)
                    .withContextCache(contextCache);
            Tensor out = device.toHost(unet.forward(in));
            if (obs != null) {
                obs.onDenoiserCall(i, in, out);
            }
            if (p.checkFinite() && !UNet2DConditionModel.allFinite(out)) {
                throw nonFinitePrediction(unet, in, i, ts.length, t);
            }
            Tensor eps = batch.combine(out, t);
            latents = scheduler.step(eps, t, latents, p.noise()).prevSample();
            latents = start.afterStep(latents, scheduler, i, ts);
            if (p.callback() != null) {
                Step step = new Step(i, ts.length, t, latents);
                p.callback().onStep(step);
                latents = step.latents();
                if (step.cancelled()) {
                    throw new GenerationCancelledException(i + 1, ts.length);
                }
            }
            if (p.checkFinite() && !UNet2DConditionModel.allFinite(latents)) {
                throw new NonFiniteException("non-finite latents after step " + (i + 1) + "/" + ts.length
                        + " (timestep " + t + ")" + OPT_OUT, i, null);
            }
        }
        return latents;
    }

    /**
     * The text-to-image start: diffusers' {@code retrieve_timesteps} (the step count, or the call's
     * custom timesteps or sigmas) and {@code prepare_latents} (a draw of {@code [n, channels, lh, lw]},
     * or the call's latents), times the initial sigma.
     */
    static SdxlPipeline.Start noiseStart(GenerationParams p, Scheduler scheduler, int n, int channels, int lh, int lw) {
        scheduler.setSchedule(p.numInferenceSteps(), p.timesteps(), p.sigmas());
        int[] shape = {n, channels, lh, lw};
        Tensor given = givenLatents(p, shape);
        Tensor noise = given != null ? given : p.noise().next(shape);
        return new SdxlPipeline.Start(Backend.cpu().affine(noise, scheduler.initNoiseSigma(), 0f),
                scheduler.timesteps());
    }

    /**
     * The call's {@code latents} checked against {@code shape} (contiguous), or null when it gives none.
     *
     * @throws IllegalArgumentException naming the expected shape
     */
    static Tensor givenLatents(GenerationParams p, int[] shape) {
        if (p.latents() == null) {
            return null;
        }
        if (!java.util.Arrays.equals(p.latents().shape(), shape)) {
            throw new IllegalArgumentException("latents must be " + dev.pagoda.tensor.Shapes.str(shape)
                    + " (prompts x images per prompt, latent channels, height / VAE scale, width / VAE scale),"
                    + " got " + dev.pagoda.tensor.Shapes.str(p.latents().shape()));
        }
        return p.latents().contiguous();
    }

    /**
     * Per-prompt conditioning {@code [B, ...]} for {@code n} images per prompt: each row {@code n} times,
     * in order (diffusers' {@code repeat(1, n, 1).view(B·n, ...)}).
     */
    static Tensor perImage(Tensor x, int n) {
        if (n == 1) {
            return x;
        }
        Tensor[] rows = new Tensor[x.dim(0) * n];
        for (int b = 0; b < x.dim(0); b++) {
            for (int i = 0; i < n; i++) {
                rows[b * n + i] = x.narrow(0, b, 1);
            }
        }
        return Backend.cpu().concat(0, rows);
    }

    static void stopIfCancelled(GenerationParams p, int done, int steps) {
        if (p.cancellation() != null && p.cancellation().isCancelled()) {
            throw new GenerationCancelledException(done, steps);
        }
    }

    /** Locates a non-finite prediction: re-runs the step checking block outputs, then that block's weights. */
    private static NonFiniteException nonFinitePrediction(UNet2DConditionModel unet, UNet2DConditionModel.Input in,
            int i, int steps, float t) {
        String block = unet.firstNonFiniteBlock(in);
        StringBuilder msg = new StringBuilder("non-finite noise prediction at step " + (i + 1) + "/" + steps
                + " (timestep " + t + ")");
        if (block != null) {
            msg.append(": first in UNet block ").append(block);
            List<String> bad = nonFiniteWeights(unet, block.equals("conv_out") ? List.of("conv_out.", "conv_norm_out.")
                    : List.of(block + "."));
            if (bad.isEmpty()) {
                // the block may only have received it through the time embedding
                bad = nonFiniteWeights(unet, List.of("time_embedding.", "add_embedding."));
            }
            if (!bad.isEmpty()) {
                msg.append(" (non-finite weights: ").append(String.join(", ", bad.subList(0, Math.min(5, bad.size()))))
                        .append(bad.size() > 5 ? ", ..." : "").append(")");
            }
        }
        return new NonFiniteException(msg.append(OPT_OUT).toString(), i, block);
    }

    private static List<String> nonFiniteWeights(UNet2DConditionModel unet, List<String> prefixes) {
        List<String> bad = new ArrayList<>();
        unet.namedParameters().forEach((name, param) -> {
            if (prefixes.stream().anyMatch(name::startsWith) && !UNet2DConditionModel.allFinite(param.get())) {
                bad.add(name);
            }
        });
        return bad;
    }
}
