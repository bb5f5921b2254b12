"""Line items: tagged words grouped into item rows, and the checks of each line against the
page's arithmetic and columns.

The words the model tags with a line field are grouped into visual rows (per page). A row that
holds a quantity, unit price or amount is an item row and starts a line; other rows (a wrapped
description, an item code wrapped onto a second row) join the item above, or the item just
below when they start a description and that item has none; an item block shaped like the
item before it (a code on its own row over the wording and numbers) is one item. Pages are
walked in order, so a table continued on the next page simply goes on; repeated table headers
and carried totals are "O" words and never enter a row.

Quantity x price = amount then picks the printed price that makes a line add up; a line that
adds up is trusted, one that does not is capped. On a scan the same arithmetic repairs one
value OCR misread.
"""

from __future__ import annotations

import bisect
import re
from typing import Sequence

from extractors.assembly.engine import Context, Step
from extractors.assembly.tagging import LINE_FIELDS, WordTag, field_value
from extractors.assembly.values import close, fold_text, num
from extractors.geometry import Box, Sheet, union_refs
from extractors.lexicon import LEXICON
from extractors.normalize import parse_number
from intake.core.domain import Field, LineDraft, SourceRef, Word

__all__ = ["STEPS_READ", "STEPS_CHECK", "STEPS_SCAN", "STEPS_CONFIDENCE", "ADDS_UP_CONF", "NOT_ADDING_UP_CONF",
           "INCOMPLETE_CONF", "REPAIRED_CONF"]

_ANCHORS = frozenset({"quantity", "unit_price", "amount"})
_LINE_VALUES = ("sku", "description", "quantity", "unit_price", "amount")
# Measured on held-out synthetic layouts (120 documents) and real POs of unseen issuers: a line
# whose quantity x price equals its amount was right 98 % of the time (717 of 733); one that does
# not add up 62 % (31 of 50); one missing its quantity or price, in a document whose other lines
# have both, 25 % (26 of 106).
ADDS_UP_CONF = 0.97
NOT_ADDING_UP_CONF = 0.6
INCOMPLETE_CONF = 0.3
REPAIRED_CONF = 0.8  # below the decision's 0.9: a repaired line is shown to a CSR


def _has(tags: list[WordTag], item: list[int], field: str) -> bool:
    return any(tags[i].field == field for i in item)


def _continues(tags: list[WordTag], item: list[int], r: list[int]) -> bool:
    """Whether row ``r`` (holding numbers only) carries on ``item``: none of its fields is one the
    item has, and it sits right under the item's last row on the same page."""
    own = {tags[i].field for i in r} - {None, "uom"}
    if not own or not own <= _ANCHORS or any(_has(tags, item, f) for f in own):
        return False
    if not (_has(tags, item, "quantity") or _has(tags, item, "unit_price")) or not (
            _has(tags, item, "sku") or _has(tags, item, "description")):
        return False
    a = max((tags[i].word for i in item), key=lambda w: (w.page, w.box.y1))
    b = tags[r[0]].word
    h = max(1.0, a.box.height, b.box.height)
    return a.page == b.page and 0 <= b.box.y0 - a.box.y1 <= 1.5 * h


def _codes_start(tags: list[WordTag], r: list[int], item: list[int], nxt: list[int]) -> bool:
    """Whether row ``r`` is a code printed as its own row ("REF - X9735267") after an item that
    has its code and numbers, with the next item's wording on the row after it (no numbers
    there): the first row of the next item's block, not a code printed under its item."""
    if not r or any(tags[i].field != "sku" for i in r) or not tags[min(r, key=lambda i: tags[i].word.box.x0)].begin:
        return False  # the row's words the model read are a code alone, begun there (not a wrapped code's end)
    if not any(tags[i].field == "description" and tags[i].begin for i in nxt) or any(tags[i].field in _ANCHORS for i in nxt):
        return False
    return _has(tags, item, "sku") and bool({tags[i].field for i in item} & _ANCHORS)


