"""Labelled words -> ``OrderDraft``: header fields as the best span per field, line items by
visual row, values normalised by the document's locale, confidence from the token
probabilities (calibrated when a calibration map is given).

Line items: the words the model tags with a line field are grouped into visual rows
(vertical overlap, per page). A row that holds a quantity, unit price or amount is an item
row and starts a line; other rows (a wrapped description, an item code wrapped onto a second
row) join the item above, or the item just below when they start a description and that item
has none. Pages are walked in order, so a table continued on the next page simply goes on;
repeated table headers and carried totals are "O" words and never enter a row, and a row of
numbers alone whose amount equals the running sum is dropped as a carried total in case the
model tagged it.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from extractors.captions import PARTY_CAPTIONS, party_blocks, rows_below
from extractors.normalize import Locale, detect_locale, parse_currency, parse_date, parse_number, normalize_uom
from intake.domain import Field, LineDraft, OrderDraft, SourceRef, Word

__all__ = ["WordTag", "tag_words", "visual_rows", "assemble", "HEADER_FIELDS", "LINE_FIELDS", "MULTILINE_FIELDS"]

HEADER_FIELDS: tuple[str, ...] = OrderDraft.HEADER_FIELDS
LINE_FIELDS: tuple[str, ...] = ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount")
MULTILINE_FIELDS = frozenset({"buyer", "supplier", "ship_to", "bill_to"})
_ANCHORS = frozenset({"quantity", "unit_price", "amount"})

Calibrator = Callable[[str, float], float]  # (kind "field"|"line", raw score) -> calibrated


@dataclass
class WordTag:
    """A word with the model's reading of it."""

    word: Word
    index: int
    field: str | None  # argmax field, None for O
    begin: bool  # B- more likely than I- for its field
    score: float  # P(B-field) + P(I-field)


def tag_words(words: Sequence[Word], probs: np.ndarray, id2label: dict[int, str]) -> list[WordTag]:
    """Per word: the most likely field (summing B and I), whether it begins a span, and its probability."""
    fields: list[str] = []
    for i in range(len(id2label)):
        lab = id2label[i]
        fields.append("O" if lab == "O" else lab[2:])
    names = sorted({f for f in fields if f != "O"})
    idx_b = {f: id2label_index(id2label, "B-" + f) for f in names}
    idx_i = {f: id2label_index(id2label, "I-" + f) for f in names}
    o_idx = id2label_index(id2label, "O")
    out: list[WordTag] = []
    for k, w in enumerate(words):
        p = probs[k]
        best_f, best_p = None, float(p[o_idx]) if o_idx is not None else 0.0
        for f in names:
            s = float(p[idx_b[f]]) + float(p[idx_i[f]])
            if s > best_p:
                best_f, best_p = f, s
        begin = bool(best_f is not None and p[idx_b[best_f]] >= p[idx_i[best_f]])
        out.append(WordTag(w, k, best_f, begin, best_p))
    return out


def id2label_index(id2label: dict[int, str], label: str) -> int | None:
    for i, lab in id2label.items():
        if lab == label:
            return int(i)
    return None


# The slope (dy/dx) of each page's text lines while :func:`assemble` runs: a scan fed a little
# askew puts the right end of a table row a row higher or lower than its left end.
_SKEW: ContextVar[dict[int, float]] = ContextVar("_SKEW", default={})


def page_skew(words: Sequence[Word]) -> dict[int, float]:
    """Per page, the median slope between neighbouring words of one OCR line (words in reading
    order); 0 for a text layer or a straight scan."""
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


_ROWS_MEMO: dict[tuple, tuple[Sequence[Word], list[list[int]]]] = {}


def visual_rows(words: Sequence[Word]) -> list[list[int]]:
    """Indices of ``words`` grouped into visual rows (per page, by vertical overlap), top to bottom,
    each row left to right. On a skewed scan rows follow the page's slope. The checks after the
    model ask for the rows of the same words many times: the last few answers are kept."""
    skew = _SKEW.get()
    key = (tuple(map(id, words)), tuple(sorted(skew.items())) if skew else ())
    hit = _ROWS_MEMO.get(key)
    if hit is not None and len(hit[0]) == len(words) and all(a is b for a, b in zip(hit[0], words)):
        return [list(r) for r in hit[1]]
    rows = _visual_rows(words, skew)
    if len(_ROWS_MEMO) >= 16:
        _ROWS_MEMO.pop(next(iter(_ROWS_MEMO)))
    _ROWS_MEMO[key] = (list(words), [list(r) for r in rows])
    return rows


def _visual_rows(words: Sequence[Word], skew: dict[int, float]) -> list[list[int]]:
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


def _union(words: Sequence[Word]) -> list[SourceRef]:
    return _union_refs([SourceRef(page=w.page, box=w.box) for w in words])


def _union_refs(refs: Sequence[SourceRef]) -> list[SourceRef]:
    """One box per page around ``refs``."""
    by_page: dict[int, list[SourceRef]] = {}
    for r in refs:
        by_page.setdefault(r.page, []).append(r)
    return [SourceRef(page=p, box=(min(r.box[0] for r in rs), min(r.box[1] for r in rs),
                                   max(r.box[2] for r in rs), max(r.box[3] for r in rs)))
            for p, rs in sorted(by_page.items())]


def _rtl(text: str) -> bool:
    """Whether a row is written right to left (Hebrew, Arabic): most of its letters are."""
    rtl = sum(1 for c in text if "\u0590" <= c <= "\u08ff")
    return rtl > 0 and rtl * 2 > sum(1 for c in text if c.isalpha())


def _row_text(ws: Sequence[Word]) -> str:
    """A row's words in reading order: left to right, or right to left in a Hebrew or Arabic row."""
    text = " ".join(w.text for w in ws)
    if _rtl(text):
        return " ".join(w.text for w in sorted(ws, key=lambda w: -w.box[0]))
    return text


def _text(words: Sequence[Word], multiline: bool, joiner: str = " ") -> str:
    """Words in visual order: a row's words joined by spaces, rows by ", " (multi-line blocks) or ``joiner``."""
    rows = visual_rows(words)
    parts = [_row_text([words[i] for i in r]) for r in rows]
    if multiline:
        parts = [p.strip().rstrip(",").strip() for p in parts]
        return ", ".join(p for p in parts if p)
    out = ""
    for p in parts:
        if not out:
            out = p
        elif joiner == "" or out.endswith("-"):
            out += p
        else:
            out += joiner + p
    return out.strip()


_DATE_SHAPE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-](\d{2}|\d{4})$")


def _value(field: str, raw: str, loc: Locale) -> object:
    if field in ("order_date", "requested_date"):
        return parse_date(raw, loc)
    if field in ("total", "quantity", "unit_price", "amount"):
        if _DATE_SHAPE.match(raw.strip()) or raw.strip().endswith("%"):
            return None  # "11.12.2025" is a date, not 11,122,025; "100%" a share, not an amount
        return parse_number(raw, loc)
    if field == "currency":
        return parse_currency(raw)
    if field == "uom":
        return normalize_uom(raw)
    if field == "line_no":
        n = parse_number(raw.strip().rstrip(".").strip(), loc)
        return int(n) if n is not None and float(n).is_integer() else raw.strip()
    if field == "sku" and len(set(raw.strip())) == 1:
        return None  # "0000000000": a placeholder, not an item code
    if field == "po_number" and (not any(c.isdigit() for c in raw) or _DATE_SHAPE.match(raw.strip())
                                 or re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip())):
        return None  # an order number has a digit and is no date: "John" is a name
    if field in ("po_number", "sku"):
        # Captions and brackets that cling to a code ("#4711", "(AB-12)", "EVY-370),") are not part of it.
        v = raw.strip().strip(":#,;").strip()
        if v.endswith(")") and "(" not in v:
            v = v[:-1]
        if v.startswith("(") and ")" not in v:
            v = v[1:]
        return v.strip() or None
    return raw.strip() or None


_NUMERIC = frozenset({"quantity", "unit_price", "amount", "total", "line_no"})
_COMPACT = frozenset({"po_number", "order_date", "requested_date", "currency", "total", "line_no", "sku",
                      "quantity", "uom", "unit_price", "amount"})


def _clusters(tags: Sequence[WordTag], numeric: bool) -> list[list[WordTag]]:
    """Words that sit together: same row and a gap under a fraction of the word height
    (a number's thin-space groups: "1 234,56"), or, for codes, the next row in the same column
    (an item code wrapped in its cell). Two numbers in two columns are two clusters."""
    words = [t.word for t in tags]
    rows = visual_rows(words)
    out: list[list[int]] = []
    for r in rows:
        cur = [r[0]]
        for i in r[1:]:
            prev = words[cur[-1]]
            h = max(1.0, prev.box[3] - prev.box[1])
            gap = words[i].box[0] - prev.box[2]
            if gap <= (0.6 if numeric else 1.5) * h:
                cur.append(i)
            else:
                out.append(cur)
                cur = [i]
        out.append(cur)
    if not numeric:
        merged: list[list[int]] = []
        for c in out:
            if merged:
                last = merged[-1]
                a0, a1 = min(words[i].box[0] for i in last), max(words[i].box[2] for i in last)
                b0, b1 = min(words[i].box[0] for i in c), max(words[i].box[2] for i in c)
                lw, cw = words[last[-1]], words[c[0]]
                h = max(1.0, lw.box[3] - lw.box[1])
                below = cw.page == lw.page and 0 <= cw.box[1] - lw.box[1] <= 2.2 * h
                if below and min(a1, b1) - max(a0, b0) > 0:
                    last.extend(c)
                    continue
            merged.append(c)
        out = merged
    return [[tags[i] for i in c] for c in out]


def _field(field: str, tags: Sequence[WordTag], loc: Locale, kind: str, cal: Calibrator | None,
           multiline: bool = False, joiner: str = " ") -> Field:
    if field in _COMPACT and len(tags) > 1:
        # A value printed once is one cluster of words: of several, take the likeliest that parses.
        best: Field | None = None
        best_s = -1.0
        for c in _clusters(tags, field in _NUMERIC):
            f = _field_of(field, c, loc, kind, cal, multiline, joiner)
            s = float(np.mean([t.score for t in c])) + (1.0 if f.present else 0.0)
            if s > best_s:
                best, best_s = f, s
        if best is not None:
            return best
    return _field_of(field, tags, loc, kind, cal, multiline, joiner)


def _field_of(field: str, tags: Sequence[WordTag], loc: Locale, kind: str, cal: Calibrator | None,
              multiline: bool = False, joiner: str = " ") -> Field:
    words = [t.word for t in tags]
    raw = _text(words, multiline, joiner)
    value = _value(field, raw, loc)
    if multiline and value:
        # a block keeps its rows in ``raw`` (one per line); the value joins them with ", "
        raw = "\n".join(_row_text([words[i] for i in r]).strip().rstrip(",").strip() for r in visual_rows(words))
    score = float(np.mean([t.score for t in tags])) if tags else 0.0
    if value is None or value == "":
        # A tagged span that does not parse is not a value; keep what was printed for review.
        return Field(value=None, raw=raw or None, confidence=0.0, source=_union(words))
    conf = cal(kind, score) if cal else score
    return Field(value=value, raw=raw, confidence=float(min(1.0, max(0.0, conf))), source=_union(words))


