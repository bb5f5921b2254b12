"""Layouts learned from corrections, applied: a document of a learned layout is read by the
captions the corrections showed beside each value.

A customer's layout repeats its captions from one order to the next ("Order No:", "Date of
Order:", a "Qty/Article" column heading); the values change. Retraining learns, from the
corrected documents of each layout, the caption that leads to every confirmed value (the words
right before it on its row, or right above it): ``training/anchors.py`` (``learn_layouts``),
written into the model directory as ``layouts.json`` and read back by
:class:`extractors.serving.ModelDir` (``anchors``).

``apply_layouts`` reads a document of a learned layout (its fingerprint holds enough of the
layout's template, the measure routing uses: :mod:`extractors.serving.router`) by its anchors:
a value an anchor finds and that parses as its field replaces the model's, with
``ANCHOR_CONF``; an order the corrections showed as one article (the article named in the
header, its quantity and price in a table, as many apparel orders print it) becomes that one
line.

No template is written by anyone: the anchors come from corrections, and a model with them is
promoted only when it reads the held-out corrections better without being worse elsewhere
(training/gate.py).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from extractors.assembly.captions import caption_at, norm_token, party_caption_at
from extractors.assembly.captions import typed_value as _typed
from extractors.assembly.engine import Change
from extractors.geometry import boxed
from extractors.geometry import union as _union
from extractors.lexicon import norm as _lexicon_norm
from extractors.normalize import Locale, parse_number
from extractors.serving.router import Router
from intake.core.domain import Field, LineDraft, OrderDraft, Word

__all__ = [
    "ANCHOR_CONF", "HEADER_ANCHORED", "LINE_ANCHORED", "MAX_CAPTION_WORDS", "MAX_ABOVE_ROWS", "caption_norm",
    "line_height", "same_row", "run_around", "find_caption", "match_layout", "apply_layouts",
]

ANCHOR_CONF = 0.9  # a value read where corrections of the layout put it
HEADER_ANCHORED = ("po_number", "order_date", "requested_date", "buyer", "supplier", "currency",
                   "payment_terms", "total")
LINE_ANCHORED = ("sku", "description", "quantity", "unit_price", "amount")
_NUMERIC = frozenset({"total", "quantity", "unit_price", "amount"})
_CODES = frozenset({"po_number", "sku"})
_DATES = frozenset({"order_date", "requested_date"})
MAX_CAPTION_WORDS = 6
MAX_ABOVE_ROWS = 3.0  # a caption over its value: at most this many line heights above it


def caption_norm(t: str) -> str:
    return _lexicon_norm(t.replace(":", " "))


def line_height(w: Word) -> float:
    return float(w.box.h)  # words are boxed (extractors.geometry.boxed)


def same_row(a: Word, b: Word) -> bool:
    return a.page == b.page and a.box.y_overlap(b.box) > 0.5 * min(line_height(a), line_height(b))


def run_around(words: Sequence[Word], idx: list[int], gap: float = 1.0) -> list[int]:
    """``idx`` grown along its row to the words at word spacing (``gap`` line heights at most)
    on either side."""
    if not idx:
        return idx
    row = sorted((i for i, w in enumerate(words) if same_row(w, words[idx[0]])), key=lambda i: words[i].box.x0)
    lo = min(row.index(i) for i in idx)
    hi = max(row.index(i) for i in idx)
    while lo > 0 and words[row[lo]].box.x0 - words[row[lo - 1]].box.x1 <= gap * line_height(words[row[lo]]):
        lo -= 1
    while hi + 1 < len(row) and words[row[hi + 1]].box.x0 - words[row[hi]].box.x1 <= gap * line_height(words[row[hi]]):
        hi += 1
    return row[lo:hi + 1]


# --- reading a document by its layout's anchors ------------------------------------------------

def find_caption(words: Sequence[Word], caption: str) -> list[list[int]]:
    """Every place ``caption`` is printed (consecutive words of a row at word spacing), in
    reading order."""
    toks = caption.split()
    found: list[list[int]] = []
    starts = [i for i, w in enumerate(words) if caption_norm(w.text).split()[:1] == toks[:1]]
    for s in starts:
        run = run_around(words, [s])
        run = run[run.index(s):]
        got: list[str] = []
        used: list[int] = []
        for i in run:
            got.extend(caption_norm(words[i].text).split())
            used.append(i)
            if len(got) >= len(toks):
                break
        if got == toks:
            found.append(used)
    found.sort(key=lambda u: (words[u[0]].page, words[u[0]].box.y0, words[u[0]].box.x0))
    return found


def _value_words(words: Sequence[Word], cap: list[int], how: str, field: str = "") -> list[int]:
    c = [words[i] for i in cap]
    h = line_height(c[-1])
    if how == "right":
        last = c[-1]
        row = sorted((i for i, w in enumerate(words) if same_row(w, last) and w.box.x0 >= last.box.x1 - 0.5
                      and i not in cap), key=lambda i: words[i].box.x0)
        if not row or words[row[0]].box.x0 - last.box.x1 > 25 * h:
            return []
        run = run_around(words, [row[0]])
        run = run[run.index(row[0]):]
        # a run that reaches the next caption of a key-value grid ("ACME KNITS … Customer
        # Group:") ends at the widest gap before that caption; a caption the lexicon knows
        # ("… Order Date 12.03.2026") ends it where it starts
        toks = [norm_token(words[i].text) for i in run]
        for k in range(1, len(run)):
            known = caption_at(toks[k:]) or party_caption_at(toks[k:], [words[i].text for i in run[k:]])
            if known is not None and known[1] >= 2:
                run = run[:k]
                break
        colon = next((k for k in range(1, len(run)) if words[run[k]].text.endswith(":")), None)
        if colon is not None:
            gaps = [(words[run[k]].box.x0 - words[run[k - 1]].box.x1, k) for k in range(1, colon + 1)]
            run = run[:max(gaps)[1]]
        return run
    x0, x1 = min(w.box.x0 for w in c), max(w.box.x1 for w in c)
    bottom, page = max(w.box.y1 for w in c), c[0].page
    under = [i for i, w in enumerate(words) if w.page == page and w.box.y0 >= bottom - 0.5
             and w.box.y0 - bottom < MAX_ABOVE_ROWS * h and min(x1, w.box.x1) - max(x0, w.box.x0) > 0]
    if not under:
        return []
    top = min(words[i].box.y0 for i in under)
    row = sorted((i for i in under if words[i].box.y0 - top < 0.5 * h), key=lambda i: words[i].box.x0)
    # the words under the caption (by their centre), grown only at tight spacing: a table row's
    # next column is not part of the value
    centred = [i for i in row if x0 - h <= words[i].box.cx <= x1 + h]
    # a number or code under its column heading stops at the next column; a name runs on at
    # word spacing ("Northwind Engineering Ltd." under a short "From")
    tight = field in _NUMERIC or field in _CODES or field in _DATES or field == "currency"
    return run_around(words, centred or row, gap=0.5 if tight else 1.0)


def _parse(field: str, ws: list[Word], loc: Locale) -> Any:
    texts = [w.text for w in ws]
    if field in _NUMERIC:
        # "8 885": thousands set apart by a space are one number
        nums: list[str] = []
        for t in texts:
            if nums and re.fullmatch(r"\d{3}(?:[.,]\d+)?", t) and re.fullmatch(r"\d{1,3}", nums[-1]):
                nums[-1] += t
                continue
            if nums:
                break
            if parse_number(t, loc) is not None and any(c.isdigit() for c in t) and not t.endswith("%"):
                nums.append(t)
        v = parse_number(nums[0], loc) if nums else None
        return float(v) if v is not None else None
    if field in _DATES:
        return _typed(field, ws, loc)
    if field == "currency":
        return next((c for c in (_typed("currency", [w], loc) for w in ws) if c), None)
    if field in _CODES:
        v = texts[0].strip(":#,;()") if texts else ""
        return v if any(c.isdigit() for c in v) and len(v) >= 2 else None
    text = " ".join(texts).strip(" …,;:").strip()
    return text if sum(c.isalpha() for c in text) >= 2 else None


def _read(words: Sequence[Word], anchor: dict[str, Any], field: str, loc: Locale) -> Field | None:
    places = find_caption(words, str(anchor["caption"]))
    nth, of = int(anchor.get("nth", 0)), int(anchor.get("of", 1))
    if of > 1 and nth == of - 1:
        order = list(reversed(places))  # the last of several, as in the corrections (a grand total)
    elif nth < len(places):
        order = [places[nth]] + places[:nth] + places[nth + 1:]
    else:
        order = places
    for cap in order:
        idx = _value_words(words, cap, str(anchor["how"]), field)
        ws = [words[i] for i in idx]
        v = _parse(field, ws, loc) if ws else None
        if v is not None:
            raw = " ".join(w.text for w in ws)
            return Field(value=v, raw=raw, confidence=ANCHOR_CONF, source=_union(ws))
    return None


def match_layout(doc: Any, layouts: Sequence[dict[str, Any]]) -> tuple[dict[str, Any] | None, float]:
    """The learned layout ``doc`` is of (its fingerprint holds at least the layout's threshold
    of the layout's template), with the score; (None, best score) when none."""
    best, best_s = None, 0.0
    for lay in layouts:
        r = Router(lay["fingerprints"], float(lay.get("threshold", 0.7)))
        s, _who = r.score(doc)
        if s >= r.threshold and s > best_s:
            best, best_s = lay, s
        elif best is None:
            best_s = max(best_s, s)
    return best, best_s


def _show(f: Field) -> str:
    return "-" if not f.present else f"{f.value} ({f.confidence:.2f})"


def apply_layouts(doc: Any, draft: OrderDraft, layouts: Sequence[dict[str, Any]], loc: Locale,
                  trace: list[Change] | None = None) -> OrderDraft:
    """``draft`` with the values the anchors of ``doc``'s learned layout read (unchanged when
    ``doc`` is of no learned layout). ``trace``: receives each change (step ``learned_layout``)."""
    lay, score = match_layout(doc, layouts)
    if lay is None:
        return draft
    before = {f: _show(getattr(draft, f)) for f in OrderDraft.HEADER_FIELDS}
    n_lines = len(draft.lines)
    words = boxed([w if w.page == pi else w.model_copy(update={"page": pi})
                   for pi, p in enumerate(doc.pages) for w in p.words])
    anchors = lay["anchors"]
    used: list[str] = []
    for f in HEADER_ANCHORED:
        if f not in anchors:
            continue
        got = _read(words, anchors[f], f, loc)
        if got is None:
            continue
        cur: Field = getattr(draft, f)
        if cur.present and cur.value == got.value:
            got = cur.model_copy(update={"confidence": max(cur.confidence, ANCHOR_CONF)})
        setattr(draft, f, got)
        used.append(f)
    for f in lay.get("absent") or []:
        if getattr(draft, f, None) is not None and getattr(draft, f).present and f not in anchors:
            setattr(draft, f, Field())
            used.append(f"-{f}")
    if lay.get("single_item"):
        vals = {f: _read(words, anchors[f], f, loc) for f in LINE_ANCHORED if f in anchors}
        if (vals.get("sku") or vals.get("description")) and vals.get("quantity"):
            line = LineDraft(line_no=Field(value=1, raw="1", confidence=ANCHOR_CONF),
                             **{f: v for f, v in vals.items() if v is not None})
            draft.lines = [line]
            used.append("lines")
    if used:
        draft.meta["layout"] = {"learned": True, "score": round(score, 3), "fields": used}
    if trace is not None:
        why = f"the captions corrections of this layout showed (fingerprint match {score:.2f})"
        for f, b in before.items():
            if _show(getattr(draft, f)) != b:
                trace.append(Change("learned_layout", f, b, _show(getattr(draft, f)), why))
        if "lines" in used:
            trace.append(Change("learned_layout", "lines", f"{n_lines} line(s)", "1 line (one article)", why))
    return draft
