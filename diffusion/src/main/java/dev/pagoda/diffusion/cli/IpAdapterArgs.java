package dev.pagoda.diffusion.cli;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.pipeline.GenerationParams;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The IP-Adapter flags of {@code pagoda generate}, checked before any model is loaded so a bad one
 * writes nothing: {@code --ip-adapter FILE_OR_DIR[:SCALE]} (repeatable), one
 * {@code --ip-adapter-image} (alias {@code --ip-image}) per adapter in the same order,
 * {@code --ip-scale} (the scale of adapters given without one, default 1.0, as diffusers'
 * {@code load_ip_adapter}) and {@code --image-encoder DIR}. Without it the encoder is looked for
 * where the h94/IP-Adapter repository keeps it: {@code image_encoder/} next to the adapter file,
 * then {@code ../models/image_encoder} (the ViT-H encoder the SDXL "vit-h" adapters use).
 */
record IpAdapterArgs(List<Path> files, List<Float> scales, List<BufferedImage> images, Path imageEncoder) {

    static final IpAdapterArgs NONE = new IpAdapterArgs(List.of(), List.of(), List.of(), null);

    static IpAdapterArgs parse(Args a) {
        List<String> specs = a.all("ip-adapter");
        List<String> imgs = new ArrayList<>(a.all("ip-adapter-image"));
        imgs.addAll(a.all("ip-image"));
        if (specs.isEmpty()) {
            for (String f : List.of("ip-adapter-image", "ip-image", "ip-scale", "image-encoder")) {
                if (a.has(f)) {
                    throw new UsageException("--" + f + " needs --ip-adapter");
                }
            }
            return NONE;
        }
        if (imgs.size() != specs.size()) {
            throw new UsageException("--ip-adapter-image must be given once per --ip-adapter: got " + imgs.size()
                    + " image(s) for " + specs.size() + " adapter(s)");
        }
        float dflt = a.number("ip-scale", 1f);
        if (!Float.isFinite(dflt)) {
            throw new UsageException("--ip-scale must be a finite number, got " + a.get("ip-scale", ""));
        }
        List<Path> files = new ArrayList<>();
        List<Float> scales = new ArrayList<>();
        for (String spec : specs) {
            int colon = spec.lastIndexOf(':');
            Float s = null;
            if (colon > 0) {
                try {
                    s = Float.parseFloat(spec.substring(colon + 1));
                } catch (NumberFormatException e) {
                    s = null;
                }
            }
            if (s != null && !Float.isFinite(s)) {
                throw new UsageException("--ip-adapter scale must be a finite number, got " + spec);
            }
            files.add(adapterFile(Path.of(s != null ? spec.substring(0, colon) : spec), spec));
            scales.add(s != null ? s : dflt);
        }
        Path enc = a.has("image-encoder") ? Path.of(a.get("image-encoder", null)) : findEncoder(files.get(0));
        if (enc == null) {
            throw new UsageException("no image encoder found next to " + files.get(0) + " (image_encoder/ or"
                    + " ../models/image_encoder); give --image-encoder DIR (config.json + model.safetensors)");
        }
        if (!Files.isRegularFile(enc.resolve("config.json"))) {
            throw new UsageException("image encoder folder " + enc + " has no config.json (--image-encoder)");
        }
        List<BufferedImage> images = new ArrayList<>();
        for (String i : imgs) {
            // ImageSource names the file and the reason (missing, empty, not PNG/JPEG, too large)
            images.add(ImageSource.load(i));
        }
        return new IpAdapterArgs(List.copyOf(files), List.copyOf(scales), List.copyOf(images), enc);
    }

    boolean isEmpty() {
        return files.isEmpty();
    }

    /** Loads the adapters onto the pipeline and sets their scales. */
    void apply(SdxlPipeline pipe) {
        if (isEmpty()) {
            return;
        }
        pipe.loadIpAdapter(files, imageEncoder);
        pipe.setIpAdapterScale(new ArrayList<Object>(scales));
    }

    void addTo(GenerationParams.Builder b) {
        if (!isEmpty()) {
            b.ipAdapterImage(images.toArray(BufferedImage[]::new));
        }
    }

    /** {@code file:scale;...} for the PNG's parameters. */
    String describe() {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            l.add(files.get(i) + ":" + scales.get(i));
        }
        return String.join(";", l);
    }

    /** A .safetensors file, or a folder holding exactly one. */
    private static Path adapterFile(Path p, String spec) {
        if (Files.isRegularFile(p)) {
            return p;
        }
        if (!Files.isDirectory(p)) {
            throw new UsageException("IP-Adapter file " + p + " not found (--ip-adapter " + spec + ")");
        }
        List<Path> found;
        try (Stream<Path> s = Files.list(p)) {
            found = s.filter(f -> f.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(f))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UsageException("cannot list " + p + " (--ip-adapter " + spec + "): " + e.getMessage());
        }
        if (found.size() != 1) {
            throw new UsageException("IP-Adapter folder " + p + " holds " + found.size() + " .safetensors files, expected"
                    + " one; name the file (--ip-adapter " + spec + ")" + (found.isEmpty() ? "" : ": " + found));
        }
        return found.get(0);
    }

    private static Path findEncoder(Path adapter) {
        Path dir = adapter.toAbsolutePath().getParent();
        for (Path c : new Path[] {dir.resolve("image_encoder"), dir.resolveSibling("models").resolve("image_encoder")}) {
            if (Files.isDirectory(c)) {
                return c;
            }
        }
        return null;
    }
}
