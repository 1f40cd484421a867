package dev.pagoda.nn.vae;

import dev.pagoda.tensor.golden.GoldenFixtures;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.WeightLoader;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tiled encode/decode of the tiny SDXL VAE against diffusers 0.31's {@code enable_tiling}, with the default tile
 * and a smaller one (fixture and script: src/test/resources/vaetiling/), and against untiled. Untiled outputs
 * are compared with diffusers' (case vae) by the conformance runner (GoldenConformanceTest).
 */
class VaeTilingTest {

    static SafetensorsFile weights;
    static SafetensorsFile ref;
    static AutoencoderKL vae;

    @BeforeAll
    static void load() {
        vae = AutoencoderKL.fromConfig(GoldenFixtures.vendored().model("tiny-sdxl").resolve("vae/config.json"));
        weights = SafetensorsFile.open(GoldenFixtures.vendored().model("tiny-sdxl").resolve("vae/diffusion_pytorch_model.safetensors"));
        WeightLoader.load(vae, weights, "");
        ref = GoldenFixtures.vendored().tensors("vae");
    }

    @AfterAll
    static void close() {
        weights.close();
        ref.close();
    }

    @Test
    void tiledDecodeAndEncodeAgreeWithUntiledWhereBothFit() {
        // 32x48 latent (256x384 image) with 16-latent tiles: a 3x4 tile grid with blended seams.
        Backend be = Backend.cpu();
        Tensor z = ref.tensor("latent_sample");
        Tensor big = be.concat(3, be.concat(2, z, z), be.concat(2, z, z), be.concat(2, z, z)).contiguous();
        Tensor plain = vae.decode(big);
        vae.setTiling(true);
        try {
            Tensor tiled = vae.decode(big);
            Difference diff = Difference.of(tiled, plain);
            // Seams are blended, not identical: the VAE's receptive field is cut at tile borders.
            assertTrue(diff.maxAbs() < 0.5, "tiled decode " + diff);
            Tensor img = be.concat(3, plain.narrow(3, 0, 128), plain.narrow(3, 0, 128)).contiguous();
            LatentDistribution a = vae.encode(img);
            vae.setTiling(false);
            LatentDistribution b = vae.encode(img);
            assertTrue(Difference.of(a.mean(), b.mean()).maxAbs() < 0.5, "tiled encode");
        } finally {
            vae.setTiling(false);
        }
    }

    @Test
    void tiledDecodeAndEncodeMatchDiffusersWithTheDefaultAndASmallerTile() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(java.nio.file.Path.of(
                VaeTilingTest.class.getResource("/vaetiling/tiled.safetensors").toURI()))) {
            Tensor z = f.tensor("input.latents");
            try {
                vae.setTiling(true);
                assertEquals(128, vae.tileSampleSize());
                Difference d = Difference.of(vae.decode(z), f.tensor("decode.default"));
                assertTrue(d.rel() <= 1e-4, "default tile decode " + d);
                vae.setTiling(true, 64);
                Tensor small = vae.decode(z);
                d = Difference.of(small, f.tensor("decode.tile64"));
                assertTrue(d.rel() <= 1e-4, "64-px tile decode " + d);
                // the tile size is not ignored: 64-px tiles put seams where 128-px tiles have none
                assertTrue(Difference.of(small, f.tensor("decode.default")).maxAbs() > 1e-2);
                Tensor moments = f.tensor("encode.tile64");
                LatentDistribution e = vae.encode(f.tensor("input.image"));
                d = Difference.of(e.mean(), moments.narrow(1, 0, 4).contiguous());
                assertTrue(d.rel() <= 1e-4, "64-px tile encode mean " + d);
                assertThrows(IllegalArgumentException.class, () -> vae.setTiling(true, 60));
            } finally {
                vae.setTiling(false);
            }
            assertEquals(0, vae.tileSampleSize());
        }
    }
}
