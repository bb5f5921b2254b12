"""Values named by their caption: "PO Number: 4500012345", "Order Date" over "11.12.2025",
and party blocks named by theirs ("Ship To:" beside or over an address).

Every order form labels its key values, in a few dozen ways per language (the ``header`` and
``parties`` sections of the lexicon, extractors/lexicon). The layout model learns these captions
from the synthetic corpus, but on a layout it has never seen it can take the wrong number
("Incoterms" for the order number, a row count for the total) or tag an address block only in
part. This reader finds captions among the words and reads the value beside them (same row,
to the right) or under them (the next row, overlapping in x), checked by type: an order number
has a digit, a date parses, a total is a number. The header and party checks use it to fill a
field the model left empty and to replace a value no caption vouches for.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Sequence

from extractors.geometry import Sheet, rtl
from extractors.lexicon import LEXICON
from extractors.normalize import Locale, parse_currency, parse_date, parse_number
from intake.core.domain import Field, Word

__all__ = ["CaptionValue", "caption_values", "PartyBlock", "party_blocks", "rows_below", "other_caption",
           "caption_left_of", "starts_with_other_caption", "typed_value", "contact_row", "CONTACT", "starts_caption",
           "norm_token", "party_caption_at", "caption_at", "value_of_other_key", "OTHER_KEY_CAPTIONS"]

# Words after "Total" that make it a count, not an amount of money ("Total Units", "Total Packs").
_COUNTED = LEXICON.words("counted")
_SEP = LEXICON.words("caption_separators")
_ABBREV = dict(w.split("=", 1) for w in LEXICON.word_list("abbreviations"))  # "Order No." is "Order No"
_CODE = re.compile(r"^(?=[A-Za-z0-9/_.-]*\d)[A-Za-z0-9][A-Za-z0-9/_.-]*$")


def norm_token(t: str) -> str:
    """A word as captions are matched: lower case, no colon around it, "no." as "no"."""
    t = t.casefold().strip(":").strip()
    return _ABBREV.get(t, t)


def _compile() -> list[tuple[str, list[str], bool]]:
    caps = LEXICON.captions("header")
    pats = [(c.field, list(c.tokens), c.colon) for c in caps]
    # a spreadsheet's column names in one word: "OrderID", "PO_Number", "DeliveryDate"
    pats += [(c.field, [j.join(c.tokens)], False) for c in caps for j in ("", "_")
             if len(c.tokens) > 1 and "." not in c.text and "#" not in c.text]
    return sorted(pats, key=lambda p: -len(" ".join(p[1])))


# Patterns by their first token, longest first: a row is scanned once, not once per pattern.
_BY_FIRST: dict[str, list[tuple[str, list[str], bool]]] = {}
for _f, _pat, _colon in _compile():
    _BY_FIRST.setdefault(_pat[0], []).append((_f, _pat, _colon))


@dataclass
class CaptionValue:
    field: str
    value: object
    words: list[Word]
    caption: str
    below: bool
    qualified: bool = False  # a word before the caption names another number ("Bulk Order Number")


def typed_value(field: str, ws: Sequence[Word], loc: Locale) -> object | None:
    """The value of header field ``field`` that the words ``ws`` (after its caption) start with."""
    if not ws:
        return None
    if field == "po_number":
        v = ws[0].text.strip(":#,;()")
        return v if _CODE.match(v) and len(v) >= 3 and not parse_date(v, loc) else None
    if field in ("order_date", "requested_date"):
        for n in (3, 2, 1):  # "01 Jul, 2025", "Sep 20", "11.12.2025"
            if len(ws) >= n:
                d = parse_date(" ".join(w.text for w in ws[:n]).strip(",;"), loc)
                if d:
                    return d
        return None
    if field == "total":
        v = parse_number("".join(w.text for w in ws[-2:]) if len(ws) == 2 else ws[-1].text, loc)
        return float(v) if v is not None else None
    if field == "currency":
        return parse_currency(ws[0].text.strip(":;,()"))
    if field == "payment_terms":
        text = " ".join(w.text for w in ws).strip(" :;,")
        # Terms are words ("Net 30", "Vorkasse"), not a lone number, date or another caption.
        if not any(c.isalpha() for c in text) or starts_caption([norm_token(w.text) for w in ws]):
            return None
        return text
    return None


def starts_caption(toks: Sequence[str]) -> bool:
    """Whether a run of tokens begins with a whole header caption ("Delivery date ...")."""
    return caption_at(toks) is not None


def caption_at(toks: Sequence[str]) -> tuple[str, int] | None:
    """The header field a caption at the start of ``toks`` (normalised words, :func:`norm_token`)
    names, with the caption's length in words (the longest caption that matches)."""
    for f, p, _c in _BY_FIRST.get(toks[0] if toks else "", ()):
        if list(toks[:len(p)]) == p:
            return f, len(p)
    return None


