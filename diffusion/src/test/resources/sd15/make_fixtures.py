"""Golden-format fixtures for Pagoda's SD 1.5 PAG pipelines, made with diffusers 0.31.0 (issue 15).

models/tiny-sd15/  an SD 1.5-shaped StableDiffusionPipeline folder: a random UNet2DConditionModel
                   (torch.manual_seed(0), values rounded to float16, stored F16; SD 1.5's block types,
                   use_linear_projection false, int attention_head_dim, no addition embedding,
                   cross_attention_dim 16), golden tiny-sdxl's text_encoder/tokenizer/vae files copied
                   byte for byte except vae scaling_factor 0.18215 (SD 1.5's), SD 1.5's real PNDM
                   scheduler config, no safety checker.
cases/sd15_t2i_cfg_pag      StableDiffusionPAGPipeline, CFG 7.5 + PAG 3 on ["mid"], no negative prompt.
cases/sd15_img2img_cfg_pag  StableDiffusionPAGImg2ImgPipeline, strength 0.6, golden's img2img input.png.

torch 1.13 has no F.scaled_dot_product_attention: the script defines it as the plain math
(softmax(QK^T/sqrt(d))V in float32) before importing diffusers.

transformers is not installed here: the stand-in package ../call/pystub only provides the class names
diffusers' pipeline modules import. The text encoder is not run by this script: prompt_embeds and
negative_prompt_embeds are the golden text_encoders case's te1 last_hidden_state for these exact prompts
(p0 = the prompt, p1 = "", which is what SD 1.5's encode_prompt encodes for a missing negative prompt),
made by transformers 4.45.0.dev0 from the same tiny CLIP weights. Pagoda encodes the prompts itself.

Run from the repository root (diffusers v0.31.0 source tree, Debian python3-torch 1.13.1):
    PYTHONPATH=diffusion/src/test/resources/call/pystub:/work/ref/pyshim:/work/ref/diffusers/src:/work/ref/huggingface_hub/src \
        /usr/bin/python3 diffusion/src/test/resources/sd15/make_fixtures.py
"""
import json
import os
import shutil

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

import torch.nn.functional as F

def _sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    # torch 1.13 has no scaled_dot_product_attention (diffusers' PAG processors need it): the plain
    # definition softmax(q k^T / sqrt(d) + mask) v, float32
    w = q @ k.transpose(-2, -1) * (scale if scale is not None else q.shape[-1] ** -0.5)
    if attn_mask is not None:
        w = w.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else w + attn_mask
    return w.softmax(dim=-1) @ v

F.scaled_dot_product_attention = _sdpa
import diffusers
from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
from diffusers.pipelines.pag import pipeline_pag_sd, pipeline_pag_sd_img2img
from diffusers.models.autoencoders import vae as vae_module

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
GOLDEN = os.path.join(ROOT, "golden")
TINY = os.path.join(GOLDEN, "models", "tiny-sdxl")
MODEL = os.path.join(HERE, "models", "tiny-sd15")
torch.set_grad_enabled(False)

# --- the model folder ------------------------------------------------------------------------------
shutil.rmtree(MODEL, ignore_errors=True)
for part in ("text_encoder", "tokenizer"):
    shutil.copytree(os.path.join(TINY, part), os.path.join(MODEL, part))
unet_cfg = {
    "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.31.0", "act_fn": "silu",
    "attention_head_dim": 2, "block_out_channels": [8, 16, 32], "center_input_sample": False,
    "cross_attention_dim": 16, "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1, "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
    "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 4, "out_channels": 4, "sample_size": 16,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
}
torch.manual_seed(0)
unet = UNet2DConditionModel.from_config({k: v for k, v in unet_cfg.items() if not k.startswith("_")})
for p in unet.parameters():
    p.copy_(p.half().float())
unet.eval()
os.makedirs(os.path.join(MODEL, "unet"))
with open(os.path.join(MODEL, "unet", "config.json"), "w") as f:
    json.dump(unet_cfg, f, indent=2, sort_keys=True)
save_file({k: v.half().contiguous() for k, v in unet.state_dict().items()},
          os.path.join(MODEL, "unet", "diffusion_pytorch_model.safetensors"))
os.makedirs(os.path.join(MODEL, "vae"))
shutil.copy(os.path.join(TINY, "vae", "diffusion_pytorch_model.safetensors"), os.path.join(MODEL, "vae"))
with open(os.path.join(TINY, "vae", "config.json")) as f:
    vae_cfg = json.load(f)
vae_cfg["scaling_factor"] = 0.18215
with open(os.path.join(MODEL, "vae", "config.json"), "w") as f:
    json.dump(vae_cfg, f, indent=2, sort_keys=True)
# runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json
sched_cfg = {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
             "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None,
             "clip_sample": False}
os.makedirs(os.path.join(MODEL, "scheduler"))
with open(os.path.join(MODEL, "scheduler", "scheduler_config.json"), "w") as f:
    json.dump(sched_cfg, f, indent=2, sort_keys=True)
index = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.31.0",
         "feature_extractor": [None, None], "image_encoder": [None, None], "requires_safety_checker": False,
         "safety_checker": [None, None], "scheduler": ["diffusers", "PNDMScheduler"],
         "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
         "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]}
with open(os.path.join(MODEL, "model_index.json"), "w") as f:
    json.dump(index, f, indent=2, sort_keys=True)

vae = AutoencoderKL.from_pretrained(os.path.join(MODEL, "vae"))
unet = UNet2DConditionModel.from_pretrained(os.path.join(MODEL, "unet"))
te = load_file(os.path.join(GOLDEN, "cases", "text_encoders", "tensors.safetensors"))
te_items = json.load(open(os.path.join(GOLDEN, "cases", "text_encoders", "case.json")))["items"]
assert te_items[0]["prompt"] == "a photo of an astronaut riding a horse on mars" and te_items[1]["prompt"] == ""
POS, NEG = te["p0.te1.last_hidden_state"], te["p1.te1.last_hidden_state"]

# --- recording -------------------------------------------------------------------------------------
draws = []
def recording(mod):
    orig = mod.randn_tensor
    def rt(shape, generator=None, device=None, dtype=None, layout=None):
        t = orig(shape, generator=generator, device=device, dtype=dtype, layout=layout)
        draws.append((tuple(t.shape), mod.__name__, t.clone()))
        return t
    mod.randn_tensor = rt
for m in (pipeline_pag_sd, pipeline_pag_sd_img2img, vae_module):
    recording(m)
calls = []
orig_forward = unet.forward
def forward(sample, timestep, encoder_hidden_states=None, **kw):
    out = orig_forward(sample, timestep, encoder_hidden_states=encoder_hidden_states, **kw)
    calls.append((sample.clone(), float(timestep), encoder_hidden_states.clone(), out[0].clone()))
    return out
unet.forward = forward


