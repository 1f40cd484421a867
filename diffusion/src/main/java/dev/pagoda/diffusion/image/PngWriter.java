package dev.pagoda.diffusion.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/**
 * Writes PNG files with the generation parameters as {@code tEXt} chunks ({@code iTXt} for text outside Latin-1), atomically: the bytes go to
 * a temporary file beside the target, which is then moved into place, so a failure never leaves a
 * partial image. The output depends only on the pixels and the text, so the same inputs give a
 * byte-identical file.
 */
public final class PngWriter {

    private PngWriter() {
    }

    public static void write(BufferedImage img, Map<String, String> text, Path out) {
        Path dir = out.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new ImageException(out + ": output directory " + dir + " does not exist");
        }
        byte[] png = encode(img, text);
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + out.getFileName() + ".", ".tmp");
            Files.write(tmp, png);
            // temp files are created owner-only; an image is an ordinary file (rw-r--r--)
            if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            }
            try {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new ImageException(out + ": cannot write image: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write already failed; the original error is what matters
                }
            }
        }
    }

    /** PNG bytes with one {@code tEXt} chunk per entry, inserted after the header chunk. */
    public static byte[] encode(BufferedImage img, Map<String, String> text) {
        ByteArrayOutputStream base = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", base)) {
                throw new ImageException("no PNG writer available");
            }
        } catch (IOException e) {
            throw new ImageException("cannot encode PNG: " + e.getMessage(), e);
        }
        byte[] png = base.toByteArray();
        int ihdrEnd = 8 + 4 + 4 + 13 + 4; // signature, IHDR length, type, data, CRC
        ByteArrayOutputStream out = new ByteArrayOutputStream(png.length + 1024);
        out.write(png, 0, ihdrEnd);
        for (Map.Entry<String, String> e : text.entrySet()) {
            writeText(out, e.getKey(), e.getValue());
        }
        out.write(png, ihdrEnd, png.length - ihdrEnd);
        return out.toByteArray();
    }

    private static void writeText(ByteArrayOutputStream out, String key, String value) {
        if (key.isEmpty() || key.length() > 79) {
            throw new IllegalArgumentException("PNG text key must have 1..79 characters: \"" + key + "\"");
        }
        byte[] k = key.getBytes(StandardCharsets.ISO_8859_1);
        byte[] data;
        String chunk;
        if (StandardCharsets.ISO_8859_1.newEncoder().canEncode(value)) {
            byte[] v = value.getBytes(StandardCharsets.ISO_8859_1);
            data = new byte[k.length + 1 + v.length];
            System.arraycopy(k, 0, data, 0, k.length);
            System.arraycopy(v, 0, data, k.length + 1, v.length);
            chunk = "tEXt";
        } else {
            // tEXt is Latin-1 only: a prompt with other characters (emoji, CJK) goes in an uncompressed
            // iTXt chunk (UTF-8; no language tag or translated keyword), which Pillow reads into img.text too
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            data = new byte[k.length + 5 + v.length];
            System.arraycopy(k, 0, data, 0, k.length);
            System.arraycopy(v, 0, data, k.length + 5, v.length);
            chunk = "iTXt";
        }
        byte[] type = chunk.getBytes(StandardCharsets.US_ASCII);
        writeInt(out, data.length);
        out.writeBytes(type);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(type);
        crc.update(data);
        writeInt(out, (int) crc.getValue());
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    private static int nul(byte[] png, int from) {
        int z = from;
        while (png[z] != 0) {
            z++;
        }
        return z;
    }

    /** Reads the {@code tEXt} and uncompressed {@code iTXt} chunks of a PNG (tests, tools). */
    public static Map<String, String> readText(byte[] png) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        int p = 8;
        while (p + 8 <= png.length) {
            int len = ((png[p] & 0xFF) << 24) | ((png[p + 1] & 0xFF) << 16) | ((png[p + 2] & 0xFF) << 8) | (png[p + 3] & 0xFF);
            String type = new String(png, p + 4, 4, StandardCharsets.US_ASCII);
            if (len < 0 || p + 12 + len > png.length) {
                break;
            }
            if (type.equals("tEXt")) {
                int z = nul(png, p + 8);
                out.put(new String(png, p + 8, z - p - 8, StandardCharsets.ISO_8859_1),
                        new String(png, z + 1, p + 8 + len - z - 1, StandardCharsets.ISO_8859_1));
            } else if (type.equals("iTXt") && len > 0) {
                int z = nul(png, p + 8);
                boolean compressed = png[z + 1] != 0;
                int lang = nul(png, z + 3);
                int translated = nul(png, lang + 1);
                if (!compressed) {
                    out.put(new String(png, p + 8, z - p - 8, StandardCharsets.ISO_8859_1),
                            new String(png, translated + 1, p + 8 + len - translated - 1, StandardCharsets.UTF_8));
                }
            }
            p += 12 + len;
        }
        return out;
    }
}
