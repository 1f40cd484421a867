package dev.pagoda.diffusion.studio;

import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.diffusion.pipeline.AutoPipelineForImage2Image;
import dev.pagoda.diffusion.pipeline.AutoPipelineForInpainting;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.GenerationCancelledException;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.GenerationResult;
import dev.pagoda.diffusion.pipeline.InsufficientMemoryException;
import dev.pagoda.diffusion.pipeline.MemoryGuard;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.nn.attention.PagLayers;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The loaded model as the studio uses it: one text-to-image pipeline loaded once, and per job a
 * {@code fromPipe} sibling (text-to-image, image-to-image or inpainting) over the same weights with
 * the job's PAG layers and scheduler, so a job's settings never leak into another. Jobs reach it
 * one at a time through the {@link JobQueue}.
 */
final class StudioEngine implements AutoCloseable {

    static final String VERSION = "0.1.0";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    private static final Pattern BLOCK = Pattern.compile("^(mid_block|(?:down|up)_blocks\\.\\d+)(\\.attentions\\.\\d+)?");

    private final SdxlPipeline base;
    private final String modelName;
    private final Gallery gallery;
    private final int previewEvery;
    private final List<String> attentionNames;
    private final boolean preferFp16;
    private final boolean tiledVae;
    /** The memory a job may use, taken once the model is loaded: jobs run alone, so each gets all of it. */
    private final MemoryGuard.Budget budget = MemoryGuard.Budget.current();

    StudioEngine(SdxlPipeline base, String modelName, Gallery gallery, int previewEvery, boolean preferFp16,
            boolean tiledVae) {
        this.base = base;
        this.modelName = modelName;
        this.gallery = gallery;
        this.previewEvery = previewEvery;
        this.preferFp16 = preferFp16;
        this.tiledVae = tiledVae;
        this.attentionNames = List.copyOf(PagLayers.selfAttentions(base.components().unet()).keySet());
    }

    /** Pixels per size step: the VAE's scale times the UNet's downsamplings (8 · 2² for SDXL). */
    int sizeFactor() {
        return base.components().vae().scale() << base.components().unet().downsamplings();
    }

    int defaultSize() {
        return base.components().unet().config().sampleSize() * base.components().vae().scale();
    }

