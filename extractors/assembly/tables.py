"""Item tables: what each word of an item row is, settled by the table's own structure before
the rows become lines.

A table header the service can read (its column captions in the ``columns`` section of the
lexicon, in any supported language) gives each column its field; a table beside a block of
captioned values reads its own columns only, and its foot (a caption, or a row of the columns'
sums) ends it. Codes wrapped in their cell are joined, a number's thousands set apart by a thin
space stay one number, and a description is one run of words in its cell. (A vote of each column
of numbers on its field was removed: left out, leave-issuer-out lines rose 0.883 -> 0.895.)
"""

from __future__ import annotations

import re

from extractors.assembly.engine import Context, Step
from extractors.assembly.tagging import LINE_FIELDS, MULTILINE_FIELDS, NUMERIC, WordTag
from extractors.assembly.values import CODE_PART, MEASURE, close
from extractors.geometry import rtl
from extractors.lexicon import LEXICON
from extractors.normalize import parse_number
from intake.core.domain import Word

__all__ = ["STEPS", "header_cells", "TOTAL_ROW"]

_COLUMN_FIELDS = ("line_no", "quantity", "unit_price", "amount")
_PRODUCT_COLUMNS = LEXICON.words("product_columns")
_BARCODE_COLUMNS = LEXICON.words("barcode_columns")
# The first cell of a table's foot row (totals): the table ends there.
TOTAL_ROW = LEXICON.regex("total_row", start=True)


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|_")
_UNIT_SUFFIX = re.compile(r"\s*\([^)]*\)\s*$")


def _caption_text(ws: list[Word]) -> str:
    # "UnitPrice", "Unit_Price": a spreadsheet's column name in one word; "Cost (USD)": the unit goes
    if rtl("".join(w.text for w in ws)):
        ws = list(reversed(ws))  # a right-to-left caption ("מחיר נטו") reads from its right end
    text = " ".join(_CAMEL.sub(" ", w.text) for w in ws).casefold().strip(":")
    return _UNIT_SUFFIX.sub("", text).strip()


def _table_field(text: str) -> str | None:
    return LEXICON.field_of(text, "columns") if text else None


def header_cells(ws: list[Word]) -> list[tuple[float, float, str | None]]:
    """A header row's cells (words at word spacing), each with the field its caption names."""
    cells: list[list[Word]] = []
    for w in sorted(ws, key=lambda w: w.box.x0):
        if cells:
            a = cells[-1][-1]
            h = max(1.0, min(a.box.height, w.box.height))
            if w.box.x0 - a.box.x1 <= 0.6 * h:  # word spacing; columns set closer than an em stand apart
                cells[-1].append(w)
                continue
        cells.append([w])

    def caption_of(ws: list[Word]) -> str | None:
        return _table_field(_caption_text(ws))

    # "Product Code Product Name" printed close together: two captions, two columns
    split: list[list[Word]] = []
    for c in cells:
        if len(c) >= 2 and caption_of(c) is None:
            k = next((k for k in range(1, len(c)) if caption_of(c[:k]) and caption_of(c[k:])), None)
            if k is not None:
                split.extend([c[:k], c[k:]])
                continue
        split.append(c)
    cells = split
    out: list[tuple[float, float, str | None]] = []
    by_first_word: set[int] = set()
    for c in cells:
        text = _caption_text(c)
        field = _table_field(text)
        if field is None and " " in text:
            # "Prix unit.", "Total ligne", "Menge (Stk)": the first word names the column
            field = _table_field(text.split()[0])
            if field is not None:
                by_first_word.add(len(out))
        out.append((c[0].box.x0, c[-1].box.x1, field))
    # A caption named by its first word only ("Code client", "Item weight") yields its field to a
    # column whose whole caption names it
    for k in by_first_word:
        f = out[k][2]
        if any(f == g for j, (_a, _b, g) in enumerate(out) if j != k and j not in by_first_word):
            out[k] = (out[k][0], out[k][1], None)
    # A barcode column holds the item code only when no other column does ("Code | EAN": the code)
    codes = [k for k, (_a, _b, f) in enumerate(out) if f == "sku"]
    if len(codes) >= 2:
        barcode = [k for k in codes if _caption_text(cells[k]) in _BARCODE_COLUMNS]
        if len(barcode) < len(codes):
            for k in barcode:
                out[k] = (out[k][0], out[k][1], None)
    # "Product | Description": beside a description column, the product column holds the code
    desc = [k for k, (_a, _b, f) in enumerate(out) if f == "description"]
    if len(desc) == 2:
        texts = [" ".join(w.text for w in cells[k]).casefold().strip(":") for k in desc]
        for k, t in zip(desc, texts):
            if t in _PRODUCT_COLUMNS:
                out[k] = (out[k][0], out[k][1], "sku")
                break
    return out


