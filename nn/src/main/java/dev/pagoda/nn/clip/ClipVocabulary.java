package dev.pagoda.nn.clip;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** vocab.json: BPE token (in the byte-level alphabet) to id, and back. */
final class ClipVocabulary {

    private final Map<String, Integer> ids;
    private final String[] tokens;

    private ClipVocabulary(Map<String, Integer> ids, String[] tokens) {
        this.ids = ids;
        this.tokens = tokens;
    }

    static ClipVocabulary read(Path file) {
        Map<String, Object> json = TokenizerJsonFile.readObject(file, "vocabulary file (vocab.json)");
        if (json.isEmpty()) {
            throw new TokenizerException(file, "vocabulary is empty; expected an object mapping tokens to ids");
        }
        Map<String, Integer> ids = new HashMap<>(json.size() * 2);
        int maxId = -1;
        for (Map.Entry<String, Object> e : json.entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id > Integer.MAX_VALUE - 8) {
                throw new TokenizerException(file, "token \"" + e.getKey() + "\" has id " + e.getValue()
                        + "; expected a non-negative integer id");
            }
            ids.put(e.getKey(), id.intValue());
            maxId = Math.max(maxId, id.intValue());
        }
        if (maxId >= json.size()) {
            throw new TokenizerException(file, "ids must be 0.." + (json.size() - 1) + " for " + json.size()
                    + " tokens, found id " + maxId);
        }
        String[] tokens = new String[json.size()];
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            if (tokens[e.getValue()] != null) {
                throw new TokenizerException(file, "id " + e.getValue() + " is used by both \"" + tokens[e.getValue()]
                        + "\" and \"" + e.getKey() + "\"");
            }
            tokens[e.getValue()] = e.getKey();
        }
        return new ClipVocabulary(ids, tokens);
    }

    /** Number of entries; ids are 0..size-1. */
    int size() {
        return tokens.length;
    }

    /** The id of {@code token}, or -1. */
    int id(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    /** The token with {@code id}, or null. */
    String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }
}
