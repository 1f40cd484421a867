package dev.pagoda.diffusion.studio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.image.PngWriter;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The studio's HTTP API against the tiny SDXL model: generate, progress, queue, cancel, refusals. */
class StudioApiTest {

    static final Path TINY = Path.of(System.getProperty("pagoda.golden"), "models", "tiny-sdxl");

    @TempDir
    static Path root;
    static Path out;
    static StudioServer server;
    static StudioClient client;

    @BeforeAll
    static void start() throws IOException {
        out = Files.createDirectories(root.resolve("outputs"));
        server = StudioServer.start(AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid"))),
                "tiny-sdxl", StudioServer.Settings.defaults(out).port(0));
        client = new StudioClient(server.uri());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static String job(int steps, String extra) {
        return "{\"prompt\": \"a red cube\", \"steps\": " + steps + ", \"width\": 64, \"height\": 64, \"seed\": 7"
                + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    static String submit(String path, String body) throws Exception {
        StudioClient.Reply r = client.post(path, body);
        assertEquals(202, r.status(), r.body());
        return (String) r.json().get("id");
    }

    static List<String> pngs() throws IOException {
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static List<StudioClient.Event> of(List<StudioClient.Event> events, String type) {
        return events.stream().filter(e -> e.type().equals(type)).toList();
    }

    @Test
    void generateStreamsStepsAndPreviewsAndWritesThePngWithItsParameters() throws Exception {
        String id = submit("/api/generate", job(3, "\"pag_layers\": [\"mid\", \"down_blocks.2\"]"));
        List<StudioClient.Event> events = client.events(id);
        List<String> types = events.stream().map(StudioClient.Event::type).toList();
        assertEquals("queued", types.get(0), types.toString());
        assertEquals("done", types.get(types.size() - 1), events.toString());
        List<StudioClient.Event> steps = of(events, "step");
        assertEquals(3, steps.size(), types.toString());
        for (int i = 0; i < 3; i++) {
            Map<String, Object> d = steps.get(i).data();
            assertEquals(i + 1, ((Number) d.get("step")).intValue());
            assertEquals(3, ((Number) d.get("steps")).intValue());
            assertTrue(((Number) d.get("s_per_it")).doubleValue() > 0, d.toString());
            assertNotNull(d.get("eta_s"), d.toString());
        }
        // previews every 2 steps and at the last (steps 2 and 3), each an 8x8 PNG (64 px / VAE scale 8); a
        // preview replaces the one before in the log, so a slow reader may miss step 2 but never the last
        List<Integer> previewSteps = of(events, "preview").stream().map(e -> ((Number) e.data().get("step"))
                .intValue()).toList();
        assertTrue(previewSteps.equals(List.of(2, 3)) || previewSteps.equals(List.of(3)), previewSteps.toString());
        List<StudioClient.Event> late = client.events(id);
        assertEquals(List.of(3), of(late, "preview").stream().map(e -> ((Number) e.data().get("step")).intValue())
                .toList(), "a reader after the end gets the last preview only");
        assertEquals(events.get(events.size() - 1), late.get(late.size() - 1));
        String url = (String) of(events, "preview").get(0).data().get("image");
        assertTrue(url.startsWith("data:image/png;base64,"), url);
        java.awt.image.BufferedImage preview = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(
                java.util.Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1))));
        assertEquals(8, preview.getWidth());

        Map<String, Object> done = events.get(events.size() - 1).data();
        String file = (String) done.get("file");
        assertTrue(Files.isRegularFile(out.resolve(file)), file);
        byte[] png = client.bytes("/files/" + file);
        String download = client.raw("GET /files/" + file + "?download=1 HTTP/1.1\r\nHost: localhost\r\nConnection:"
                + " close\r\n\r\n");
        assertTrue(download.startsWith("HTTP/1.1 200") && download.contains("attachment; filename=\"" + file + "\""),
                download.substring(0, Math.min(400, download.length())));
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(out.resolve(file)), png));
        Map<String, String> text = PngWriter.readText(png);
        assertEquals("a red cube", text.get("prompt"));
        assertEquals("7", text.get("seed"));
        assertEquals("mid,down_blocks.2", text.get("pag_applied_layers"));
        assertEquals(List.of("mid", "down_blocks.2"), Json.parseObject(text.get(Gallery.REQUEST_KEY)).get("pag_layers"));

        StudioClient.Reply gallery = client.get("/api/gallery");
        assertEquals(200, gallery.status());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> images = (List<Map<String, Object>>) gallery.json().get("images");
        Map<String, Object> entry = images.stream().filter(m -> m.get("file").equals(file)).findFirst().orElseThrow();
        @SuppressWarnings("unchecked")
        Map<String, Object> params = (Map<String, Object>) entry.get("params");
        assertEquals("a red cube", params.get("prompt"));
        assertEquals(7, ((Number) params.get("seed")).intValue());
    }

    static String dataUrl(int w, int h, int rgb) throws IOException {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, x < w / 2 ? rgb : 0xffffff);
            }
        }
        return "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(PngWriter.encode(img, Map.of()));
    }

    @Test
    void uploadedImagesRunImageToImageAndInpainting() throws Exception {
        String init = dataUrl(72, 70, 0x3366cc);
        // no size given: the init image's size rounded down to the model's step of 32
        List<StudioClient.Event> ev = client.events(submit("/api/generate", "{\"prompt\": \"a cube\", \"steps\": 4,"
                + " \"seed\": 1, \"init_image\": \"" + init + "\", \"strength\": 0.5}"));
        Map<String, Object> done = ev.get(ev.size() - 1).data();
        assertEquals("done", ev.get(ev.size() - 1).type(), ev.toString());
        assertEquals(64, ((Number) done.get("width")).intValue());
        assertEquals(2, of(ev, "step").size(), "strength 0.5 of 4 steps");
        @SuppressWarnings("unchecked")
        Map<String, Object> params = (Map<String, Object>) done.get("params");
        assertEquals("img2img", params.get("mode"));

        ev = client.events(submit("/api/generate", "{\"prompt\": \"a cube\", \"steps\": 2, \"seed\": 1,"
                + " \"init_image\": \"" + init + "\", \"mask\": \"" + dataUrl(72, 70, 0) + "\"}"));
        assertEquals("done", ev.get(ev.size() - 1).type(), ev.toString());
        @SuppressWarnings("unchecked")
        Map<String, Object> inpaint = (Map<String, Object>) ev.get(ev.size() - 1).data().get("params");
        assertEquals("inpaint", inpaint.get("mode"));

        StudioClient.Reply r = client.post("/api/generate", "{\"prompt\": \"a cube\", \"init_image\": \"" + init
                + "\", \"mask\": \"" + dataUrl(64, 64, 0) + "\"}");
        assertEquals(400, r.status());
        assertEquals("mask", r.json().get("field"));
        r = client.post("/api/generate", "{\"prompt\": \"a cube\", \"init_image\": \"data:image/png;base64,AAAA\"}");
        assertEquals(400, r.status());
        assertEquals("init_image", r.json().get("field"));
        r = client.post("/api/generate", "{\"prompt\": \"a cube\", \"mask\": \"" + dataUrl(64, 64, 0) + "\"}");
        assertEquals("mask", r.json().get("field"));
    }

    @Test
    void aBadSizeIsA400NamingTheField() throws Exception {
        StudioClient.Reply r = client.post("/api/generate", job(2, "").replace("\"width\": 64", "\"width\": 60"));
        assertEquals(400, r.status());
        assertTrue(r.contentType().startsWith("application/json"), r.contentType());
        assertEquals("width", r.json().get("field"));
        assertTrue(((String) r.json().get("error")).contains("multiple of 32"), r.body());

        r = client.post("/api/generate", "{\"steps\": 2}");
        assertEquals(400, r.status());
        assertEquals("prompt", r.json().get("field"));
        r = client.post("/api/generate", "{not json");
        assertEquals(400, r.status());
        assertTrue(((String) r.json().get("error")).startsWith("request body is not valid JSON"), r.body());
        r = client.post("/api/generate", job(2, "\"scheduler\": \"k_euler\""));
        assertEquals("scheduler", r.json().get("field"));
        r = client.post("/api/generate", job(2, "\"stepz\": 3"));
        assertEquals(400, r.status());
        assertEquals("stepz", r.json().get("field"));
        assertEquals(404, client.get("/api/nothing").status());
        assertEquals(405, client.get("/api/generate").status());
    }

    @Test
    void anUnknownLayerIsA400WithDiffusersMessage() throws Exception {
        StudioClient.Reply r = client.post("/api/generate", job(2, "\"pag_layers\": [\"mid\", \"middle_block\"]"));
        assertEquals(400, r.status());
        assertEquals("pag_layers", r.json().get("field"));
        assertEquals("Cannot find PAG layer to set attention processor for: middle_block", r.json().get("error"));

        r = client.get("/api/layers?pattern=middle_block");
        assertEquals(400, r.status());
        assertEquals("pag_layers", r.json().get("field"));
        r = client.get("/api/layers?pattern=" + java.net.URLEncoder.encode("down_blocks.(", "UTF-8"));
        assertEquals(400, r.status());
        assertTrue(((String) r.json().get("error")).startsWith("invalid PAG layer pattern"), r.body());

        r = client.get("/api/layers?pattern=mid");
        assertEquals(200, r.status());
        @SuppressWarnings("unchecked")
        List<String> selected = (List<String>) r.json().get("selected");
        assertFalse(selected.isEmpty());
        assertTrue(selected.stream().allMatch(n -> n.startsWith("mid_block.") && n.endsWith("attn1")), selected.toString());

        @SuppressWarnings("unchecked")
        List<String> all = (List<String>) client.get("/api/layers").json().get("modules");
        assertTrue(all.containsAll(selected) && all.size() > selected.size(), all.toString());
        assertTrue(all.stream().noneMatch(n -> n.endsWith("attn2")), "cross-attention is never a PAG layer");
    }

    @Test
    void concurrentRequestsAreQueuedNotInterleaved() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Callable<List<StudioClient.Event>>> calls = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                calls.add(() -> client.events(submit("/api/generate", job(3, ""))));
            }
            List<List<StudioClient.Event>> runs = new ArrayList<>();
            for (Future<List<StudioClient.Event>> f : pool.invokeAll(calls)) {
                runs.add(f.get());
            }
            long[][] spans = new long[2][];
            for (int k = 0; k < 2; k++) {
                List<StudioClient.Event> ev = runs.get(k);
                assertEquals("done", ev.get(ev.size() - 1).type(), ev.toString());
                assertEquals(3, of(ev, "step").size());
                spans[k] = new long[] {of(ev, "started").get(0).id(), ev.get(ev.size() - 1).id()};
            }
            // event ids are one server-wide clock: one job ran from start to end before the other started
            boolean firstThenSecond = spans[0][1] < spans[1][0];
            boolean secondThenFirst = spans[1][1] < spans[0][0];
            assertTrue(firstThenSecond || secondThenFirst, "interleaved: " + runs);
            List<StudioClient.Event> later = firstThenSecond ? runs.get(1) : runs.get(0);
            List<StudioClient.Event> earlier = firstThenSecond ? runs.get(0) : runs.get(1);
            if (of(later, "queued").get(0).id() < of(earlier, "started").get(0).id()) {
                // both were submitted before either started
                assertTrue(((Number) of(later, "queued").get(0).data().get("ahead")).intValue() >= 1, later.toString());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCancelledJobStopsAtTheNextStepAndLeavesNoFile() throws Exception {
        List<String> before = pngs();
        String id = submit("/api/generate", job(400, ""));
        List<StudioClient.Event> first = client.events(id, e -> e.type().equals("step"));
        assertEquals("step", first.get(first.size() - 1).type(), first.toString());
        StudioClient.Reply c = client.post("/api/cancel/" + id, "");
        assertEquals(202, c.status(), c.body());
        List<StudioClient.Event> all = client.events(id);
        StudioClient.Event end = all.get(all.size() - 1);
        assertEquals("cancelled", end.type(), all.toString());
        int completed = ((Number) end.data().get("completed_steps")).intValue();
        assertTrue(completed >= 1 && completed < 400, end.toString());
        assertEquals(completed, of(all, "step").size(), "no step after the cancelling one");
        assertEquals(before, pngs(), "a cancelled job writes nothing (no image, no temp file)");
        assertEquals(409, client.post("/api/cancel/" + id, "").status(), "a finished job cannot be cancelled");
        assertEquals(404, client.post("/api/cancel/nosuchjob", "").status());
    }

    @Test
    void aQueuedJobCancelledBeforeItStartsNeverRuns() throws Exception {
        List<String> before = pngs();
        String running = submit("/api/generate", job(400, ""));
        String waiting = submit("/api/generate", job(2, ""));
        assertEquals(202, client.post("/api/cancel/" + waiting, "").status());
        List<StudioClient.Event> ev = client.events(waiting);
        assertEquals(List.of("queued", "cancelled"), ev.stream().map(StudioClient.Event::type).toList());
        assertEquals(202, client.post("/api/cancel/" + running, "").status());
        List<StudioClient.Event> ran = client.events(running);
        assertEquals("cancelled", ran.get(ran.size() - 1).type());
        assertEquals(before, pngs());
    }

    @Test
    void aCompareGridRunsEveryCellWithTheSameSeed() throws Exception {
        String id = submit("/api/compare", job(2, "\"compare\": {\"pag_scales\": [0, 3], \"layer_sets\": [[\"mid\"],"
                + " \"down_blocks.2,up_blocks.0\"]}"));
        List<StudioClient.Event> ev = client.events(id);
        assertEquals("done", ev.get(ev.size() - 1).type(), ev.toString());
        List<StudioClient.Event> cells = of(ev, "cell");
        assertEquals(4, cells.size());
        for (StudioClient.Event cell : cells) {
            Map<String, Object> d = cell.data();
            int row = ((Number) d.get("row")).intValue();
            int col = ((Number) d.get("col")).intValue();
            @SuppressWarnings("unchecked")
            Map<String, Object> params = (Map<String, Object>) d.get("params");
            assertEquals(col == 0 ? 0.0 : 3.0, ((Number) params.get("pag_scale")).doubleValue());
            assertEquals(row == 0 ? List.of("mid") : List.of("down_blocks.2", "up_blocks.0"), params.get("pag_layers"));
            assertEquals(7, ((Number) params.get("seed")).intValue());
            assertTrue(Files.isRegularFile(out.resolve((String) d.get("file"))));
        }
        // PAG scale 0 makes the layer set irrelevant: the two cells of column 0 are the same image
        byte[] a = PngWriter.encode(javax.imageio.ImageIO.read(out.resolve((String) cells.get(0).data().get("file"))
                .toFile()), Map.of());
        byte[] b = PngWriter.encode(javax.imageio.ImageIO.read(out.resolve((String) cells.get(2).data().get("file"))
                .toFile()), Map.of());
        assertTrue(java.util.Arrays.equals(a, b), "PAG 0 cells differ");

        StudioClient.Reply bad = client.post("/api/compare", job(2, "\"compare\": {\"pag_scales\": [1],"
                + " \"layer_sets\": [[\"mid\"], [\"nowhere\"]]}"));
        assertEquals(400, bad.status());
        assertEquals("layer_sets", bad.json().get("field"));
        assertTrue(((String) bad.json().get("error")).contains("Cannot find PAG layer to set attention processor for:"
                + " nowhere"), bad.body());
    }

    @Test
    void aPathTraversalFileNameIsRefused() throws Exception {
        Files.writeString(root.resolve("secret.png"), "not for you");
        Files.createSymbolicLink(out.resolve("link.png"), root.resolve("secret.png"));
        for (String path : List.of("/files/../secret.png", "/files/..%2Fsecret.png", "/files/%2e%2e%2fsecret.png",
                "/files/..%5csecret.png", "/files/.hidden.png", "/files/sub%2F..%2F..%2Fsecret.png", "/files/link.png",
                "/files/" + root.resolve("secret.png").toString().replace("/", "%2F"))) {
            String reply = client.raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            assertTrue(reply.startsWith("HTTP/1.1 403"), path + " -> " + reply);
            assertTrue(reply.contains("\"error\":\"refused: "), reply);
            assertFalse(reply.contains("not for you"), reply);
        }
        assertEquals(404, client.get("/files/missing.png").status());
    }

    @Test
    void aRequestTooLargeForMemoryIsRefusedBeforeItIsQueued(@TempDir Path other) throws Exception {
        // a second server whose budget is taken under a 64 MiB heap limit (read once, when it starts)
        System.setProperty("pagoda.memory.heap", "64m");
        StudioServer small;
        try {
            small = StudioServer.start(AutoPipelineForText2Image.fromPretrained(TINY, PipelineOptions.pag(List.of("mid"))),
                    "tiny-sdxl", StudioServer.Settings.defaults(other).port(0));
        } finally {
            System.clearProperty("pagoda.memory.heap");
        }
        try (small) {
            StudioClient c = new StudioClient(small.uri());
            StudioClient.Reply r = c.post("/api/generate", job(2, "").replace("\"width\": 64, \"height\": 64",
                    "\"width\": 2048, \"height\": 2048"));
            assertEquals(400, r.status(), r.body());
            assertEquals("width", r.json().get("field"));
            assertTrue(((String) r.json().get("error")).startsWith("not enough memory for this request: "), r.body());
            assertTrue(((String) r.json().get("error")).contains("would fit"), r.body());
            assertEquals(202, c.post("/api/generate", job(1, "")).status(), "a small request still fits");
        }
    }

    @Test
    void requestsAnotherSiteCouldForgeAreRefused() throws Exception {
        String rebound = client.raw("GET /api/gallery HTTP/1.1\r\nHost: evil.example:7860\r\nConnection: close\r\n\r\n");
        assertTrue(rebound.startsWith("HTTP/1.1 403") && rebound.contains("is not a name of this machine"), rebound);
        String body = job(2, "");
        String forged = client.raw("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1:" + server.port()
                + "\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\nContent-Length: " + body.length()
                + "\r\nConnection: close\r\n\r\n" + body);
        assertTrue(forged.startsWith("HTTP/1.1 403") && forged.contains("cross-origin"), forged);
        String same = client.raw("POST /api/cancel/nosuchjob HTTP/1.1\r\nHost: localhost:" + server.port()
                + "\r\nOrigin: http://localhost:" + server.port() + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assertTrue(same.startsWith("HTTP/1.1 404"), same);
        assertTrue(StudioServer.loopbackName("[::1]:7860") && StudioServer.loopbackName("127.0.0.1")
                && !StudioServer.loopbackName("127.0.0.1.evil.example") && !StudioServer.loopbackName("[::2]"));
    }

    @Test
    void a100MbUploadIsRefusedWith413() throws Exception {
        long size = 100L * 1024 * 1024;
        String declared = client.upload("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                + "\r\nContent-Length: " + size + "\r\n\r\n", size, false);
        assertTrue(declared.startsWith("HTTP/1.1 413"), declared);
        assertTrue(declared.contains("exceeds the upload limit of 33554432 bytes"), declared);
        String chunked = client.upload("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                + "\r\nTransfer-Encoding: chunked\r\n\r\n", size, true);
        assertTrue(chunked.startsWith("HTTP/1.1 413"), chunked);
        // the server is still fine
        assertEquals(200, client.get("/api/info").status());
    }

    @Test
    void thePageIsServedFromMemoryQuickly() throws Exception {
        StudioClient.Reply page = client.get("/");
        assertEquals(200, page.status());
        assertTrue(page.contentType().startsWith("text/html"));
        assertTrue(page.body().contains("<title>Pagoda studio</title>"));
        assertTrue(client.get("/studio.js").body().contains("EventSource"));
        long[] ns = new long[21];
        for (int i = 0; i < ns.length; i++) {
            long t0 = System.nanoTime();
            assertEquals(200, client.get("/").status());
            ns[i] = System.nanoTime() - t0;
        }
        java.util.Arrays.sort(ns);
        assertTrue(ns[ns.length / 2] < 50_000_000L, "median GET / took " + ns[ns.length / 2] / 1e6 + " ms");
    }
}
