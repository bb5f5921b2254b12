"""The document beside the fields: its readable form and its pages as PNG images.

A message's bytes come from the blob store; ``extractors.registry.read_bytes`` turns them into
Documents again (the result is cached as JSON, since OCR takes seconds). Page images are cached
under ``<data_dir>/pages/<sha256>/<document>-<page>.png``:

- PDF pages (also PDFs attached to a mail) are rasterised with pypdfium2 at 100 dpi;
- scanned images (PNG, JPEG, TIFF) are converted to PNG, one per frame;
- everything else (mail bodies, text, spreadsheets) is drawn from the Document's words at their
  positions with Pillow, so a field's source box lands on the right words in every format.

Drawing text into an image also means no mail content ever reaches the browser as markup.
"""

from __future__ import annotations

import email
import email.policy
import io
import logging
import threading
from pathlib import Path

from extractors.ocr import fit_pixels
from extractors.pool import read_isolated
from extractors.registry import sniff
from intake.core.domain import Document, DocumentKind
from intake.core.errors import IntakeError, NotFound

__all__ = ["Renderer", "DPI"]

log = logging.getLogger("extractors.render")
DPI = 100
TEXT_SCALE = 2.0  # pixels per grid unit for drawn pages (a 6x12 character cell -> 12x24 px)
MAX_SIDE = 3000  # a drawn page is scaled down to fit this many pixels
_PDFIUM_LOCK = threading.Lock()  # pdfium is not thread-safe
_IMAGE_KINDS = ("png", "jpeg", "tiff")


class Renderer:
    """Reads and caches the documents and page images of stored messages."""

    def __init__(self, data_dir: Path, blobs: object, limits: object) -> None:
        self.root = data_dir / "pages"
        self.blobs = blobs
        self.limits = limits
        self._lock = threading.Lock()

    def _dir(self, sha: str) -> Path:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise NotFound("no such document")
        return self.root / sha

    def _bytes(self, sha: str) -> bytes:
        return self.blobs.get(sha)  # type: ignore[attr-defined,no-any-return]

    # documents ---------------------------------------------------------------------------
    def documents(self, sha: str, filename: str | None) -> list[Document]:
        """Every document of the message (cached); [] when the message cannot be read."""
        d = self._dir(sha)
        cache = d / "documents.json"
        if cache.is_file():
            try:
                import json

                return [Document.model_validate(x) for x in json.loads(cache.read_text(encoding="utf-8"))]
            except (ValueError, OSError):
                pass  # a damaged cache is read again

        try:  # in a bounded reader process, as the pipeline reads it
            docs = read_isolated(self._bytes(sha), filename, self.limits)  # type: ignore[arg-type]
        except IntakeError as exc:
            log.info("message %s cannot be shown: %s", sha[:12], exc.reason)
            return []
        except FileNotFoundError:
            return []
        d.mkdir(parents=True, exist_ok=True)
        payload = "[" + ",".join(doc.model_dump_json() for doc in docs) + "]"
        _atomic_write(cache, payload.encode("utf-8"))
        return docs

    def document(self, sha: str, filename: str | None, index: int) -> Document | None:
        docs = self.documents(sha, filename)
        return docs[index] if 0 <= index < len(docs) else None

    # page images -------------------------------------------------------------------------
    def page_png(self, sha: str, filename: str | None, doc_index: int, page: int) -> Path:
        """The PNG of one page (rendered once, then served from the cache)."""
        out = self._dir(sha) / f"{int(doc_index)}-{int(page)}.png"
        if out.is_file():
            return out
        doc = self.document(sha, filename, doc_index)
        if doc is None or not 0 <= page < max(len(doc.pages), 1) or not doc.pages:
            raise NotFound("no such page")
        with self._lock:
            if out.is_file():
                return out
            png = self._render(sha, doc, page)
            out.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(out, png)
        return out

    def _render(self, sha: str, doc: Document, page: int) -> bytes:
        source = self._source_bytes(sha, doc)
        if source is not None:
            kind, data = source
            try:
                max_pixels = int(getattr(self.limits, "max_render_pixels", 16_000_000))
                if kind == "pdf":
                    return _pdf_page_png(data, page, max_pixels)
                return _image_frame_png(data, page, int(getattr(self.limits, "max_image_pixels", 64_000_000)))
            except Exception as exc:  # an odd file: fall back to drawing its words
                log.info("rasterising %s page %d failed (%s); drawing its words", sha[:12], page, exc)
        return _draw_words(doc, page, int(getattr(self.limits, "max_render_pixels", 16_000_000)))

    def _source_bytes(self, sha: str, doc: Document) -> tuple[str, bytes] | None:
        """The PDF or image bytes behind ``doc``: the message itself or a mail attachment."""
        if doc.kind not in (DocumentKind.pdf, DocumentKind.scan):
            return None

        data = self._bytes(sha)
        try:
            kind = sniff(data)
        except IntakeError:
            return None
        if kind == "pdf" or kind in _IMAGE_KINDS:
            return kind, data
        if kind != "eml":
            return None
        want = doc.meta.get("filename") or doc.name
        msg = email.message_from_bytes(data, policy=email.policy.default)
        for part in msg.walk():
            if part.is_multipart():
                continue
            if want and part.get_filename() != want:
                continue
            try:
                payload = part.get_payload(decode=True)
            except Exception:
                continue
            if not isinstance(payload, bytes) or not payload:
                continue
            try:
                pk = sniff(payload)
            except IntakeError:
                continue
            if pk == "pdf" or pk in _IMAGE_KINDS:
                return pk, payload
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _pdf_page_png(data: bytes, page: int, max_pixels: int = 16_000_000) -> bytes:
    """One page at 100 dpi, scaled down to at most ``max_pixels`` (a 750-byte PDF can declare a
    page of 200 x 200 inches: at 100 dpi that is 400 MP, gigabytes of bitmap)."""
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(data)
        try:
            if not 0 <= page < len(pdf):
                raise NotFound("no such page")
            pg = pdf[page]
            w, h = pg.get_size()
            scale = DPI / 72
            scale *= fit_pixels(w * scale, h * scale, max_pixels)
            img = pg.render(scale=scale).to_pil()
            pg.close()
        finally:
            pdf.close()
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False)
    return buf.getvalue()


