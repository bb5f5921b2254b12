"""Header fields: the best span per field, and the checks of the header values against the
page (captions, the currency the document names, a total that counts pieces)."""

from __future__ import annotations

import re

import numpy as np

from extractors.assembly.captions import caption_left_of, caption_values, value_of_other_key
from extractors.assembly.engine import Context, Step
from extractors.assembly.parties import party_name
from extractors.assembly.tagging import HEADER_FIELDS, MULTILINE_FIELDS, NAMED_PARTIES, field_value, header_instances
from extractors.assembly.values import close, fold_text, num, same_text
from extractors.geometry import Box, union
from extractors.lexicon import LEXICON
from extractors.normalize import _CODES, _NAMES, _SYMBOLS, parse_currency, parse_number
from intake.core.domain import Field, SourceRef, Word

__all__ = ["STEPS_SPANS", "STEPS", "STEPS_CURRENCY", "STEPS_TOTAL"]

CAPTION_ONLY_CONF = 0.9  # a value only a caption vouches for (14 of 15 right on real POs)
CAPTION_AGREES_CONF = 0.97
DOCUMENT_CURRENCY_CONF = 0.7
# Codes that are also everyday capitalised words ("CAD drawing", "PEN", "TRY", "ALL") do not name
# the currency of a document by themselves.
_AMBIGUOUS_CODES = frozenset(c.upper() for c in LEXICON.words("ambiguous_currency_codes"))


def header_spans(ctx: Context) -> None:
    """Each header field is the best-scoring span of the words tagged with it."""
    draft, loc, cal = ctx.draft, ctx.loc, ctx.calibrator
    for f in HEADER_FIELDS:
        ft = [t for t in ctx.tags if t.field == f]
        if not ft:
            continue
        best: Field | None = None
        best_score = -1.0
        for inst in header_instances(ft):
            fld = field_value(ctx.sheet, f, inst, loc, "field", cal, multiline=f in MULTILINE_FIELDS)
            s = float(np.mean([t.score for t in inst])) + (0.5 if fld.present else 0.0)
            if s > best_score:
                best, best_score = fld, s
        if best is not None:
            if f in NAMED_PARTIES and isinstance(best.value, str):
                best = party_name(best)
            setattr(draft, f, best)


STEPS_SPANS = [Step("header_spans", header_spans, "each header field is its best-scoring tagged span", core=True)]


def po_not_other_key(ctx: Context) -> None:
    """An order number printed after another key of the header grid ("Article No.") is no order
    number: the field is left empty, for a caption of its own to fill."""
    fld = ctx.draft.po_number
    if fld.present and value_of_other_key(fld, ctx.words, "po_number"):
        ctx.draft.po_number = Field()


def header_captions(ctx: Context) -> None:
    """Key header values against their captions: a caption's value fills a field the model left
    empty, replaces a model value no caption vouches for, and raises the confidence of a value
    both read. Totals take the last total caption (the grand total comes last)."""
    draft = ctx.draft
    found = caption_values(ctx.sheet, ctx.loc)
    for f in ("po_number", "order_date", "requested_date", "total"):
        vals = found.get(f)
        if not vals:
            continue
        pool = [v for v in vals if not v.qualified] or vals  # "Order Number" before "Bulk Order Number"
        if f == "order_date" and all(v.qualified for v in pool):
            continue  # "Shipment Date", "Expiry Date": other dates, never the order's
        cv = pool[-1] if f == "total" else pool[0]
        cur: Field = getattr(draft, f)
        if cur.present and (cur.value == cv.value or (isinstance(cur.value, float) and isinstance(cv.value, float)
                                                      and abs(cur.value - cv.value) < 0.005)):
            setattr(draft, f, cur.model_copy(update={"confidence": max(cur.confidence, CAPTION_AGREES_CONF)}))
            continue
        if cur.present and any(v.value == cur.value for v in vals):
            continue  # another caption of the field vouches for the model's value
        if cur.present and cv.qualified:
            continue  # "Bulk Order Number": another number of the kind, not a reason to replace
        raw = " ".join(w.text for w in cv.words) if f != "total" else cv.words[-1].text
        setattr(draft, f, Field(value=cv.value, raw=raw, confidence=CAPTION_ONLY_CONF, source=union(cv.words)))
    for f in ("currency", "payment_terms"):
        vals = found.get(f)
        if not vals:
            continue
        cv = vals[0]
        cur = getattr(draft, f)
        if cur.present and same_text(cur.value, cv.value):
            setattr(draft, f, cur.model_copy(update={"confidence": max(cur.confidence, CAPTION_AGREES_CONF)}))
            continue
        if cur.present and f == "payment_terms" and not fold_text(str(cur.value)) in fold_text(str(cv.value)):
            continue  # free text the caption does not contain: the model read other terms
        setattr(draft, f, Field(value=cv.value, raw=" ".join(w.text for w in cv.words),
                                confidence=CAPTION_ONLY_CONF, source=union(cv.words)))
        # The caption's value is not also another field's (terms read as the bill-to block).
        spans = union(cv.words)
        for g in HEADER_FIELDS:
            other: Field = getattr(draft, g)
            if g == f or not other.present or g in found:
                continue
            if other.source and all(any(r.page == sp.page and Box(*sp.box).contains(r.box) for sp in spans)
                                    for r in other.source):
                setattr(draft, g, Field())


