package dev.pagoda.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.Golden;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PagLayersTest {

    private static UNet2DConditionModel tinyUnet() {
        return UNet2DConditionModel.fromConfig(Golden.model("tiny-sdxl").resolve("unet/config.json"));
    }

    /** A denoiser with PixArt's module names: 12 transformer blocks with attn1 (self) and attn2 (cross). */
    private static Module pixartLike() {
        class Block extends Module {
            Block() {
                child("attn1", Attention.transformer(8, 0, 1, 8));
                child("attn2", Attention.transformer(8, 8, 1, 8));
            }
        }
        class Denoiser extends Module {
            Denoiser() {
                var blocks = child("transformer_blocks", new dev.pagoda.nn.ModuleList<Block>());
                for (int i = 0; i < 12; i++) {
                    blocks.add(new Block());
                }
            }
        }
        return new Denoiser();
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Object o) {
        return o == null ? null : new ArrayList<>((List<String>) o);
    }

    @Test
    void selfAttentionModulesAreTheGoldenOnesInDiffusersOrder() {
        Map<String, Object> c = Golden.caseJson("pag_layer_selection");
        assertEquals(strings(c.get("unet_self_attention_modules")),
                new ArrayList<>(PagLayers.selfAttentions(tinyUnet()).keySet()));
        assertEquals(strings(c.get("pixart_self_attention_modules")),
                new ArrayList<>(PagLayers.selfAttentions(pixartLike()).keySet()));
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyGoldenSelectionResolvesAsDiffusers() {
        Map<String, Object> c = Golden.caseJson("pag_layer_selection");
        Module unet = tinyUnet();
        Module pixart = pixartLike();
        int checked = 0;
        for (Object o : (List<Object>) c.get("items")) {
            Map<String, Object> item = (Map<String, Object>) o;
            Module model = item.get("model").equals("unet") ? unet : pixart;
            List<String> selection = strings(item.get("selection"));
            String error = (String) item.get("error");
            if (error != null) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> PagLayers.select(model, selection));
                assertTrue(error.contains(e.getMessage()), "expected error " + error + ", got " + e.getMessage());
            } else {
                assertEquals(strings(item.get("modules")), PagLayers.select(model, selection),
                        "selection " + selection);
            }
            checked++;
        }
        assertTrue(checked >= 8, "only " + checked + " golden items");
    }

    @Test
    void captionSyntaxIsAnAliasOfModulePaths() {
        Module unet = tinyUnet();
        assertEquals(PagLayers.select(unet, List.of("down_blocks.2")), PagLayers.select(unet, List.of("down.block_2")));
        assertEquals(PagLayers.select(unet, List.of("up_blocks.1.attentions.0")),
                PagLayers.select(unet, List.of("up.block_1.attentions_0")));
        assertEquals(PagLayers.select(unet, List.of("mid")), PagLayers.select(unet, List.of("mid.block_0")));
        assertEquals("down_blocks.2", PagLayers.alias("down.block_2"));
        assertEquals("up_blocks.1.attentions.0", PagLayers.alias("up.block_1.attentions_0"));
        assertEquals("mid", PagLayers.alias("mid"));
    }

    @Test
    void strictModeMeansOneTopLevelBlock() {
        Module pixart = pixartLike();
        assertEquals(List.of("transformer_blocks.1.attn1", "transformer_blocks.10.attn1", "transformer_blocks.11.attn1"),
                PagLayers.select(pixart, List.of("blocks.1")));
        assertEquals(List.of("transformer_blocks.1.attn1"),
                PagLayers.select(pixart, List.of("blocks.1"), PagLayers.Mode.STRICT));
        Module unet = tinyUnet();
        List<String> strict = PagLayers.select(unet, List.of("blocks.1"), PagLayers.Mode.STRICT);
        assertTrue(strict.stream().allMatch(n -> n.startsWith("down_blocks.1.") || n.startsWith("up_blocks.1.")),
                strict.toString());
        assertEquals(4 + 6, strict.size());
        assertEquals(PagLayers.select(unet, List.of("mid")), PagLayers.select(unet, List.of("mid"), PagLayers.Mode.STRICT));
        assertThrows(IllegalArgumentException.class, () -> PagLayers.select(unet, List.of("blocks.10"),
                PagLayers.Mode.STRICT));
    }

    @Test
    void aPatternSelectingNothingIsANamedError() {
        Module unet = tinyUnet();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PagLayers.select(unet, List.of("mid", "down_blocks.0")));
        assertEquals("Cannot find PAG layer to set attention processor for: down_blocks.0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PagLayers.select(unet, List.of("blocks.1$")));
        assertThrows(IllegalArgumentException.class, () -> PagLayers.select(unet, List.of("(")));
    }

    @Test
    void planPerturbsExactlyTheSelectionAndLeavesModulesUntouched() {
        UNet2DConditionModel unet = tinyUnet();
        List<String> names = PagLayers.select(unet, List.of("mid"));
        PagPlan mid = PagPlan.of(PagLayers.modules(unet, List.of("mid"), PagLayers.Mode.DIFFUSERS), 3, 1);
        PagPlan down = PagPlan.of(PagLayers.modules(unet, List.of("down_blocks.2"), PagLayers.Mode.DIFFUSERS), 2, 1);
        // two plans over the same modules at once: each sees only its own selection
        PagLayers.selfAttentions(unet).forEach((n, a) -> {
            assertEquals(names.contains(n), mid.perturbs(a), n);
            assertEquals(n.startsWith("down_blocks.2."), down.perturbs(a), n);
            assertTrue(!PagPlan.NONE.perturbs(a), n);
        });
        Attention first = PagLayers.selfAttentions(unet).get(names.get(0));
        assertArrayEquals(new boolean[] {false, false, true}, mid.identityRows(first, 3));
        assertNull(down.identityRows(first, 2));
        assertThrows(IllegalArgumentException.class, () -> mid.identityRows(first, 2));
        assertThrows(IllegalArgumentException.class, () -> PagPlan.of(List.of(first), 3, 2));
        assertTrue(PagPlan.of(List.of(), 3, 1).isEmpty());
    }
}