def _header_instances(tags: Sequence[WordTag]) -> list[list[WordTag]]:
    """Split one field's words (in reading order) into spans: at a B tag, a page change or a jump."""
    inst: list[list[WordTag]] = []
    for t in tags:
        if inst:
            last = inst[-1][-1].word
            h = max(1.0, last.box[3] - last.box[1])
            far = (t.word.page != last.page or t.word.box[1] - last.box[3] > 2.5 * h
                   or last.box[1] - t.word.box[3] > 2.5 * h)
            if not t.begin and not far:
                inst[-1].append(t)
                continue
        inst.append([t])
    return inst


def assemble(
    words: Sequence[Word],
    probs: np.ndarray,
    id2label: dict[int, str],
    locale: Locale | None = None,
    calibrator: Calibrator | None = None,
    extractor: str = "model",
    model_version: str | None = None,
) -> OrderDraft:
    """The order the labelled words spell. ``probs`` holds per-word label probabilities."""
    if len(words) != len(probs):
        raise ValueError(f"{len(words)} words but {len(probs)} probability rows")
    token = _SKEW.set(page_skew(words))
    try:
        return _assemble(words, probs, id2label, locale, calibrator, extractor, model_version)
    finally:
        _SKEW.reset(token)


def _assemble(words: Sequence[Word], probs: np.ndarray, id2label: dict[int, str], locale: Locale | None,
              calibrator: Calibrator | None, extractor: str, model_version: str | None) -> OrderDraft:
    loc = locale or detect_locale([w.text for w in words])
    tags = tag_words(words, probs, id2label)
    draft = OrderDraft(extractor=extractor, model_version=model_version)

    # Party blocks (buyer, supplier, ship-to, bill-to): side-by-side address blocks interleave in
    # reading order, and a word of one block is easily tagged with its neighbour's field. The
    # words are grouped into blocks by geometry and each block takes the field its words vote
    # for, so a block is never split between two fields.
    lost_parties = _vote_blocks(tags, probs, id2label)

    # Header: the best-scoring span per field.
    party_spans: list[tuple[float, Field]] = []  # every buyer or supplier span read, with its score
    for blk in lost_parties:
        fld = _field(blk[0].field, blk, loc, "field", calibrator, multiline=True)
        if fld.present:
            party_spans.append((float(np.mean([t.score for t in blk])), fld))
    for f in HEADER_FIELDS:
        ft = [t for t in tags if t.field == f]
        if not ft:
            continue
        best: Field | None = None
        best_score = -1.0
        for inst in _header_instances(ft):
            fld = _field(f, inst, loc, "field", calibrator, multiline=f in MULTILINE_FIELDS)
            s = float(np.mean([t.score for t in inst])) + (0.5 if fld.present else 0.0)
            if f in _NAMED_PARTIES and fld.present:
                party_spans.append((s, fld))
            if s > best_score:
                best, best_score = fld, s
        if best is not None:
            if f in _NAMED_PARTIES and isinstance(best.value, str):
                best = _party_name(best)
            setattr(draft, f, best)
    _trailing_caption(draft)
    _value_of_other_caption(draft, words, ("po_number",))
    _caption_check(draft, words, loc)
    _sales_document_roles(draft, words)
    _party_caption_check(draft, words)
    _value_of_other_caption(draft, words, tuple(sorted(MULTILINE_FIELDS)))
    _name_not_street(draft, words)
    _supplier_not_addressee(draft)
    for f in MULTILINE_FIELDS:
        if getattr(draft, f).present and not _plausible_party(str(getattr(draft, f).value)):
            setattr(draft, f, Field())
    _buyer_from_delivery(draft)
    _supplier_from_other_span(draft, words, party_spans)
    if not draft.currency.present:
        # A currency printed inside the total ("€ 1.234,50") or beside the amounts.
        src = draft.total.raw or ""
        code = parse_currency(src) if src else None
        if code:
            draft.currency = Field(value=code, raw=src, confidence=draft.total.confidence * 0.9,
                                   source=draft.total.source)

    if not draft.currency.present:
        draft.currency = _document_currency(words)

    _header_tables(tags, loc)
    _vote_columns(tags, probs, id2label, loc)
    _join_wrapped_codes(tags)
    _join_digit_groups(tags)
    _mend_descriptions(tags)
    draft.lines = _lines([t for t in tags if t.field in LINE_FIELDS], loc, calibrator)
    if not draft.lines:
        draft.lines = _key_value_item(words, loc)
    _check_arithmetic(draft.lines, words, loc)
    _arithmetic_by_columns(draft.lines, words, loc)
    draft.lines = _without_sums_row(draft.lines)
    repaired: list[tuple[LineDraft, str]] = []
    if any(w.conf is not None for w in words):
        _ocr_code_shapes(draft.lines)
        repaired = _ocr_arithmetic(draft.lines, words, loc)
    _line_confidence(draft.lines)
    _total_not_a_count(draft)
    for ln, key in repaired:  # a value read by arithmetic, not as printed: a CSR looks at it
        fld = getattr(ln, key)
        setattr(ln, key, fld.model_copy(update={"confidence": min(fld.confidence, REPAIRED_CONF)}))
    matrix = _size_matrix(words, loc)
    if matrix:  # a colour-by-size matrix is read by its grid, not by the model's tags
        draft.lines = matrix
        if draft.total.present and draft.total.source:
            # the matrix's sums row is pieces, not money
            top = min(r.box[1] for ln in matrix for r in ln.description.source)
            bottom = max(r.box[3] for ln in matrix for r in ln.description.source)
            h = max(1.0, bottom - top) / max(1, len(matrix))
            if all(top - 3 * h <= r.box[1] <= bottom + 2 * h for r in draft.total.source):
                draft.total = Field()
    elif draft.lines and not any(ln.sku.present for ln in draft.lines):
        # an order for one article ("Product No: 0570002" in the header): its lines are that article
        art = _article_code(words, visual_rows(words))
        if art is not None:
            for ln in draft.lines:
                ln.sku = Field(value=art.text, raw=art.text, confidence=MATRIX_CONF, source=_union([art]))
    return draft


_MONEY_SHAPE = re.compile(r"^\d{1,3}(?:[,.\s]\d{3})*[.,]\d{2}$|^\d+[.,]\d{2}$")


def _without_sums_row(lines: list[LineDraft]) -> list[LineDraft]:
    """The table's sums row read as one more item: its quantity is the sum of the other lines'
    quantities (or of the lines right above it), it has no unit price, and it names no item (no
    code and no wording, or a "code" shaped like money: the sum of the amounts, "10615.75"). It
    is dropped."""
    if len(lines) < 3:
        return lines
    qty = [_num(ln.quantity) for ln in lines]
    out = []
    for k, ln in enumerate(lines):
        money_code = ln.sku.present and bool(_MONEY_SHAPE.match(str(ln.sku.value).strip()))
        # a sums row names no item: no code and no wording, or the amounts' sum where the code goes
        if qty[k] is None or ln.unit_price.present or not (money_code or not (ln.sku.present or ln.description.present)):
            out.append(ln)
            continue
        others = [q for j, q in enumerate(qty) if j != k and q is not None]
        # the sum of all the other lines, or of the two or more lines right above it
        above = [sum(q or 0 for q in qty[j:k]) for j in range(0, k - 1) if all(q is not None for q in qty[j:k])]
        if (len(others) >= 2 and _close(sum(others), qty[k])) or any(_close(a, qty[k]) for a in above):
            continue
        out.append(ln)
    if len(out) < len(lines):
        for i, ln in enumerate(out, 1):
            if ln.line_no.present and _num(ln.line_no) != i:
                ln.line_no = ln.line_no.model_copy(update={"value": i})
    return out


_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "S": "5", "$": "5", "B": "8", "Z": "2"})


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


REPAIRED_CONF = 0.8  # below the decision's 0.9: a repaired line is shown to a CSR


def _ocr_arithmetic(lines: list[LineDraft], words: Sequence[Word], loc: Locale) -> list[tuple[LineDraft, str]]:
    """On a scan, quantity x price = amount repairs what OCR misread in one of the three: a
    quantity printed "25°." (amount / price = 25, and the word starts with 25), a price read
    "7.12" where amount / quantity = 1.12, an amount one digit off, "$5.73" for 55.73. Returns the
    repaired (line, field) pairs."""
    repaired: list[tuple[LineDraft, str]] = []
    for ln in lines:
        q, p, a = _num(ln.quantity), _num(ln.unit_price), _num(ln.amount)
        if q is not None and p is not None and a is not None and _close(q * p, a):
            continue
        conf = min((f.confidence for f in (ln.quantity, ln.unit_price, ln.amount) if f.present), default=0.5)
        taken = {(r.page, r.box) for f in (ln.quantity, ln.unit_price, ln.amount) if f.present for r in f.source}
        row = [w for w in _row_words(ln, words) if (w.page, w.box) not in taken]

        def put(key: str, v: float, raw: str, src: list[SourceRef]) -> None:
            setattr(ln, key, Field(value=v, raw=raw, confidence=min(conf, REPAIRED_CONF), source=src))
            repaired.append((ln, key))

        if q is None and p and a is not None:
            v = a / p
            if v >= 1 and abs(v - round(v)) < 1e-6 * max(1.0, v):
                n = str(int(round(v)))
                w = next((w for w in row if re.match(r"\d+", w.text) and re.match(r"\d+", w.text).group() == n), None)
                if w is not None:
                    put("quantity", float(n), w.text, [SourceRef(page=w.page, box=w.box)])
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
                        if pv is not None and _close(q * pv, a):
                            put("unit_price", float(pv), w.text, [SourceRef(page=w.page, box=w.box)])
                            break
                    continue
        if q and p is not None and a is not None and _one_char_off(_fmt_like(q * p, ln.amount.raw or ""), ln.amount.raw or ""):
            put("amount", round(q * p, 2), ln.amount.raw or "", ln.amount.source)
    return repaired


def _row_words(ln: LineDraft, words: Sequence[Word]) -> list[Word]:
    """The words printed on a line's own row(s), by the vertical span of its values."""
    refs = [r for f in ("quantity", "unit_price", "amount", "sku", "description") for r in getattr(ln, f).source]
    if not refs:
        return []
    page = refs[0].page
    y0 = min(r.box[1] for r in refs if r.page == page)
    y1 = max(r.box[3] for r in refs if r.page == page)
    return [w for w in words if w.page == page and y0 - 1 <= (w.box[1] + w.box[3]) / 2 <= y1 + 1]


