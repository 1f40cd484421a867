package dev.pagoda.diffusion.singlefile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pagoda.diffusion.pipeline.AutoPipelineForInpainting;
import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.nn.Module;
import dev.pagoda.nn.Parameter;
import dev.pagoda.nn.clip.ClipTextModel;
import dev.pagoda.nn.unet.UNet2DConditionModel;
import dev.pagoda.nn.vae.AutoencoderKL;
import dev.pagoda.tensor.DType;
import dev.pagoda.tensor.Tensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The full-size SDXL layout: a header-only (sparse) float16 file with every tensor of
 * {@code sd_xl_base_1.0.safetensors} as the diffusers script names and shapes it loads, bare, with the
 * configs and tokenizers Pagoda ships; every key and shape is checked by the strict loader. No weight
 * data is read, so the 7 GB file costs no disk or memory.
 */
class RealSizeLayoutTest {

    @TempDir
    Path tmp;

    private static Map<String, Tensor> shapesOf(Module m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            int[] shape = e.getValue().shape();
            int[] ones = new int[shape.length];
            Arrays.fill(ones, 1);
            out.put(e.getKey(), Tensor.zeros(DType.F16, ones).expand(shape));
        }
        return out;
    }

    private static Path sparseCheckpoint(Path file, int inChannels) throws IOException {
        Path cfg = ShippedConfigs.folder(CheckpointFamily.SDXL_BASE);
        Map<String, Map<String, Tensor>> parts = new LinkedHashMap<>();
        parts.put("unet", shapesOf(UNet2DConditionModel.fromConfig(cfg.resolve("unet/config.json"))));
        parts.put("vae", shapesOf(AutoencoderKL.fromConfig(cfg.resolve("vae/config.json"))));
        parts.put("text_encoder", shapesOf(ClipTextModel.fromConfig(cfg.resolve("text_encoder/config.json"))));
        parts.put("text_encoder_2", shapesOf(ClipTextModel.fromConfig(cfg.resolve("text_encoder_2/config.json"))));
        StringBuilder json = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, SgmCheckpointWriter.Source> e : SgmCheckpointWriter.convert(parts).entrySet()) {
            int[] shape = e.getValue().shape();
            if (e.getKey().equals("model.diffusion_model.input_blocks.0.0.weight")) {
                shape[1] = inChannels;
            }
            long n = 2;
            for (int d : shape) {
                n *= d;
            }
            if (json.length() > 1) {
                json.append(',');
            }
            json.append('"').append(e.getKey()).append("\":{\"dtype\":\"F16\",\"shape\":")
                    .append(Arrays.toString(shape).replace(" ", "")).append(",\"data_offsets\":[")
                    .append(offset).append(',').append(offset + n).append("]}");
            offset += n;
        }
        json.append('}');
        while (json.length() % 8 != 0) {
            json.append(' ');
        }
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] len = new byte[8];
            for (int i = 0; i < 8; i++) {
                len[i] = (byte) ((long) header.length >>> (8 * i));
            }
            raf.write(len);
            raf.write(header);
            raf.setLength(8 + header.length + offset);
        }
        return file;
    }

    @Test
    void bareSdxlBaseCheckpointLoadsWithTheShippedConfigs() throws IOException {
        Path file = sparseCheckpoint(tmp.resolve("sd_xl_base_1.0.safetensors"), 4);
        try (SdxlPipeline p = AutoPipelineForText2Image.fromSingleFile(file, PipelineOptions.defaults())) {
            assertEquals(2_567_463_684L, p.components().unet().parameterCount());
            assertEquals(1280, p.components().textEncoder2().config().hiddenSize());
            // the shipped tokenizers: <|startoftext|> <|endoftext|>, then each one's pad token
            int[] ids = p.components().tokenizer().encode("").inputIds();
            int[] ids2 = p.components().tokenizer2().encode("").inputIds();
            assertEquals(List.of(49406, 49407, 49407), List.of(ids[0], ids[1], ids[2]));
            assertEquals(List.of(49406, 49407, 0), List.of(ids2[0], ids2[1], ids2[2]));
        }
    }

    @Test
    void bareInpaintingCheckpointGetsANineChannelUnet() throws IOException {
        Path file = sparseCheckpoint(tmp.resolve("sd_xl_inpaint.safetensors"), 9);
        try (SdxlPipeline p = AutoPipelineForInpainting.fromSingleFile(file, PipelineOptions.defaults())) {
            assertEquals(9, p.components().unet().config().inChannels());
        }
        try (SingleFileCheckpoint c = SingleFileCheckpoint.open(file)) {
            assertEquals(CheckpointFamily.SDXL_INPAINTING, c.family());
        }
    }
}
