package dev.pagoda.diffusion.studio;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.json.JsonException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code pagoda serve}: the studio page and its JSON API on the JDK's own HTTP server, over one
 * loaded pipeline. Routes (all answers JSON unless noted; every refusal is a 4xx with
 * {@code {"error": ..., "field": ...}}):
 * <pre>
 *   GET  /                      the page (static HTML/JS/CSS from the jar)
 *   GET  /api/info              model, default size, size step, schedulers
 *   GET  /api/layers[?pattern=P[&amp;strict=true]]  self-attention modules; with a pattern, those it selects
 *   POST /api/generate          queue a generation -> 202 {"id", "progress"}
 *   POST /api/compare           queue a grid (PAG scales x layer sets) -> 202
 *   GET  /api/progress/{id}     server-sent events of a job (queued, started, stage, step, preview,
 *                               cell, done | cancelled | error)
 *   GET  /api/jobs/{id}         a job's state and last event
 *   POST /api/cancel/{id}       cancel a queued or running job
 *   GET  /api/queue             running and queued job ids
 *   GET  /api/gallery           images of the output folder with their parameters, newest first
 *   GET  /files/{name}[?download=1]  one PNG of the output folder (nothing outside it)
 * </pre>
 * Requests are handled on virtual threads; jobs run one at a time on the {@link JobQueue}'s worker.
 */
public final class StudioServer implements AutoCloseable {

    /**
     * Where and how to serve. {@code preferFp16} says how the pipeline was loaded and
     * {@code tiledVae} turns VAE tiling on; both enter the memory estimate of every request.
     */
    public record Settings(String host, int port, Path outputFolder, long maxUploadBytes, int previewEvery,
            boolean preferFp16, boolean tiledVae) {
        public Settings {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
            }
            if (maxUploadBytes <= 0) {
                throw new IllegalArgumentException("the upload limit must be positive, got " + maxUploadBytes);
            }
        }

        public static Settings defaults(Path outputFolder) {
            return new Settings("127.0.0.1", 7860, outputFolder, 32L * 1024 * 1024, 2, true, false);
        }

