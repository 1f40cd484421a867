package dev.pagoda.diffusion.fuzz;

import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * safetensors files: the 8-byte header length, the JSON header (dtype, shape, data_offsets,
 * __metadata__) and the data buffer. Half the cases build a header from hostile parts (unknown dtypes,
 * shapes whose product overflows, offsets out of range, overlapping, unsorted or reversed, duplicate
 * keys, non-UTF-8 bytes, header lengths past the file or near 2^63); the rest mutate valid files.
 */
final class SafetensorsTarget implements FuzzTarget {

    private static final List<String> DTYPES = List.of("F32", "F16", "BF16", "I32", "I64", "BOOL", "U8", "I8",
            "F64", "I16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "f32", "", "F4", "X");
    private static final long[] DIMS = {0, 1, 2, 3, 4, 7, 16, -1, 65536, 2147483647L, 2147483648L, 4294967296L,
            Long.MAX_VALUE};
    private final List<byte[]> seeds;

    SafetensorsTarget() {
        seeds = List.of(
                file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24),
                file("{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F16\",\"shape\":[4],"
                        + "\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[8,16]}}", 16),
                file("{\"i\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},\"e\":{\"dtype\":\"F32\","
                        + "\"shape\":[0,5],\"data_offsets\":[8,8]},\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],"
                        + "\"data_offsets\":[8,11]}}", 11),
                file("{\"x\":{\"dtype\":\"I32\",\"shape\":[1,1,2],\"data_offsets\":[0,8]}}  ", 8));
    }

    @Override
    public String name() {
        return "safetensors";
    }

    static byte[] file(String header, int dataBytes) {
        return assemble(header.getBytes(StandardCharsets.UTF_8), dataBytes, -1);
    }

    private static byte[] assemble(byte[] header, int dataBytes, long declared) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declared >= 0 ? declared : header.length).put(header);
        for (int i = 0; i < dataBytes; i++) {
            b.put((byte) (i * 37));
        }
        return b.array();
    }

    @Override
    public byte[] next(Random r) {
        byte[] seed = seeds.get(r.nextInt(seeds.size()));
        byte[] other = seeds.get(r.nextInt(seeds.size()));
        return switch (r.nextInt(4)) {
            case 0 -> generated(r);
            case 1 -> Mutator.bytes(seed, other, r);
            default -> { // mutate the header's JSON, keep or break the declared length
                long n = ByteBuffer.wrap(seed).order(ByteOrder.LITTLE_ENDIAN).getLong();
                String header = new String(seed, 8, (int) n, StandardCharsets.UTF_8);
                byte[] h = Mutator.json(header, other, r);
                int data = seed.length - 8 - (int) n;
                long declared = switch (r.nextInt(6)) {
                    case 0 -> h.length + r.nextInt(9) - 4;
                    case 1 -> new long[] {0, 1, Long.MAX_VALUE, -1L >>> 1, 100_000_001L, 1L << 32}[r.nextInt(6)];
                    default -> h.length;
                };
                yield assemble(h, data, Math.max(declared, 0));
            }
        };
    }

    /** A header assembled from hostile parts. */
    private static byte[] generated(Random r) {
        StringBuilder h = new StringBuilder("{");
        int entries = r.nextInt(5);
        long offset = 0;
        int data = r.nextInt(64);
        for (int e = 0; e < entries; e++) {
            if (e > 0) {
                h.append(',');
            }
            String key = r.nextInt(5) == 0 ? "t" : "t" + e; // sometimes a duplicate key
            h.append('"').append(key).append("\":{");
            if (r.nextInt(12) != 0) {
                h.append("\"dtype\":\"").append(DTYPES.get(r.nextInt(DTYPES.size()))).append("\",");
            }
            if (r.nextInt(12) != 0) {
                h.append("\"shape\":[");
                int rank = r.nextInt(5);
                for (int d = 0; d < rank; d++) {
                    h.append(d > 0 ? "," : "").append(r.nextInt(3) == 0 ? DIMS[r.nextInt(DIMS.length)] : 1 + r.nextInt(4));
                }
                h.append("],");
            }
            long begin = r.nextInt(4) == 0 ? DIMS[r.nextInt(DIMS.length)] : offset;
            long end = r.nextInt(4) == 0 ? DIMS[r.nextInt(DIMS.length)] : begin + 4L * r.nextInt(8);
            if (r.nextInt(3) == 0) {
                offset = end;
            }
            h.append("\"data_offsets\":[").append(begin).append(',').append(end).append("]");
            if (r.nextInt(10) == 0) {
                h.append(",\"extra\":1");
            }
            h.append('}');
        }
        if (r.nextInt(4) == 0) {
            h.append(entries > 0 ? "," : "").append("\"__metadata__\":{\"k\":")
                    .append(r.nextBoolean() ? "\"v\"" : "1").append('}');
        }
        h.append('}');
        byte[] bytes = h.toString().getBytes(StandardCharsets.UTF_8);
        if (r.nextInt(8) == 0 && bytes.length > 3) { // a lone continuation byte or an overlong form
            bytes[1 + r.nextInt(bytes.length - 2)] = (byte) (r.nextBoolean() ? 0x80 : 0xc0);
        }
        return assemble(bytes, data, -1);
    }

    @Override
    public void run(byte[] input, Path scratch) throws Exception {
        Path file = scratch.resolve("model.safetensors");
        Files.write(file, input);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            f.metadata();
            for (String name : f.names()) {
                Tensor t = f.tensor(name);
                t.toFloatArray();
            }
        }
    }
}
