package dev.pagoda.diffusion.conformance;

import dev.pagoda.tensor.golden.GoldenFixtures;
import dev.pagoda.diffusion.image.ImageSource;
import dev.pagoda.diffusion.ipadapter.IpAdapters;
import dev.pagoda.diffusion.pipeline.SdxlComponents;
import dev.pagoda.nn.clip.ClipVisionModel;
import dev.pagoda.nn.ipadapter.ImageProjector;
import dev.pagoda.tensor.Tensor;
import dev.pagoda.tensor.safetensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The IP-Adapter part of a pipeline case: loads the adapter as the case's {@code created_with}
 * says ({@code subfolder}, {@code weight_name}, {@code image_encoder_folder}, {@code ip_adapter_scale})
 * and checks the recorded component tensors ({@code ip.*}): processor output, image encoder
 * penultimate state of the image and of zeros, and the image projection of both.
 */
final class IpAdapterCases {

    /** Preprocessing is elementwise float32 arithmetic: only rounding may differ. */
    static final double PIXEL_TOL = 1e-6;

    private IpAdapterCases() {
    }

    static void load(Fixtures fx, Map<String, Object> c, Map<String, Object> params, SdxlComponents parts) {
        Path repo = fx.golden().path((String) c.get("ip_adapter_model"));
        String how = (String) c.getOrDefault("created_with", "");
        String sub = arg(how, "subfolder", "");
        String weight = arg(how, "weight_name", null);
        if (weight == null) {
            throw new IllegalArgumentException("case: created_with names no weight_name for the IP-Adapter");
        }
        String enc = arg(how, "image_encoder_folder", "image_encoder");
        // diffusers: a folder name without "/" is inside the subfolder, a path is from the repository root
        Path encoder = enc.contains("/") ? repo.resolve(enc) : repo.resolve(sub).resolve(enc);
        parts.loadIpAdapter(List.of(repo.resolve(sub).resolve(weight)), encoder);
        if (params.get("ip_adapter_scale") instanceof Number s) {
            parts.setIpAdapterScale(List.of(s));
        }
    }

    static void checkComponents(Fixtures fx, String name, Map<String, Object> params, SdxlComponents parts,
            SafetensorsFile ref, Checks chk) {
        IpAdapters st = parts.ipAdapters();
        Tensor px = st.featureExtractor().preprocess(
                ImageSource.load(fx.golden().caseDir(name).resolve((String) params.get("ip_adapter_image")).toString()));
        if (ref.contains("ip.pixel_values")) {
            chk.abs("ip.pixel_values", px, ref.tensor("ip.pixel_values"), PIXEL_TOL);
        }
        ClipVisionModel enc = st.imageEncoder();
        Tensor pos = enc.forward(px).penultimateHiddenState();
        Tensor neg = enc.forward(Tensor.zeros(px.shape())).penultimateHiddenState();
        rel(chk, ref, "ip.image_encoder_penultimate", pos);
        rel(chk, ref, "ip.image_encoder_penultimate_zeros", neg);
        ImageProjector proj = st.adapters().get(0).projection();
        rel(chk, ref, "ip.resampler_out", proj.project(pos));
        rel(chk, ref, "ip.resampler_out_zeros", proj.project(neg));
    }

    private static void rel(Checks chk, SafetensorsFile ref, String key, Tensor got) {
        if (ref.contains(key)) {
            chk.rel(key, got, ref.tensor(key), ModelCases.INTERMEDIATE_TOL);
        }
    }

    private static String arg(String call, String key, String dflt) {
        Matcher m = Pattern.compile(key + "\\s*=\\s*'([^']*)'").matcher(call);
        return m.find() ? m.group(1) : dflt;
    }
}
