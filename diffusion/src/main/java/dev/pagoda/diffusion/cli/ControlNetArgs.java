package dev.pagoda.diffusion.cli;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.pipeline.ControlNetParams;
import dev.pagoda.nn.controlnet.ControlNetModel;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ControlNet flags of {@code pagoda generate}: {@code --controlnet DIR|ORG/NAME} and
 * {@code --control-image PATH|URL}, each repeatable (one image per net, in order), with
 * {@code --control-scale}, {@code --control-start}, {@code --control-end} given once for all nets
 * or once per net, and {@code --guess-mode}.
 */
record ControlNetArgs(List<Path> nets, List<String> imageArgs, float[] scale, float[] start, float[] end,
        boolean guessMode) {

    static final List<String> VALUED = List.of("controlnet", "control-image", "control-scale", "control-start",
            "control-end");

    static final String HELP = """
              --controlnet DIR|ORG/NAME  a diffusers ControlNet folder (or cached repo id); repeat the
                                       flag for several nets, whose residuals are summed
              --control-image PATH|URL one control image per --controlnet, in the same order; any size
                                       (resized with PIL's Lanczos to the generation size, which
                                       defaults to the control image's own)
              --control-scale S        controlnet_conditioning_scale, once or once per net (default 1;
                                       SD ControlNet inpainting 0.5, as diffusers)
              --control-start F        control_guidance_start, once or per net (default 0)
              --control-end F          control_guidance_end, once or per net (default 1)
              --guess-mode             the nets see only the cond rows (uncond residuals are zero)
            """;

    /** The flags of {@code a}, or null when no {@code --controlnet} is given (then no other ControlNet flag may be). */
    static ControlNetArgs parse(Args a) {
        List<String> nets = a.all("controlnet");
        if (nets.isEmpty()) {
            for (String f : List.of("control-image", "control-scale", "control-start", "control-end", "guess-mode")) {
                if (a.has(f)) {
                    throw new UsageException("--" + f + " needs --controlnet");
                }
            }
            return null;
        }
        List<String> images = a.all("control-image");
        if (images.size() != nets.size()) {
            throw new UsageException(nets.size() + " --controlnet need as many --control-image (one per net, in"
                    + " order), got " + images.size());
        }
        List<Path> dirs = new ArrayList<>();
        for (String n : nets) {
            dirs.add(ModelLocator.resolve(n));
        }
        float[] scale = values(a, "control-scale", nets.size());
        float[] start = values(a, "control-start", nets.size());
        float[] end = values(a, "control-end", nets.size());
        for (int k = 0; k < nets.size(); k++) {
            float s = start == null ? 0f : start[Math.min(k, start.length - 1)];
            float e = end == null ? 1f : end[Math.min(k, end.length - 1)];
            if (s < 0 || e > 1 || s >= e) {
                throw new UsageException("--control-start " + s + " and --control-end " + e
                        + " must satisfy 0 <= start < end <= 1");
            }
        }
        return new ControlNetArgs(dirs, images, scale, start, end, a.has("guess-mode"));
    }

    /** A flag given once (for all nets) or once per net, as numbers; null when absent. */
    private static float[] values(Args a, String flag, int nets) {
        List<String> given = a.all(flag);
        if (given.isEmpty()) {
            return null;
        }
        if (given.size() != 1 && given.size() != nets) {
            throw new UsageException("--" + flag + " is given " + given.size() + " times for " + nets
                    + " ControlNets (give it once, or once per net)");
        }
        float[] v = new float[given.size()];
        for (int i = 0; i < v.length; i++) {
            try {
                v[i] = Float.parseFloat(given.get(i).trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--" + flag + " must be a number, got \"" + given.get(i) + "\"");
            }
            if (!Float.isFinite(v[i])) {
                throw new UsageException("--" + flag + " must be finite, got " + given.get(i));
            }
        }
        return v;
    }

    /** Loads the control images (before any model, so a bad image costs nothing). */
    List<BufferedImage> loadImages() {
        List<BufferedImage> out = new ArrayList<>();
        for (String s : imageArgs) {
            out.add(ImageSource.load(s));
        }
        return out;
    }

    /** Loads the nets; on failure the ones already loaded are closed. */
    List<ControlNetModel> loadNets(boolean preferFp16) {
        List<ControlNetModel> out = new ArrayList<>();
        try {
            for (Path p : nets) {
                out.add(ControlNetModel.fromPretrained(p, preferFp16));
            }
        } catch (RuntimeException e) {
            out.forEach(ControlNetModel::close);
            throw e;
        }
        return out;
    }

    ControlNetParams params(List<BufferedImage> images) {
        return new ControlNetParams(images, scale, start, end, guessMode, true);
    }

    /** What goes into the PNG's tEXt chunks. */
    void describe(Map<String, String> text) {
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < nets.size(); k++) {
            parts.add(nets.get(k) + " <- " + imageArgs.get(k));
        }
        text.put("controlnet", String.join(";", parts));
        if (scale != null) {
            text.put("controlnet_conditioning_scale", java.util.Arrays.toString(scale));
        }
        if (start != null || end != null) {
            text.put("control_guidance", (start == null ? "[0.0]" : java.util.Arrays.toString(start)) + "-"
                    + (end == null ? "[1.0]" : java.util.Arrays.toString(end)));
        }
        if (guessMode) {
            text.put("guess_mode", "true");
        }
    }
}
