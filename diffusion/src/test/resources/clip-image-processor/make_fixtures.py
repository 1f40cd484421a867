"""Fixtures for ClipImageProcessorTest: what transformers' CLIPImageProcessor computes, done here
with Pillow and numpy alone (transformers is not installed). The steps and their arithmetic follow
transformers' numpy path (image_processing_clip.py / image_transforms.py):
  convert_to_rgb   RGB kept; anything else -> RGBA, alpha_composite over opaque white, -> RGB
  resize           shortest edge to `size`, long edge int(size * long / short), PIL resize on uint8
  center_crop      top = (h - ch) // 2, left = (w - cw) // 2; a larger crop zero-pads, centred
  rescale          float64 multiply by rescale_factor, stored as float32
  normalize        (x - mean) / std with float32 mean and std
Run: /usr/bin/python3 make_fixtures.py   (Debian python3-pil 9.4, numpy 1.24)
Writes the input PNGs, and per case <case>.f32 (little-endian float32, CHW) listed in cases.json.
"""
import json
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]


def inputs():
    rng = np.random.RandomState(12)
    imgs = {}
    # smooth gradients plus noise, so resampling has something to average
    def field(h, w, ch):
        y, x = np.mgrid[0:h, 0:w]
        base = [(x * 7 + y * 3) % 256, (x * 2 + y * 11) % 256, (x * y) % 256, (x + y * 5) % 256][:ch]
        a = np.stack(base, axis=-1).astype(np.int32) + rng.randint(-20, 21, size=(h, w, ch))
        return np.clip(a, 0, 255).astype(np.uint8)
    imgs["wide_rgb.png"] = Image.fromarray(field(37, 90, 3), "RGB")
    imgs["tall_rgba.png"] = Image.fromarray(field(71, 29, 4), "RGBA")
    imgs["gray.png"] = Image.fromarray(field(50, 50, 1)[:, :, 0], "L")
    imgs["tiny_rgb.png"] = Image.fromarray(field(3, 5, 3), "RGB")
    for name, im in imgs.items():
        im.save(os.path.join(HERE, name))
    return imgs


def to_rgb(im):
    if im.mode == "RGB":
        return im
    rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def process(im, size, crop, mean, std, resample=Image.BICUBIC):
    im = to_rgb(im)
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    a = np.array(im.resize((nw, nh), resample=resample, reducing_gap=None))  # HWC uint8
    ch_, cw_ = crop
    if nh >= ch_ and nw >= cw_:
        top, left = (nh - ch_) // 2, (nw - cw_) // 2
        a = a[top:top + ch_, left:left + cw_]
    else:
        ph, pw = max(ch_, nh), max(cw_, nw)
        pad = np.zeros((ph, pw, 3), dtype=a.dtype)
        t, l = (ph - nh + 1) // 2, (pw - nw + 1) // 2
        pad[t:t + nh, l:l + nw] = a
        top, left = (ph - ch_) // 2, (pw - cw_) // 2
        a = pad[top:top + ch_, left:left + cw_]
    x = (a.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1).astype(np.float32))


def main():
    imgs = inputs()
    cases = []
    specs = [
        # name, image, shortest edge, crop (h, w), mean, std, PIL filter
        ("wide_default", "wide_rgb.png", 24, (24, 24), MEAN, STD, "bicubic"),
        ("tall_alpha_default", "tall_rgba.png", 24, (24, 24), MEAN, STD, "bicubic"),
        ("gray_default", "gray.png", 24, (24, 24), MEAN, STD, "bicubic"),
        ("tiny_upsampled", "tiny_rgb.png", 24, (24, 24), MEAN, STD, "bicubic"),
        ("wide_crop_pads", "wide_rgb.png", 20, (26, 30), [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], "bicubic"),
        ("tall_bilinear_rect", "tall_rgba.png", 17, (15, 13), MEAN, STD, "bilinear"),
    ]
    filters = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}
    for name, img, size, crop, mean, std, f in specs:
        x = process(imgs[img], size, crop, mean, std, filters[f])
        x.astype("<f4").tofile(os.path.join(HERE, name + ".f32"))
        cases.append({"name": name, "image": img, "shortest_edge": size, "crop": list(crop), "mean": mean,
                      "std": std, "resample": f, "shape": list(x.shape)})
    with open(os.path.join(HERE, "cases.json"), "w") as fh:
        json.dump({"pillow": Image.__version__, "numpy": np.__version__, "cases": cases}, fh, indent=1)


if __name__ == "__main__":
    main()
