"""Page geometry for the checks after the model: boxes, visual rows, skew, columns.

A ``Box`` is a word's or a value's rectangle (x0, y0, x1, y1; y grows downwards) with the
measures the checks ask for. Visual rows group words that overlap vertically, per page, top
to bottom; on a scan fed askew rows follow the page's slope, which is computed once per
document (:func:`page_skew`) and always passed explicitly. :class:`Sheet` holds one
document's words with their boxes and computes its rows once (no module-level memo: what is
computed for a document lives on that document's object).
"""

from __future__ import annotations

from typing import Iterable, NamedTuple, Sequence

import numpy as np

from intake.core.domain import SourceRef, Word

__all__ = ["Box", "Sheet", "boxed", "page_skew", "visual_rows", "union", "union_refs", "rtl", "row_text",
           "x_columns"]


class Box(NamedTuple):
    """A rectangle on a page: left, top, right, bottom (points; y grows downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def h(self) -> float:
        """The height as a unit of distance: never under one point."""
        return max(1.0, self.y1 - self.y0)

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    def x_overlap(self, other: Sequence[float]) -> float:
        """Length of the horizontal overlap with ``other`` (negative: the gap between them)."""
        return min(self.x1, other[2]) - max(self.x0, other[0])

    def y_overlap(self, other: Sequence[float]) -> float:
        return min(self.y1, other[3]) - max(self.y0, other[1])

    def meets(self, other: Sequence[float]) -> bool:
        """Whether the two rectangles share some area."""
        return self.x_overlap(other) > 0 and self.y_overlap(other) > 0

    def contains(self, other: Sequence[float], tol: float = 1.0) -> bool:
        """Whether ``other`` lies within this box grown by ``tol``."""
        return (other[0] >= self.x0 - tol and other[1] >= self.y0 - tol and other[2] <= self.x1 + tol
                and other[3] <= self.y1 + tol)

    @classmethod
    def around(cls, boxes: Iterable[Sequence[float]]) -> "Box":
        bs = list(boxes)
        return cls(min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs), max(b[3] for b in bs))


def boxed(words: Sequence[Word]) -> list[Word]:
    """``words`` with a :class:`Box` for a box (the same word when it already has one)."""
    return [w if isinstance(w.box, Box) else Word.model_construct(text=w.text, box=Box(*w.box), page=w.page, conf=w.conf)
            for w in words]


def page_skew(words: Sequence[Word]) -> dict[int, float]:
    """Per page, the median slope (dy/dx) between neighbouring words of one OCR line (words in
    reading order); absent for a text layer or a straight scan."""
    slopes: dict[int, list[float]] = {}
    for a, b in zip(words, words[1:]):
        if a.conf is None or a.page != b.page:
            continue
        h = a.box[3] - a.box[1]
        dx = (b.box[0] + b.box[2] - a.box[0] - a.box[2]) / 2
        dy = (b.box[1] + b.box[3] - a.box[1] - a.box[3]) / 2
        if 0 <= b.box[0] - a.box[2] < 3 * h and abs(dy) < 0.8 * h and dx > 0:
            slopes.setdefault(a.page, []).append(dy / dx)
    out = {}
    for pg, sl in slopes.items():
        if len(sl) >= 8:
            m = float(np.median(sl))
            if abs(m) >= 0.002:
                out[pg] = m
    return out


def _overlap(a: tuple[float, float], b0: float, b1: float) -> float:
    h = min(a[1], b1) - max(a[0], b0)
    return h / max(1e-6, min(a[1] - a[0], b1 - b0))


def visual_rows(words: Sequence[Word], skew: dict[int, float] | None = None) -> list[list[int]]:
    """Indices of ``words`` grouped into visual rows (per page, by vertical overlap), top to
    bottom, each row left to right. ``skew``: the page slopes (:func:`page_skew`) that rows
    follow on a scan fed askew."""
    ys = []
    for w in words:
        d = skew.get(w.page, 0.0) * (w.box[0] + w.box[2]) / 2 if skew else 0.0
        ys.append((w.box[1] - d, w.box[3] - d))
    order = sorted(range(len(words)), key=lambda i: (words[i].page, (ys[i][0] + ys[i][1]) / 2))
    rows: list[list[int]] = []
    spans: list[tuple[int, float, float]] = []
    for i in order:
        w = words[i]
        placed = False
        for r in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            pg, y0, y1 = spans[r]
            if pg == w.page and _overlap(ys[i], y0, y1) > 0.5:
                rows[r].append(i)
                spans[r] = (pg, min(y0, ys[i][0]), max(y1, ys[i][1]))
                placed = True
                break
        if not placed:
            rows.append([i])
            spans.append((w.page, ys[i][0], ys[i][1]))
    for r in rows:
        r.sort(key=lambda i: words[i].box[0])
    return rows


class Sheet:
    """One document's words (each with a :class:`Box`) and its page slopes, with the visual
    rows of all its words computed once, on first use."""

    def __init__(self, words: Sequence[Word], skew: dict[int, float] | None = None) -> None:
        self.words: list[Word] = boxed(words)
        self.skew: dict[int, float] = page_skew(self.words) if skew is None else dict(skew)
        self.ocr = any(w.conf is not None for w in self.words)
        self._rows: list[list[int]] | None = None
        self._page_rows: dict[int, tuple[list[Word], list[list[int]]]] = {}

    def rows(self) -> list[list[int]]:
        """Rows of all the words (indices into :attr:`words`). Do not change the lists."""
        if self._rows is None:
            self._rows = visual_rows(self.words, self.skew)
        return self._rows

    def rows_of(self, words: Sequence[Word]) -> list[list[int]]:
        """Rows of some of the words (indices into ``words``), with this document's slopes."""
        return visual_rows(words, self.skew)

    def page(self, page: int) -> tuple[list[Word], list[list[int]]]:
        """The words of one page (in document order) and their rows (indices into them)."""
        got = self._page_rows.get(page)
        if got is None:
            local: dict[int, int] = {}
            pw: list[Word] = []
            for i, w in enumerate(self.words):
                if w.page == page:
                    local[i] = len(pw)
                    pw.append(w)
            got = (pw, [[local[i] for i in r] for r in self.rows() if self.words[r[0]].page == page])
            self._page_rows[page] = got
        return got