    /** The self-attention modules {@code layers} select, or a 400 naming the pattern that selects nothing. */
    List<String> selectLayers(List<String> layers, boolean strict) {
        try {
            return PagLayers.select(attentionNames, layers, GenerateRequest.mode(strict));
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "pag_layers", e.getMessage());
        }
    }

    /**
     * Refuses, before it is queued, a request whose estimated peak memory (weights in their stored
     * dtype plus activations at its size and batch) exceeds the budget, naming what would fit.
     */
    void checkMemory(GenerateRequest r) {
        int h = r.height() != null ? r.height() : defaultSize();
        int w = r.width() != null ? r.width() : defaultSize();
        int rows = (r.guidanceScale() > 1 ? 1 : 0) + 1 + (r.pagScale() > 0 ? 1 : 0);
        try {
            MemoryGuard.check(base.components().folder(), new MemoryGuard.Request(h, w, rows, preferFp16, tiledVae),
                    budget);
        } catch (InsufficientMemoryException e) {
            throw new ApiException(400, "width", "not enough memory for this request: " + e.getMessage());
        }
    }

    /** What the page's layer picker lists: every module, and the blocks and attention stacks that group them. */
    Map<String, Object> layers() {
        Set<String> groups = new LinkedHashSet<>();
        for (String name : attentionNames) {
            Matcher m = BLOCK.matcher(name);
            if (m.find()) {
                groups.add(m.group(1));
                if (m.group(2) != null) {
                    groups.add(m.group(1) + m.group(2));
                }
            }
        }
        List<Map<String, Object>> g = new ArrayList<>();
        for (String pattern : groups) {
            String exact = pattern.equals("mid_block") ? "mid" : pattern;
            g.add(Map.of("pattern", exact, "modules", selectLayers(List.of(exact), false).size()));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("modules", attentionNames);
        m.put("groups", g);
        return m;
    }

    Map<String, Object> info() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", modelName);
        m.put("version", VERSION);
        m.put("default_size", defaultSize());
        m.put("size_step", sizeFactor());
        m.put("schedulers", GenerateRequest.SCHEDULERS.keySet().stream().sorted().toList());
        m.put("default_pag_layers", base.pagAppliedLayers());
        m.put("preview_every", previewEvery);
        m.put("backend", base.components().backend().name());
        return m;
    }

    /** Runs one request as {@code job}: progress events, then the PNG (nothing when cancelled). */
    Map<String, Object> generate(Job job, GenerateRequest r) {
        return render(job, r, job.id(), Map.of());
    }

    /**
     * Runs a grid: one row per layer set, one column per PAG scale, same prompt and seed. Finished
     * cells stay written when a later cell is cancelled; the cancelled cell writes nothing.
     */
    Map<String, Object> compare(Job job, GenerateRequest r, List<Float> scales, List<List<String>> sets) {
        List<Map<String, Object>> cells = new ArrayList<>();
        int total = scales.size() * sets.size();
        for (int row = 0; row < sets.size(); row++) {
            for (int col = 0; col < scales.size(); col++) {
                int index = row * scales.size() + col;
                Map<String, Object> where = Map.of("row", row, "col", col, "cell", index, "cells", total);
                job.emit("cell_started", where);
                Map<String, Object> cell = new LinkedHashMap<>(where);
                cell.putAll(render(job, r.withPag(scales.get(col), sets.get(row)), job.id() + "-r" + row + "c" + col,
                        where));
                job.emit("cell", cell);
                cells.add(cell);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pag_scales", scales);
        out.put("layer_sets", sets);
        out.put("cells", cells);
        return out;
    }

    private Map<String, Object> render(Job job, GenerateRequest r, String tag, Map<String, Object> where) {
        SdxlPipeline pipe = sibling(r);
        pipe.setScheduler(GenerateRequest.SCHEDULERS.get(r.scheduler()));
        long[] denoiseStart = {System.nanoTime()};
        pipe.setStageListener(name -> {
            if (name.equals("denoise")) {
                denoiseStart[0] = System.nanoTime();
            }
            Map<String, Object> d = new LinkedHashMap<>(where);
            d.put("stage", name);
            job.emit("stage", d);
        });
        GenerationParams.Builder b = GenerationParams.builder(r.prompt())
                .negativePrompt(r.negativePrompt())
                .steps(r.steps()).guidanceScale(r.guidanceScale()).pagScale(r.pagScale())
                .pagAdaptiveScale(r.pagAdaptiveScale()).guidanceRescale(r.guidanceRescale()).seed(r.seed())
                .cancellation(job.cancellation())
                .callback(s -> {
                    int done = s.index() + 1;
                    double perIt = (System.nanoTime() - denoiseStart[0]) / 1e9 / done;
                    Map<String, Object> d = new LinkedHashMap<>(where);
                    d.put("step", done);
                    d.put("steps", s.steps());
                    d.put("s_per_it", perIt);
                    d.put("eta_s", perIt * (s.steps() - done));
                    job.emit("step", d);
                    if (previewEvery > 0 && (done % previewEvery == 0 || done == s.steps())) {
                        Map<String, Object> p = new LinkedHashMap<>(where);
                        p.put("step", done);
                        p.put("image", LatentPreview.dataUrl(s.latents()));
                        job.emit("preview", p);
                    }
                    if (job.cancellation().isCancelled()) {
                        s.cancel();
                    }
                });
        if (r.width() != null || r.height() != null) {
            b.size(r.height() != null ? r.height() : defaultSize(), r.width() != null ? r.width() : defaultSize());
        }
        if (r.initImage() != null) {
            b.image(ImageTensors.toTensor(r.initImage()));
        }
        if (r.mask() != null) {
            b.mask(ImageTensors.toMask(r.mask()));
        }
        if (r.strength() != null) {
            b.strength(r.strength());
        }
        long t0 = System.nanoTime();
        GenerationResult result;
        try {
            result = pipe.generate(b.build());
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, null, e.getMessage());
        } finally {
            pipe.close(); // gives back its share of the weights: base.close() can then unmap them
        }
        if (job.cancellation().isCancelled()) {
            // cancelled after the last step: the request still ends with nothing written
            throw new GenerationCancelledException(r.steps(), r.steps());
        }
        int w = result.image().dim(3);
        int h = result.image().dim(2);
        String name = LocalDateTime.now().format(STAMP) + "-" + tag + "-s" + r.seed() + ".png";
        PngWriter.write(ImageTensors.toImage(result.image()), metadata(r, w, h), gallery.folder().resolve(name));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("file", name);
        out.put("url", "/files/" + name);
        out.put("width", w);
        out.put("height", h);
        out.put("seed", r.seed());
        out.put("seconds", (System.nanoTime() - t0) / 1e9);
        out.put("params", r.toJson());
        return out;
    }

    private SdxlPipeline sibling(GenerateRequest r) {
        // a strict selection is set after construction (the constructor reads patterns the diffusers way)
        List<String> layers = r.pagStrict() ? base.pagAppliedLayers() : r.pagLayers();
        SdxlPipeline pipe = switch (r.mode()) {
            case "inpaint" -> AutoPipelineForInpainting.fromPipe(base, true, layers);
            case "img2img" -> AutoPipelineForImage2Image.fromPipe(base, true, layers);
            default -> AutoPipelineForText2Image.fromPipe(base, true, layers);
        };
        if (r.pagStrict()) {
            pipe.setPagAppliedLayers(r.pagLayers(), PagLayers.Mode.STRICT);
        }
        return pipe;
    }

    /** The PNG text chunks: the CLI's keys (so other tools read them) plus the full request as JSON. */
    private Map<String, String> metadata(GenerateRequest r, int w, int h) {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("prompt", r.prompt());
        if (r.negativePrompt() != null) {
            text.put("negative_prompt", r.negativePrompt());
        }
        text.put("seed", Long.toString(r.seed()));
        text.put("steps", Integer.toString(r.steps()));
        text.put("guidance_scale", Float.toString(r.guidanceScale()));
        text.put("pag_scale", Float.toString(r.pagScale()));
        text.put("pag_applied_layers", String.join(",", r.pagLayers()) + (r.pagStrict() ? " (strict)" : ""));
        if (r.pagAdaptiveScale() > 0) {
            text.put("pag_adaptive_scale", Float.toString(r.pagAdaptiveScale()));
        }
        text.put("size", w + "x" + h);
        text.put("model", modelName);
        text.put("sampler", GenerateRequest.SCHEDULERS.get(r.scheduler()));
        if (r.initImage() != null) {
            text.put("strength", r.strength() == null ? "default" : Float.toString(r.strength()));
            text.put("mode", r.mode());
        }
        text.put("software", "Pagoda " + VERSION + " studio");
        text.put(Gallery.REQUEST_KEY, JsonWriter.writeAscii(r.toJson()));
        return text;
    }

    @Override
    public void close() {
        base.close();
    }
}