def _cell_of(cells: list[tuple[float, float, str | None]], w: Word) -> str | None:
    """The header cell a word stands under: the most overlapping one, or the nearest by centre
    when none overlaps (right-aligned numbers under a left-aligned caption)."""
    best, best_ov = None, 0.0
    for x0, x1, f in cells:
        ov = min(x1, w.box.x1) - max(x0, w.box.x0)
        if ov > best_ov:
            best, best_ov = f, ov
    if best_ov > 0:
        return best
    cx = w.box.cx
    near = min(cells, key=lambda c: abs((c[0] + c[1]) / 2 - cx))
    if abs((near[0] + near[1]) / 2 - cx) < 3 * w.box.h:
        return near[2]
    # a right-aligned number set past the end of its number column's caption ("Units" over
    # "   198"): that column, when the next cell to the right is much farther
    left = [c for c in cells if c[1] <= w.box.x0]
    if left and any(ch.isdigit() for ch in w.text):
        c = max(left, key=lambda c: c[1])
        gap = w.box.x0 - c[1]
        right = [d[0] - w.box.x1 for d in cells if d[0] >= w.box.x1]
        if c[2] in _COLUMN_FIELDS[1:] and gap < 2.5 * w.box.h and (not right or min(right) > 2 * gap):
            return c[2]
    return None


def _is_header(cells: list[tuple[float, float, str | None]]) -> bool:
    named = {f for *_x, f in cells if f}
    return "quantity" in named and bool(named & {"sku", "description"})


_KEY_SEPARATORS = (":", "-", "–", "=")


def _names_column(ws: list[Word]) -> bool:
    """Whether ``ws`` (a caption's words, its separator still attached) name an item column."""
    text = _caption_text(ws).rstrip("".join(_KEY_SEPARATORS) + " ")
    return bool(text) and _table_field(text) is not None


def _key_values(ctx: Context, k: int) -> bool:
    """Whether row ``k`` is captions each followed by its value ("Item no.: 22013710  Qty: 15",
    "REF - A1146817  Qté - 48  PU-6,39"): one item written as captions and values, not a
    table's header."""
    ws = sorted((ctx.words[i] for i in ctx.sheet.rows()[k]), key=lambda w: w.box.x0)
    pairs = 0
    j = 0
    while j < len(ws):
        w = ws[j]
        glued = next((w.text.index(c) for c in _KEY_SEPARATORS if c in w.text[1:]), None)
        if glued is not None and any(ch.isdigit() for ch in w.text[glued:]) and _table_field(
                _caption_text([w.model_copy(update={"text": w.text[:glued]})])):
            pairs += 1  # "PU-6,39": caption, separator and value in one word
            j += 1
            continue
        value = j + 1
        if value < len(ws) and ws[value].text in _KEY_SEPARATORS:
            value += 1  # "Qté - 48"
        sep = w.text.endswith(_KEY_SEPARATORS) or value == j + 2 or (
            value < len(ws) and ws[value].text[:1] in _KEY_SEPARATORS)  # "REF -A1146817"
        if sep and value < len(ws) and any(ch.isdigit() for ch in ws[value].text) and any(
                j - n + 1 >= 0 and _names_column(ws[j - n + 1:j + 1]) for n in (1, 2, 3)):
            pairs += 1
            j = value + 1
            continue
        j += 1
    return pairs >= 2


