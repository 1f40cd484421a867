"""Writes pixart_aspect_ratio_bins.json: diffusers 0.31's ASPECT_RATIO_{2048,1024,512,256}_BIN tables
(pipelines/pixart_alpha/pipeline_pixart_{alpha,sigma}.py), read from the source with ast (the
pipeline modules import transformers, which is not installed here), keys in source order because
classify_height_width_bin's min() keeps the first of equally close ratios.

    python3 make_aspect_ratio_bins.py /work/ref/diffusers/src/diffusers OUT.json
"""
import ast
import json
import sys

root, out = sys.argv[1], sys.argv[2]
tables = {}
for f in ("pipelines/pixart_alpha/pipeline_pixart_alpha.py", "pipelines/pixart_alpha/pipeline_pixart_sigma.py"):
    tree = ast.parse(open(f"{root}/{f}").read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name.startswith("ASPECT_RATIO_") and name.endswith("_BIN") and isinstance(node.value, ast.Dict):
                d = ast.literal_eval(node.value)
                tables[name.split("_")[2]] = [[k, int(v[0]), int(v[1])] for k, v in d.items()]
json.dump({"source": "diffusers 0.31.0 ASPECT_RATIO_*_BIN (ratio key, height, width)",
           "bins": {k: tables[k] for k in sorted(tables, key=int)}}, open(out, "w"), indent=0)
