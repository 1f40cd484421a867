package dev.pagoda.diffusion.cli;

import dev.pagoda.diffusion.image.ImageTensors;
import dev.pagoda.diffusion.image.LabelFont;
import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.DiffusionPipeline;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.tensor.json.Json;
import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code pagoda grid}: one PNG comparing PAG scales (columns) against PAG layer sets and CFG scales
 * (rows), every cell the same seed, from one loaded pipeline; the labels are drawn into the image
 * and every cell's parameters go into the PNG's {@code cells} text chunk.
 */
final class GridCommand {

    static final String HELP = """
            Usage: pagoda grid --model DIR|ORG/NAME --prompt TEXT [options]

            Renders a comparison grid with one loaded pipeline and the same seed in every cell:
            columns are PAG scales, rows are PAG layer sets (x CFG scales when several are given).

              --pag-scale LIST         comma-separated PAG scales (default 0,3)
              --pag-layers SETS        layer sets separated by ';', patterns in a set by ',' as in
                                       `generate` (default mid); e.g. "mid;down.block_2;up.block_0"
              --cfg LIST               comma-separated CFG scales (default 5; PixArt 4.5)
              --negative-prompt TEXT   what to steer away from
              --steps N --seed N       as in `generate` (default 25 steps, seed 0)
              --width W --height H     cell size (default: the model's)
              --out FILE               output PNG (default grid.png); written once, at the end
              --variant fp16           load *.fp16.safetensors where they exist (default: *.safetensors)
            """;

    private static final Set<String> VALUED = Set.of("variant", "model", "prompt", "negative-prompt", "pag-scale", "pag-layers",
            "cfg", "steps", "seed", "width", "height", "out", "backend");
    private static final int LABEL_SCALE = 2;
    private static final int PAD = 6;

    private GridCommand() {
    }

    /** One cell's settings. */
    record Cell(int row, int col, float cfg, float pagScale, List<String> layers) {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = new Args(argv, 1, VALUED, Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        if (!a.positional().isEmpty()) {
            throw new UsageException("unexpected argument \"" + a.positional().get(0) + "\" (see --help)");
        }
        String prompt = a.require("prompt");
        Path model = ModelLocator.resolve(a.require("model"));
        Path outPath = a.outputFile("grid.png");
        boolean pixart = dev.pagoda.diffusion.pipeline.PixArtComponents.isPixArtFolder(model);
        List<Float> scales = numbers(a, "pag-scale", "0,3");
        List<Float> cfgs = numbers(a, "cfg", pixart ? "4.5" : "5");
        List<List<String>> sets = new ArrayList<>();
        for (String set : a.get("pag-layers", pixart ? "blocks.1" : "mid").split(";", -1)) {
            List<String> patterns = LayerPatterns.split(set);
            if (patterns.isEmpty()) {
                throw new UsageException("--pag-layers has an empty layer set (sets are separated by ';')");
            }
            sets.add(patterns);
        }
        int steps = a.integer("steps", 25);
        if (steps <= 0) {
            throw new UsageException("--steps must be positive, got " + steps);
        }
        long seed = a.longValue("seed", 0);
        Integer width = a.imageSide("width");
        Integer height = a.imageSide("height");
        List<Cell> cells = new ArrayList<>();
        int rows = sets.size() * cfgs.size();
        for (int ci = 0; ci < cfgs.size(); ci++) {
            for (int si = 0; si < sets.size(); si++) {
                for (int col = 0; col < scales.size(); col++) {
                    cells.add(new Cell(ci * sets.size() + si, col, cfgs.get(ci), scales.get(col), sets.get(si)));
                }
            }
        }

        Progress progress = new Progress(err);
        progress.stage("load " + model);
        PipelineOptions opts = new PipelineOptions(true, sets.get(0), a.fp16Variant()).backend(Main.backend(a.get("backend", "cpu")));
        try (DiffusionPipeline pipe = AutoPipelineForText2Image.load(model, opts)) {
            // every layer set is checked before the first cell runs
            for (List<String> set : sets) {
                pipe.setPagAppliedLayers(set, PagLayers.Mode.DIFFUSERS);
            }
            BufferedImage grid = null;
            int cw = 0;
            int ch = 0;
            int left = 0;
            int top = 0;
            List<String> meta = new ArrayList<>();
            for (int i = 0; i < cells.size(); i++) {
                Cell c = cells.get(i);
                progress.stage("cell " + (i + 1) + "/" + cells.size() + ": " + label(c, cfgs.size() > 1));
                pipe.setPagAppliedLayers(c.layers(), PagLayers.Mode.DIFFUSERS);
                GenerationParams.Builder b = GenerationParams.builder(prompt)
                        .negativePrompt(a.get("negative-prompt", null))
                        .steps(steps).guidanceScale(c.cfg()).pagScale(c.pagScale()).seed(seed);
                if (width != null || height != null) {
                    int dflt = pipe.defaultImageSize();
                    b.size(height != null ? height : dflt, width != null ? width : dflt);
                }
                BufferedImage img = ImageTensors.toImage(pipe.generate(b.build()).image());
                if (grid == null) {
                    cw = img.getWidth();
                    ch = img.getHeight();
                    left = PAD * 2 + rowLabelWidth(sets, cfgs);
                    top = PAD * 2 + LabelFont.height(LABEL_SCALE);
                    grid = canvas(left + scales.size() * cw, top + rows * ch);
                }
                grid.getGraphics().drawImage(img, left + c.col() * cw, top + c.row() * ch, null);
                meta.add(cellJson(c, seed, steps));
            }
            for (int col = 0; col < scales.size(); col++) {
                LabelFont.draw(grid, "pag " + scales.get(col), left + col * cw + PAD, PAD, LABEL_SCALE, 0x000000);
            }
            for (int r = 0; r < rows; r++) {
                Cell c = cells.get(r * scales.size());
                LabelFont.draw(grid, label(c, cfgs.size() > 1), PAD, top + r * ch + PAD, LABEL_SCALE, 0x000000);
            }
            Map<String, String> text = new LinkedHashMap<>();
            text.put("prompt", prompt);
            text.put("model", a.get("model", ""));
            text.put("grid", rows + " rows x " + scales.size() + " columns, cell " + cw + "x" + ch);
            text.put("cells", "[" + String.join(",", meta) + "]");
            progress.stage("write " + outPath);
            PngWriter.write(grid, text, outPath);
            progress.summary("wrote " + outPath + " (" + cells.size() + " cells)");
        }
        return 0;
    }

