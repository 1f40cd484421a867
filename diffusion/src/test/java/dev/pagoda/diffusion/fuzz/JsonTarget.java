package dev.pagoda.diffusion.fuzz;

import dev.pagoda.tensor.json.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** The JSON parser under every config and header, on its own (strict and non-finite modes). */
final class JsonTarget implements FuzzTarget {

    private final List<String> seeds = List.of(Seeds.text("models/tiny-sdxl/unet/config.json"),
            Seeds.text("models/tiny-sdxl/scheduler/scheduler_config.json"),
            Seeds.text("models/tiny-pixart-sigma/scheduler/scheduler_config.json"),
            "{\"a\":[1,-2.5e3,true,null,{\"b\":\"\\u00e9\\n\"}],\"c\":\"\\ud83d\\ude00\"}", "[[[[[]]]]]");

    @Override
    public String name() {
        return "json";
    }

    @Override
    public byte[] next(Random r) {
        String seed = seeds.get(r.nextInt(seeds.size()));
        byte[] other = seeds.get(r.nextInt(seeds.size())).getBytes(StandardCharsets.UTF_8);
        if (r.nextInt(20) == 0) { // deep nesting
            int depth = r.nextInt(100_000);
            return ("[".repeat(depth) + "]".repeat(r.nextInt(depth + 1))).getBytes(StandardCharsets.UTF_8);
        }
        return r.nextBoolean() ? Mutator.json(seed, other, r) : Mutator.bytes(seed.getBytes(StandardCharsets.UTF_8), other, r);
    }

    @Override
    public void run(byte[] input, Path scratch) {
        String text = new String(input, StandardCharsets.UTF_8);
        try {
            Json.parse(text);
        } finally {
            Json.parseWithNonFinite(text);
        }
    }
}
