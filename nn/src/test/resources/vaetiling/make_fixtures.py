"""Records diffusers 0.31's tiled VAE decode and encode (AutoencoderKL.enable_tiling) on golden tiny-sdxl's VAE,
with its default tile (sample_size 128 px, 16 latents) and with a smaller tile set the way diffusers users do it
(vae.tile_sample_min_size = 64; vae.tile_latent_min_size = 8), for Pagoda's AutoencoderKL.setTiling.

Outputs in tiled.safetensors: input.latents [1, 4, 24, 36] (seeded randn), decode.default and decode.tile64 (the
tiled decodes), input.image [1, 3, 160, 200] (the default decode cropped, clamped to [-1, 1]), encode.tile64
(the tiled encoder moments: mean and logvar concatenated, DiagonalGaussianDistribution.parameters).

Run from the repository root (diffusers v0.31.0 source tree, Debian python3-torch 1.13.1):
    PYTHONPATH=diffusion/src/test/resources/call/pystub:/work/ref/pyshim:/work/ref/diffusers/src:/work/ref/huggingface_hub/src \
        /usr/bin/python3 nn/src/test/resources/vaetiling/make_fixtures.py
(/work/ref/pyshim: a pure-Python safetensors stand-in and torch 2's scaled_dot_product_attention for torch 1.13,
written as softmax(q k^T * scale) v.)
"""

import os

import torch
from safetensors.torch import save_file

from diffusers import AutoencoderKL

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
torch.set_grad_enabled(False)
vae = AutoencoderKL.from_pretrained(os.path.join(ROOT, "golden", "models", "tiny-sdxl", "vae"))
vae.enable_tiling()
z = torch.randn(1, 4, 24, 36, generator=torch.Generator().manual_seed(17))
out = {"input.latents": z}
out["decode.default"] = vae.decode(z).sample
vae.tile_sample_min_size = 64
vae.tile_latent_min_size = 8
out["decode.tile64"] = vae.decode(z).sample
image = out["decode.default"][:, :, :160, :200].clamp(-1, 1).contiguous()
out["input.image"] = image
out["encode.tile64"] = vae.encode(image).latent_dist.parameters
save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(HERE, "tiled.safetensors"))
for k, v in out.items():
    print(k, tuple(v.shape), float(v.abs().max()))
