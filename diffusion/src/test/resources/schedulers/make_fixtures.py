"""Records diffusers 0.31 scheduler runs for Pagoda's scheduler conformance tests.

Each case builds one diffusers scheduler class from a config dict (SDXL's scheduler config with
overrides), calls set_timesteps, then replays a fixed chain: a recorded sample, one recorded model
output per timestep entry, and (for the schedulers that draw noise) one torch CPU generator seeded
with `noise_seed` passed to every step. It writes timesteps, sigmas, init_noise_sigma, every
scale_model_input result, every prev_sample (and pred_original_sample / denoised where the class
returns one), and one add_noise result.

Run (from the repository root; versions: diffusers v0.31.0 source tree, Debian python3-torch 1.13,
torchsde 0.2.6 source tree, github.com/google-research/torchsde at eb3a00e, pure Python):
    PYTHONPATH=/path/to/torchsde:/work/ref/pyshim:/work/ref/diffusers/src:/work/ref/huggingface_hub/src \
        /usr/bin/python3 diffusion/src/test/resources/schedulers/make_fixtures.py

scipy is not installed here. LMSDiscreteScheduler imports it for `integrate.quad` (the integral of a
Lagrange basis polynomial of degree <= 3) and `stats.beta.ppf`; a stand-in module integrates with
20-point Gauss-Legendre, which is exact for polynomials up to degree 39 (scipy's QUADPACK gives the
same value to rounding). Beta sigmas are not recorded (no ppf here).
"""

import json
import os
import sys
import types

import numpy as np
import torch

# --- scipy stand-in (see the module docstring) -------------------------------------------------
_scipy = types.ModuleType("scipy")
_integrate = types.ModuleType("scipy.integrate")
_stats = types.ModuleType("scipy.stats")
_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)


def _quad(f, a, b, epsrel=None, **kw):
    mid, half = (a + b) / 2.0, (b - a) / 2.0
    return (float(sum(w * f(mid + half * x) for x, w in zip(_GL_X, _GL_W)) * half), 0.0)


class _NoBeta:
    @staticmethod
    def ppf(*a, **k):
        raise NotImplementedError("beta.ppf is not available in the scipy stand-in")


_integrate.quad = _quad
_stats.beta = _NoBeta
_scipy.integrate = _integrate
_scipy.stats = _stats
import importlib.machinery  # noqa: E402

for _m in (_scipy, _integrate, _stats):
    _m.__spec__ = importlib.machinery.ModuleSpec(_m.__name__, None)
sys.modules.update({"scipy": _scipy, "scipy.integrate": _integrate, "scipy.stats": _stats})


# --- trampoline stand-in (torchsde imports the small PyPI package `trampoline`, not installed here) -
# trampoline(gen) runs a generator-based recursion: a yielded generator is run to completion and its
# return value sent back; `raise TailCall(gen)` replaces the running generator.
_trampoline = types.ModuleType("trampoline")


class _TailCall(Exception):
    def __init__(self, call):
        self.call = call


def _run_trampoline(gen):
    stack, value = [gen], None
    while stack:
        try:
            nxt = stack[-1].send(value)
            stack.append(nxt)
            value = None
        except StopIteration as stop:
            stack.pop()
            value = stop.value
        except _TailCall as tail:
            stack[-1] = tail.call
            value = None
    return value


_trampoline.TailCall = _TailCall
_trampoline.trampoline = _run_trampoline
_trampoline.__spec__ = importlib.machinery.ModuleSpec("trampoline", None)
sys.modules["trampoline"] = _trampoline

import diffusers  # noqa: E402
from diffusers.schedulers.scheduling_dpmsolver_sde import DPMSolverSDEScheduler  # noqa: E402
from diffusers.schedulers.scheduling_lms_discrete import LMSDiscreteScheduler  # noqa: E402
import torchsde  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

# diffusers' top level exports a dummy LMS class when its scipy check fails; the module is real.

SDXL = {
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "sample_max_value": 1.0,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "trained_betas": None,
    "use_karras_sigmas": False,
}
SHAPE = (1, 4, 3, 5)
STEPS = 6

# (case name, diffusers class, overrides of SDXL, inference steps, extra set_timesteps / step kwargs)
K = "use_karras_sigmas"
CASES = []


def case(name, cls, steps=STEPS, step_kwargs=None, **over):
    CASES.append((name, cls, over, steps, step_kwargs or {}))


for cls in ["HeunDiscreteScheduler", "LMSDiscreteScheduler", "KDPM2DiscreteScheduler",
            "KDPM2AncestralDiscreteScheduler"]:
    case(cls + "_sdxl", cls)
    case(cls + "_karras", cls, **{K: True})
    case(cls + "_exponential_trailing", cls, use_exponential_sigmas=True, timestep_spacing="trailing")
    case(cls + "_linspace_v", cls, timestep_spacing="linspace", prediction_type="v_prediction")
