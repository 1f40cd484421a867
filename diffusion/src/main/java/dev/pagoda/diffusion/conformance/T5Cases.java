package dev.pagoda.diffusion.conformance;

import static dev.pagoda.tensor.golden.GoldenFixtures.list;
import static dev.pagoda.tensor.golden.GoldenFixtures.map;

import dev.pagoda.tensor.golden.GoldenFixtures;
import dev.pagoda.nn.t5.T5EncoderModel;
import dev.pagoda.nn.t5.T5Encoding;
import dev.pagoda.nn.t5.T5Tokenizer;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.Map;

/** The T5 half of the {@code pixart_components} case: tokenizer ids and encoder outputs per prompt. */
final class T5Cases {

    private T5Cases() {
    }

    /**
     * Checks every {@code t5_items} entry: the tokenizer on the preprocessed prompt gives the
     * recorded ids and mask, and {@code T5EncoderModel(input_ids, attention_mask)} gives
     * {@code t5.pK.last_hidden_state}.
     */
    static void encoderItems(Fixtures fx, Checks chk, Map<String, Object> c, SafetensorsFile ref) {
        Path model = fx.golden().path((String) map(fx.golden().index().get("models")).get("pixart"));
        T5Tokenizer tokenizer = T5Tokenizer.fromPretrained(model.resolve("tokenizer"));
        try (T5EncoderModel encoder = T5EncoderModel.fromPretrained(model.resolve("text_encoder"))) {
            int k = 0;
            for (Object o : list(c, "t5_items")) {
                Map<String, Object> item = map(o);
                String p = "t5.p" + k + ".";
                int[] ids = GoldenFixtures.ints(item.get("input_ids"));
                int[] mask = GoldenFixtures.ints(item.get("attention_mask"));
                T5Encoding enc = tokenizer.encode((String) item.get("preprocessed"), ids.length);
                chk.exact(p + "input_ids", enc.inputIds(), ids);
                chk.exact(p + "attention_mask", enc.attentionMask(), mask);
                Tensor out = encoder.forward(GoldenFixtures.longs(item.get("input_ids")), GoldenFixtures.longs(item.get("attention_mask")));
                chk.rel(p + "last_hidden_state", out, ref.tensor(p + "last_hidden_state"), ModelCases.MODULE_TOL);
                k++;
            }
        }
    }
}
