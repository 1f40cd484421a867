package dev.pagoda.nn.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.attention.PagLayers;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.cpu.Parallel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The same inputs give bit-identical outputs, call after call and for 1 or 2 threads: pipelines
 * built through different paths (fromPipe, fromPretrained) must agree exactly, as in diffusers.
 */
class UNetDeterminismTest {

    @Test
    void forwardIsBitIdenticalAcrossRunsAndThreadCounts() {
        try (TinySdxlUNet tiny = TinySdxlUNet.open()) {
            UNet2DConditionModel unet = tiny.unet();
            UNet2DConditionModel.Input in = tiny.cfgPagBatch(667f)
                    .withPag(PagPlan.of(PagLayers.modules(unet, List.of("mid", "down_blocks.2"),
                            PagLayers.Mode.DIFFUSERS), 3, 1));
            float[] first = unet.forward(in).toFloatArray();
            for (int i = 0; i < 5; i++) {
                assertArrayEquals(first, unet.forward(in).toFloatArray(), "run " + i);
            }
            int threads = Parallel.threads();
            try {
                Parallel.setThreads(1);
                assertArrayEquals(first, unet.forward(in).toFloatArray(), "one thread");
                Parallel.setThreads(3);
                assertArrayEquals(first, unet.forward(in).toFloatArray(), "three threads");
            } finally {
                Parallel.setThreads(threads);
            }
        }
    }

    @Test
    void forkingThePerturbedBranchGivesTheFullBatchResultExactly() {
        try (TinySdxlUNet tiny = TinySdxlUNet.open()) {
            UNet2DConditionModel unet = tiny.unet();
            Backend be = Backend.cpu();
            Tensor s = tiny.sample();
            Tensor pos = tiny.pos();
            Tensor tp = tiny.textPos();
            Tensor ids = tiny.timeIds();
            UNet2DConditionModel.Input cfg = tiny.cfgPagBatch(667f);
            UNet2DConditionModel.Input pagOnly = UNet2DConditionModel.Input.of(be.concat(0, s, s), 667f,
                    be.concat(0, pos, pos), be.concat(0, tp, tp), be.concat(0, ids, ids));
            for (List<String> layers : List.of(List.of("mid"), List.of("down_blocks.2"), List.of("up_blocks.1"),
                    List.of("down_blocks.1.attentions.1"))) {
                List<Attention> modules = PagLayers.modules(unet, layers, PagLayers.Mode.DIFFUSERS);
                for (UNet2DConditionModel.Input plain : List.of(cfg, pagOnly)) {
                    UNet2DConditionModel.Input in = plain.withPag(PagPlan.of(modules, plain.sample().dim(0), 1));
                    unet.setForkPerturbedBranch(false);
                    float[] full = unet.forward(in).toFloatArray();
                    unet.setForkPerturbedBranch(true);
                    assertArrayEquals(full, unet.forward(in).toFloatArray(), layers + " batch " + in.sample().dim(0));
                }
            }
        }
    }
}
