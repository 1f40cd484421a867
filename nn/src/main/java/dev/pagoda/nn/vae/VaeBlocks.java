package dev.pagoda.nn.vae;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.attention.Attention;
import dev.pagoda.nn.unet.Downsample2D;
import dev.pagoda.nn.unet.ResnetBlock2D;
import dev.pagoda.nn.unet.Upsample2D;
import dev.pagoda.tensor.Tensor;

/** The VAE's blocks: {@code DownEncoderBlock2D}, {@code UNetMidBlock2D}, {@code UpDecoderBlock2D}. */
final class VaeBlocks {

    static final float EPS = 1e-6f;

    private VaeBlocks() {
    }

    static final class DownEncoderBlock extends Module {
        private final ModuleList<ResnetBlock2D> resnets;
        private final ModuleList<Downsample2D> downsamplers;

        DownEncoderBlock(int in, int out, int layers, int groups, boolean downsample) {
            this.resnets = child("resnets", new ModuleList<>());
            for (int i = 0; i < layers; i++) {
                resnets.add(new ResnetBlock2D(i == 0 ? in : out, out, 0, groups, EPS));
            }
            this.downsamplers = downsample ? child("downsamplers", new ModuleList<>()) : null;
            if (downsample) {
                downsamplers.add(new Downsample2D(out, 0));
            }
        }

        Tensor forward(Tensor h) {
            for (ResnetBlock2D r : resnets.items()) {
                h = r.forward(h, null);
            }
            return downsamplers == null ? h : downsamplers.get(0).forward(h);
        }
    }

    static final class MidBlock extends Module {
        private final ModuleList<Attention> attentions;
        private final ModuleList<ResnetBlock2D> resnets;

        MidBlock(int channels, int groups, boolean attention) {
            this.attentions = attention ? child("attentions", new ModuleList<>()) : null;
            this.resnets = child("resnets", new ModuleList<>());
            resnets.add(new ResnetBlock2D(channels, channels, 0, groups, EPS));
            if (attention) {
                attentions.add(new Attention(channels, 0, 1, channels, true, groups, EPS));
            }
            resnets.add(new ResnetBlock2D(channels, channels, 0, groups, EPS));
        }

        Tensor forward(Tensor h) {
            h = resnets.get(0).forward(h, null);
            if (attentions != null) {
                h = attentions.get(0).forwardImage(h);
            }
            return resnets.get(1).forward(h, null);
        }
    }

    static final class UpDecoderBlock extends Module {
        private final ModuleList<ResnetBlock2D> resnets;
        private final ModuleList<Upsample2D> upsamplers;

        UpDecoderBlock(int in, int out, int layers, int groups, boolean upsample) {
            this.resnets = child("resnets", new ModuleList<>());
            for (int i = 0; i < layers; i++) {
                resnets.add(new ResnetBlock2D(i == 0 ? in : out, out, 0, groups, EPS));
            }
            this.upsamplers = upsample ? child("upsamplers", new ModuleList<>()) : null;
            if (upsample) {
                upsamplers.add(new Upsample2D(out));
            }
        }

        Tensor forward(Tensor h) {
            for (ResnetBlock2D r : resnets.items()) {
                h = r.forward(h, null);
            }
            return upsamplers == null ? h : upsamplers.get(0).forward(h);
        }
    }
}