def _gap(a: Word, b: Word, rtl_row: bool = False) -> float:
    """The space from word ``a`` to the next word ``b`` in reading order (leftwards in a
    right-to-left row)."""
    return a.box[0] - b.box[2] if rtl_row else b.box[0] - a.box[2]


def _run(ws: Sequence[Word], rtl_row: bool = False) -> list[Word]:
    """The first words of a row (in reading order) up to a column gap (a value printed beside
    another column's)."""
    out: list[Word] = []
    for w in ws:
        if out and _gap(out[-1], w, rtl_row) > 2.5 * max(1.0, out[-1].box[3] - out[-1].box[1]):
            break
        out.append(w)
    return out


def caption_values(sheet: Sheet, loc: Locale) -> dict[str, list[CaptionValue]]:
    """For each field, the values its captions point at, in reading order."""
    words = sheet.words
    rows = sheet.rows()
    out: dict[str, list[CaptionValue]] = {}
    for ri, r in enumerate(rows):
        # a Hebrew or Arabic row reads from the right: its caption's value is left of it
        rtl_row = rtl(" ".join(words[i].text for i in r))
        if rtl_row:
            r = list(reversed(r))
        toks = [norm_token(words[i].text) for i in r]
        used = [False] * len(r)
        k = 0
        while k < len(r):
            hit = None
            for f, pat, colon in _BY_FIRST.get(toks[k], ()):
                n = len(pat)
                if k + n <= len(r) and not any(used[k:k + n]) and toks[k:k + n] == pat and (
                        n > 1 or not colon or words[r[k]].text.endswith(":")
                        or (k + 1 < len(r) and words[r[k + 1]].text == ":")):
                    # a caption is followed by its value, not by more words of a sentence
                    hit = (f, n)
                    break
            if hit is None:
                k += 1
                continue
            f, n = hit
            for j in range(k, k + n):
                used[j] = True
            cap_words = [words[i] for i in r[k:k + n]]
            h = cap_words[-1].box.h
            if f == "total" and k + n < len(r) and toks[k + n] in _COUNTED:
                k += n  # "Total Units: 3,500", "Total Packs": a count, not the order's total
                continue
            # "Bulk Order Number", "Customer PO No": a word just before the caption, at word spacing,
            # makes it another number of the same kind; such a caption only fills an empty field.
            prev = words[r[k - 1]] if k > 0 else None
            qualified = bool(prev is not None and not used[k - 1] and toks[k - 1] not in _SEP
                             and any(c.isalpha() for c in toks[k - 1]) and not prev.text.endswith(":")
                             and 0 <= _gap(prev, cap_words[0], rtl_row) < 1.0 * h)
            # to the right, on the same row, skipping ":" "#" "No."
            j = k + n
            while j < len(r) and toks[j] in _SEP:
                j += 1
            right = [words[i] for i in r[j:]]
            if right and _gap(cap_words[-1], right[0], rtl_row) > 25 * h:
                right = []  # far across the page: another column's value
            if f == "total":
                nums = [w for w in right if parse_number(w.text, loc) is not None and not w.text.endswith("%")]
                right = nums[-1:]
                if not rtl_row and len(nums) >= 2 and re.fullmatch(r"\d{3}(?:[.,]\d{1,2})?", nums[-1].text) and re.fullmatch(
                        r"\d{1,3}", nums[-2].text) and 0 <= nums[-1].box.x0 - nums[-2].box.x1 < 0.6 * h:
                    right = nums[-2:]  # "11 317": thousands set apart by a thin space
            elif f in ("order_date", "requested_date"):
                right = right[:3]
            elif f == "payment_terms":
                right = _run(right, rtl_row)
            else:
                right = right[:1]
            v = typed_value(f, right, loc) if right else None
            below = False
            if v is None and ri + 1 < len(rows) and f != "total":
                x0, x1 = cap_words[0].box.x0, cap_words[-1].box.x1
                nxt = [words[i] for i in rows[ri + 1] if words[i].page == cap_words[0].page
                       and min(x1, words[i].box.x1) - max(x0, words[i].box.x0) > 0]
                if nxt and nxt[0].box.y0 - cap_words[-1].box.y1 < 2.5 * h:
                    if f in ("payment_terms", "order_date", "requested_date"):
                        # the run that starts under the caption, to its column gap ("Jun 29, 2026")
                        row = [words[i] for i in rows[ri + 1] if words[i].page == cap_words[0].page]
                        start = row.index(nxt[0])
                        while start > 0 and row[start].box.x0 - row[start - 1].box.x1 < 1.0 * h \
                                and row[start - 1].box.x1 > x0 - 3 * h:  # a value centred under its caption
                            start -= 1
                        under = _run(row[start:])
                        if f != "payment_terms":
                            under = under[:3]
                    else:
                        under = nxt[:1] if f in ("po_number", "currency") else nxt[:3]
                    v = typed_value(f, under, loc)
                    right, below = under, True
            if v is not None:
                out.setdefault(f, []).append(CaptionValue(f, v, list(right), " ".join(toks[k:k + n]), below,
                                                          qualified))
            k += n
    return out


