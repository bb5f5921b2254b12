"""The model's reading of each word, and values built from tagged words.

``tag_words`` gives each word its most likely field (summing the B- and I- probabilities),
whether it begins a span, and the probability. ``field_value`` turns a span of tagged words into
a ``Field``: the words in reading order, parsed as the field (a date, a number, a code...),
with the mean probability as the raw confidence (calibrated when a calibrator is given).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from extractors.assembly.engine import Calibrator
from extractors.assembly.values import DATE_SHAPE
from extractors.geometry import Sheet, row_text, union
from extractors.normalize import Locale, normalize_uom, parse_currency, parse_date, parse_number
from intake.core.domain import Field, OrderDraft, Word

__all__ = ["WordTag", "tag_words", "id2label_index", "parse_value", "field_value", "header_instances", "words_text",
           "HEADER_FIELDS", "LINE_FIELDS", "MULTILINE_FIELDS", "NAMED_PARTIES", "NUMERIC"]

HEADER_FIELDS: tuple[str, ...] = OrderDraft.HEADER_FIELDS
LINE_FIELDS: tuple[str, ...] = ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount")
MULTILINE_FIELDS = frozenset({"buyer", "supplier", "ship_to", "bill_to"})
NAMED_PARTIES = frozenset({"buyer", "supplier"})
NUMERIC = frozenset({"quantity", "unit_price", "amount", "total", "line_no"})
_COMPACT = frozenset({"po_number", "order_date", "requested_date", "currency", "total", "line_no", "sku",
                      "quantity", "uom", "unit_price", "amount"})


@dataclass
class WordTag:
    """A word with the model's reading of it."""

    word: Word
    index: int
    field: str | None  # argmax field, None for O
    begin: bool  # B- more likely than I- for its field
    score: float  # P(B-field) + P(I-field)


def id2label_index(id2label: dict[int, str], label: str) -> int | None:
    for i, lab in id2label.items():
        if lab == label:
            return int(i)
    return None


def tag_words(words: Sequence[Word], probs: np.ndarray, id2label: dict[int, str]) -> list[WordTag]:
    """Per word: the most likely field (summing B and I), whether it begins a span, and its probability."""
    fields: list[str] = []
    for i in range(len(id2label)):
        lab = id2label[i]
        fields.append("O" if lab == "O" else lab[2:])
    names = sorted({f for f in fields if f != "O"})
    if not len(words):
        return []
    idx_b = [id2label_index(id2label, "B-" + f) for f in names]
    idx_i = [id2label_index(id2label, "I-" + f) for f in names]
    o_idx = id2label_index(id2label, "O")
    p = np.asarray(probs, dtype=np.float64)[:len(words)]
    pb, pi = p[:, idx_b], p[:, idx_i]
    both = pb + pi  # per word and field: P(B-field) + P(I-field)
    best = both.argmax(axis=1)  # the first of equal fields, in name order
    top = both[np.arange(len(words)), best]
    po = p[:, o_idx] if o_idx is not None else np.zeros(len(words))
    out: list[WordTag] = []
    for k, w in enumerate(words):
        if top[k] > po[k]:
            j = int(best[k])
            out.append(WordTag(w, k, names[j], bool(pb[k, j] >= pi[k, j]), float(top[k])))
        else:
            out.append(WordTag(w, k, None, False, float(po[k])))
    return out


def words_text(sheet: Sheet, words: Sequence[Word], multiline: bool, joiner: str = " ") -> str:
    """Words in visual order: a row's words joined by spaces, rows by ", " (multi-line blocks) or ``joiner``."""
    rows = sheet.rows_of(words)
    parts = [row_text([words[i] for i in r]) for r in rows]
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


def parse_value(field: str, raw: str, loc: Locale) -> object:
    """``raw`` read as field ``field``: None when it does not parse as one."""
    if field in ("order_date", "requested_date"):
        return parse_date(raw, loc)
    if field in ("total", "quantity", "unit_price", "amount"):
        if DATE_SHAPE.match(raw.strip()) or raw.strip().endswith("%"):
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
    if field == "po_number" and (not any(c.isdigit() for c in raw) or DATE_SHAPE.match(raw.strip())
                                 or re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip())):
        return None  # an order number has a digit and is no date: "John" is a name
    if field in ("po_number", "sku"):
        # Captions and brackets that cling to a code ("#4711", "(AB-12)", "AB-370),") are not part of it.
        v = raw.strip().strip(":#,;").strip()
        if v.endswith(")") and "(" not in v:
            v = v[:-1]
        if v.startswith("(") and ")" not in v:
            v = v[1:]
        return v.strip() or None
    return raw.strip() or None


