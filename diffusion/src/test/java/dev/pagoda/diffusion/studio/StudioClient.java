package dev.pagoda.diffusion.studio;

import dev.pagoda.tensor.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** The tests' side of the studio API: JSON calls, the progress stream, and raw HTTP for hostile requests. */
final class StudioClient {

    record Reply(int status, String contentType, String body) {
        Map<String, Object> json() {
            return Json.parseObject(body);
        }
    }

    record Event(long id, String type, Map<String, Object> data) {
    }

    static final Set<String> TERMINAL = Set.of("done", "cancelled", "error");

    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    StudioClient(URI base) {
        this.base = base;
    }

    Reply get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
    }

    byte[] bytes(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray()).body();
    }

    Reply post(String path, String json) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
    }

    /** Reads a job's progress stream until {@code stop} accepts an event or the job ends; returns the events. */
    List<Event> events(String jobId, Predicate<Event> stop) throws IOException, InterruptedException {
        HttpResponse<Stream<String>> r = http.send(HttpRequest.newBuilder(base.resolve("/api/progress/" + jobId))
                .timeout(Duration.ofSeconds(300)).GET().build(), HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() != 200) {
            throw new IOException("progress of " + jobId + ": HTTP " + r.statusCode());
        }
        List<Event> out = new ArrayList<>();
        try (Stream<String> lines = r.body()) {
            Iterator<String> it = lines.iterator();
            long id = -1;
            String type = null;
            while (it.hasNext()) {
                String line = it.next();
                if (line.startsWith("id: ")) {
                    id = Long.parseLong(line.substring(4));
                } else if (line.startsWith("event: ")) {
                    type = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    Event e = new Event(id, type, Json.parseObject(line.substring(6)));
                    out.add(e);
                    if (stop.test(e) || TERMINAL.contains(type)) {
                        break;
                    }
                }
            }
        }
        return out;
    }

    List<Event> events(String jobId) throws IOException, InterruptedException {
        return events(jobId, e -> false);
    }

    /** Sends {@code head} as written (no normalisation of the path) and returns the reply's status line and body. */
    String raw(String head) throws IOException {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * Sends headers, then streams body bytes from another thread (up to {@code bodyBytes}, or until
     * the server stops reading), and returns what the server answered.
     */
    String upload(String head, long bodyBytes, boolean chunked) throws IOException, InterruptedException {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            Thread writer = Thread.ofVirtual().start(() -> {
                byte[] block = new byte[1 << 20];
                try {
                    for (long sent = 0; sent < bodyBytes; sent += block.length) {
                        if (chunked) {
                            out.write((Integer.toHexString(block.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        }
                        out.write(block);
                        if (chunked) {
                            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                    }
                    if (chunked) {
                        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.flush();
                } catch (IOException e) {
                    // the server closed the connection after refusing: expected
                }
            });
            InputStream in = s.getInputStream();
            byte[] reply = in.readAllBytes();
            writer.join(60_000);
            return new String(reply, StandardCharsets.UTF_8);
        }
    }
}
