package dev.pagoda.nn.unet;

import dev.pagoda.nn.Module;
import dev.pagoda.nn.ModuleList;
import dev.pagoda.nn.attention.ContextCache;
import dev.pagoda.nn.attention.IpAdapterPlan;
import dev.pagoda.nn.attention.PagPlan;
import dev.pagoda.nn.attention.Transformer2DModel;
import dev.pagoda.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The down, mid and up blocks of {@code unet_2d_blocks.py}. A down block with attention is
 * {@code CrossAttnDownBlock2D}, without it {@code DownBlock2D}; likewise for up blocks. They share one
 * class each, since the only difference is whether {@code attentions} exists.
 */
public final class UNetBlocks {

    private UNetBlocks() {
    }

    /** Shared arguments of the blocks' forward passes. */
    public record Conditioning(Tensor tembAct, Tensor context, PagPlan pag, IpAdapterPlan ip, ContextCache cache) {
        public Conditioning(Tensor tembAct, Tensor context, PagPlan pag, IpAdapterPlan ip) {
            this(tembAct, context, pag, ip, ContextCache.NONE);
        }

        public Conditioning(Tensor tembAct, Tensor context, PagPlan pag) {
            this(tembAct, context, pag, IpAdapterPlan.NONE);
        }
    }

    /** {@code DownBlock2D} / {@code CrossAttnDownBlock2D}. */
    public static final class DownBlock extends Module {
        private final ModuleList<ResnetBlock2D> resnets;
        private final ModuleList<Transformer2DModel> attentions;
        private final ModuleList<Downsample2D> downsamplers;

        DownBlock(int in, int out, int temb, int layers, int groups, float eps, Attn attn, boolean downsample) {
            // diffusers registers attentions before resnets; named-module order follows it
            this.attentions = attn != null ? child("attentions", new ModuleList<>()) : null;
            this.resnets = child("resnets", new ModuleList<>());
            for (int i = 0; i < layers; i++) {
                resnets.add(new ResnetBlock2D(i == 0 ? in : out, out, temb, groups, eps));
                if (attn != null) {
                    attentions.add(attn.create(out));
                }
            }
            this.downsamplers = downsample ? child("downsamplers", new ModuleList<>()) : null;
            if (downsample) {
                downsamplers.add(new Downsample2D(out, 1));
            }
        }

        /** Runs the block, pushing every skip output onto {@code skips}. */
        public Tensor forward(Tensor h, Conditioning c, List<Tensor> skips) {
            for (int i = 0; i < resnets.size(); i++) {
                h = resnets.get(i).forward(h, c.tembAct());
                if (attentions != null) {
                    h = attentions.get(i).forward(h, c.context(), c.pag(), c.ip(), c.cache());
                }
                skips.add(h);
            }
            if (downsamplers != null) {
                h = downsamplers.get(0).forward(h);
                skips.add(h);
            }
            return h;
        }
    }

    /** {@code UNetMidBlock2DCrossAttn}: resnet, then (transformer, resnet) per layer. */
    public static final class MidBlock extends Module {
        private final ModuleList<ResnetBlock2D> resnets;
        private final ModuleList<Transformer2DModel> attentions;

        MidBlock(int channels, int temb, int groups, float eps, Attn attn) {
            this.attentions = child("attentions", new ModuleList<>());
            this.resnets = child("resnets", new ModuleList<>());
            resnets.add(new ResnetBlock2D(channels, channels, temb, groups, eps));
            attentions.add(attn.create(channels));
            resnets.add(new ResnetBlock2D(channels, channels, temb, groups, eps));
        }

        public Tensor forward(Tensor h, Conditioning c) {
            // the input belongs to the caller; what the block makes is released once consumed
            Tensor r = resnets.get(0).forward(h, c.tembAct());
            for (int i = 0; i < attentions.size(); i++) {
                Tensor a = attentions.get(i).forward(r, c.context(), c.pag(), c.ip(), c.cache());
                r.release();
                r = resnets.get(i + 1).forward(a, c.tembAct());
                a.release();
            }
            return r;
        }
    }

