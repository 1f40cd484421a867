package dev.pagoda.nn.vae;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.nn.Golden;
import dev.pagoda.nn.WeightLoader;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Difference;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tiny SDXL VAE against diffusers (case vae, rel ≤ 1e-4). */
class VaeGoldenTest {

    static final double TOL = 1e-4;
    static SafetensorsFile weights;
    static SafetensorsFile ref;
    static AutoencoderKL vae;

    @BeforeAll
    static void load() {
        vae = AutoencoderKL.fromConfig(Golden.model("tiny-sdxl").resolve("vae/config.json"));
        weights = SafetensorsFile.open(Golden.model("tiny-sdxl").resolve("vae/diffusion_pytorch_model.safetensors"));
        WeightLoader.load(vae, weights, "");
        ref = Golden.tensors("vae");
    }

    @AfterAll
    static void close() {
        weights.close();
        ref.close();
    }

    @Test
    void encodeMatchesDiffusers() {
        LatentDistribution d = vae.encode(ref.tensor("image_preprocessed"));
        Golden.assertClose("mean", d.mean(), ref.tensor("latent_dist.mean"), TOL);
        Golden.assertClose("logvar", d.logvar(), ref.tensor("latent_dist.logvar"), TOL);
        Golden.assertClose("std", d.std(), ref.tensor("latent_dist.std"), TOL);
        Tensor sample = d.sample(ref.tensor("noise.000"));
        Golden.assertClose("sample", sample, ref.tensor("latent_sample"), TOL);
        Golden.assertClose("scaled", vae.scaleLatents(sample), ref.tensor("latent_sample_scaled"), TOL);
    }

    @Test
    void decodeMatchesDiffusers() {
        Golden.assertClose("decode(sample)", vae.decode(ref.tensor("latent_sample")),
                ref.tensor("decode_of_latent_sample"), TOL);
        Tensor latents = ref.tensor("pipeline_latents");
        Golden.assertClose("decode(latents / sf)", vae.decode(vae.unscale(latents)),
                ref.tensor("decode_of_pipeline_latents"), TOL);
        Golden.assertClose("decode(latents)", vae.decode(latents), ref.tensor("decode_of_pipeline_latents_unscaled"),
                TOL);
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
}
