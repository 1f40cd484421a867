package dev.pagoda.diffusion.studio;

import dev.pagoda.tensor.json.Json;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes the studio's API answers: maps, lists, strings, numbers, booleans and null as JSON text. */
final class JsonWriter {

    private JsonWriter() {
    }

    static String write(Object v) {
        StringBuilder b = new StringBuilder();
        append(b, v);
        return b.toString();
    }

    /**
     * {@link #write} with every non-ASCII character written as a JSON escape: for PNG {@code tEXt}
     * chunks, which hold Latin-1 only, so a prompt in any script survives the round trip.
     */
    static String writeAscii(Object v) {
        String s = write(v);
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                b.append(c);
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        return b.toString();
    }

    private static void append(StringBuilder b, Object v) {
        switch (v) {
            case null -> b.append("null");
            case String s -> b.append(Json.quote(s));
            case Boolean x -> b.append(x);
            case Integer x -> b.append(x);
            case Long x -> b.append(x);
            case Number x -> number(b, x.doubleValue());
            case Map<?, ?> m -> {
                b.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) {
                        b.append(',');
                    }
                    first = false;
                    b.append(Json.quote(String.valueOf(e.getKey()))).append(':');
                    append(b, e.getValue());
                }
                b.append('}');
            }
            case List<?> l -> {
                b.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) {
                        b.append(',');
                    }
                    append(b, l.get(i));
                }
                b.append(']');
            }
            default -> throw new IllegalArgumentException("no JSON form for " + v.getClass().getName());
        }
    }

    private static void number(StringBuilder b, double d) {
        if (!Double.isFinite(d)) {
            // JSON has no NaN/inf; an unknown figure (an ETA before the first step) reads as null
            b.append("null");
        } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            b.append((long) d);
        } else {
            b.append(String.format(Locale.ROOT, "%.6g", d).replaceFirst("\\.?0+(e|$)", "$1"));
        }
    }
}
