package dev.pagoda.nn;

import java.util.List;

/** Weights that do not fit the architecture: every missing, unexpected and mis-shaped key, by name. */
public class WeightLoadException extends RuntimeException {

    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> mismatched;

    public WeightLoadException(String source, List<String> missing, List<String> unexpected,
            List<String> mismatched) {
        super(message(source, missing, unexpected, mismatched));
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.mismatched = List.copyOf(mismatched);
    }

    private static String message(String source, List<String> missing, List<String> unexpected,
            List<String> mismatched) {
        StringBuilder b = new StringBuilder("weights in " + source + " do not match the model:");
        append(b, "missing", missing);
        append(b, "unexpected", unexpected);
        append(b, "shape mismatch", mismatched);
        return b.toString();
    }

    private static void append(StringBuilder b, String what, List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        b.append("\n  ").append(what).append(" (").append(keys.size()).append("): ");
        int shown = Math.min(keys.size(), 20);
        b.append(String.join(", ", keys.subList(0, shown)));
        if (shown < keys.size()) {
            b.append(", … ").append(keys.size() - shown).append(" more");
        }
    }

    public List<String> missing() {
        return missing;
    }

    public List<String> unexpected() {
        return unexpected;
    }

    public List<String> mismatched() {
        return mismatched;
    }
}
