package dev.pagoda.diffusion.studio;

import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.json.JsonException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The output folder: where jobs write their PNGs, what {@code /files/NAME} may serve (a plain file
 * name of this folder, nothing else) and the gallery listing with each image's parameters read back
 * from its PNG text chunks, so images made by {@code pagoda generate} show their settings too.
 */
final class Gallery {

    /** The text chunk holding the studio's request as JSON ("reuse these settings"). */
    static final String REQUEST_KEY = "pagoda_request";

    /** A file name the studio serves: no separators, no leading dot, PNG only. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,200}\\.png");
    /** Text chunks sit before the image data; a file's first bytes hold them. */
    private static final int HEAD = 256 * 1024;
    private static final int LIST_LIMIT = 500;

    private final Path folder;
    private final Map<String, Entry> cache = new ConcurrentHashMap<>();

    private record Entry(long modified, long size, Map<String, String> text) {
    }

    Gallery(Path folder) {
        this.folder = folder.toAbsolutePath().normalize();
    }

    Path folder() {
        return folder;
    }

    /**
     * The file {@code name} names in the output folder, or a 403 for anything else: separators,
     * {@code ..}, hidden files, other extensions, or a link that leads out of the folder.
     */
    Path resolve(String name) {
        if (name == null || !NAME.matcher(name).matches() || name.contains("..")) {
            throw new ApiException(403, "file", "refused: \"" + name + "\" is not a PNG file name in the output"
                    + " folder");
        }
        Path p = folder.resolve(name).normalize();
        if (!p.getParent().equals(folder)) {
            throw new ApiException(403, "file", "refused: \"" + name + "\" is outside the output folder");
        }
        if (!Files.isRegularFile(p)) {
            throw new ApiException(404, "file", "no image named \"" + name + "\" in the output folder");
        }
        try {
            if (!p.toRealPath().getParent().equals(folder.toRealPath())) {
                throw new ApiException(403, "file", "refused: \"" + name + "\" links outside the output folder");
            }
        } catch (IOException e) {
            throw new ApiException(404, "file", "cannot read \"" + name + "\": " + e.getMessage());
        }
        return p;
    }

    /** The images, newest first, each with its file name, URL, size, time and parameters. */
    List<Map<String, Object>> list() {
        List<Path> files;
        try (Stream<Path> s = Files.list(folder)) {
            files = s.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p))
                    .sorted(Comparator.comparingLong(Gallery::modified).reversed()).limit(LIST_LIMIT).toList();
        } catch (IOException e) {
            throw new ApiException(500, null, "cannot list the output folder " + folder + ": " + e.getMessage());
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Path p : files) {
            String name = p.getFileName().toString();
            Map<String, String> text = text(p);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", name);
            m.put("url", "/files/" + name);
            m.put("modified", modified(p));
            m.put("text", text);
            m.put("params", params(text));
            out.add(m);
        }
        return out;
    }

    /**
     * The form fields to reuse: the studio's own JSON when present, else the CLI's keys mapped back
     * (seed, steps, scales, layers, size, scheduler).
     */
    static Map<String, Object> params(Map<String, String> text) {
        String json = text.get(REQUEST_KEY);
        if (json != null) {
            try {
                return Json.parseObject(json);
            } catch (JsonException e) {
                // fall back to the individual keys
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        copy(text, "prompt", m, "prompt");
        copy(text, "negative_prompt", m, "negative_prompt");
        copy(text, "seed", m, "seed");
        copy(text, "steps", m, "steps");
        copy(text, "guidance_scale", m, "guidance_scale");
        copy(text, "pag_scale", m, "pag_scale");
        copy(text, "pag_adaptive_scale", m, "pag_adaptive_scale");
        String layers = text.get("pag_applied_layers");
        if (layers != null) {
            boolean strict = layers.endsWith(" (strict)");
            m.put("pag_layers", List.of(layers.replace(" (strict)", "").split(",")));
            m.put("pag_strict", strict);
        }
        String size = text.get("size");
        if (size != null && size.matches("\\d+x\\d+")) {
            m.put("width", Integer.parseInt(size.substring(0, size.indexOf('x'))));
            m.put("height", Integer.parseInt(size.substring(size.indexOf('x') + 1)));
        }
        String sampler = text.get("sampler");
        GenerateRequest.SCHEDULERS.forEach((k, v) -> {
            if (v.equals(sampler)) {
                m.put("scheduler", k);
            }
        });
        return m;
    }

    private static void copy(Map<String, String> from, String key, Map<String, Object> to, String as) {
        if (from.containsKey(key)) {
            to.put(as, from.get(key));
        }
    }

    private Map<String, String> text(Path p) {
        long mod = modified(p);
        long size;
        try {
            size = Files.size(p);
        } catch (IOException e) {
            return Map.of();
        }
        Entry e = cache.get(p.getFileName().toString());
        if (e != null && e.modified() == mod && e.size() == size) {
            return e.text();
        }
        Map<String, String> text;
        try (InputStream in = Files.newInputStream(p)) {
            text = PngWriter.readText(in.readNBytes(HEAD));
        } catch (IOException | RuntimeException ex) {
            text = Map.of();
        }
        cache.put(p.getFileName().toString(), new Entry(mod, size, text));
        return text;
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }
}