# Characters OCR confuses between letters and digits, each way.
_AS_LETTER = {"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "$": "S"}
_AS_DIGIT = {"O": "0", "I": "1", "l": "1", "S": "5", "B": "8", "Z": "2", "o": "0"}


def _shape(code: str) -> str:
    return "".join("L" if c.isalpha() else "D" if c.isdigit() else c for c in code)


def _ocr_code_shapes(lines: list[LineDraft]) -> None:
    """Item codes of one table share a shape (letter + 7 digits, "AB.123.456"). On a scan, a code
    one confusable character off its column's shape ("12744610" among "G1901530", "K1288247", ...)
    is read with that character as the shape says (I, not 1)."""
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
        common = max(set(shapes), key=shapes.count)
        n = shapes.count(common)
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


# Measured on held-out synthetic layouts (120 documents) and real POs of unseen issuers: a line
# whose quantity x price equals its amount was right 98 % of the time (717 of 733); one that does
# not add up 62 % (31 of 50); one missing its quantity or price, in a document whose other lines
# have both, 25 % (26 of 106).
ADDS_UP_CONF = 0.97
NOT_ADDING_UP_CONF = 0.6
INCOMPLETE_CONF = 0.3


def _num(f: Field) -> float | None:
    """A field's numeric value (None when absent or not a number)."""
    return float(f.value) if isinstance(f.value, (int, float)) and not isinstance(f.value, bool) else None


def _line_confidence(lines: list[LineDraft]) -> None:
    """Line confidence checked by arithmetic: the model's probabilities do not know whether a
    line adds up; the printed figures do."""
    priced = any(_num(ln.quantity) is not None and _num(ln.unit_price) is not None for ln in lines)

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
        q, p, a = _num(ln.quantity), _num(ln.unit_price), _num(ln.amount)
        if q is not None and p is not None and a is not None:
            if _close(q * p, a):
                for f in ("quantity", "unit_price", "amount"):
                    fld: Field = getattr(ln, f)
                    setattr(ln, f, fld.model_copy(update={"confidence": max(fld.confidence, ADDS_UP_CONF)}))
            else:
                cap(ln, NOT_ADDING_UP_CONF)
        elif priced and (q is None or p is None):
            cap(ln, INCOMPLETE_CONF)


_SALES_TITLE = re.compile(
    r"(?i)\b(quotation|sales order|order confirmation|pro ?forma|devis|confirmation de commande|angebot|"
    r"auftragsbestätigung|auftragsbestaetigung|presupuesto|confirmación de pedido|offerte|orderbevestiging|"
    r"preventivo|conferma d'ordine)\b")
_PURCHASE_TITLE = re.compile(
    r"(?i)\b(purchase order|bon de commande|bestellung|orden de compra|pedido de compra|inkooporder|"
    r"ordine d'acquisto)\b")


def _sales_document_roles(draft: OrderDraft, words: Sequence[Word]) -> None:
    """A quotation or sales order confirmation is written by the seller to the buyer: the block
    it is addressed to is the buyer, where on a purchase order it is the supplier. The model
    learnt purchase orders, so on a sales document its buyer and supplier are swapped."""
    top = [w for w in words if w.page == 0]
    top.sort(key=lambda w: (w.box[1], w.box[0]))
    text = " ".join(w.text for w in top[:80])
    if not _SALES_TITLE.search(text) or _PURCHASE_TITLE.search(text):
        return
    draft.buyer, draft.supplier = draft.supplier, draft.buyer
    draft.meta["document_type"] = "sales"


def _trailing_caption(draft: OrderDraft) -> None:
    """Free-text terms that run into the next caption ("30 días fecha factura Solicitante:") end
    before it."""
    fld = draft.payment_terms
    if not fld.present or not isinstance(fld.value, str):
        return
    toks = fld.value.split()
    while len(toks) > 1 and toks[-1].endswith(":"):
        toks.pop()
    if len(toks) < len(fld.value.split()):
        setattr(draft, "payment_terms", fld.model_copy(update={"value": " ".join(toks)}))


def _total_not_a_count(draft: OrderDraft) -> None:
    """A "Total" equal to the pieces ordered, on lines priced to another sum, counts pieces: it
    is no order total ("Total: 11 317" under a quantity table)."""
    t = _num(draft.total)
    if t is None or not draft.lines:
        return
    qty = [q for q in (_num(ln.quantity) for ln in draft.lines) if q is not None]
    if not qty or not _close(sum(qty), t):
        return
    money = [(_num(ln.amount) if ln.amount.present else (_num(ln.quantity) or 0) * (_num(ln.unit_price) or 0))
             for ln in draft.lines if ln.unit_price.present or ln.amount.present]
    if money and not _close(sum(m or 0 for m in money), t):
        draft.total = Field()


def _plausible_party(value: str) -> bool:
    """A party is named by words: not a stray sign ("&"), a legal form alone ("Ltd"), or a list
    of captions and values ("Development No: 1128483D, Country of Production: Bangladesh")."""
    letters = sum(1 for c in value if c.isalpha())
    if letters < 3:
        return False
    if _LEGAL_FORM.fullmatch(value.strip().strip(".,")):
        return False
    return sum(1 for t in value.split() if t.endswith(":")) < 2


def _value_of_other_caption(draft: OrderDraft, words: Sequence[Word], fields: Sequence[str]) -> None:
    """A party read from the value of another key of the header grid ("Department  432 BOYS",
    "Category  432004 HOODIES & SWEAT") or from such a caption itself ("Factory  41098223") is
    no party, and an order number printed after "Article No." is no order number: the field is
    left empty (for the order number, for a caption of its own to fill) rather than filled with
    a department or another code."""
    for f in fields:
        fld: Field = getattr(draft, f)
        if fld.present and _of_other_caption(fld, words, f):
            setattr(draft, f, Field())


def _of_other_caption(fld: Field, words: Sequence[Word], f: str) -> bool:
    """Whether ``fld`` (read as field ``f``) is printed as the value of another key's caption,
    or starts with such a caption."""
    from extractors.captions import caption_left_of, other_caption, starts_with_other_caption

    if not fld.source:
        return False
    src = fld.source[0]
    inside = [w for w in words if w.page == src.page and w.box[0] >= src.box[0] - 0.5
              and w.box[2] <= src.box[2] + 0.5 and w.box[1] >= src.box[1] - 0.5 and w.box[3] <= src.box[3] + 0.5]
    if not inside:
        return False
    top = min(w.box[1] for w in inside)
    h = max(1.0, min(w.box[3] - w.box[1] for w in inside))
    first = min((w for w in inside if w.box[1] - top < 0.5 * h), key=lambda w: w.box[0])
    cap = caption_left_of(words, first)
    return (cap is not None and other_caption(cap, f)) or starts_with_other_caption(words, first, f)


def _supplier_not_addressee(draft: OrderDraft) -> None:
    """The supplier ships to and bills the buyer, never itself: a supplier named like the ship-to
    or bill-to party is the buyer, read with the roles swapped (a seller's order confirmation the
    title did not give away)."""
    s = draft.supplier
    if not s.present:
        return
    for src in (draft.ship_to, draft.bill_to):
        if not src.present:
            continue
        name = str(src.raw or src.value).split("\n")[0].split(", ")[0].strip()
        if _same_text(name, s.value) and not (draft.buyer.present and _same_text(draft.buyer.value, name)):
            draft.buyer, draft.supplier = draft.supplier, draft.buyer
            draft.meta["document_type"] = "sales"
            return


_STREET_START = re.compile(r"^\d+[a-zA-Z]?[,.]?\s+\S")


def _name_not_street(draft: OrderDraft, words: Sequence[Word]) -> None:
    """A buyer or supplier read as a street line ("1725 Slough Ave.") took the address under
    the name: the party's name is the row right above it in the same column."""
    for f in _NAMED_PARTIES:
        fld: Field = getattr(draft, f)
        if not fld.present or not _STREET_START.match(str(fld.value)) or _LEGAL_FORM.search(str(fld.value)):
            continue
        if not fld.source:
            continue
        src = fld.source[0]
        x0, y0 = src.box[0], src.box[1]
        above = [w for w in words if w.page == src.page and w.box[3] <= y0 + 1 and y0 - w.box[3] < 12
                 and abs(w.box[0] - x0) < 6]
        if not above:
            continue
        first = max(above, key=lambda w: w.box[3])
        h = max(1.0, first.box[3] - first.box[1])
        row = sorted((w for w in words if w.page == src.page and abs(w.box[1] - first.box[1]) < 0.5 * h
                      and w.box[0] >= first.box[0] - 1), key=lambda w: w.box[0])
        run = [row[0]]
        for w in row[1:]:
            if w.box[0] - run[-1].box[2] > 1.5 * h:
                break
            run.append(w)
        name = " ".join(w.text for w in run).strip().rstrip(",")
        if sum(c.isalpha() for c in name) < 2 or name.endswith(":"):
            continue
        setattr(draft, f, Field(value=name, raw=name + "\n" + str(fld.raw or fld.value),
                                confidence=min(0.6, fld.confidence), source=_union(run) + list(fld.source)))


def _buyer_from_delivery(draft: OrderDraft) -> None:
    """Most buyers have the goods delivered to, or the invoice sent to, themselves. When the
    buyer read is no company name (absent, or an address fragment such as "Hyderabad 500072")
    and the bill-to or ship-to block starts with one, that company is the buyer."""
    b = draft.buyer
    bv = str(b.value) if b.present else ""
    if b.present and (_LEGAL_FORM.search(bv) or not any(c.isdigit() for c in bv)) and len(bv) > 3:
        return
    for src in (draft.bill_to, draft.ship_to):
        if not src.present:
            continue
        first = str(_party_name(src).value).split("\n")[0].strip()
        if _LEGAL_FORM.search(first):
            draft.buyer = Field(value=first, raw=src.raw, confidence=min(0.6, src.confidence), source=src.source)
            return


def _supplier_from_other_span(draft: OrderDraft, words: Sequence[Word], spans: list[tuple[float, Field]]) -> None:
    """A missing supplier, when the buyer is the addressee (the company goods and invoice go
    to): the other company the model read as a party, elsewhere on the page, is the supplier
    (a seller's letterhead over its order confirmation, "YourCompany / 1725 Slough Ave.")."""
    if draft.supplier.present or not draft.buyer.present:
        return
    names = [str(_party_name(src).value).split("\n")[0].split(", ")[0].strip()
             for src in (draft.ship_to, draft.bill_to) if src.present]
    if not any(_same_text(n, draft.buyer.value) for n in names):
        return
    taken = [r for f in MULTILINE_FIELDS for r in getattr(draft, f).source]
    for _s, fld in sorted(spans, key=lambda p: -p[0]):
        if not fld.source or any(r.page == t.page and _boxes_meet(r.box, t.box) for r in fld.source for t in taken):
            continue
        trial = OrderDraft(supplier=_party_name(fld))
        _name_not_street(trial, words)
        cand = trial.supplier
        if not cand.present or not _plausible_party(str(cand.value)) or any(_same_text(cand.value, n) for n in names):
            continue
        if _of_other_caption(cand, words, "supplier"):
            continue
        draft.supplier = cand.model_copy(update={"confidence": min(0.6, cand.confidence)})
        draft.meta["document_type"] = "sales"
        return


def _boxes_meet(a: Sequence[float], b: Sequence[float]) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0 and min(a[3], b[3]) - max(a[1], b[1]) > 0


PARTY_CAPTION_CONF = 0.85  # a party block only its caption names: a CSR confirms it


def _box_of(ws: Sequence[Word]) -> tuple[float, float, float, float]:
    return (min(w.box[0] for w in ws), min(w.box[1] for w in ws), max(w.box[2] for w in ws), max(w.box[3] for w in ws))


def _within(fld: Field, ws: Sequence[Word]) -> bool:
    """Whether every source box of ``fld`` lies inside the box of ``ws`` (on its page)."""
    if not fld.source or not ws:
        return False
    box, page = _box_of(ws), ws[0].page
    return all(r.page == page and _inside(box, r.box) for r in fld.source)


def _complete_down(draft: OrderDraft, f: str, words: Sequence[Word]) -> None:
    """An address block the model tagged in part ("DP world Unit 11 / Jebel Ali Free Zone" over an
    untagged "DUBAI / UNITED ARAB EMIRATES") takes the rows that continue it below, aligned with
    it and at its line spacing."""
    fld: Field = getattr(draft, f)
    if not fld.present or len(fld.source) != 1:
        return
    src = fld.source[0]
    mine = [w for w in words if w.page == src.page and _inside(src.box, w.box)]
    more = rows_below(words, mine)
    if not more:
        return
    raw = str(fld.raw or fld.value) + "\n" + "\n".join(" ".join(w.text for w in r).strip().rstrip(",") for r in more)
    ws = mine + [w for r in more for w in r]
    setattr(draft, f, fld.model_copy(update={"value": ", ".join(p for p in raw.split("\n") if p), "raw": raw,
                                             "source": _union(ws)}))


def _mostly_within(fld: Field, ws: Sequence[Word]) -> bool:
    """Whether most of ``fld``'s source area lies inside the box of ``ws``."""
    if not fld.source or not ws:
        return False
    b, page = _box_of(ws), ws[0].page
    total = inter = 0.0
    for r in fld.source:
        a = max(1.0, (r.box[2] - r.box[0]) * (r.box[3] - r.box[1]))
        total += a
        if r.page == page:
            iw = min(r.box[2], b[2]) - max(r.box[0], b[0])
            ih = min(r.box[3], b[3]) - max(r.box[1], b[1])
            inter += max(0.0, iw) * max(0.0, ih)
    return inter >= 0.6 * total


def _party_caption_check(draft: OrderDraft, words: Sequence[Word]) -> None:
    """Party blocks named by a caption ("Ship To:", "Vendor", "Invoice and shipping address:",
    extractors/captions.py) are read whole: the block fills a party the model left empty,
    completes one the model tagged in part, and replaces one the model read from another place
    when the model is unsure of it. A party the model read inside another party's captioned
    block is not that party (a word of the ship-to block tagged as the buyer)."""
    blocks: dict[str, object] = {}
    for blk in party_blocks(words):
        if blk.caption in _ROLE_CAPTIONS and len(blk.rows) < 2 and not _LEGAL_FORM.search(blk.text):
            continue  # "Buyer: Lauren Payne": the purchasing agent, not the buying company
        for f in blk.fields:
            blocks.setdefault(f, blk)
    ocr = any(w.conf is not None for w in words)
    if not ocr:
        for f in ("ship_to", "bill_to"):
            if f not in blocks:
                _complete_down(draft, f, words)
    if not blocks:
        return
    for f, blk in blocks.items():
        cur: Field = getattr(draft, f)
        ws = blk.words
        new = Field(value=blk.text, raw=blk.raw, confidence=PARTY_CAPTION_CONF, source=_union(ws))
        if f in _NAMED_PARTIES:
            new = _party_name(new)
        if cur.present and _same_text(cur.value, new.value):
            setattr(draft, f, cur.model_copy(update={"confidence": max(cur.confidence, CAPTION_AGREES_CONF)}))
            continue
        if cur.present and _within(cur, ws) and not ocr:
            setattr(draft, f, new.model_copy(update={"confidence": max(cur.confidence, PARTY_CAPTION_CONF)}))
            continue
        if cur.present and (ocr or cur.confidence >= PARTY_REPLACE_BELOW):
            continue  # OCR rows of a block can interleave: on a scan the caption only fills a gap
        setattr(draft, f, new)
    for f in MULTILINE_FIELDS:
        cur = getattr(draft, f)
        if f in blocks or not cur.present:
            continue
        inside = next((b for g, b in blocks.items() if _mostly_within(cur, b.words)), None)
        if inside is None:
            continue
        if f == "buyer" and {"ship_to", "bill_to"} & set(inside.fields):
            # the goods go to the buyer: its name heads the delivery block
            name = _party_name(Field(value=inside.text, raw=inside.raw, confidence=0.6, source=_union(inside.words)))
            setattr(draft, f, name.model_copy(update={"confidence": min(0.6, cur.confidence)}))
        else:
            setattr(draft, f, Field())


PARTY_REPLACE_BELOW = 0.9
# Captions that also name a person's role in the buying company.
_ROLE_CAPTIONS = frozenset({"buyer", "purchaser", "acheteur", "käufer", "comprador", "koper", "ordered by",
                            "besteller", "solicitante"})
CAPTION_ONLY_CONF = 0.9  # a value only a caption vouches for (captions.py: 14 of 15 right on real POs)
CAPTION_AGREES_CONF = 0.97


def _caption_check(draft: OrderDraft, words: Sequence[Word], loc: Locale) -> None:
    """Key header values against their captions (extractors/captions.py): a caption's value fills
    a field the model left empty, replaces a model value no caption vouches for, and raises the
    confidence of a value both read. Totals take the last total caption (the grand total comes
    last)."""
    from extractors.captions import caption_values

    found = caption_values(words, loc)
    for f in ("po_number", "order_date", "requested_date", "total"):
        vals = found.get(f)
        if not vals:
            continue
        pool = [v for v in vals if not v.qualified] or vals  # "Order Number" before "Bulk Order Number"
        if f == "order_date" and all(v.qualified for v in pool):
            continue  # "Launch Date", "Shipment Date": other dates, never the order's
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
        setattr(draft, f, Field(value=cv.value, raw=raw, confidence=CAPTION_ONLY_CONF, source=_union(cv.words)))
    for f in ("currency", "payment_terms"):
        vals = found.get(f)
        if not vals:
            continue
        cv = vals[0]
        cur = getattr(draft, f)
        if cur.present and _same_text(cur.value, cv.value):
            setattr(draft, f, cur.model_copy(update={"confidence": max(cur.confidence, CAPTION_AGREES_CONF)}))
            continue
        if cur.present and f == "payment_terms" and not _fold_text(str(cur.value)) in _fold_text(str(cv.value)):
            continue  # free text the caption does not contain: the model read other terms
        setattr(draft, f, Field(value=cv.value, raw=" ".join(w.text for w in cv.words),
                                confidence=CAPTION_ONLY_CONF, source=_union(cv.words)))
        # The caption's value is not also another field's (terms read as the bill-to block).
        spans = _union(cv.words)
        for g in HEADER_FIELDS:
            other: Field = getattr(draft, g)
            if g == f or not other.present or g in found:
                continue
            if other.source and all(any(r.page == sp.page and _inside(sp.box, r.box) for sp in spans)
                                    for r in other.source):
                setattr(draft, g, Field())


def _fold_text(t: str) -> str:
    import unicodedata

    t = unicodedata.normalize("NFKD", t.casefold())
    return " ".join("".join(c for c in t if not unicodedata.combining(c)).split())


def _same_text(a: object, b: object) -> bool:
    return _fold_text(str(a)) == _fold_text(str(b))


def _inside(inner: tuple[float, float, float, float], outer: tuple[float, float, float, float]) -> bool:
    """Whether box ``outer`` (a field's union box) lies within ``inner`` grown by a point."""
    return (outer[0] >= inner[0] - 1 and outer[1] >= inner[1] - 1 and outer[2] <= inner[2] + 1
            and outer[3] <= inner[3] + 1)


def _row_numbers(ln: LineDraft, words: Sequence[Word], loc: Locale) -> list[tuple[float, Word]]:
    """The numbers printed on a line's own row(s): words within the vertical span of its values."""
    refs = [r for f in ("quantity", "unit_price", "amount", "sku") for r in getattr(ln, f).source]
    if not refs:
        return []
    page = refs[0].page
    y0 = min(r.box[1] for r in refs if r.page == page)
    y1 = max(r.box[3] for r in refs if r.page == page)
    out = []
    for w in words:
        if w.page != page or not any(c.isdigit() for c in w.text):
            continue
        cy = (w.box[1] + w.box[3]) / 2
        if y0 - 1 <= cy <= y1 + 1:
            v = parse_number(w.text, loc)
            if v is not None and v > 0:
                out.append((float(v), w))
    return out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(0.011, 0.0015 * abs(b))


# Codes that are also everyday capitalised words ("CAD drawing", "PEN", "TRY", "ALL") do not name
# the currency of a document by themselves.
_AMBIGUOUS_CODES = frozenset({"CAD", "PEN", "TRY", "ALL", "TOP", "MOP", "CUP", "BOB", "GEL", "MAD", "SOS"})
DOCUMENT_CURRENCY_CONF = 0.7


def _document_currency(words: Sequence[Word]) -> Field:
    """The one currency a document names anywhere (a code, a sign on an amount, "RUPEES" in the
    amount in words), when the model and the total name none; nothing when it names two."""
    from extractors.normalize import _CODES, _NAMES

    seen: dict[str, list[Word]] = {}
    for w in words:
        t = w.text.strip(".,:;()[]/")
        code = None
        if len(t) == 3 and t.isupper() and t in _CODES and t not in _AMBIGUOUS_CODES:
            code = t
        elif t.casefold() in _NAMES and len(t) > 3:
            code = _NAMES[t.casefold()]
        elif any(c in t for c in "€£₹₪") or (t.startswith("$") and len(t) > 1 and t[1:2].isdigit()):
            code = parse_currency(t)
        if code:
            seen.setdefault(code, []).append(w)
    if len(seen) != 1:
        return Field()
    (code, ws), = seen.items()
    return Field(value=code, raw=ws[0].text, confidence=DOCUMENT_CURRENCY_CONF,
                 source=[SourceRef(page=ws[0].page, box=ws[0].box)])


def _check_arithmetic(lines: list[LineDraft], words: Sequence[Word], loc: Locale) -> None:
    """Quantity x unit price = amount. When the model's three values disagree and another number
    on the same row makes the line add up, that number is the one meant: a second price column
    (list vs net), a quantity tagged in the wrong column, an amount the model did not tag."""

    def put(ln: LineDraft, key: str, v: float, w: Word, conf: float) -> None:
        setattr(ln, key, Field(value=v, raw=w.text, confidence=conf, source=[SourceRef(page=w.page, box=w.box)]))

    for ln in lines:
        q, p, a = _num(ln.quantity), _num(ln.unit_price), _num(ln.amount)
        if q is not None and p is not None and a is not None and _close(q * p, a):
            continue
        cands = _row_numbers(ln, words, loc)
        if not cands:
            continue
        conf = min((f.confidence for f in (ln.quantity, ln.unit_price, ln.amount) if f.present), default=0.5)
        if q is not None and a is not None:
            hit = next(((v, w) for v, w in cands if v != q and v != a and _close(q * v, a)), None)
            if hit:
                put(ln, "unit_price", hit[0], hit[1], conf)
                continue
        if q is not None and p is not None:
            hit = next(((v, w) for v, w in cands if v not in (q, p) and _close(q * p, v)), None)
            if hit:
                put(ln, "amount", hit[0], hit[1], conf)
                continue
        if q is not None:
            # a (price, amount) pair on the row that multiplies out with the quantity
            pairs = [((x, wx), (y, wy)) for x, wx in cands for y, wy in cands
                     if wx is not wy and x not in (q,) and y > x and y != q and _close(q * x, y) and q > 1]
            if pairs:
                (x, wx), (y, wy) = max(pairs, key=lambda pr: pr[1][0])
                put(ln, "unit_price", x, wx, conf)
                put(ln, "amount", y, wy, conf)
                continue
        if p is not None and a is not None and q is None:
            # another word than the price's and the amount's (at a price of 1 the quantity is the amount)
            taken = {(r.page, r.box) for f in (ln.unit_price, ln.amount) for r in f.source}
            hit = next(((v, w) for v, w in cands if (w.page, w.box) not in taken and _close(v * p, a)), None)
            if hit:
                put(ln, "quantity", hit[0], hit[1], conf)


_COLUMN_FIELDS = ("line_no", "quantity", "unit_price", "amount")

_SIZE = re.compile(r"(?i)^(xxs|xs|s|m|l|xl|xxl|xxxl|[2-6]xl|\d{1,2}(?:-\d{1,2})?[ym]|one ?size)$")
_TOTAL_HEAD = frozenset({"total", "qty", "qty.", "quantity", "sum", "gesamt", "summe", "pcs", "pieces", "totale"})
_ARTICLE_CAPTIONS = ("article no.", "article no", "article number", "article", "art. no.", "art.-nr.", "style no.",
                     "style no", "style", "product no.", "product no", "artikelnummer", "modèle")
MATRIX_CONF = 0.75


def _size_matrix(words: Sequence[Word], loc: Locale) -> list[LineDraft]:
    """An apparel order's colour-by-size matrix ("Color | S M L XL XXL | Total Qty." over rows
    "MITTELGRAU (20)  157 522 584 ..."): one line per colour, its quantity the row's total
    (or the sum of its sizes), its code the document's article number. Confidence 0.75: a CSR
    confirms what a matrix read gives."""
    rows = visual_rows(words)
    out: list[LineDraft] = []
    article = _article_code(words, rows)
    ri = 0
    while ri < len(rows):
        head = [words[i] for i in rows[ri]]
        sizes = [w for w in head if _SIZE.match(w.text)]
        if len(sizes) < 3:
            ri += 1
            continue
        first_x = min(w.box[0] for w in sizes)
        last_x = max(w.box[2] for w in sizes)
        tot = [w for w in head if w.text.casefold() in _TOTAL_HEAD and w.box[0] > last_x - 1]
        tot_span = (min(w.box[0] for w in tot), max(w.box[2] for w in tot)) if tot else None
        h = max(1.0, sizes[0].box[3] - sizes[0].box[1])
        found: list[LineDraft] = []
        k = ri + 1
        last_top = max(w.box[1] for w in head)
        while k < len(rows):
            row = [words[i] for i in rows[k] if words[i].page == head[0].page]
            if not row or row[0].box[1] - last_top > 4 * h:
                break
            label = [w for w in row if w.box[2] <= first_x - 0.2 * h]
            nums = [(w, parse_number(w.text, loc)) for w in row if w.box[0] >= first_x - 2 * h]
            nums = [(w, v) for w, v in nums if v is not None]
            text = " ".join(w.text for w in label)
            if not label or not nums or not any(c.isalpha() for c in text) or text.casefold().split()[0] in _TOTAL_HEAD:
                break
            qty = None
            if tot_span:
                under = [v for w, v in nums if min(w.box[2], tot_span[1] + h) - max(w.box[0], tot_span[0] - h) > 0]
                qty = under[-1] if under else None
            if qty is None:
                qty = sum(v for w, v in nums)
            ln = LineDraft()
            ln.description = Field(value=text, raw=text, confidence=MATRIX_CONF, source=_union(label))
            ln.quantity = Field(value=float(qty), raw=str(qty), confidence=MATRIX_CONF, source=_union([w for w, _ in nums]))
            if article is not None:
                ln.sku = Field(value=article.text, raw=article.text, confidence=MATRIX_CONF, source=_union([article]))
            found.append(ln)
            last_top = row[0].box[1]
            k += 1
        if len(found) >= 2:
            out.extend(found)
            ri = k
        else:
            ri += 1
    return out


def _article_code(words: Sequence[Word], rows: list[list[int]]) -> Word | None:
    """The code after an article caption ("Article No. 145308843"), if the document prints one."""
    for r in rows:
        ws = [words[i] for i in r]
        toks = [w.text.casefold() for w in ws]
        for k in range(len(ws)):
            for n in (3, 2, 1):
                cap = " ".join(toks[k:k + n]).rstrip(":").strip()
                if cap in _ARTICLE_CAPTIONS and k + n < len(ws):
                    v = ws[k + n]
                    if sum(c.isdigit() for c in v.text) >= 4 and _CODE_PART.match(v.text):
                        return v
    return None


# One item written as captions and values ("Product Name: Pump X250 / Quantity: 150 Units").
_ITEM_CAPTIONS: dict[str, tuple[str, ...]] = {
    "description": ("product name", "product", "item name", "item", "article", "item description", "description",
                    "produit", "désignation", "artikel", "artikelbezeichnung", "bezeichnung", "producto",
                    "descripción", "artículo", "product naam", "omschrijving", "prodotto", "descrizione"),
    "quantity": ("quantity", "qty", "quantité", "qté", "menge", "anzahl", "cantidad", "aantal", "quantità"),
    "sku": ("item code", "product code", "sku", "part no", "part number", "article no", "art.-nr.", "artikelnummer",
            "référence", "ref", "code article", "código", "artikelnr", "codice"),
    "unit_price": ("unit price", "price", "prix unitaire", "prix", "einzelpreis", "preis", "precio unitario", "precio",
                   "stukprijs", "prijs", "prezzo"),
}


def _key_value_item(words: Sequence[Word], loc: Locale) -> list[LineDraft]:
    """A document without an item table that names one item by captions, each followed by a
    colon and its value on the same row: that item is the order's line (confidence 0.7, a CSR
    confirms it)."""
    found: dict[str, tuple[str, list[Word]]] = {}
    for r in visual_rows(words):
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
        return []
    qtext, qws = found["quantity"]
    q = parse_number(qws[0].text, loc)
    if q is None or q <= 0:
        return []
    ln = LineDraft()
    ln.quantity = Field(value=float(q), raw=qws[0].text, confidence=0.7, source=_union(qws[:1]))
    if len(qws) > 1 and normalize_uom(qws[1].text):
        ln.uom = Field(value=normalize_uom(qws[1].text), raw=qws[1].text, confidence=0.7, source=_union(qws[1:2]))
    for f in ("description", "sku"):
        if f in found:
            text, ws = found[f]
            setattr(ln, f, Field(value=text.strip(), raw=text, confidence=0.7, source=_union(ws)))
    if "unit_price" in found:
        v = parse_number(found["unit_price"][1][0].text, loc)
        if v is not None:
            ln.unit_price = Field(value=float(v), raw=found["unit_price"][0], confidence=0.7,
                                  source=_union(found["unit_price"][1][:1]))
    return [ln]


def _arithmetic_by_columns(lines: list[LineDraft], words: Sequence[Word], loc: Locale) -> None:
    """A line that does not add up, in a table whose other lines do: the numbers on its row in
    the columns where the other lines have their quantity, price and amount, when those multiply
    out (a serial number taken for the quantity, a list price and the MRP for price and amount)."""
    keys = ("quantity", "unit_price", "amount")

    def adds_up(ln: LineDraft) -> bool:
        q, p, a = (_num(getattr(ln, k)) for k in keys)
        return q is not None and p is not None and a is not None and _close(q * p, a)

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
        cands = _row_numbers(ln, words, loc)
        pick: dict[str, tuple[float, Word]] = {}
        for k in keys:
            inside = [(v, w) for v, w in cands if any(min(w.box[2], c[2]) - max(w.box[0], c[1]) > 0 for c in cols[k])]
            if len(inside) != 1:
                break
            pick[k] = inside[0]
        if len(pick) != 3:
            continue
        (q, wq), (p, wp), (a, wa) = pick["quantity"], pick["unit_price"], pick["amount"]
        if not _close(q * p, a):
            continue
        conf = min((getattr(ln, k).confidence for k in keys if getattr(ln, k).present), default=0.5)
        for k, (v, w) in pick.items():
            setattr(ln, k, Field(value=v, raw=w.text, confidence=conf, source=[SourceRef(page=w.page, box=w.box)]))


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
        if t.field is not None:
            break
        if run:
            a, b = tags[run[-1]].word, t.word
            h = max(1.0, min(a.box[3] - a.box[1], b.box[3] - b.box[1]))
            if b.box[0] - a.box[2] > 1.2 * h:
                break
        run.append(i)
    if run and any(c.isalpha() for i in run for c in tags[i].word.text):
        for k, i in enumerate(run):
            tags[i].field, tags[i].begin = "description", k == 0


def _mend_descriptions(tags: list[WordTag]) -> None:
    """A description is one run of words in its cell. The model tends to drop a brand at its
    start ("Esselte arch file") or take a number inside it for the quantity ("A4 50mm black"):
    words next to the description at word spacing (not a column gap away) join it when they are
    untagged, tagged as a party, or tagged with a number field that the row also has elsewhere."""
    words = [t.word for t in tags]
    for r in visual_rows(words):
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
            h = max(1.0, min(a.box[3] - a.box[1], b.box[3] - b.box[1]))
            return -0.5 * h <= b.box[0] - a.box[2] <= 1.2 * h

        def trailing(k: int) -> bool:
            # a word the model took for a unit or a code, right after the wording in the same
            # cell ("toner cartridge BLK", "spiral pad a4 5x5"), when it is no unit and the row
            # has no other word of that field
            t = tags[r[k]]
            if t.field == "uom":
                from extractors.normalize import normalize_uom as _nu
                from intake.units import UOM_CODES

                return _nu(t.word.text) not in UOM_CODES
            if t.field == "sku":
                return any(tags[j].field == "sku" for j in r if j != r[k]) or not any(
                    c.isdigit() for c in t.word.text) or _MEASURE.match(t.word.text) is not None
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


_GROUP = re.compile(r"^\d{3}(?:[.,]\d{1,4})?$")


def _join_digit_groups(tags: list[WordTag]) -> None:
    """"30 051": a number whose thousands are set apart by a thin space is one number; the
    group the model left untagged joins the number before it."""
    words = [t.word for t in tags]
    for r in visual_rows(words):
        for a, b in zip(r, r[1:]):
            ta, tb = tags[a], tags[b]
            if ta.field not in _NUMERIC or tb.field is not None or not _GROUP.match(words[b].text):
                continue
            if not words[a].text.replace(",", "").replace(".", "").replace(" ", "").isdigit():
                continue
            h = max(1.0, words[a].box[3] - words[a].box[1])
            if 0 <= words[b].box[0] - words[a].box[2] <= 0.6 * h:
                tb.field, tb.score, tb.begin = ta.field, ta.score, False
        # "11 317" with only the thousands' group tagged: the leading digits join it
        for a, b in zip(r, r[1:]):
            ta, tb = tags[a], tags[b]
            if tb.field not in _NUMERIC or ta.field is not None or not tb.begin:
                continue
            if not re.fullmatch(r"\d{1,3}", words[a].text) or not re.fullmatch(r"\d{3}(?:[.,]\d{1,2})?", words[b].text):
                continue
            h = max(1.0, words[b].box[3] - words[b].box[1])
            if 0 <= words[b].box[0] - words[a].box[2] <= 0.6 * h:
                ta.field, ta.score, ta.begin = tb.field, tb.score, True
                tb.begin = False


_MEASURE = re.compile(
    r"(?i)^\d+(?:[.,]\d+)?(?:(?:x\d+(?:[.,]\d+)?)+[a-z%\"]{0,4}|[a-z%\"]{1,4}),?$")  # 80gsm, 5x5, 50mm
_CODE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./_-]*$")


