package dev.pagoda.diffusion.studio;

import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reading bounded request bodies and writing JSON, files and server-sent events on an exchange. */
final class HttpIo {

    private HttpIo() {
    }

    /**
     * The request body, refused with 413 when it is (or announces itself as) larger than {@code limit}:
     * a declared length is checked before a byte is read, a chunked body while it is read, so an
     * oversized upload never fills memory.
     */
    static byte[] body(HttpExchange ex, long limit) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            long n;
            try {
                n = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                throw new ApiException(400, null, "bad Content-Length \"" + declared + "\"");
            }
            if (n > limit) {
                throw tooLarge(n + " bytes", limit);
            }
        }
        InputStream in = ex.getRequestBody();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        int r;
        while ((r = in.read(buf)) > 0) {
            total += r;
            if (total > limit) {
                throw tooLarge("more than " + limit + " bytes", limit);
            }
            out.write(buf, 0, r);
        }
        return out.toByteArray();
    }

    private static ApiException tooLarge(String size, long limit) {
        return new ApiException(413, null, "request body of " + size + " exceeds the upload limit of " + limit
                + " bytes (" + limit / (1024 * 1024) + " MiB; pagoda serve --max-upload-mb)");
    }

    static void json(HttpExchange ex, int status, Object body) throws IOException {
        byte[] b = JsonWriter.write(body).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        bytes(ex, status, b);
    }

    static void error(HttpExchange ex, ApiException e) throws IOException {
        if (e.status() != 413) {
            json(ex, e.status(), JobQueue.error(e.getMessage(), e.field()));
            return;
        }
        // Answer first, then read and discard what the client is still sending (bounded): closing a
        // socket with unread input makes the kernel reset the connection, and the client would see
        // "connection reset" instead of the 413.
        byte[] b = JsonWriter.write(JobQueue.error(e.getMessage(), e.field())).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.getResponseHeaders().set("Connection", "close");
        ex.sendResponseHeaders(413, b.length);
        OutputStream os = ex.getResponseBody();
        os.write(b);
        os.flush();
        drain(ex.getRequestBody(), DRAIN_BYTES, DRAIN_MILLIS);
        ex.close();
    }

    /** How much of a refused body is read and dropped, at most, before the connection is closed. */
    private static final long DRAIN_BYTES = 1L << 30;
    private static final long DRAIN_MILLIS = 10_000;

    private static void drain(InputStream in, long maxBytes, long maxMillis) {
        long deadline = System.currentTimeMillis() + maxMillis;
        byte[] buf = new byte[256 * 1024];
        long total = 0;
        try {
            int r;
            while (total < maxBytes && System.currentTimeMillis() < deadline && (r = in.read(buf)) > 0) {
                total += r;
            }
        } catch (IOException e) {
            // the client stopped sending: nothing left to drop
        }
    }

    static void bytes(HttpExchange ex, int status, byte[] b) throws IOException {
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : b.length == 0 ? -1 : b.length);
        if (!head && b.length > 0) {
            try (OutputStream os = ex.getResponseBody()) {
                os.write(b);
            }
        }
        ex.close();
    }

    /** Starts a {@code text/event-stream} response (chunked, never cached). */
    static OutputStream eventStream(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.getResponseHeaders().set("X-Accel-Buffering", "no");
        ex.sendResponseHeaders(200, 0);
        return ex.getResponseBody();
    }

    /** One server-sent event: its id (for Last-Event-ID on reconnect), type and JSON data. */
    static void event(OutputStream out, Job.Event e) throws IOException {
        String s = "id: " + e.seq() + "\nevent: " + e.type() + "\ndata: " + JsonWriter.write(e.data()) + "\n\n";
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    static void comment(OutputStream out, String text) throws IOException {
        out.write((": " + text + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The query string's parameters, decoded (the last value wins). */
    static Map<String, String> query(HttpExchange ex) {
        Map<String, String> m = new LinkedHashMap<>();
        String q = ex.getRequestURI().getRawQuery();
        if (q == null) {
            return m;
        }
        for (String part : q.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            String v = eq < 0 ? "" : part.substring(eq + 1);
            try {
                m.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, k, "bad URL encoding in the query parameter \"" + k + "\"");
            }
        }
        return m;
    }
}
