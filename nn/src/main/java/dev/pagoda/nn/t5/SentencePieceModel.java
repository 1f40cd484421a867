package dev.pagoda.nn.t5;

import dev.pagoda.nn.clip.TokenizerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The contents of a SentencePiece {@code spiece.model} file (the {@code ModelProto} of
 * sentencepiece_model.proto): the pieces with their scores and types, the trainer settings that
 * matter at encoding time, and the normalizer spec. Only unigram models are accepted, since that is
 * what T5 ships.
 */
public final class SentencePieceModel {

    /** {@code SentencePiece.Type}. */
    public enum PieceType {
        NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

        static PieceType of(long code) {
            return switch ((int) code) {
                case 1 -> NORMAL;
                case 2 -> UNKNOWN;
                case 3 -> CONTROL;
                case 4 -> USER_DEFINED;
                case 5 -> UNUSED;
                case 6 -> BYTE;
                default -> null;
            };
        }
    }

    /** One vocabulary entry; the id is its index. */
    public record Piece(String piece, float score, PieceType type) {
    }

    /** {@code NormalizerSpec}, with the proto defaults for absent fields. */
    public record NormalizerSpec(String name, byte[] precompiledCharsmap, boolean addDummyPrefix,
            boolean removeExtraWhitespaces, boolean escapeWhitespaces) {
    }

    private static final int UNIGRAM = 1;

    private final Path file;
    private final List<Piece> pieces;
    private final Map<String, Integer> ids;
    private final NormalizerSpec normalizer;
    private final boolean treatWhitespaceAsSuffix;
    private final int unkId;

    private SentencePieceModel(Path file, List<Piece> pieces, NormalizerSpec normalizer,
            boolean treatWhitespaceAsSuffix) {
        this.file = file;
        this.pieces = List.copyOf(pieces);
        this.normalizer = normalizer;
        this.treatWhitespaceAsSuffix = treatWhitespaceAsSuffix;
        this.ids = new HashMap<>();
        int unk = -1;
        for (int i = 0; i < pieces.size(); i++) {
            Piece p = pieces.get(i);
            if (p.piece().isEmpty()) {
                throw new TokenizerException(file, "piece " + i + " is empty");
            }
            if (ids.putIfAbsent(p.piece(), i) != null) {
                throw new TokenizerException(file, "piece \"" + p.piece() + "\" is defined twice (ids "
                        + ids.get(p.piece()) + " and " + i + ")");
            }
            if (p.type() == PieceType.UNKNOWN) {
                if (unk >= 0) {
                    throw new TokenizerException(file, "more than one UNKNOWN piece (ids " + unk + " and " + i + ")");
                }
                unk = i;
            }
        }
        if (unk < 0) {
            throw new TokenizerException(file, "no UNKNOWN piece: not a usable SentencePiece model");
        }
        this.unkId = unk;
    }