def _item_rows(sheet: Sheet, tags: list[WordTag], blocks: bool = False) -> list[list[int]]:
    """The tagged words (indices into ``tags``) of each item, in reading order.

    ``blocks``: items repeat their shape. When an item's code (or wording) sat on a row of its
    own above its numbers, a row after it that holds a code (or wording) and no numbers starts
    the next item's block rather than continuing the last one."""
    words = [t.word for t in tags]
    rows = sheet.rows_of(words)
    items: list[list[int]] = []  # each: indices into tags
    above: list[set[str]] = []  # per item: the fields it had on rows above its numbers only
    pending: list[list[int]] = []  # rows that come before their item row
    for k, r in enumerate(rows):
        fields = {tags[i].field for i in r}
        if fields & _ANCHORS and items and not pending and _continues(tags, items[-1], r):
            # an item whose values are stacked ("Qty - 6" over "Price - 2,18"): a row of numbers
            # the item above has none of, right under it, is more of that item
            items[-1].extend(r)
            continue
        if fields & _ANCHORS:
            # A row with two quantities is two lines that the row grouping merged: keep one line
            # per row here; the model's B tags on sku split them below. Rows before it join it
            # when they sit right above it (a description printed over its numbers), not from
            # another page or the header far above.
            top = min(words[i].box.y0 for i in r)
            h = max(1.0, max(words[i].box.height for i in r))
            near: list[list[int]] = []
            for pr in reversed(pending):
                w0 = words[pr[0]]
                bottom = max(words[i].box.y1 for i in pr)
                if w0.page != words[r[0]].page or top - bottom > 2.5 * h:
                    break
                near.insert(0, pr)
                top = min(words[i].box.y0 for i in pr)
            pending = near
            row = [i for pr in pending for i in pr] + list(r)
            own = {tags[i].field for i in r}
            above.append({tags[i].field for pr in pending for i in pr if tags[i].field in ("sku", "description")} - own)
            pending = []
            items.append(row)
            continue
        starts_desc = any(tags[i].field == "description" and tags[i].begin for i in r)
        if blocks and items and any(tags[i].field in above[-1] and (tags[i].begin or tags[i].field == "description")
                                    for i in r) and all(_has(tags, items[-1], f) for f in above[-1]):
            pending.append(list(r))  # the next item's block, shaped as the last one was
        elif items and pending and words[pending[-1][0]].page == words[r[0]].page:
            pending.append(list(r))  # the next item's block has begun (its wording): more of it
        elif blocks and items and _codes_start(tags, r, items[-1], rows[k + 1] if k + 1 < len(rows) else []):
            pending.append(list(r))  # a code on a row of its own after an item that has one: the next item's
        elif items and not starts_desc:
            items[-1].extend(r)
        elif items and starts_desc and _has(tags, items[-1], "description"):
            pending.append(list(r))
        elif items:
            items[-1].extend(r)
        else:
            pending.append(list(r))
    if pending and items:
        # Rows after the last item row that looked like a new description: a wrap of the last line.
        for pr in pending:
            items[-1].extend(pr)
    return items


def item_blocks(ctx: Context) -> None:
    """Items repeat their shape: the rows of an item block (a code on a row of its own over the
    wording and the numbers) are read as one item (applied by ``read_lines``)."""
    ctx.state["item_blocks"] = True


def read_lines(ctx: Context) -> None:
    """Item rows become lines: each line's fields from the words of its rows tagged with them."""
    tags = [t for t in ctx.tags if t.field in LINE_FIELDS]
    out: list[LineDraft] = []
    if tags:
        for it in _item_rows(ctx.sheet, tags, blocks=bool(ctx.state.get("item_blocks"))):
            by_field: dict[str, list[WordTag]] = {}
            for i in sorted(it, key=lambda i: (tags[i].word.page, tags[i].word.box.y0, tags[i].word.box.x0)):
                f = tags[i].field
                if f is None:
                    continue
                by_field.setdefault(f, []).append(tags[i])
            ln = LineDraft()
            for f, ft in by_field.items():
                joiner = "" if f == "sku" else " "
                setattr(ln, f, field_value(ctx.sheet, f, ft, ctx.loc, "line", ctx.calibrator, multiline=False,
                                           joiner=joiner))
            out.append(ln)
    ctx.draft.lines = out


