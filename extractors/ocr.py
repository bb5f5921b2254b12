"""OCR reader: scanned images (PNG, JPEG, TIFF) through Tesseract (pytesseract).

Word boxes are kept in image pixels (a scan has no other unit) and every word carries the
OCR confidence in ``Word.conf`` (0..1). Scanned PDF pages come here through
``extractors.pdf``, which maps the boxes back to points.
"""

from __future__ import annotations

import functools
import shutil
from typing import Any

from extractors.base import short_reason
from intake.domain import Document, DocumentKind, Page, Word
from intake.errors import CorruptDocument, EmptyDocument, LimitExceeded, ReadError
from intake.settings import Limits

__all__ = ["ImageReader", "ocr_image", "require_tesseract", "tesseract_available", "usable_languages"]

# Upper bound on decoded pixels per image (about 16k x 12k): bigger is a decompression bomb.
MAX_PIXELS = 200_000_000


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


def ocr_image(image: Any, languages: str, page_index: int = 0) -> tuple[list[Word], int, int]:
    """OCR one PIL image; return its words (boxes in pixels, conf 0..1) and its size."""
    import pytesseract

    require_tesseract()
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    try:
        data = pytesseract.image_to_data(
            image, lang=usable_languages(languages), output_type=pytesseract.Output.DICT, config="--psm 3"
        )
    except pytesseract.TesseractNotFoundError:
        raise ReadError("OCR is not installed: the tesseract binary was not found") from None
    except (pytesseract.TesseractError, RuntimeError) as exc:
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
        words.append(
            Word(text=text, box=(float(left), float(top), float(left + w), float(top + h)), page=page_index, conf=round(c / 100.0, 4))
        )
    return words, image.width, image.height


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
                Image.MAX_IMAGE_PIXELS = MAX_PIXELS
                img = Image.open(io.BytesIO(data))
                n_frames = int(getattr(img, "n_frames", 1) or 1)
                if n_frames > limits.max_pages:
                    raise LimitExceeded(f"the image has {n_frames} pages, more than the limit of {limits.max_pages}")
                pages: list[Page] = []
                for i in range(n_frames):
                    img.seek(i)
                    frame = img.copy()
                    frame.load()
                    words, w, h = ocr_image(frame, limits.ocr_languages, page_index=i)
                    pages.append(Page(index=i, width=float(w), height=float(h), words=words))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise LimitExceeded(f"the image is too large to decode: {short_reason(exc)}") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptDocument(f"the image could not be decoded: {short_reason(exc)}") from None
        if not any(p.words for p in pages):
            raise EmptyDocument("OCR found no words in the image")
        return [Document(kind=DocumentKind.scan, name=name, pages=pages, meta={"pages": len(pages), "ocr_pages": list(range(len(pages)))})]
