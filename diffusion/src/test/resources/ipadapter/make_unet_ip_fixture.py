# Reference for IP-Adapter at the UNet level (plain IP-Adapter, two adapters, per-block scales), made
# with diffusers 0.31.0 (/work/ref/diffusers) + torch 1.13.1 (Debian python3-torch), CPU, float32.
# No transformers needed: the image embeds are given (as a pipeline's prepare_ip_adapter_image_embeds
# would produce them), so only the UNet, its IP-Adapter loading/conversion and set_ip_adapter_scale run.
# Run from the repository root:
#   PYTHONPATH=/work/ref/pyshim:/work/ref/diffusers/src:/work/ref/huggingface_hub/src /usr/bin/python3 \
#     diffusion/src/test/resources/ipadapter/make_unet_ip_fixture.py
import json, os
import torch
from safetensors.torch import load_file, save_file
from diffusers import UNet2DConditionModel, __version__
from diffusers.loaders.ip_adapter import IPAdapterMixin
import diffusers.loaders.ip_adapter as ip_module
from diffusers.models import attention_processor as ap
# ip_adapter.py imports these only when transformers is importable; set_ip_adapter_scale needs them
ip_module.IPAdapterAttnProcessor = ap.IPAdapterAttnProcessor
ip_module.IPAdapterAttnProcessor2_0 = ap.IPAdapterAttnProcessor2_0

OUT = os.path.dirname(os.path.abspath(__file__))
unet = UNet2DConditionModel.from_pretrained("golden/models/tiny-sdxl/unet").eval()
g = torch.Generator().manual_seed(1234)

def rnd(*shape, s=0.2):
    return (torch.randn(*shape, generator=g) * s).contiguous()

# a plain IP-Adapter in the original single-file layout: image_proj.proj / norm, ip_adapter.<id>.to_{k,v}_ip
plain = {"image_proj.proj.weight": rnd(4 * 48, 16), "image_proj.proj.bias": rnd(4 * 48, s=0.1),
         "image_proj.norm.weight": 1 + rnd(48, s=0.1), "image_proj.norm.bias": rnd(48, s=0.1)}
key_id = 1
for name in unet.attn_processors.keys():
    if name.endswith("attn1.processor"):
        continue
    hidden = unet.get_submodule(name[: -len(".processor")]).to_k.weight.shape[0]
    plain[f"ip_adapter.{key_id}.to_k_ip.weight"] = rnd(hidden, 48)
    plain[f"ip_adapter.{key_id}.to_v_ip.weight"] = rnd(hidden, 48)
    key_id += 2
save_file(plain, os.path.join(OUT, "ip-adapter_sdxl_tiny_plain.safetensors"))
plus = load_file("golden/models/tiny-ip-adapter/sdxl_models/ip-adapter-plus_sdxl_tiny.safetensors")

def split(sd):
    return {"image_proj": {k[len("image_proj."):]: v for k, v in sd.items() if k.startswith("image_proj.")},
            "ip_adapter": {k[len("ip_adapter."):]: v for k, v in sd.items() if k.startswith("ip_adapter.")}}

class Holder(IPAdapterMixin):  # set_ip_adapter_scale only reads self.unet
    def __init__(self, unet):
        self.unet = unet

b = 2
t = {"sample": torch.randn(b, 4, 16, 16, generator=g), "encoder_hidden_states": torch.randn(b, 77, 48, generator=g),
     "text_embeds": torch.randn(b, 32, generator=g),
     "time_ids": torch.tensor([[128., 128., 0., 0., 128., 128.]] * b),
     "plain_embeds": torch.randn(b, 1, 16, generator=g), "plus_embeds": torch.randn(b, 1, 17, 16, generator=g)}
cases = {}

def run(name, embeds, scale):
    Holder(unet).set_ip_adapter_scale(scale)
    with torch.no_grad():
        out = unet(t["sample"], 500.0, encoder_hidden_states=t["encoder_hidden_states"],
                   added_cond_kwargs={"text_embeds": t["text_embeds"], "time_ids": t["time_ids"],
                                      "image_embeds": embeds}).sample
    t[name + ".out"] = out
    cases[name] = {"scale": scale}

unet._load_ip_adapter_weights([split(plain)])
run("plain", [t["plain_embeds"]], 0.7)
unet._load_ip_adapter_weights([split(plain), split(plus)])
run("two", [t["plain_embeds"], t["plus_embeds"]], [0.8, 0.5])
run("two_per_block", [t["plain_embeds"], t["plus_embeds"]],
    [{"up": {"block_0": [0.0, 1.0, 0.0]}}, {"down": {"block_2": [0.0, 1.0]}, "mid": 0.3}])
save_file({k: v.contiguous() for k, v in t.items()}, os.path.join(OUT, "unet_ip_fixture.safetensors"))
json.dump({"diffusers": __version__, "torch": torch.__version__, "timestep": 500.0, "cases": cases,
           "adapters": {"plain": "ip-adapter_sdxl_tiny_plain.safetensors",
                        "plus": "golden/models/tiny-ip-adapter/sdxl_models/ip-adapter-plus_sdxl_tiny.safetensors"}},
          open(os.path.join(OUT, "unet_ip_fixture.json"), "w"), indent=1)
print("ok", {k: float(v.abs().max()) for k, v in t.items() if k.endswith(".out")})
