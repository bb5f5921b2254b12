"""Make a scanned-looking, image-only PDF from a rendered PDF, keeping the word labels.

Each page is rasterised with pypdfium2 (~200 dpi, grey), rotated by a small skew (< 1.5
degrees, about the page centre, without resizing), blurred and given sensor noise, then saved
as an image-only PDF whose page size equals the original in points. Word boxes stay in page
points: each box is rotated with the page and replaced by the axis-aligned hull of its corners.
"""

from __future__ import annotations

import io
import math
import random

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter

from training.synth.labels import LabelledPage, LabelledWord

__all__ = ["render_scan", "rotate_box"]

DPI = 200


def rotate_box(box: tuple[float, float, float, float], angle_deg: float, cx: float, cy: float
               ) -> tuple[float, float, float, float]:
    """The hull of ``box`` after PIL's ``Image.rotate(angle_deg)`` about (cx, cy), y down.

    PIL rotates counter-clockwise as seen on screen: a point right of the centre moves up.
    """
    t = math.radians(angle_deg)
    c, s = math.cos(t), math.sin(t)
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        dx, dy = x - cx, y - cy
        xs.append(cx + dx * c + dy * s)
        ys.append(cy - dx * s + dy * c)
    return (min(xs), min(ys), max(xs), max(ys))


def render_scan(pdf: bytes, pages: list[LabelledPage], r: random.Random, dpi: int = DPI
                ) -> tuple[bytes, list[LabelledPage]]:
    """Rasterise, skew, blur and add noise; return the image PDF and the transformed labels."""
    doc = pdfium.PdfDocument(pdf)
    images: list[Image.Image] = []
    out_pages: list[LabelledPage] = []
    nrng = np.random.default_rng(r.randrange(2**32))
    try:
        for i, lp in enumerate(pages):
            page = doc[i]
            img = page.render(scale=dpi / 72.0, grayscale=True).to_pil().convert("L")
            angle = r.uniform(-1.4, 1.4)
            img = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
            img = img.filter(ImageFilter.GaussianBlur(radius=r.uniform(0.4, 1.0)))
            arr = np.asarray(img, dtype=np.float32)
            arr = arr * r.uniform(0.88, 0.97) + r.uniform(4, 14)  # paper is never white, ink never black
            arr += nrng.normal(0.0, r.uniform(4.0, 10.0), arr.shape).astype(np.float32)
            images.append(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L"))
            cx, cy = lp.width / 2, lp.height / 2
            words = [LabelledWord(w.text, rotate_box(w.box, angle, cx, cy), w.label, w.line) for w in lp.words]
            out_pages.append(LabelledPage(lp.width, lp.height, words))
    finally:
        doc.close()
    buf = io.BytesIO()
    # No title or dates: the same seed must give the same bytes.
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi),
                   title=None, creationDate=None, modDate=None, quality=60)
    return buf.getvalue(), out_pages
