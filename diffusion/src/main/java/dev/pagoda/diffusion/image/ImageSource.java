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
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/** Loads PNG/JPEG images from a file or an http(s) URL, with timeouts and a size limit. */
public final class ImageSource {

    /** Largest image file accepted (bytes). */
    public static final long MAX_BYTES = 64L * 1024 * 1024;
    /** Largest image accepted (pixels): 8192 x 8192, four times SDXL's largest trained size per side. */
    public static final long MAX_PIXELS = 8192L * 8192;
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
        return decode(location, bytes);
    }

    /**
     * Decodes PNG/JPEG bytes. The size the header declares is checked before any pixel is decoded: a
     * few hundred bytes may claim 2^24 x 16 pixels, and the decoder would allocate the raster first
     * (the fuzz suite found such files taking gigabytes of heap).
     */
    static BufferedImage decode(String location, byte[] bytes) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ImageException(location + ": not a PNG or JPEG image");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w <= 0 || h <= 0 || w * h > MAX_PIXELS) {
                    throw new ImageException(location + ": image of " + w + "x" + h + " pixels exceeds the limit of "
                            + MAX_PIXELS + " pixels");
                }
                BufferedImage img = reader.read(0);
                if (img == null) {
                    throw new ImageException(location + ": not a PNG or JPEG image");
                }
                return img;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ImageException ie) {
                throw ie;
            }
            throw new ImageException(location + ": not a readable image (" + e.getMessage() + ")", e);
        }
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