def run(cls, kind, name, params, image=None, model=MODEL, sched_cls=PNDMScheduler, unet=unet):
    scheduler = sched_cls.from_pretrained(os.path.join(model, "scheduler"))
    pipe = cls(vae=vae, text_encoder=None, tokenizer=None, unet=unet, scheduler=scheduler, safety_checker=None,
               feature_extractor=None, requires_safety_checker=False, pag_applied_layers=params["pag_applied_layers"])
    outs = {}
    for out_type in ("latent", "np"):
        draws.clear(); calls.clear()
        steps = []
        kw = dict(prompt_embeds=POS, negative_prompt_embeds=NEG, num_inference_steps=params["num_inference_steps"],
                  guidance_scale=params["guidance_scale"], pag_scale=params["pag_scale"],
                  generator=torch.Generator("cpu").manual_seed(params["seed"]), output_type=out_type,
                  callback_on_step_end=lambda p, i, t, k: (steps.append(k["latents"].clone()), {})[1])
        if "guidance_rescale" in params:
            kw.update(guidance_rescale=params["guidance_rescale"])
        if kind == "t2i":
            kw.update(height=params["height"], width=params["width"])
        else:
            kw.update(image=image, strength=params["strength"])
        outs[out_type] = (pipe(**kw).images, list(draws), list(calls), steps)
    lat, draws_l, calls_l, steps_l = outs["latent"]
    npimg = outs["np"][0]
    tensors = {"output.latent": lat, "output.np": torch.from_numpy(np.ascontiguousarray(npimg))}
    noise_calls = []
    for i, (shape, caller, t) in enumerate(draws_l):
        tensors[f"noise.{i:03d}"] = t
        noise_calls.append({"index": i, "shape": list(shape), "caller": caller, "dtype": "float32",
                            "tensor": f"noise.{i:03d}"})
    for i, s in enumerate(steps_l):
        tensors[f"step{i}.latents"] = s
    for j, (x, t, ehs, out) in enumerate(calls_l):
        tensors[f"denoiser{j}.sample_in"] = x
        tensors[f"denoiser{j}.out"] = out
        if j == 0:
            tensors["denoiser0.encoder_hidden_states"] = ehs
    case_dir = os.path.join(HERE, "cases", name)
    shutil.rmtree(case_dir, ignore_errors=True)
    os.makedirs(case_dir)
    if image is not None:
        image.save(os.path.join(case_dir, "input.png"))
        tensors["image_preprocessed"] = torch.from_numpy(
            np.asarray(image, dtype=np.float32) / 255.0 * 2 - 1).permute(2, 0, 1)[None].contiguous()
    tensors = {k: v.float().contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(case_dir, "tensors.safetensors"))
    case = {"case": name, "kind": "pipeline", "description": cls.__name__,
            "model": os.path.relpath(model, HERE),
            "params": params, "batch_layout": ["uncond (\"\" encoded)", "cond", "cond + perturbed self-attention"],
            "noise_calls": noise_calls,
            "denoiser_calls": [{"call": j, "timestep": [c[1]]} for j, c in enumerate(calls_l)],
            "prompt_embeds_note": "prompt_embeds / negative_prompt_embeds passed to diffusers are golden "
                                  "text_encoders p0/p1 te1.last_hidden_state (transformers-made)",
            "tensors": {k: {"shape": list(v.shape)} for k, v in tensors.items()}}
    with open(os.path.join(case_dir, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
    return name


PROMPT = te_items[0]["prompt"]
cases = [run(pipeline_pag_sd.StableDiffusionPAGPipeline, "t2i", "sd15_t2i_cfg_pag",
             {"pipeline_class": "StableDiffusionPAGPipeline", "seed": 3, "prompt": PROMPT, "negative_prompt": None,
              "height": 128, "width": 96, "num_inference_steps": 5, "guidance_scale": 7.5, "pag_scale": 3.0,
              "pag_applied_layers": ["mid"]})]
img = Image.open(os.path.join(GOLDEN, "cases", "sdxl_img2img_cfg_pag", "input.png")).convert("RGB")
cases.append(run(pipeline_pag_sd_img2img.StableDiffusionPAGImg2ImgPipeline, "img2img", "sd15_img2img_cfg_pag",
                 {"pipeline_class": "StableDiffusionPAGImg2ImgPipeline", "seed": 1, "prompt": PROMPT,
                  "negative_prompt": None, "strength": 0.6, "num_inference_steps": 5, "guidance_scale": 7.5,
                  "pag_scale": 3.0, "pag_applied_layers": ["mid", "down_blocks.0"], "image": "input.png"}, img))
# --- SD 2.x-shaped, v-prediction (stabilityai/stable-diffusion-2-1 style): linear projections, per-level
# head counts, upcast_attention, DDIM with prediction_type v_prediction, guidance_rescale 0.7
from diffusers import DDIMScheduler
MODEL2 = os.path.join(HERE, "models", "tiny-sd2-v")
shutil.rmtree(MODEL2, ignore_errors=True)
for part in ("text_encoder", "tokenizer", "vae"):
    shutil.copytree(os.path.join(MODEL, part), os.path.join(MODEL2, part))
unet2_cfg = dict(unet_cfg, attention_head_dim=[1, 2, 4], use_linear_projection=True, upcast_attention=True)
torch.manual_seed(1)
unet2 = UNet2DConditionModel.from_config({k: v for k, v in unet2_cfg.items() if not k.startswith("_")})
for p in unet2.parameters():
    p.copy_(p.half().float())
unet2.eval()
os.makedirs(os.path.join(MODEL2, "unet"))
with open(os.path.join(MODEL2, "unet", "config.json"), "w") as f:
    json.dump(unet2_cfg, f, indent=2, sort_keys=True)
save_file({k: v.half().contiguous() for k, v in unet2.state_dict().items()},
          os.path.join(MODEL2, "unet", "diffusion_pytorch_model.safetensors"))
unet2 = UNet2DConditionModel.from_pretrained(os.path.join(MODEL2, "unet"))
orig_forward2 = unet2.forward
def forward2(sample, timestep, encoder_hidden_states=None, **kw):
    out = orig_forward2(sample, timestep, encoder_hidden_states=encoder_hidden_states, **kw)
    calls.append((sample.clone(), float(timestep), encoder_hidden_states.clone(), out[0].clone()))
    return out
unet2.forward = forward2
# stabilityai/stable-diffusion-2-1 scheduler/scheduler_config.json
sched2 = {"_class_name": "DDIMScheduler", "_diffusers_version": "0.8.0", "beta_end": 0.012,
          "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False, "num_train_timesteps": 1000,
          "prediction_type": "v_prediction", "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
          "trained_betas": None}
os.makedirs(os.path.join(MODEL2, "scheduler"))
with open(os.path.join(MODEL2, "scheduler", "scheduler_config.json"), "w") as f:
    json.dump(sched2, f, indent=2, sort_keys=True)
with open(os.path.join(MODEL2, "model_index.json"), "w") as f:
    json.dump(dict(index, scheduler=["diffusers", "DDIMScheduler"]), f, indent=2, sort_keys=True)
cases.append(run(pipeline_pag_sd.StableDiffusionPAGPipeline, "t2i", "sd2v_t2i_cfg_pag_rescale",
                 {"pipeline_class": "StableDiffusionPAGPipeline", "seed": 4, "prompt": PROMPT, "negative_prompt": None,
                  "height": 96, "width": 128, "num_inference_steps": 4, "guidance_scale": 6.0, "pag_scale": 2.0,
                  "guidance_rescale": 0.7, "pag_applied_layers": ["mid", "up_blocks.2"]},
                 model=MODEL2, sched_cls=DDIMScheduler, unet=unet2))

with open(os.path.join(HERE, "index.json"), "w") as f:
    json.dump({"fixture_set": "sd15", "versions": {"torch": torch.__version__, "diffusers": diffusers.__version__,
               "transformers (text_encoders golden, not run here)": "4.45.0.dev0"},
               "cases": cases, "models": {"sd15": "models/tiny-sd15", "sd2_v": "models/tiny-sd2-v"}}, f, indent=1)
print("wrote", cases)
