package dev.pagoda.nn.clip;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What tokenizer_config.json and special_tokens_map.json say, resolved the way transformers
 * (v4.45) loads a slow CLIPTokenizer:
 * <ul>
 *   <li>special tokens (bos/eos/unk/pad/sep/cls/mask, additional_special_tokens) are a string or
 *       an AddedToken object {@code {"content": ..., "lstrip": ..., ...}}; bos/eos/unk/pad default
 *       to CLIP's {@code <|startoftext|>} / {@code <|endoftext|>};</li>
 *   <li>when tokenizer_config.json has {@code added_tokens_decoder}, that table gives the added
 *       tokens with their ids and flags, and special_tokens_map.json is not consulted (it is still
 *       parsed, so a corrupt file is reported);</li>
 *   <li>without it (older folders), special_tokens_map.json's entries override the config's.</li>
 * </ul>
 *
 * @param modelMaxLength sequence length the model takes, bos and eos included
 * @param specialTokens attribute name ({@code bos_token}, ...) to token; a null content means the
 *        attribute was explicitly null
 * @param additionalSpecialTokens {@code additional_special_tokens}
 * @param addedTokensDecoder the {@code added_tokens_decoder} entries, or null when the file has none
 * @param cleanUpTokenizationSpaces whether decoding removes spaces before punctuation
 */