Cells = list[tuple[float, float, str | None]]


def _row_cells(ctx: Context, memo: dict[int, Cells], k: int) -> Cells:
    """The header cells of row ``k`` (computed once per row while the tables are read)."""
    got = memo.get(k)
    if got is None:
        words = ctx.words
        got = memo[k] = header_cells([words[i] for i in ctx.sheet.rows()[k]])
    return got


def _table_left(ctx: Context, k: int, cells: Cells) -> float:
    """Where the table under header row ``k`` starts on the left. A header printed beside a block
    of captioned values ("Pack code: 1754252  | Colour  Size  SKU  Units") starts after the
    block: a cell ending with a colon, left of every column caption, and the value after it."""
    named = [c for c in cells if c[2]]
    if not named:
        return float("-inf")
    first = min(x0 for x0, _x1, _f in named)
    words = sorted((ctx.words[i] for i in ctx.sheet.rows()[k]), key=lambda w: w.box.x0)
    left = float("-inf")
    for n, (x0, x1, f) in enumerate(cells[:-2]):
        if x1 > first or f is not None:
            continue
        ends = [w for w in words if x0 <= w.box.x0 and w.box.x1 <= x1]
        if ends and ends[-1].text.endswith(":") and cells[n + 1][2] is None and cells[n + 2][0] <= first:
            left = cells[n + 2][0]
    return left


def _sum_of(values: list[float], v: float) -> bool:
    return len(values) >= 1 and abs(sum(values) - v) <= 0.005 * max(1.0, abs(v))


def _cell_index(cells: Cells, w: Word) -> int | None:
    """The header cell a number stands under (by overlap, else the nearest by its edge)."""
    best, best_ov = None, 0.0
    for n, (x0, x1, _f) in enumerate(cells):
        ov = min(x1, w.box.x1) - max(x0, w.box.x0)
        if ov > best_ov:
            best, best_ov = n, ov
    if best is not None:
        return best
    gaps = sorted((max(c[0] - w.box.x1, w.box.x0 - c[1]), n) for n, c in enumerate(cells))
    return gaps[0][1] if gaps else None


def _quantity_lost(ctx: Context, r: list[int], col_of: dict[int, str | None]) -> bool:
    """On a scan, an item row whose quantity OCR lost: a code or wording, one price and one
    amount under their columns, the amount a whole multiple of the price (the quantity is then
    amount / price; ``ocr_arithmetic`` writes it, below the approval threshold)."""
    words, loc = ctx.words, ctx.loc
    price = [v for i in r if col_of[i] == "unit_price" and (v := parse_number(words[i].text, loc)) is not None]
    amount = [v for i in r if col_of[i] == "amount" and (v := parse_number(words[i].text, loc)) is not None]
    if len(price) != 1 or len(amount) != 1 or price[0] <= 0:
        return False
    if not any(col_of[i] in ("sku", "description") and any(c.isalpha() for c in words[i].text) for i in r):
        return False
    n = round(amount[0] / price[0])
    return n >= 1 and close(n * price[0], amount[0])