def document_currency(ctx: Context) -> None:
    """The one currency a document names anywhere (a code, a sign on an amount, "RUPEES" in the
    amount in words), when the model and the total name none; nothing when it names two."""
    signs = {sym: code for sym, code in _SYMBOLS if not sym.isascii() and len(sym) > 1}  # "ש״ח", "zł", "Kč"

    if ctx.draft.currency.present:
        return
    seen: dict[str, list[Word]] = {}
    for w in ctx.words:
        t = w.text.strip(".,:;()[]/")
        code = None
        if len(t) == 3 and t.isupper() and t in _CODES and t not in _AMBIGUOUS_CODES:
            code = t
        elif t.casefold() in _NAMES and len(t) > 3:
            code = _NAMES[t.casefold()]
        elif t in signs:
            code = signs[t]
        elif any(c in t for c in "€£₹₪") or (t.startswith("$") and len(t) > 1 and t[1:2].isdigit()):
            code = parse_currency(t)
        if code:
            seen.setdefault(code, []).append(w)
    if len(seen) != 1:
        return
    (code, ws), = seen.items()
    ctx.draft.currency = Field(value=code, raw=ws[0].text, confidence=DOCUMENT_CURRENCY_CONF,
                               source=[SourceRef(page=ws[0].page, box=ws[0].box)])


STEPS = [
    Step("po_not_other_key", po_not_other_key, "a number printed after another key of the header grid is no order number"),
    Step("header_captions", header_captions, "a caption's value fills, corrects or confirms the header field it names"),
]
STEPS_CURRENCY = [
    Step("document_currency", document_currency, "the one currency the document names anywhere is the order's"),
]


def _column_caption_over(words: list[Word], src: SourceRef) -> str | None:
    """The field named by the nearest column caption printed above a value, in its column (a
    word above it on its page whose span overlaps the value's, read as a table caption). With
    none overlapping, a caption's column reaches to the next word of its row: a number printed
    right-aligned past a left-aligned caption ("Quantity" over "   8 885") is in its column."""
    x0, y0, x1, _y1 = src.box
    best: tuple[float, str] | None = None
    left: list[tuple[float, Word, str]] = []  # captions above that start left of the value's centre
    mid = (x0 + x1) / 2
    for w in words:
        if w.page != src.page or w.box.y1 > y0:
            continue
        f = LEXICON.field_of(w.text.casefold().strip(":"), "columns")
        if f is None:
            continue
        if min(w.box.x1, x1) - max(w.box.x0, x0) > 0:
            if best is None or y0 - w.box.y1 < best[0]:
                best = (y0 - w.box.y1, f)
        elif w.box.x0 <= mid:
            left.append((y0 - w.box.y1, w, f))
    if best is not None:
        return best[1]
    page = [o for o in words if o.page == src.page]
    for _d, w, f in sorted(left, key=lambda c: c[0])[:12]:  # the nearest few (a page of captions stays cheap)
        nxt = min((o.box.x0 for o in page if o.box.x0 >= w.box.x1 and w.box.y_overlap(o.box) > 0.5 * w.box.h),
                  default=float("inf"))
        if mid < nxt:
            return f
    return None