# --- Party blocks named by their caption -------------------------------------------------------
# "Ship To:" beside or over an address block, "Vendor" left of the supplier's name: the block the
# caption points at is that party, read whole (a model trained on synthetic layouts often tags a
# real block only in part, or tags the neighbouring block).

def _party_fields(field: str) -> tuple[str, ...]:
    return tuple(field.split("+"))  # "ship_to+bill_to": one block for both addresses


_PARTY_PATTERNS: dict[str, list[tuple[tuple[str, ...], list[str], bool]]] = {}
for _c in LEXICON.captions("parties"):
    _PARTY_PATTERNS.setdefault(_c.tokens[0], []).append((_party_fields(_c.field), list(_c.tokens), _c.colon))
for _v in _PARTY_PATTERNS.values():
    _v.sort(key=lambda p: -len(p[1]))

# A row of contact details ends an address block.
CONTACT = re.compile(LEXICON.regex("contact_prefixes", start=True, suffix=r"[.:]?").pattern + "|^["
                     + "".join(LEXICON.word_list("contact_letters")) + r"]\s?:", re.IGNORECASE)
_NUMBER_WORDS = LEXICON.words("number_words")


@dataclass
class PartyBlock:
    fields: tuple[str, ...]
    caption: str
    caption_words: list[Word]
    rows: list[list[Word]]

    @property
    def words(self) -> list[Word]:
        return [w for r in self.rows for w in r]

    @property
    def raw(self) -> str:
        return "\n".join(" ".join(w.text for w in r).strip().rstrip(",").strip() for r in self.rows)

    @property
    def text(self) -> str:
        return ", ".join(p for p in self.raw.split("\n") if p)


def party_caption_at(toks: Sequence[str], printed: Sequence[str] | None = None) -> tuple[tuple[str, ...], int] | None:
    """The party fields a caption at the start of ``toks`` (normalised words) names, with its
    length in tokens. A caption that is one only with its colon ("To:", "An:") needs the
    ``printed`` words (as on the page) to show it."""
    for fields, pat, colon in _PARTY_PATTERNS.get(toks[0] if toks else "", ()):
        if list(toks[:len(pat)]) == pat:
            if colon and not _colon_after(printed, len(pat)):
                continue
            return fields, len(pat)
    return None


