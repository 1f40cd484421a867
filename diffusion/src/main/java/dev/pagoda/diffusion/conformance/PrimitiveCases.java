package dev.pagoda.diffusion.conformance;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static dev.pagoda.tensor.golden.GoldenFixtures.list;
import static dev.pagoda.tensor.golden.GoldenFixtures.map;

import dev.pagoda.nn.clip.ClipEncoding;
import dev.pagoda.nn.clip.ClipTokenizer;
import dev.pagoda.nn.t5.T5Encoding;
import dev.pagoda.nn.t5.T5Tokenizer;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.random.TorchGenerator;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Golden cases below the models: the torch generator and the tokenizers. */
final class PrimitiveCases {

    private PrimitiveCases() {
    }

    static CaseResult rng(Fixtures fx, String name, Map<String, Object> c) {
        Checks chk = new Checks(name);
        try (SafetensorsFile ref = fx.golden().tensors(name)) {
            for (Object o : list(c, "entries")) {
                Map<String, Object> e = map(o);
                long seed = ((Number) e.get("seed")).longValue();
                TorchGenerator g = new TorchGenerator(seed);
                if (e.get("draws") != null) {
                    for (Object d : (List<?>) e.get("draws")) {
                        Map<String, Object> draw = map(d);
                        bits(chk, (String) draw.get("tensor"), g.randn(GoldenFixtures.ints(draw.get("shape"))),
                                ref.tensor((String) draw.get("tensor")));
                    }
                } else {
                    bits(chk, (String) e.get("tensor"), g.randn(GoldenFixtures.ints(e.get("shape"))),
                            ref.tensor((String) e.get("tensor")));
                }
            }
        }
        return chk.result();
    }

    /** Bit-exact comparison: error = number of differing float bit patterns. */
    private static void bits(Checks chk, String what, Tensor got, Tensor ref) {
        float[] a = got.toFloatArray();
        float[] b = ref.toFloatArray();
        int diff = a.length == b.length ? 0 : Math.max(a.length, b.length);
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                diff++;
            }
        }
        chk.record(what + " (values differing in any bit)", diff, 0);
    }

    static CaseResult tokenizers(Fixtures fx, String name, Map<String, Object> c) {
        Path model = fx.golden().path((String) map(fx.golden().index().get("models")).get("sdxl"));
        ClipTokenizer t1 = ClipTokenizer.fromFolder(model.resolve("tokenizer"));
        ClipTokenizer t2 = ClipTokenizer.fromFolder(model.resolve("tokenizer_2"));
        T5Tokenizer t5 = null;
        Checks chk = new Checks(name);
        int i = 0;
        for (Object o : list(c, "items")) {
            Map<String, Object> item = map(o);
            String prompt = (String) item.get("prompt");
            for (String key : List.of("tokenizer", "tokenizer_2")) {
                Map<String, Object> want = map(item.get(key));
                ClipEncoding enc = (key.equals("tokenizer") ? t1 : t2).encode(prompt);
                String what = "items." + i + "." + key;
                chk.exact(what + ".input_ids", enc.inputIds(), GoldenFixtures.ints(want.get("input_ids")));
                chk.exact(what + ".untruncated_input_ids", enc.untruncatedInputIds(),
                        GoldenFixtures.ints(want.get("untruncated_input_ids")));
                chk.exact(what + ".bpe_tokens", enc.bpeTokens(), GoldenFixtures.strings(want.get("bpe_tokens")));
            }
            if (item.get("t5") != null) {
                chk.exact("items." + i + ".t5.pipeline_preprocessed_prompt",
                        dev.pagoda.diffusion.pipeline.PixArtPromptEncoder.preprocess((String) item.get("prompt")),
                        map(item.get("t5")).get("pipeline_preprocessed_prompt"));
                if (t5 == null) {
                    t5 = T5Tokenizer.fromPretrained(fx.golden().path((String) map(fx.golden().index().get("models")).get("pixart"))
                            .resolve("tokenizer"));
                }
                t5Item(chk, "items." + i + ".t5", t5, map(item.get("t5")));
            }
            i++;
        }
        return chk.result();
    }

    /** One prompt through the T5 tokenizer, after the PixArt pipeline's caption preprocessing. */
    private static void t5Item(Checks chk, String what, T5Tokenizer t5, Map<String, Object> want) {
        String prompt = (String) want.get("pipeline_preprocessed_prompt");
        int[] ids = GoldenFixtures.ints(want.get("input_ids_len300"));
        T5Encoding enc = t5.encode(prompt, ids.length);
        chk.exact(what + ".input_ids_len300", enc.inputIds(), ids);
        chk.exact(what + ".attention_mask_len300", enc.attentionMask(), GoldenFixtures.ints(want.get("attention_mask_len300")));
        chk.exact(what + ".untruncated_input_ids", enc.untruncatedInputIds(),
                GoldenFixtures.ints(want.get("untruncated_input_ids")));
        chk.exact(what + ".pieces", enc.pieces(), GoldenFixtures.strings(want.get("pieces")));
    }
}
