"""Special layouts: an apparel order's colour-by-size matrix, one item written as captions and
values, and an order for one article named in the header."""

from __future__ import annotations

import re

from extractors.assembly.engine import Context, Step
from extractors.assembly.values import CODE_PART
from extractors.geometry import Sheet, union
from extractors.lexicon import LEXICON
from extractors.normalize import Locale, normalize_uom, parse_number
from intake.core.domain import Field, LineDraft, Word

__all__ = ["STEPS_ITEM", "STEPS", "MATRIX_CONF"]

MATRIX_CONF = 0.75
KEY_VALUE_CONF = 0.7
_SIZE = re.compile(r"(?i)^(?:" + "|".join(re.escape(s).replace(r"\ ", " ?") for s in
                                           sorted(LEXICON.words("sizes"), key=len, reverse=True))
                   + r"|\d{1,2}(?:-\d{1,2})?[ym])$")  # S M L XL, "one size"; ages "10Y", "3-4y", "18m"
_TOTAL_HEAD = LEXICON.words("matrix_total")
_ARTICLE_CAPTIONS = LEXICON.words("article")


def _article_code(sheet: Sheet) -> Word | None:
    """The code after an article caption ("Article No. 10045678"), if the document prints one."""
    words = sheet.words
    for r in sheet.rows():
        ws = [words[i] for i in r]
        toks = [w.text.casefold() for w in ws]
        for k in range(len(ws)):
            for n in (3, 2, 1):
                cap = " ".join(toks[k:k + n]).rstrip(":").strip()
                if cap in _ARTICLE_CAPTIONS and k + n < len(ws):
                    v = ws[k + n]
                    if sum(c.isdigit() for c in v.text) >= 4 and CODE_PART.match(v.text):
                        return v
    return None


def size_matrix(ctx: Context) -> None:
    """An apparel order's colour-by-size matrix ("Color | S M L XL XXL | Total Qty." over rows
    "NAVY (20)  120 340 410 ..."): one line per colour, its quantity the row's total
    (or the sum of its sizes), its code the document's article number. Confidence 0.75: a CSR
    confirms what a matrix read gives. The matrix's sums row is pieces, not the order's total."""
    loc: Locale = ctx.loc
    words = ctx.words
    rows = ctx.sheet.rows()
    out: list[LineDraft] = []
    article = _article_code(ctx.sheet)
    ri = 0
    while ri < len(rows):
        head = [words[i] for i in rows[ri]]
        sizes = [w for w in head if _SIZE.match(w.text)]
        if len(sizes) < 3:
            ri += 1
            continue
        first_x = min(w.box.x0 for w in sizes)
        last_x = max(w.box.x1 for w in sizes)
        tot = [w for w in head if w.text.casefold() in _TOTAL_HEAD and w.box.x0 > last_x - 1]
        tot_span = (min(w.box.x0 for w in tot), max(w.box.x1 for w in tot)) if tot else None
        h = sizes[0].box.h
        found: list[LineDraft] = []
        k = ri + 1
        last_top = max(w.box.y0 for w in head)
        while k < len(rows):
            row = [words[i] for i in rows[k] if words[i].page == head[0].page]
            if not row or row[0].box.y0 - last_top > 4 * h:
                break
            label = [w for w in row if w.box.x1 <= first_x - 0.2 * h]
            nums = [(w, parse_number(w.text, loc)) for w in row if w.box.x0 >= first_x - 2 * h]
            nums = [(w, v) for w, v in nums if v is not None]
            text = " ".join(w.text for w in label)
            if not label or not nums or not any(c.isalpha() for c in text) or text.casefold().split()[0] in _TOTAL_HEAD:
                break
            qty = None
            if tot_span:
                under = [v for w, v in nums if min(w.box.x1, tot_span[1] + h) - max(w.box.x0, tot_span[0] - h) > 0]
                qty = under[-1] if under else None
            if qty is None:
                qty = sum(v for w, v in nums)
            ln = LineDraft()
            ln.description = Field(value=text, raw=text, confidence=MATRIX_CONF, source=union(label))
            ln.quantity = Field(value=float(qty), raw=str(qty), confidence=MATRIX_CONF, source=union([w for w, _ in nums]))
            if article is not None:
                ln.sku = Field(value=article.text, raw=article.text, confidence=MATRIX_CONF, source=union([article]))
            found.append(ln)
            last_top = row[0].box.y0
            k += 1
        if len(found) >= 2:
            out.extend(found)
            ri = k
        else:
            ri += 1
    ctx.state["matrix"] = bool(out)
    if not out:
        return
    draft = ctx.draft
    draft.lines = out
    if draft.total.present and draft.total.source:
        # the matrix's sums row is pieces, not money
        top = min(r.box[1] for ln in out for r in ln.description.source)
        bottom = max(r.box[3] for ln in out for r in ln.description.source)
        hh = max(1.0, bottom - top) / max(1, len(out))
        if all(top - 3 * hh <= r.box[1] <= bottom + 2 * hh for r in draft.total.source):
            draft.total = Field()