def _join_wrapped_codes(tags: list[WordTag]) -> None:
    """An item code broken over two rows of its cell ("ES1323-" / "XOP-9791"): the part the
    model left out, right above or below a code that ends (or whose upper part ends) with a
    joining character, is part of the code."""
    words = [t.word for t in tags]
    rows = visual_rows(words)
    # the upper part of a wrapped code taken for a number ("8559.544." over "153-NU90"): a number
    # does not end with a joining character
    for k, r in enumerate(rows[:-1]):
        for i in r:
            w = words[i]
            if tags[i].field not in _NUMERIC or not re.fullmatch(r"[A-Za-z0-9]+(?:[./_-][A-Za-z0-9]+)*[./_-]", w.text):
                continue
            if w.text.endswith(".") and w.text.count(".") < 2:
                continue  # "12." may be a number
            h = max(1.0, w.box[3] - w.box[1])
            below = [j for j in rows[k + 1] if words[j].page == w.page and abs(words[j].box[0] - w.box[0]) <= h
                     and tags[j].field in (None, "sku", "description") and _CODE_PART.match(words[j].text)
                     and any(c.isdigit() for c in words[j].text)
                     and words[j].box[1] - w.box[3] < 1.2 * h]
            if below:
                tags[i].field, tags[i].begin = "sku", True
                tags[below[0]].field, tags[below[0]].begin = "sku", False
    for k, r in enumerate(rows):
        for i in r:
            if tags[i].field != "sku":
                continue
            w = words[i]
            h = max(1.0, w.box[3] - w.box[1])
            for dk, cond in ((1, lambda a, b: a.text[-1:] in "-./_"), (-1, lambda a, b: b.text[-1:] in "-./_")):
                kk = k + dk
                if not 0 <= kk < len(rows) or words[rows[kk][0]].page != w.page:
                    continue
                for j in rows[kk]:
                    o = words[j]
                    if tags[j].field not in (None, "description") or abs(o.box[0] - w.box[0]) > h:
                        continue
                    if abs((o.box[1] + o.box[3]) / 2 - (w.box[1] + w.box[3]) / 2) > 2.2 * h:
                        continue
                    if _CODE_PART.match(o.text) and any(c.isdigit() for c in o.text) and cond(w, o):
                        tags[j].field, tags[j].score, tags[j].begin = "sku", tags[i].score, dk < 0
                        if dk < 0:
                            tags[i].begin = False


