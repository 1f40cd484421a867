package dev.pagoda.nn.clip;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Byte-pair encoding of one pre-tokenised word with CLIP's merge table: the word's last symbol
 * carries the {@code </w>} end-of-word marker, and the adjacent pair with the lowest merge rank
 * is merged everywhere (left to right, non-overlapping) until no ranked pair is left. Results are
 * kept in a bounded, thread-safe cache, since prompts repeat the same words.
 */
final class BytePairEncoder {

    /** End-of-word marker appended to the last symbol of every word. */
    static final String END_OF_WORD = "</w>";

    /**
     * transformers' CLIPTokenizer keeps only the first 49152 - 256 - 2 merges of merges.txt (the
     * original CLIP vocabulary is 256 bytes + 256 end-of-word bytes + merges + 2 specials); a
     * longer file's extra merges are ignored there, and so here.
     */
    static final int MAX_MERGES = 49152 - 256 - 2;

    private static final int CACHE_CAPACITY = 16_384;

    private final Map<String, Integer> ranks;
    private final Map<String, List<String>> cache;

    private BytePairEncoder(Map<String, Integer> ranks) {
        this.ranks = ranks;
        this.cache = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, List<String>> eldest) {
                return size() > CACHE_CAPACITY;
            }
        });
    }

    /**
     * Reads merges.txt: a {@code #version} header line, then one merge per line ("left right"),
     * rank = position after the header.
     */
    static BytePairEncoder read(Path mergesFile) {
        String text;
        try {
            byte[] bytes = Files.readAllBytes(mergesFile);
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (NoSuchFileException e) {
            throw new TokenizerException(mergesFile, "merges file not found (a CLIP tokenizer folder needs merges.txt)", e);
        } catch (CharacterCodingException e) {
            throw new TokenizerException(mergesFile, "merges file is not valid UTF-8", e);
        } catch (IOException e) {
            throw new TokenizerException(mergesFile, "cannot read merges file: " + e.getMessage(), e);
        }
        String[] lines = text.strip().split("\n", -1);
        if (lines.length == 0 || !lines[0].startsWith("#version")) {
            throw new TokenizerException(mergesFile, "expected a '#version' header on the first line, found \""
                    + abbreviate(lines.length == 0 ? "" : lines[0]) + "\"");
        }
        Map<String, Integer> ranks = new HashMap<>(Math.min(lines.length, MAX_MERGES + 1) * 2);
        int merges = Math.min(lines.length - 1, MAX_MERGES);
        for (int rank = 0; rank < merges; rank++) {
            String line = lines[rank + 1];
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            String[] pair = line.strip().split("\\s+");
            if (pair.length != 2) {
                throw new TokenizerException(mergesFile, "line " + (rank + 2) + ": expected two symbols separated by a space, found \""
                        + abbreviate(line) + "\"");
            }
            // A repeated pair takes its later rank, as building a dict from the lines does.
            ranks.put(key(pair[0], pair[1]), rank);
        }
        return new BytePairEncoder(ranks);
    }

    /** Number of cached words (bounded by the cache capacity). */
    int cachedWords() {
        return cache.size();
    }

    static int cacheCapacity() {
        return CACHE_CAPACITY;
    }

    /** Number of merges in use. */
    int size() {
        return ranks.size();
    }

    /**
     * The BPE symbols of one word written in the byte-level alphabet; the last symbol ends with
     * {@code </w>}.
     */
    List<String> encode(String word) {
        if (word.isEmpty()) {
            throw new IllegalArgumentException("BytePairEncoder.encode: empty word");
        }
        List<String> cached = cache.get(word);
        if (cached != null) {
            return cached;
        }
        List<String> symbols = merge(word);
        cache.put(word, symbols);
        return symbols;
    }

    private List<String> merge(String word) {
        // Byte-level words are BMP characters only, so one char is one initial symbol.
        List<String> symbols = new ArrayList<>(word.length());
        for (int i = 0; i < word.length() - 1; i++) {
            symbols.add(String.valueOf(word.charAt(i)));
        }
        symbols.add(word.charAt(word.length() - 1) + END_OF_WORD);
        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer rank = ranks.get(key(symbols.get(i), symbols.get(i + 1)));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    first = symbols.get(i);
                    second = symbols.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(first) && symbols.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }
        return List.copyOf(symbols);
    }

    private static String key(String first, String second) {
        return first + ' ' + second;
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }
}