_BRACKETED = re.compile(r"^\s*[\[(](?P<code>[A-Za-z0-9][A-Za-z0-9./_-]{0,30})[\])]\s*(?P<rest>.*)$")


def _bracketed_code(ln: LineDraft) -> None:
    if not isinstance(ln.description.value, str):
        return
    m = _BRACKETED.match(ln.description.value)
    if not m or not m.group("rest").strip():
        return
    d = ln.description
    if ln.sku.present:
        s_src, d_src = ln.sku.source, d.source
        if not (s_src and d_src and s_src[0].page == d_src[0].page and s_src[0].box[0] > d_src[0].box[0]
                and abs(s_src[0].box[1] - d_src[0].box[1]) < 0.5 * Box(*d_src[0].box).h):
            return
        d = d.model_copy(update={"value": f"{d.value} {ln.sku.raw or ln.sku.value}",
                                 "source": union_refs(list(d_src) + list(s_src))})
    ln.sku = Field(value=m.group("code"), raw=f"[{m.group('code')}]", confidence=d.confidence, source=d.source)
    rest = _BRACKETED.match(str(d.value))
    ln.description = d.model_copy(update={"value": rest.group("rest").strip() if rest else str(d.value)})


def bracketed_code(ctx: Context) -> None:
    """"[A1090] iMac": the code an ERP prints in brackets before the product name is the item
    code. A code the model took from the wording after it ("[MBi9] Motherboard I9P57") goes
    back to the wording."""
    for ln in ctx.draft.lines:
        _bracketed_code(ln)


def thin_lines(ctx: Context) -> None:
    """A line names at least two of code, wording, quantity, price and amount."""
    ctx.draft.lines = [ln for ln in ctx.draft.lines if sum(1 for f in _LINE_VALUES if getattr(ln, f).present) >= 2]


# Words that open a summary row under the items: subtotal, tax, shipping, discount, total.
_SUMMARY_WORDS = LEXICON.words("summary")
_SUMMARY_STARTS = frozenset(fold_text(w).strip(".") for w in _SUMMARY_WORDS)
_SUMMARY_FOLDED = _SUMMARY_STARTS | frozenset(fold_text(w) for w in LEXICON.words("summary_connectors"))


def _summary_row(ln: LineDraft) -> bool:
    if ln.sku.present and not (isinstance(ln.sku.value, str) and fold_text(ln.sku.value).strip(".:") in _SUMMARY_WORDS):
        return False
    text = " ".join(str(f.value) for f in (ln.sku, ln.description) if f.present)
    toks = [t.strip(".:,;()%") for t in fold_text(text).split()]
    toks = [t for t in toks if t and not any(c.isdigit() for c in t)]
    return bool(toks) and toks[0] in _SUMMARY_STARTS and all(
        t in _SUMMARY_FOLDED or len(t) <= 2 for t in toks)


def summary_rows(ctx: Context) -> None:
    """A row of the table's foot ("MwSt. 19 % 2.918,19", "Zwischensumme 18.532,15"): no item
    code, and wording that is summary words and numbers only: no order line."""
    ctx.draft.lines = [ln for ln in ctx.draft.lines if not _summary_row(ln)]