_COLUMN_CAPTIONS: tuple[tuple[str, str], ...] = tuple(sorted(((c, f) for f, caps in {
    "quantity": ("qty", "quantity", "qté", "qte", "quantité", "quantite", "menge", "anzahl", "cantidad", "cant.",
                 "aantal", "quantità", "qtà", "ordered qty", "order qty", "qty ordered", "qty.", "pcs", "units"),
    "unit_price": ("unit price", "price", "prix", "prix unitaire", "p.u.", "pu", "preis", "einzelpreis",
                   "stückpreis", "e-preis", "precio", "precio unitario", "prijs", "stukprijs", "prezzo",
                   "prezzo unitario", "unit cost", "rate", "cost", "b.price", "net price", "price/unit", "each"),
    "amount": ("amount", "total", "line total", "net amount", "montant", "montant ht", "total ht", "betrag",
               "gesamt", "gesamtpreis", "importe", "bedrag", "totaal", "importo", "total price", "ext. price",
               "extended", "extended price", "value", "net value", "line amount", "subtotal", "sub total"),
    "line_no": ("#", "no", "no.", "pos", "pos.", "line", "ln", "sno", "s.no", "sr.", "sr. no", "n°", "nr", "nr."),
}.items() for c in caps), key=lambda p: -len(p[0])))


