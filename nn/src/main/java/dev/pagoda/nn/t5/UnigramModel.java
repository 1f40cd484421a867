package dev.pagoda.nn.t5;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * SentencePiece's unigram {@code Encode} of a {@link SentencePieceModel}: normalise, then the
 * Viterbi segmentation that maximises the sum of piece scores (the reference's
 * {@code EncodeOptimized}, with float32 sums and its tie-breaking: earlier start positions and
 * shorter pieces win ties), a character no piece covers becoming the unknown piece at
 * {@code min score − 10}; finally runs of unknown pieces merged into one, as
 * {@code SentencePieceProcessor::Encode} does.
 */
final class UnigramModel {

    private static final float UNK_PENALTY = 10.0f;

    private final SentencePieceModel model;
    private final SentencePieceNormalizer normalizer;
    private final PieceTrie trie = new PieceTrie();
    private final float[] scores;
    private final boolean[] userDefined;
    private final boolean[] unused;
    private final float minScore;
    private final float maxScore;

    UnigramModel(SentencePieceModel model) {
        this.model = model;
        List<SentencePieceModel.Piece> pieces = model.pieces();
        scores = new float[pieces.size()];
        userDefined = new boolean[pieces.size()];
        unused = new boolean[pieces.size()];
        List<byte[]> userPieces = new ArrayList<>();
        float min = Float.MAX_VALUE;
        float max = Float.MIN_VALUE; // the reference's FLT_MIN start value, kept for the user-defined bonus
        for (int i = 0; i < pieces.size(); i++) {
            SentencePieceModel.Piece p = pieces.get(i);
            scores[i] = p.score();
            switch (p.type()) {
                case NORMAL -> {
                    min = Math.min(min, p.score());
                    max = Math.max(max, p.score());
                    trie.add(p.piece().getBytes(StandardCharsets.UTF_8), i);
                }
                case USER_DEFINED -> {
                    userDefined[i] = true;
                    byte[] b = p.piece().getBytes(StandardCharsets.UTF_8);
                    trie.add(b, i);
                    userPieces.add(b);
                }
                case UNUSED -> {
                    unused[i] = true;
                    trie.add(p.piece().getBytes(StandardCharsets.UTF_8), i);
                }
                default -> {
                    // control, unknown and byte pieces never match text
                }
            }
        }
        this.minScore = min;
        this.maxScore = max;
        this.normalizer = new SentencePieceNormalizer(model, userPieces);
    }

    /** A piece of the segmentation and its id (the unknown id for merged unknown runs). */
    record Token(String piece, int id) {
    }

    /** {@code sp.encode(text, out_type=str)} with the ids. */
    List<Token> encode(String text) {
        byte[] s = normalizer.normalize(text);
        int size = s.length;
        float unkScore = minScore - UNK_PENALTY;
        float[] best = new float[size + 1];
        int[] startsAt = new int[size + 1];
        int[] ids = new int[size + 1];
        java.util.Arrays.fill(startsAt, -1);
        int unk = model.unkId();
        int start = 0;
        while (start < size) {
            float tillHere = best[start];
            boolean singleNode = false;
            int mblen = Math.min(oneCharLen(s[start]), size - start);
            int node = 0;
            for (int pos = start; pos < size; pos++) {
                node = trie.child(node, s[pos]);
                if (node == PieceTrie.NONE) {
                    break;
                }
                int id = trie.value(node);
                if (id == PieceTrie.NONE || unused[id]) {
                    continue;
                }
                int end = pos + 1;
                int length = end - start;
                float score = userDefined[id] ? (float) (length * (double) maxScore - 0.1) : scores[id];
                float candidate = score + tillHere;
                if (startsAt[end] == -1 || candidate > best[end]) {
                    best[end] = candidate;
                    startsAt[end] = start;
                    ids[end] = id;
                }
                if (length == mblen) {
                    singleNode = true;
                }
            }
            if (!singleNode) {
                int end = start + mblen;
                float candidate = unkScore + tillHere;
                if (startsAt[end] == -1 || candidate > best[end]) {
                    best[end] = candidate;
                    startsAt[end] = start;
                    ids[end] = unk;
                }
            }
            start += mblen;
        }
        List<int[]> spans = new ArrayList<>();
        for (int end = size; end > 0; end = startsAt[end]) {
            spans.add(new int[] {startsAt[end], end, ids[end]});
        }
        List<Token> out = new ArrayList<>(spans.size());
        boolean prevUnk = false;
        for (int i = spans.size() - 1; i >= 0; i--) {
            int[] sp = spans.get(i);
            String piece = new String(s, sp[0], sp[1] - sp[0], StandardCharsets.UTF_8);
            boolean isUnk = sp[2] == unk;
            if (prevUnk && isUnk) {
                Token last = out.remove(out.size() - 1);
                out.add(new Token(last.piece() + piece, unk));
            } else {
                out.add(new Token(piece, sp[2]));
            }
            prevUnk = isUnk;
        }
        return out;
    }

    /** The reference's {@code OneCharLen}: the UTF-8 sequence length its lead byte announces. */
    private static int oneCharLen(byte lead) {
        int hi = (lead & 0xFF) >>> 4;
        return hi < 12 ? 1 : hi < 14 ? 2 : hi == 14 ? 3 : 4;
    }
}
