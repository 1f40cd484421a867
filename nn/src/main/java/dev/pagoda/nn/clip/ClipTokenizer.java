package dev.pagoda.nn.clip;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's byte-level BPE tokenizer, read from a diffusers {@code tokenizer/} folder and matching
 * transformers' slow {@code CLIPTokenizer} (v4.45) without ftfy, as diffusers' SDXL pipeline
 * calls it ({@code padding="max_length", truncation=True}).
 *
 * <p>A prompt goes through: cutting out added/special tokens as typed ({@link AddedTokens});
 * for the text between them, {@link ClipTextNormalizer} (clean-up, CJK spacing, NFC, lower case),
 * CLIP's pre-tokenisation pattern, UTF-8 bytes in the byte-level alphabet, and BPE
 * ({@link BytePairEncoder}); then bos + ids + eos, truncated to {@code model_max_length} keeping
 * bos and eos, and padded with the folder's pad token.
 *
 * <p>Instances are immutable apart from the BPE cache and safe to share between threads.
 */
public final class ClipTokenizer {

    private static final System.Logger LOG = System.getLogger(ClipTokenizer.class.getName());

    /**
     * transformers' pattern {@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+}
     * compiled by the Python {@code regex} module with IGNORECASE, translated class by class:
     * case-insensitivity only changes the literal alternatives (e.g. {@code 'ſ} matches {@code 's});
     * {@code \s} is that module's Unicode whitespace; and U+0345 (combining ypogegrammeni, whose
     * case partner is the letter iota) is in neither [\p{L}] nor the negated class there, so it
     * matches no alternative and is dropped.
     */
    private static final Pattern PRE_TOKENIZER = Pattern.compile(
            "(?iu:<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d)"
                    + "|\\p{L}+"
                    + "|\\p{N}"
                    + "|[^\\t\\n\\x0B\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
                    + "\\p{L}\\p{N}\\x{345}]+");

    /** Words the reference's BPE cache is seeded with: they stay whole, without {@code </w>}. */
    private static final Set<String> WHOLE_WORDS = Set.of("<|startoftext|>", "<|endoftext|>");

    private final Path folder;
    private final ClipVocabulary vocab;
    private final BytePairEncoder bpe;
    private final AddedTokens addedTokens;
    private final int maxLength;
    private final int bosId;
    private final int eosId;
    private final int padId;
    /** -1 when the folder has no unk token. */
    private final int unkId;
    /** Special-token strings and ids (bos, eos, unk, pad, ..., additional). */
    private final Set<String> specialTokens;
    private final Set<Integer> specialIds;
    private final boolean cleanUpTokenizationSpaces;

    private ClipTokenizer(Path folder, ClipVocabulary vocab, BytePairEncoder bpe, AddedTokens addedTokens,
            int maxLength, int bosId, int eosId, int padId, int unkId, Set<String> specialTokens,
            Set<Integer> specialIds, boolean cleanUpTokenizationSpaces) {
        this.folder = folder;
        this.vocab = vocab;
        this.bpe = bpe;
        this.addedTokens = addedTokens;
        this.maxLength = maxLength;
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
        this.unkId = unkId;
        this.specialTokens = specialTokens;
        this.specialIds = specialIds;
        this.cleanUpTokenizationSpaces = cleanUpTokenizationSpaces;
    }

    /**
     * Reads a diffusers/transformers tokenizer folder: vocab.json, merges.txt,
     * tokenizer_config.json and (when present) special_tokens_map.json.
     *
     * @throws TokenizerException for a missing or malformed file, or special tokens the
     *         vocabulary cannot give an id to; the message names the file
     */
    public static ClipTokenizer fromFolder(Path folder) {
        return fromFolder(folder, folder);
    }

