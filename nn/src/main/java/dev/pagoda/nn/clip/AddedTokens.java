package dev.pagoda.nn.clip;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer's added tokens (the special tokens and anything in {@code added_tokens_decoder}),
 * which are cut out of the raw prompt before any normalisation, exactly as transformers' slow
 * tokenizers do: matching is case-sensitive on the text as typed, the leftmost match wins and,
 * among matches starting at the same place, the longest. The text between matches is tokenized
 * normally; the matches become single tokens. Shared by the CLIP and T5 tokenizers.
 */
public final class AddedTokens {

    /**
     * One added token with the whitespace behaviour of transformers' {@code AddedToken}:
     * {@code lstrip}/{@code rstrip} swallow the whitespace on that side, and a
     * {@code singleWord} token only counts when it is not glued to other text.
     */
    public record AddedToken(String content, int id, boolean lstrip, boolean rstrip, boolean singleWord) {
        public AddedToken {
            if (content.isEmpty()) {
                throw new IllegalArgumentException("AddedToken: empty content");
            }
        }
    }

    private final Map<String, AddedToken> byContent;
    private final Map<Integer, AddedToken> byId;
    /** Candidates per first character, longest first. */
    private final Map<Character, List<String>> byFirstChar;

    public AddedTokens(List<AddedToken> tokens) {
        Map<String, AddedToken> contents = new LinkedHashMap<>();
        Map<Integer, AddedToken> ids = new HashMap<>();
        Map<Character, List<String>> first = new HashMap<>();
        for (AddedToken t : tokens) {
            if (contents.containsKey(t.content())) {
                continue;
            }
            contents.put(t.content(), t);
            ids.put(t.id(), t);
            first.computeIfAbsent(t.content().charAt(0), k -> new ArrayList<>()).add(t.content());
        }
        for (List<String> candidates : first.values()) {
            candidates.sort(Comparator.comparingInt(String::length).reversed());
        }
        this.byContent = Collections.unmodifiableMap(contents);
        this.byId = Map.copyOf(ids);
        this.byFirstChar = first;
    }

    public AddedToken get(String content) {
        return byContent.get(content);
    }

    AddedToken byId(int id) {
        return byId.get(id);
    }

    public boolean contains(String content) {
        return byContent.containsKey(content);
    }

    /**
     * Splits {@code text} into pieces that are either exactly an added token's content or plain
     * text for the BPE path, applying each token's strip and single-word rules to its
     * neighbours. Empty pieces are dropped.
     */
    public List<String> split(String text) {
        List<String> pieces = cut(text);
        for (int i = 0; i < pieces.size(); i++) {
            AddedToken t = byContent.get(pieces.get(i));
            if (t == null) {
                continue;
            }
            // The neighbours as they were before this token's rules ran (the reference reads
            // them once, then edits the list).
            String left = i > 0 ? pieces.get(i - 1) : null;
            String right = i < pieces.size() - 1 ? pieces.get(i + 1) : null;
            if (t.rstrip() && right != null && !right.isEmpty()) {
                pieces.set(i + 1, ClipTextNormalizer.pythonLstrip(right));
            }
            if (t.lstrip() && left != null && !left.isEmpty()) {
                pieces.set(i - 1, ClipTextNormalizer.pythonRstrip(left));
            }
            if (t.singleWord() && left != null && !left.isEmpty() && !left.endsWith(" ")) {
                pieces.set(i - 1, pieces.get(i - 1) + pieces.get(i));
                pieces.set(i, "");
            } else if (t.singleWord() && right != null && !right.isEmpty() && !right.startsWith(" ")) {
                pieces.set(i + 1, pieces.get(i) + pieces.get(i + 1));
                pieces.set(i, "");
            }
        }
        pieces.removeIf(String::isEmpty);
        return pieces;
    }

    private List<String> cut(String text) {
        List<String> pieces = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            String match = null;
            List<String> candidates = byFirstChar.get(text.charAt(i));
            // Python indexes strings by code point, so a match never starts inside a surrogate pair.
            boolean boundary = i == 0 || !Character.isLowSurrogate(text.charAt(i)) || !Character.isHighSurrogate(text.charAt(i - 1));
            if (candidates != null && boundary) {
                for (String c : candidates) {
                    if (text.startsWith(c, i)) {
                        match = c;
                        break;
                    }
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            if (i > start) {
                pieces.add(text.substring(start, i));
            }
            pieces.add(match);
            i += match.length();
            start = i;
        }
        if (start < text.length()) {
            pieces.add(text.substring(start));
        }
        return pieces;
    }
}