def _money_row(words: list[Word], sources: list[SourceRef]) -> bool:
    """Whether a currency is printed on the row of a value."""
    for src in sources:
        y0, y1 = src.box[1], src.box[3]
        for w in words:
            if w.page == src.page and min(w.box.y1, y1) - max(w.box.y0, y0) > 0.5 * (y1 - y0) and parse_currency(w.text):
                return True
    return False


def total_not_a_count(ctx: Context) -> None:
    """A "Total" equal to the pieces ordered, on lines priced to another sum, counts pieces: it
    is no order total ("Total: 11 317" under a quantity table). Nor is a whole number printed
    in the column a quantity caption heads."""
    draft = ctx.draft
    t = num(draft.total)
    if t is None:
        return
    # printed as a whole number ("30 051", "8,885"; not "12,536.00"), no currency on its row, in
    # a column headed by a quantity caption
    whole = float(t).is_integer() and not re.search(r"[.,]\d{2}\b", str(draft.total.raw or ""))
    if draft.total.source and whole and not _money_row(ctx.words, draft.total.source) and all(
            _column_caption_over(ctx.words, s) == "quantity" for s in draft.total.source):
        draft.total = Field()
        return
    if not draft.lines:
        return
    qty = [q for q in (num(ln.quantity) for ln in draft.lines) if q is not None]
    if not qty or not close(sum(qty), t):
        return
    money = [(num(ln.amount) if ln.amount.present else (num(ln.quantity) or 0) * (num(ln.unit_price) or 0))
             for ln in draft.lines if ln.unit_price.present or ln.amount.present]
    if money and not close(sum(m or 0 for m in money), t):
        draft.total = Field()


def _number_after(words: list[Word], w: Word, loc: object) -> tuple[Word, float] | None:
    """The first number printed right of ``w`` on its row."""
    h = max(1.0, w.box.h)
    after = sorted((o for o in words if o.page == w.page and o.box.x0 >= w.box.x1
                    and w.box.y_overlap(o.box) > 0.5 * h), key=lambda o: o.box.x0)
    for o in after:
        v = parse_number(o.text, loc)  # type: ignore[arg-type]
        if v is not None:
            return o, v
    return None


def total_not_a_section(ctx: Context) -> None:
    """A total whose caption ends other sections too ("TOTALS" under each delivery's rows), that
    is neither the lines' sum nor the sum of the other sections' totals, is one section's total:
    the order's total is not printed."""
    draft = ctx.draft
    t = num(draft.total)
    if t is None or len(draft.total.source) != 1 or not draft.lines:
        return
    money = [(num(ln.amount) if ln.amount.present else (num(ln.quantity) or 0) * (num(ln.unit_price) or 0))
             for ln in draft.lines]
    if any(m is None or m == 0 for m in money) or close(sum(money), t):  # type: ignore[misc]
        return
    src = draft.total.source[0]
    inside = [w for w in ctx.words if w.page == src.page and Box(*src.box).contains(w.box)]
    if not inside:
        return
    first = min(inside, key=lambda w: w.box.x0)
    cap = caption_left_of(ctx.words, first)  # the whole caption: "Sub Total" is not "Total"
    if not cap:
        return
    last = fold_text(cap.split()[-1])
    others: list[float] = []
    same = [w for w in ctx.words if fold_text(w.text) == last][:40]  # a long document's many "Total"s: the first few tell
    for w in same:
        if w.box.y_overlap(first.box) > 0.5 * first.box.h and w.page == first.page:
            continue
        hit = _number_after(ctx.words, w, ctx.loc)
        if hit is None or hit[0] in inside:
            continue
        other_cap = caption_left_of(ctx.words, hit[0])
        if other_cap and fold_text(other_cap) == fold_text(cap):
            others.append(hit[1])
    if others and not close(sum(others), t) and not any(close(o, t) for o in others):
        draft.total = Field()


STEPS_TOTAL = [Step("total_not_a_count", total_not_a_count, "a total equal to the pieces ordered is a count, not money"),
               Step("total_not_a_section", total_not_a_section, "a total whose caption ends other sections too, "
                    "neither the lines' sum nor the sections' sum, is one section's total")]