def _colon_after(printed: Sequence[str] | None, n: int) -> bool:
    """Whether the ``n``-th printed word ends with a colon, or a colon stands after it."""
    if not printed or len(printed) < n:
        return False
    return printed[n - 1].rstrip().endswith(":") or (len(printed) > n and printed[n].strip() == ":")


def contact_row(ws: Sequence[Word]) -> bool:
    """A row of contact details (phone, e-mail, tax numbers): no part of an address block."""
    text = " ".join(w.text for w in ws)
    digits = sum(c.isdigit() for c in text)
    letters = sum(c.isalpha() for c in text)
    return bool(CONTACT.match(text)) or "@" in text or (digits >= 7 and letters <= 2)


def _key_row(ws: Sequence[Word]) -> bool:
    """A row that starts another caption ("PO Date", "Bill To:"): the block above has ended."""
    toks = [norm_token(w.text) for w in ws]
    return bool(party_caption_at(toks, [w.text for w in ws]) or starts_caption(toks))


def _run_starts(sheet: Sheet, page: int) -> list[float]:
    """Left edges of the runs of words on a page (a word after a column gap or first in its row)."""
    out: list[float] = []
    ws, rows = sheet.page(page)
    for r in rows:
        prev = None
        for i in r:
            w = ws[i]
            if prev is None or w.box.x0 - prev.box.x1 > 1.5 * w.box.h:
                out.append(w.box.x0)
            prev = w
    return sorted(out)


def _cut_at_caption(seg: list[Word], starts: list[float], h: float) -> list[Word]:
    """A segment running into the next caption of a key-value grid (a name, then "Group: Men"
    further along the row): cut where that caption starts, at a column other rows start at; a
    trailing ellipsis of a truncated value goes too."""
    def column(x: float) -> bool:
        lo = bisect.bisect_left(starts, x - 0.5 * h)
        hi = bisect.bisect_right(starts, x + 0.5 * h)
        return hi - lo >= 3

    for m in range(1, len(seg)):
        toks = [norm_token(w.text) for w in seg[m:m + 4]]
        hit = party_caption_at(toks, [w.text for w in seg[m:m + 4]])
        if hit and (seg[m + hit[1] - 1].text.endswith(":") or (m + hit[1] < len(seg) and toks[hit[1]:hit[1] + 1]
                                                                 and toks[hit[1]] in _NUMBER_WORDS)):
            seg = seg[:m]  # "... WEAR LTD.  Supplier No. 1004060": the next caption
            break
        if seg[m].text.endswith(":"):
            s = m
            while s > 1 and not column(seg[s].box.x0):
                s -= 1
            seg = seg[:s]
            break
    while seg and seg[-1].text in ("…", "...", "-", "|"):
        seg = seg[:-1]
    return seg


def party_blocks(sheet: Sheet) -> list[PartyBlock]:
    """Party blocks named by a caption, in reading order: the block to the right of the caption
    (its first row on the caption's row, the rows under it aligned with it, until a row with
    something in the caption's column) or under it (rows aligned under the caption, bounded by
    whatever stands right of the caption on its row). A block ends at a blank row, a row of
    contact details (phone, e-mail, tax numbers) or another caption."""
    words = sheet.words
    rows = sheet.rows()
    out: list[PartyBlock] = []
    for ri, r in enumerate(rows):
        toks = [norm_token(words[i].text) for i in r]
        printed = [words[i].text for i in r]
        k = 0
        while k < len(r):
            hit = party_caption_at(toks[k:], printed[k:])
            if hit is None:
                k += 1
                continue
            fields, n = hit
            cap = [words[i] for i in r[k:k + n]]
            h = cap[-1].box.h
            prev = words[r[k - 1]] if k > 0 else None
            j = k + n
            while j < len(r) and toks[j] in ("", ":"):
                j += 1
            colon = cap[-1].text.endswith(":") or j > k + n
            nxt = words[r[j]] if j < len(r) else None
            # a caption stands apart: not the middle of a phrase ("Our customer service", "Vendor No.")
            if (prev is not None and cap[0].box.x0 - prev.box.x1 < 0.6 * h and not prev.text.endswith(":")) or (
                    nxt is not None and not colon and nxt.box.x0 - cap[-1].box.x1 < 0.6 * h):
                k += 1
                continue
            blk = _party_block(sheet, rows, ri, r, j, cap, h)
            if blk:
                out.append(PartyBlock(fields, " ".join(toks[k:k + n]), cap, blk))
            k = j
    return out