def _read_table(ctx: Context, cells: list[tuple[float, float, str | None]], j: int, carried: bool,
                memo: dict[int, Cells], left: float = float("-inf")) -> int:
    """Retag the item rows under a header's ``cells``, from row ``j`` to the end of the table on
    its page (a total row, the next table's header, or the page's end); returns where it
    stopped. ``carried``: the header was printed on an earlier page, so a row is an item only
    when it fills the table's columns (a number under the quantity, a code or wording, and a
    price or amount when the header names one), not any row with a number under "Qty"."""
    tags, loc, words = ctx.tags, ctx.loc, ctx.words
    rows = ctx.sheet.rows()
    named = {f for *_x, f in cells if f}
    # a header that names the price or amount is read whole: other number columns are no line values
    understood = bool(named & {"unit_price", "amount"})
    page = words[rows[j][0]].page if j < len(rows) else -1
    has_item_column = bool(named & {"sku", "description"})
    sums: dict[int | None, list[float]] = {}  # per header cell, the numbers of the item rows
    last_item = -1
    while j < len(rows) and words[rows[j][0]].page == page:
        r = rows[j]
        if left > float("-inf"):
            # words left of the table (a block of captioned values beside it) are no line values
            beside = [i for i in r if words[i].box.x1 < left]
            for i in beside:
                if tags[i].field in LINE_FIELDS:
                    tags[i].field = None
            r = [i for i in r if words[i].box.x1 >= left]
            if not r:
                j += 1
                continue
        if TOTAL_ROW.match(words[r[0]].text):
            ctx.state.setdefault("table_ends", []).append(j)
            break
        ncells = _row_cells(ctx, memo, j)
        if len({f for *_x, f in ncells if f}) >= 3 and "quantity" in {f for *_x, f in ncells}:
            break  # the next table's header
        col_of = {i: _cell_of(cells, words[i]) for i in r}
        qty = [i for i in r if col_of[i] == "quantity" and parse_number(words[i].text, loc) is not None]
        lost = not qty and not carried and ctx.sheet.ocr and _quantity_lost(ctx, r, col_of)
        if qty and carried:
            has = {col_of[i] for i in r if col_of[i] in ("sku", "description")}
            money = [i for i in r if col_of[i] in ("unit_price", "amount") and parse_number(words[i].text, loc) is not None]
            if not has or (understood and not money):
                qty = []
        if qty and has_item_column and not carried and not any(
                col_of[i] in ("sku", "description") and any(c.isalnum() for c in words[i].text) for i in r):
            # numbers only, under a header with a code or wording column: no item. Right under an
            # item row, with every number the sum of its column above: the table's foot (a total
            # row without its caption)
            nums = {i: parse_number(words[i].text, loc) for i in r}
            foot = last_item == j - 1 and all(
                v is not None and _sum_of(sums.get(_cell_index(cells, words[i]), []), v) for i, v in nums.items())
            if foot:
                for i in r:
                    if tags[i].field in LINE_FIELDS:
                        tags[i].field = None
                ctx.state.setdefault("table_ends", []).append(j)
                return j + 1
            qty = []
        if qty or lost:
            last_item = j
            ctx.state["table_items"] = ctx.state.get("table_items", 0) + 1
            for i in r:
                v = parse_number(words[i].text, loc)
                if v is not None:
                    sums.setdefault(_cell_index(cells, words[i]), []).append(v)
        if qty or lost:
            seen: set[str] = set()
            for i in r:
                f = col_of[i]
                t = tags[i]
                if f in ("quantity", "unit_price", "amount"):
                    if parse_number(words[i].text, loc) is None:
                        continue
                elif f == "sku":
                    if t.field == "line_no" and words[i].text.isdigit() and (len(words[i].text) <= 4 or any(
                            tags[j2].field == "sku" and col_of[j2] != "sku" for j2 in r)):
                        # "Item" heads line numbers as often as codes: a short number the model read as
                        # one stays, as does a longer one ("00010") when the row's code stands elsewhere
                        continue
                    # a code has a digit, or is the letter part of one printed with a space ("ABC 0123")
                    mates = [j2 for j2 in r if col_of[j2] == "sku" and j2 != i]
                    if not any(c.isdigit() for c in words[i].text) and not any(
                            any(c.isdigit() for c in words[j2].text) and CODE_PART.match(words[i].text)
                            and abs(words[j2].box.x0 - words[i].box.x1) < 0.6 * words[i].box.h
                            for j2 in mates):
                        continue
                elif f not in LINE_FIELDS or f == "line_no":  # no column, or one that is no line value
                    if t.field in ("quantity", "unit_price", "amount") and (understood or t.field in named):
                        t.field = None  # a number under a column that is no line value
                    continue
                elif f == "uom" and not any(c.isalpha() for c in words[i].text):
                    continue  # a unit is written in letters: a number under a two-row "Unit / Price" is no unit
                elif f == "description" and t.field == "sku" and not any(
                        col_of[j2] == "sku" and tags[j2].field == "sku" for j2 in r) and any(
                        c.isdigit() for c in words[i].text) and CODE_PART.match(words[i].text):
                    continue  # a code printed in the wording's cell ("Article / Description"), no code column
                if t.field != f:
                    t.field, t.score = f, max(t.score, 0.8)
                t.begin = f not in seen
                seen.add(f)
        j += 1
    return j