def _image_frame_png(data: bytes, page: int, max_pixels: int = 64_000_000) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im.seek(page)
        if im.size[0] * im.size[1] > max_pixels:  # refused from the header, before decoding
            raise ValueError(f"the image has {im.size[0]} x {im.size[1]} pixels, more than {max_pixels}")
        if im.format == "JPEG" and max(im.size) > 2200:
            im.draft(im.mode, (2200, 2200))  # decode at a reduced size
        frame = im.convert("RGB") if im.mode not in ("RGB", "L") else im.copy()
    # scans come at 200-600 dpi: keep them light for the browser
    if max(frame.size) > 2200:
        frame.thumbnail((2200, 2200))
    buf = io.BytesIO()
    frame.save(buf, "PNG")
    return buf.getvalue()


def _draw_words(doc: Document, page: int, max_pixels: int = 16_000_000) -> bytes:
    """A white page with the document's words drawn at their boxes (mail, text, spreadsheets)."""
    from PIL import Image, ImageDraw, ImageFont

    pg = doc.pages[page]
    scale = TEXT_SCALE
    w, h = max(pg.width, 1.0) * scale, max(pg.height, 1.0) * scale
    if max(w, h) > MAX_SIDE * 4:
        scale *= MAX_SIDE * 4 / max(w, h)
    scale *= fit_pixels(max(pg.width, 1.0) * scale, max(pg.height, 1.0) * scale, max_pixels)
    # the image spans exactly the page, so a box in page units maps to it by proportion
    width, height = max(int(pg.width * scale), 1), max(int(pg.height * scale), 1)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    fonts: dict[int, ImageFont.ImageFont | ImageFont.FreeTypeFont] = {}
    for word in pg.words:
        x0, y0, x1, y1 = word.box
        size = max(6, int((y1 - y0) * scale * 0.8))
        font = fonts.get(size)
        if font is None:
            font = ImageFont.load_default(size=size)
            fonts[size] = font
        draw.text((x0 * scale, y0 * scale), word.text, fill=(20, 20, 20), font=font)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