def off_column_lines(ctx: Context) -> None:
    """A thin line (two of code, wording, quantity, price, amount) whose values stand in none of
    the columns the other lines use is header text the model took for an item (a licence number
    over a buyer code), not a line of the table."""
    lines = ctx.draft.lines
    if len(lines) < 2:
        return
    full = [sum(1 for f in _LINE_VALUES if getattr(ln, f).present) >= 3 for ln in lines]

    def col(ln: LineDraft, f: str) -> tuple[int, float, float] | None:
        fld: Field = getattr(ln, f)
        if not fld.present or not fld.source:
            return None
        b = fld.source[0]
        return b.page, b.box[0], b.box[2]

    out = []
    for k, ln in enumerate(lines):
        present = [f for f in _LINE_VALUES if getattr(ln, f).present]
        if len(present) <= 2:
            aligned = False
            for f in present:
                c = col(ln, f)
                others = [col(o, f) for j, o in enumerate(lines) if j != k and full[j]]
                others = [o for o in others if o is not None]
                if c is None or not others or any(min(c[2], o[2]) - max(c[1], o[1]) > 0 for o in others):
                    aligned = True
                    break
            if not aligned:
                continue
        out.append(ln)
    ctx.draft.lines = out


_NUMERIC_LINE = ("quantity", "unit_price", "amount")


def _caption_field(text: str) -> str | None:
    t = " ".join(text.casefold().split()).strip(":").strip()
    for section in ("columns", "item"):
        f = LEXICON.field_of(t, section)
        if f is not None:
            return f
    return None


def captioned_numbers(ctx: Context) -> None:
    """A number printed as the value of a captioned key ("Article Number: 1100438910", "Total
    Packs: 198") is that key's value: it is a line's quantity, price or amount only when its
    caption names that field ("Qty: 5")."""
    tags, words = ctx.tags, ctx.words
    for r in ctx.sheet.rows():
        for k, i in enumerate(r):
            t = tags[i]
            if t.field not in _NUMERIC_LINE or k == 0:
                continue
            prev = words[r[k - 1]]
            w = words[i]
            h = max(1.0, min(prev.box.height, w.box.height))
            if not prev.text.endswith(":") or w.box.x0 - prev.box.x1 > 4 * h or tags[r[k - 1]].field is not None:
                continue
            cap = [prev]
            j = k - 2
            while j >= 0 and len(cap) < 4 and tags[r[j]].field is None and cap[0].box.x0 - words[r[j]].box.x1 <= 1.2 * h \
                    and not words[r[j]].text.endswith(":"):
                cap.insert(0, words[r[j]])
                j -= 1
            # the caption, or its last words ("Order Qty:", "Delivery 1 Qty:")
            names = {_caption_field(" ".join(x.text for x in cap[n:])) for n in range(len(cap))}
            if t.field not in names:
                t.field = None


_SEPARATORS = frozenset({"-", ":", "–", "—", "=", "|"})
_CAPTIONED_LINE = ("sku", "quantity", "unit_price", "amount")


def captioned_line_values(ctx: Context) -> None:
    """An item whose values are printed after their captions on one row ("Sku - 57425523  Qty -
    30  Price - 10,37"), a row the model left untagged in a document whose other items it read:
    each value takes the field its caption names (a code, a quantity and a price or amount)."""
    tags, words, loc = ctx.tags, ctx.words, ctx.loc
    if not any(t.field == "quantity" for t in tags):
        return
    for r in ctx.sheet.rows():
        if any(tags[i].field in LINE_FIELDS for i in r):
            continue
        found: dict[str, int] = {}
        k = 0
        while k < len(r):
            hit = None
            for n in (3, 2, 1):
                if k + n >= len(r):
                    continue
                cap = " ".join(words[i].text for i in r[k:k + n])
                sep = cap.endswith(":")
                v = k + n
                if not sep and words[r[v]].text in _SEPARATORS:
                    sep, v = True, v + 1
                if not sep or v >= len(r):
                    continue
                f = _caption_field(cap)
                if f in _CAPTIONED_LINE and f not in found:
                    text = words[r[v]].text
                    ok = (parse_number(text, loc) is not None) if f != "sku" else (
                        any(c.isdigit() for c in text) and bool(re.match(r"^[A-Za-z0-9][A-Za-z0-9./_-]*$", text)))
                    if ok:
                        hit = (f, v)
                        break
            if hit:
                found[hit[0]] = r[hit[1]]
                k = hit[1] + 1
            else:
                k += 1
        if "quantity" not in found or len(found) < 2:
            continue
        for f, i in found.items():
            tags[i].field, tags[i].begin, tags[i].score = f, True, max(tags[i].score, KEY_VALUE_SCORE)


