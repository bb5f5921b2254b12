"""PDF reader: the text layer through pypdfium2's character boxes, rebuilt into words.

pdfium gives every character with its box in about 3 ms a page; grouping characters into
lines and words here (rather than pdfplumber's words, ~48 ms a page) is both faster and lets
us repair the text layers that real order PDFs have:

* bold faked by drawing every glyph twice at nearly the same spot, and overprinted text:
  a character equal to one already seen within a fraction of its width is dropped;
* text layers without space characters: words are split at horizontal gaps;
* clipped text (a long value overflowing a table cell, hidden by a clip path) whose hidden
  part would interleave with the neighbouring column: characters whose centre lies outside
  their object's clip rectangle, or outside the crop box, are not placed on the page. The
  hidden tail of a value that overflows its cell to the right ("Fields Equipm" + "ent
  Manufacturing") is still the value: it is read on from the last visible word, its words
  sharing that word's box, so the column the cell is in stays as printed;
* right-to-left runs (Hebrew) that a text layer stores in visual order: put back into
  logical order;
* /Rotate 90/180/270: boxes are given in the displayed orientation.

A page with no usable text layer (a scan inside a PDF) is rendered at ``limits.ocr_dpi`` and
read by OCR on its own; its boxes are mapped back to points.
"""

from __future__ import annotations

import ctypes
import unicodedata
from dataclasses import dataclass
from typing import Any

from extractors.base import short_reason
from intake.core.domain import Document, DocumentKind, Page, Word
from intake.core.errors import CorruptDocument, EmptyDocument, EncryptedDocument, LimitExceeded, ReadError
from intake.core.settings import Limits

__all__ = ["PdfReader", "open_pdf", "page_words", "is_rtl_char"]

# A page whose text layer has fewer visible characters than this is treated as a scan.
MIN_TEXT_CHARS = 8
# Fraction of the characters that may be unmappable (no ToUnicode) before the layer is junk.
MAX_BAD_CHAR_RATIO = 0.5


def is_rtl_char(ch: str) -> bool:
    """Whether ``ch`` is a strong right-to-left letter (Hebrew, Arabic, ...)."""
    return unicodedata.bidirectional(ch) in ("R", "AL")


@dataclass(slots=True)
class _Char:
    ch: str
    x0: float
    y0: float
    x1: float
    y1: float
    run: int  # stream word id: grows at every whitespace, so a stream space separates words
    tail: str = ""  # the clipped rest of this character's text object, when it overflows right

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def h(self) -> float:
        return self.y1 - self.y0


def open_pdf(data: bytes) -> Any:
    """Open PDF bytes with pdfium; named errors for encrypted and unreadable files."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc).lower()
        if "password" in msg or "security" in msg:
            raise EncryptedDocument("the PDF is encrypted (a password is needed to open it)") from None
        raise CorruptDocument(f"the PDF could not be opened: {short_reason(exc)}") from None


def _transform(rotation: int, w: float, h: float, cx0: float, cy0: float):  # type: ignore[no-untyped-def]
    """Map PDF user space (origin bottom-left, unrotated) to the displayed page, top-left origin."""
    if rotation == 90:
        return lambda x, y: (y - cy0, x - cx0)
    if rotation == 180:
        return lambda x, y: (w - (x - cx0), y - cy0)
    if rotation == 270:
        return lambda x, y: (h - (y - cy0), w - (x - cx0))
    return lambda x, y: (x - cx0, h - (y - cy0))


def _clip_rect(pdfium_c: Any, obj: Any) -> tuple[float, float, float, float] | None:
    """The bounding rectangle of a page object's clip path in page space, if it has one."""
    clip = pdfium_c.FPDFPageObj_GetClipPath(obj)
    if not clip:
        return None
    rect: tuple[float, float, float, float] | None = None
    xv, yv = ctypes.c_float(), ctypes.c_float()
    for p in range(pdfium_c.FPDFClipPath_CountPaths(clip)):
        xs: list[float] = []
        ys: list[float] = []
        for s in range(pdfium_c.FPDFClipPath_CountPathSegments(clip, p)):
            seg = pdfium_c.FPDFClipPath_GetPathSegment(clip, p, s)
            if seg and pdfium_c.FPDFPathSegment_GetPoint(seg, xv, yv):
                xs.append(xv.value)
                ys.append(yv.value)
        if not xs:
            continue
        r = (min(xs), min(ys), max(xs), max(ys))
        # the clip region is the intersection of all its paths
        rect = r if rect is None else (max(rect[0], r[0]), max(rect[1], r[1]), min(rect[2], r[2]), min(rect[3], r[3]))
    return rect