    private static String cellJson(Cell c, long seed, int steps) {
        List<String> layers = c.layers().stream().map(Json::quote).toList();
        return "{\"row\":" + c.row() + ",\"col\":" + c.col() + ",\"guidance_scale\":" + c.cfg()
                + ",\"pag_scale\":" + c.pagScale() + ",\"pag_applied_layers\":[" + String.join(",", layers)
                + "],\"seed\":" + seed + ",\"steps\":" + steps + "}";
    }

    private static String label(Cell c, boolean withCfg) {
        return (withCfg ? "cfg " + c.cfg() + " " : "") + String.join(",", c.layers());
    }

    private static int rowLabelWidth(List<List<String>> sets, List<Float> cfgs) {
        int w = 0;
        for (float cfg : cfgs) {
            for (List<String> set : sets) {
                w = Math.max(w, LabelFont.width(label(new Cell(0, 0, cfg, 0, set), cfgs.size() > 1), LABEL_SCALE));
            }
        }
        return w;
    }

    private static BufferedImage canvas(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, 0xFFFFFF);
            }
        }
        return img;
    }

    /** A comma-separated list of finite, non-negative numbers; an empty entry is a usage error. */
    private static List<Float> numbers(Args a, String flag, String dflt) {
        List<Float> out = new ArrayList<>();
        for (String s : a.get(flag, dflt).split(",", -1)) {
            if (s.isBlank()) {
                throw new UsageException("--" + flag + " has an empty value in \"" + a.get(flag, dflt) + "\"");
            }
            try {
                float v = Float.parseFloat(s.trim());
                if (!Float.isFinite(v) || v < 0) {
                    throw new NumberFormatException();
                }
                out.add(v);
            } catch (NumberFormatException e) {
                throw new UsageException("--" + flag + " values must be finite numbers >= 0, got \"" + s.trim() + "\"");
            }
        }
        return out;
    }
}
