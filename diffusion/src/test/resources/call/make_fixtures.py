"""Records diffusers 0.31 reference outputs for Pagoda's SDXL call-surface tests (issue 15).

Cases (all float32 on CPU):
  rescale.safetensors  rescale_noise_cfg (pipeline_stable_diffusion_xl) after CFG: for seeds 0..7,
                       uncond.<s>, text.<s> [2, 4, 16, 16] and out.<s> =
                       rescale_noise_cfg(uncond + 5 * (text - uncond), text, guidance_rescale=0.7).
  inpaint9/unet/       a 9-channel inpainting UNet: the tiny-sdxl UNet config with in_channels 9,
                       initialised with torch.manual_seed(0), weights rounded to float16 (stored F16;
                       the reference computes with the rounded values in float32).
  inpaint9.safetensors StableDiffusionXLInpaintPipeline with that UNet and golden tiny-sdxl's VAE and
                       scheduler, strength 1.0 (diffusers does not VAE-encode the init image there),
                       prompt "a yellow sun in a clear blue sky", golden sdxl_inpaint_cfg_pag's
                       input.png / mask.png, 128x128, 3 steps, guidance 5, seed 7, output_type latent:
                       output.latent, plus noise.<i> for each draw the generator made.

transformers is not installed here: pystub/ holds a stand-in package with the class names diffusers'
pipeline modules import (they are never constructed). The text encoders are not run: the prompt
embeddings are golden sdxl_inpaint_cfg_pag's recorded denoiser0.encoder_hidden_states /
text_embeds cond rows (transformers 4.45.0.dev0 made them for exactly this prompt), passed as
prompt_embeds / pooled_prompt_embeds; the negative side is diffusers' zeros
(force_zeros_for_empty_prompt with no negative prompt).

Run from the repository root (diffusers v0.31.0 source tree, Debian python3-torch 1.13.1):
    PYTHONPATH=diffusion/src/test/resources/call/pystub:/work/ref/pyshim:/work/ref/diffusers/src:/work/ref/huggingface_hub/src \
        /usr/bin/python3 diffusion/src/test/resources/call/make_fixtures.py
"""

import json
import os

import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl import rescale_noise_cfg
from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl_inpaint import (
    StableDiffusionXLInpaintPipeline,
)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
GOLDEN = os.path.join(ROOT, "golden")
TINY = os.path.join(GOLDEN, "models", "tiny-sdxl")
CASE = os.path.join(GOLDEN, "cases", "sdxl_inpaint_cfg_pag")

torch.set_grad_enabled(False)

# --- rescale_noise_cfg ---------------------------------------------------------------------------
rescale = {}
for s in range(8):
    g = torch.Generator().manual_seed(s)
    uncond = torch.randn(2, 4, 16, 16, generator=g)
    text = torch.randn(2, 4, 16, 16, generator=g) * 1.3 + 0.05
    guided = uncond + 5.0 * (text - uncond)
    rescale[f"uncond.{s}"] = uncond
    rescale[f"text.{s}"] = text
    rescale[f"out.{s}"] = rescale_noise_cfg(guided, text, guidance_rescale=0.7)
save_file(rescale, os.path.join(HERE, "rescale.safetensors"))

# --- 9-channel inpainting at strength 1 ------------------------------------------------------------
with open(os.path.join(TINY, "unet", "config.json")) as f:
    cfg = json.load(f)
cfg["in_channels"] = 9
torch.manual_seed(0)
unet = UNet2DConditionModel.from_config({k: v for k, v in cfg.items() if not k.startswith("_")})
with torch.no_grad():
    for p in unet.parameters():
        p.copy_(p.half().float())
unet.eval()
out_unet = os.path.join(HERE, "inpaint9", "unet")
os.makedirs(out_unet, exist_ok=True)
cfg["_class_name"] = "UNet2DConditionModel"
cfg["_diffusers_version"] = "0.31.0"
with open(os.path.join(out_unet, "config.json"), "w") as f:
    json.dump(cfg, f, indent=2, sort_keys=True)
save_file({k: v.half().contiguous() for k, v in unet.state_dict().items()},
          os.path.join(out_unet, "diffusion_pytorch_model.safetensors"))

vae = AutoencoderKL.from_pretrained(os.path.join(TINY, "vae"))
scheduler = EulerDiscreteScheduler.from_pretrained(os.path.join(TINY, "scheduler"))
pipe = StableDiffusionXLInpaintPipeline(vae=vae, text_encoder=None, text_encoder_2=None, tokenizer=None,
                                        tokenizer_2=None, unet=unet, scheduler=scheduler)
pipe.set_progress_bar_config(disable=True)
golden = load_file(os.path.join(CASE, "tensors.safetensors"))
embeds = golden["denoiser0.encoder_hidden_states"][1:2].clone()
pooled = golden["denoiser0.text_embeds"][1:2].clone()

draws = []
_randn = torch.randn


def recording_randn(*args, **kwargs):
    x = _randn(*args, **kwargs)
    if kwargs.get("generator") is not None:
        draws.append(x.clone())
    return x


torch.randn = recording_randn
result = pipe(prompt_embeds=embeds, pooled_prompt_embeds=pooled,
              image=Image.open(os.path.join(CASE, "input.png")), mask_image=Image.open(os.path.join(CASE, "mask.png")),
              height=128, width=128, strength=1.0, num_inference_steps=3, guidance_scale=5.0,
              generator=torch.Generator("cpu").manual_seed(7), output_type="latent").images
torch.randn = _randn
tensors = {"output.latent": result.contiguous()}
for i, d in enumerate(draws):
    tensors[f"noise.{i}"] = d
save_file(tensors, os.path.join(HERE, "inpaint9.safetensors"))
print("rescale cases 8; inpaint9 draws", len(draws), [tuple(d.shape) for d in draws])
