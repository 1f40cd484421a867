package dev.pagoda.diffusion.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import javax.imageio.ImageIO;

/** Loads PNG/JPEG images from a file or an http(s) URL, with timeouts and a size limit. */
public final class ImageSource {

    /** Largest image file accepted (bytes). */
    public static final long MAX_BYTES = 64L * 1024 * 1024;
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private ImageSource() {
    }

    /** Reads {@code location}: a path, or a URL starting with http:// or https://. */
    public static BufferedImage load(String location) {
        byte[] bytes;
        if (location.startsWith("http://") || location.startsWith("https://")) {
            bytes = fetch(location);
        } else {
            bytes = read(Path.of(location));
        }
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            throw new ImageException(location + ": not a readable image (" + e.getMessage() + ")", e);
        }
        if (img == null) {
            throw new ImageException(location + ": not a PNG or JPEG image");
        }
        return img;
    }

    private static byte[] read(Path p) {
        try {
            long size = Files.size(p);
            if (size > MAX_BYTES) {
                throw new ImageException(p + ": image file of " + size + " bytes exceeds the limit of " + MAX_BYTES);
            }
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new ImageException(p + ": image file not found");
        } catch (IOException e) {
            throw new ImageException(p + ": cannot read image: " + e.getMessage(), e);
        }
    }

    private static byte[] fetch(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new ImageException(url + ": invalid URL");
        }
        HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build();
        try {
            HttpResponse<InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = resp.body()) {
                if (resp.statusCode() != 200) {
                    throw new ImageException(url + ": HTTP status " + resp.statusCode());
                }
                byte[] data = in.readNBytes((int) MAX_BYTES + 1);
                if (data.length > MAX_BYTES) {
                    throw new ImageException(url + ": image larger than the limit of " + MAX_BYTES + " bytes");
                }
                return data;
            }
        } catch (IOException e) {
            throw new ImageException(url + ": cannot download image: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException(url + ": download interrupted", e);
        } finally {
            client.close();
        }
    }
}