def table_header(ctx: Context) -> None:
    """Tables with a header the service can read (at least a quantity and a code or wording
    column): every row under it with a number in the quantity column is an item, and its words
    take the field of the column they stand in. Numbers under a column the header does not name
    as a line field (a retail price, a carton count) are not line values."""
    words, tags = ctx.words, ctx.tags
    rows = ctx.sheet.rows()
    carry = bool(ctx.state.get("tables_continue"))
    memo: dict[int, Cells] = {}
    read: list[tuple[int, int, int, bool]] = []  # per table: header row, end row, items, ended at its foot
    k = 0
    while k < len(rows):
        cells = _row_cells(ctx, memo, k)
        if not _is_header(cells) or _key_values(ctx, k):
            k += 1
            continue
        for i in rows[k]:
            if tags[i].field in LINE_FIELDS:
                tags[i].field = None  # a caption is no value
        before = ctx.state.get("table_items", 0)
        j = _read_table(ctx, cells, k + 1, carried=False, memo=memo, left=_table_left(ctx, k, cells))
        read.append((k, j, ctx.state.get("table_items", 0) - before, j - 1 in ctx.state.get("table_ends", ())
                     or j in ctx.state.get("table_ends", ())))
        # A table that runs to the end of its page goes on on the next one, under the same columns,
        # until that page prints a header of its own.
        while carry and 0 < j < len(rows) and words[rows[j][0]].page != words[rows[j - 1][0]].page:
            page = words[rows[j][0]].page
            if any(_is_header(_row_cells(ctx, memo, m)) for m in range(j, len(rows)) if words[rows[m][0]].page == page):
                break
            nj = _read_table(ctx, cells, j, carried=True, memo=memo)
            if nj == j:
                break  # the next page starts with the table's foot: the table ends there
            j = nj
        k = max(j, k + 1)
    _between_tables(ctx, read)


def _between_tables(ctx: Context, read: list[tuple[int, int, int, bool]]) -> None:
    """Items stand under their table's header. When tables were read by their headers, rows
    between the foot of one table and the next header on its page (a section title, the rest
    of a block of captioned values) hold no line values, nor do the rows above the first header
    of a later page (its repeated letterhead) once an earlier page's table held items."""
    words, tags, rows = ctx.words, ctx.tags, ctx.sheet.rows()
    page_of = [words[r[0]].page for r in rows]
    spans: list[tuple[int, int]] = []
    items_before = 0
    seen_pages: set[int] = set()
    for n, (k, j, items, ended) in enumerate(read):
        p = page_of[k]
        if p not in seen_pages:
            seen_pages.add(p)
            if items_before and (n == 0 or page_of[read[n - 1][0]] != p):
                start = next(m for m in range(k + 1) if page_of[m] == p)
                spans.append((start, k))
        if n + 1 < len(read) and ended and items:
            nk = read[n + 1][0]
            if page_of[nk] == p:
                spans.append((j, nk))
        items_before += items
    for a, b in spans:
        for m in range(a, b):
            for i in rows[m]:
                if tags[i].field in LINE_FIELDS:
                    tags[i].field = None


def tables_continue(ctx: Context) -> None:
    """A table that runs to the end of its page continues on the next page under the same
    columns when that page repeats no header (applied by ``table_header``)."""
    ctx.state["tables_continue"] = True


