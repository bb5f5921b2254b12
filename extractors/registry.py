"""Pick a reader by sniffing content (magic bytes, zip directory, MIME headers), never the
file name, and read bytes into ``Document`` objects.

``read_bytes`` raises only the named errors of ``intake.core.errors`` (``ReadError`` and its
subclasses), each with a one-line reason: an unexpected library exception becomes
``CorruptDocument``. EDI is recognised here but parsed elsewhere: it comes back as a
``Document`` with its decoded text and no pages.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from typing import Any

from extractors.base import Reader, short_reason
from intake.core.domain import Document, DocumentKind
from intake.core.errors import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    IntakeError,
    LimitExceeded,
    ReadError,
    UnsupportedContentType,
)
from intake.core.settings import Limits

__all__ = [
    "read_bytes",
    "sniff",
    "readers",
    "reader_for",
    "documents_to_json",
    "documents_to_text",
    "CONTENT_TYPES",
]

CONTENT_TYPES = ("pdf", "png", "jpeg", "tiff", "eml", "xlsx", "csv", "text", "x12", "edifact", "html")

_SNIFF_BYTES = 64 * 1024
_MAIL_HEADERS = {
    "from", "to", "cc", "subject", "date", "message-id", "mime-version", "received", "return-path",
    "reply-to", "content-type", "delivered-to", "x-mailer", "in-reply-to", "references", "sender",
}
_HEADER_LINE = re.compile(rb"^([A-Za-z][A-Za-z0-9-]{0,60}):[ \t]?")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|table|div|p|meta)\b", re.I | re.S)


class _EdiReader:
    """Recognises EDI; parsing is ``extractors.edi``'s job, so the text is passed on."""

    name = "edi"
    content_types = ("x12", "edifact")

    def is_available(self) -> bool:
        return True

    def read(self, data: bytes, limits: Limits, name: str | None = None) -> list[Document]:
        kind = _sniff_edi(data)
        if kind is None:
            raise UnsupportedContentType("not an X12 or EDIFACT interchange")
        text = _decode_edi(data)
        return [Document(kind=DocumentKind(kind), name=name, text=text, pages=[])]


class _TextReader:
    """Plain text and HTML files: a synthetic grid layout of their (visible) text."""

    name = "text"
    content_types = ("text", "html")

    def is_available(self) -> bool:
        return True

    def read(self, data: bytes, limits: Limits, name: str | None = None) -> list[Document]:
        from extractors.email import html_to_text
        from extractors.spreadsheet import decode_text
        from extractors.text import layout_text

        text, _enc = decode_text(data)
        text = text.lstrip("\ufeff")
        if _HTML_START.match(text[:2048].encode("utf-8", "replace")):
            text = html_to_text(text)
        if not text.strip():
            raise EmptyDocument("the text file holds only whitespace")
        return [layout_text(text, name=name, kind=DocumentKind.text)]


