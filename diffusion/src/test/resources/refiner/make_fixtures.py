"""Records diffusers 0.31 reference outputs for Pagoda's SDXL refiner / ensemble-of-experts tests (issue 15).

Model (tiny-refiner/, laid out like stabilityai/stable-diffusion-xl-refiner-1.0):
  model_index.json   StableDiffusionXLImg2ImgPipeline, text_encoder/tokenizer null, requires_aesthetics_score
                     true, force_zeros_for_empty_prompt false (the refiner's values).
  unet/              the golden tiny-sdxl UNet config with the refiner's conditioning: cross_attention_dim 32
                     (= text_encoder_2's hidden size only) and projection_class_embeddings_input_dim 72
                     (= 5 time ids * addition_time_embed_dim 8 + text_encoder_2's projection 32); initialised
                     with torch.manual_seed(1), weights rounded to float16 (stored F16; the reference computes
                     with the rounded values in float32).
  text_encoder_2/, tokenizer_2/, vae/, scheduler/ are golden tiny-sdxl's (not copied here: the tests link
  them from golden/models/tiny-sdxl).

Cases in refiner.safetensors (all float32, CPU, PAG on ["mid"], guidance 5, pag_scale 3, 128x128):
  base.*     StableDiffusionXLPAGPipeline on golden tiny-sdxl, prompt "a photo of an astronaut riding a
             horse on mars", 10 steps, denoising_end 0.8, seed 0, output_type latent.
  refine.*   StableDiffusionXLPAGImg2ImgPipeline on tiny-refiner, image = base.output.latent,
             denoising_start 0.8, 10 steps, the same generator object continued (diffusers' recipe);
             also refine.output.np (output_type np).
  aesthetic.* the same refiner pipeline as plain img2img from golden sdxl_img2img_cfg_pag's input.png,
             strength 0.6, 4 steps, aesthetic_score 7.5, negative_aesthetic_score 1.5, seed 1,
             negative prompt "blurry, low quality, watermark".
  inpaint.*  StableDiffusionXLPAGInpaintPipeline on tiny-refiner (requires_aesthetics_score), golden
             sdxl_inpaint_cfg_pag's input.png / mask.png, strength 0.75, 10 steps, denoising_end 0.6,
             aesthetic_score 7.0, negative_aesthetic_score 2.0, seed 3 (the 4-channel blend re-noises to the
             truncated schedule's next timestep).
  controlnet.* StableDiffusionXLControlNetPAGPipeline on golden tiny-sdxl + tiny-sdxl-controlnet, golden
             sdxl_controlnet_cfg_pag's prompt embeddings (its recorded denoiser0 cond rows; negatives zeros)
             and control.png, 10 steps, denoising_end 0.8, control_guidance_end 0.5, conditioning scale 0.8,
             seed 3: diffusers' controlnet_keep windows are fractions of the untruncated 10 steps.
  Each case: output.latent, noise.<i> (every generator draw, in order), timesteps (of the denoiser calls),
  denoiser0.time_ids / denoiser0.encoder_hidden_states / denoiser0.text_embeds (batched conditioning).

transformers is not installed here (call/pystub holds stand-in class names): the text encoders are not run.
The base prompt embeddings are golden text_encoders' encode0.* (encode_prompt with both encoders, no
negative: zeros). The refiner's are encoder 2 only, as diffusers' encode_prompt with text_encoder None:
golden text_encoders' p0.te2.penultimate_hidden_state / p0.te2.text_embeds (the prompt), p1.te2.* ("",
encoded because the refiner does not force zeros) and p5.te2.* (the aesthetic case's negative prompt).

Run from the repository root (diffusers v0.31.0 source tree, Debian python3-torch 1.13.1):
    PYTHONPATH=diffusion/src/test/resources/call/pystub:/work/ref/pyshim:/work/ref/diffusers/src:/work/ref/huggingface_hub/src \
        /usr/bin/python3 diffusion/src/test/resources/refiner/make_fixtures.py
"""

import json
import os

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from diffusers import AutoencoderKL, ControlNetModel, EulerDiscreteScheduler, UNet2DConditionModel
from diffusers.pipelines.pag.pipeline_pag_controlnet_sd_xl import StableDiffusionXLControlNetPAGPipeline
from diffusers.pipelines.pag.pipeline_pag_sd_xl import StableDiffusionXLPAGPipeline
from diffusers.pipelines.pag.pipeline_pag_sd_xl_img2img import StableDiffusionXLPAGImg2ImgPipeline
from diffusers.pipelines.pag.pipeline_pag_sd_xl_inpaint import StableDiffusionXLPAGInpaintPipeline

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
GOLDEN = os.path.join(ROOT, "golden")
TINY = os.path.join(GOLDEN, "models", "tiny-sdxl")
MODEL = os.path.join(HERE, "tiny-refiner")

