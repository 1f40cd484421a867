"""A tiny SD 1.5 ControlNet and diffusers 0.31 reference runs of StableDiffusionControlNetPAGPipeline (issue 15).

tiny-sd15-controlnet/  ControlNetModel.from_unet(../sd15/models/tiny-sd15's UNet, conditioning_embedding_out_channels
                       (8, 8, 16, 16)), then every parameter redrawn with torch.manual_seed(1) (normal, std 0.2:
                       from_unet zero-initialises the zero convolutions, which would make the net a no-op and the
                       test unable to fail), rounded to float16 and stored F16.
cfg_pag.safetensors    CFG 7.5 + PAG 3 on ["mid"], controlnet_conditioning_scale 0.7, golden
                       sdxl_controlnet_cfg_pag's control.png at 64x64 (PIL resize), seed 4, 3 steps, the model's
                       PNDM scheduler, output_type latent.
two_nets.safetensors   two nets (the same net twice, scales 0.5 and 0.9, control_guidance_end [1.0, 0.5]), seed 5.
                       (Not guess_mode: with CFG and PAG, diffusers 0.31's pipeline fails there, splitting the
                       three-chunk batch in two.)

The text encoder is not run (transformers is not installed; ../call/pystub has stand-in class names only):
prompt_embeds / negative_prompt_embeds are golden text_encoders' te1 last_hidden_state for p0 (the
astronaut prompt) and p1 (""), what SD's encode_prompt gives for no negative prompt.

Run from the repository root (diffusers v0.31.0 source tree, Debian python3-torch 1.13.1):
    PYTHONPATH=diffusion/src/test/resources/call/pystub:/work/ref/pyshim:/work/ref/diffusers/src:/work/ref/huggingface_hub/src \\
        /usr/bin/python3 diffusion/src/test/resources/sd15controlnet/make_fixtures.py
(/work/ref/pyshim: a pure-Python safetensors stand-in; for torch 1.13, F.scaled_dot_product_attention as the plain
float32 softmax(q k^T * scale) v, and an empty torch._dynamo.eval_frame.OptimizedModule class for diffusers'
isinstance checks.)
"""
import json
import os
import shutil

import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from diffusers import AutoencoderKL, ControlNetModel, PNDMScheduler, UNet2DConditionModel
from diffusers.pipelines.controlnet.multicontrolnet import MultiControlNetModel
from diffusers.pipelines.pag.pipeline_pag_controlnet_sd import StableDiffusionControlNetPAGPipeline

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
GOLDEN = os.path.join(ROOT, "golden")
SD = os.path.join(HERE, "..", "sd15", "models", "tiny-sd15")
NET = os.path.join(HERE, "tiny-sd15-controlnet")
torch.set_grad_enabled(False)

unet = UNet2DConditionModel.from_pretrained(os.path.join(SD, "unet"))
vae = AutoencoderKL.from_pretrained(os.path.join(SD, "vae"))
net = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(8, 8, 16, 16))
torch.manual_seed(1)
for p in net.parameters():
    p.copy_((torch.randn_like(p) * 0.2).half().float())
net.eval()
shutil.rmtree(NET, ignore_errors=True)
os.makedirs(NET)
cfg = dict(net.config)
cfg["_class_name"] = "ControlNetModel"
cfg["_diffusers_version"] = "0.31.0"
with open(os.path.join(NET, "config.json"), "w") as f:
    json.dump({k: v for k, v in cfg.items() if not k.startswith("_use_default") and k != "_name_or_path"}, f, indent=2,
              sort_keys=True, default=list)
save_file({k: v.half().contiguous() for k, v in net.state_dict().items()},
          os.path.join(NET, "diffusion_pytorch_model.safetensors"))
net = ControlNetModel.from_pretrained(NET)

te = load_file(os.path.join(GOLDEN, "cases", "text_encoders", "tensors.safetensors"))
POS, NEG = te["p0.te1.last_hidden_state"], te["p1.te1.last_hidden_state"]
control = Image.open(os.path.join(GOLDEN, "cases", "sdxl_controlnet_cfg_pag", "control.png")).convert("RGB")
control.resize((64, 64)).save(os.path.join(HERE, "control64.png"))
control = Image.open(os.path.join(HERE, "control64.png"))


def run(name, controlnet, **kwargs):
    pipe = StableDiffusionControlNetPAGPipeline(vae=vae, text_encoder=None, tokenizer=None, unet=unet,
                                                controlnet=controlnet,
                                                scheduler=PNDMScheduler.from_pretrained(os.path.join(SD, "scheduler")),
                                                safety_checker=None, feature_extractor=None,
                                                requires_safety_checker=False, pag_applied_layers=["mid"])
    pipe.set_progress_bar_config(disable=True)
    out = pipe(prompt_embeds=POS.clone(), negative_prompt_embeds=NEG.clone(), guidance_scale=7.5, pag_scale=3.0,
               num_inference_steps=3, output_type="latent", **kwargs).images
    save_file({"output.latent": out.contiguous()}, os.path.join(HERE, name + ".safetensors"))
    print(name, tuple(out.shape), float(out.abs().max()))


run("cfg_pag", net, image=control, controlnet_conditioning_scale=0.7, generator=torch.Generator().manual_seed(4))
run("two_nets", MultiControlNetModel([net, net]), image=[control, control],
    controlnet_conditioning_scale=[0.5, 0.9], control_guidance_end=[1.0, 0.5], generator=torch.Generator().manual_seed(5))
