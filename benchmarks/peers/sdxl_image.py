#!/usr/bin/env python3
"""The diffusers side of ImageBench and UNetStepBench: an SDXL image (or one UNet step) on the CPU,
from the same random-weight diffusers folder that `dev.pagoda.bench.ImageBench` writes.

    PYTHONPATH=diffusion/src/test/resources/call/pystub:benchmarks/peers/pyshim:<diffusers>/src:<huggingface_hub>/src \
        /usr/bin/python3 \
        benchmarks/peers/sdxl_image.py --model-dir /tmp/pagoda-sdxl-random-f16 --resolution 1024 \
        --steps 25 --guidance cfg+pag --rounds 3 [--threads 2] [--omp-wait passive] [--mode image|step]

What runs is diffusers' own code: UNet2DConditionModel, AutoencoderKL and DPMSolverMultistepScheduler
loaded with from_pretrained (float32, as diffusers runs on a CPU), the denoising loop of
StableDiffusionXLPAGPipeline (scale_model_input, CFG and PAG combination, scheduler.step) and the
VAE decode. Two things differ from calling the pipeline, both because this machine has Debian's
torch 1.13 and no transformers package:
  * the text encoders are not run (transformers is absent): random prompt embeddings of the right
    shapes are used, and the "encode prompt" stage is not timed for the peer;
  * diffusers 0.31's PAG processor (PAGCFGIdentitySelfAttnProcessor2_0) needs torch 2's
    scaled_dot_product_attention; PagCfgIdentity below is the same computation on top of diffusers'
    AttnProcessor (what diffusers itself uses on torch 1.13): attention for the uncond and cond
    chunks, to_out(to_v(x)) for the perturbed chunk.
benchmarks/peers/pyshim holds a small pure-Python `safetensors` (the package is not in Debian's apt); the
pystub is the test suite's stand-in for the few `transformers` names diffusers imports.
The checkouts used: diffusers v0.31.0 and huggingface_hub v0.25.0. Debian packages: python3-torch,
libopenblas0-pthread (without it torch falls back to the single-threaded reference BLAS, many times slower),
python3-packaging, -filelock, -requests, -pil, -numpy, -yaml, -tqdm, -regex, -importlib-metadata, -fsspec.
--mode step times one UNet call at batch 2 (CFG) and 3 (CFG + PAG on "mid") instead.
On a CPU that OpenBLAS 0.3.21 does not recognise it silently uses its Haswell (AVX2) kernels (check with
OPENBLAS_VERBOSE=2); set OPENBLAS_CORETYPE=SkylakeX on an AVX-512 machine so torch's GEMMs are a fair peer.
"""
import argparse
import os
import re
import resource
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--resolution", type=int, default=512)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--guidance", choices=["cfg", "cfg+pag"], default="cfg+pag")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--omp-wait", choices=["default", "passive"], default="default")
    ap.add_argument("--mode", choices=["image", "step"], default="image")
    return ap.parse_args()


args = parse_args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)
if args.omp_wait == "passive":
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import torch  # noqa: E402  (after the thread variables: BLAS reads them when it loads)
from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, UNet2DConditionModel  # noqa: E402
from diffusers.models.attention_processor import Attention, AttnProcessor  # noqa: E402

torch.set_num_threads(args.threads)


class PagCfgIdentity:
    """PAGCFGIdentitySelfAttnProcessor2_0's computation with diffusers' torch-1.x attention."""

    def __init__(self):
        self.plain = AttnProcessor()

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kw):
        uncond, cond, ptb = hidden_states.chunk(3)
        org = self.plain(attn, torch.cat([uncond, cond]), None, attention_mask, temb)
        if attn.group_norm is not None:
            ptb = attn.group_norm(ptb.transpose(1, 2)).transpose(1, 2)
        ptb_out = attn.to_out[1](attn.to_out[0](attn.to_v(ptb)))
        if attn.residual_connection:
            ptb_out = ptb_out + ptb
        return torch.cat([org, ptb_out / attn.rescale_output_factor])


