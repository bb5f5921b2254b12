"""The missed-line check: rows that look like items but no extracted line covers."""

from intake.core.domain import Field, LineDraft, OrderDraft, SourceRef
from extractors.coverage import uncovered_rows
from extractors.text import layout_text

BODY = """Hi team,

Order below please:

- 2 x Ref 286309 Bic Cristal Fine ballpoint
- 510 x printer paper A3 80gsm white, ream
- 2 x Ref 223695 Glue stick UHU 21g
- 3 x stapler heavy duty black

PO: HV0676
Payment terms 30 days net
"""


def _line_at(doc, row_text: str) -> LineDraft:  # type: ignore[no-untyped-def]
    words = [w for w in doc.words if w.box[1] == next(w2.box[1] for w2 in doc.words if w2.text == row_text)]
    src = [SourceRef(page=w.page, box=w.box) for w in words]
    return LineDraft(sku=Field(value=row_text, confidence=0.9, source=src), quantity=Field(value=2, confidence=0.9, source=src[:1]))


def test_a_skipped_item_between_read_lines_is_reported() -> None:
    doc = layout_text(BODY)
    draft = OrderDraft(lines=[_line_at(doc, "286309"), _line_at(doc, "223695")])
    missed = uncovered_rows(doc, draft)
    assert missed == ["- 510 x printer paper A3 80gsm white, ream", "- 3 x stapler heavy duty black"]


def test_nothing_reported_when_every_item_is_read() -> None:
    doc = layout_text(BODY)
    draft = OrderDraft(lines=[_line_at(doc, "286309"), _line_at(doc, "510"), _line_at(doc, "223695"), _line_at(doc, "stapler")])
    assert uncovered_rows(doc, draft) == []  # terms and the PO row are not items
    assert uncovered_rows(doc, OrderDraft()) == []