_TABLE_CAPTIONS: tuple[tuple[str, str], ...] = tuple(sorted(list(_COLUMN_CAPTIONS) + [(c, f) for f, caps in {
    "sku": ("barcode", "ean", "sku", "item", "item no", "item no.", "item #", "item code", "part no", "part no.",
            "part number", "part #", "product code", "code", "art.-nr.", "art.nr.", "artikelnr", "artikel-nr.",
            "artikelnummer", "article", "réf", "réf.", "référence", "ref", "ref.", "reference", "material",
            "código", "codigo", "product no", "upc", "style", "style no", "article no", "artikelnr."),
    "description": ("description", "désignation", "designation", "bezeichnung", "beschreibung", "descripción",
                    "descripcion", "omschrijving", "descrizione", "product description", "item description",
                    "product", "libellé", "article description", "artikel", "producto", "prodotto", "product name",
                    "item name", "artikelname", "nom du produit", "nombre del producto", "productnaam"),
    "uom": ("uom", "u/m", "unit", "unité", "einheit", "me", "unidad", "eenheid", "um", "unit of measure"),
}.items() for c in caps], key=lambda p: -len(p[0])))
_TABLE_CAPTION_OF: dict[str, str] = {}
for _cap, _f in _TABLE_CAPTIONS:
    _TABLE_CAPTION_OF.setdefault(_cap, _f)  # the first of a caption named twice, as the list reads
_TOTAL_ROW = re.compile(r"(?i)^(sub-?)?totals?\b|^summe|^gesamt|^montant|^importe|^totaal|^net\b|^grand")


def _header_cells(ws: list[Word]) -> list[tuple[float, float, str | None]]:
    """A header row's cells (words at word spacing), each with the field its caption names."""
    cells: list[list[Word]] = []
    for w in sorted(ws, key=lambda w: w.box[0]):
        if cells:
            a = cells[-1][-1]
            h = max(1.0, min(a.box[3] - a.box[1], w.box[3] - w.box[1]))
            if w.box[0] - a.box[2] <= 0.9 * h:
                cells[-1].append(w)
                continue
        cells.append([w])
    def caption_of(ws: list[Word]) -> str | None:
        text = " ".join(re.sub(r"(?<=[a-z])(?=[A-Z])|_", " ", w.text) for w in ws).casefold().strip(":")
        text = re.sub(r"\s*\([^)]*\)\s*$", "", text).strip()
        return _TABLE_CAPTION_OF.get(text)

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
    for c in cells:
        # "UnitPrice", "Unit_Price": a spreadsheet's column name in one word
        text = " ".join(re.sub(r"(?<=[a-z])(?=[A-Z])|_", " ", w.text) for w in c).casefold().strip(":")
        text = re.sub(r"\s*\([^)]*\)\s*$", "", text).strip()  # "Cost (USD)"
        field = _TABLE_CAPTION_OF.get(text)
        if field is None and " " in text:
            # "Prix unit.", "Total ligne", "Menge (Stk)": the first word names the column
            head = text.split()[0]
            field = _TABLE_CAPTION_OF.get(head)
        out.append((c[0].box[0], c[-1].box[2], field))
    # "Product | Description": beside a description column, the product column holds the code
    desc = [k for k, (_a, _b, f) in enumerate(out) if f == "description"]
    if len(desc) == 2:
        texts = [" ".join(w.text for w in cells[k]).casefold().strip(":") for k in desc]
        for k, t in zip(desc, texts):
            if t in ("product", "producto", "prodotto", "artikel", "produit", "article"):
                out[k] = (out[k][0], out[k][1], "sku")
                break
    return out


def _header_tables(tags: list[WordTag], loc: Locale) -> None:
    """Tables with a header the service can read (at least a quantity and a code or wording
    column): every row under it with a number in the quantity column is an item,
    and its words take the field of the column they stand in. Numbers under a column the
    header does not name as a line field (a retail price, a carton count) are not line values."""
    words = [t.word for t in tags]
    rows = visual_rows(words)
    k = 0
    while k < len(rows):
        cells = _header_cells([words[i] for i in rows[k]])
        named = {f for *_x, f in cells if f}
        if not ("quantity" in named and named & {"sku", "description"}):
            k += 1
            continue
        page = words[rows[k][0]].page
        # a header that names the price or amount is read whole: other number columns are no line values
        understood = bool(named & {"unit_price", "amount"})
        for i in rows[k]:
            if tags[i].field in LINE_FIELDS:
                tags[i].field = None  # a caption is no value
        j = k + 1
        while j < len(rows) and words[rows[j][0]].page == page:
            r = rows[j]
            first = words[r[0]].text
            if _TOTAL_ROW.match(first):
                break
            ncells = _header_cells([words[i] for i in r])
            if len({f for *_x, f in ncells if f}) >= 3 and "quantity" in {f for *_x, f in ncells}:
                break  # the next table's header
            col_of = {i: _cell_of(cells, words[i]) for i in r}
            qty = [i for i in r if col_of[i] == "quantity" and parse_number(words[i].text, loc) is not None]
            if qty:
                seen: set[str] = set()
                for i in r:
                    f = col_of[i]
                    t = tags[i]
                    if f in ("quantity", "unit_price", "amount"):
                        if parse_number(words[i].text, loc) is None:
                            continue
                    elif f == "sku":
                        # a code has a digit, or is the letter part of one printed with a space ("CFT 0167")
                        mates = [j for j in r if col_of[j] == "sku" and j != i]
                        if not any(c.isdigit() for c in words[i].text) and not any(
                                any(c.isdigit() for c in words[j].text) and _CODE_PART.match(words[i].text)
                                and abs(words[j].box[0] - words[i].box[2]) < 0.6 * max(1.0, words[i].box[3] - words[i].box[1])
                                for j in mates):
                            continue
                    elif f is None or f == "line_no":
                        if t.field in ("quantity", "unit_price", "amount") and understood:
                            t.field = None  # a number under a column that is no line value
                        continue
                    if t.field != f:
                        t.field, t.score = f, max(t.score, 0.8)
                    t.begin = f not in seen
                    seen.add(f)
            j += 1
        k = j


