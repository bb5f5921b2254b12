"""The reader contract: every format becomes a list of typed ``Document`` objects.

A reader is picked by :mod:`extractors.registry` from sniffed content, never from the file
name. Readers import their heavy libraries lazily inside ``read`` so that importing the
registry costs nothing and a missing optional library only disables that one format.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from intake.core.domain import Document
from intake.core.settings import Limits

__all__ = ["Reader", "LINE_HEIGHT", "CHAR_WIDTH", "short_reason"]

# The synthetic layout of text and spreadsheet cells: one character is 6 units wide, one
# line 12 units high (about a 10 pt monospaced font), so that every format lands in the
# same coordinate range as a PDF page measured in points.
CHAR_WIDTH = 6.0
LINE_HEIGHT = 12.0


@runtime_checkable
class Reader(Protocol):
    """Turns the bytes of one content type into documents."""

    name: str
    content_types: tuple[str, ...]  # sniffed names, see ``registry.sniff``

    def is_available(self) -> bool:
        """Whether the libraries (and binaries) this reader needs are installed."""
        ...

    def read(self, data: bytes, limits: Limits, name: str | None = None) -> list[Document]:
        """Read ``data``; raise only the named ``ReadError`` subclasses of ``intake.core.errors``."""
        ...


def short_reason(exc: BaseException, limit: int = 160) -> str:
    """A one-line, bounded description of an unexpected library exception."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text
