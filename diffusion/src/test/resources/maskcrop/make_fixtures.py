"""Records diffusers 0.31 reference outputs for `padding_mask_crop` (issue 15).

Two parts:
1. The image operations alone (VaeImageProcessor.get_crop_region, preprocess with crops_coords and
   resize_mode="fill" for the image and the mask, and apply_overlay), on synthetic 8-bit images with masks
   that exercise the three branches of get_crop_region (expand the height, expand the width, clamp at an
   edge) and the fill strips of _resize_and_fill. These are integer PIL operations, so Pagoda must match
   them exactly: ops.json holds the crop boxes, ops.safetensors the preprocessed tensors, overlay_*.png
   apply_overlay's output for a given generated image.
2. StableDiffusionXLPAGInpaintPipeline on golden tiny-sdxl (4-channel UNet, float32, CPU, PAG on "mid",
   guidance 5, PAG scale 3) with padding_mask_crop: the final latents (captured by callback_on_step_end)
   in pipeline.safetensors and the returned PIL image (the overlay on the original) as pipeline_out.png.
3. StableDiffusionControlNetPAGInpaintPipeline (SD 1.5: ../sd15/models/tiny-sd15 with the ControlNet of
   ../sd15controlnet, the 96x64 init image of ../sd15cninpaint) with padding_mask_crop and no height/width
   (diffusers then takes the image's size); the control image is cropped and "fill"-resized too. Its
   prompt embeddings are golden text_encoders' p0 / p1 last_hidden_state (the astronaut prompt and "").
   Outputs: sd_cn.safetensors (final latents), sd_cn_out.png, sd_cn.json.

transformers is not installed here, so the prompt embeddings are golden sdxl_inpaint_cfg_pag's recorded
cond rows (prompt "a yellow sun in a clear blue sky"); the Java test passes the prompt text.

Run from the repository root (diffusers v0.31.0 source tree, Debian python3-torch 1.13.1, numpy 1.24.2,
Pillow 9.4.0):
    PYTHONPATH=diffusion/src/test/resources/call/pystub:/work/ref/pyshim:/work/ref/diffusers/src:/work/ref/huggingface_hub/src \
        /usr/bin/python3 diffusion/src/test/resources/maskcrop/make_fixtures.py
(/work/ref/pyshim: a pure-Python safetensors stand-in and torch 2's scaled_dot_product_attention for
torch 1.13, written as softmax(q k^T * scale) v.)
"""

import json
import os

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from safetensors.torch import load_file, save_file

from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
from diffusers.image_processor import VaeImageProcessor
from diffusers.pipelines.pag.pipeline_pag_sd_xl_inpaint import StableDiffusionXLPAGInpaintPipeline

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
GOLDEN = os.path.join(ROOT, "golden")
TINY = os.path.join(GOLDEN, "models", "tiny-sdxl")
torch.set_grad_enabled(False)
with open(os.path.join(GOLDEN, "cases", "text_encoders", "case.json")) as f:
    PROMPT0 = json.load(f)["items"][0]["prompt"]
rng = np.random.default_rng(15)


