# Reference values for the T5 tests in nn/src/test/java/dev/pagoda/nn/t5.
# Run from this folder with Debian's python3 (torch 1.13, python3-sentencepiece):
#   /usr/bin/python3 make_reference.py ../../../../../../../../diffusion/src/test/golden/models/tiny-pixart-sigma/tokenizer/spiece.model
# Writes sp_encode.json (SentencePiece encode of extra texts with the tiny golden spiece.model) and
# relative_buckets.json (transformers' T5Attention._relative_position_bucket, re-typed here from
# transformers 4.45 modeling_t5.py, evaluated with torch for several bucket settings).
import json, math, sys
import sentencepiece as spm
import torch

sp = spm.SentencePieceProcessor()
sp.Load(sys.argv[1])
texts = [
    "a photo of an astronaut",
    "   leading and trailing   ",
    "tabs\t\tand\nnew\r\nlines",
    "no\u00a0break\u3000ideographic\u2003em space",
    "\uff21\uff22\uff23 full width \uff11\uff12\uff13",
    "e\u0301 combining acute, \u00c5ngstr\u00f6m \u212b",
    "\ud55c\uad6d\uc5b4 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0440\u0443\u0441\u0441\u043a\u0438\u0439",
    "\u2460\u2461 \u00bd \ufb01 \u2122 \u3371",
    "zero\u200bwidth\u200djoiner \ufeffbom",
    "control\u0001\u0007chars\u007f",
    "\u2581already escaped \u2581\u2581",
    " ",
    "\t\n",
    "x" * 50 + " " + "y z " * 200,
]
out = []
for t in texts:
    out.append({"text": t, "pieces": sp.encode(t, out_type=str), "ids": sp.encode(t)})
json.dump({"sentencepiece_version": spm.__version__, "items": out}, open("sp_encode.json", "w"), ensure_ascii=True, indent=0)

def bucket(rp, bidirectional, num_buckets, max_distance):
    rb = 0
    if bidirectional:
        num_buckets //= 2
        rb += (rp > 0).to(torch.long) * num_buckets
        rp = torch.abs(rp)
    else:
        rp = -torch.min(rp, torch.zeros_like(rp))
    max_exact = num_buckets // 2
    is_small = rp < max_exact
    large = max_exact + (torch.log(rp.float() / max_exact) / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    rb += torch.where(is_small, rp, large)
    return rb

rp = torch.arange(-1200, 1201)
tables = []
for nb, md in [(32, 128), (16, 64), (32, 64), (7, 20), (64, 300)]:
    tables.append({"num_buckets": nb, "max_distance": md, "from": -1200,
                   "buckets": bucket(rp, True, nb, md).tolist()})
json.dump({"torch_version": torch.__version__, "tables": tables}, open("relative_buckets.json", "w"))
