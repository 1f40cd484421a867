package dev.pagoda.diffusion.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a {@code --pag-layers} value into patterns at commas, except commas inside regex braces
 * ({@code down_blocks.{1,2}}) or brackets, so quantifiers need no escaping.
 */
final class LayerPatterns {

    private LayerPatterns() {
    }

    static List<String> split(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int depth = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                cur.append(c).append(value.charAt(++i));
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && depth > 0) {
                depth--;
            } else if (c == ',' && depth == 0) {
                add(out, cur);
                continue;
            }
            cur.append(c);
        }
        add(out, cur);
        return out;
    }

    private static void add(List<String> out, StringBuilder cur) {
        String s = cur.toString().trim();
        if (!s.isEmpty()) {
            out.add(s);
        }
        cur.setLength(0);
    }
}