case("HeunDiscreteScheduler_sample", "HeunDiscreteScheduler", prediction_type="sample",
     timestep_spacing="trailing")

for cls in ["UniPCMultistepScheduler"]:
    case(cls + "_sdxl", cls)
    case(cls + "_karras", cls, **{K: True})
    case(cls + "_trailing_v", cls, timestep_spacing="trailing", prediction_type="v_prediction")
    case(cls + "_order3_linspace", cls, solver_order=3, timestep_spacing="linspace", steps=8)
    # (0.31's set_timesteps of these three fails with use_exponential_sigmas or use_beta_sigmas.)
# bh1 and predict_x0=False reach sigma = 0 with an infinite B(h) and give NaN in 0.31 at the last step
# with final_sigmas_type "zero"; these cases end at sigma_min.
case("UniPCMultistepScheduler_bh1", "UniPCMultistepScheduler", solver_type="bh1", steps=7,
     final_sigmas_type="sigma_min")
case("UniPCMultistepScheduler_no_x0", "UniPCMultistepScheduler", predict_x0=False, steps=7,
     final_sigmas_type="sigma_min")
case("UniPCMultistepScheduler_corrector_off", "UniPCMultistepScheduler",
     disable_corrector=[0, 2], solver_order=3, steps=7)
case("UniPCMultistepScheduler_sample_sigma_min", "UniPCMultistepScheduler", prediction_type="sample",
     final_sigmas_type="sigma_min")

case("PNDMScheduler_sd15", "PNDMScheduler")
case("PNDMScheduler_prk", "PNDMScheduler", skip_prk_steps=False, steps=8)
case("PNDMScheduler_v_trailing", "PNDMScheduler", prediction_type="v_prediction", timestep_spacing="trailing")
case("PNDMScheduler_linspace_alpha1", "PNDMScheduler", timestep_spacing="linspace", set_alpha_to_one=True)

case("DDPMScheduler_sdxl", "DDPMScheduler")
case("DDPMScheduler_v_trailing", "DDPMScheduler", prediction_type="v_prediction", timestep_spacing="trailing")
case("DDPMScheduler_small_log_linspace", "DDPMScheduler", variance_type="fixed_small_log",
     timestep_spacing="linspace")
case("DDPMScheduler_large_sample_clip", "DDPMScheduler", variance_type="fixed_large",
     prediction_type="sample", clip_sample=True)
case("DDPMScheduler_50", "DDPMScheduler", steps=50)

case("LCMScheduler_sdxl", "LCMScheduler", steps=4)
case("LCMScheduler_v_trailing", "LCMScheduler", steps=4, prediction_type="v_prediction",
     timestep_spacing="trailing")
case("LCMScheduler_8_steps_orig25", "LCMScheduler", steps=8, original_inference_steps=25)
case("TCDScheduler_sdxl", "TCDScheduler", steps=4)
case("TCDScheduler_eta0", "TCDScheduler", steps=4, step_kwargs={"eta": 0.0})
case("TCDScheduler_eta07_v", "TCDScheduler", steps=6, step_kwargs={"eta": 0.7}, prediction_type="v_prediction")

D = "DEISMultistepScheduler"
case(D + "_sdxl", D)
case(D + "_karras", D, **{K: True})
case(D + "_trailing_v", D, timestep_spacing="trailing", prediction_type="v_prediction")
case(D + "_order3_linspace", D, solver_order=3, timestep_spacing="linspace", steps=8)
case(D + "_order3_no_lower_final", D, solver_order=3, lower_order_final=False, steps=7)
case(D + "_order1_sample", D, solver_order=1, prediction_type="sample")
case(D + "_order3_karras_16", D, solver_order=3, steps=16, **{K: True})
# (0.31's DEIS set_timesteps fails with use_exponential_sigmas or use_beta_sigmas, as UniPC's does.)

S = "DPMSolverSinglestepScheduler"
case(S + "_sdxl", S)
# Order 3 with steps % 3 == 2 ends on a second-order step onto sigma = 0, which is infinite in 0.31
# (1 / r0 with r0 = 0); those step counts are not recorded.
case(S + "_order3", S, solver_order=3, steps=10)
case(S + "_order3_heun_9", S, solver_order=3, solver_type="heun", steps=9)
case(S + "_order1", S, solver_order=1, steps=5)
case(S + "_karras_v", S, prediction_type="v_prediction", steps=7, **{K: True})
case(S + "_heun_sample", S, solver_type="heun", prediction_type="sample")
case(S + "_dpmsolver_sigma_min", S, algorithm_type="dpmsolver", final_sigmas_type="sigma_min")
case(S + "_dpmsolver_order3_heun", S, algorithm_type="dpmsolver", solver_order=3, solver_type="heun",
     final_sigmas_type="sigma_min", steps=9)
case(S + "_dpmsolver_order3_v", S, algorithm_type="dpmsolver", solver_order=3, prediction_type="v_prediction",
     final_sigmas_type="sigma_min", steps=7)