def wrapped_codes(ctx: Context) -> None:
    """An item code broken over two rows of its cell ("ES1323-" / "XOP-9791"): the part the
    model left out, right above or below a code that ends (or whose upper part ends) with a
    joining character, is part of the code."""
    tags = ctx.tags
    words = ctx.words
    rows = ctx.sheet.rows()
    # the upper part of a wrapped code taken for a number ("8559.544." over "153-NU90"): a number
    # does not end with a joining character
    for k, r in enumerate(rows[:-1]):
        for i in r:
            w = words[i]
            if tags[i].field not in NUMERIC or not re.fullmatch(r"[A-Za-z0-9]+(?:[./_-][A-Za-z0-9]+)*[./_-]", w.text):
                continue
            if w.text.endswith(".") and w.text.count(".") < 2:
                continue  # "12." may be a number
            h = w.box.h
            below = [j for j in rows[k + 1] if words[j].page == w.page and abs(words[j].box.x0 - w.box.x0) <= h
                     and tags[j].field in (None, "sku", "description") and CODE_PART.match(words[j].text)
                     and any(c.isdigit() for c in words[j].text)
                     and words[j].box.y0 - w.box.y1 < 1.2 * h]
            if below:
                tags[i].field, tags[i].begin = "sku", True
                tags[below[0]].field, tags[below[0]].begin = "sku", False
    for k, r in enumerate(rows):
        for i in r:
            if tags[i].field != "sku":
                continue
            w = words[i]
            h = w.box.h
            for dk, cond in ((1, lambda a, b: a.text[-1:] in "-./_"), (-1, lambda a, b: b.text[-1:] in "-./_")):
                kk = k + dk
                if not 0 <= kk < len(rows) or words[rows[kk][0]].page != w.page:
                    continue
                for j in rows[kk]:
                    o = words[j]
                    if tags[j].field not in (None, "description") or abs(o.box.x0 - w.box.x0) > h:
                        continue
                    if abs(o.box.cy - w.box.cy) > 2.2 * h:
                        continue
                    if CODE_PART.match(o.text) and any(c.isdigit() for c in o.text) and cond(w, o):
                        tags[j].field, tags[j].score, tags[j].begin = "sku", tags[i].score, dk < 0
                        if dk < 0:
                            tags[i].begin = False


_GROUP = re.compile(r"^\d{3}(?:[.,]\d{1,4})?$")


def digit_groups(ctx: Context) -> None:
    """"30 051": a number whose thousands are set apart by a thin space is one number; the
    group the model left untagged joins the number before it."""
    tags = ctx.tags
    words = ctx.words
    for r in ctx.sheet.rows():
        for a, b in zip(r, r[1:]):
            ta, tb = tags[a], tags[b]
            if ta.field not in NUMERIC or tb.field is not None or not _GROUP.match(words[b].text):
                continue
            if not words[a].text.replace(",", "").replace(".", "").replace(" ", "").isdigit():
                continue
            if 0 <= words[b].box.x0 - words[a].box.x1 <= 0.6 * words[a].box.h:
                tb.field, tb.score, tb.begin = ta.field, ta.score, False
        # "11 317" with only the thousands' group tagged: the leading digits join it
        for a, b in zip(r, r[1:]):
            ta, tb = tags[a], tags[b]
            if tb.field not in NUMERIC or ta.field is not None or not tb.begin:
                continue
            if not re.fullmatch(r"\d{1,3}", words[a].text) or not re.fullmatch(r"\d{3}(?:[.,]\d{1,2})?", words[b].text):
                continue
            if 0 <= words[b].box.x0 - words[a].box.x1 <= 0.6 * words[b].box.h:
                ta.field, ta.score, ta.begin = tb.field, tb.score, True
                tb.begin = False


_ABSORBABLE = frozenset({"quantity", "unit_price", "amount"}) | MULTILINE_FIELDS


