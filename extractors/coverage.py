"""Did extraction miss an order line? A check that does not trust the model.

A line the model did not label is the most dangerous error: the order looks complete and
can be approved without it. This module finds rows of the document that look like order
lines (a quantity-like number beside product words) inside or right next to the table the
model found, but that no extracted line covers. The decision stage sends such orders to
review with each suspicious row named.
"""

from __future__ import annotations

import re

from intake.core.domain import Box, Document, OrderDraft, Word

__all__ = ["uncovered_rows", "rows_of"]

_NUM = re.compile(r"^[(\[]?\d{1,6}(?:[.,]\d{1,3})?[)\]]?(?:x|×)?$", re.I)
_ALPHA = re.compile(r"[^\W\d_]{3,}")
_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_BULLET_QTY = re.compile(r"^\s*(?:[-*•·]\s*)?\d+(?:[.,]\d+)?\s*(?:x|×|pcs?|ea|units?|boxes|box|reams?|packs?)\b", re.I)
# words that mark a summary, header or footer row rather than an item
_NOT_ITEM = re.compile(
    r"^(sub-?total|total|tva|vat|tax|mwst|ust|iva|btw|freight|shipping|port|fracht|versand|discount|remise|rabatt|"
    r"page|seite|tel|phone|fax|iban|bic|swift|siret|net|payment|terms|due|date|po|order|invoice|ref\.?:?)$",
    re.I,
)


def rows_of(words: list[Word], tol: float = 0.5) -> list[list[Word]]:
    """Group words into visual rows (same page, vertical centres within ``tol`` of a height)."""
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.page, (w.box[1] + w.box[3]) / 2, w.box[0])):
        cy, h = (w.box[1] + w.box[3]) / 2, max(1.0, w.box[3] - w.box[1])
        if rows:
            last = rows[-1]
            lcy = sum((x.box[1] + x.box[3]) / 2 for x in last) / len(last)
            if last[0].page == w.page and abs(cy - lcy) <= tol * h:
                last.append(w)
                continue
        rows.append([w])
    return [sorted(r, key=lambda w: w.box[0]) for r in rows]


def _overlaps(a: Box, b: Box) -> bool:
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    return ix > 0 and iy > 0 and ix * iy >= 0.3 * max(1e-6, (a[2] - a[0]) * (a[3] - a[1]))


def _looks_like_item(row: list[Word]) -> bool:
    texts = [w.text for w in row]
    if not texts or _NOT_ITEM.match(texts[0].strip(":")):
        return False
    nums = [t for t in texts if _NUM.match(t) and not _DATE.match(t)]
    alpha = [t for t in texts if _ALPHA.search(t)]
    return bool(nums) and len(alpha) >= 2


def uncovered_rows(doc: Document, draft: OrderDraft, *, margin_rows: int = 1) -> list[str]:
    """Rows that look like order lines but belong to no extracted line (their text, in order).

    Only rows between the first and last extracted line of each page are considered, plus
    ``margin_rows`` rows just before and after that span when they look strongly like an item
    (a bulleted or "N x" quantity), so a page's notes and terms do not raise alarms.
    """
    line_boxes: list[tuple[int, Box]] = []
    for ln in draft.lines:
        for f in (ln.line_no, ln.sku, ln.description, ln.quantity, ln.uom, ln.unit_price, ln.amount):
            line_boxes.extend((s.page, s.box) for s in f.source)
    if not line_boxes:
        return []
    header_boxes = [(s.page, s.box) for name in OrderDraft.HEADER_FIELDS for s in getattr(draft, name).source]
    rows = rows_of(doc.words)

    def covered(row: list[Word], boxes: list[tuple[int, Box]]) -> bool:
        return any(p == w.page and _overlaps(w.box, b) for w in row for p, b in boxes)

    flags = [covered(r, line_boxes) for r in rows]
    out: list[str] = []
    pages = sorted({p for p, _ in line_boxes})
    for page in pages:
        idx = [i for i, r in enumerate(rows) if r[0].page == page]
        hit = [i for i in idx if flags[i]]
        if not hit:
            continue
        lo, hi = min(hit), max(hit)
        for i in idx:
            if flags[i] or covered(rows[i], header_boxes):
                continue
            text = " ".join(w.text for w in rows[i])
            inside = lo < i < hi
            near = (lo - margin_rows <= i < lo) or (hi < i <= hi + margin_rows)
            if (inside and _looks_like_item(rows[i])) or (near and _BULLET_QTY.match(text)):
                out.append(text[:120])
    return out
