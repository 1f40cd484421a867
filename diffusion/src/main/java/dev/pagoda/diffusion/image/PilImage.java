package dev.pagoda.diffusion.image;

import java.awt.image.BufferedImage;

/**
 * An 8-bit image as Pillow holds it, mode "L" (one channel) or "RGB" (three), for the few Pillow
 * operations diffusers' image processor chains together (crop, paste, resize, mode conversion). Each
 * does Pillow's integer arithmetic, so a chain of them gives Pillow's bytes.
 *
 * @param pixels interleaved {@code [height][width][channels]}
 */
record PilImage(int width, int height, int channels, byte[] pixels) {

    PilImage {
        if (width < 1 || height < 1 || (channels != 1 && channels != 3)
                || (long) width * height * channels != pixels.length) {
            throw new IllegalArgumentException("an 8-bit image needs 1 or 3 channels and width·height·channels bytes,"
                    + " got " + width + "x" + height + "x" + channels + " with " + pixels.length + " bytes");
        }
    }

    /** A {@code TYPE_BYTE_GRAY} image is mode "L"; anything else is read as RGB (alpha dropped). */
    static PilImage of(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        boolean gray = img.getType() == BufferedImage.TYPE_BYTE_GRAY;
        byte[] p = new byte[w * h * (gray ? 1 : 3)];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            if (gray) {
                // raster samples: getRGB would push gray through a colour-space conversion
                img.getRaster().getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    p[y * w + x] = (byte) row[x];
                }
            } else {
                img.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int i = (y * w + x) * 3;
                    p[i] = (byte) (row[x] >> 16);
                    p[i + 1] = (byte) (row[x] >> 8);
                    p[i + 2] = (byte) row[x];
                }
            }
        }
        return new PilImage(w, h, gray ? 1 : 3, p);
    }

    static PilImage blank(int width, int height, int channels) {
        return new PilImage(width, height, channels, new byte[width * height * channels]);
    }

    /** Mode "L" becomes {@code TYPE_BYTE_GRAY} (written as raster samples), RGB {@code TYPE_INT_RGB}. */
    BufferedImage toBufferedImage() {
        if (channels == 1) {
            BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
            int[] row = new int[width];
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    row[x] = pixels[y * width + x] & 0xff;
                }
                out.getRaster().setSamples(0, y, width, 1, 0, row);
            }
            return out;
        }
        PilImage rgb = this;
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = (y * width + x) * 3;
                row[x] = (rgb.pixels[i] & 0xff) << 16 | (rgb.pixels[i + 1] & 0xff) << 8 | (rgb.pixels[i + 2] & 0xff);
            }
            out.setRGB(0, y, width, 1, row, 0, width);
        }
        return out;
    }

    int get(int x, int y, int c) {
        return pixels[(y * width + x) * channels + c] & 0xff;
    }

    /** {@code convert("RGB")}: an "L" image's value goes to all three channels. */
    PilImage toRgb() {
        if (channels == 3) {
            return this;
        }
        byte[] out = new byte[width * height * 3];
        for (int i = 0; i < width * height; i++) {
            out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = pixels[i];
        }
        return new PilImage(width, height, 3, out);
    }

    /** {@code convert("L")}: ITU-R 601-2 luma in Pillow's 16-bit fixed point. */
    PilImage toGray() {
        if (channels == 1) {
            return this;
        }
        byte[] out = new byte[width * height];
        for (int i = 0; i < out.length; i++) {
            int r = pixels[3 * i] & 0xff;
            int g = pixels[3 * i + 1] & 0xff;
            int b = pixels[3 * i + 2] & 0xff;
            out[i] = (byte) ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
        }
        return new PilImage(width, height, 1, out);
    }

    /** {@code crop((x0, y0, x1, y1))}: pixels outside the image read as 0, as in Pillow. */
    PilImage crop(int x0, int y0, int x1, int y1) {
        if (x1 <= x0 || y1 <= y0) {
            throw new IllegalArgumentException("crop box (" + x0 + ", " + y0 + ", " + x1 + ", " + y1 + ") is empty");
        }
        PilImage out = blank(x1 - x0, y1 - y0, channels);
        out.paste(this, -x0, -y0);
        return out;
    }

    /**
     * {@code paste(im, (x, y))} in place, clipped to this image; a source of the other mode is
     * converted first, as Pillow does.
     */
    void paste(PilImage src, int x, int y) {
        PilImage s = channels == src.channels ? src : channels == 3 ? src.toRgb() : src.toGray();
        int fromX = Math.max(0, -x);
        int toX = Math.min(s.width, width - x);
        if (toX <= fromX) {
            return;
        }
        for (int sy = Math.max(0, -y); sy < Math.min(s.height, height - y); sy++) {
            System.arraycopy(s.pixels, (sy * s.width + fromX) * channels, pixels,
                    ((sy + y) * width + x + fromX) * channels, (toX - fromX) * channels);
        }
    }

    /** {@code resize((w, h), Image.LANCZOS)}, a copy when the size is unchanged. */
    PilImage resize(int w, int h) {
        return new PilImage(w, h, channels, PilResize.resize(pixels, width, height, channels, w, h,
                PilResize.Filter.LANCZOS));
    }

    /** {@code resize((w, h), filter, box=(x0, y0, x1, y1))}. */
    PilImage resize(int w, int h, PilResize.Filter filter, int x0, int y0, int x1, int y1) {
        return new PilImage(w, h, channels, PilResize.resize(pixels, width, height, channels, w, h,
                filter, x0, y0, x1, y1));
    }
}