KEY_VALUE_SCORE = 0.7  # a value only its caption vouches for


STEPS_READ = [
    Step("captioned_numbers", captioned_numbers, "a number after another key's caption is no line value"),
    Step("captioned_line_values", captioned_line_values, "an item printed as captions and values on one row"),
    Step("item_blocks", item_blocks, "an item block (code over wording and numbers) is one item, as the one before it"),
    Step("read_lines", read_lines, "item rows become lines", core=True),
    Step("bracketed_code", bracketed_code, "a code in brackets before the product name is the item code"),
    Step("thin_lines", thin_lines, "a line names at least two of code, wording, quantity, price, amount", core=True),
    Step("summary_rows", summary_rows, "subtotal, tax, shipping and discount rows are no order lines"),
    Step("off_column_lines", off_column_lines, "a thin line off the table's columns is header text"),
]


# --- arithmetic ---------------------------------------------------------------------------------

def _number_index(ctx: Context) -> dict[int, tuple[list[float], list[tuple[int, float, Word]]]]:
    """Per page, the positive numbers printed on it, by the height of their centre (built once
    per document: a long order's lines each look up their row's numbers)."""
    got = ctx.state.get("row_numbers")
    if got is None:
        pages: dict[int, list[tuple[float, int, float, Word]]] = {}
        for i, w in enumerate(ctx.words):
            if not any(c.isdigit() for c in w.text):
                continue
            v = parse_number(w.text, ctx.loc)
            if v is not None and v > 0:
                pages.setdefault(w.page, []).append((w.box.cy, i, float(v), w))
        got = {}
        for page, items in pages.items():
            items.sort(key=lambda t: (t[0], t[1]))
            got[page] = ([t[0] for t in items], [(t[1], t[2], t[3]) for t in items])
        ctx.state["row_numbers"] = got
    return got


def _row_numbers(ln: LineDraft, ctx: Context) -> list[tuple[float, Word]]:
    """The numbers printed on a line's own row(s): words within the vertical span of its values."""
    refs = [r for f in ("quantity", "unit_price", "amount", "sku") for r in getattr(ln, f).source]
    if not refs:
        return []
    page = refs[0].page
    y0 = min(r.box[1] for r in refs if r.page == page)
    y1 = max(r.box[3] for r in refs if r.page == page)
    ys, items = _number_index(ctx).get(page, ([], []))
    found = items[bisect.bisect_left(ys, y0 - 1):bisect.bisect_right(ys, y1 + 1)]
    return [(v, w) for _i, v, w in sorted(found, key=lambda t: t[0])]  # in reading order, as the words are