    /**
     * As {@link #fromFolder(Path)}, with vocab.json and merges.txt read from {@code bpeFolder}: every
     * Stable Diffusion tokenizer shares OpenAI CLIP's BPE files and differs only in its config files.
     */
    public static ClipTokenizer fromFolder(Path folder, Path bpeFolder) {
        Path vocabFile = bpeFolder.resolve("vocab.json");
        ClipVocabulary vocab = ClipVocabulary.read(vocabFile);
        BytePairEncoder bpe = BytePairEncoder.read(bpeFolder.resolve("merges.txt"));
        ClipTokenizerConfig config = ClipTokenizerConfig.read(folder);

        List<AddedTokens.AddedToken> added = new ArrayList<>();
        Set<String> addedContents = new HashSet<>();
        if (config.addedTokensDecoder() != null) {
            for (AddedTokens.AddedToken t : config.addedTokensDecoder()) {
                if (t.id() >= vocab.size()) {
                    throw new TokenizerException(folder.resolve(ClipTokenizerConfig.TOKENIZER_CONFIG), "added token \""
                            + t.content() + "\" has id " + t.id() + ", outside vocab.json's " + vocab.size()
                            + " ids (the text encoder has no embedding for it)");
                }
                added.add(t);
                addedContents.add(t.content());
            }
        }
        List<ClipTokenizerConfig.SpecialToken> specials = new ArrayList<>(config.specialTokens().values());
        specials.addAll(config.additionalSpecialTokens());
        Set<String> specialTokens = new HashSet<>();
        for (ClipTokenizerConfig.SpecialToken s : specials) {
            if (s.content() == null) {
                continue;
            }
            specialTokens.add(s.content());
            if (addedContents.add(s.content())) {
                int id = vocab.id(s.content());
                if (id < 0) {
                    throw new TokenizerException(s.source(), s.attribute() + " \"" + s.content() + "\" is not in "
                            + vocabFile + "; expected a token of the vocabulary");
                }
                added.add(new AddedTokens.AddedToken(s.content(), id, s.lstrip(), s.rstrip(), s.singleWord()));
            }
        }
        AddedTokens addedTokens = new AddedTokens(added);
        int bos = requiredId(config, "bos_token", addedTokens);
        int eos = requiredId(config, "eos_token", addedTokens);
        int pad = requiredId(config, "pad_token", addedTokens);
        ClipTokenizerConfig.SpecialToken unk = config.specialTokens().get("unk_token");
        int unkId = unk.content() == null ? -1 : addedTokens.get(unk.content()).id();
        Set<Integer> specialIds = new HashSet<>();
        for (String s : specialTokens) {
            specialIds.add(addedTokens.get(s).id());
        }
        return new ClipTokenizer(folder, vocab, bpe, addedTokens, config.modelMaxLength(), bos, eos, pad, unkId,
                Set.copyOf(specialTokens), Set.copyOf(specialIds), config.cleanUpTokenizationSpaces());
    }

    private static int requiredId(ClipTokenizerConfig config, String name, AddedTokens addedTokens) {
        ClipTokenizerConfig.SpecialToken t = config.specialTokens().get(name);
        if (t.content() == null) {
            throw new TokenizerException(t.source(), name + " is null; the SDXL pipeline needs bos, eos and pad tokens");
        }
        return addedTokens.get(t.content()).id();
    }

    /**
     * Tokenizes {@code prompt} as the SDXL pipeline does. A prompt with more than
     * {@code maxLength - 2} tokens is truncated and a warning names the dropped text.
     */
    public ClipEncoding encode(String prompt) {
        Objects.requireNonNull(prompt, "prompt");
        List<String> tokens = tokenize(prompt);
        int[] untruncated = new int[tokens.size() + 2];
        untruncated[0] = bosId;
        for (int i = 0; i < tokens.size(); i++) {
            untruncated[i + 1] = tokenId(tokens.get(i));
        }
        untruncated[untruncated.length - 1] = eosId;

        int[] ids = new int[maxLength];
        int kept = Math.min(tokens.size(), maxLength - 2);
        ids[0] = bosId;
        System.arraycopy(untruncated, 1, ids, 1, kept);
        ids[kept + 1] = eosId;
        Arrays.fill(ids, kept + 2, maxLength, padId);
        if (kept < tokens.size()) {
            // diffusers decodes untruncated[maxLength - 1 : -1], i.e. every dropped token but the final eos.
            String dropped = decode(Arrays.copyOfRange(untruncated, maxLength - 1, untruncated.length - 1));
            LOG.log(System.Logger.Level.WARNING, "The following part of your input was truncated because CLIP can only"
                    + " handle sequences up to " + maxLength + " tokens: " + dropped);
        }
        return new ClipEncoding(ids, untruncated, tokens);
    }