def _untagged_description(tags: list[WordTag], r: list[int]) -> None:
    """An item row (quantity and a price or amount) whose wording the model left untagged: the
    run of untagged words at word spacing that the row starts with is its description."""
    fields = {tags[i].field for i in r}
    if "quantity" not in fields or not fields & {"unit_price", "amount"}:
        return
    run: list[int] = []
    for i in r:
        t = tags[i]
        if t.field is not None or t.word.text.endswith(":"):
            break  # a value, or a caption ("Item no.: 4711  Qty: 5"): no wording
        if run:
            a, b = tags[run[-1]].word, t.word
            h = max(1.0, min(a.box.height, b.box.height))
            if b.box.x0 - a.box.x1 > 1.2 * h:
                break
        run.append(i)
    if run and any(c.isalpha() for i in run for c in tags[i].word.text):
        for k, i in enumerate(run):
            tags[i].field, tags[i].begin = "description", k == 0


def description_runs(ctx: Context) -> None:
    """A description is one run of words in its cell. The model tends to drop a brand at its
    start ("Acme arch file") or take a number inside it for the quantity ("A4 50mm black"):
    words next to the description at word spacing (not a column gap away) join it when they are
    untagged, tagged as a party, or tagged with a number field that the row also has elsewhere.
    An item row whose wording the model left untagged gets the run it starts with."""
    from extractors.normalize import normalize_uom
    from intake.core.units import UOM_CODES

    tags = ctx.tags
    words = ctx.words
    for r in ctx.sheet.rows():
        desc = [k for k, i in enumerate(r) if tags[i].field == "description"]
        if not desc:
            _untagged_description(tags, r)
            continue
        lo, hi = min(desc), max(desc)
        first_begins = tags[r[lo]].begin

        def joinable(k: int) -> bool:
            t = tags[r[k]]
            if t.field is None or t.field in MULTILINE_FIELDS:
                return True
            if t.field in _ABSORBABLE:
                return any(tags[j].field == t.field for j in r if j != r[k])
            return False

        def close(a: Word, b: Word) -> bool:  # a left of b at word spacing
            h = max(1.0, min(a.box.height, b.box.height))
            return -0.5 * h <= b.box.x0 - a.box.x1 <= 1.2 * h

        def trailing(k: int) -> bool:
            # a word the model took for a unit or a code, right after the wording in the same
            # cell ("toner cartridge BLK", "spiral pad a4 5x5"), when it is no unit and the row
            # has no other word of that field
            t = tags[r[k]]
            if t.field == "uom":
                return normalize_uom(t.word.text) not in UOM_CODES
            if t.field == "sku":
                return any(tags[j].field == "sku" for j in r if j != r[k]) or not any(
                    c.isdigit() for c in t.word.text) or MEASURE.match(t.word.text) is not None
            return False

        # inside the run (a description word beyond a column gap does not make a run)
        for k in range(lo + 1, hi):
            if tags[r[k]].field != "description" and (joinable(k) or trailing(k)) and close(words[r[k - 1]], words[r[k]]):
                tags[r[k]].field = "description"
        # to the left and right, one word at a time
        while lo > 0 and joinable(lo - 1) and close(words[r[lo - 1]], words[r[lo]]):
            lo -= 1
            tags[r[lo]].field = "description"
        while hi + 1 < len(r) and (joinable(hi + 1) or trailing(hi + 1)) and close(words[r[hi]], words[r[hi + 1]]):
            hi += 1
            tags[r[hi]].field = "description"
        for k in range(lo, hi + 1):
            tags[r[k]].begin = first_begins if k == lo else False


STEPS = [
    Step("tables_continue", tables_continue, "a table without a header on its next page goes on under the same columns"),
    Step("table_header", table_header, "a table header the service reads gives each column its field"),
    Step("wrapped_codes", wrapped_codes, "an item code wrapped over two rows of its cell is one code"),
    Step("digit_groups", digit_groups, "thousands set apart by a thin space are one number"),
    Step("description_runs", description_runs, "a description is one run of words in its cell"),
]
