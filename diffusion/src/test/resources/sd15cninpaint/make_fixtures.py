"""diffusers 0.31 reference runs of StableDiffusionControlNetPAGInpaintPipeline for Pagoda (issue 15).

Models (not copied here): ../sd15/models/tiny-sd15 (the SD 1.5-shaped pipeline folder: text encoder,
tokenizer, VAE, PNDM scheduler, 4-channel UNet) and ../sd15controlnet/tiny-sd15-controlnet (the tiny random
ControlNet). New here:
tiny-sd15-inpaint-unet/  a 9-channel inpainting UNet: tiny-sd15's UNet config with in_channels 9
                         (runwayml/stable-diffusion-inpainting's layout: latents, mask, masked-image latents),
                         every parameter drawn by torch.manual_seed(2) at diffusers' init, rounded to float16,
                         stored F16. Loaded by Pagoda as PipelineOptions.unet (diffusers' unet=).
init.png, mask.png       golden sdxl_inpaint_cfg_pag's input.png / mask.png cropped to the box (16, 32, 112, 96):
                         96 wide, 64 high (H != W), the mask still only 0 and 255.
The control image is ../sd15controlnet/control64.png (64x64): diffusers resizes it to 96x64 with PIL's Lanczos.

Cases (every call: prompt_embeds / negative_prompt_embeds = golden text_encoders te1 last_hidden_state of p0 (the
astronaut prompt) and p1 (""), CFG 7.5 + PAG 3 on ["mid"], height 64, width 96, 4 steps, the model's PNDM
scheduler, output_type latent; output.np too for the first):
cfg_pag_strength06.safetensors   one net, controlnet_conditioning_scale 0.7, strength 0.6, seed 6
cfg_pag_strength1.safetensors    one net, scale 0.8, strength 1.0 (diffusers' default), seed 7
two_nets.safetensors             MultiControlNetModel([net, net]), scales [0.5, 0.9], control_guidance_start
                                 [0.0, 0.25], control_guidance_end [1.0, 0.75], strength 0.75, seed 8
nine_channel.safetensors         the 9-channel UNet, one net, scale 0.6, strength 1.0, seed 9
default_scale.safetensors        one net, no controlnet_conditioning_scale (this pipeline's default 0.5), strength
                                 0.6, seed 10
pag_only.safetensors             guidance_scale 1.0 (no CFG: batch [cond, perturbed]), PAG 3 on ["mid", "up_blocks.1"]
                                 (on ["mid"] alone PAG moves this tiny model's latents by only 7e-4 rel), one net,
                                 scale 0.7, strength 0.6, seed 11
diffusers 0.31's pipeline has no guess_mode parameter (it passes guess_mode=False to the nets), so there is no
guess-mode case.

The text encoder is not run (transformers is not installed; ../call/pystub has stand-in class names only).

Run from the repository root (diffusers v0.31.0 source tree, Debian python3-torch 1.13.1):
    PYTHONPATH=diffusion/src/test/resources/call/pystub:/work/ref/pyshim:/work/ref/diffusers/src:/work/ref/huggingface_hub/src \\
        /usr/bin/python3 diffusion/src/test/resources/sd15cninpaint/make_fixtures.py
(/work/ref/pyshim: a pure-Python safetensors stand-in; for torch 1.13, F.scaled_dot_product_attention as the plain
float32 softmax(q k^T * scale) v, and an empty torch._dynamo.eval_frame.OptimizedModule class for diffusers'
isinstance checks.)
"""
import json
import os
import shutil

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from diffusers import AutoencoderKL, ControlNetModel, PNDMScheduler, UNet2DConditionModel
from diffusers.pipelines.controlnet.multicontrolnet import MultiControlNetModel
from diffusers.pipelines.pag.pipeline_pag_controlnet_sd_inpaint import StableDiffusionControlNetPAGInpaintPipeline

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
GOLDEN = os.path.join(ROOT, "golden")
SD = os.path.join(HERE, "..", "sd15", "models", "tiny-sd15")
NET = os.path.join(HERE, "..", "sd15controlnet", "tiny-sd15-controlnet")
UNET9 = os.path.join(HERE, "tiny-sd15-inpaint-unet")
torch.set_grad_enabled(False)

unet = UNet2DConditionModel.from_pretrained(os.path.join(SD, "unet"))
vae = AutoencoderKL.from_pretrained(os.path.join(SD, "vae"))
net = ControlNetModel.from_pretrained(NET)

