package dev.pagoda.diffusion.studio;

import dev.pagoda.tensor.json.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A headless Chromium driven over the Chrome DevTools Protocol with the JDK's own WebSocket client:
 * navigate, evaluate JavaScript, click and type with real input events, take screenshots. No
 * driver binary and no library: the browser itself is the only thing to install.
 */
final class Cdp implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
    private static final List<String> CANDIDATES = List.of("chromium-headless-shell", "chromium", "chromium-browser",
            "google-chrome", "google-chrome-stable");

    private final Process process;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();
    private final List<String> console = java.util.Collections.synchronizedList(new ArrayList<>());

    /** The browser to use: -Dpagoda.chromium / $PAGODA_CHROMIUM, else the first of the usual names on PATH. */
    static Path findBrowser() {
        String given = System.getProperty("pagoda.chromium", System.getenv("PAGODA_CHROMIUM"));
        if (given != null && !given.isBlank()) {
            return Path.of(given);
        }
        String path = System.getenv("PATH");
        for (String name : CANDIDATES) {
            for (String dir : (path == null ? "/usr/bin" : path).split(java.io.File.pathSeparator)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    private Cdp(Process process, WebSocket socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Starts {@code browser} headless with a fresh profile and connects to its one page. */
    static Cdp launch(Path browser, Path profile, int width, int height) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(browser.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                "--hide-scrollbars", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                "--user-data-dir=" + profile, "--window-size=" + width + "," + height, "about:blank"));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        CompletableFuture<String> ws = new CompletableFuture<>();
        StringBuilder log = new StringBuilder();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        ws.complete(m.group(1));
                    } else if (log.length() < 20_000) {
                        log.append(line).append('\n');
                    }
                }
            } catch (IOException e) {
                // the browser ended
            }
            ws.completeExceptionally(new IOException("browser exited without a DevTools endpoint: " + log));
        });
        try {
            URI browserWs = URI.create(ws.get(30, TimeUnit.SECONDS));
            HttpClient http = HttpClient.newHttpClient();
            URI list = URI.create("http://" + browserWs.getAuthority() + "/json/list");
            String pageWs = null;
            for (int tries = 0; tries < 50 && pageWs == null; tries++) {
                String body = http.send(HttpRequest.newBuilder(list).GET().build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                for (Object o : (List<?>) Json.parse(body)) {
                    Map<?, ?> target = (Map<?, ?>) o;
                    if ("page".equals(target.get("type"))) {
                        pageWs = (String) target.get("webSocketDebuggerUrl");
                    }
                }
                if (pageWs == null) {
                    Thread.sleep(100);
                }
            }
            if (pageWs == null) {
                throw new IOException("the browser shows no page target");
            }
            Cdp[] self = new Cdp[1];
            Listener listener = new Listener(self);
            WebSocket socket = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(pageWs), listener).get(10, TimeUnit.SECONDS);
            Cdp cdp = new Cdp(p, socket);
            self[0] = cdp;
            cdp.call("Page.enable", Map.of());
            cdp.call("Runtime.enable", Map.of());
            return cdp;
        } catch (Exception e) {
            p.destroyForcibly();
            if (e instanceof IOException io) {
                throw io;
            }
            throw new IOException("cannot drive " + browser + ": " + e, e);
        }
    }

    private static final class Listener implements WebSocket.Listener {
        private final Cdp[] owner;
        private final StringBuilder partial = new StringBuilder();

        Listener(Cdp[] owner) {
            this.owner = owner;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                if (owner[0] != null) {
                    owner[0].received(Json.parseObject(text));
                }
            }
            ws.request(1);
            return null;
        }
    }

    @SuppressWarnings("unchecked")
    private void received(Map<String, Object> msg) {
        Object id = msg.get("id");
        if (id instanceof Number n) {
            CompletableFuture<Map<String, Object>> f = pending.remove(n.intValue());
            if (f != null) {
                if (msg.get("error") != null) {
                    f.completeExceptionally(new IllegalStateException("CDP error: " + msg.get("error")));
                } else {
                    f.complete((Map<String, Object>) msg.get("result"));
                }
            }
        } else if ("Runtime.consoleAPICalled".equals(msg.get("method"))
                || "Runtime.exceptionThrown".equals(msg.get("method"))) {
            console.add(JsonWriter.write(msg.get("params")));
        }
    }

    /** Sends one protocol command and waits for its result. */
    Map<String, Object> call(String method, Map<String, Object> params) {
        int id = ids.incrementAndGet();
        CompletableFuture<Map<String, Object>> f = new CompletableFuture<>();
        pending.put(id, f);
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("id", id);
        msg.put("method", method);
        msg.put("params", params);
        socket.sendText(JsonWriter.write(msg), true).join();
        try {
            return f.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(method + " failed: " + e.getMessage(), e);
        }
    }

    /** Evaluates {@code js} in the page (promises awaited) and returns its value as JSON-like Java data. */
    @SuppressWarnings("unchecked")
    Object eval(String js) {
        Map<String, Object> r = call("Runtime.evaluate", Map.of("expression", js, "returnByValue", true,
                "awaitPromise", true));
        if (r.get("exceptionDetails") != null) {
            throw new IllegalStateException("page script failed: " + js + " -> " + JsonWriter.write(r.get(
                    "exceptionDetails")));
        }
        return ((Map<String, Object>) r.get("result")).get("value");
    }

    /** Polls {@code js} until it is truthy; fails naming {@code what} and the console after {@code seconds}. */
    void waitFor(String what, String js, double seconds) throws InterruptedException {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        String failure = "";
        while (true) {
            try {
                if (Boolean.TRUE.equals(eval("!!(" + js + ")"))) {
                    return;
                }
            } catch (IllegalStateException e) {
                // the page is still loading (no body yet), or the element is not there yet
                failure = "; last script error: " + e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + seconds + " s waiting for " + what + " (" + js
                        + ")" + failure + "; page console: " + console);
            }
            Thread.sleep(50);
        }
    }

    void navigate(String url) {
        call("Page.navigate", Map.of("url", url));
    }

    /** Clicks the centre of the element {@code selector} finds, with mouse events as a person's click. */
    @SuppressWarnings("unchecked")
    void click(String selector) {
        Map<String, Object> box = (Map<String, Object>) eval("(() => { const e = document.querySelector("
                + JsonWriter.write(selector) + "); if (!e) return null; e.scrollIntoView({block: 'center'});"
                + " const r = e.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()");
        if (box == null) {
            throw new AssertionError("no element " + selector + " to click");
        }
        double x = ((Number) box.get("x")).doubleValue();
        double y = ((Number) box.get("y")).doubleValue();
        for (String type : List.of("mousePressed", "mouseReleased")) {
            call("Input.dispatchMouseEvent", Map.of("type", type, "x", x, "y", y, "button", "left", "clickCount", 1));
        }
    }

    /** Replaces the text of the field {@code selector} by typing {@code text} over its selected content. */
    void type(String selector, String text) {
        click(selector);
        String el = "document.querySelector(" + JsonWriter.write(selector) + ")";
        eval(el + ".select()");
        if (text.isEmpty()) {
            eval(el + ".value = ''; " + el + ".dispatchEvent(new Event('input', {bubbles: true}))");
        } else {
            call("Input.insertText", Map.of("text", text));
        }
    }

    /** A PNG of the viewport, scrolled to the top of the page. */
    void screenshot(Path file) throws IOException {
        eval("window.scrollTo(0, 0)");
        Map<String, Object> r = call("Page.captureScreenshot", Map.of("format", "png"));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode((String) r.get("data")));
    }

    List<String> console() {
        return List.copyOf(console);
    }

    @Override
    public void close() {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the browser is killed below in any case
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
