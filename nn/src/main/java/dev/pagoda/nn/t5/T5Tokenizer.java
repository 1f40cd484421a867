package dev.pagoda.nn.t5;

import dev.pagoda.nn.clip.AddedTokens;
import dev.pagoda.nn.clip.TokenizerException;
import dev.pagoda.tensor.json.Json;
import dev.pagoda.tensor.json.JsonException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * transformers' slow {@code T5Tokenizer} (v4.45, {@code legacy=True}) over a tokenizer folder with
 * {@code spiece.model} and {@code tokenizer_config.json}, as diffusers' PixArt pipelines call it
 * ({@code padding="max_length", max_length=max_sequence_length, truncation=True}).
 *
 * <p>A prompt goes through: cutting out the added tokens as typed ({@code <pad>}, {@code </s>},
 * {@code <unk>} and the {@code <extra_id_N>} sentinels, which swallow the whitespace around them);
 * SentencePiece's unigram encoding of the text between them ({@link UnigramModel}); pieces to ids;
 * then {@code </s>} appended unless the ids already end with it, truncation that keeps room for it,
 * and {@code <pad>} padding with an attention mask. The prompt is not lower-cased here: that is
 * the pipeline's caption preprocessing.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class T5Tokenizer {

    static final String SPIECE_MODEL = "spiece.model";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";

    private final Path folder;
    private final SentencePieceModel model;
    private final UnigramModel unigram;
    private final AddedTokens addedTokens;
    private final int eosId;
    private final int padId;
    private final int modelMaxLength;

    private T5Tokenizer(Path folder, SentencePieceModel model, AddedTokens addedTokens, int eosId, int padId,
            int modelMaxLength) {
        this.folder = folder;
        this.model = model;
        this.unigram = new UnigramModel(model);
        this.addedTokens = addedTokens;
        this.eosId = eosId;
        this.padId = padId;
        this.modelMaxLength = modelMaxLength;
    }

    /**
     * Reads a transformers T5 tokenizer folder ({@code spiece.model}; {@code tokenizer_config.json}
     * when present, else transformers' defaults: 100 extra ids, {@code </s>}, {@code <pad>},
     * {@code <unk>}).
     *
     * @throws TokenizerException naming the file when spiece.model is missing, truncated or not a
     *         SentencePiece unigram model, the config is malformed, asks for {@code legacy=false},
     *         or names special tokens the model has no id for
     */
    public static T5Tokenizer fromPretrained(Path folder) {
        SentencePieceModel model = SentencePieceModel.read(folder.resolve(SPIECE_MODEL));
        Path configFile = folder.resolve(TOKENIZER_CONFIG);
        Map<String, Object> config = Files.isRegularFile(configFile) ? readJson(configFile) : Map.of();
        Object legacy = config.get("legacy");
        if (legacy != null && !Boolean.TRUE.equals(legacy)) {
            throw new TokenizerException(configFile, "legacy is " + legacy
                    + "; only the legacy T5 tokenization (legacy=true, or absent as in transformers' default) is supported");
        }
        String eos = tokenContent(configFile, config, "eos_token", "</s>");
        String pad = tokenContent(configFile, config, "pad_token", "<pad>");
        String unk = tokenContent(configFile, config, "unk_token", "<unk>");
        int extraIds = integer(configFile, config, "extra_ids", 100);
        int maxLength = integer(configFile, config, "model_max_length", 512);
        List<AddedTokens.AddedToken> added = new ArrayList<>();
        Object decoder = config.get("added_tokens_decoder");
        if (decoder != null) {
            added.addAll(addedTokensDecoder(configFile, decoder));
        } else {
            for (int i = 0; i < extraIds; i++) {
                // transformers' T5Tokenizer numbers the sentinels downwards from the end of the vocabulary
                added.add(new AddedTokens.AddedToken("<extra_id_" + i + ">", model.size() - 1 + extraIds - i,
                        true, true, false));
            }
        }
        for (String special : List.of(pad, eos, unk)) {
            if (added.stream().noneMatch(t -> t.content().equals(special))) {
                int id = model.pieceToId(special);
                if (id == model.unkId() && !special.equals(unk)) {
                    throw new TokenizerException(configFile, "special token \"" + special + "\" is not a piece of "
                            + model.file().getFileName() + " nor an added token");
                }
                added.add(new AddedTokens.AddedToken(special, id, false, false, false));
            }
        }
        AddedTokens tokens = new AddedTokens(added);
        return new T5Tokenizer(folder, model, tokens, tokens.get(eos).id(), tokens.get(pad).id(), maxLength);
    }

    /** {@code tokenizer.tokenize(prompt)}: pieces and added tokens as strings. */
    public List<String> tokenize(String prompt) {
        List<String> out = new ArrayList<>();
        for (Token t : tokens(prompt)) {
            out.add(t.text);
        }
        return out;
    }

    private record Token(String text, int id) {
    }

    private List<Token> tokens(String prompt) {
        List<Token> out = new ArrayList<>();
        for (String segment : addedTokens.split(prompt)) {
            AddedTokens.AddedToken added = addedTokens.get(segment);
            if (added != null) {
                out.add(new Token(segment, added.id()));
                continue;
            }
            for (UnigramModel.Token p : unigram.encode(segment)) {
                // transformers converts the piece strings back to ids (PieceToId)
                AddedTokens.AddedToken asAdded = addedTokens.get(p.piece());
                out.add(new Token(p.piece(), asAdded != null ? asAdded.id() : model.pieceToId(p.piece())));
            }
        }
        return out;
    }

    /**
     * Encodes {@code prompt} as the PixArt pipelines do: ids with {@code </s>}, truncated to
     * {@code maxLength} and padded to exactly {@code maxLength} (300 for PixArt-Σ, 120 for PixArt-α).
     */
    public T5Encoding encode(String prompt, int maxLength) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("T5 tokenizer: maxLength must be at least 1 (room for </s>), got "
                    + maxLength);
        }
        List<Token> tokens = tokens(prompt);
        int[] ids = tokens.stream().mapToInt(Token::id).toArray();
        int[] untruncated = withEos(ids);
        int[] kept = withEos(ids.length > maxLength - 1 ? Arrays.copyOf(ids, maxLength - 1) : ids);
        int[] padded = new int[maxLength];
        int[] mask = new int[maxLength];
        Arrays.fill(padded, padId);
        System.arraycopy(kept, 0, padded, 0, kept.length);
        Arrays.fill(mask, 0, kept.length, 1);
        List<String> pieces = new ArrayList<>(tokens.size());
        for (Token t : tokens) {
            pieces.add(t.text);
        }
        return new T5Encoding(padded, mask, untruncated, pieces);
    }

    /** transformers' {@code _add_eos_if_not_present}. */
    private int[] withEos(int[] ids) {
        if (ids.length > 0 && ids[ids.length - 1] == eosId) {
            return ids;
        }
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eosId;
        return out;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public int unkId() {
        return model.unkId();
    }

    /** {@code model_max_length} from the config (512 for T5); pipelines pass their own length. */
    public int modelMaxLength() {
        return modelMaxLength;
    }

    public SentencePieceModel sentencePieceModel() {
        return model;
    }

    public Path folder() {
        return folder;
    }

    @Override
    public String toString() {
        return "T5Tokenizer[" + folder + ", " + model.size() + " pieces]";
    }

    // ---------------------------------------------------------------- config reading

    private static Map<String, Object> readJson(Path file) {
        try {
            return Json.parseObject(Files.readString(file));
        } catch (IOException e) {
            throw new TokenizerException(file, "cannot read: " + e.getMessage(), e);
        } catch (JsonException e) {
            throw new TokenizerException(file, "malformed JSON: " + e.getMessage(), e);
        }
    }

    private static String tokenContent(Path file, Map<String, Object> config, String key, String dflt) {
        Object v = config.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof String s && !s.isEmpty()) {
            return s;
        }
        if (v instanceof Map<?, ?> m && m.get("content") instanceof String s && !s.isEmpty()) {
            return s;
        }
        throw new TokenizerException(file, key + " is " + Json.typeName(v) + "; expected a token string or an AddedToken object");
    }

    private static int integer(Path file, Map<String, Object> config, String key, int dflt) {
        Object v = config.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Long n && n >= 0 && n <= Integer.MAX_VALUE) {
            return n.intValue();
        }
        if (v instanceof Number n && key.equals("model_max_length")) {
            // transformers writes a huge float (1e30) when a tokenizer has no limit
            return Integer.MAX_VALUE;
        }
        throw new TokenizerException(file, key + " is " + v + "; expected a non-negative integer");
    }

    private static List<AddedTokens.AddedToken> addedTokensDecoder(Path file, Object value) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new TokenizerException(file, "added_tokens_decoder is " + Json.typeName(value)
                    + "; expected an object of id -> token");
        }
        List<AddedTokens.AddedToken> tokens = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = (String) e.getKey();
            String where = "added_tokens_decoder[\"" + key + "\"]";
            int id;
            try {
                id = Integer.parseInt(key);
            } catch (NumberFormatException ex) {
                throw new TokenizerException(file, where + ": the key is not a token id");
            }
            if (id < 0 || !(e.getValue() instanceof Map<?, ?> t) || !(t.get("content") instanceof String content)
                    || content.isEmpty()) {
                throw new TokenizerException(file, where + " must be an AddedToken object with a non-empty content"
                        + " under a non-negative id");
            }
            tokens.add(new AddedTokens.AddedToken(content, id, flag(file, where, t, "lstrip"),
                    flag(file, where, t, "rstrip"), flag(file, where, t, "single_word")));
        }
        return tokens;
    }

    private static boolean flag(Path file, String where, Map<?, ?> token, String key) {
        Object v = token.get(key);
        if (v == null) {
            return false;
        }
        if (!(v instanceof Boolean b)) {
            throw new TokenizerException(file, where + "." + key + " is " + Json.typeName(v) + "; expected true or false");
        }
        return b;
    }
}