case(S + "_no_lower_final_sigma_min", S, lower_order_final=False, final_sigmas_type="sigma_min", steps=8)
case(S + "_clipped", S, lambda_min_clipped=-2.5, steps=6)
case(S + "_sde", S, algorithm_type="sde-dpmsolver++", steps=7)
case(S + "_sde_heun_karras", S, algorithm_type="sde-dpmsolver++", solver_type="heun", steps=6, **{K: True})

# DPMSolverSDEScheduler draws from torchsde's Brownian tree seeded by noise_sampler_seed, not from the
# step generator.
E = "DPMSolverSDEScheduler"
case(E + "_sdxl", E, noise_sampler_seed=4321)
case(E + "_karras", E, noise_sampler_seed=4321, **{K: True})
case(E + "_linspace_v", E, noise_sampler_seed=7, timestep_spacing="linspace", prediction_type="v_prediction",
     steps=8)
case(E + "_exponential_trailing", E, noise_sampler_seed=99, use_exponential_sigmas=True,
     timestep_spacing="trailing")
case(E + "_big_seed_25", E, noise_sampler_seed=2**62 + 12345, steps=25)

DRAWS = {"KDPM2AncestralDiscreteScheduler", "DDPMScheduler", "LCMScheduler", "TCDScheduler",
         "DPMSolverSinglestepScheduler"}


def f32list(t):
    return [float(v) for v in torch.as_tensor(t).to(torch.float32).flatten().tolist()]


def record(name, cls_name, over, steps, step_kwargs, tensors):
    config = dict(SDXL)
    config.update(over)
    config["_class_name"] = cls_name
    # diffusers' top level exports dummies for these two (its scipy / torchsde checks use package
    # metadata, which the source trees here lack); the modules are real.
    cls = {"LMSDiscreteScheduler": LMSDiscreteScheduler, "DPMSolverSDEScheduler": DPMSolverSDEScheduler}.get(
        cls_name) or getattr(diffusers, cls_name)
    sched = cls.from_config({k: v for k, v in config.items() if k != "_class_name"})
    sched.set_timesteps(steps)
    timesteps = sched.timesteps.clone()
    entry = {
        "class": cls_name,
        "config": config,
        "steps": steps,
        "step_kwargs": step_kwargs,
        "timesteps": f32list(timesteps),
        "init_noise_sigma": float(sched.init_noise_sigma),
        "order": sched.order,
    }
    if hasattr(sched, "sigmas") and sched.sigmas is not None:
        entry["sigmas"] = f32list(sched.sigmas)
    gen = torch.Generator().manual_seed(7)
    sample = torch.randn(SHAPE, generator=gen)
    tensors[name + "/sample"] = sample.clone()
    draws = cls_name in DRAWS
    entry["noise_seed"] = 1234 if draws else None
    noise = torch.Generator().manual_seed(1234) if draws else None
    x = sample
    fields = []
    for i, t in enumerate(timesteps):
        m = torch.randn(SHAPE, generator=gen)
        tensors[f"{name}/model_output_{i}"] = m
        xin = sched.scale_model_input(x, t)
        tensors[f"{name}/scaled_{i}"] = xin.clone()
        kwargs = dict(step_kwargs)
        if noise is not None:
            kwargs["generator"] = noise
        out = sched.step(m, t, x, **kwargs)
        x = out.prev_sample
        tensors[f"{name}/prev_{i}"] = x.clone()
        for field in ("pred_original_sample", "denoised"):
            v = getattr(out, field, None)
            if v is not None:
                tensors[f"{name}/{field}_{i}"] = v.clone()
                if field not in fields:
                    fields.append(field)
    entry["outputs"] = fields
    # add_noise on a fresh schedule at the second timestep entry (the index is looked up).
    fresh = cls.from_config({k: v for k, v in config.items() if k != "_class_name"})
    fresh.set_timesteps(steps)
    t = fresh.timesteps[1:2]
    original = torch.randn(SHAPE, generator=gen)
    n = torch.randn(SHAPE, generator=gen)
    tensors[name + "/add_noise_original"] = original
    tensors[name + "/add_noise_noise"] = n
    tensors[name + "/add_noise"] = fresh.add_noise(original, n, t)
    entry["add_noise_timestep"] = float(t[0])
    return entry


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    tensors = {}
    cases = {}
    for name, cls, over, steps, kw in CASES:
        cases[name] = record(name, cls, over, steps, kw, tensors)
    meta = {"diffusers": diffusers.__version__, "torch": torch.__version__, "torchsde": torchsde.__version__,
            "shape": list(SHAPE),
            "cases": cases}
    with open(os.path.join(here, "fixtures.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    save_file({k: v.contiguous().to(torch.float32) for k, v in tensors.items()},
              os.path.join(here, "fixtures.safetensors"))
    print(len(cases), "cases,", len(tensors), "tensors")


if __name__ == "__main__":
    main()
