"""Records torch's float32 exp, log and expm1 (one 0-d tensor at a time, as the schedulers call them)
and numpy's float32 log of 0-d arrays ("nplog") for TorchFloatMathTest. Run with Debian's python3-torch 1.13:
    /usr/bin/python3 diffusion/src/test/resources/schedulers/make_torch_float_math.py
Each line: function, input bits, output bits (float32 as hex)."""
import os
import struct

import numpy as np
import torch


def bits(v):
    return "%08x" % struct.unpack("<I", struct.pack("<f", float(v)))[0]


def main():
    g = torch.Generator().manual_seed(0)
    lines = []
    inputs = {
        "exp": torch.cat([torch.rand(1500, generator=g) * 40 - 20, torch.rand(500, generator=g) * 2 - 1]),
        "expm1": torch.cat([torch.rand(1500, generator=g) * 10 - 5, torch.rand(500, generator=g) * 0.2 - 0.1]),
        "log": torch.exp(torch.rand(2000, generator=g) * 30 - 15),
    }
    for name, xs in inputs.items():
        f = getattr(torch, name)
        for x in xs:
            lines.append("%s %s %s" % (name, bits(x), bits(f(x.clone()))))
    for x in torch.exp(torch.rand(2000, generator=g) * 30 - 15):
        lines.append("nplog %s %s" % (bits(x), bits(np.log(np.float32(x.item())))))
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "torch_float_math.txt"), "w") as out:
        out.write("# torch %s, numpy %s\n" % (torch.__version__, np.__version__))
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
