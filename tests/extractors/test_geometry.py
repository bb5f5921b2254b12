"""Page geometry (extractors/geometry.py): boxes, visual rows with the skew passed explicitly,
rows computed once per document."""

from __future__ import annotations

from extractors.geometry import Box, Sheet, boxed, page_skew, union, visual_rows, x_columns
from intake.core.domain import Word


def _w(text: str, x: float, y: float, page: int = 0, conf: float | None = None, w: float = 30) -> Word:
    return Word(text=text, box=(x, y, x + w, y + 10), page=page, conf=conf)


def test_box_measures() -> None:
    b = Box(10, 20, 40, 20.5)
    assert b.width == 30 and b.height == 0.5 and b.h == 1.0  # never under one point as a unit
    assert b.cx == 25 and b.cy == 20.25
    assert Box(0, 0, 10, 10).x_overlap((5, 0, 20, 10)) == 5
    assert Box(0, 0, 10, 10).x_overlap((15, 0, 20, 10)) == -5  # the gap
    assert Box(0, 0, 10, 10).meets((9, 9, 20, 20)) and not Box(0, 0, 10, 10).meets((10, 0, 20, 10))
    assert Box(0, 0, 10, 10).contains((0.5, -0.5, 10.5, 10)) and not Box(0, 0, 10, 10).contains((0, 0, 12, 10))
    assert Box.around([(0, 5, 1, 6), (3, 1, 4, 2)]) == Box(0, 1, 4, 6)
    assert Box(1, 2, 3, 4) == (1, 2, 3, 4)  # a tuple still, where a box is stored


def test_rows_follow_the_skew_they_are_given() -> None:
    # a scan fed askew: each line drops 0.05 point per point to the right
    words = []
    for row in range(3):
        for k in range(10):
            x = 20 + k * 40
            words.append(_w(f"w{row}{k}", x, 100 + row * 20 + 0.05 * x, conf=0.9))
    skew = page_skew(words)
    assert abs(skew[0] - 0.05) < 1e-6
    straight = [sorted(words[i].text for i in r) for r in visual_rows(words)]
    assert [len(r) for r in straight] != [10, 10, 10]  # read straight, the slanted lines mix
    rows = [[words[i].text for i in r] for r in visual_rows(words, skew)]
    assert rows == [[f"w{row}{k}" for k in range(10)] for row in range(3)]
    assert page_skew([_w("a", 0, 0), _w("b", 40, 0)]) == {}  # a text layer has no skew


def test_a_sheet_computes_its_rows_once_and_per_page() -> None:
    words = [_w("a", 0, 10), _w("b", 50, 11), _w("c", 0, 40), _w("d", 0, 10, page=1), _w("e", 60, 10, page=1)]
    sheet = Sheet(words)
    assert all(isinstance(w.box, Box) for w in sheet.words)
    rows = sheet.rows()
    assert rows == [[0, 1], [2], [3, 4]]
    assert sheet.rows() is rows  # computed once for the document, not per call
    pw, prow = sheet.page(1)
    assert [w.text for w in pw] == ["d", "e"] and prow == visual_rows(pw)
    other = Sheet(words[:2])
    assert other.rows() == [[0, 1]]  # another document's rows are its own: nothing shared between them
    assert boxed(sheet.words)[0] is sheet.words[0]


def test_union_and_columns() -> None:
    ws = boxed([_w("a", 0, 10), _w("b", 50, 30), _w("c", 0, 10, page=1)])
    refs = union(ws)
    assert [(r.page, r.box) for r in refs] == [(0, (0, 10, 80, 40)), (1, (0, 10, 30, 20))]
    cols, spans = x_columns([(0, 0, 10, 1), (100, 0, 110, 1), (2, 5, 12, 6), (104, 5, 112, 6)])
    assert sorted(map(sorted, cols)) == [[0, 2], [1, 3]] and spans[0] == (0, 12)