def _page_chars(page: Any, pdfium_c: Any) -> tuple[list[_Char], float, float, int]:
    """Visible characters of one page in displayed coordinates, plus the displayed size."""
    raw_page = page.raw
    rotation = int(page.get_rotation() or 0) % 360
    # The displayed area, (left, bottom, right, top) in user space: the crop box within the
    # media box as pdfium resolves them. (pypdfium2's get_cropbox() falls back to US Letter when
    # the box is an indirect object, which put an A4 page's top 50 points outside the page.)
    crop = page.get_bbox()
    cx0, cy0, cx1, cy1 = (float(v) for v in crop)
    w, h = cx1 - cx0, cy1 - cy0
    tf = _transform(rotation, w, h, cx0, cy0)
    disp_w, disp_h = (h, w) if rotation in (90, 270) else (w, h)

    textpage = page.get_textpage()
    tp = textpage.raw
    n = pdfium_c.FPDFText_CountChars(tp)
    rect = pdfium_c.FS_RECTF()
    get_unicode = pdfium_c.FPDFText_GetUnicode
    get_box = pdfium_c.FPDFText_GetLooseCharBox
    get_obj = pdfium_c.FPDFText_GetTextObject
    clip_cache: dict[int, tuple[float, float, float, float] | None] = {}
    chars: list[_Char] = []
    last_seen: dict[int, int] = {}  # text object -> index in chars of its last visible character
    tails: dict[int, list[tuple[str, int]]] = {}  # text object -> its hidden tail (char, run)
    bad = 0
    run = 0
    try:
        for i in range(n):
            u = get_unicode(tp, i)
            if u <= 32 or u in (0xA0, 0x2002, 0x2003, 0x2009, 0x3000):
                run += 1
                continue
            if u in (0xFEFF, 0x200B, 0x200E, 0x200F) or 0x202A <= u <= 0x202E:
                continue  # invisible marks carry no text
            if u == 0xAD:
                # a soft hyphen is invisible unless the layer draws it ("CFT\u00ad0167" printed
                # as CFT-0167): one with a glyph box is the hyphen the reader sees
                if not get_box(tp, i, rect) or rect.right - rect.left < 0.5:
                    continue
                u = 0x2D
            if u == 0xFFFD or u == 0 or 0xE000 <= u <= 0xF8FF:
                bad += 1  # glyph without a unicode mapping
                continue
            if not get_box(tp, i, rect):
                continue
            left, right, bottom, top = rect.left, rect.right, rect.bottom, rect.top
            mx, my = (left + right) / 2, (bottom + top) / 2
            # outside the crop box: never displayed
            if not (cx0 - 1 <= mx <= cx1 + 1 and cy0 - 1 <= my <= cy1 + 1):
                continue
            obj = get_obj(tp, i)
            if obj:
                key = ctypes.cast(obj, ctypes.c_void_p).value or 0
                if key not in clip_cache:
                    clip_cache[key] = _clip_rect(pdfium_c, obj)
                clip = clip_cache[key]
                # hidden by the clip path: the overflowing tail of a clipped cell value
                if clip is not None and not (clip[0] - 0.5 <= mx <= clip[2] + 0.5 and clip[1] - 0.5 <= my <= clip[3] + 0.5):
                    if key in last_seen and mx > clip[2] and clip[1] - 0.5 <= my <= clip[3] + 0.5:
                        tails.setdefault(key, []).append((chr(u), run))
                    continue
                last_seen[key] = len(chars)
                tails.pop(key, None)  # visible again: what was hidden before was no tail
            ax, ay = tf(left, top)
            bx, by = tf(right, bottom)
            chars.append(_Char(chr(u), min(ax, bx), min(ay, by), max(ax, bx), max(ay, by), run))
    finally:
        textpage.close()
    for key, tail in tails.items():
        c = chars[last_seen[key]]
        text, prev = "", c.run
        for ch, r in tail:
            text += (" " if r != prev else "") + ch
            prev = r
        c.tail = text
    if bad and bad > MAX_BAD_CHAR_RATIO * (len(chars) + bad):
        chars = []  # a layer of unmapped glyphs reads as garbage: treat as a scan
    return chars, disp_w, disp_h, rotation