    /** {@code UpBlock2D} / {@code CrossAttnUpBlock2D}. */
    public static final class UpBlock extends Module {
        private final ModuleList<ResnetBlock2D> resnets;
        private final ModuleList<Transformer2DModel> attentions;
        private final ModuleList<Upsample2D> upsamplers;

        UpBlock(int in, int prevOut, int out, int temb, int layers, int groups, float eps, Attn attn,
                boolean upsample) {
            // diffusers registers attentions before resnets; named-module order follows it
            this.attentions = attn != null ? child("attentions", new ModuleList<>()) : null;
            this.resnets = child("resnets", new ModuleList<>());
            for (int i = 0; i < layers; i++) {
                int skip = i == layers - 1 ? in : out;
                int resIn = i == 0 ? prevOut : out;
                resnets.add(new ResnetBlock2D(resIn + skip, out, temb, groups, eps));
                if (attn != null) {
                    attentions.add(attn.create(out));
                }
            }
            this.upsamplers = upsample ? child("upsamplers", new ModuleList<>()) : null;
            if (upsample) {
                upsamplers.add(new Upsample2D(out));
            }
        }

        int layers() {
            return resnets.size();
        }

        /** Consumes skips from the end of {@code skips}. */
        public Tensor forward(Tensor h, Conditioning c, Deque<Tensor> skips) {
            // The input and the skips belong to the caller; what the block makes is released once consumed.
            Tensor input = h;
            for (int i = 0; i < resnets.size(); i++) {
                Tensor skip = skips.removeLast();
                Tensor cat = h.backend().concat(1, h, skip);
                if (h != input) {
                    h.release();
                }
                h = resnets.get(i).forward(cat, c.tembAct());
                cat.release();
                if (attentions != null) {
                    Tensor a = attentions.get(i).forward(h, c.context(), c.pag(), c.ip(), c.cache());
                    h.release();
                    h = a;
                }
            }
            if (upsamplers != null) {
                Tensor up = upsamplers.get(0).forward(h);
                if (h != input) {
                    h.release();
                }
                h = up;
            }
            return h;
        }
    }

    /** How to build a block's transformers; null for blocks without attention. */
    record Attn(int heads, int layers, int crossDim, int groups, boolean linearProjection) {
        Transformer2DModel create(int channels) {
            if (channels % heads != 0) {
                throw new IllegalArgumentException("UNet: " + channels + " channels are not divisible into "
                        + heads + " attention heads");
            }
            return new Transformer2DModel(channels, heads, channels / heads, layers, crossDim, groups,
                    linearProjection);
        }
    }

    /**
     * Adds the down blocks {@code c} describes to {@code into} (UNet and ControlNet build the same
     * ones): block {@code i} maps the previous width to {@code block_out_channels[i]}, every block but
     * the last halves the resolution.
     */
    public static void addDownBlocks(UNetConfig c, ModuleList<DownBlock> into) {
        int[] ch = c.blockOutChannels();
        int n = ch.length;
        int out = ch[0];
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch[i];
            Attn attn = c.downBlockTypes().get(i).equals("CrossAttnDownBlock2D")
                    ? new Attn(c.numAttentionHeads()[i], c.transformerLayersPerBlock()[i], c.crossAttentionDim(),
                            c.normNumGroups(), c.useLinearProjection())
                    : null;
            into.add(new DownBlock(in, out, timeDim(c), c.layersPerBlock()[i], c.normNumGroups(), c.normEps(), attn,
                    i < n - 1));
        }
    }

    /** The {@code UNetMidBlock2DCrossAttn} at the last block's width. */
    public static MidBlock midBlock(UNetConfig c) {
        int[] ch = c.blockOutChannels();
        int n = ch.length;
        return new MidBlock(ch[n - 1], timeDim(c), c.normNumGroups(), c.normEps(),
                new Attn(c.numAttentionHeads()[n - 1], c.transformerLayersPerBlock()[n - 1], c.crossAttentionDim(),
                        c.normNumGroups(), c.useLinearProjection()));
    }

    /** The time embedding width: four times the first block's. */
    public static int timeDim(UNetConfig c) {
        return c.blockOutChannels()[0] * 4;
    }

    static Deque<Tensor> deque(List<Tensor> skips) {
        return new ArrayDeque<>(skips);
    }
}
