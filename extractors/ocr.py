"""OCR reader: scanned images (PNG, JPEG, TIFF) through Tesseract (pytesseract).

Word boxes are kept in image pixels (a scan has no other unit) and every word carries the
OCR confidence in ``Word.conf`` (0..1). Scanned PDF pages come here through
``extractors.pdf``, which maps the boxes back to points.

Budgets: an image is refused above ``Limits.max_image_pixels`` before it is decoded (JPEGs are
decoded at a reduced size when that is enough); a page is scaled down to
``Limits.max_ocr_pixels_per_page`` before Tesseract sees it (a 7000 x 7000 scan is read at
12 MP, not 49); all OCR of one message together may take ``Limits.max_ocr_pixels_per_message``
(``ocr_budget``), after which reading stops with LimitExceeded.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import shutil
from collections.abc import Iterator
from typing import Any

from extractors.base import short_reason
from intake.core.domain import Document, DocumentKind, Page, Word
from intake.core.errors import CorruptDocument, EmptyDocument, LimitExceeded, ReadError
from intake.core.settings import Limits

__all__ = ["ImageReader", "ocr_image", "require_tesseract", "tesseract_available", "usable_languages", "ocr_budget",
           "fit_pixels"]

# pixels of OCR left for the message being read (None: no message-wide budget is running)
_BUDGET: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("ocr_budget", default=None)


@contextlib.contextmanager
def ocr_budget(limits: Limits) -> Iterator[None]:
    """One message's OCR budget: nested reads (a mail's attachments) share the outer one."""
    if _BUDGET.get() is not None:
        yield
        return
    token = _BUDGET.set([limits.max_ocr_pixels_per_message])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def fit_pixels(width: float, height: float, max_pixels: int) -> float:
    """The scale (at most 1) that brings ``width x height`` within ``max_pixels``."""
    area = max(width, 1.0) * max(height, 1.0)
    return 1.0 if area <= max_pixels else math.sqrt(max_pixels / area)


def _charge(pixels: int, page_index: int) -> None:
    left = _BUDGET.get()
    if left is None:
        return
    if pixels > left[0]:
        raise LimitExceeded(f"OCR of page {page_index + 1} would pass the message's budget of OCR pixels "
                            f"(the pages before it used what is allowed)")
    left[0] -= pixels


@functools.lru_cache(maxsize=1)
def tesseract_available() -> bool:
    """Whether pytesseract and the tesseract binary are installed."""
    try:
        import pytesseract
    except ImportError:
        return False
    cmd = getattr(pytesseract.pytesseract, "tesseract_cmd", "tesseract")
    return shutil.which(cmd) is not None


def require_tesseract() -> None:
    """Raise a named one-line ReadError when OCR is not installed."""
    if not tesseract_available():
        raise ReadError("OCR is not installed: the tesseract binary (apt-get install tesseract-ocr) was not found")


@functools.lru_cache(maxsize=16)
def usable_languages(wanted: str) -> str:
    """The languages of ``wanted`` ("eng+deu") that are installed; "eng" if none are."""
    import pytesseract

    try:
        installed = set(pytesseract.get_languages(config=""))
    except Exception:  # an old tesseract without --list-langs: trust the setting
        return wanted
    langs = [lang for lang in wanted.split("+") if lang in installed]
    if not langs:
        langs = ["eng"] if "eng" in installed else sorted(installed - {"osd"})[:1]
    return "+".join(langs)


def ocr_image(image: Any, languages: str, page_index: int = 0,
              limits: Limits | None = None) -> tuple[list[Word], int, int]:
    """OCR one PIL image; return its words (boxes in the image's pixels, conf 0..1) and its size.

    With ``limits``, an image larger than ``max_ocr_pixels_per_page`` is read scaled down (boxes
    are mapped back), and its pixels are charged to the message's ``ocr_budget``.
    """
    import pytesseract

    require_tesseract()
    full_w, full_h = image.width, image.height
    k = 1.0
    if limits is not None:
        k = fit_pixels(full_w, full_h, limits.max_ocr_pixels_per_page)
    if k < 1.0:
        from PIL import Image

        image = image.resize((max(1, int(full_w * k)), max(1, int(full_h * k))), Image.Resampling.LANCZOS)
    _charge(image.width * image.height, page_index)
    if image.mode != "L":
        image = image.convert("L")  # Tesseract reads grey levels: a third of the memory of RGB
    timeout = limits.ocr_page_timeout_s if limits is not None else 0
    try:
        data = pytesseract.image_to_data(
            image, lang=usable_languages(languages), output_type=pytesseract.Output.DICT, config="--psm 3",
            timeout=timeout,
        )
    except pytesseract.TesseractNotFoundError:
        raise ReadError("OCR is not installed: the tesseract binary was not found") from None
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise LimitExceeded(f"OCR of page {page_index + 1} took longer than {timeout:g} s (the limit)") from None
        raise CorruptDocument(f"OCR failed on page {page_index + 1}: {short_reason(exc)}") from None
    except pytesseract.TesseractError as exc:
        raise CorruptDocument(f"OCR failed on page {page_index + 1}: {short_reason(exc)}") from None
    words: list[Word] = []
    # image_to_data lists words block by block, line by line: Tesseract's reading order
    for text, left, top, w, h, conf in zip(
        data["text"], data["left"], data["top"], data["width"], data["height"], data["conf"]
    ):
        text = (text or "").strip()
        try:
            c = float(conf)
        except (TypeError, ValueError):
            c = -1.0
        if not text or c < 0:
            continue
        box = (left / k, top / k, (left + w) / k, (top + h) / k) if k < 1.0 else (left, top, left + w, top + h)
        words.append(Word(text=text, box=tuple(round(float(v), 2) for v in box), page=page_index,  # type: ignore[arg-type]
                          conf=round(c / 100.0, 4)))
    return words, full_w, full_h


class ImageReader:
    """PNG, JPEG and TIFF (every frame a page) read by OCR."""

    name = "image"
    content_types = ("png", "jpeg", "tiff")

    def is_available(self) -> bool:
        try:
            import PIL  # noqa: F401
        except ImportError:
            return False
        return True

    def read(self, data: bytes, limits: Limits, name: str | None = None) -> list[Document]:
        """OCR every frame; raise ReadError when OCR is not installed."""
        import io
        import warnings

        from PIL import Image, UnidentifiedImageError

        require_tesseract()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                Image.MAX_IMAGE_PIXELS = limits.max_image_pixels  # checked from the header, before decoding
                img = Image.open(io.BytesIO(data))
                n_frames = int(getattr(img, "n_frames", 1) or 1)
                if n_frames > limits.max_pages:
                    raise LimitExceeded(f"the image has {n_frames} pages, more than the limit of {limits.max_pages}")
                pages: list[Page] = []
                for i in range(n_frames):
                    img.seek(i)
                    full_w, full_h = img.size
                    if full_w * full_h > limits.max_image_pixels:
                        raise LimitExceeded(f"page {i + 1} of the image has {full_w} x {full_h} pixels, more than "
                                            f"the limit of {limits.max_image_pixels}")
                    k = fit_pixels(full_w, full_h, limits.max_ocr_pixels_per_page)
                    if k < 1.0 and img.format == "JPEG":
                        img.draft("L", (int(full_w * k), int(full_h * k)))  # decode grey, at a reduced size
                    img.load()
                    frame = img if n_frames == 1 else img.copy()
                    if frame.mode != "L":
                        frame = frame.convert("L")
                    words, w, h = ocr_image(frame, limits.ocr_languages, page_index=i, limits=limits)
                    f = full_w / max(w, 1)  # a reduced decode: boxes back to the image's own pixels
                    if f != 1.0:
                        words = [ww.model_copy(update={"box": tuple(round(v * f, 2) for v in ww.box)}) for ww in words]
                    pages.append(Page(index=i, width=float(full_w), height=float(full_h), words=words))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise LimitExceeded(f"the image is too large to decode: {short_reason(exc)}") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptDocument(f"the image could not be decoded: {short_reason(exc)}") from None
        if not any(p.words for p in pages):
            raise EmptyDocument("OCR found no words in the image")
        return [Document(kind=DocumentKind.scan, name=name, pages=pages, meta={"pages": len(pages), "ocr_pages": list(range(len(pages)))})]
