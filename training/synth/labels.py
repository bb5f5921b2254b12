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
* ``source == "grid"`` (XLSX / CSV), see :func:`grid_words`, the layout of
  ``extractors.spreadsheet.grid_page``: a cell's text is the string a reader shows
  (:func:`cell_text`, whitespace collapsed); only non-empty cells count; column ``c`` has
  width ``6 * (max(1, longest cell text in c) + 2)`` points; the column's x is the sum of the
  widths of the previous columns; row ``r`` (0-based from the sheet's first row, empty rows
  count) has ``y = 12 * r``; a word starting at character ``k`` of its cell text has box
  ``[x_col + 6k, 12r, x_col + 6(k + len(word)), 12r + 12]``. ``width`` = sum of the column
  widths, ``height`` = 12 * (last row with a value + 1).
* ``source == "text"`` (typed email body, plain text), see :func:`text_words`, the layout of
  ``extractors.text.layout_text``: line ``i`` (0-based; ``\\r\\n`` and ``\\r`` become
  ``\\n``; tabs expand to 8 columns) has ``y = 12 * i``; a word starting at character column
  ``k`` has box ``[6k, 12i, 6(k + len(word)), 12i + 12]``; ``width`` = 6 * longest line,
  ``height`` = 12 * number of lines (both at least one cell).

Readers (``extractors/``) and the model build words with the same functions, so that the
synthetic training data and the documents read in production share one geometry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Iterable, Sequence

__all__ = [
    "HEADER_FIELDS", "LINE_FIELDS", "LABELS", "CHAR_W", "ROW_H", "WORD_H", "COL_GAP", "TAB_SIZE",
    "LabelledWord", "LabelledPage", "cell_text", "grid_words", "text_words", "labels_doc",
]

HEADER_FIELDS: tuple[str, ...] = (
    "po_number", "order_date", "requested_date", "buyer", "supplier", "ship_to", "bill_to",
    "currency", "payment_terms", "total",
)
LINE_FIELDS: tuple[str, ...] = ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount")
LABELS: tuple[str, ...] = ("O", *HEADER_FIELDS, *LINE_FIELDS)

CHAR_W = 6.0  # points per character in the grid and text conventions (extractors.base.CHAR_WIDTH)
ROW_H = 12.0  # points per row / text line (extractors.base.LINE_HEIGHT)
WORD_H = 12.0  # height of a word box in the grid and text conventions: a full line
COL_GAP = 2  # blank characters between two grid columns
TAB_SIZE = 8  # tabs expand to this many columns in the text convention
_TOKEN = re.compile(r"\S+")


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


def _decimals(number_format: str) -> int | None:
    """Decimal places of an Excel number format such as ``#,##0.00``; None if not fixed."""
    fmt = number_format.split(";")[0]
    m = re.search(r"0\.(0+)", fmt)
    if m:
        return len(m.group(1))
    if re.search(r"(^|[^.])0(?![.0])", fmt) and "." not in fmt:
        return 0
    return None


def cell_text(value: Any, number_format: str = "General") -> str:
    """The text a reader shows for a spreadsheet cell value (as ``extractors.spreadsheet``).

    None -> ""; bool -> "TRUE"/"FALSE"; datetime at midnight and date -> ISO date; a number
    with a fixed-decimals format ("0", "#,##0.00") -> that many decimals without grouping;
    otherwise an integral float -> its integer digits ("20.0" -> "20"), other floats ->
    shortest round-trip ("4.5"); anything else ``str``. Whitespace runs collapse to one space.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        if isinstance(value, float) and "%" in (number_format or ""):
            d = _decimals(number_format.replace("%", "")) or 0
            return f"{value * 100:.{d}f}%"
        d = _decimals(number_format or "General")
        if d is not None:
            return f"{value:.{d}f}"
        if isinstance(value, float):
            if value.is_integer() and abs(value) < 1e15:
                return str(int(value))
            return repr(round(value, 10)).rstrip("0").rstrip(".") if "e" not in repr(value) else repr(value)
        return str(value)
    return " ".join(str(value).split())


def _split_with_offsets(text: str) -> list[tuple[int, str]]:
    """Whitespace-separated words of ``text`` with their starting character index."""
    return [(m.start(), m.group()) for m in _TOKEN.finditer(text)]


def grid_words(rows: Sequence[Sequence[str]]) -> tuple[float, float, list[tuple[str, tuple[float, float, float, float], int, int]]]:
    """Lay out a grid of cell texts by the grid convention.

    Returns ``(width, height, words)`` where each word is ``(text, box, row, col)``.
    ``rows`` holds cell texts (use :func:`cell_text` for raw values); ragged rows are fine.
    Only non-empty cells count: the page is as high as the last row with a value and as wide
    as the columns up to the last one with a value.
    """
    cells = {(r, c): " ".join(t.split()) for r, row in enumerate(rows) for c, t in enumerate(row) if t.split()}
    if not cells:
        return CHAR_W, ROW_H, []
    ncols = max(c for _, c in cells) + 1
    nrows = max(r for r, _ in cells) + 1
    widths = [1] * ncols
    for (_, c), t in cells.items():
        widths[c] = max(widths[c], len(t))
    xs = [0.0] * (ncols + 1)
    for c in range(ncols):
        xs[c + 1] = xs[c] + (widths[c] + COL_GAP) * CHAR_W
    words = []
    for (ri, ci), t in sorted(cells.items()):
        y = ROW_H * ri
        for k, w in _split_with_offsets(t):
            x0 = xs[ci] + CHAR_W * k
            words.append((w, (x0, y, x0 + CHAR_W * len(w), y + WORD_H), ri, ci))
    width = max(xs[-1], max((w[1][2] for w in words), default=0.0))
    return width, ROW_H * nrows, words


_INVISIBLE = str.maketrans({"\u00a0": " ", "\u200b": "", "\ufeff": "", "\u200e": "", "\u200f": "", "\r": ""})


def text_words(text: str) -> tuple[float, float, list[tuple[str, tuple[float, float, float, float], int, int]]]:
    """Lay out plain text by the text convention (as ``extractors.text.layout_text``).

    Returns ``(width, height, words)`` where each word is ``(text, box, line, char_column)``.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [ln.translate(_INVISIBLE).expandtabs(TAB_SIZE) for ln in text.split("\n")]
    words = []
    for li, line in enumerate(lines):
        y = ROW_H * li
        for k, w in _split_with_offsets(line):
            words.append((w, (CHAR_W * k, y, CHAR_W * (k + len(w)), y + WORD_H), li, k))
    width = CHAR_W * max((len(ln) for ln in lines), default=0)
    return max(width, CHAR_W), max(ROW_H * len(lines), ROW_H), words


def labels_doc(family: str, fmt: str, source: str, pages: Iterable[LabelledPage], **extra: Any) -> dict[str, Any]:
    """The JSON object written to ``<docfile>.labels.json``."""
    doc: dict[str, Any] = {"family": family, "format": fmt, "source": source}
    doc.update(extra)
    doc["pages"] = [p.to_json() for p in pages]
    return doc
