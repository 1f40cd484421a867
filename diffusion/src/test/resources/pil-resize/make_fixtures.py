"""Reference outputs of PIL's Image.resize for PilResizeTest.

Run with Debian's python3-pil (/usr/bin/python3; Pillow 9.4.0 on Debian 12):
    /usr/bin/python3 make_fixtures.py
Writes in.png (a seeded random 37x23 RGB image with smooth and sharp regions), mask.png (L mode),
and one PNG per (filter, size) as resized by PIL, down- and up-sampling, awkward sizes.
"""
import numpy as np
from PIL import Image
import PIL

rng = np.random.default_rng(1234)
w, h = 37, 23
yy, xx = np.mgrid[0:h, 0:w]
img = np.zeros((h, w, 3), dtype=np.float64)
img[..., 0] = 255 * xx / (w - 1)
img[..., 1] = 255 * (0.5 + 0.5 * np.sin(yy / 3.0))
img[..., 2] = rng.integers(0, 256, size=(h, w))
img[5:12, 20:30, :] = 255        # a hard-edged block: ringing of lanczos/bicubic gets clipped
img[14:20, 3:9, :] = 0
Image.fromarray(img.astype(np.uint8), "RGB").save("in.png")
mask = (rng.integers(0, 256, size=(h, w))).astype(np.uint8)
Image.fromarray(mask, "L").save("mask.png")

filters = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
           "lanczos": Image.LANCZOS, "box": Image.BOX, "hamming": Image.HAMMING}
sizes = [(1, 1), (5, 3), (16, 16), (37, 11), (64, 48), (13, 40), (111, 69)]
src = Image.open("in.png")
msrc = Image.open("mask.png")
for name, f in filters.items():
    for (ow, oh) in sizes:
        src.resize((ow, oh), resample=f).save(f"{name}_{ow}x{oh}.png")
    msrc.resize((29, 17), resample=f).save(f"mask_{name}_29x17.png")
print("Pillow", PIL.__version__)
