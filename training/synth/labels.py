"""Word labels of the synthetic corpus and the coordinate conventions they use.

A ``<docfile>.labels.json`` file holds::

    {"family": "f07_de_boxed_grid", "format": "pdf" | "scan" | "xlsx" | "csv" | "email",
     "source": "pdf" | "scan" | "grid" | "text",      # which coordinate convention below
     "pages": [{"width": float, "height": float,
                "words": [{"text": str, "box": [x0, y0, x1, y1],
                           "label": "<field>" | "O", "line": int | null}]}]}

``label`` is one of :data:`LABELS`: a header field, a line field, or ``"O"`` for every other
word (field captions such as "PO Number:", column headers, notes, carried totals, freight and
discount lines, page numbers). Only the words of a VALUE carry a field label. ``line`` is the
0-based index into the truth's ``lines`` for words labelled with a line field, else null.

Coordinates are always top-left origin, in the document's own units:

* ``source == "pdf"`` (text-layer PDF): PDF points, exactly as ``pdfplumber``'s
  ``extract_words()`` reports them (``x0, top, x1, bottom``): one entry per
  whitespace-separated word.
* ``source == "scan"`` (image-only PDF): page points (the page of the image PDF, 72 per inch),
  the boxes of the rendered PDF transformed by the scan's skew (axis-aligned hull of the
  rotated box).
* ``source == "grid"`` (XLSX / CSV), see :func:`grid_words`: a cell's text is the string a
  reader shows (:func:`cell_text`); column ``c`` has width ``6 * (max chars of a cell text in
  that column + 2)`` points; the column's x is the sum of the widths of the previous columns;
  row ``r`` (0-based, the sheet's first row is 0, empty rows count) has ``y = 12 * r``; a cell's
  text is split on whitespace and a word starting at character ``k`` of the cell text has box
  ``[x_col + 6k, 12r, x_col + 6(k + len(word)), 12r + 10]``. The page is one sheet:
  ``width`` = sum of column widths, ``height`` = 12 * number of rows.
* ``source == "text"`` (typed email body, plain text), see :func:`text_words`: line ``i``
  (0-based, lines split on ``\\n`` after dropping ``\\r``) has ``y = 12 * i``; a word starting at
  character column ``k`` has box ``[6k, 12i, 6(k + len(word)), 12i + 10]``; ``width`` = 6 *
  longest line, ``height`` = 12 * number of lines.

Readers (``extractors/``) and the model build words with the same functions, so that the
synthetic training data and the documents read in production share one geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Sequence

__all__ = [
    "HEADER_FIELDS", "LINE_FIELDS", "LABELS", "CHAR_W", "ROW_H", "WORD_H",
    "LabelledWord", "LabelledPage", "cell_text", "grid_words", "text_words", "labels_doc",
]

HEADER_FIELDS: tuple[str, ...] = (
    "po_number", "order_date", "requested_date", "buyer", "supplier", "ship_to", "bill_to",
    "currency", "payment_terms", "total",
)
LINE_FIELDS: tuple[str, ...] = ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount")
LABELS: tuple[str, ...] = ("O", *HEADER_FIELDS, *LINE_FIELDS)

CHAR_W = 6.0  # points per character in the grid and text conventions
ROW_H = 12.0  # points per row / text line
WORD_H = 10.0  # height of a word box in the grid and text conventions


@dataclass
class LabelledWord:
    """One word as a reader would read it back, with its label."""

    text: str
    box: tuple[float, float, float, float]
    label: str = "O"
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "box": [round(v, 2) for v in self.box], "label": self.label, "line": self.line}


@dataclass
class LabelledPage:
    width: float
    height: float
    words: list[LabelledWord] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"width": round(self.width, 2), "height": round(self.height, 2),
                "words": [w.to_json() for w in self.words]}


def cell_text(value: Any) -> str:
    """The text a reader shows for a spreadsheet cell value.

    None -> ""; bool -> "TRUE"/"FALSE"; an integral float -> its integer digits ("20.0" ->
    "20"); other floats -> ``repr`` (shortest round-trip, "4.5"); datetime at midnight and
    date -> ISO date; other values -> ``str(value)`` with ``\\r``/``\\n`` replaced by a space.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\r", " ").replace("\n", " ")


def _split_with_offsets(text: str) -> list[tuple[int, str]]:
    """Whitespace-separated words of ``text`` with their starting character index."""
    out: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        j = i
        while j < n and not text[j].isspace():
            j += 1
        out.append((i, text[i:j]))
        i = j
    return out


def grid_words(rows: Sequence[Sequence[str]]) -> tuple[float, float, list[tuple[str, tuple[float, float, float, float], int, int]]]:
    """Lay out a grid of cell texts by the grid convention.

    Returns ``(width, height, words)`` where each word is ``(text, box, row, col)``.
    ``rows`` holds cell texts (use :func:`cell_text` for raw values); ragged rows are fine.
    """
    ncols = max((len(r) for r in rows), default=0)
    widths = [CHAR_W * 2] * ncols
    for r in rows:
        for c, t in enumerate(r):
            widths[c] = max(widths[c], CHAR_W * (len(t) + 2))
    xs = [0.0] * ncols
    for c in range(1, ncols):
        xs[c] = xs[c - 1] + widths[c - 1]
    words = []
    for ri, r in enumerate(rows):
        y = ROW_H * ri
        for ci, t in enumerate(r):
            for k, w in _split_with_offsets(t):
                x0 = xs[ci] + CHAR_W * k
                words.append((w, (x0, y, x0 + CHAR_W * len(w), y + WORD_H), ri, ci))
    return float(sum(widths)), ROW_H * len(rows), words


def text_words(text: str) -> tuple[float, float, list[tuple[str, tuple[float, float, float, float], int, int]]]:
    """Lay out plain text by the text convention.

    Returns ``(width, height, words)`` where each word is ``(text, box, line, char_column)``.
    """
    lines = text.replace("\r", "").split("\n")
    words = []
    for li, line in enumerate(lines):
        y = ROW_H * li
        for k, w in _split_with_offsets(line):
            words.append((w, (CHAR_W * k, y, CHAR_W * (k + len(w)), y + WORD_H), li, k))
    width = CHAR_W * max((len(ln) for ln in lines), default=0)
    return width, ROW_H * len(lines), words


def labels_doc(family: str, fmt: str, source: str, pages: Iterable[LabelledPage], **extra: Any) -> dict[str, Any]:
    """The JSON object written to ``<docfile>.labels.json``."""
    doc: dict[str, Any] = {"family": family, "format": fmt, "source": source}
    doc.update(extra)
    doc["pages"] = [p.to_json() for p in pages]
    return doc