def _segment(words: Sequence[Word], row: list[int], x: float, bound: float, h: float, starts: list[float],
             page: int, first: bool = False) -> list[Word]:
    """The run of a row's words that starts at ``x`` (left of ``bound``), or [] when none does."""
    ws = [words[i] for i in row if words[i].page == page and words[i].box.x0 < bound - 0.5 * h]
    start = next((k for k, w in enumerate(ws) if abs(w.box.x0 - x) < 1.5 * h), None)
    if start is None:
        return []
    seg = _cut_at_caption(_run(ws[start:]), starts, h)
    # the run starts the segment: a word just left of it at word spacing means x is mid-row
    if not first and start > 0 and seg and seg[0].box.x0 - ws[start - 1].box.x1 < 0.6 * h:
        return []
    return seg


def _continue_block(words: Sequence[Word], rows: list[list[int]], nri: int, block: list[list[Word]], x: float,
                    h: float, bound: float, starts: list[float], page: int,
                    col: tuple[float, float] | None = None) -> list[list[Word]]:
    """Rows under ``block`` that continue it: aligned at ``x``, at the block's line spacing, up to a
    blank line, a row of contact details, another caption, or (``col``) a word in the caption's column."""
    while nri < len(rows) and len(block) < 8:
        row = [i for i in rows[nri] if words[i].page == page]
        if not row:
            break
        if not any(words[i].box.x1 > x - 1.5 * h and words[i].box.x0 < bound for i in row):
            nri += 1  # a row of another column only (columns whose rows interleave)
            continue
        last_bottom = max(w.box.y1 for w in block[-1])
        top = min(words[i].box.y0 for i in row)
        if top - last_bottom > 1.2 * h:
            break
        if len(block) >= 2:
            pitch = min(w.box.y0 for w in block[-1]) - min(w.box.y0 for w in block[-2])
            if pitch > 0 and top - min(w.box.y0 for w in block[-1]) > 1.4 * pitch:
                break  # a blank line between: the block has ended
        if col is not None and any(words[i].box.x1 > col[0] and words[i].box.x0 < col[1] for i in row):
            break  # the caption's column holds the next caption ("Phone", "Vendor")
        seg = _segment(words, row, x, bound, h, starts, page)
        if not seg or contact_row(seg) or _key_row(seg):
            break
        block.append(seg)
        nri += 1
    return block


