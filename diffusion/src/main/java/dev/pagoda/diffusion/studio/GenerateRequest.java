package dev.pagoda.diffusion.studio;

import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.nn.attention.PagLayers;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import javax.imageio.ImageIO;

/**
 * One generation as the API receives it ({@code POST /api/generate}), checked against the loaded
 * model before it is queued, so a bad size or an unknown PAG layer is a 400 naming the field and
 * never a failed job. Field names follow diffusers' call arguments.
 *
 * @param seed      the seed actually used (a random one when the request gave none or -1)
 * @param width     pixels, or null for the model's default (or the init image's size)
 * @param initImage image-to-image / inpainting input, already resized to the output size
 * @param mask      inpainting mask (white = repaint), same size as {@code initImage}
 */
public record GenerateRequest(String prompt, String negativePrompt, int steps, float guidanceScale, float pagScale,
        float pagAdaptiveScale, float guidanceRescale, List<String> pagLayers, boolean pagStrict, long seed,
        Integer width, Integer height, String scheduler, BufferedImage initImage, BufferedImage mask, Float strength) {

    /** Scheduler names of the page and the CLI, and the diffusers classes they stand for. */
    /** Every scheduler the CLI takes, by the same short names. */
    public static final Map<String, String> SCHEDULERS = dev.pagoda.diffusion.scheduler.SchedulerChoice.SHORT_NAMES;

    static final int MAX_STEPS = 1000;
    static final int MAX_SIDE = 4096;

    private static final Set<String> FIELDS = Set.of("prompt", "negative_prompt", "steps", "guidance_scale",
            "pag_scale", "pag_adaptive_scale", "guidance_rescale", "pag_layers", "pag_strict", "seed", "width",
            "height", "scheduler", "init_image", "mask", "strength", "compare");

    /** Parses and checks a request body; every refusal is an {@link ApiException} 400 naming the field. */
    static GenerateRequest parse(Map<String, Object> body, StudioEngine model) {
        for (String k : body.keySet()) {
            if (!FIELDS.contains(k)) {
                throw new ApiException(400, k, "unknown field \"" + k + "\" (fields: " + String.join(", ",
                        FIELDS.stream().sorted().toList()) + ")");
            }
        }
        Object p = body.get("prompt");
        if (!(p instanceof String prompt) || prompt.isBlank()) {
            throw new ApiException(400, "prompt", "prompt is required (a non-empty string)");
        }
        String negative = string(body, "negative_prompt");
        int steps = integer(body, "steps", 25, 1, MAX_STEPS);
        float cfg = number(body, "guidance_scale", 5f, 0, 100);
        float pag = number(body, "pag_scale", 3f, 0, 100);
        float adaptive = number(body, "pag_adaptive_scale", 0f, 0, 100);
        float rescale = number(body, "guidance_rescale", 0f, 0, 1);
        boolean strict = Boolean.TRUE.equals(body.get("pag_strict"));
        List<String> layers = layers(body.get("pag_layers"));
        model.selectLayers(layers, strict);
        long seed = seed(body.get("seed"));
        Integer width = size(body, "width", model);
        Integer height = size(body, "height", model);
        String scheduler = body.get("scheduler") == null ? "euler" : String.valueOf(body.get("scheduler"));
        if (!SCHEDULERS.containsKey(scheduler)) {
            throw new ApiException(400, "scheduler", "scheduler must be one of " + SCHEDULERS.keySet().stream()
                    .sorted().toList() + ", got \"" + scheduler + "\"");
        }
        BufferedImage init = image(body, "init_image");
        BufferedImage mask = image(body, "mask");
        if (mask != null && init == null) {
            throw new ApiException(400, "mask", "a mask needs an init_image");
        }
        Float strength = null;
        if (body.get("strength") != null) {
            if (init == null) {
                throw new ApiException(400, "strength", "strength needs an init_image");
            }
            strength = number(body, "strength", 0, 0, 1);
            if (!(strength > 0)) {
                throw new ApiException(400, "strength", "strength must be in (0, 1], got " + strength);
            }
        }
        if (init != null) {
            if (mask != null && (mask.getWidth() != init.getWidth() || mask.getHeight() != init.getHeight())) {
                throw new ApiException(400, "mask", "mask size " + mask.getWidth() + "x" + mask.getHeight()
                        + " differs from the init_image size " + init.getWidth() + "x" + init.getHeight());
            }
            int f = model.sizeFactor();
            int w = width != null ? width : init.getWidth() / f * f;
            int h = height != null ? height : init.getHeight() / f * f;
            if (w == 0 || h == 0) {
                throw new ApiException(400, "init_image", "init_image of " + init.getWidth() + "x" + init.getHeight()
                        + " is smaller than " + f + " pixels, the model's size step");
            }
            init = ImageTensors.resize(init, w, h);
            mask = mask == null ? null : ImageTensors.resize(mask, w, h);
            width = w;
            height = h;
        }
        return new GenerateRequest(prompt, negative, steps, cfg, pag, adaptive, rescale, layers, strict, seed, width,
                height, scheduler, init, mask, strength);
    }

    /** "txt2img", "img2img" or "inpaint". */
    public String mode() {
        return mask != null ? "inpaint" : initImage != null ? "img2img" : "txt2img";
    }

    /** The same request with other PAG settings (a compare cell). */
    GenerateRequest withPag(float scale, List<String> layers) {
        return new GenerateRequest(prompt, negativePrompt, steps, guidanceScale, scale, pagAdaptiveScale,
                guidanceRescale, layers, pagStrict, seed, width, height, scheduler, initImage, mask, strength);
    }

    /** The request as JSON fields (images left out): what "reuse these settings" puts back in the form. */
    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", prompt);
        if (negativePrompt != null) {
            m.put("negative_prompt", negativePrompt);
        }
        m.put("steps", steps);
        m.put("guidance_scale", guidanceScale);
        m.put("pag_scale", pagScale);
        m.put("pag_adaptive_scale", pagAdaptiveScale);
        m.put("guidance_rescale", guidanceRescale);
        m.put("pag_layers", pagLayers);
        m.put("pag_strict", pagStrict);
        m.put("seed", seed);
        m.put("width", width);
        m.put("height", height);
        m.put("scheduler", scheduler);
        if (strength != null) {
            m.put("strength", strength);
        }
        m.put("mode", mode());
        return m;
    }

    static List<String> layers(Object v) {
        List<String> out = new ArrayList<>();
        if (v == null) {
            out.add("mid");
        } else if (v instanceof String s) {
            for (String part : s.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        } else if (v instanceof List<?> l) {
            for (Object o : l) {
                if (!(o instanceof String s) || s.isBlank()) {
                    throw new ApiException(400, "pag_layers", "pag_layers entries must be non-empty strings, got "
                            + JsonWriter.write(o));
                }
                out.add(s.trim());
            }
        } else {
            throw new ApiException(400, "pag_layers", "pag_layers must be a list of patterns or a comma-separated"
                    + " string");
        }
        if (out.isEmpty()) {
            throw new ApiException(400, "pag_layers", "pag_layers is empty (use pag_scale 0 to turn PAG off)");
        }
        return List.copyOf(out);
    }

    static PagLayers.Mode mode(boolean strict) {
        return strict ? PagLayers.Mode.STRICT : PagLayers.Mode.DIFFUSERS;
    }

    private static String string(Map<String, Object> body, String key) {
        Object v = body.get(key);
        if (v == null || v instanceof String s && s.isEmpty()) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new ApiException(400, key, key + " must be a string");
        }
        return s;
    }

    private static double numeric(Map<String, Object> body, String key) {
        Object v = body.get(key);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new ApiException(400, key, key + " must be a number, got " + JsonWriter.write(v));
    }

    private static int integer(Map<String, Object> body, String key, int dflt, int min, int max) {
        if (body.get(key) == null) {
            return dflt;
        }
        double d = numeric(body, key);
        if (d != Math.rint(d) || d < min || d > max) {
            throw new ApiException(400, key, key + " must be an integer in [" + min + ", " + max + "], got "
                    + JsonWriter.write(body.get(key)));
        }
        return (int) d;
    }

    private static float number(Map<String, Object> body, String key, float dflt, float min, float max) {
        if (body.get(key) == null) {
            return dflt;
        }
        double d = numeric(body, key);
        if (!(d >= min && d <= max)) {
            throw new ApiException(400, key, key + " must be in [" + min + ", " + max + "], got "
                    + JsonWriter.write(body.get(key)));
        }
        return (float) d;
    }

    private static long seed(Object v) {
        if (v == null || v instanceof String s && s.isBlank()) {
            return ThreadLocalRandom.current().nextLong(1L << 32);
        }
        long s;
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            s = n.longValue();
        } else if (v instanceof String str && str.trim().matches("-?\\d{1,19}")) {
            s = Long.parseLong(str.trim());
        } else {
            throw new ApiException(400, "seed", "seed must be an integer (or -1 / null for a random one), got "
                    + JsonWriter.write(v));
        }
        if (s == -1) {
            return ThreadLocalRandom.current().nextLong(1L << 32);
        }
        if (s < 0) {
            throw new ApiException(400, "seed", "seed must be >= 0 (or -1 for a random one), got " + s);
        }
        return s;
    }

    private static Integer size(Map<String, Object> body, String key, StudioEngine model) {
        if (body.get(key) == null || body.get(key) instanceof String s && s.isBlank()) {
            return null;
        }
        double d = numeric(body, key);
        int f = model.sizeFactor();
        if (d != Math.rint(d) || d <= 0 || d > MAX_SIDE || (long) d % f != 0) {
            throw new ApiException(400, key, key + " must be a positive multiple of " + f + " up to " + MAX_SIDE
                    + " for this model, got " + JsonWriter.write(body.get(key)));
        }
        return (int) d;
    }

    private static BufferedImage image(Map<String, Object> body, String key) {
        Object v = body.get(key);
        if (v == null || v instanceof String s && s.isEmpty()) {
            return null;
        }
        if (!(v instanceof String s) || !s.startsWith("data:image/") || s.indexOf(";base64,") < 0) {
            throw new ApiException(400, key, key + " must be a data URL (data:image/png;base64,...)");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(s.substring(s.indexOf(";base64,") + 8));
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, key, key + ": invalid base64 (" + e.getMessage() + ")");
        }
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
            if (img == null) {
                throw new ApiException(400, key, key + " is not a PNG or JPEG image");
            }
            return img;
        } catch (IOException | RuntimeException e) {
            if (e instanceof ApiException a) {
                throw a;
            }
            throw new ApiException(400, key, key + " is not a readable image (" + e.getMessage() + ")");
        }
    }
}