def _decode_edi(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _sniff_edi(data: bytes) -> str | None:
    """``extractors.edi.sniff_edi`` when that module exists, else a small local check."""
    try:
        from extractors.edi import sniff_edi
    except ImportError:
        sniff_edi = None
    if sniff_edi is not None:
        try:
            kind = sniff_edi(data)
        except Exception:  # the EDI sniffer must not break reading of other formats
            kind = None
        if kind in ("x12", "edifact"):
            return kind
        return None
    head = data[:256]
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    head = head.lstrip(b" \t\r\n\x00").replace(b"\xc2\xa0", b" ")
    if head.startswith(b"ISA"):
        return "x12"
    if head.startswith((b"UNA", b"UNB")):
        return "edifact"
    return None


def _readers() -> dict[str, Reader]:
    from extractors.email import EmailReader
    from extractors.ocr import ImageReader
    from extractors.pdf import PdfReader
    from extractors.spreadsheet import CsvReader, XlsxReader

    table: dict[str, Reader] = {}
    for r in (PdfReader(), ImageReader(), EmailReader(), XlsxReader(), CsvReader(), _TextReader(), _EdiReader()):
        for ct in r.content_types:
            table[ct] = r
    return table


_READERS: dict[str, Reader] | None = None


def readers() -> dict[str, Reader]:
    """Content type name -> reader."""
    global _READERS
    if _READERS is None:
        _READERS = _readers()
    return _READERS


def reader_for(content_type: str) -> Reader:
    """The reader of a sniffed content type; UnsupportedContentType if there is none."""
    try:
        return readers()[content_type]
    except KeyError:
        raise UnsupportedContentType(f"no reader for content type {content_type!r}") from None


def _is_binary(head: bytes) -> bool:
    if not head:
        return False
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    try:
        head.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte char cut by the sniff window
            return False
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    high = sum(1 for b in head if b >= 0x80)
    # a legacy single-byte text (Latin-1) has few control bytes; random bytes have many
    return control > 0.01 * len(head) or (high > 0.3 * len(head) and control > 0)


def _looks_like_mail(head: bytes) -> bool:
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[0].startswith(b"From "):  # mbox separator line
        lines = lines[1:]
    known = 0
    for i, line in enumerate(lines[:200]):
        if not line.strip():
            return known >= 2 and i > 0
        if line[:1] in (b" ", b"\t"):
            continue  # folded header continuation
        m = _HEADER_LINE.match(line)
        if not m:
            return False
        if m.group(1).decode("ascii").lower() in _MAIL_HEADERS:
            known += 1
    return known >= 2


def _looks_like_csv(text: str) -> bool:
    lines = [ln for ln in text.splitlines()[:30] if ln.strip()]
    if len(lines) < 2:
        return False
    from extractors.spreadsheet import _count_outside_quotes

    for d in (",", ";", "\t", "|"):
        counts = [_count_outside_quotes(ln, d) for ln in lines]
        with_d = [c for c in counts if c > 0]
        if len(with_d) < 0.8 * len(lines):
            continue
        mode = max(set(with_d), key=with_d.count)
        # prose has commas too, but not the same number on most lines with short fields
        fields = [f for ln in lines for f in ln.split(d)]
        short = sum(1 for f in fields if len(f) <= 40) / max(len(fields), 1)
        if with_d.count(mode) >= 0.6 * len(lines) and (mode >= 2 or d != ",") and short >= 0.8:
            return True
    return False


def sniff(data: bytes) -> str:
    """The content type of ``data`` by its content alone.

    One of "pdf", "png", "jpeg", "tiff", "eml", "xlsx", "csv", "text", "x12", "edifact",
    "html". Raises EmptyDocument for no bytes, EncryptedDocument for an encrypted Office
    file and UnsupportedContentType for anything else.
    """
    if not data or not data.strip():
        raise EmptyDocument("the input is empty")
    head = data[:_SNIFF_BYTES]
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        if "EncryptionInfo".encode("utf-16-le") in data[:2_000_000]:
            raise EncryptedDocument("the Office file is encrypted (a password is needed to open it)")
        raise UnsupportedContentType("a legacy OLE Office file (.xls/.doc); save it as XLSX or PDF")
    if head.startswith((b"GIF8", b"BM", b"RIFF", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")):
        raise UnsupportedContentType("an unsupported binary format (GIF/BMP/WebP/gzip/7z/RAR)")
    edi = _sniff_edi(data)
    if edi is not None:
        return edi
    if _is_binary(head):
        raise UnsupportedContentType("binary data of no known document format")
    if _looks_like_mail(head):
        return "eml"
    from extractors.spreadsheet import decode_text

    text, _enc = decode_text(head)
    text = text.lstrip("\ufeff")
    if _HTML_START.match(text[:2048].encode("utf-8", "replace")):
        return "html"
    if _looks_like_csv(text):
        return "csv"
    return "text"


def _sniff_zip(data: bytes) -> str:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        # a truncated workbook still names its parts in the local headers
        if b"xl/" in data[:65536] or b"[Content_Types].xml" in data[:65536]:
            return "xlsx"
        raise UnsupportedContentType("a zip archive that is neither readable nor a workbook") from None
    if "xl/workbook.xml" in names or any(n.startswith("xl/worksheets/") for n in names):
        return "xlsx"
    if "word/document.xml" in names:
        raise UnsupportedContentType("a Word document (.docx); save it as PDF")
    if "content.xml" in names:
        raise UnsupportedContentType("an OpenDocument file; save it as XLSX or PDF")
    raise UnsupportedContentType("a zip archive; send the documents themselves")


def read_bytes(data: bytes, filename: str | None = None, limits: Limits | None = None,
               kind: str | None = None) -> list[Document]:
    """Read ``data`` into one ``Document`` per readable document (a mail: body, attachments).

    Raises only ``ReadError`` subclasses: UnsupportedContentType, EmptyDocument,
    EncryptedDocument, CorruptDocument, LimitExceeded, or ReadError when a needed tool
    (OCR) is not installed. ``filename`` only names the documents: the reader is chosen by
    content (``kind``: what ``sniff`` already said of these bytes, so it is not sniffed twice).
    """
    limits = limits or Limits()
    if data is None or len(data) == 0:
        raise EmptyDocument("the input is empty (0 bytes)")
    if len(data) > limits.max_upload_bytes:
        raise LimitExceeded(f"the input has {len(data)} bytes, more than the limit of {limits.max_upload_bytes}")
    if kind is None:
        kind = sniff(bytes(data))
    reader = reader_for(kind)
    if not reader.is_available():
        raise ReadError(f"the {reader.name} reader is not installed (content type {kind})")
    from extractors.ocr import ocr_budget

    try:
        with ocr_budget(limits):  # all OCR of this message (its attachments too) shares one budget
            docs = reader.read(bytes(data), limits, filename)
    except ReadError:
        raise
    except IntakeError as exc:  # e.g. an EdiError from a peer module: still a read failure
        raise CorruptDocument(f"{kind}: {exc.reason}") from None
    except MemoryError:
        raise LimitExceeded(f"the {kind} document needs more memory than is available") from None
    except RecursionError:
        raise LimitExceeded(f"the {kind} document is nested too deeply") from None
    except Exception as exc:  # any library failure is a corrupt input, never a crash
        raise CorruptDocument(f"the {kind} document could not be read: {short_reason(exc)}") from None
    if not docs:
        raise EmptyDocument(f"the {kind} document holds nothing to read")
    return docs


def documents_to_json(docs: list[Document]) -> dict[str, Any]:
    """Documents as plain JSON: kind, name, pages of words with boxes (and EDI text)."""
    out: list[dict[str, Any]] = []
    for d in docs:
        item: dict[str, Any] = {
            "kind": d.kind.value,
            "name": d.name,
            "pages": [
                {
                    "width": p.width,
                    "height": p.height,
                    "words": [
                        {"text": w.text, "box": [w.box[0], w.box[1], w.box[2], w.box[3]]}
                        | ({"conf": w.conf} if w.conf is not None else {})
                        for w in p.words
                    ],
                }
                for p in d.pages
            ],
        }
        if d.text is not None and not d.pages:
            item["text"] = d.text
        if d.meta:
            item["meta"] = d.meta
        out.append(item)
    return {"documents": out}


def documents_to_text(docs: list[Document]) -> str:
    """A human rendering: a header per document and page, then the words line by line."""
    chunks: list[str] = []
    for i, d in enumerate(docs):
        chunks.append(f"== document {i + 1}: {d.kind.value} {d.name or ''}".rstrip())
        if not d.pages and d.text is not None:
            chunks.append(d.text.rstrip("\n"))
        for p in d.pages:
            chunks.append(f"-- page {p.index + 1} ({p.width:g} x {p.height:g}, {len(p.words)} words)")
            line: list[str] = []
            last_y: float | None = None
            for w in p.words:
                cy = (w.box[1] + w.box[3]) / 2
                h = max(w.box[3] - w.box[1], 1.0)
                if last_y is not None and abs(cy - last_y) > 0.5 * h:
                    chunks.append(" ".join(line))
                    line = []
                line.append(w.text)
                last_y = cy
            if line:
                chunks.append(" ".join(line))
    return "\n".join(chunks) + "\n"