def union(words: Sequence[Word]) -> list[SourceRef]:
    """One source box per page around ``words``."""
    return union_refs([SourceRef(page=w.page, box=w.box) for w in words])


def union_refs(refs: Sequence[SourceRef]) -> list[SourceRef]:
    """One box per page around ``refs``."""
    by_page: dict[int, list[SourceRef]] = {}
    for r in refs:
        by_page.setdefault(r.page, []).append(r)
    return [SourceRef(page=p, box=tuple(Box.around(r.box for r in rs))) for p, rs in sorted(by_page.items())]


def rtl(text: str) -> bool:
    """Whether a row is written right to left (Hebrew, Arabic): most of its letters are."""
    n = sum(1 for c in text if "\u0590" <= c <= "\u08ff")
    return n > 0 and n * 2 > sum(1 for c in text if c.isalpha())


def row_text(ws: Sequence[Word]) -> str:
    """A row's words in reading order: left to right, or right to left in a Hebrew or Arabic row."""
    text = " ".join(w.text for w in ws)
    if rtl(text):
        return " ".join(w.text for w in sorted(ws, key=lambda w: -w.box[0]))
    return text


def x_columns(boxes: Sequence[Sequence[float]], share: float = 0.3) -> tuple[list[list[int]], list[tuple[float, float]]]:
    """Boxes grouped into columns by horizontal overlap (at least ``share`` of the narrower),
    taken in order of their centres, each column's span widened as boxes join it. Returns the
    columns (indices into ``boxes``) and their spans."""
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][0] + boxes[i][2]) / 2)
    columns: list[list[int]] = []
    spans: list[tuple[float, float]] = []
    for i in order:
        x0, x1 = boxes[i][0], boxes[i][2]
        for k, (a, b) in enumerate(spans):
            if min(b, x1) - max(a, x0) > share * min(b - a, x1 - x0):
                columns[k].append(i)
                spans[k] = (min(a, x0), max(b, x1))
                break
        else:
            columns.append([i])
            spans.append((x0, x1))
    return columns, spans