def set_pag(unet, layer):
    """diffusers' layer selection for one pattern (pag_utils._set_pag_attn_processor)."""
    hits = 0
    for name, module in unet.named_modules():
        if isinstance(module, Attention) and not module.is_cross_attention and re.search(layer, name):
            module.set_processor(PagCfgIdentity())
            hits += 1
    return hits


def rss_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1048576.0


def main():
    t0 = time.perf_counter()
    unet = UNet2DConditionModel.from_pretrained(args.model_dir, subfolder="unet", torch_dtype=torch.float32).eval()
    vae = AutoencoderKL.from_pretrained(args.model_dir, subfolder="vae", torch_dtype=torch.float32).eval()
    sched = DPMSolverMultistepScheduler.from_pretrained(args.model_dir, subfolder="scheduler")
    unet.set_attn_processor(AttnProcessor())
    vae.set_attn_processor(AttnProcessor())
    pag = args.guidance == "cfg+pag"
    if pag:
        print(f"PAG on mid: {set_pag(unet, 'mid')} self-attention modules")
    print(f"peer load: {time.perf_counter() - t0:.1f} s, peak RSS {rss_gib():.2f} GiB, torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}")
    cfg = unet.config
    res = args.resolution
    gen = torch.Generator().manual_seed(42)
    rows = 3 if pag else 2
    ehs = torch.randn(1, 77, cfg.cross_attention_dim, generator=gen)
    pooled = torch.randn(1, cfg.projection_class_embeddings_input_dim - 6 * cfg.addition_time_embed_dim, generator=gen)
    # rows: [uncond, cond(, perturbed = cond)]
    ehs_b = torch.cat([torch.zeros_like(ehs)] + [ehs] * (rows - 1))
    pooled_b = torch.cat([torch.zeros_like(pooled)] + [pooled] * (rows - 1))
    ids = torch.tensor([[res, res, 0, 0, res, res]], dtype=torch.float32).repeat(rows, 1)
    cond = {"text_embeds": pooled_b, "time_ids": ids}
    lat_shape = (1, cfg.in_channels, res // 8, res // 8)
    totals = []
    with torch.no_grad():
        for rnd in range(1, args.rounds + 1):
            if args.mode == "step":
                x = torch.randn(lat_shape, generator=gen).repeat(rows, 1, 1, 1)
                s0 = time.perf_counter()
                unet(x, 500, encoder_hidden_states=ehs_b, added_cond_kwargs=cond).sample
                dt = time.perf_counter() - s0
                totals.append(dt)
                print(f"peer step {args.guidance} batch={rows} {res}x{res} round {rnd}: {dt:.2f} s/step, "
                      f"peak RSS {rss_gib():.2f} GiB")
                continue
            sched.set_timesteps(args.steps)
            lat = torch.randn(lat_shape, generator=gen) * sched.init_noise_sigma
            s0 = time.perf_counter()
            for t in sched.timesteps:
                inp = sched.scale_model_input(torch.cat([lat] * rows), t)
                eps = unet(inp, t, encoder_hidden_states=ehs_b, added_cond_kwargs=cond).sample
                if pag:
                    e_u, e_c, e_p = eps.chunk(3)
                    eps = e_u + 5.0 * (e_c - e_u) + 3.0 * (e_c - e_p)
                else:
                    e_u, e_c = eps.chunk(2)
                    eps = e_u + 5.0 * (e_c - e_u)
                lat = sched.step(eps, t, lat).prev_sample
            s1 = time.perf_counter()
            vae.decode(lat / vae.config.scaling_factor).sample
            s2 = time.perf_counter()
            totals.append(s2 - s0)
            print(f"peer image {args.guidance} {res}x{res} steps={args.steps} round {rnd}: total {s2 - s0:.2f} s "
                  f"(encode prompt not run), denoise {s1 - s0:.2f} s, decode {s2 - s1:.2f} s, "
                  f"peak RSS {rss_gib():.2f} GiB")
    totals.sort()
    n = len(totals)
    median = totals[n // 2] if n % 2 else (totals[n // 2 - 1] + totals[n // 2]) / 2
    print(f"peer {args.mode} {args.guidance} {res}x{res}: median {median:.2f} s over {n} rounds")


if __name__ == "__main__":
    sys.exit(main())