        public Settings port(int p) {
            return new Settings(host, p, outputFolder, maxUploadBytes, previewEvery, preferFp16, tiledVae);
        }
    }

    private static final int MAX_CELLS = 36;
    private static final Map<String, String> STATIC = Map.of(
            "/", "index.html", "/index.html", "index.html", "/studio.js", "studio.js", "/studio.css", "studio.css");

    private final HttpServer http;
    private final ExecutorService threads;
    private final StudioEngine engine;
    private final Gallery gallery;
    private final JobQueue queue = new JobQueue();
    private final Settings settings;
    private final Map<String, byte[]> assets = new LinkedHashMap<>();
    private final boolean loopbackBind;

    private StudioServer(SdxlPipeline pipeline, String modelName, Settings s) throws IOException {
        this.settings = s;
        Files.createDirectories(s.outputFolder());
        this.gallery = new Gallery(s.outputFolder());
        pipeline.components().vae().setTiling(s.tiledVae());
        this.engine = new StudioEngine(pipeline, modelName, gallery, s.previewEvery(), s.preferFp16(), s.tiledVae());
        for (String name : new java.util.TreeSet<>(STATIC.values())) {
            try (InputStream in = StudioServer.class.getResourceAsStream("web/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("studio resource web/" + name + " missing from the jar");
                }
                assets.put(name, in.readAllBytes());
            }
        }
        InetSocketAddress bind = new InetSocketAddress(s.host(), s.port());
        if (bind.isUnresolved()) {
            throw new IOException("unknown host " + s.host());
        }
        this.loopbackBind = bind.getAddress().isLoopbackAddress();
        this.http = HttpServer.create(bind, 64);
        this.threads = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(threads);
        http.createContext("/", this::handle);
    }

    /**
     * Serves {@code pipeline} (the studio owns it from here and closes it on {@link #close}); port 0
     * picks a free port.
     */
    public static StudioServer start(SdxlPipeline pipeline, String modelName, Settings settings) {
        try {
            StudioServer s = new StudioServer(pipeline, modelName, settings);
            s.http.start();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve on " + settings.host() + ":" + settings.port() + ": "
                    + e.getMessage(), e);
        }
    }

    public int port() {
        return http.getAddress().getPort();
    }

    public URI uri() {
        String host = settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host();
        return URI.create("http://" + host + ":" + port() + "/");
    }

    private void handle(HttpExchange ex) {
        try (ex) {
            try {
                route(ex);
            } catch (ApiException e) {
                HttpIo.error(ex, e);
            } catch (JsonException e) {
                HttpIo.error(ex, new ApiException(400, null, "request body is not valid JSON: " + e.getMessage()));
            } catch (RuntimeException e) {
                HttpIo.json(ex, 500, JobQueue.error(e.getMessage() == null ? e.toString() : e.getMessage(), null));
            }
        } catch (IOException e) {
            // the client went away; nothing to answer
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        String method = ex.getRequestMethod();
        guard(ex, method);
        String asset = STATIC.get(path);
        if (asset != null) {
            require(method, "GET");
            ex.getResponseHeaders().set("Content-Type", asset.endsWith(".html") ? "text/html; charset=utf-8"
                    : asset.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            HttpIo.bytes(ex, 200, assets.get(asset));
            return;
        }
        if (path.startsWith("/files/")) {
            require(method, "GET");
            file(ex, path.substring("/files/".length()));
            return;
        }
        String[] parts = path.split("/", -1);
        // "/api/x/{id}" -> ["", "api", "x", id]
        if (parts.length < 3 || !parts[1].equals("api")) {
            throw new ApiException(404, null, "no such page or API route: " + path);
        }
        String id = parts.length == 4 ? decode(parts[3]) : null;
        switch (parts[2]) {
            case "info" -> {
                require(method, "GET");
                Map<String, Object> info = new LinkedHashMap<>(engine.info());
                info.put("max_upload_bytes", settings.maxUploadBytes());
                info.put("output_folder", gallery.folder().toString());
                HttpIo.json(ex, 200, info);
            }
            case "layers" -> {
                require(method, "GET");
                layers(ex);
            }
            case "generate" -> {
                require(method, "POST");
                Map<String, Object> body = body(ex);
                if (body.containsKey("compare")) {
                    throw new ApiException(400, "compare", "a compare grid is queued with POST /api/compare");
                }
                GenerateRequest r = GenerateRequest.parse(body, engine);
                engine.checkMemory(r);
                accepted(ex, queue.submit("generate", job -> engine.generate(job, r)));
            }
            case "compare" -> {
                require(method, "POST");
                compare(ex);
            }
            case "progress" -> {
                require(method, "GET");
                progress(ex, job(id));
            }
            case "jobs" -> {
                require(method, "GET");
                HttpIo.json(ex, 200, job(id).summary());
            }
            case "cancel" -> {
                require(method, "POST");
                Job job = job(id);
                boolean cancelled = queue.cancel(job);
                Map<String, Object> m = new LinkedHashMap<>(job.summary());
                m.put("cancelled", cancelled);
                HttpIo.json(ex, cancelled ? 202 : 409, m);
            }
            case "queue" -> {
                require(method, "GET");
                HttpIo.json(ex, 200, queue.status());
            }
            case "gallery" -> {
                require(method, "GET");
                HttpIo.json(ex, 200, Map.of("images", gallery.list()));
            }
            default -> throw new ApiException(404, null, "no API route " + path);
        }
    }

    /**
     * Refuses what a web page elsewhere could make a browser send: on a loopback bind, a Host header
     * that is not a loopback name (DNS rebinding: evil.example resolving to 127.0.0.1), and on any
     * bind a POST whose Origin is another site (a form or fetch from another page).
     */
    private void guard(HttpExchange ex, String method) {
        String host = ex.getRequestHeaders().getFirst("Host");
        if (loopbackBind && host != null && !loopbackName(host)) {
            throw new ApiException(403, null, "refused: Host \"" + host + "\" is not a name of this machine (the"
                    + " studio on " + settings.host() + " answers to localhost, 127.0.0.1 and [::1] only)");
        }
        String origin = ex.getRequestHeaders().getFirst("Origin");
        if (method.equals("POST") && origin != null) {
            String from;
            try {
                from = URI.create(origin).getRawAuthority();
            } catch (IllegalArgumentException e) {
                from = null;
            }
            if (from == null || !from.equalsIgnoreCase(host)) {
                throw new ApiException(403, null, "refused: a cross-origin request from " + origin);
            }
        }
    }

    static boolean loopbackName(String hostHeader) {
        String h = hostHeader.trim().toLowerCase(java.util.Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 && h.substring(1, end).equals("::1");
        }
        int colon = h.indexOf(':');
        String name = colon < 0 ? h : h.substring(0, colon);
        return name.equals("localhost") || name.endsWith(".localhost") || name.matches("127(\\.\\d{1,3}){3}");
    }

    private static void require(String method, String expected) {
        if (!method.equals(expected) && !(expected.equals("GET") && method.equals("HEAD"))) {
            throw new ApiException(405, null, "method " + method + " not allowed here (use " + expected + ")");
        }
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, null, "bad URL encoding in \"" + s + "\"");
        }
    }

    private Map<String, Object> body(HttpExchange ex) throws IOException {
        byte[] b = HttpIo.body(ex, settings.maxUploadBytes());
        return Json.parseObject(new String(b, StandardCharsets.UTF_8));
    }

    private Job job(String id) {
        Job job = id == null ? null : queue.find(id);
        if (job == null) {
            throw new ApiException(404, "id", "no job with id \"" + id + "\"");
        }
        return job;
    }

    private static void accepted(HttpExchange ex, Job job) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>(job.summary());
        m.put("progress", "/api/progress/" + job.id());
        ex.getResponseHeaders().set("Location", "/api/jobs/" + job.id());
        HttpIo.json(ex, 202, m);
    }

    private void layers(HttpExchange ex) throws IOException {
        Map<String, String> q = HttpIo.query(ex);
        if (!q.containsKey("pattern")) {
            HttpIo.json(ex, 200, engine.layers());
            return;
        }
        List<String> patterns = GenerateRequest.layers(q.get("pattern"));
        boolean strict = Boolean.parseBoolean(q.getOrDefault("strict", "false"));
        List<String> selected = engine.selectLayers(patterns, strict);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("patterns", patterns);
        m.put("strict", strict);
        m.put("selected", selected);
        HttpIo.json(ex, 200, m);
    }

    private void compare(HttpExchange ex) throws IOException {
        Map<String, Object> body = body(ex);
        GenerateRequest r = GenerateRequest.parse(body, engine);
        if (!(body.get("compare") instanceof Map<?, ?> spec)) {
            throw new ApiException(400, "compare", "compare must be an object {\"pag_scales\": [...], \"layer_sets\":"
                    + " [...]}");
        }
        List<Float> scales = new ArrayList<>();
        if (!(spec.get("pag_scales") instanceof List<?> ls) || ls.isEmpty()) {
            throw new ApiException(400, "pag_scales", "compare.pag_scales must be a non-empty list of numbers");
        }
        for (Object o : ls) {
            if (!(o instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() <= 100)) {
                throw new ApiException(400, "pag_scales", "compare.pag_scales entries must be numbers in [0, 100], got "
                        + JsonWriter.write(o));
            }
            scales.add(n.floatValue());
        }
        List<List<String>> sets = new ArrayList<>();
        if (!(spec.get("layer_sets") instanceof List<?> lsets) || lsets.isEmpty()) {
            throw new ApiException(400, "layer_sets", "compare.layer_sets must be a non-empty list of layer lists");
        }
        for (Object o : lsets) {
            List<String> set = GenerateRequest.layers(o);
            try {
                engine.selectLayers(set, r.pagStrict());
            } catch (ApiException e) {
                throw new ApiException(400, "layer_sets", "layer set " + JsonWriter.write(set) + ": " + e.getMessage());
            }
            sets.add(set);
        }
        if (scales.size() * sets.size() > MAX_CELLS) {
            throw new ApiException(400, "compare", "a grid of " + sets.size() + "x" + scales.size()
                    + " cells exceeds the limit of " + MAX_CELLS);
        }
        engine.checkMemory(r.withPag(java.util.Collections.max(scales), sets.get(0)));
        accepted(ex, queue.submit("compare", job -> engine.compare(job, r, scales, sets)));
    }

    /** Streams a job's events from the start (or after Last-Event-ID) until its closing event. */
    private void progress(HttpExchange ex, Job job) throws IOException {
        long after = -1;
        String last = ex.getRequestHeaders().getFirst("Last-Event-ID");
        if (last != null && last.trim().matches("\\d{1,18}")) {
            after = Long.parseLong(last.trim());
        }
        OutputStream out = HttpIo.eventStream(ex);
        try {
            while (true) {
                List<Job.Event> events = job.eventsAfter(after, 15_000);
                for (Job.Event e : events) {
                    HttpIo.event(out, e);
                    after = e.seq();
                }
                if (events.isEmpty()) {
                    if (job.finished()) {
                        break;
                    }
                    HttpIo.comment(out, "waiting");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.close();
    }

    private void file(HttpExchange ex, String rawName) throws IOException {
        Path p = gallery.resolve(decode(rawName));
        ex.getResponseHeaders().set("Content-Type", "image/png");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        if (HttpIo.query(ex).containsKey("download")) {
            ex.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + p.getFileName() + "\"");
        }
        HttpIo.bytes(ex, 200, Files.readAllBytes(p));
    }

    /** Stops serving, cancels queued and running jobs, and closes the pipeline. */
    @Override
    public void close() {
        http.stop(0);
        queue.close();
        threads.shutdownNow();
        engine.close();
    }
}