torch.set_grad_enabled(False)

# --- the refiner-shaped model ---------------------------------------------------------------------
with open(os.path.join(TINY, "unet", "config.json")) as f:
    cfg = json.load(f)
cfg["cross_attention_dim"] = 32
cfg["projection_class_embeddings_input_dim"] = 5 * cfg["addition_time_embed_dim"] + 32
torch.manual_seed(1)
refiner_unet = UNet2DConditionModel.from_config({k: v for k, v in cfg.items() if not k.startswith("_")})
for p in refiner_unet.parameters():
    p.copy_(p.half().float())
refiner_unet.eval()
os.makedirs(os.path.join(MODEL, "unet"), exist_ok=True)
cfg["_class_name"] = "UNet2DConditionModel"
cfg["_diffusers_version"] = "0.31.0"
with open(os.path.join(MODEL, "unet", "config.json"), "w") as f:
    json.dump(cfg, f, indent=2, sort_keys=True)
save_file({k: v.half().contiguous() for k, v in refiner_unet.state_dict().items()},
          os.path.join(MODEL, "unet", "diffusion_pytorch_model.safetensors"))
index = {
    "_class_name": "StableDiffusionXLImg2ImgPipeline",
    "_diffusers_version": "0.31.0",
    "feature_extractor": [None, None],
    "force_zeros_for_empty_prompt": False,
    "image_encoder": [None, None],
    "requires_aesthetics_score": True,
    "scheduler": ["diffusers", "EulerDiscreteScheduler"],
    "text_encoder": [None, None],
    "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
    "tokenizer": [None, None],
    "tokenizer_2": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}
with open(os.path.join(MODEL, "model_index.json"), "w") as f:
    json.dump(index, f, indent=2, sort_keys=True)

vae = AutoencoderKL.from_pretrained(os.path.join(TINY, "vae"))
base_unet = UNet2DConditionModel.from_pretrained(os.path.join(TINY, "unet"))
none = dict(text_encoder=None, text_encoder_2=None, tokenizer=None, tokenizer_2=None)
base = StableDiffusionXLPAGPipeline(vae=vae, unet=base_unet,
                                    scheduler=EulerDiscreteScheduler.from_pretrained(os.path.join(TINY, "scheduler")),
                                    pag_applied_layers=["mid"], **none)
refiner = StableDiffusionXLPAGImg2ImgPipeline(
    vae=vae, unet=refiner_unet, scheduler=EulerDiscreteScheduler.from_pretrained(os.path.join(TINY, "scheduler")),
    requires_aesthetics_score=True, force_zeros_for_empty_prompt=False, pag_applied_layers=["mid"], **none)
for pipe in (base, refiner):
    pipe.set_progress_bar_config(disable=True)

te = load_file(os.path.join(GOLDEN, "cases", "text_encoders", "tensors.safetensors"))
draws = []
_randn = torch.randn


def recording_randn(*args, **kwargs):
    x = _randn(*args, **kwargs)
    if kwargs.get("generator") is not None:
        draws.append(x.clone())
    return x


torch.randn = recording_randn
calls = []


def recording(unet):
    forward = unet.forward

    def wrapped(sample, timestep, encoder_hidden_states, **kw):
        calls.append((float(timestep), kw["added_cond_kwargs"]["time_ids"].clone(),
                      encoder_hidden_states.clone(), kw["added_cond_kwargs"]["text_embeds"].clone()))
        return forward(sample, timestep, encoder_hidden_states, **kw)

    unet.forward = wrapped


recording(base_unet)
recording(refiner_unet)
tensors = {}


def record(name, out):
    tensors[name + ".output.latent"] = out.contiguous()
    for i, d in enumerate(draws):
        tensors[f"{name}.noise.{i}"] = d
    tensors[name + ".timesteps"] = torch.tensor([c[0] for c in calls], dtype=torch.float32)
    tensors[name + ".denoiser0.time_ids"] = calls[0][1].float().contiguous()
    tensors[name + ".denoiser0.encoder_hidden_states"] = calls[0][2].contiguous()
    tensors[name + ".denoiser0.text_embeds"] = calls[0][3].contiguous()
    print(name, "draws", [tuple(d.shape) for d in draws], "timesteps", [c[0] for c in calls])
    draws.clear()
    calls.clear()