def picture(w, h):
    """A smooth gradient with some noise and a few shapes: every resize tap sees different values."""
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([x * 255.0 / max(w - 1, 1), y * 255.0 / max(h - 1, 1), (x + y) * 127.0 / max(w + h - 2, 1)], -1)
    a = np.clip(a + rng.normal(0, 18, a.shape), 0, 255).astype(np.uint8)
    im = Image.fromarray(a, "RGB")
    d = ImageDraw.Draw(im)
    d.ellipse((w // 5, h // 4, w // 2, h // 2 + 7), fill=(240, 30, 60))
    d.rectangle((w // 2, h // 3, w - 9, h - 5), fill=(20, 200, 90))
    return im


def mask(w, h, box, mode):
    """White = repaint, with soft (blurred) edges so binarisation and the overlay's alpha see grey levels."""
    m = Image.new("L", (w, h), 0)
    ImageDraw.Draw(m).rectangle(box, fill=255)
    m = m.filter(ImageFilter.GaussianBlur(1.5))
    a = np.array(m)
    a[a < 6] = 0  # keep a clean outside so the crop box is the rectangle's, not the blur tail's
    m = Image.fromarray(a, "L")
    return m.convert(mode)


image_processor = VaeImageProcessor(vae_scale_factor=8)
mask_processor = VaeImageProcessor(vae_scale_factor=8, do_normalize=False, do_binarize=True, do_convert_grayscale=True)

src = picture(160, 96)
src.save(os.path.join(HERE, "image160x96.png"))
# name: mask box (x0, y0, x1, y1 inclusive), mask mode, processing width x height, padding
OPS = {
    # wide mask, square processing: the height is expanded past the image and clamped -> fill strips top/bottom
    "wide": ((20, 40, 139, 51), "L", 128, 128, 8),
    # tall mask, wider processing: the width is expanded inside the image
    "tall": ((30, 20, 49, 69), "RGB", 128, 96, 4),
    # a mask at the right edge, tall processing: expanded height, shifted back inside; narrower than the image
    "edge": ((130, 10, 159, 30), "L", 64, 128, 16),
    # the processing ratio of the crop is kept but the crop is clamped at the left -> fill strips left/right
    "left": ((0, 0, 12, 95), "L", 128, 64, 6),
}
ops = {}
tensors = {}
for name, (box, mode, w, h, pad) in OPS.items():
    m = mask(160, 96, box, mode)
    m.save(os.path.join(HERE, f"mask_{name}.png"))
    crop = mask_processor.get_crop_region(m, w, h, pad=pad)
    img = image_processor.preprocess(src, height=h, width=w, crops_coords=crop, resize_mode="fill")
    msk = mask_processor.preprocess(m, height=h, width=w, crops_coords=crop, resize_mode="fill")
    tensors[f"{name}.image"] = img.contiguous()
    tensors[f"{name}.mask"] = msk.contiguous()
    gen = picture(w, h)
    gen.save(os.path.join(HERE, f"generated_{name}.png"))
    over = image_processor.apply_overlay(m, src, gen, crop)
    over.save(os.path.join(HERE, f"overlay_{name}.png"))
    ops[name] = {"mask": f"mask_{name}.png", "width": w, "height": h, "padding": pad, "crop": list(crop),
                 "generated": f"generated_{name}.png", "overlay": f"overlay_{name}.png"}
    print(name, crop, tuple(img.shape), over.size)
save_file(tensors, os.path.join(HERE, "ops.safetensors"))
with open(os.path.join(HERE, "ops.json"), "w") as f:
    json.dump(ops, f, indent=1)

# Part 2: the pipeline. The golden inpainting case's 128x128 picture with a small mask of our own.
CASE = os.path.join(GOLDEN, "cases", "sdxl_inpaint_cfg_pag")
golden = load_file(os.path.join(CASE, "tensors.safetensors"))
init = Image.open(os.path.join(CASE, "input.png"))
pmask = mask(128, 128, (70, 30, 101, 53), "L")
pmask.save(os.path.join(HERE, "pipeline_mask.png"))
vae = AutoencoderKL.from_pretrained(os.path.join(TINY, "vae"))
unet = UNet2DConditionModel.from_pretrained(os.path.join(TINY, "unet"))
sched = EulerDiscreteScheduler.from_config(EulerDiscreteScheduler.load_config(os.path.join(TINY, "scheduler")))
pipe = StableDiffusionXLPAGInpaintPipeline(vae=vae, text_encoder=None, text_encoder_2=None, tokenizer=None,
                                           tokenizer_2=None, unet=unet, scheduler=sched, pag_applied_layers=["mid"])
pipe.set_progress_bar_config(disable=True)
final = {}


def keep(p, i, t, kw):
    final["latents"] = kw["latents"].clone()
    return kw


out = pipe(prompt_embeds=golden["denoiser0.encoder_hidden_states"][1:2].clone(),
           pooled_prompt_embeds=golden["denoiser0.text_embeds"][1:2].clone(),
           image=init, mask_image=pmask, padding_mask_crop=6, strength=0.8, num_inference_steps=4,
           guidance_scale=5.0, pag_scale=3.0, generator=torch.Generator().manual_seed(11),
           callback_on_step_end=keep, callback_on_step_end_tensor_inputs=["latents"]).images[0]
out.save(os.path.join(HERE, "pipeline_out.png"))
crop = pipe.mask_processor.get_crop_region(pmask, 128, 128, pad=6)
save_file({"output.latent": final["latents"].contiguous()}, os.path.join(HERE, "pipeline.safetensors"))
with open(os.path.join(HERE, "pipeline.json"), "w") as f:
    json.dump({"prompt": "a yellow sun in a clear blue sky", "image": "golden/cases/sdxl_inpaint_cfg_pag/input.png",
               "mask": "pipeline_mask.png", "padding_mask_crop": 6, "strength": 0.8, "steps": 4, "seed": 11,
               "guidance_scale": 5.0, "pag_scale": 3.0, "pag_applied_layers": ["mid"], "crop": list(crop)}, f, indent=1)
print("pipeline", crop, tuple(final["latents"].shape), out.size)

# Part 3: SD 1.5 ControlNet inpainting with padding_mask_crop
from diffusers import ControlNetModel, PNDMScheduler
from diffusers.pipelines.pag.pipeline_pag_controlnet_sd_inpaint import StableDiffusionControlNetPAGInpaintPipeline

RES = os.path.join(HERE, "..")
SD = os.path.join(RES, "sd15", "models", "tiny-sd15")
sd_init = Image.open(os.path.join(RES, "sd15cninpaint", "init.png"))
sd_mask = mask(96, 64, (52, 18, 71, 33), "L")
sd_mask.save(os.path.join(HERE, "sd_cn_mask.png"))
control = Image.open(os.path.join(RES, "sd15controlnet", "control64.png"))
te = load_file(os.path.join(GOLDEN, "cases", "text_encoders", "tensors.safetensors"))
sd_pipe = StableDiffusionControlNetPAGInpaintPipeline(
    vae=AutoencoderKL.from_pretrained(os.path.join(SD, "vae")), text_encoder=None, tokenizer=None,
    unet=UNet2DConditionModel.from_pretrained(os.path.join(SD, "unet")),
    controlnet=ControlNetModel.from_pretrained(os.path.join(RES, "sd15controlnet", "tiny-sd15-controlnet")),
    scheduler=PNDMScheduler.from_pretrained(os.path.join(SD, "scheduler")), safety_checker=None,
    feature_extractor=None, requires_safety_checker=False, pag_applied_layers=["mid"])
sd_pipe.set_progress_bar_config(disable=True)
final = {}
out = sd_pipe(prompt_embeds=te["p0.te1.last_hidden_state"].clone(),
              negative_prompt_embeds=te["p1.te1.last_hidden_state"].clone(), image=sd_init, mask_image=sd_mask,
              control_image=control, padding_mask_crop=4, strength=0.75, num_inference_steps=4, guidance_scale=7.5,
              pag_scale=3.0, controlnet_conditioning_scale=0.7, generator=torch.Generator().manual_seed(12),
              callback_on_step_end=keep, callback_on_step_end_tensor_inputs=["latents"]).images[0]
out.save(os.path.join(HERE, "sd_cn_out.png"))
crop = sd_pipe.mask_processor.get_crop_region(sd_mask, 96, 64, pad=4)
save_file({"output.latent": final["latents"].contiguous()}, os.path.join(HERE, "sd_cn.safetensors"))
with open(os.path.join(HERE, "sd_cn.json"), "w") as f:
    json.dump({"prompt": PROMPT0, "negative_prompt": "", "image": "../sd15cninpaint/init.png", "mask": "sd_cn_mask.png",
               "control_image": "../sd15controlnet/control64.png", "padding_mask_crop": 4, "strength": 0.75,
               "steps": 4, "seed": 12, "guidance_scale": 7.5, "pag_scale": 3.0, "controlnet_conditioning_scale": 0.7,
               "pag_applied_layers": ["mid"], "crop": list(crop)}, f, indent=1)
print("sd_cn", crop, tuple(final["latents"].shape), out.size)
