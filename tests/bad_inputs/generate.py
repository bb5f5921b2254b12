"""Bad inputs, generated (never committed as binaries), each with the named error it must raise."""

from __future__ import annotations

import os
import random
from collections.abc import Callable

from intake.core.errors import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    LimitExceeded,
    ReadError,
    UnsupportedContentType,
)
from tests.extractors import samples


def _truncated_pdf() -> bytes:
    data = samples.pdf_order_two_pages()
    return data[: len(data) // 3]


def _garbage_after_pdf_header() -> bytes:
    return b"%PDF-1.7\n" + random.Random(1).randbytes(4000)


def _truncated_xlsx() -> bytes:
    data = samples.xlsx_order()
    return data[: len(data) // 2]


def _corrupt_png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(40)


BAD_INPUTS: dict[str, tuple[Callable[[], bytes], type[ReadError]]] = {
    "empty": (lambda: b"", EmptyDocument),
    "whitespace": (lambda: b"  \r\n\t\n ", EmptyDocument),
    "random_bytes": (lambda: random.Random(7).randbytes(5000), UnsupportedContentType),
    "encrypted_pdf": (samples.pdf_encrypted, EncryptedDocument),
    "truncated_pdf": (_truncated_pdf, CorruptDocument),
    "garbage_pdf": (_garbage_after_pdf_header, CorruptDocument),
    "zip_bomb_xlsx": (samples.zip_bomb_xlsx, LimitExceeded),
    "truncated_xlsx": (_truncated_xlsx, CorruptDocument),
    "plain_zip": (lambda: _zip_of({"a.txt": b"hello"}), UnsupportedContentType),
    "docx": (lambda: _zip_of({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<T/>"}), UnsupportedContentType),
    "corrupt_png": (_corrupt_png, CorruptDocument),
    "gif": (lambda: b"GIF89a" + b"\x00" * 50, UnsupportedContentType),
    "legacy_xls": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, UnsupportedContentType),
    "deep_mime": (lambda: samples.eml_nested(14), LimitExceeded),
}


def _zip_of(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()
