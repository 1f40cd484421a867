package dev.pagoda.nn.vae;

import dev.pagoda.nn.JsonConfig;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.layers.Conv2d;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.nio.file.Path;

/**
 * diffusers' {@code AutoencoderKL}: {@link #encode} an image in [-1, 1] to a diagonal Gaussian over
 * latents, {@link #decode} latents back to an image. Large inputs can be processed in overlapping
 * tiles blended linearly at the seams ({@link #setTiling}), as diffusers' {@code enable_tiling}.
 */
public final class AutoencoderKL extends Module {

    private final VaeConfig config;
    private final Encoder encoder;
    private final Decoder decoder;
    private final Conv2d quantConv;
    private final Conv2d postQuantConv;
    /** Tile edge in pixels (diffusers' {@code tile_sample_min_size}); 0: tiling off. One field, so a reader sees one setting. */
    private volatile int tileSampleSize;

    public AutoencoderKL(VaeConfig c) {
        this.config = c;
        int lat = c.latentChannels();
        this.encoder = child("encoder", new Encoder(c));
        this.decoder = child("decoder", new Decoder(c));
        this.quantConv = c.useQuantConv() ? child("quant_conv", new Conv2d(2 * lat, 2 * lat, 1, 1, 0)) : null;
        this.postQuantConv = c.usePostQuantConv() ? child("post_quant_conv", new Conv2d(lat, lat, 1, 1, 0)) : null;
    }

    public static AutoencoderKL fromConfig(Path configJson) {
        JsonConfig c = JsonConfig.read(configJson);
        return c.build(() -> new AutoencoderKL(VaeConfig.from(c)));
    }

    public VaeConfig config() {
        return config;
    }

    /** Pixels per latent along each axis (8 for SD VAEs). */
    public int scale() {
        return 1 << (config.blockOutChannels().length - 1);
    }

    /**
     * Enables tiled encode/decode for inputs larger than one tile, with diffusers' default tile: the
     * config's {@code sample_size} (1024 px for SDXL, so a 1024² image is still decoded whole).
     */
    public void setTiling(boolean on) {
        setTiling(on, config.sampleSize());
    }

    /**
     * Tiling with a tile of {@code tileSampleSize} pixels ({@code tileSampleSize / 8} latents), as a diffusers
     * user sets {@code vae.tile_sample_min_size} and {@code vae.tile_latent_min_size}: smaller tiles bound the
     * decoder's activation memory (a 512-px tile holds a quarter of a 1024² decode's), at the cost of more
     * overlap to compute.
     *
     * @throws IllegalArgumentException when the tile is not a positive multiple of the VAE's scale
     */
    public void setTiling(boolean on, int tileSampleSize) {
        if (on && (tileSampleSize < scale() || tileSampleSize % scale() != 0)) {
            throw new IllegalArgumentException("VAE tile size must be a positive multiple of " + scale()
                    + " pixels, got " + tileSampleSize);
        }
        this.tileSampleSize = on ? tileSampleSize : 0;
    }

    /** The tile edge in pixels, or 0 when tiling is off. */
    public int tileSampleSize() {
        return tileSampleSize;
    }

    /** The latent distribution of an image batch {@code x[B, 3, H, W]} in [-1, 1]. */
    public LatentDistribution encode(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != config.inChannels()) {
            throw new IllegalArgumentException("VAE encode: image must be [B, " + config.inChannels()
                    + ", H, W], got " + Shapes.str(x.shape()));
        }
        if (x.dim(2) % scale() != 0 || x.dim(3) % scale() != 0) {
            throw new IllegalArgumentException("VAE encode: image height and width must be multiples of " + scale()
                    + ", got " + x.dim(2) + "x" + x.dim(3));
        }
        int tile = tileSampleSize;
        Tensor moments = tile > 0 && (x.dim(2) > tile || x.dim(3) > tile)
                ? Tiling.run(x, tile, tile / scale(), this::moments)
                : moments(x);
        return LatentDistribution.of(moments);
    }

    private Tensor moments(Tensor x) {
        Tensor h = encoder.forward(x);
        return quantConv == null ? h : quantConv.forward(h);
    }

    /** Decodes unscaled latents {@code z[B, latent, h, w]} to an image in (about) [-1, 1]. */
    public Tensor decode(Tensor z) {
        if (z.rank() != 4 || z.dim(1) != config.latentChannels()) {
            throw new IllegalArgumentException("VAE decode: latents must be [B, " + config.latentChannels()
                    + ", h, w], got " + Shapes.str(z.shape()));
        }
        int tile = tileSampleSize;
        int tileLatent = tile / scale();
        if (tile > 0 && (z.dim(2) > tileLatent || z.dim(3) > tileLatent)) {
            return Tiling.run(z, tileLatent, tile, this::decodeTile);
        }
        return decodeTile(z);
    }

    private Tensor decodeTile(Tensor z) {
        Tensor h = postQuantConv == null ? z : postQuantConv.forward(z);
        return decoder.forward(h);
    }

    /**
     * Pipeline latents → VAE latents, as diffusers' SDXL pipelines before decoding:
     * {@code z · latents_std / scaling_factor + latents_mean} per channel when the config gives both
     * statistics, else {@code z / scaling_factor + shift_factor}. A true division, as diffusers does:
     * multiplying by the reciprocal is up to 1 ulp off.
     */
    public Tensor unscale(Tensor latents) {
        Backend be = latents.backend();
        Tensor sf = Tensor.of(new float[] {config.scalingFactor()}, 1);
        if (config.hasLatentsMeanStd()) {
            Tensor z = be.div(be.mul(latents, channelVector(be, config.latentsStd())), sf);
            return be.add(z, channelVector(be, config.latentsMean()));
        }
        Tensor z = be.div(latents, sf);
        return config.shiftFactor() == null ? z : be.affine(z, 1f, config.shiftFactor());
    }

    /**
     * VAE latents → pipeline latents, as diffusers' SDXL image-to-image encode:
     * {@code (z - latents_mean) · scaling_factor / latents_std} per channel when the config gives both
     * statistics, else {@code (z - shift_factor) · scaling_factor}.
     */
    public Tensor scaleLatents(Tensor z) {
        Backend be = z.backend();
        if (config.hasLatentsMeanStd()) {
            float[] negMean = config.latentsMean().clone();
            for (int c = 0; c < negMean.length; c++) {
                negMean[c] = -negMean[c];
            }
            Tensor centred = be.affine(be.add(z, channelVector(be, negMean)), config.scalingFactor(), 0f);
            return be.div(centred, channelVector(be, config.latentsStd()));
        }
        float shift = config.shiftFactor() == null ? 0f : config.shiftFactor();
        return be.affine(z, config.scalingFactor(), -shift * config.scalingFactor());
    }

    /** {@code z · scaling_factor} alone: diffusers' SDXL inpainting encode ignores shift, mean and std. */
    public Tensor scaleLatentsPlain(Tensor z) {
        return z.backend().affine(z, config.scalingFactor(), 0f);
    }

    private static Tensor channelVector(Backend be, float[] v) {
        return be.resident(Tensor.of(v.clone(), 1, v.length, 1, 1));
    }
}
