package dev.pagoda.diffusion.image;

import java.awt.image.BufferedImage;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A 3×5 pixel bitmap font for grid labels. Java2D text needs system fonts (fontconfig), which a
 * headless server or CI machine may lack; these glyphs draw the same everywhere. Letters are shown
 * in capitals; characters without a glyph are drawn as '?'.
 */
public final class LabelFont {

    private static final Map<Character, String> GLYPHS = new HashMap<>();

    static {
        String[] table = {
            "0####.##.##.####", "1.#.##..#..#.###", "2###..#####..###", "3###..#.##..####", "4#.##.####..#..#",
            "5####..###..####", "6####..####.####", "7###..#..#.#..#.", "8####.#####.####", "9####.####..####",
            "A.#.#.#####.##.#", "B##.#.###.#.###.", "C.###..#..#...##", "D##.#.##.##.###.", "E####..##.#..###",
            "F####..##.#..#..", "G.###..#.##.#.##", "H#.##.#####.##.#", "I###.#..#..#.###", "J..#..#..##.#.#.",
            "K#.##.###.#.##.#", "L#..#..#..#..###", "M#.########.##.#", "N##.#.##.##.##.#", "O.#.#.##.##.#.#.",
            "P##.#.###.#..#..", "Q.#.#.##.###..##", "R##.#.###.#.##.#", "S.###...#...###.", "T###.#..#..#..#.",
            "U#.##.##.##.####", "V#.##.##.##.#.#.", "W#.##.########.#", "X#.##.#.#.#.##.#", "Y#.##.#.#..#..#.",
            "Z###..#.#.#..###", "..............#.", ",..........#.#..", "-......###......", "_............###",
            ":....#.....#....", "=...###...###...", ";....#.....#.#..", "(..#.#..#..#...#", ")#...#..#..#.#..",
            "[.##.#..#..#..##", "]##..#..#..#.##.", "{.##.#.#...#..##", "}##..#...#.#.##.", "|.#..#..#..#..#.",
            "/..#..#.#.#..#..", "\\#..#...#...#..#", "*...#.#.#.#.#...", "+....#.###.#....", "?###..#.#.....#.",
            " ...............", "'.#..#..........", "^.#.#.#.........", "$.####..#..####.",
        };
        for (String g : table) {
            if (g.length() != 16) {
                throw new AssertionError("glyph '" + g.charAt(0) + "' has " + (g.length() - 1) + " pixels, not 15");
            }
            GLYPHS.put(g.charAt(0), g.substring(1));
        }
    }

    private LabelFont() {
    }

    /** Width in pixels of {@code text} at {@code scale} (4 columns per character: 3 + 1 space). */
    public static int width(String text, int scale) {
        return Math.max(0, text.length() * 4 - 1) * scale;
    }

    /** Height in pixels of one line at {@code scale}. */
    public static int height(int scale) {
        return 5 * scale;
    }

    /** Draws {@code text} with its top-left corner at (x, y), clipped to the image. */
    public static void draw(BufferedImage img, String text, int x, int y, int scale, int rgb) {
        String upper = text.toUpperCase(Locale.ROOT);
        for (int i = 0; i < upper.length(); i++) {
            String g = GLYPHS.getOrDefault(upper.charAt(i), GLYPHS.get('?'));
            for (int r = 0; r < 5; r++) {
                for (int c = 0; c < 3; c++) {
                    if (g.charAt(r * 3 + c) == '#') {
                        fill(img, x + (i * 4 + c) * scale, y + r * scale, scale, rgb);
                    }
                }
            }
        }
    }

    private static void fill(BufferedImage img, int x0, int y0, int s, int rgb) {
        for (int y = y0; y < y0 + s; y++) {
            for (int x = x0; x < x0 + s; x++) {
                if (x >= 0 && y >= 0 && x < img.getWidth() && y < img.getHeight()) {
                    img.setRGB(x, y, rgb);
                }
            }
        }
    }
}
