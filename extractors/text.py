"""Plain text as a synthetic page: line index -> y, character column -> x.

Emails, ``.txt`` files and HTML bodies have no geometry of their own; giving them a grid
layout (a monospaced page) lets one layout-aware model read every format.
"""

from __future__ import annotations

import re

from extractors.base import CHAR_WIDTH, LINE_HEIGHT
from intake.core.domain import Document, DocumentKind, Page, Word

__all__ = ["layout_text", "words_of_line", "TAB_SIZE"]

TAB_SIZE = 8
_TOKEN = re.compile(r"\S+")
# Characters that render as nothing or as a space and would make invisible "words".
_INVISIBLE = str.maketrans({"\u00a0": " ", "\u200b": "", "\ufeff": "", "\u200e": "", "\u200f": "", "\r": ""})


def words_of_line(line: str, y_index: int, page: int = 0) -> list[Word]:
    """The whitespace-separated tokens of one (tab-expanded) line, boxed on the grid."""
    y0 = y_index * LINE_HEIGHT
    return [
        Word(
            text=m.group(),
            box=(m.start() * CHAR_WIDTH, y0, m.end() * CHAR_WIDTH, y0 + LINE_HEIGHT),
            page=page,
        )
        for m in _TOKEN.finditer(line)
    ]


def layout_text(text: str, name: str | None = None, kind: DocumentKind = DocumentKind.text) -> Document:
    """Lay ``text`` out on one grid page: each token a ``Word`` at (column * 6, line * 12).

    Tabs are expanded to 8 columns; the page is as wide as the longest line and as high as
    the number of lines. ``Document.text`` keeps the text as given (newlines normalised).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [ln.translate(_INVISIBLE).expandtabs(TAB_SIZE) for ln in text.split("\n")]
    words: list[Word] = []
    for i, line in enumerate(lines):
        words.extend(words_of_line(line, i))
    width = max((len(ln) for ln in lines), default=0) * CHAR_WIDTH
    height = len(lines) * LINE_HEIGHT
    page = Page(index=0, width=max(width, CHAR_WIDTH), height=max(height, LINE_HEIGHT), words=words)
    return Document(kind=kind, name=name, pages=[page], text=text)