    /**
     * Reads and validates {@code spiece.model}.
     *
     * @throws TokenizerException naming the file when it cannot be read, is not a protobuf
     *         {@code ModelProto} (truncated, another format), has no pieces, or is not a unigram model
     */
    public static SentencePieceModel read(Path file) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerException(file, "cannot read the SentencePiece model: " + e.getMessage(), e);
        }
        try {
            return parse(file, data);
        } catch (ProtobufReader.MalformedException e) {
            throw new TokenizerException(file, "not a SentencePiece model (truncated or another format): "
                    + e.getMessage());
        }
    }

    private static SentencePieceModel parse(Path file, byte[] data) throws ProtobufReader.MalformedException {
        ProtobufReader r = new ProtobufReader(data);
        List<Piece> pieces = new ArrayList<>();
        NormalizerSpec normalizer = new NormalizerSpec("", null, true, true, true);
        int modelType = UNIGRAM;
        boolean suffix = false;
        boolean byteFallback = false;
        boolean sawNormalizer = false;
        while (r.hasMore()) {
            int tag = r.tag();
            switch (ProtobufReader.fieldNumber(tag)) {
                case 1 -> {
                    r.expect(tag, ProtobufReader.LENGTH_DELIMITED, "pieces");
                    pieces.add(piece(r.message(), pieces.size()));
                }
                case 2 -> {
                    r.expect(tag, ProtobufReader.LENGTH_DELIMITED, "trainer_spec");
                    ProtobufReader t = r.message();
                    while (t.hasMore()) {
                        int tt = t.tag();
                        switch (ProtobufReader.fieldNumber(tt)) {
                            case 3 -> {
                                t.expect(tt, ProtobufReader.VARINT, "trainer_spec.model_type");
                                modelType = (int) t.varint();
                            }
                            case 24 -> {
                                t.expect(tt, ProtobufReader.VARINT, "trainer_spec.treat_whitespace_as_suffix");
                                suffix = t.varint() != 0;
                            }
                            case 35 -> {
                                t.expect(tt, ProtobufReader.VARINT, "trainer_spec.byte_fallback");
                                byteFallback = t.varint() != 0;
                            }
                            default -> t.skip(tt);
                        }
                    }
                }
                case 3 -> {
                    r.expect(tag, ProtobufReader.LENGTH_DELIMITED, "normalizer_spec");
                    normalizer = normalizerSpec(r.message());
                    sawNormalizer = true;
                }
                default -> r.skip(tag);
            }
        }
        if (pieces.isEmpty()) {
            throw new ProtobufReader.MalformedException("the ModelProto has no pieces");
        }
        if (!sawNormalizer) {
            throw new ProtobufReader.MalformedException("the ModelProto has no normalizer_spec");
        }
        if (modelType != UNIGRAM) {
            throw new TokenizerException(file, "SentencePiece model_type " + modelType
                    + " is not supported (only UNIGRAM = 1, the T5 tokenizer's)");
        }
        if (byteFallback) {
            throw new TokenizerException(file, "SentencePiece byte_fallback models are not supported");
        }
        return new SentencePieceModel(file, pieces, normalizer, suffix);
    }

    private static Piece piece(ProtobufReader m, int index) throws ProtobufReader.MalformedException {
        String piece = null;
        float score = 0;
        PieceType type = PieceType.NORMAL;
        while (m.hasMore()) {
            int tag = m.tag();
            switch (ProtobufReader.fieldNumber(tag)) {
                case 1 -> {
                    m.expect(tag, ProtobufReader.LENGTH_DELIMITED, "pieces.piece");
                    piece = m.string();
                }
                case 2 -> {
                    m.expect(tag, ProtobufReader.FIXED32, "pieces.score");
                    score = m.fixed32Float();
                }
                case 3 -> {
                    m.expect(tag, ProtobufReader.VARINT, "pieces.type");
                    long code = m.varint();
                    type = PieceType.of(code);
                    if (type == null) {
                        throw new ProtobufReader.MalformedException("piece " + index + " has unknown type " + code);
                    }
                }
                default -> m.skip(tag);
            }
        }
        if (piece == null) {
            throw new ProtobufReader.MalformedException("piece " + index + " has no text");
        }
        return new Piece(piece, score, type);
    }

    private static NormalizerSpec normalizerSpec(ProtobufReader m) throws ProtobufReader.MalformedException {
        String name = "";
        byte[] charsmap = null;
        boolean dummyPrefix = true;
        boolean removeExtra = true;
        boolean escape = true;
        while (m.hasMore()) {
            int tag = m.tag();
            switch (ProtobufReader.fieldNumber(tag)) {
                case 1 -> {
                    m.expect(tag, ProtobufReader.LENGTH_DELIMITED, "normalizer_spec.name");
                    name = m.string();
                }
                case 2 -> {
                    m.expect(tag, ProtobufReader.LENGTH_DELIMITED, "normalizer_spec.precompiled_charsmap");
                    charsmap = m.bytes();
                }
                case 3 -> {
                    m.expect(tag, ProtobufReader.VARINT, "normalizer_spec.add_dummy_prefix");
                    dummyPrefix = m.varint() != 0;
                }
                case 4 -> {
                    m.expect(tag, ProtobufReader.VARINT, "normalizer_spec.remove_extra_whitespaces");
                    removeExtra = m.varint() != 0;
                }
                case 5 -> {
                    m.expect(tag, ProtobufReader.VARINT, "normalizer_spec.escape_whitespaces");
                    escape = m.varint() != 0;
                }
                default -> m.skip(tag);
            }
        }
        return new NormalizerSpec(name, charsmap == null || charsmap.length == 0 ? null : charsmap, dummyPrefix,
                removeExtra, escape);
    }

    public Path file() {
        return file;
    }

    public List<Piece> pieces() {
        return pieces;
    }

    public int size() {
        return pieces.size();
    }

    public NormalizerSpec normalizerSpec() {
        return normalizer;
    }

    public boolean treatWhitespaceAsSuffix() {
        return treatWhitespaceAsSuffix;
    }

    public int unkId() {
        return unkId;
    }

    /** SentencePiece's {@code PieceToId}: the id of a piece, or the unknown id for any other string. */
    public int pieceToId(String piece) {
        return ids.getOrDefault(piece, unkId);
    }
}