    /**
     * The token strings of {@code prompt}, without bos/eos: BPE symbols in the byte-level
     * alphabet and added tokens as written (transformers' {@code tokenizer.tokenize}).
     */
    public List<String> tokenize(String prompt) {
        Objects.requireNonNull(prompt, "prompt");
        List<String> tokens = new ArrayList<>();
        for (String piece : addedTokens.split(prompt)) {
            if (addedTokens.contains(piece)) {
                tokens.add(piece);
                continue;
            }
            Matcher m = PRE_TOKENIZER.matcher(ClipTextNormalizer.normalize(piece));
            while (m.find()) {
                String word = ByteLevelAlphabet.encode(m.group());
                if (WHOLE_WORDS.contains(word)) {
                    tokens.add(word);
                } else {
                    tokens.addAll(bpe.encode(word));
                }
            }
        }
        return tokens;
    }

    /**
     * The id of one token string: added tokens first, then the vocabulary, else the unk id.
     *
     * @throws IllegalArgumentException when the token is unknown and the folder has no unk token
     */
    public int tokenId(String token) {
        AddedTokens.AddedToken added = addedTokens.get(token);
        if (added != null) {
            return added.id();
        }
        int id = vocab.id(token);
        if (id >= 0) {
            return id;
        }
        if (unkId < 0) {
            throw new IllegalArgumentException("ClipTokenizer(" + folder + "): token \"" + token
                    + "\" is not in the vocabulary and the tokenizer has no unk token");
        }
        return unkId;
    }

    /** {@link #decode(int[], boolean)} keeping special tokens. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Text for token ids, as transformers' {@code decode}: BPE symbols back to UTF-8 bytes
     * (invalid sequences become U+FFFD), each {@code </w>} a space, surrounding whitespace
     * stripped, and (when the folder says {@code clean_up_tokenization_spaces}) the space before
     * {@code . ? ! ,} and English contractions removed.
     *
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> pieces = new ArrayList<>();
        List<String> run = new ArrayList<>();
        for (int id : ids) {
            if (skipSpecialTokens && specialIds.contains(id)) {
                continue;
            }
            AddedTokens.AddedToken added = addedTokens.byId(id);
            String token = added != null ? added.content() : vocab.token(id);
            if (token == null) {
                throw new IllegalArgumentException("ClipTokenizer.decode: id " + id + " is outside the vocabulary (0.."
                        + (vocab.size() - 1) + ")");
            }
            // Added tokens that are not special are kept verbatim, outside the byte-level text.
            if (added != null && !specialTokens.contains(token)) {
                flush(run, pieces);
                pieces.add(token);
            } else {
                run.add(token);
            }
        }
        flush(run, pieces);
        String text = String.join(" ", pieces);
        return cleanUpTokenizationSpaces ? cleanUp(text) : text;
    }

    private static void flush(List<String> run, List<String> pieces) {
        if (run.isEmpty()) {
            return;
        }
        String text = ClipTextNormalizer.pythonStrip(
                ByteLevelAlphabet.decode(String.join("", run)).replace(BytePairEncoder.END_OF_WORD, " "));
        if (!text.isEmpty()) {
            pieces.add(text);
        }
        run.clear();
    }

    /** transformers' {@code clean_up_tokenization}. */
    private static String cleanUp(String text) {
        return text.replace(" .", ".")
                .replace(" ?", "?")
                .replace(" !", "!")
                .replace(" ,", ",")
                .replace(" ' ", "'")
                .replace(" n't", "n't")
                .replace(" 'm", "'m")
                .replace(" 's", "'s")
                .replace(" 've", "'ve")
                .replace(" 're", "'re");
    }

    /** Sequence length of {@link ClipEncoding#inputIds()}, bos and eos included (77 for CLIP). */
    public int maxLength() {
        return maxLength;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    /** Number of ids in vocab.json (the text encoder's {@code vocab_size}). */
    public int vocabSize() {
        return vocab.size();
    }

    /** The folder this tokenizer was read from. */
    public Path folder() {
        return folder;
    }

    @Override
    public String toString() {
        return "ClipTokenizer[" + folder + ", vocab " + vocab.size() + ", merges " + bpe.size() + ", maxLength "
                + maxLength + ", pad " + padId + "]";
    }
}