record ClipTokenizerConfig(int modelMaxLength, Map<String, SpecialToken> specialTokens,
        List<SpecialToken> additionalSpecialTokens, List<AddedTokens.AddedToken> addedTokensDecoder,
        boolean cleanUpTokenizationSpaces) {

    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";

    /** Special-token attributes in transformers' order. */
    static final List<String> SPECIAL_TOKEN_NAMES =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    private static final Map<String, String> CLIP_DEFAULTS = Map.of(
            "bos_token", "<|startoftext|>",
            "eos_token", "<|endoftext|>",
            "unk_token", "<|endoftext|>",
            "pad_token", "<|endoftext|>");

    /**
     * A special token: the attribute that names it ({@code pad_token}, ...), its text (null for an
     * explicit JSON null), whitespace flags, and the file that defined it.
     */
    record SpecialToken(String attribute, String content, boolean lstrip, boolean rstrip, boolean singleWord,
            Path source) {
    }

    static ClipTokenizerConfig read(Path folder) {
        Path configFile = folder.resolve(TOKENIZER_CONFIG);
        Map<String, Object> config = TokenizerJsonFile.readObject(configFile, "tokenizer config (tokenizer_config.json)");
        Path mapFile = folder.resolve(SPECIAL_TOKENS_MAP);
        Map<String, Object> specialMap = Files.exists(mapFile)
                ? TokenizerJsonFile.readObject(mapFile, "special tokens map (special_tokens_map.json)")
                : Map.of();

        int maxLength = modelMaxLength(configFile, config.get("model_max_length"));

        List<AddedTokens.AddedToken> decoder = null;
        if (config.containsKey("added_tokens_decoder")) {
            decoder = addedTokensDecoder(configFile, config.get("added_tokens_decoder"));
        } else if (Files.exists(folder.resolve("added_tokens.json"))) {
            throw new TokenizerException(folder.resolve("added_tokens.json"),
                    "legacy added_tokens.json is not supported; expected the tokens in tokenizer_config.json's added_tokens_decoder");
        }

        Map<String, SpecialToken> special = new LinkedHashMap<>();
        List<SpecialToken> additional = new ArrayList<>();
        for (String name : SPECIAL_TOKEN_NAMES) {
            boolean fromMap = decoder == null && specialMap.containsKey(name);
            Path source = fromMap ? mapFile : configFile;
            Map<String, Object> json = fromMap ? specialMap : config;
            if (json.containsKey(name)) {
                special.put(name, specialToken(source, name, json.get(name)));
            } else if (CLIP_DEFAULTS.containsKey(name)) {
                special.put(name, new SpecialToken(name, CLIP_DEFAULTS.get(name), false, false, false, configFile));
            }
        }
        String additionalKey = "additional_special_tokens";
        boolean additionalFromMap = decoder == null && specialMap.containsKey(additionalKey);
        Object additionalJson = additionalFromMap ? specialMap.get(additionalKey) : config.get(additionalKey);
        Path additionalSource = additionalFromMap ? mapFile : configFile;
        if (additionalJson instanceof List<?> list) {
            for (Object o : list) {
                SpecialToken t = specialToken(additionalSource, additionalKey, o);
                if (t.content() == null) {
                    throw new TokenizerException(additionalSource, additionalKey + " contains null; expected token strings");
                }
                additional.add(t);
            }
        } else if (additionalJson != null) {
            throw new TokenizerException(additionalSource, additionalKey + " is " + typeName(additionalJson)
                    + "; expected an array of tokens");
        }

        Object cleanUp = config.getOrDefault("clean_up_tokenization_spaces", Boolean.TRUE);
        if (!(cleanUp instanceof Boolean clean)) {
            throw new TokenizerException(configFile, "clean_up_tokenization_spaces is " + typeName(cleanUp) + "; expected true or false");
        }
        return new ClipTokenizerConfig(maxLength, special, List.copyOf(additional), decoder, clean);
    }

    private static int modelMaxLength(Path file, Object value) {
        if (value == null) {
            throw new TokenizerException(file, "model_max_length is missing; expected the text encoder's sequence length (77 for CLIP)");
        }
        if (!(value instanceof Long n) || n < 2 || n > 1_000_000) {
            throw new TokenizerException(file, "model_max_length is " + value
                    + "; expected an integer between 2 (bos + eos) and 1000000");
        }
        return n.intValue();
    }

    private static List<AddedTokens.AddedToken> addedTokensDecoder(Path file, Object value) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new TokenizerException(file, "added_tokens_decoder is " + typeName(value) + "; expected an object of id -> token");
        }
        List<AddedTokens.AddedToken> tokens = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = (String) e.getKey();
            int id;
            try {
                id = Integer.parseInt(key);
            } catch (NumberFormatException ex) {
                throw new TokenizerException(file, "added_tokens_decoder key \"" + key + "\" is not a token id");
            }
            if (id < 0) {
                throw new TokenizerException(file, "added_tokens_decoder key \"" + key + "\" is negative");
            }
            String where = "added_tokens_decoder[\"" + key + "\"]";
            if (!(e.getValue() instanceof Map<?, ?>)) {
                throw new TokenizerException(file, where + " is " + typeName(e.getValue()) + "; expected an AddedToken object");
            }
            SpecialToken t = specialToken(file, where, e.getValue());
            if (t.content() == null || t.content().isEmpty()) {
                throw new TokenizerException(file, where + " has no content");
            }
            tokens.add(new AddedTokens.AddedToken(t.content(), id, t.lstrip(), t.rstrip(), t.singleWord()));
        }
        return List.copyOf(tokens);
    }

    private static SpecialToken specialToken(Path file, String name, Object value) {
        if (value == null) {
            return new SpecialToken(name, null, false, false, false, file);
        }
        if (value instanceof String s) {
            return new SpecialToken(name, s, false, false, false, file);
        }
        if (value instanceof Map<?, ?> m) {
            if (!(m.get("content") instanceof String content)) {
                throw new TokenizerException(file, name + ".content is " + typeName(m.get("content")) + "; expected a string");
            }
            return new SpecialToken(name, content, flag(file, name, m, "lstrip"), flag(file, name, m, "rstrip"),
                    flag(file, name, m, "single_word"), file);
        }
        throw new TokenizerException(file, name + " is " + typeName(value) + "; expected a string or an AddedToken object");
    }

    private static boolean flag(Path file, String name, Map<?, ?> token, String key) {
        Object v = token.get(key);
        if (v == null) {
            return false;
        }
        if (!(v instanceof Boolean b)) {
            throw new TokenizerException(file, name + "." + key + " is " + typeName(v) + "; expected true or false");
        }
        return b;
    }

    private static String typeName(Object v) {
        return dev.pagoda.tensor.json.Json.typeName(v);
    }
}