def arithmetic_row(ctx: Context) -> None:
    """Quantity x unit price = amount. When the model's three values disagree and another number
    on the same row makes the line add up, that number is the one meant: a second price column
    (list vs net), a quantity tagged in the wrong column, an amount the model did not tag."""

    def put(ln: LineDraft, key: str, v: float, w: Word, conf: float) -> None:
        setattr(ln, key, Field(value=v, raw=w.text, confidence=conf, source=[SourceRef(page=w.page, box=w.box)]))

    for ln in ctx.draft.lines:
        q, p, a = num(ln.quantity), num(ln.unit_price), num(ln.amount)
        if q is not None and p is not None and a is not None and close(q * p, a):
            continue
        cands = _row_numbers(ln, ctx)
        if not cands:
            continue
        conf = min((f.confidence for f in (ln.quantity, ln.unit_price, ln.amount) if f.present), default=0.5)
        if q is not None and a is not None:
            hit = next(((v, w) for v, w in cands if v != q and v != a and close(q * v, a)), None)
            if hit:
                put(ln, "unit_price", hit[0], hit[1], conf)
                continue
        if q is not None and p is not None:
            hit = next(((v, w) for v, w in cands if v not in (q, p) and close(q * p, v)), None)
            if hit:
                put(ln, "amount", hit[0], hit[1], conf)
                continue
        if q is not None:
            # a (price, amount) pair on the row that multiplies out with the quantity
            pairs = [((x, wx), (y, wy)) for x, wx in cands for y, wy in cands
                     if wx is not wy and x not in (q,) and y > x and y != q and close(q * x, y) and q > 1]
            if pairs:
                (x, wx), (y, wy) = max(pairs, key=lambda pr: pr[1][0])
                put(ln, "unit_price", x, wx, conf)
                put(ln, "amount", y, wy, conf)
                continue
        if p is not None and a is not None and q is None:
            # another word than the price's and the amount's (at a price of 1 the quantity is the amount)
            taken = {(r.page, tuple(r.box)) for f in (ln.unit_price, ln.amount) for r in f.source}
            hit = next(((v, w) for v, w in cands if (w.page, tuple(w.box)) not in taken and close(v * p, a)), None)
            if hit:
                put(ln, "quantity", hit[0], hit[1], conf)


def arithmetic_columns(ctx: Context) -> None:
    """A line that does not add up, in a table whose other lines do: the numbers on its row in
    the columns where the other lines have their quantity, price and amount, when those multiply
    out (a serial number taken for the quantity, a list price and the MRP for price and amount)."""
    lines = ctx.draft.lines
    keys = ("quantity", "unit_price", "amount")

    def adds_up(ln: LineDraft) -> bool:
        q, p, a = (num(getattr(ln, k)) for k in keys)
        return q is not None and p is not None and a is not None and close(q * p, a)

    good = [ln for ln in lines if adds_up(ln)]
    if not good or len(good) == len(lines):
        return
    cols: dict[str, list[tuple[int, float, float]]] = {k: [] for k in keys}
    for ln in good:
        for k in keys:
            for r in getattr(ln, k).source[:1]:
                cols[k].append((r.page, r.box[0], r.box[2]))
    for ln in lines:
        if adds_up(ln):
            continue
        cands = _row_numbers(ln, ctx)
        pick: dict[str, tuple[float, Word]] = {}
        for k in keys:
            inside = [(v, w) for v, w in cands if any(min(w.box.x1, c[2]) - max(w.box.x0, c[1]) > 0 for c in cols[k])]
            if len(inside) != 1:
                break
            pick[k] = inside[0]
        if len(pick) != 3:
            continue
        q, p, a = pick["quantity"][0], pick["unit_price"][0], pick["amount"][0]
        if not close(q * p, a):
            continue
        conf = min((getattr(ln, k).confidence for k in keys if getattr(ln, k).present), default=0.5)
        for k, (v, w) in pick.items():
            setattr(ln, k, Field(value=v, raw=w.text, confidence=conf, source=[SourceRef(page=w.page, box=w.box)]))


STEPS_CHECK = [
    Step("arithmetic_row", arithmetic_row, "quantity x price = amount picks the printed number that makes a line add up"),
    Step("arithmetic_columns", arithmetic_columns,
         "a line that does not add up takes the numbers in the columns the other lines use"),
]


# --- scans -------------------------------------------------------------------------------------