with open(os.path.join(SD, "unet", "config.json")) as f:
    cfg9 = json.load(f)
cfg9["in_channels"] = 9
torch.manual_seed(2)
unet9 = UNet2DConditionModel.from_config({k: v for k, v in cfg9.items() if not k.startswith("_")})
for p in unet9.parameters():
    p.copy_(p.half().float())
unet9.eval()
shutil.rmtree(UNET9, ignore_errors=True)
os.makedirs(UNET9)
with open(os.path.join(UNET9, "config.json"), "w") as f:
    json.dump(cfg9, f, indent=2, sort_keys=True)
save_file({k: v.half().contiguous() for k, v in unet9.state_dict().items()},
          os.path.join(UNET9, "diffusion_pytorch_model.safetensors"))
unet9 = UNet2DConditionModel.from_pretrained(UNET9)

te = load_file(os.path.join(GOLDEN, "cases", "text_encoders", "tensors.safetensors"))
POS, NEG = te["p0.te1.last_hidden_state"], te["p1.te1.last_hidden_state"]
BOX = (16, 32, 112, 96)
Image.open(os.path.join(GOLDEN, "cases", "sdxl_inpaint_cfg_pag", "input.png")).convert("RGB").crop(BOX).save(
    os.path.join(HERE, "init.png"))
Image.open(os.path.join(GOLDEN, "cases", "sdxl_inpaint_cfg_pag", "mask.png")).convert("L").crop(BOX).save(
    os.path.join(HERE, "mask.png"))
init = Image.open(os.path.join(HERE, "init.png"))
mask = Image.open(os.path.join(HERE, "mask.png"))
assert init.size == (96, 64) and set(np.unique(np.asarray(mask))) == {0, 255}
control = Image.open(os.path.join(HERE, "..", "sd15controlnet", "control64.png"))


def run(name, controlnet, unet=unet, np_too=False, pag_applied_layers=("mid",), **kwargs):
    pipe = StableDiffusionControlNetPAGInpaintPipeline(
        vae=vae, text_encoder=None, tokenizer=None, unet=unet, controlnet=controlnet,
        scheduler=PNDMScheduler.from_pretrained(os.path.join(SD, "scheduler")), safety_checker=None,
        feature_extractor=None, requires_safety_checker=False, pag_applied_layers=list(pag_applied_layers))
    pipe.set_progress_bar_config(disable=True)
    tensors = {}
    for out_type in ("latent", "np") if np_too else ("latent",):
        seed = kwargs["seed"]
        kw = {k: v for k, v in kwargs.items() if k != "seed"}
        kw.setdefault("guidance_scale", 7.5)
        out = pipe(prompt_embeds=POS.clone(), negative_prompt_embeds=NEG.clone(), image=init, mask_image=mask,
                   height=64, width=96, pag_scale=3.0, num_inference_steps=4,
                   generator=torch.Generator().manual_seed(seed), output_type=out_type, **kw).images
        tensors["output." + out_type] = torch.from_numpy(np.ascontiguousarray(out)) if out_type == "np" else out
    save_file({k: v.float().contiguous() for k, v in tensors.items()}, os.path.join(HERE, name + ".safetensors"))
    print(name, {k: (tuple(v.shape), float(v.abs().max())) for k, v in tensors.items()})


run("cfg_pag_strength06", net, np_too=True, control_image=control, controlnet_conditioning_scale=0.7, strength=0.6,
    seed=6)
run("cfg_pag_strength1", net, control_image=control, controlnet_conditioning_scale=0.8, strength=1.0, seed=7)
run("two_nets", MultiControlNetModel([net, net]), control_image=[control, control],
    controlnet_conditioning_scale=[0.5, 0.9], control_guidance_start=[0.0, 0.25], control_guidance_end=[1.0, 0.75],
    strength=0.75, seed=8)
run("nine_channel", net, unet=unet9, control_image=control, controlnet_conditioning_scale=0.6, strength=1.0, seed=9)
run("default_scale", net, control_image=control, strength=0.6, seed=10)
run("pag_only", net, control_image=control, controlnet_conditioning_scale=0.7, guidance_scale=1.0, strength=0.6,
    pag_applied_layers=["mid", "up_blocks.1"], seed=11)