common = dict(guidance_scale=5.0, pag_scale=3.0)
g = torch.Generator("cpu").manual_seed(0)
latent = base(prompt_embeds=te["encode0.prompt_embeds"], pooled_prompt_embeds=te["encode0.pooled_prompt_embeds"],
              height=128, width=128, num_inference_steps=10, denoising_end=0.8, generator=g,
              output_type="latent", **common).images
record("base", latent)

ref_embeds = dict(prompt_embeds=te["p0.te2.penultimate_hidden_state"], pooled_prompt_embeds=te["p0.te2.text_embeds"])
state = g.get_state()
refined = refiner(image=latent, num_inference_steps=10, denoising_start=0.8, generator=g, output_type="latent",
                  negative_prompt_embeds=te["p1.te2.penultimate_hidden_state"],
                  negative_pooled_prompt_embeds=te["p1.te2.text_embeds"], **ref_embeds, **common).images
record("refine", refined)
g.set_state(state)
refined_np = refiner(image=latent, num_inference_steps=10, denoising_start=0.8, generator=g, output_type="np",
                     negative_prompt_embeds=te["p1.te2.penultimate_hidden_state"],
                     negative_pooled_prompt_embeds=te["p1.te2.text_embeds"], **ref_embeds, **common).images
tensors["refine.output.np"] = torch.from_numpy(np.ascontiguousarray(refined_np)).float()
draws.clear()
calls.clear()

image = Image.open(os.path.join(GOLDEN, "cases", "sdxl_img2img_cfg_pag", "input.png")).convert("RGB")
out = refiner(image=image, strength=0.6, num_inference_steps=4, aesthetic_score=7.5, negative_aesthetic_score=1.5,
              negative_prompt_embeds=te["p5.te2.penultimate_hidden_state"],
              negative_pooled_prompt_embeds=te["p5.te2.text_embeds"],
              generator=torch.Generator("cpu").manual_seed(1), output_type="latent", **ref_embeds, **common).images
record("aesthetic", out)

inpaint = StableDiffusionXLPAGInpaintPipeline(
    vae=vae, unet=refiner_unet, scheduler=EulerDiscreteScheduler.from_pretrained(os.path.join(TINY, "scheduler")),
    requires_aesthetics_score=True, force_zeros_for_empty_prompt=False, pag_applied_layers=["mid"], **none)
inpaint.set_progress_bar_config(disable=True)
case = os.path.join(GOLDEN, "cases", "sdxl_inpaint_cfg_pag")
out = inpaint(image=Image.open(os.path.join(case, "input.png")), mask_image=Image.open(os.path.join(case, "mask.png")),
              height=128, width=128, strength=0.75, num_inference_steps=10, denoising_end=0.6, aesthetic_score=7.0,
              negative_aesthetic_score=2.0, negative_prompt_embeds=te["p1.te2.penultimate_hidden_state"],
              negative_pooled_prompt_embeds=te["p1.te2.text_embeds"],
              generator=torch.Generator("cpu").manual_seed(3), output_type="latent", **ref_embeds, **common).images
record("inpaint", out)
cn_case = os.path.join(GOLDEN, "cases", "sdxl_controlnet_cfg_pag")
cn_golden = load_file(os.path.join(cn_case, "tensors.safetensors"))
cn = StableDiffusionXLControlNetPAGPipeline(
    vae=vae, unet=base_unet, controlnet=ControlNetModel.from_pretrained(os.path.join(GOLDEN, "models", "tiny-sdxl-controlnet")),
    scheduler=EulerDiscreteScheduler.from_pretrained(os.path.join(TINY, "scheduler")), pag_applied_layers=["mid"], **none)
cn.set_progress_bar_config(disable=True)
out = cn(prompt_embeds=cn_golden["denoiser0.encoder_hidden_states"][1:2].clone(),
         pooled_prompt_embeds=cn_golden["denoiser0.text_embeds"][1:2].clone(),
         image=Image.open(os.path.join(cn_case, "control.png")), height=128, width=128, num_inference_steps=10,
         denoising_end=0.8, control_guidance_end=0.5, controlnet_conditioning_scale=0.8,
         generator=torch.Generator("cpu").manual_seed(3), output_type="latent", **common).images
record("controlnet", out)
torch.randn = _randn
save_file(tensors, os.path.join(HERE, "refiner.safetensors"))