def article_code(ctx: Context) -> None:
    """An order for one article ("Product No: 0012345" in the header): lines without a code are
    that article."""
    draft = ctx.draft
    if ctx.state.get("matrix") or not draft.lines or any(ln.sku.present for ln in draft.lines):
        return
    art = _article_code(ctx.sheet)
    # the order's article is named in its header, above its lines (not a customer's article
    # number printed in one item's block)
    tops = [(r.page, r.box[1]) for ln in draft.lines for f in (ln.description, ln.quantity) for r in f.source]
    if art is not None and tops and (art.page, art.box.y0) < min(tops):
        for ln in draft.lines:
            ln.sku = Field(value=art.text, raw=art.text, confidence=MATRIX_CONF, source=union([art]))


# One item written as captions and values ("Product Name: Steel pump / Quantity: 20 Units").
_ITEM_CAPTIONS = {f: frozenset(LEXICON.variants(f, section="item")) for f in LEXICON.fields("item")}


def key_value_item(ctx: Context) -> None:
    """A document without an item table that names one item by captions, each followed by a
    colon and its value on the same row: that item is the order's line (confidence 0.7, a CSR
    confirms it)."""
    if ctx.draft.lines:
        return
    loc = ctx.loc
    words = ctx.words
    found: dict[str, tuple[str, list[Word]]] = {}
    for r in ctx.sheet.rows():
        ws = [words[i] for i in r]
        colon = next((k for k, w in enumerate(ws[:5]) if w.text.endswith(":")), None)
        if colon is None or colon + 1 >= len(ws):
            continue
        cap = " ".join(w.text for w in ws[:colon + 1]).casefold().rstrip(":").strip()
        rest = ws[colon + 1:]
        for f, caps in _ITEM_CAPTIONS.items():
            if cap in caps and f not in found:
                found[f] = (" ".join(w.text for w in rest), rest)
    if "quantity" not in found or not ({"description", "sku"} & set(found)):
        return
    _qtext, qws = found["quantity"]
    q = parse_number(qws[0].text, loc)
    if q is None or q <= 0:
        return
    ln = LineDraft()
    ln.quantity = Field(value=float(q), raw=qws[0].text, confidence=KEY_VALUE_CONF, source=union(qws[:1]))
    if len(qws) > 1 and normalize_uom(qws[1].text):
        ln.uom = Field(value=normalize_uom(qws[1].text), raw=qws[1].text, confidence=KEY_VALUE_CONF,
                       source=union(qws[1:2]))
    for f in ("description", "sku"):
        if f in found:
            text, ws = found[f]
            setattr(ln, f, Field(value=text.strip(), raw=text, confidence=KEY_VALUE_CONF, source=union(ws)))
    if "unit_price" in found:
        v = parse_number(found["unit_price"][1][0].text, loc)
        if v is not None:
            ln.unit_price = Field(value=float(v), raw=found["unit_price"][0], confidence=KEY_VALUE_CONF,
                                  source=union(found["unit_price"][1][:1]))
    ctx.draft.lines = [ln]


STEPS_ITEM = [Step("key_value_item", key_value_item, "one item named by captions is the line of a document without a table")]
STEPS = [
    Step("size_matrix", size_matrix, "a colour-by-size matrix gives one line per colour"),
    Step("article_code", article_code, "lines without a code are the article the order names"),
]
