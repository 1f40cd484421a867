package dev.pagoda.diffusion.fuzz;

import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.image.ImageTensors;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Init images and masks: PNG (RGB, grey, 16-bit grey, palette, alpha) and JPEG (colour, grey) files
 * as {@link ImageSource} reads them, then turned into an image tensor and a mask as the CLI does.
 * Besides byte mutations, a third of the cases rewrite the declared width and height (PNG IHDR, JPEG
 * SOF0) with boundary values: a tiny file that claims a huge image.
 */
final class ImageTarget implements FuzzTarget {

    private static final int[] SIZES = {0, 1, 7, 8, 65535, 65536, 46341, 100_000, 1 << 24, Integer.MAX_VALUE, -1};
    private final List<byte[]> seeds = new ArrayList<>();

    ImageTarget() {
        int[] types = {BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_USHORT_GRAY,
            BufferedImage.TYPE_BYTE_INDEXED, BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_BYTE_BINARY};
        for (int k = 0; k < types.length; k++) {
            seeds.add(encode(picture(17 + k, 9 + 2 * k, types[k]), "png"));
        }
        seeds.add(encode(picture(16, 16, BufferedImage.TYPE_INT_RGB), "jpg"));
        seeds.add(encode(picture(24, 8, BufferedImage.TYPE_BYTE_GRAY), "jpg"));
    }

    private static BufferedImage picture(int w, int h, int type) {
        BufferedImage img = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (x * 255 / w) << 16 | (y * 255 / h) << 8 | ((x ^ y) & 1) * 255 | (x + y) << 24);
            }
        }
        return img;
    }

    private static byte[] encode(BufferedImage img, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no " + format + " writer for image type " + img.getType());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    @Override
    public String name() {
        return "image";
    }

    @Override
    public byte[] next(Random r) {
        byte[] seed = seeds.get(r.nextInt(seeds.size()));
        byte[] other = seeds.get(r.nextInt(seeds.size()));
        if (r.nextInt(3) == 0) {
            byte[] b = seed.clone();
            int at = dimensions(b);
            if (at >= 0) {
                boolean png = b[0] == (byte) 0x89;
                int w = SIZES[r.nextInt(SIZES.length)];
                int h = r.nextBoolean() ? SIZES[r.nextInt(SIZES.length)] : 1 + r.nextInt(16);
                if (png) {
                    putInt(b, at, w);
                    putInt(b, at + 4, h);
                } else { // SOF0: height then width, 16 bits each
                    b[at] = (byte) (h >>> 8);
                    b[at + 1] = (byte) h;
                    b[at + 2] = (byte) (w >>> 8);
                    b[at + 3] = (byte) w;
                }
            }
            return r.nextInt(4) == 0 ? Mutator.bytes(b, other, r) : b;
        }
        return Mutator.bytes(seed, other, r);
    }

    /** Where the width/height fields start: PNG's IHDR data, or JPEG's SOF0 height; -1 when absent. */
    private static int dimensions(byte[] b) {
        if (b.length > 24 && b[0] == (byte) 0x89) {
            return 16;
        }
        for (int i = 2; i + 8 < b.length; i++) {
            if (b[i] == (byte) 0xff && b[i + 1] == (byte) 0xc0) {
                return i + 5;
            }
        }
        return -1;
    }

    private static void putInt(byte[] b, int at, int v) {
        for (int k = 0; k < 4; k++) {
            b[at + k] = (byte) (v >>> (24 - 8 * k));
        }
    }

    @Override
    public void run(byte[] input, Path scratch) throws Exception {
        Path file = scratch.resolve("input.img");
        Files.write(file, input);
        BufferedImage img = ImageSource.load(file.toString());
        int w = Math.max(8, img.getWidth() / 8 * 8);
        int h = Math.max(8, img.getHeight() / 8 * 8);
        BufferedImage small = ImageTensors.resize(img, Math.min(w, 64), Math.min(h, 64));
        ImageTensors.toTensor(small);
        ImageTensors.toMask(small);
    }
}
