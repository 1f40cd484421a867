package dev.pagoda.diffusion.ipadapter;

import dev.pagoda.diffusion.guidance.GuidedBatch;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.nn.clip.ClipVisionModel;
import dev.pagoda.nn.clip.ClipVisionOutput;
import dev.pagoda.nn.ipadapter.IpAdapter;
import dev.pagoda.nn.ipadapter.IpAdapterException;
import dev.pagoda.nn.ipadapter.ImageProjector;
import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One call's IP-Adapter conditioning, as diffusers' {@code prepare_ip_adapter_image_embeds} and the
 * UNet's {@code encoder_hid_proj} make it: each adapter's images are encoded (penultimate hidden
 * state for plus, {@code image_embeds} for plain), the negative is the encoding of a zero image
 * (plus) or zeros (plain), both repeated per image per prompt and laid out by the
 * {@link GuidedBatch} ([negative, positive, positive] with CFG and PAG), then projected to tokens.
 */
public final class IpAdapterConditioning {

    private IpAdapterConditioning() {
    }

    /**
     * @param images per adapter, its images (null when {@code embeds} are given)
     * @param embeds per adapter, precomputed embeds (null when {@code images} are given)
     * @param device where the UNet runs; the tokens are made resident there
     */
    public static IpAdapterPlan prepare(IpAdapters st, List<List<BufferedImage>> images, List<Tensor> embeds,
            GuidedBatch batch, int imagesPerPrompt, Backend device) {
        if (st.isEmpty()) {
            if (images != null || embeds != null) {
                throw new IpAdapterException("ip_adapter_image / ip_adapter_image_embeds given, but no IP-Adapter is"
                        + " loaded (load_ip_adapter first)");
            }
            return IpAdapterPlan.NONE;
        }
        int n = st.adapters().size();
        if (images == null && embeds == null) {
            throw new IpAdapterException(n + " IP-Adapter(s) loaded: the call needs ip_adapter_image or"
                    + " ip_adapter_image_embeds (or unload_ip_adapter)");
        }
        boolean cfg = batch.has(GuidedBatch.Term.UNCOND);
        int given = images != null ? images.size() : embeds.size();
        if (given != n) {
            throw new IpAdapterException((images != null ? "ip_adapter_image" : "ip_adapter_image_embeds")
                    + " must have the same length as the number of IP-Adapters: got " + given + " for " + n
                    + " adapter(s)");
        }
        List<IpAdapterPlan.Adapter> adapters = new ArrayList<>();
        List<Tensor> batched = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            IpAdapter a = st.adapters().get(i);
            Tensor[] negPos = images != null ? encode(st, a, images.get(i), i) : split(embeds.get(i), cfg, i, a);
            Tensor neg = repeat(negPos[0], imagesPerPrompt);
            Tensor pos = repeat(negPos[1], imagesPerPrompt);
            Tensor rows = batch.conditioning(cfg ? neg : null, pos);
            batched.add(rows);
            adapters.add(new IpAdapterPlan.Adapter(a.weights(), device.resident(project(a.projection(), rows)),
                    st.scales().get(i)));
        }
        return new IpAdapterPlan(adapters, batched);
    }

    /** {@code [B, k, ...]} embeds to {@code [B, k·tokens, crossDim]} ({@code MultiIPAdapterImageProjection}). */
    static Tensor project(ImageProjector p, Tensor embeds) {
        int b = embeds.dim(0);
        int k = embeds.dim(1);
        int[] s = embeds.shape();
        int[] flat = new int[s.length - 1];
        flat[0] = b * k;
        System.arraycopy(s, 2, flat, 1, s.length - 2);
        Tensor t = p.project(embeds.contiguous().reshape(flat));
        return t.reshape(b, k * t.dim(1), t.dim(2));
    }

    /** [negative, positive] per-prompt embeds {@code [1, k, ...]} of one adapter's images. */
    private static Tensor[] encode(IpAdapters st, IpAdapter a, List<BufferedImage> imgs, int index) {
        ClipVisionModel enc = st.imageEncoder();
        if (enc == null) {
            throw new IpAdapterException("ip_adapter_image needs an image encoder: load the IP-Adapter with one (or"
                    + " pass ip_adapter_image_embeds)");
        }
        if (imgs.isEmpty()) {
            throw new IpAdapterException("ip_adapter_image " + index + ": no image");
        }
        List<Tensor> pixels = new ArrayList<>();
        for (BufferedImage img : imgs) {
            pixels.add(st.featureExtractor().preprocess(img));
        }
        Backend cpu = Backend.cpu();
        Tensor px = cpu.concat(0, pixels.toArray(Tensor[]::new));
        ClipVisionOutput out = enc.forward(px);
        Tensor pos;
        Tensor neg;
        if (a.projection().usesHiddenStates()) {
            pos = cpu.toHost(out.penultimateHiddenState());
            neg = cpu.toHost(enc.forward(Tensor.zeros(px.shape())).penultimateHiddenState());
        } else {
            pos = cpu.toHost(out.imageEmbeds());
            neg = Tensor.zeros(pos.shape());
        }
        return new Tensor[] {neg.unsqueeze(0), pos.unsqueeze(0)};
    }

    /** Precomputed embeds: {@code [2·m, k, ...]} halves (negative, positive) with CFG, else all positive. */
    private static Tensor[] split(Tensor e, boolean cfg, int index, IpAdapter a) {
        int rank = a.projection().usesHiddenStates() ? 4 : 3;
        int last = e.dim(e.rank() - 1);
        if (e.rank() != rank || last != a.projection().inputDim()) {
            throw new IpAdapterException("ip_adapter_image_embeds " + index + ": expected " + (rank == 4
                    ? "[B, images, tokens, " : "[B, images, ") + a.projection().inputDim() + "], got "
                    + Shapes.str(e.shape()));
        }
        if (!cfg) {
            return new Tensor[] {Tensor.zeros(e.shape()), e};
        }
        if (e.dim(0) % 2 != 0) {
            throw new IpAdapterException("ip_adapter_image_embeds " + index + ": with classifier-free guidance the"
                    + " first axis holds [negative, positive] and must be even, got " + Shapes.str(e.shape()));
        }
        Tensor[] halves = e.chunk(2, 0);
        return new Tensor[] {halves[0], halves[1]};
    }

    private static Tensor repeat(Tensor x, int n) {
        return n == 1 ? x : Backend.cpu().concat(0, Collections.nCopies(n, x).toArray(Tensor[]::new));
    }
}
