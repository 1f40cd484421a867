"""Writes binning_fixture.json: diffusers 0.31 PixArtImageProcessor.classify_height_width_bin on the
1024 and 256 bin tables for several sizes, and resize_and_crop_tensor (torch F.interpolate bilinear,
align_corners=False) on small random images, for PixArtBinningTest.

    PYTHONPATH=/work/ref/diffusers/src:/work/ref/huggingface_hub/src:/work/ref/pyshim /usr/bin/python3 \
        make_binning_fixture.py binning_fixture.json
Made with torch 1.13.1 (Debian python3-torch), numpy 1.24.2, diffusers v0.31.0 source.
"""
import json
import sys
import ast

import torch
from diffusers.image_processor import PixArtImageProcessor

root = "/work/ref/diffusers/src/diffusers/pipelines/pixart_alpha/pipeline_pixart_alpha.py"
tables = {}
for node in ast.parse(open(root).read()).body:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in (
            "ASPECT_RATIO_1024_BIN", "ASPECT_RATIO_256_BIN"):
        tables[node.targets[0].id.split("_")[2]] = ast.literal_eval(node.value)

classify = []
for res, sizes in (("1024", [(1024, 1024), (768, 1344), (1344, 768), (600, 1000), (2048, 512), (100, 3000),
                             (999, 1001), (1000, 1500)]),
                   ("256", [(256, 256), (200, 304), (304, 200), (64, 512)])):
    for h, w in sizes:
        bh, bw = PixArtImageProcessor.classify_height_width_bin(h, w, ratios=tables[res])
        classify.append({"resolution": int(res), "height": h, "width": w, "bin": [bh, bw]})

g = torch.Generator().manual_seed(0)
resize = []
for shape, (nh, nw) in (((1, 3, 5, 7), (9, 12)), ((2, 3, 16, 8), (6, 6)), ((1, 3, 12, 20), (13, 19))):
    x = torch.rand(shape, generator=g) * 2 - 1
    y = PixArtImageProcessor.resize_and_crop_tensor(x, nw, nh)
    resize.append({"shape": list(shape), "height": nh, "width": nw, "input": x.flatten().tolist(),
                   "output_shape": list(y.shape), "output": y.flatten().tolist()})

json.dump({"versions": {"torch": torch.__version__, "diffusers": "0.31.0"}, "classify": classify, "resize": resize},
          open(sys.argv[1], "w"))