_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "S": "5", "$": "5", "B": "8", "Z": "2"})
# Characters OCR confuses between letters and digits, each way.
_AS_LETTER = {"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "$": "S"}
_AS_DIGIT = {"O": "0", "I": "1", "l": "1", "S": "5", "B": "8", "Z": "2", "o": "0"}


def _shape(code: str) -> str:
    return "".join("L" if c.isalpha() else "D" if c.isdigit() else c for c in code)


def ocr_code_shapes(ctx: Context) -> None:
    """Item codes of one table share a shape (letter + 7 digits, "AB.123.456"). On a scan, a code
    one confusable character off its column's shape ("12345678" among "A1234567", "B7654321", ...)
    is read with that character as the shape says (I, not 1)."""
    if not ctx.sheet.ocr:
        return
    lines = ctx.draft.lines
    codes = [str(ln.sku.value) for ln in lines if ln.sku.present]
    by_len: dict[int, list[str]] = {}
    for c in codes:
        by_len.setdefault(len(c), []).append(_shape(c))
    for ln in lines:
        if not ln.sku.present:
            continue
        code = str(ln.sku.value)
        shapes = by_len.get(len(code), [])
        if len(shapes) < 3:
            continue
        counts = sorted(((shapes.count(x), x) for x in set(shapes)), reverse=True)
        n, common = counts[0]
        if len(counts) > 1 and counts[1][0] == n:
            continue  # two shapes as common: no shape to read by
        if n < 3 or n < 0.4 * len(shapes) or _shape(code) == common:
            continue
        fixed = []
        for c, want in zip(code, common):
            got = "L" if c.isalpha() else "D" if c.isdigit() else c
            if got == want:
                fixed.append(c)
            elif want == "L" and c in _AS_LETTER:
                fixed.append(_AS_LETTER[c])
            elif want == "D" and c in _AS_DIGIT:
                fixed.append(_AS_DIGIT[c])
            else:
                break  # not a confusion: a code of another shape, left as printed
        else:
            ln.sku = ln.sku.model_copy(update={"value": "".join(fixed)})


def _fmt_like(v: float, printed: str) -> str:
    """``v`` written with as many decimals as ``printed`` has (digits only, for comparison)."""
    m = re.search(r"[.,](\d+)\D*$", printed)
    dec = len(m.group(1)) if m else 0
    return re.sub(r"\D", "", f"{v:.{dec}f}")


def _one_char_off(derived: str, printed: str) -> bool:
    """Whether ``printed`` is ``derived`` misread: one digit off, or equal once OCR's letter-for-digit
    confusions are undone ("$5.73" for 55.73)."""
    b = re.sub(r"\D", "", printed.translate(_OCR_DIGITS))
    return len(derived) == len(b) and sum(x != y for x, y in zip(derived, b)) <= 1 and derived != re.sub(r"\D", "", printed)


def _row_words(ln: LineDraft, words: Sequence[Word]) -> list[Word]:
    """The words printed on a line's own row(s), by the vertical span of its values."""
    refs = [r for f in ("quantity", "unit_price", "amount", "sku", "description") for r in getattr(ln, f).source]
    if not refs:
        return []
    page = refs[0].page
    y0 = min(r.box[1] for r in refs if r.page == page)
    y1 = max(r.box[3] for r in refs if r.page == page)
    return [w for w in words if w.page == page and y0 - 1 <= w.box.cy <= y1 + 1]


def ocr_arithmetic(ctx: Context) -> None:
    """On a scan, quantity x price = amount repairs what OCR misread in one of the three: a
    quantity printed "25°." (amount / price = 25, and the word starts with 25), a price read
    "7.12" where amount / quantity = 1.12, an amount one digit off, "$5.73" for 55.73. The
    repaired (line, field) pairs are kept for the cap below the approval threshold."""
    repaired: list[tuple[LineDraft, str]] = []
    ctx.state["repaired"] = repaired
    if not ctx.sheet.ocr:
        return
    loc = ctx.loc
    for ln in ctx.draft.lines:
        q, p, a = num(ln.quantity), num(ln.unit_price), num(ln.amount)
        if q is not None and p is not None and a is not None and close(q * p, a):
            continue
        conf = min((f.confidence for f in (ln.quantity, ln.unit_price, ln.amount) if f.present), default=0.5)
        taken = {(r.page, tuple(r.box)) for f in (ln.quantity, ln.unit_price, ln.amount) if f.present for r in f.source}
        row = [w for w in _row_words(ln, ctx.words) if (w.page, tuple(w.box)) not in taken]

        def put(key: str, v: float, raw: str, src: list[SourceRef], ln: LineDraft = ln, conf: float = conf) -> None:
            setattr(ln, key, Field(value=v, raw=raw, confidence=min(conf, REPAIRED_CONF), source=src))
            repaired.append((ln, key))

        if q is None and p and a is not None:
            v = a / p
            if v >= 1 and abs(v - round(v)) < 1e-6 * max(1.0, v):
                n = str(int(round(v)))
                w = next((w for w in row if (m := re.match(r"\d+", w.text)) is not None and m.group() == n), None)
                if w is not None:
                    put("quantity", float(n), w.text, [SourceRef(page=w.page, box=w.box)])
                else:  # the quantity is not legible: amount / price, for a CSR to confirm
                    put("quantity", float(n), "", [])
            continue
        if q and a is not None:
            v = a / q
            if abs(v * 10000 - round(v * 10000)) < 1e-6 * max(1.0, v * 10000):
                if p is not None and _one_char_off(_fmt_like(v, ln.unit_price.raw or ""), ln.unit_price.raw or ""):
                    put("unit_price", round(v, 4), ln.unit_price.raw or "", ln.unit_price.source)
                    continue
                if p is None:
                    for w in row:
                        pv = parse_number(w.text.translate(_OCR_DIGITS), loc)
                        if pv is not None and close(q * pv, a):
                            put("unit_price", float(pv), w.text, [SourceRef(page=w.page, box=w.box)])
                            break
                    continue
        if q and p is not None and a is not None and _one_char_off(_fmt_like(q * p, ln.amount.raw or ""), ln.amount.raw or ""):
            put("amount", round(q * p, 2), ln.amount.raw or "", ln.amount.source)


STEPS_SCAN = [
    Step("ocr_code_shapes", ocr_code_shapes, "on a scan, a code one confusable character off its column's shape"),
    Step("ocr_arithmetic", ocr_arithmetic, "on a scan, quantity x price = amount repairs one misread value"),
]


def line_confidence(ctx: Context) -> None:
    """Line confidence checked by arithmetic: the model's probabilities do not know whether a
    line adds up; the printed figures do."""
    lines = ctx.draft.lines
    priced = any(num(ln.quantity) is not None and num(ln.unit_price) is not None for ln in lines)

    def cap(ln: LineDraft, c: float) -> None:
        for f in ("quantity", "unit_price", "amount"):
            fld: Field = getattr(ln, f)
            if fld.present:
                setattr(ln, f, fld.model_copy(update={"confidence": min(fld.confidence, c)}))
        for f in ("sku", "description"):
            fld = getattr(ln, f)
            if fld.present:
                setattr(ln, f, fld.model_copy(update={"confidence": min(fld.confidence, max(c, 0.5))}))

    for ln in lines:
        q, p, a = num(ln.quantity), num(ln.unit_price), num(ln.amount)
        if q is not None and p is not None and a is not None:
            if close(q * p, a):
                for f in ("quantity", "unit_price", "amount"):
                    fld: Field = getattr(ln, f)
                    setattr(ln, f, fld.model_copy(update={"confidence": max(fld.confidence, ADDS_UP_CONF)}))
            else:
                cap(ln, NOT_ADDING_UP_CONF)
        elif priced and (q is None or p is None):
            cap(ln, INCOMPLETE_CONF)


def repaired_below_approval(ctx: Context) -> None:
    """A value read by arithmetic, not as printed, stays below the approval threshold: a CSR
    looks at it."""
    for ln, key in ctx.state.get("repaired", []):
        fld = getattr(ln, key)
        setattr(ln, key, fld.model_copy(update={"confidence": min(fld.confidence, REPAIRED_CONF)}))


STEPS_CONFIDENCE = [
    Step("line_confidence", line_confidence, "a line that adds up is trusted, one that does not is capped"),
]
STEPS_REPAIRED = [
    Step("repaired_below_approval", repaired_below_approval, "a repaired value stays below the approval threshold",
         core=True),
]