def _dedupe(chars: list[_Char]) -> list[_Char]:
    """Drop a character drawn again at (nearly) the same spot: fake bold, overprint."""
    grid: dict[tuple[str, int, int], list[_Char]] = {}
    out: list[_Char] = []
    for c in chars:
        width = max(c.x1 - c.x0, 0.5)
        tol_x = max(0.35 * width, 0.4)
        tol_y = max(0.3 * c.h, 0.4)
        gx, gy = int(c.cx // 2), int(c.cy // 2)
        dup = False
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for o in grid.get((c.ch, gx + dx, gy + dy), ()):
                    if abs(o.cx - c.cx) <= tol_x and abs(o.cy - c.cy) <= tol_y:
                        dup = True
                        break
                if dup:
                    break
            if dup:
                break
        if dup:
            continue
        grid.setdefault((c.ch, gx, gy), []).append(c)
        out.append(c)
    return out


def _lines(chars: list[_Char]) -> list[list[_Char]]:
    """Group characters into visual lines: close vertical centres, then left to right."""
    if not chars:
        return []
    order = sorted(chars, key=lambda c: c.cy)
    lines: list[list[_Char]] = []
    cur: list[_Char] = [order[0]]
    cur_cy, cur_h = order[0].cy, order[0].h
    for c in order[1:]:
        if abs(c.cy - cur_cy) <= 0.45 * min(max(c.h, 1.0), max(cur_h, 1.0)):
            cur.append(c)
        else:
            lines.append(cur)
            cur, cur_cy, cur_h = [c], c.cy, c.h
    lines.append(cur)
    for ln in lines:
        ln.sort(key=lambda c: c.x0)
    return lines


def _logical(text: str) -> str:
    """Visual-order text of a word with right-to-left letters back in logical order.

    The whole word is reversed, then left-to-right runs inside it (digits, Latin) are turned
    back, which is what the Unicode bidi algorithm does for a single embedding level.
    """
    if not any(is_rtl_char(ch) for ch in text):
        return text
    rev = text[::-1]
    out: list[str] = []
    run: list[str] = []
    for ch in rev:
        if unicodedata.bidirectional(ch) in ("L", "EN", "AN") or (run and ch in ".,:/-" ):
            run.append(ch)
        else:
            if run:
                out.append("".join(reversed(run)))
                run = []
            out.append(ch)
    if run:
        out.append("".join(reversed(run)))
    return "".join(out)


def page_words(chars: list[_Char], page_index: int) -> list[Word]:
    """Rebuild words from characters: split at stream spaces and at horizontal gaps."""
    words: list[Word] = []
    for line in _lines(_dedupe(chars)):
        groups: list[list[_Char]] = []
        cur: list[_Char] = []
        for c in line:
            if cur:
                p = cur[-1]
                gap = c.x0 - p.x1
                size = max(min(c.h, p.h), 1.0)
                # a gap of a space (~0.25 em) splits words even without a space character;
                # a space in the content stream splits where the glyphs do not touch (kerned
                # runs can carry spurious spaces between letters of one word)
                if (gap > 0.17 * size or (c.run != p.run and gap > 0.02 * size) or c.x0 < p.x0 - 0.5 * size
                        or p.tail):  # a clipped value's hidden tail ends its word
                    groups.append(cur)
                    cur = []
            cur.append(c)
        if cur:
            groups.append(cur)
        line_words: list[Word] = []
        for g in groups:
            box = (min(c.x0 for c in g), min(c.y0 for c in g), max(c.x1 for c in g), max(c.y1 for c in g))
            text = "".join(c.ch + c.tail for c in g)
            if any(c.tail for c in g):
                line_words.extend(_shared_box(text.split(), box, page_index))
            else:
                line_words.append(Word(text=_logical(text), box=tuple(round(v, 2) for v in box), page=page_index))
        words.extend(_reading_order(line_words))
    return words


def _shared_box(texts: list[str], box: tuple[float, float, float, float], page_index: int) -> list[Word]:
    """Words of a clipped value read on into its hidden tail, sharing the visible word's box
    left to right, each a width in proportion to its length."""
    x0, y0, x1, y1 = box
    total = sum(len(t) for t in texts) or 1
    out: list[Word] = []
    at = x0
    for t in texts:
        right = at + (x1 - x0) * len(t) / total
        out.append(Word(text=_logical(t), box=(round(at, 2), round(y0, 2), round(max(right, at + 0.01), 2), round(y1, 2)),
                        page=page_index))
        at = right
    return out


def _has_ltr(word: Word) -> bool:
    return any(unicodedata.bidirectional(ch) == "L" for ch in word.text)


def _has_rtl(word: Word) -> bool:
    return any(is_rtl_char(ch) for ch in word.text)


def _reading_order(words: list[Word]) -> list[Word]:
    """Words of one visual line (left to right) in reading order.

    A line with mostly right-to-left words reads from the right: its words are reversed,
    keeping runs of left-to-right words (Latin names, codes) in their own order. In a
    left-to-right line, a run of right-to-left words is reversed in place.
    """
    n_rtl = sum(1 for w in words if _has_rtl(w))
    if not n_rtl:
        return words
    n_ltr = sum(1 for w in words if _has_ltr(w))
    if n_rtl >= n_ltr:
        segments: list[list[Word]] = []
        for w in words:
            if _has_ltr(w) and segments and _has_ltr(segments[-1][-1]):
                segments[-1].append(w)
            else:
                segments.append([w])
        return [w for seg in reversed(segments) for w in seg]
    out: list[Word] = []
    i = 0
    while i < len(words):
        if _has_rtl(words[i]):
            j = i + 1  # the run: this word and the following ones without left-to-right letters
            while j < len(words) and not _has_ltr(words[j]):
                j += 1
            out.extend(reversed(words[i:j]))
            i = j
        else:
            out.append(words[i])
            i += 1
    return out


class PdfReader:
    """PDF with a text layer (pypdfium2); pages without one go to OCR one by one."""

    name = "pdf"
    content_types = ("pdf",)

    def is_available(self) -> bool:
        try:
            import pypdfium2  # noqa: F401
        except ImportError:
            return False
        return True

    def read(self, data: bytes, limits: Limits, name: str | None = None) -> list[Document]:
        """Read every page; raise EncryptedDocument, CorruptDocument, LimitExceeded, EmptyDocument."""
        import pypdfium2.raw as pdfium_c

        pdf = open_pdf(data)
        try:
            try:
                n_pages = len(pdf)
            except Exception as exc:  # pdfium refuses some broken page trees only here
                raise CorruptDocument(f"the PDF page tree is unreadable: {short_reason(exc)}") from None
            if n_pages == 0:
                raise EmptyDocument("the PDF has no pages")
            if n_pages > limits.max_pages:
                raise LimitExceeded(f"the PDF has {n_pages} pages, more than the limit of {limits.max_pages}")
            pages: list[Page] = []
            ocr_pages: list[int] = []
            ocr_error: ReadError | None = None
            for i in range(n_pages):
                page = pdf[i]
                try:
                    chars, width, height, _rot = _page_chars(page, pdfium_c)
                    if len(chars) >= MIN_TEXT_CHARS:
                        pages.append(Page(index=i, width=round(width, 2), height=round(height, 2), words=page_words(chars, i)))
                        continue
                    if not _has_image(page, pdfium_c):
                        # nothing drawn as an image: a blank or vector-only page, nothing to OCR
                        pages.append(Page(index=i, width=round(width, 2), height=round(height, 2), words=page_words(chars, i)))
                        continue
                    # no usable text layer: this page is a scan, read it by OCR on its own
                    try:
                        pages.append(_ocr_page(page, i, width, height, limits))
                        ocr_pages.append(i)
                    except ReadError as exc:
                        ocr_error = exc
                        words = page_words(chars, i)
                        pages.append(Page(index=i, width=round(width, 2), height=round(height, 2), words=words))
                finally:
                    page.close()
        finally:
            pdf.close()
        if not any(p.words for p in pages):
            if ocr_error is not None:
                raise ocr_error
            raise EmptyDocument("the PDF has no text layer and OCR found no words")
        kind = DocumentKind.scan if ocr_pages and len(ocr_pages) == n_pages else DocumentKind.pdf
        meta: dict[str, Any] = {"pages": n_pages}
        if ocr_pages:
            meta["ocr_pages"] = ocr_pages
        if ocr_error is not None:
            meta["ocr_error"] = ocr_error.reason
        return [Document(kind=kind, name=name, pages=pages, meta=meta)]


def _has_image(page: Any, pdfium_c: Any) -> bool:
    """Whether the page draws an image (possibly inside a form XObject)."""
    raw = page.raw

    def walk(get_count: Any, get_obj: Any, owner: Any, depth: int) -> bool:
        for k in range(get_count(owner)):
            obj = get_obj(owner, k)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                return True
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < 8:
                if walk(pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, obj, depth + 1):
                    return True
        return False

    return walk(pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject, raw, 0)


def _ocr_page(page: Any, index: int, width: float, height: float, limits: Limits) -> Page:
    """Render one page (displayed orientation) and OCR it; boxes mapped back to points."""
    from extractors.ocr import ocr_image, require_tesseract

    from extractors.ocr import fit_pixels

    require_tesseract()
    scale = limits.ocr_dpi / 72.0
    # the bitmap is made no bigger than OCR reads (a huge page at 300 dpi would take gigabytes)
    scale *= fit_pixels(width * scale, height * scale, limits.max_ocr_pixels_per_page)
    bitmap = page.render(scale=scale, grayscale=True)
    image = bitmap.to_pil()
    words, _w, _h = ocr_image(image, limits.ocr_languages, page_index=index, limits=limits)
    k = 1.0 / scale
    mapped = [
        Word(text=w.text, box=(round(w.box[0] * k, 2), round(w.box[1] * k, 2), round(w.box[2] * k, 2), round(w.box[3] * k, 2)), page=index, conf=w.conf)
        for w in words
    ]
    return Page(index=index, width=round(width, 2), height=round(height, 2), words=mapped)