def _cell_of(cells: list[tuple[float, float, str | None]], w: Word) -> str | None:
    """The header cell a word stands under: the most overlapping one, or the nearest by centre
    when none overlaps (right-aligned numbers under a left-aligned caption)."""
    best, best_ov = None, 0.0
    for x0, x1, f in cells:
        ov = min(x1, w.box[2]) - max(x0, w.box[0])
        if ov > best_ov:
            best, best_ov = f, ov
    if best_ov > 0:
        return best
    cx = (w.box[0] + w.box[2]) / 2
    near = min(cells, key=lambda c: abs((c[0] + c[1]) / 2 - cx))
    h = max(1.0, w.box[3] - w.box[1])
    return near[2] if abs((near[0] + near[1]) / 2 - cx) < 3 * h else None


def _column_headers(tags: list[WordTag], rows: list[list[int]]) -> list[tuple[float, float, str]]:
    """Column captions of the table header: the row just above the first item row (or two
    rows, for a two-line header) whose words name at least two columns; (x0, x1, field) each."""
    if not rows:
        return []
    words = [t.word for t in tags]
    first = rows[0]
    page = words[first[0]].page
    top = min(words[i].box[1] for i in first)
    h = max(1.0, min(words[i].box[3] - words[i].box[1] for i in first))
    above = [i for i, t in enumerate(tags) if t.field is None and words[i].page == page
             and 0 < top - words[i].box[3] < 8 * h]
    if not above:
        return []
    out: list[tuple[float, float, str]] = []
    for hr in visual_rows([words[i] for i in above])[-2:]:
        ws = [words[above[j]] for j in hr]
        k = 0
        while k < len(ws):
            for cap, f in _COLUMN_CAPTIONS:
                n = len(cap.split())
                if k + n <= len(ws) and " ".join(w.text.casefold().strip(":") for w in ws[k:k + n]) == cap:
                    out.append((ws[k].box[0], ws[k + n - 1].box[2], f))
                    k += n
                    break
            else:
                k += 1
    return out if len({f for *_x, f in out}) >= 2 else []


def _header_over(heads: list[tuple[float, float, str]], span: tuple[float, float]) -> str | None:
    best, best_ov = None, 0.0
    for x0, x1, f in heads:
        ov = min(x1, span[1]) - max(x0, span[0])
        if ov > best_ov:
            best, best_ov = f, ov
    return best


def _stray(tags: list[WordTag], row: list[int], i: int) -> bool:
    """A number tagged as part of the description that stands apart from it, in a column of its
    own (a gap of over two line heights from the description word before it)."""
    if tags[i].field != "description":
        return False
    w = tags[i].word
    h = max(1.0, w.box[3] - w.box[1])
    left = [tags[j].word for j in row if j != i and tags[j].field == "description" and tags[j].word.box[2] <= w.box[0]]
    if not left:
        return False
    return w.box[0] - max(x.box[2] for x in left) > 2.0 * h


def _vote_columns(tags: list[WordTag], probs: np.ndarray, id2label: dict[int, str], loc: Locale) -> None:
    """Table columns settle what a number is. The numbers of the item rows are grouped into
    columns (overlapping x, per page); each column takes the field most of its numbers were
    tagged with, so a quantity the model left untagged, or tagged as a price, in a column of
    quantities becomes a quantity. Only numbers in rows that already hold a line field are
    touched, and a column needs two agreeing rows before it overrules anything."""
    item_rows: dict[int, list[list[int]]] = {}
    words = [t.word for t in tags]
    for r in visual_rows(words):
        if any(tags[i].field in LINE_FIELDS for i in r):
            item_rows.setdefault(words[r[0]].page, []).append(r)
    cols_of = {f: [i for i, lab in id2label.items() if lab != "O" and lab[2:] == f] for f in _COLUMN_FIELDS}
    for page, rows in item_rows.items():
        if len(rows) < 2:
            continue
        nums = [i for r in rows for i in r
                if (tags[i].field in _COLUMN_FIELDS or tags[i].field is None or _stray(tags, r, i))
                and parse_number(words[i].text, loc) is not None and any(c.isdigit() for c in words[i].text)]
        # columns: numbers whose x-spans overlap, widened as they join
        nums.sort(key=lambda i: (words[i].box[0] + words[i].box[2]) / 2)
        columns: list[list[int]] = []
        spans: list[tuple[float, float]] = []
        for i in nums:
            x0, x1 = words[i].box[0], words[i].box[2]
            for k, (a, b) in enumerate(spans):
                if min(b, x1) - max(a, x0) > 0.3 * min(b - a, x1 - x0):
                    columns[k].append(i)
                    spans[k] = (min(a, x0), max(b, x1))
                    break
            else:
                columns.append([i])
                spans.append((x0, x1))
        heads = _column_headers(tags, rows)
        for k, col in enumerate(columns):
            votes: dict[str, float] = {f: float(sum(1 for i in col if tags[i].field == f)) for f in _COLUMN_FIELDS}
            # the table's own header over the column ("Qty", "Unit Price") counts like half its rows
            named = _header_over(heads, spans[k])
            if named in votes:
                votes[named] += 0.5 * len(col)
            best = max(votes, key=lambda f: votes[f])
            tagged = sum(votes.values())
            if votes[best] < 2 or votes[best] < 0.6 * tagged:
                continue
            rows_of_col = {id(r) for r in rows for i in r if i in col}
            if len(rows_of_col) < 2:
                continue
            for i in col:
                t = tags[i]
                if t.field == best:
                    continue
                row = next(r for r in rows if i in r)
                # a row that already has this field from another word keeps it
                if any(tags[j].field == best for j in row if j != i):
                    continue
                if t.field is not None and sum(1 for j in row if tags[j].field == t.field) <= 1 and votes.get(t.field, 0) >= 2:
                    continue  # the word is its row's only value of a field that has its own column
                t.field = best
                t.score = max(float(probs[t.index][cols_of[best]].sum()), min(0.9, votes[best] / max(1, tagged)))
                t.begin = True


_NAMED_PARTIES = frozenset({"buyer", "supplier"})
_LEGAL_FORM = re.compile(
    r"(?i)\b(ltd|limited|llc|inc|corp|corporation|co|company|gmbh|ag|kg|ohg|ug|sa|s\.a|sas|sarl|s\.a\.r\.l|sl|s\.l|"
    r"bv|b\.v|nv|n\.v|spa|s\.p\.a|srl|s\.r\.l|plc|pty|oy|ab|as|aps|kft|sp\.? z o\.?o|group|industries|"
    r"enterprises|trading|holding|bvba|e\.k|pvt)\b\.?")


def _party_name(fld: Field) -> Field:
    """Buyer and supplier are named by the party's name (the block's first row, or the row that
    reads as a company name when a person's name comes first, as in a mail signature); the
    whole block stays in ``raw`` for matching to read the address."""
    rows = [r.strip() for r in str(fld.raw or fld.value).split("\n") if r.strip()]
    if len(rows) == 1 and ", " in rows[0]:
        # one cell holding the whole block ("Dupont Inc., 9 Lakeview Road, Springfield"): the name
        # runs to its legal form, or up to the first part with a number in it
        parts = rows[0].split(", ")
        name_parts: list[str] = []
        for k, part in enumerate(parts):
            if name_parts and any(c.isdigit() for c in part):
                break
            name_parts.append(part)
            if _LEGAL_FORM.search(part):
                break
        rows = [", ".join(name_parts)] + parts[len(name_parts):]
    if len(rows) <= 1:
        return fld
    name = rows[0]
    if not _LEGAL_FORM.search(name):
        legal = next((r for r in rows[1:3] if _LEGAL_FORM.search(r)), None)
        if legal:
            name = legal
    return fld.model_copy(update={"value": name, "raw": fld.raw})


def _blocks(words: Sequence[Word]) -> list[list[int]]:
    """Geometric blocks: words joined when on one row with a small gap, or on consecutive rows
    of one column (overlapping x, a vertical gap under a line height)."""
    n = len(words)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        a = words[i]
        ha = max(1.0, a.box[3] - a.box[1])
        for j in range(i + 1, n):
            b = words[j]
            if a.page != b.page:
                continue
            hb = max(1.0, b.box[3] - b.box[1])
            h = min(ha, hb)
            v_overlap = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
            same_row = v_overlap > 0.5 * h
            h_gap = max(a.box[0], b.box[0]) - min(a.box[2], b.box[2])
            if same_row and h_gap < 1.5 * h:
                parent[find(i)] = find(j)
                continue
            v_gap = max(a.box[1], b.box[1]) - min(a.box[3], b.box[3])
            if not same_row and v_gap < 0.9 * h and h_gap < 0 and abs(a.box[0] - b.box[0]) < 12 * h:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _vote_blocks(tags: list[WordTag], probs: np.ndarray, id2label: dict[int, str]) -> list[list[WordTag]]:
    """Returns the blocks that voted for a buyer or supplier but lost to another block (copies
    of their tags): a letterhead the page checks may still need."""
    party = [t for t in tags if t.field in MULTILINE_FIELDS]
    if len(party) < 2:
        return []
    fields = sorted(MULTILINE_FIELDS)
    cols = {f: [i for i, lab in id2label.items() if lab != "O" and lab[2:] == f] for f in fields}
    blocks = []
    for blk in _blocks([t.word for t in party]):
        blocks.extend(_split_at_begins([party[i] for i in blk], probs, id2label))
    votes = [{f: sum(float(probs[t.index][cols[f]].sum()) for t in b) for f in fields} for b in blocks]
    # A caption right above a block, or right before it on its first row ("Ship to:"), names it.
    for b, members in enumerate(blocks):
        named = _block_caption(members, tags)
        if named in votes[b]:
            votes[b][named] += 2.0 * len(members)
    # Each party is one block: assign blocks to fields greedily by total vote, one block per
    # field, so that two neighbouring blocks never both become the ship-to.
    pairs = sorted(((votes[b][f], b, f) for b in range(len(blocks)) for f in fields), reverse=True)
    chosen: dict[int, str] = {}
    taken: dict[str, int] = {}
    for v, b, f in pairs:
        if b in chosen or f in taken or v < 0.3 * len(blocks[b]):
            continue
        chosen[b], taken[f] = f, b
    spans: dict[str, list[WordTag]] = {}
    lost: list[list[WordTag]] = []
    for b, members in enumerate(blocks):
        win = chosen.get(b)
        if win is None:
            # A second block voting for a taken field (a letterhead above its address) joins it
            # when it sits right next to it; otherwise it is not a party of this order.
            best = max(fields, key=lambda f: votes[b][f])
            if best in taken and _near(members, blocks[taken[best]]):
                win = best
            elif best in _NAMED_PARTIES:
                lost.append([WordTag(t.word, t.index, best, k == 0, float(probs[t.index][cols[best]].sum()))
                             for k, t in enumerate(sorted(members, key=lambda t: t.index))])
        for t in members:
            if win is None:
                t.field = None
                continue
            if t.field != win:
                t.score = float(probs[t.index][cols[win]].sum())
                t.field = win
            spans.setdefault(win, []).append(t)
    for members in spans.values():
        members.sort(key=lambda t: t.index)
        for k, t in enumerate(members):
            t.begin = k == 0  # one party is one span: its first word begins it
    return lost