def rows_below(sheet: Sheet, block: Sequence[Word]) -> list[list[Word]]:
    """Rows that continue the block ``block`` (words on one page) downwards, aligned with its left
    edge: the address lines a model left untagged under the ones it tagged."""
    if not block:
        return []
    page = block[0].page
    ids = {id(w) for w in block}
    pw, rows = sheet.page(page)
    own = [[pw[i] for i in r if id(pw[i]) in ids] for r in rows]
    have = [k for k, r in enumerate(own) if r]
    if not have:
        return []
    h = sorted(w.box.h for w in block)[len(block) // 2]
    x = min(w.box.x0 for w in block)
    seed = [own[k] for k in have]
    n = len(seed)
    out = _continue_block(pw, rows, have[-1] + 1, list(seed), x, h, float("inf"), _run_starts(sheet, page), page)
    return out[n:]


def _party_block(sheet: Sheet, rows: list[list[int]], ri: int, r: list[int], j: int, cap: list[Word],
                 h: float) -> list[list[Word]] | None:
    words = sheet.words
    page = cap[0].page
    nxt = words[r[j]] if j < len(r) else None
    right_of_cap = nxt is not None and nxt.box.x0 - cap[-1].box.x1 <= 15 * h and not _key_row([words[i] for i in r[j:j + 4]])
    if right_of_cap and not any(c.isalpha() for c in nxt.text):
        return None  # a code beside the caption ("Vendor 0012345"): the party's number, not its block
    if right_of_cap and nxt.box.x0 - cap[-1].box.x1 > 4 * h and ri + 1 < len(rows):
        # far right of the caption, with a block aligned right under it: the block under it is
        # the caption's ("Invoice and shipping address:" over the address; the far word is the
        # start of the window address printed beside it)
        under = [words[i] for i in rows[ri + 1] if words[i].page == page]
        width = max(w.box.x1 for w in words if w.page == page) - min(w.box.x0 for w in words if w.page == page)
        if nxt.box.x0 - cap[-1].box.x1 > 0.2 * width and under and under[0].box.y0 - cap[-1].box.y1 < 1.5 * h and any(
                abs(w.box.x0 - cap[0].box.x0) < 1.0 * h for w in under):
            right_of_cap = False
    starts = _run_starts(sheet, page)

    def segment(row: list[int], x: float, bound: float, first: bool = False) -> list[Word]:
        return _segment(words, row, x, bound, h, starts, page, first)

    block: list[list[Word]] = []
    if right_of_cap and nxt is not None:
        x = nxt.box.x0
        bound = float("inf")
        col0, col1 = cap[0].box.x0 - h, x - 0.5 * h
        first = segment(r, x, bound, first=True)
        first = [w for w in first if not _key_row([w])] if first and _key_row(first[1:2]) else first
        block.append(first)
        nri = ri + 1
    else:
        bound = nxt.box.x0 if nxt is not None else float("inf")
        col0 = col1 = None
        # the first row under the caption with a word under it (rows of other columns can come between)
        nri = ri + 1
        cand: list[Word] = []
        while nri < len(rows):
            below = [words[i] for i in rows[nri] if words[i].page == page]
            if not below or below[0].box.y0 - cap[-1].box.y1 > 2.5 * h:
                return None
            cand = [w for w in below if cap[0].box.x0 - 2 * h <= w.box.x0 < min(cap[-1].box.x1, bound - 0.5 * h)]
            if cand:
                break
            nri += 1
        if not cand:
            return None
        x = cand[0].box.x0
        first = segment(rows[nri], x, bound)
        if not first:
            return None
        block.append(first)
        nri += 1
    if not block[0] or contact_row(block[0]) or _key_row(block[0]) or block[0][-1].text.endswith(":") \
            or sum(c.isalpha() for w in block[0] for c in w.text) < 2:
        return None
    return _continue_block(words, rows, nri, block, x, h, bound, starts, page,
                           (col0, col1) if col0 is not None and col1 is not None else None)


# Captions of a purchase order's key-value header that name something other than a party
# ("Department 12 KIDS", "Category 1204 KNITWEAR", "Factory 40012345"): their value is
# no buyer, supplier or address, however the model tagged it.
OTHER_KEY_CAPTIONS = LEXICON.words("other_keys")
_CONTACT_CAPTIONS = LEXICON.words("contact_captions")
HEADER_CAPTIONED = frozenset(LEXICON.fields("header"))  # fields whose value a caption names


def other_caption(text: str, field: str = "buyer") -> bool:
    """Whether ``text`` (a caption as printed) names a value other than ``field``: a key of the
    header grid (department, season, factory, article number), or for a party also a header
    field (order number, date, currency) or a table column."""
    t = norm_token(text).strip(" #").strip()
    t = re.sub(r"\s+", " ", t.replace(".", ". ").replace(" .", ".")).strip()
    t = t.rstrip(".") if t.rstrip(".") in OTHER_KEY_CAPTIONS else t
    if not t:
        return False
    own = [p for f, p, _c in _BY_FIRST.get(t.split()[0], ()) if t == " ".join(p)]
    if field in HEADER_CAPTIONED:
        # an order number, date or total is not printed after a party's or a contact's caption
        return not own and (t in OTHER_KEY_CAPTIONS or t in _CONTACT_CAPTIONS or bool(party_caption_at(t.split(), text.split())))
    if party_caption_at(t.split(), text.split()):
        return False
    if t in OTHER_KEY_CAPTIONS or own:
        return True
    # any other key of a key-value grid, printed with its colon ("Country of Origin:"): its
    # value is no party; a contact caption ("Name:", "Attn:") may head a party's own rows, and a
    # party's value runs on into the next block's caption ("ACME LTD  Buyer:")
    toks = t.split()
    return (text.rstrip().endswith(":") and t not in _CONTACT_CAPTIONS and sum(c.isalpha() for c in t) >= 2
            and len(toks) <= 3 and not any(party_caption_at(toks[k:]) or toks[k] in _ROLE_WORDS for k in range(len(toks))))


_ROLE_WORDS = LEXICON.words("role_captions")



def caption_left_of(words: Sequence[Word], first: Word) -> str | None:
    """The caption printed left of a value on its row: the run of words before the value's own
    run (runs are split at a gap of over one line height), or the words up to a colon in the
    value's own run (a caption printed at word spacing, "Forwarder: CEVA"). None when the value
    starts its row, or is written right to left (its caption is printed right of it)."""
    if rtl(first.text):
        return None
    h = first.box.h
    row = sorted((w for w in words if w.page == first.page and w.box.x1 <= first.box.x0 + 0.5
                  and min(w.box.y1, first.box.y1) - max(w.box.y0, first.box.y0) > 0.5 * h),
                 key=lambda w: w.box.x0)
    # walk left: the value's own run, then the caption's
    runs: list[list[Word]] = [[first]]
    for w in reversed(row):
        if w is first:
            continue
        if runs[-1][0].box.x0 - w.box.x1 > 1.0 * h:
            if len(runs) == 2:
                break
            runs.append([w])
        else:
            runs[-1].insert(0, w)
    own = runs[0][:-1]  # the words of the value's own run before it
    k = max((j for j, w in enumerate(own) if w.text.endswith(":")), default=-1)
    if k >= 0:
        # a caption printed at word spacing before its value ("Forwarder: CEVA"): from the
        # previous caption's colon, or the run's start, to its own colon
        start = max((j + 1 for j in range(k) if own[j].text.endswith(":")), default=0)
        cap = own[start:k + 1]
    elif len(runs) < 2:
        return None
    else:
        cap = runs[1]
    if len(cap) > 5 or any(c.isdigit() for w in cap for c in w.text):
        return None
    return " ".join(w.text for w in cap)


def starts_with_other_caption(words: Sequence[Word], first: Word, field: str = "buyer") -> bool:
    """Whether the row read from ``first`` begins with a caption of another key, printed whole
    before its value ("Factory   40012345", "Season No: 0000424C")."""
    h = first.box.h
    row = sorted((w for w in words if w.page == first.page and w.box.x0 >= first.box.x0 - 0.5
                  and min(w.box.y1, first.box.y1) - max(w.box.y0, first.box.y0) > 0.5 * h),
                 key=lambda w: w.box.x0)
    for n in range(1, min(5, len(row)) + 1):
        cap = row[:n]
        # a caption ends at a colon or a gap; "Country of Origin" is one whatever follows
        ends = cap[-1].text.endswith(":") or n == len(row) or row[n].box.x0 - cap[-1].box.x1 > 1.0 * h or n >= 2
        if ends and other_caption(" ".join(w.text for w in cap), field):
            return True
        if cap[-1].text.endswith(":"):
            return False
    return False


def value_of_other_key(fld: Field, words: Sequence[Word], f: str) -> bool:
    """Whether ``fld`` (read as field ``f``) is printed as the value of another key's caption,
    or starts with such a caption."""
    if not fld.source:
        return False
    src = fld.source[0]
    inside = [w for w in words if w.page == src.page and w.box.x0 >= src.box[0] - 0.5
              and w.box.x1 <= src.box[2] + 0.5 and w.box.y0 >= src.box[1] - 0.5 and w.box.y1 <= src.box[3] + 0.5]
    if not inside:
        return False
    top = min(w.box.y0 for w in inside)
    h = max(1.0, min(w.box.height for w in inside))
    first = min((w for w in inside if w.box.y0 - top < 0.5 * h), key=lambda w: w.box.x0)
    cap = caption_left_of(words, first)
    return (cap is not None and other_caption(cap, f)) or starts_with_other_caption(words, first, f)
