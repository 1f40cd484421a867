package dev.pagoda.diffusion.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link MaskCrop} against diffusers 0.31's {@code VaeImageProcessor} on Pillow 9.4 (fixtures and script:
 * src/test/resources/maskcrop/): the crop box, the "fill"-resized image and mask, and the overlay. These
 * are integer Pillow operations, so every value must be equal, not close. The cases cover the three
 * branches of {@code get_crop_region} and the fill bands of {@code _resize_and_fill} (zero-height and
 * zero-width resize boxes), with an "L" and an "RGB" mask with soft edges.
 */
class MaskCropTest {

    static Path resource(String name) throws Exception {
        return Path.of(MaskCropTest.class.getResource("/maskcrop/" + name).toURI());
    }

    static BufferedImage png(String name) throws Exception {
        return ImageSource.load(resource(name).toString());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> cases() throws Exception {
        return (Map<String, Map<String, Object>>) (Map<?, ?>) Json.parseObject(Files.readString(resource("ops.json")));
    }

    static int num(Object o) {
        return ((Number) o).intValue();
    }

    @Test
    void cropBoxesImagesMasksAndOverlaysAreDiffusersBytes() throws Exception {
        BufferedImage image = png("image160x96.png");
        Map<String, Map<String, Object>> cases = cases();
        assertEquals(4, cases.size());
        int withBands = 0;
        try (SafetensorsFile f = SafetensorsFile.open(resource("ops.safetensors"))) {
            for (Map.Entry<String, Map<String, Object>> e : cases.entrySet()) {
                String name = e.getKey();
                Map<String, Object> c = e.getValue();
                int w = num(c.get("width"));
                int h = num(c.get("height"));
                BufferedImage mask = png((String) c.get("mask"));
                MaskCrop crop = MaskCrop.region(mask, w, h, num(c.get("padding")));
                List<?> box = (List<?>) c.get("crop");
                assertEquals(new MaskCrop(num(box.get(0)), num(box.get(1)), num(box.get(2)), num(box.get(3))), crop,
                        name + ": crop box");
                // a crop whose aspect differs from the processing size's is "filled" with stretched edge bands
                if ((long) (crop.x2() - crop.x1()) * h != (long) (crop.y2() - crop.y1()) * w) {
                    withBands++;
                }
                assertArrayEquals(f.tensor(name + ".image").toFloatArray(), crop.image(image, w, h).toFloatArray(),
                        name + ": preprocessed image");
                assertArrayEquals(f.tensor(name + ".mask").toFloatArray(), crop.mask(mask, w, h).toFloatArray(),
                        name + ": preprocessed mask");
                BufferedImage over = crop.overlay(mask, image, png((String) c.get("generated")));
                assertArrayEquals(rgb(png((String) c.get("overlay"))), rgb(over), name + ": overlay");
            }
        }
        assertTrue(withBands >= 3, "the cases must exercise the fill bands, got " + withBands);
    }

    @Test
    void anotherPaddingGivesAnotherCrop() throws Exception {
        // the exact comparison above is not vacuous: the padding moves the box and every pixel with it
        Map<String, Object> c = cases().get("tall");
        BufferedImage mask = png((String) c.get("mask"));
        MaskCrop crop = MaskCrop.region(mask, 128, 96, num(c.get("padding")) + 3);
        assertNotEquals(MaskCrop.region(mask, 128, 96, num(c.get("padding"))), crop);
        try (SafetensorsFile f = SafetensorsFile.open(resource("ops.safetensors"))) {
            assertTrue(dev.pagoda.tensor.Difference.of(crop.image(png("image160x96.png"), 128, 96), f.tensor("tall.image"))
                    .maxAbs() > 0.1);
        }
    }

    @Test
    void anAllBlackMaskOrNegativePaddingIsANamedError() {
        BufferedImage black = new BufferedImage(40, 30, BufferedImage.TYPE_BYTE_GRAY);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MaskCrop.region(black, 64, 64, 8)).getMessage()
                .contains("all black"));
        BufferedImage one = new BufferedImage(40, 30, BufferedImage.TYPE_BYTE_GRAY);
        one.getRaster().setSample(39, 29, 0, 255);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MaskCrop.region(one, 64, 64, -1)).getMessage()
                .contains("padding_mask_crop must be ≥ 0"));
        // a single pixel in a corner (diffusers' boxes): padded and clipped, then widened back inside the image
        assertEquals(new MaskCrop(35, 25, 40, 30), MaskCrop.region(one, 64, 64, 4));
        assertEquals(new MaskCrop(30, 25, 40, 30), MaskCrop.region(one, 64, 32, 4));
    }

    static int[] rgb(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
