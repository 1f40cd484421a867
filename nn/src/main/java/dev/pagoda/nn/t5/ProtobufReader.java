package dev.pagoda.nn.t5;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

/**
 * Reads the protocol-buffers wire format (varints, fixed32/64, length-delimited fields) of one
 * message held in a byte array. Only what {@code sentencepiece_model.proto} needs; every read is
 * bounds-checked so a truncated or foreign file fails with a {@link MalformedException} saying at
 * which byte and why, never an index error.
 */
final class ProtobufReader {

    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    /** The bytes are not a well-formed protobuf message. */
    static final class MalformedException extends Exception {
        MalformedException(String message) {
            super(message);
        }
    }

    private final byte[] data;
    private int pos;
    private final int end;
    private final int base;

    ProtobufReader(byte[] data) {
        this(data, 0, data.length);
    }

    private ProtobufReader(byte[] data, int from, int to) {
        this.data = data;
        this.pos = from;
        this.end = to;
        this.base = from;
    }

    boolean hasMore() {
        return pos < end;
    }

    /** The next field's tag: {@code fieldNumber << 3 | wireType}. */
    int tag() throws MalformedException {
        int at = pos;
        long t = varint();
        int wire = (int) (t & 7);
        if (t >>> 3 == 0 || t >>> 3 > 0x1FFFFFFF || wire == 3 || wire == 4 || wire > 5) {
            throw new MalformedException("invalid field tag " + t + " at byte " + at);
        }
        return (int) t;
    }

    static int fieldNumber(int tag) {
        return tag >>> 3;
    }

    static int wireType(int tag) {
        return tag & 7;
    }

    long varint() throws MalformedException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw new MalformedException("varint runs past the end at byte " + pos);
            }
            byte b = data[pos++];
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw new MalformedException("varint longer than 10 bytes before byte " + pos);
    }

    float fixed32Float() throws MalformedException {
        return Float.intBitsToFloat((int) fixed(4));
    }

    private long fixed(int n) throws MalformedException {
        if (end - pos < n) {
            throw new MalformedException(n + "-byte fixed field runs past the end at byte " + pos);
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (long) (data[pos++] & 0xFF) << (8 * i);
        }
        return v;
    }

    /** A length-delimited field's payload. */
    byte[] bytes() throws MalformedException {
        int n = length();
        byte[] out = new byte[n];
        System.arraycopy(data, pos, out, 0, n);
        pos += n;
        return out;
    }

    /** A length-delimited field as strict UTF-8 (protobuf {@code string}). */
    String string() throws MalformedException {
        int at = pos;
        byte[] b = bytes();
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedException("string field at byte " + at + " is not valid UTF-8");
        }
    }

    /** A length-delimited field read as an embedded message. */
    ProtobufReader message() throws MalformedException {
        int n = length();
        ProtobufReader sub = new ProtobufReader(data, pos, pos + n);
        pos += n;
        return sub;
    }

    private int length() throws MalformedException {
        int at = pos;
        long n = varint();
        if (n < 0 || n > end - pos) {
            throw new MalformedException("length " + n + " at byte " + at + " runs past the end of its message"
                    + " (" + (end - pos) + " bytes left)");
        }
        return (int) n;
    }

    /** Skips the payload of a field with the given tag. */
    void skip(int tag) throws MalformedException {
        switch (wireType(tag)) {
            case VARINT -> varint();
            case FIXED64 -> fixed(8);
            case LENGTH_DELIMITED -> {
                int n = length(); // read before adding: the length varint itself moves pos
                pos += n;
            }
            case FIXED32 -> fixed(4);
            default -> throw new MalformedException("unsupported wire type " + wireType(tag));
        }
    }

    /** Checks a tag carries the wire type its field is declared with. */
    void expect(int tag, int wireType, String field) throws MalformedException {
        if (wireType(tag) != wireType) {
            throw new MalformedException("field " + field + " (number " + fieldNumber(tag) + ") has wire type "
                    + wireType(tag) + ", expected " + wireType + " (before byte " + (pos - base) + " of its message)");
        }
    }
}