_PARTY_CAPTIONS: tuple[tuple[str, str], ...] = tuple((c, f) for f, caps in PARTY_CAPTIONS.items() for c in caps)


def _block_caption(members: list[WordTag], tags: list[WordTag]) -> str | None:
    """The party a caption names for this block: untagged words on the row above the block's
    top (overlapping it) or just left of its first row, read as one caption."""
    ws = [t.word for t in members]
    page = ws[0].page
    top = min(w.box[1] for w in ws)
    x0, x1 = min(w.box[0] for w in ws), max(w.box[2] for w in ws)
    h = max(1.0, min(w.box[3] - w.box[1] for w in ws))
    first = [w for w in ws if w.box[1] - top < 0.5 * h]
    fx0 = min(w.box[0] for w in first)
    above_row: list[Word] = []
    left: list[Word] = []
    for t in tags:
        w = t.word
        if w.page != page or t.field is not None:
            continue
        if 0 <= top - w.box[3] < 1.6 * h:
            above_row.append(w)
        elif abs(w.box[1] - top) < 0.5 * h and w.box[2] <= fx0 and fx0 - w.box[2] < 12 * h:
            left.append(w)
    # the caption over the block: the words above that overlap it, and their neighbours at word spacing
    above = [w for w in above_row if w.box[0] < x1 and w.box[2] > x0 - 2 * h]
    grown = True
    while above and grown:
        grown = False
        for w in above_row:
            if w in above:
                continue
            if any(-0.5 * h <= w.box[0] - a.box[2] <= 1.5 * h or -0.5 * h <= a.box[0] - w.box[2] <= 1.5 * h for a in above):
                above.append(w)
                grown = True
    for cand in (left, above):
        if not cand:
            continue
        cand.sort(key=lambda w: w.box[0])
        text = " ".join(w.text for w in cand).casefold().replace(":", " ").replace("  ", " ").strip()
        text = " ".join(text.split())
        best = None
        for cap, f in _PARTY_CAPTIONS:
            if text == cap or text.endswith(" " + cap) or text.startswith(cap + " ") and len(text) <= len(cap) + 12:
                if best is None or len(cap) > len(best[0]):
                    best = (cap, f)
        if best:
            return best[1]
    return None


def _split_at_begins(members: list[WordTag], probs: np.ndarray, id2label: dict[int, str]) -> list[list[WordTag]]:
    """Split a block where a row starts with a word the model surely begins a party with
    (stacked blocks without a blank row between them, as in spreadsheets)."""
    b_cols = [i for i, lab in id2label.items() if lab.startswith("B-") and lab[2:] in MULTILINE_FIELDS]
    rows = visual_rows([t.word for t in members])
    out: list[list[WordTag]] = []
    for r in rows:
        first = members[r[0]]
        strong = float(probs[first.index][b_cols].sum()) > 0.5
        if not out or strong:
            out.append([])
        out[-1].extend(members[i] for i in r)
    return out


def _near(a: list[WordTag], b: list[WordTag]) -> bool:
    """Blocks on one page within 2.4 line heights vertically and overlapping horizontally."""
    if a[0].word.page != b[0].word.page:
        return False
    ay0, ay1 = min(t.word.box[1] for t in a), max(t.word.box[3] for t in a)
    by0, by1 = min(t.word.box[1] for t in b), max(t.word.box[3] for t in b)
    ax0, ax1 = min(t.word.box[0] for t in a), max(t.word.box[2] for t in a)
    bx0, bx1 = min(t.word.box[0] for t in b), max(t.word.box[2] for t in b)
    h = max(1.0, a[0].word.box[3] - a[0].word.box[1])
    return max(ay0, by0) - min(ay1, by1) < 2.4 * h and min(ax1, bx1) - max(ax0, bx0) > 0


def _lines(tags: list[WordTag], loc: Locale, cal: Calibrator | None) -> list[LineDraft]:
    if not tags:
        return []
    words = [t.word for t in tags]
    rows = visual_rows(words)
    items: list[list[int]] = []  # each: indices into tags
    item_rows: list[list[list[int]]] = []
    pending: list[list[int]] = []  # rows that come before their item row
    for r in rows:
        fields = {tags[i].field for i in r}
        if fields & _ANCHORS:
            # A row with two quantities is two lines that the row grouping merged: keep one line
            # per row here; the model's B tags on sku split them below. Rows before it join it
            # when they sit right above it (a description printed over its numbers), not from
            # another page or the header far above.
            top = min(words[i].box[1] for i in r)
            h = max(1.0, max(words[i].box[3] - words[i].box[1] for i in r))
            near: list[list[int]] = []
            for pr in reversed(pending):
                w0 = words[pr[0]]
                bottom = max(words[i].box[3] for i in pr)
                if w0.page != words[r[0]].page or top - bottom > 2.5 * h:
                    break
                near.insert(0, pr)
                top = min(words[i].box[1] for i in pr)
            pending = near
            row = [i for pr in pending for i in pr] + list(r)
            pending = []
            items.append(row)
            item_rows.append([row])
            continue
        starts_desc = any(tags[i].field == "description" and tags[i].begin for i in r)
        if items and not starts_desc:
            items[-1].extend(r)
            item_rows[-1].append(list(r))
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
    out: list[LineDraft] = []
    for it in items:
        by_field: dict[str, list[WordTag]] = {}
        for i in sorted(it, key=lambda i: (tags[i].word.page, tags[i].word.box[1], tags[i].word.box[0])):
            f = tags[i].field
            if f is None:
                continue
            by_field.setdefault(f, []).append(tags[i])
        ln = LineDraft()
        for f, ft in by_field.items():
            joiner = "" if f == "sku" else " "
            setattr(ln, f, _field(f, ft, loc, "line", cal, multiline=False, joiner=joiner))
        _bracketed_code(ln)
        _code_not_unit(ln)
        if sum(1 for f in ("sku", "description", "quantity", "unit_price", "amount") if getattr(ln, f).present) < 2:
            continue
        out.append(ln)
    return _drop_off_column(_drop_carried(out))


_LINE_VALUES = ("sku", "description", "quantity", "unit_price", "amount")


def _drop_off_column(lines: list[LineDraft]) -> list[LineDraft]:
    """A thin line (two of code, wording, quantity, price, amount) whose values stand in none of
    the columns the other lines use is header text the model took for an item ("Vendor FSSAI No
    13620014000545" over "Buyer 100"), not a line of the table."""
    if len(lines) < 2:
        return lines
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
    return out


def _code_not_unit(ln: LineDraft) -> None:
    """A "unit" with three digits in it ("LW.165.642") is the item code the model put in the
    wrong column; units are words and abbreviations."""
    u = ln.uom
    if not u.present or ln.sku.present:
        return
    raw = str(u.raw or u.value).strip()
    if sum(c.isdigit() for c in raw) >= 3 and _CODE_PART.match(raw):
        ln.sku = u.model_copy(update={"value": raw})
        ln.uom = Field()


_BRACKETED = re.compile(r"^\s*[\[(](?P<code>[A-Za-z0-9][A-Za-z0-9./_-]{0,30})[\])]\s*(?P<rest>.*)$")


def _bracketed_code(ln: LineDraft) -> None:
    """"[A1090] iMac": the code an ERP prints in brackets before the product name is the item code.
    A code the model took from the wording after it ("[MBi9] Motherboard I9P57") goes back to
    the wording."""
    if not isinstance(ln.description.value, str):
        return
    m = _BRACKETED.match(ln.description.value)
    if not m or not m.group("rest").strip():
        return
    d = ln.description
    if ln.sku.present:
        s_src, d_src = ln.sku.source, d.source
        if not (s_src and d_src and s_src[0].page == d_src[0].page and s_src[0].box[0] > d_src[0].box[0]
                and abs(s_src[0].box[1] - d_src[0].box[1]) < 0.5 * max(1.0, d_src[0].box[3] - d_src[0].box[1])):
            return
        d = d.model_copy(update={"value": f"{d.value} {ln.sku.raw or ln.sku.value}",
                                 "source": _union_refs(list(d_src) + list(s_src))})
    ln.sku = Field(value=m.group("code"), raw=f"[{m.group('code')}]", confidence=d.confidence, source=d.source)
    ln.description = d.model_copy(update={"value": _BRACKETED.match(str(d.value)).group("rest").strip()})


def _has(tags: list[WordTag], item: list[int], field: str) -> bool:
    return any(tags[i].field == field for i in item)


# Words that open a summary row under the items: subtotal, tax, shipping, discount, total.
_SUMMARY_WORDS = frozenset("""
    subtotal sub-total sub total totals summe zwischensumme gesamt gesamtsumme netto brutto nettobetrag
    mwst mwst. ust ust. vat tva iva btw tax taxes sales shipping freight fracht versand versandkosten porto
    frais port sous-total total totaal subtotaal totale imponibile importe base imponible envío envio
    discount rabatt remise descuento korting sconto carriage handling verpackung emballage
    """.split())


_SUMMARY_STARTS = frozenset(_fold_text(w).strip(".") for w in _SUMMARY_WORDS)
_SUMMARY_FOLDED = _SUMMARY_STARTS | frozenset({"de", "des", "on", "incl", "inkl", "exkl", "excl", "zzgl", "plus", "and", "und", "et", "y", "en"})


def _summary_row(ln: LineDraft) -> bool:
    """A row of the table's foot ("MwSt. 19 % 2.918,19", "Zwischensumme 18.532,15"): no item code,
    and wording that is summary words and numbers only."""
    if ln.sku.present and not (isinstance(ln.sku.value, str) and _fold_text(ln.sku.value).strip(".:") in _SUMMARY_WORDS):
        return False
    text = " ".join(str(f.value) for f in (ln.sku, ln.description) if f.present)
    toks = [t.strip(".:,;()%") for t in _fold_text(text).split()]
    toks = [t for t in toks if t and not any(c.isdigit() for c in t)]
    return bool(toks) and toks[0] in _SUMMARY_STARTS and all(
        t in _SUMMARY_FOLDED or len(t) <= 2 for t in toks)


def _drop_carried(lines: list[LineDraft]) -> list[LineDraft]:
    """Drop a 'line' that has only an amount equal to the running sum (a carried total), and the
    summary rows of the table's foot."""
    lines = [ln for ln in lines if not _summary_row(ln)]
    out: list[LineDraft] = []
    running = 0.0
    for ln in lines:
        amt = ln.amount.value if isinstance(ln.amount.value, (int, float)) else None
        only_amount = not (ln.sku.present or ln.description.present or ln.quantity.present)
        if only_amount and amt is not None and out and abs(amt - running) < 0.015:
            continue
        out.append(ln)
        if amt is not None:
            running += float(amt)
    return out
