package dev.pagoda.diffusion.fuzz;

import dev.pagoda.nn.clip.ClipTokenizer;
import dev.pagoda.tensor.json.Json;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * CLIP tokenizer folders (vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json) and
 * the prompts encoded with them. The seed is a small but complete byte-level BPE vocabulary (the real
 * 49408-entry one would make each case take milliseconds), with the golden folder's config files.
 * Input layout: byte 0 picks the mutated file (4 = none), bytes 1-2 the prompt length, then the
 * prompt, then the mutated file.
 */
final class TokenizerTarget implements FuzzTarget {

    static final List<String> FILES = List.of("vocab.json", "merges.txt", "tokenizer_config.json",
            "special_tokens_map.json");
    private static final List<String> PROMPTS = List.of("a photo of a cat", "", "the THE thé 東京 🐱 <|endoftext|>",
            "  lots   of\tspace\n", "an an an an in the theater, 1234567890!!", "<|startoftext|>x<|endoftext|>y",
            "\u0000\ud800 lone surrogate", "a".repeat(300));
    private final List<String> seeds;

    TokenizerTarget() {
        List<Integer> bytes = new ArrayList<>();
        StringBuilder alphabet = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            bytes.add(b);
        }
        int extra = 0;
        for (int b : bytes) { // GPT-2's byte-to-unicode table: printable bytes map to themselves
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
            alphabet.appendCodePoint(printable ? b : 256 + extra++);
        }
        Map<String, Object> vocab = new LinkedHashMap<>();
        alphabet.codePoints().forEach(c -> vocab.put(Character.toString(c), (long) vocab.size()));
        alphabet.codePoints().forEach(c -> vocab.put(Character.toString(c) + "</w>", (long) vocab.size()));
        String[][] merges = {{"t", "h"}, {"th", "e</w>"}, {"i", "n"}, {"a", "n</w>"}, {"c", "a"}, {"ca", "t</w>"},
            {"in", "</w>"}, {"a", "n"}, {"th", "e"}};
        StringBuilder m = new StringBuilder("#version: 0.2\n");
        for (String[] p : merges) {
            m.append(p[0]).append(' ').append(p[1]).append('\n');
            vocab.putIfAbsent(p[0] + p[1], (long) vocab.size());
        }
        long bos = vocab.size();
        vocab.put("<|startoftext|>", bos);
        vocab.put("<|endoftext|>", bos + 1);
        String config = Seeds.text("models/tiny-sdxl/tokenizer/tokenizer_config.json")
                .replace("\"49406\"", "\"" + bos + "\"").replace("\"49407\"", "\"" + (bos + 1) + "\"");
        StringBuilder v = new StringBuilder("{");
        vocab.forEach((k, id) -> v.append(v.length() > 1 ? "," : "").append(Json.quote(k)).append(':').append(id));
        seeds = List.of(v.append('}').toString(), m.toString(), config,
                Seeds.text("models/tiny-sdxl/tokenizer/special_tokens_map.json"));
    }

    @Override
    public String name() {
        return "tokenizer";
    }

    @Override
    public byte[] next(Random r) {
        int kind = r.nextInt(FILES.size() + 1);
        String prompt = PROMPTS.get(r.nextInt(PROMPTS.size()));
        byte[] p = r.nextInt(3) == 0 ? Mutator.bytes(prompt.getBytes(StandardCharsets.UTF_8), new byte[0], r)
                : prompt.getBytes(StandardCharsets.UTF_8);
        byte[] file = new byte[0];
        if (kind < FILES.size()) {
            String seed = seeds.get(kind);
            byte[] other = seeds.get(r.nextInt(seeds.size())).getBytes(StandardCharsets.UTF_8);
            file = switch (kind == 1 ? 2 : r.nextInt(4)) {
                case 0 -> Mutator.bytes(seed.getBytes(StandardCharsets.UTF_8), other, r);
                case 2 -> Mutator.lines(seed, other, r);
                default -> Mutator.json(seed, other, r);
            };
        }
        int plen = Math.min(p.length, 65535);
        return ByteBuffer.allocate(3 + plen + file.length).put((byte) kind).putShort((short) plen).put(p, 0, plen)
                .put(file).array();
    }

    @Override
    public void run(byte[] input, Path scratch) throws Exception {
        if (input.length < 3) { // Jazzer's short inputs; the layout needs kind and prompt length
            input = java.util.Arrays.copyOf(input, 3);
        }
        ByteBuffer in = ByteBuffer.wrap(input);
        int kind = in.get() & 0xff;
        byte[] p = new byte[Math.min(in.getShort() & 0xffff, in.remaining())];
        in.get(p);
        byte[] file = new byte[in.remaining()];
        in.get(file);
        Path folder = Files.createDirectories(scratch.resolve("tokenizer"));
        for (int i = 0; i < FILES.size(); i++) {
            Files.write(folder.resolve(FILES.get(i)), i == kind ? file : seeds.get(i).getBytes(StandardCharsets.UTF_8));
        }
        ClipTokenizer tok = ClipTokenizer.fromFolder(folder);
        String prompt = new String(p, StandardCharsets.UTF_8);
        int[] ids = tok.encode(prompt).inputIds();
        tok.decode(ids);
        tok.decode(ids, true);
    }
}