def _clusters(sheet: Sheet, tags: Sequence[WordTag], numeric: bool) -> list[list[WordTag]]:
    """Words that sit together: same row and a gap under a fraction of the word height
    (a number's thin-space groups: "1 234,56"), or, for codes, the next row in the same column
    (an item code wrapped in its cell). Two numbers in two columns are two clusters."""
    words = [t.word for t in tags]
    rows = sheet.rows_of(words)
    out: list[list[int]] = []
    for r in rows:
        cur = [r[0]]
        for i in r[1:]:
            prev = words[cur[-1]]
            gap = words[i].box.x0 - prev.box.x1
            if gap <= (0.6 if numeric else 1.5) * prev.box.h:
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
                a0, a1 = min(words[i].box.x0 for i in last), max(words[i].box.x1 for i in last)
                b0, b1 = min(words[i].box.x0 for i in c), max(words[i].box.x1 for i in c)
                lw, cw = words[last[-1]], words[c[0]]
                below = cw.page == lw.page and 0 <= cw.box.y0 - lw.box.y0 <= 2.2 * lw.box.h
                if below and min(a1, b1) - max(a0, b0) > 0:
                    last.extend(c)
                    continue
            merged.append(c)
        out = merged
    return [[tags[i] for i in c] for c in out]


def field_value(sheet: Sheet, field: str, tags: Sequence[WordTag], loc: Locale, kind: str, cal: Calibrator | None,
                multiline: bool = False, joiner: str = " ") -> Field:
    """The value a span of tagged words spells, as field ``field``."""
    if field in _COMPACT and len(tags) > 1:
        # A value printed once is one cluster of words: of several, take the likeliest that parses.
        best: Field | None = None
        best_s = -1.0
        for c in _clusters(sheet, tags, field in NUMERIC):
            f = _field_of(sheet, field, c, loc, kind, cal, multiline, joiner)
            s = float(np.mean([t.score for t in c])) + (1.0 if f.present else 0.0)
            if s > best_s:
                best, best_s = f, s
        if best is not None:
            return best
    return _field_of(sheet, field, tags, loc, kind, cal, multiline, joiner)


def _field_of(sheet: Sheet, field: str, tags: Sequence[WordTag], loc: Locale, kind: str, cal: Calibrator | None,
              multiline: bool = False, joiner: str = " ") -> Field:
    words = [t.word for t in tags]
    raw = words_text(sheet, words, multiline, joiner)
    value = parse_value(field, raw, loc)
    if multiline and value:
        # a block keeps its rows in ``raw`` (one per line); the value joins them with ", "
        raw = "\n".join(row_text([words[i] for i in r]).strip().rstrip(",").strip() for r in sheet.rows_of(words))
    score = float(np.mean([t.score for t in tags])) if tags else 0.0
    if value is None or value == "":
        # A tagged span that does not parse is not a value; keep what was printed for review.
        return Field(value=None, raw=raw or None, confidence=0.0, source=union(words))
    conf = cal(kind, score) if cal else score
    return Field(value=value, raw=raw, confidence=float(min(1.0, max(0.0, conf))), source=union(words))


def header_instances(tags: Sequence[WordTag]) -> list[list[WordTag]]:
    """Split one field's words (in reading order) into spans: at a B tag, a page change or a jump."""
    inst: list[list[WordTag]] = []
    for t in tags:
        if inst:
            last = inst[-1][-1].word
            h = last.box.h
            far = (t.word.page != last.page or t.word.box.y0 - last.box.y1 > 2.5 * h
                   or last.box.y0 - t.word.box.y1 > 2.5 * h)
            if not t.begin and not far:
                inst[-1].append(t)
                continue
        inst.append([t])
    return inst
