package dev.pagoda.nn.attention;

import dev.pagoda.nn.Module;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which self-attention modules get perturbed-attention guidance ({@code pag_applied_layers}).
 *
 * <p>Default ({@link Mode#DIFFUSERS}) is exactly diffusers 0.31: every entry is a regular expression
 * searched (not fully matched) in the dotted name of every self-attention {@link Attention} of the
 * denoiser; a module is selected when any entry is found in its name, unless the last dotted part of
 * the entry and of the name are equal numbers (diffusers' guard against "fake integral matches",
 * which never fires for names ending in {@code attn1}). An entry that selects nothing is an error.
 * So {@code "blocks.1"} over-matches ({@code down_blocks.1}, {@code up_blocks.1}, every
 * {@code transformer_blocks.1}), and {@code "blocks.1$"} matches nothing.
 *
 * <p>Two extras, both outside diffusers:
 * <ul>
 *   <li>the caption syntax of the PAG paper's figures is accepted as an alias:
 *       {@code down.block_2} = {@code down_blocks.2}, {@code up.block_1.attentions_0} =
 *       {@code up_blocks.1.attentions.0}, {@code mid.block_0} = {@code mid_block};</li>
 *   <li>{@link Mode#STRICT}: an entry is a literal dotted path (no regex) that must start at the
 *       top-level block list and end on a dot boundary, so {@code blocks.1} means block 1 of the
 *       top-level lists ({@code down_blocks.1}, {@code up_blocks.1}, or PixArt's
 *       {@code transformer_blocks.1}) and not {@code blocks.10}–{@code 19} or every nested
 *       {@code transformer_blocks.1}; {@code mid} means {@code mid_block}.</li>
 * </ul>
 */
public final class PagLayers {

    public enum Mode { DIFFUSERS, STRICT }

    private static final Pattern CAPTION = Pattern.compile("(down|up|mid)\\.block_(\\d+)((?:\\.[a-z]+_\\d+)*)");

    private PagLayers() {
    }

    /** Every self-attention module of {@code denoiser} by dotted name, in module order. */
    public static Map<String, Attention> selfAttentions(Module denoiser) {
        Map<String, Attention> out = new LinkedHashMap<>();
        denoiser.namedModules().forEach((name, m) -> {
            if (m instanceof Attention a && !a.isCrossAttention()) {
                out.put(name, a);
            }
        });
        return out;
    }

    /** The names selected by {@code patterns} in diffusers mode. */
    public static List<String> select(Module denoiser, List<String> patterns) {
        return select(denoiser, patterns, Mode.DIFFUSERS);
    }

    /**
     * The names of the self-attention modules selected by {@code patterns} (their union, in module
     * order).
     *
     * @throws IllegalArgumentException "Cannot find PAG layer to set attention processor for: s" for an
     *                                  entry that selects nothing, or for an invalid regular expression
     */
    public static List<String> select(Module denoiser, List<String> patterns, Mode mode) {
        return select(selfAttentions(denoiser).keySet(), patterns, mode);
    }

    /** The selection among the given self-attention module names (in their order). */
    public static List<String> select(java.util.Collection<String> selfAttentionNames, List<String> patterns,
            Mode mode) {
        java.util.Set<String> chosen = new java.util.HashSet<>();
        for (String raw : patterns) {
            String entry = alias(raw);
            List<String> hits = new ArrayList<>();
            if (mode == Mode.STRICT) {
                for (String name : selfAttentionNames) {
                    if (strictMatch(entry.equals("mid") ? "mid_block" : entry, name)) {
                        hits.add(name);
                    }
                }
            } else {
                Pattern p;
                try {
                    p = Pattern.compile(entry);
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException("invalid PAG layer pattern \"" + raw + "\": " + e.getDescription());
                }
                for (String name : selfAttentionNames) {
                    Matcher m = p.matcher(name);
                    if (m.find() && !fakeIntegralMatch(entry, name)) {
                        hits.add(name);
                    }
                }
            }
            if (hits.isEmpty()) {
                throw new IllegalArgumentException("Cannot find PAG layer to set attention processor for: " + raw);
            }
            chosen.addAll(hits);
        }
        List<String> out = new ArrayList<>();
        for (String name : selfAttentionNames) {
            if (chosen.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }

    /** The modules {@code patterns} select, in module order (for a {@link PagPlan}). */
    public static List<Attention> modules(Module denoiser, List<String> patterns, Mode mode) {
        Map<String, Attention> attns = selfAttentions(denoiser);
        return select(attns.keySet(), patterns, mode).stream().map(attns::get).toList();
    }

    /** Rewrites the caption syntax ({@code up.block_1.attentions_0}) to module paths; other text unchanged. */
    static String alias(String entry) {
        Matcher m = CAPTION.matcher(entry);
        if (!m.matches()) {
            return entry;
        }
        String head = m.group(1).equals("mid") ? "mid_block" : m.group(1) + "_blocks." + m.group(2);
        String rest = m.group(3).replaceAll("_(\\d+)", ".$1");
        return head + rest;
    }

    private static boolean fakeIntegralMatch(String entry, String name) {
        String a = entry.substring(entry.lastIndexOf('.') + 1);
        String b = name.substring(name.lastIndexOf('.') + 1);
        return isNumeric(a) && isNumeric(b) && a.equals(b);
    }

    private static boolean isNumeric(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }

    private static boolean strictMatch(String entry, String name) {
        int start;
        if (name.startsWith(entry)) {
            start = 0;
        } else {
            // the entry may name the top-level list by its suffix: "blocks.1" for "down_blocks.1"
            int dot = name.indexOf('.');
            String first = dot < 0 ? name : name.substring(0, dot);
            int us = first.lastIndexOf('_');
            if (us < 0 || !name.startsWith(entry, us + 1)) {
                return false;
            }
            start = us + 1;
        }
        int end = start + entry.length();
        return end == name.length() || name.charAt(end) == '.';
    }

    /** A layer setting as the PNG metadata writes it: {@code "mid,down_blocks.2"}, plus {@code " (strict)"} in strict mode. */
    public static String describe(List<String> patterns, Mode mode) {
        return String.join(",", patterns) + (mode == Mode.STRICT ? " (strict)" : "");
    }
}
