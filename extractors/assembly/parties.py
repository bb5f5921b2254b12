"""Parties: buyer, supplier, ship-to and bill-to blocks.

Side-by-side address blocks interleave in reading order, and a word of one block is easily
tagged with its neighbour's field: words are grouped into blocks by geometry and each block
takes the field its words vote for (``party_blocks``). The checks after the header spans read
party blocks named by a caption whole, put the roles of a seller's document the right way
round, and name a party by its name rather than its street.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from extractors.assembly.captions import party_blocks as captioned_blocks
from extractors.assembly.captions import PartyBlock, rows_below, value_of_other_key
from extractors.assembly.engine import Context, Step
from extractors.assembly.tagging import MULTILINE_FIELDS, NAMED_PARTIES, WordTag
from extractors.assembly.values import LEGAL_FORM, same_text
from extractors.geometry import Box, Sheet, row_text, rtl, union
from extractors.lexicon import LEXICON, norm
from intake.core.domain import Field, OrderDraft, Word

__all__ = ["STEPS_BLOCKS", "STEPS", "party_name"]

PARTY_CAPTION_CONF = 0.85  # a party block only its caption names: a CSR confirms it
PARTY_REPLACE_BELOW = 0.9
SURE_ROLES_CONF = 0.9  # buyer and supplier both read at least this sure: their roles stand
CAPTION_AGREES_CONF = 0.97
# Captions that also name a person's role in the buying company ("Buyer: Jane Miller").
_ROLE_CAPTIONS = LEXICON.words("role_captions")
_SALES_TITLE = LEXICON.regex("sales_titles")
_PURCHASE_TITLE = LEXICON.regex("purchase_titles")
_STREET_START = re.compile(r"^\d+[a-zA-Z]?[,.]?\s+\S")
_POST_BOX = LEXICON.regex("post_box", whole=False, start=True, suffix=r"\.?\s*\d")  # "PO Box 3425", "Postfach 10 20"


def party_name(fld: Field) -> Field:
    """Buyer and supplier are named by the party's name (the block's first row, or the row that
    reads as a company name when a person's name comes first, as in a mail signature); the
    whole block stays in ``raw`` for matching to read the address."""
    rows = [r.strip() for r in str(fld.raw or fld.value).split("\n") if r.strip()]
    if len(rows) == 1 and ", " in rows[0]:
        # one cell holding the whole block ("Dupont Inc., 9 Lakeview Road, Springfield"): the name
        # runs to its legal form, or up to the first part with a number in it
        parts = rows[0].split(", ")
        name_parts: list[str] = []
        for part in parts:
            if name_parts and any(c.isdigit() for c in part):
                break
            name_parts.append(part)
            if LEGAL_FORM.search(part):
                break
        rows = [", ".join(name_parts)] + parts[len(name_parts):]
    if len(rows) <= 1:
        return fld
    name = rows[0]
    if not LEGAL_FORM.search(name):
        legal = next((r for r in rows[1:3] if LEGAL_FORM.search(r)), None)
        if legal:
            name = legal
    return fld.model_copy(update={"value": name, "raw": fld.raw})


# --- blocks by geometry, before the header spans ------------------------------------------------

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
        ha = a.box.h
        for j in range(i + 1, n):
            b = words[j]
            if a.page != b.page:
                continue
            h = min(ha, b.box.h)
            v_overlap = a.box.y_overlap(b.box)
            same_row = v_overlap > 0.5 * h
            h_gap = -a.box.x_overlap(b.box)
            if same_row and h_gap < 1.5 * h:
                parent[find(i)] = find(j)
                continue
            v_gap = -v_overlap
            if not same_row and v_gap < 0.9 * h and h_gap < 0 and abs(a.box.x0 - b.box.x0) < 12 * h:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


_PARTY_CAPTIONS: tuple[tuple[str, str], ...] = tuple(
    (c.text, c.field) for c in LEXICON.captions("parties") if "+" not in c.field)


def _block_caption(members: list[WordTag], tags: list[WordTag]) -> str | None:
    """The party a caption names for this block: untagged words on the row above the block's
    top (overlapping it) or just left of its first row, read as one caption."""
    ws = [t.word for t in members]
    page = ws[0].page
    top = min(w.box.y0 for w in ws)
    x0, x1 = min(w.box.x0 for w in ws), max(w.box.x1 for w in ws)
    h = max(1.0, min(w.box.height for w in ws))
    first = [w for w in ws if w.box.y0 - top < 0.5 * h]
    fx0 = min(w.box.x0 for w in first)
    above_row: list[Word] = []
    left: list[Word] = []
    for t in tags:
        w = t.word
        if w.page != page or t.field is not None:
            continue
        if 0 <= top - w.box.y1 < 1.6 * h:
            above_row.append(w)
        elif abs(w.box.y0 - top) < 0.5 * h and w.box.x1 <= fx0 and fx0 - w.box.x1 < 12 * h:
            left.append(w)
    # the caption over the block: the words above that overlap it, and their neighbours at word spacing
    above = [w for w in above_row if w.box.x0 < x1 and w.box.x1 > x0 - 2 * h]
    grown = True
    while above and grown:
        grown = False
        for w in above_row:
            if w in above:
                continue
            if any(-0.5 * h <= w.box.x0 - a.box.x1 <= 1.5 * h or -0.5 * h <= a.box.x0 - w.box.x1 <= 1.5 * h for a in above):
                above.append(w)
                grown = True
    for cand in (left, above):
        if not cand:
            continue
        cand.sort(key=lambda w: w.box.x0)
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


def _split_at_begins(sheet: Sheet, members: list[WordTag], probs: np.ndarray, id2label: dict[int, str]) -> list[list[WordTag]]:
    """Split a block where a row starts with a word the model surely begins a party with
    (stacked blocks without a blank row between them, as in spreadsheets)."""
    b_cols = [i for i, lab in id2label.items() if lab.startswith("B-") and lab[2:] in MULTILINE_FIELDS]
    rows = sheet.rows_of([t.word for t in members])
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
    ba, bb = Box.around(t.word.box for t in a), Box.around(t.word.box for t in b)
    h = a[0].word.box.h
    return -ba.y_overlap(bb) < 2.4 * h and ba.x_overlap(bb) > 0


def vote_blocks(ctx: Context) -> None:
    """Each party is one block of words: a block takes the field its words vote for (a caption
    over it or left of it votes too), one block per field."""
    tags, probs, id2label = ctx.tags, ctx.probs, ctx.id2label
    party = [t for t in tags if t.field in MULTILINE_FIELDS]
    if len(party) < 2:
        return
    fields = sorted(MULTILINE_FIELDS)
    cols = {f: [i for i, lab in id2label.items() if lab != "O" and lab[2:] == f] for f in fields}
    blocks = []
    for blk in _blocks([t.word for t in party]):
        blocks.extend(_split_at_begins(ctx.sheet, [party[i] for i in blk], probs, id2label))
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
    for b, members in enumerate(blocks):
        win = chosen.get(b)
        if win is None:
            # A second block voting for a taken field (a letterhead above its address) joins it
            # when it sits right next to it; otherwise it is not a party of this order.
            best = max(fields, key=lambda f: votes[b][f])
            if best in taken and _near(members, blocks[taken[best]]):
                win = best
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


_GREETINGS = LEXICON.words("greetings")
_CAPTION_TEXTS = frozenset(c.text for sec in ("header", "parties", "columns", "item") for c in LEXICON.captions(sec))


def _ends_caption(ws: Sequence[Word], k: int) -> bool:
    """Whether ``ws[k]`` is a caption, alone or as the end of one with up to two words before it."""
    return any(k - n + 1 >= 0 and norm(" ".join(x.text for x in ws[k - n + 1:k + 1])) in _CAPTION_TEXTS
               for n in (1, 2, 3))


def _name_word(ws: Sequence[Word], k: int) -> bool:
    """Whether ``ws[k]`` can start a party's name: a word with letters, no caption (neither alone
    nor as the end of one with the words before it) and no label ending with a colon."""
    w = ws[k]
    if not any(c.isalpha() for c in w.text) or w.text.endswith(":") or rtl(w.text):
        return False
    if w.text.casefold().strip(",!") in _GREETINGS:
        return False  # "Hi Atlas Trading": the mail's greeting, not the name
    return not _ends_caption(ws, k)


def party_name_start(ctx: Context) -> None:
    """A party's name is one run of words: the model often leaves out its first word or two
    ("INFRATECH | FZ LLC", "LINGBO | GROUP INC"). Untagged words right before a party's first
    word on its row, at word spacing, join it (not a caption, not a label with a colon)."""
    tags, words = ctx.tags, ctx.words
    for r in ctx.sheet.rows():
        ws = [words[i] for i in r]
        for k in range(len(r) - 1, 0, -1):
            t = tags[r[k]]
            if t.field not in MULTILINE_FIELDS:
                continue
            if tags[r[k - 1]].field is not None:
                continue
            joined = 0
            j = k - 1
            while j >= 0 and joined < 2 and tags[r[j]].field is None and _name_word(ws, j):
                a, b = ws[j], ws[j + 1]
                h = max(1.0, min(a.box.height, b.box.height))
                if not -0.5 * h <= b.box.x0 - a.box.x1 <= 1.2 * h:
                    break
                tags[r[j]].field, tags[r[j]].score = t.field, t.score
                tags[r[j]].begin, tags[r[j + 1]].begin = True, False
                joined += 1
                j -= 1


def _tail_word(ws: Sequence[Word], k: int) -> bool:
    """Whether ``ws[k]`` can go on a party's row: no caption (alone or ending one with the words
    before it), no label ending with a colon."""
    w = ws[k]
    if w.text.endswith(":") or not w.text.strip(".,;-/"):
        return False
    return not _ends_caption(ws, k)


def party_row_end(ctx: Context) -> None:
    """A party's row is one run of words: the model often stops before its end ("Jebel | Ali
    Free Zone"). Untagged words right after a party's word on its row, at word spacing, join it
    when the run ends there (the row's end, a gap, or the same party), not at another field."""
    tags, words = ctx.tags, ctx.words
    for r in ctx.sheet.rows():
        ws = [words[i] for i in r]
        k = 0
        while k < len(r) - 1:
            t = tags[r[k]]
            if t.field not in MULTILINE_FIELDS or tags[r[k + 1]].field is not None:
                k += 1
                continue
            run: list[int] = []
            j = k + 1
            ends = True
            while j < len(r):
                a, b = ws[j - 1], ws[j]
                h = max(1.0, min(a.box.height, b.box.height))
                if not -0.5 * h <= b.box.x0 - a.box.x1 <= 1.2 * h or not 0.75 <= b.box.h / max(1.0, a.box.h) <= 1.33:
                    break  # a gap, or another size of type (a title beside the party): the party's row ends before it
                if tags[r[j]].field is not None:
                    ends = tags[r[j]].field == t.field
                    break
                if len(run) >= 4 or not _tail_word(ws, j):
                    ends = False
                    break
                run.append(j)
                j += 1
            if run and ends:
                for i in run:
                    tags[r[i]].field, tags[r[i]].score, tags[r[i]].begin = t.field, t.score, False
            k = j if run else k + 1


STEPS_BLOCKS = [Step("party_name_start", party_name_start, "a party's name is one run of words: its first words "
                     "the model left out join it"),
                Step("party_row_end", party_row_end, "a party's row is one run of words: its last words the "
                     "model left out join it"),
                Step("party_blocks", vote_blocks, "a party is one block of words; the block takes the field "
                     "its words (and a caption over it) vote for")]


# --- checks after the header spans ---------------------------------------------------------------

def sales_document_roles(ctx: Context) -> None:
    """A quotation or sales order confirmation is written by the seller to the buyer: the block
    it is addressed to is the buyer, where on a purchase order it is the supplier. A model that
    read such a document as a purchase order (unsure of either role) has buyer and supplier
    swapped; one that read both roles surely has read the sales layout as such."""
    draft = ctx.draft
    rows, n = [], 0
    for r in ctx.sheet.rows():  # the first page's first 80 words, each row in reading order
        ws = sorted((ctx.words[i] for i in r if ctx.words[i].page == 0), key=lambda w: w.box.x0)
        if ws and n < 80:
            rows.append(row_text(ws))
            n += len(ws)
    text = " ".join(rows)
    if not _SALES_TITLE.search(text) or _PURCHASE_TITLE.search(text):
        return
    draft.meta["document_type"] = "sales"
    if all(f.present and f.confidence >= SURE_ROLES_CONF for f in (draft.buyer, draft.supplier)):
        return  # the model read this sales layout's roles itself (it learnt seller-issued documents too)
    draft.buyer, draft.supplier = draft.supplier, draft.buyer


def _complete_down(sheet: Sheet, draft: OrderDraft, f: str) -> None:
    """An address block the model tagged in part (a street and a free zone over an untagged
    town and country) takes the rows that continue it below, aligned with it and at its line
    spacing."""
    fld: Field = getattr(draft, f)
    if not fld.present or len(fld.source) != 1:
        return
    src = fld.source[0]
    box = Box(*src.box)
    mine = [w for w in sheet.words if w.page == src.page and box.contains(w.box)]
    more = rows_below(sheet, mine)
    if not more:
        return
    raw = str(fld.raw or fld.value) + "\n" + "\n".join(" ".join(w.text for w in r).strip().rstrip(",") for r in more)
    ws = mine + [w for r in more for w in r]
    setattr(draft, f, fld.model_copy(update={"value": ", ".join(p for p in raw.split("\n") if p), "raw": raw,
                                             "source": union(ws)}))


def _within(fld: Field, ws: Sequence[Word]) -> bool:
    """Whether every source box of ``fld`` lies inside the box of ``ws`` (on its page)."""
    if not fld.source or not ws:
        return False
    box, page = Box.around(w.box for w in ws), ws[0].page
    return all(r.page == page and box.contains(r.box) for r in fld.source)


def _mostly_within(fld: Field, ws: Sequence[Word]) -> bool:
    """Whether most of ``fld``'s source area lies inside the box of ``ws``."""
    if not fld.source or not ws:
        return False
    b, page = Box.around(w.box for w in ws), ws[0].page
    total = inter = 0.0
    for r in fld.source:
        rb = Box(*r.box)
        total += max(1.0, rb.width * rb.height)
        if r.page == page:
            inter += max(0.0, b.x_overlap(rb)) * max(0.0, b.y_overlap(rb))
    return inter >= 0.6 * total


def party_captions(ctx: Context) -> None:
    """Party blocks named by a caption ("Ship To:", "Vendor", "Invoice and shipping address:")
    are read whole: the block fills a party the model left empty, completes one the model
    tagged in part, and replaces one the model read from another place when the model is
    unsure of it. A party the model read inside another party's captioned block is not that
    party (a word of the ship-to block tagged as the buyer)."""
    draft = ctx.draft
    blocks: dict[str, PartyBlock] = {}
    every: list[PartyBlock] = []
    for blk in captioned_blocks(ctx.sheet):
        if blk.caption in _ROLE_CAPTIONS and len(blk.rows) < 2 and not LEGAL_FORM.search(blk.text):
            continue  # "Buyer: Jane Miller": the purchasing agent, not the buying company
        every.append(blk)
        for f in blk.fields:
            blocks.setdefault(f, blk)
    ocr = ctx.sheet.ocr
    if not ocr:
        for f in ("ship_to", "bill_to"):
            if f not in blocks:
                _complete_down(ctx.sheet, draft, f)
    if not blocks:
        return
    for f, blk in blocks.items():
        cur: Field = getattr(draft, f)
        ws = blk.words
        new = Field(value=blk.text, raw=blk.raw, confidence=PARTY_CAPTION_CONF, source=union(ws))
        if f in NAMED_PARTIES:
            new = party_name(new)
        if cur.present and same_text(cur.value, new.value):
            setattr(draft, f, cur.model_copy(update={"confidence": max(cur.confidence, CAPTION_AGREES_CONF)}))
            continue
        if cur.present and _within(cur, ws) and not ocr:
            setattr(draft, f, new.model_copy(update={"confidence": max(cur.confidence, PARTY_CAPTION_CONF)}))
            continue
        # a buyer or supplier read as a street line ("123 Maple Street") is no name: the
        # captioned block replaces it however sure the model was
        street = f in NAMED_PARTIES and bool(_STREET_START.match(str(cur.value))) and not LEGAL_FORM.search(str(cur.value))
        if cur.present and (ocr or cur.confidence >= PARTY_REPLACE_BELOW) and not (street and not ocr):
            continue  # OCR rows of a block can interleave: on a scan the caption only fills a gap
        setattr(draft, f, new)
    for f in MULTILINE_FIELDS:
        cur = getattr(draft, f)
        if f in blocks or not cur.present:
            continue
        # (any captioned block, a later page's too: "BUYER:" over each market's company)
        inside = next((b for b in every if _mostly_within(cur, b.words)), None)
        if inside is None:
            continue
        if f == "buyer" and {"ship_to", "bill_to"} & set(inside.fields) and (
                len(inside.rows) > 1 or LEGAL_FORM.search(inside.text)):
            # the goods go to the buyer: its name heads the delivery block (a block of one row
            # with no company name in it is only the place, "Delivery Location: Coimbatore")
            name = party_name(Field(value=inside.text, raw=inside.raw, confidence=0.6,
                                    source=union(inside.words)))
            setattr(draft, f, name.model_copy(update={"confidence": min(0.6, cur.confidence)}))
        else:
            setattr(draft, f, Field())


def party_not_other_key(ctx: Context) -> None:
    """A party read from the value of another key of the header grid ("Department  12 KIDS",
    "Category  1204 KNITWEAR") or from such a caption itself ("Factory  40012345") is
    no party: the field is left empty."""
    for f in tuple(sorted(MULTILINE_FIELDS)):
        fld: Field = getattr(ctx.draft, f)
        if fld.present and value_of_other_key(fld, ctx.words, f):
            setattr(ctx.draft, f, Field())


def _name_not_street(draft: OrderDraft, words: Sequence[Word]) -> None:
    for f in NAMED_PARTIES:
        fld: Field = getattr(draft, f)
        v = str(fld.value)
        if not fld.present or LEGAL_FORM.search(v):
            continue
        box = bool(_POST_BOX.match(v))
        if not (box or _STREET_START.match(v)) or not fld.source:
            continue
        src = fld.source[0]
        x0, y0 = src.box[0], src.box[1]
        above = [w for w in words if w.page == src.page and w.box.y1 <= y0 + 1 and y0 - w.box.y1 < 12
                 and abs(w.box.x0 - x0) < 6]
        if not above:
            if box:
                setattr(draft, f, Field())  # a post box with no name over it: the name is in a logo
            continue
        first = max(above, key=lambda w: w.box.y1)
        h = first.box.h
        row = sorted((w for w in words if w.page == src.page and abs(w.box.y0 - first.box.y0) < 0.5 * h
                      and w.box.x0 >= first.box.x0 - 1), key=lambda w: w.box.x0)
        run = [row[0]]
        for w in row[1:]:
            if w.box.x0 - run[-1].box.x1 > 1.5 * h:
                break
            run.append(w)
        name = " ".join(w.text for w in run).strip().rstrip(",")
        if sum(c.isalpha() for c in name) < 2 or name.endswith(":"):
            continue
        setattr(draft, f, Field(value=name, raw=name + "\n" + str(fld.raw or fld.value),
                                confidence=min(0.6, fld.confidence), source=union(run) + list(fld.source)))


def name_not_street(ctx: Context) -> None:
    """A buyer or supplier read as a street line ("12 Harbour Road") or a post box ("PO Box
    3425") took the address under the name: the party's name is the row right above it in the
    same column. A post box with no row over it names no one (the name is in a logo): the field
    is left empty."""
    _name_not_street(ctx.draft, ctx.words)


def supplier_not_addressee(ctx: Context) -> None:
    """The supplier ships to and bills the buyer, never itself: a supplier named like the ship-to
    or bill-to party is the buyer, read with the roles swapped (a seller's order confirmation the
    title did not give away)."""
    draft = ctx.draft
    s = draft.supplier
    if not s.present:
        return
    for src in (draft.ship_to, draft.bill_to):
        if not src.present:
            continue
        name = str(src.raw or src.value).split("\n")[0].split(", ")[0].strip()
        if same_text(name, s.value) and not (draft.buyer.present and same_text(draft.buyer.value, name)):
            draft.buyer, draft.supplier = draft.supplier, draft.buyer
            draft.meta["document_type"] = "sales"
            return


def buyer_from_delivery(ctx: Context) -> None:
    """Most buyers have the goods delivered to, or the invoice sent to, themselves. When the
    buyer read is no company name (absent, or an address fragment such as a town and postcode)
    and the bill-to or ship-to block starts with one, that company is the buyer. With no buyer at
    all, a bill-to and ship-to that start with the same name give it."""
    draft = ctx.draft
    b = draft.buyer
    bv = str(b.value) if b.present else ""
    if b.present and (LEGAL_FORM.search(bv) or not any(c.isdigit() for c in bv)) and len(bv) > 3:
        return
    for src in (draft.bill_to, draft.ship_to):
        if not src.present:
            continue
        first = str(party_name(src).value).split("\n")[0].strip()
        if LEGAL_FORM.search(first):
            draft.buyer = Field(value=first, raw=src.raw, confidence=min(0.6, src.confidence), source=src.source)
            return
    # No buyer at all, and the invoice goes to the same named party the goods go to: that party
    # ordered them (a seller's order confirmation addressed to "Invoice and shipping address:")
    if b.present or not (draft.bill_to.present and draft.ship_to.present):
        return
    names = [str(party_name(f).value).split("\n")[0].strip() for f in (draft.bill_to, draft.ship_to)]
    first = names[0]
    if (same_text(names[0], names[1]) and len(first) > 3 and not any(c.isdigit() for c in first)
            and not (draft.supplier.present and same_text(draft.supplier.value, first))):
        src = draft.bill_to
        draft.buyer = Field(value=first, raw=src.raw, confidence=min(0.5, src.confidence), source=src.source)


_TITLE_TEXTS = frozenset(norm(c.text) for c in LEXICON.captions("document", ("title",)))
_NAME_CHARS = re.compile(r"^[^\W\d_][\w&.,'\-]*$")


def _letterhead(ctx: Context) -> tuple[str, list[Word]] | None:
    """The name the first page is headed with: the first row near the top of the page that is
    no document title, read to its first column gap, when it reads as a name (words of letters,
    no digits, no caption, no label with a colon, at most six words)."""
    words, tags = ctx.words, ctx.tags
    first = [w for w in words if w.page == 0]
    if not first:
        return None
    top, bottom = min(w.box.y0 for w in first), max(w.box.y1 for w in first)
    for r in ctx.sheet.rows():
        ws = [words[i] for i in r]
        if ws[0].page != 0:
            break
        if ws[0].box.y0 - top > 0.15 * max(1.0, bottom - top):
            return None
        text = " ".join(w.text for w in ws)
        if _PURCHASE_TITLE.search(text) or _SALES_TITLE.search(text) or norm(text) in _TITLE_TEXTS:
            continue  # the document's title (and what shares its row)
        run = [ws[0]]
        for w in ws[1:]:
            if w.box.x0 - run[-1].box.x1 > 1.5 * max(1.0, w.box.h):
                break
            run.append(w)
        idx = [i for i in r if words[i] in run]
        name = " ".join(w.text for w in run).strip().rstrip(",")
        if (len(run) > 6 or sum(c.isalpha() for c in name) < 3 or not all(_NAME_CHARS.match(w.text) for w in run) or name.endswith(":")
                or norm(name) in _CAPTION_TEXTS or norm(name) in _TITLE_TEXTS
                or any(tags[i].field not in (None, "buyer", "supplier") for i in idx)):
            return None
        return name, run
    return None


def letterhead_buyer(ctx: Context) -> None:
    """A purchase order is headed with the name of the company that issues it, the buyer. With no
    buyer read, the letterhead name is the buyer (confidence 0.5: a CSR confirms it). When the
    goods or the invoice go to the letterhead's company and the buyer read is another company,
    the roles were read the wrong way round: that company is the supplier (when no supplier with
    a company name was read) and the letterhead's company the buyer."""
    draft = ctx.draft
    if draft.meta.get("document_type") == "sales":
        return
    head = _letterhead(ctx)
    if head is None:
        return
    name, run = head
    if not draft.buyer.present:
        if not (draft.supplier.present and same_text(draft.supplier.value, name)):
            draft.buyer = Field(value=name, raw=name, confidence=0.5, source=union(run))
        return
    if same_text(draft.buyer.value, name):
        return
    delivered = [str(party_name(f).value).split("\n")[0].split(", ")[0].strip().rstrip(",")
                 for f in (draft.ship_to, draft.bill_to) if f.present]
    if not any(same_text(d, name.split(", ")[0]) or same_text(d, name) for d in delivered):
        return
    s = draft.supplier
    if s.present and LEGAL_FORM.search(str(s.value)):
        return
    draft.supplier = draft.buyer.model_copy(update={"confidence": min(0.6, draft.buyer.confidence)})
    draft.buyer = Field(value=name, raw=name, confidence=0.6, source=union(run))


def address_not_one_word(ctx: Context) -> None:
    """A ship-to or bill-to read as one word ("Stockholm" inside another block) is a fragment
    the model tagged, not an address, unless its own caption names it ("Ship to:  Acme"): the
    field is left empty."""
    for f in ("ship_to", "bill_to"):
        fld: Field = getattr(ctx.draft, f)
        if not fld.present or len(str(fld.value).split()) != 1 or len(fld.source) != 1:
            continue
        src = fld.source[0]
        mine = [t for t in ctx.tags if t.word.page == src.page and Box(*src.box).contains(t.word.box)]
        if mine and _block_caption(mine, ctx.tags) == f:
            continue
        setattr(ctx.draft, f, Field())


STEPS = [
    Step("sales_document_roles", sales_document_roles,
         "a quotation or order confirmation is addressed to the buyer: buyer and supplier swap"),
    Step("party_captions", party_captions, "a party block named by its caption is read whole"),
    Step("party_not_other_key", party_not_other_key, "the value of another key of the header grid is no party"),
    Step("address_not_one_word", address_not_one_word, "a ship-to or bill-to of one word is a fragment, no address"),
    Step("name_not_street", name_not_street, "a party read as a street line is named by the row above it"),
    Step("supplier_not_addressee", supplier_not_addressee,
         "a supplier named like the ship-to or bill-to party is the buyer"),
    Step("buyer_from_delivery", buyer_from_delivery,
         "a buyer that is no company name takes the company the goods or invoice go to"),
    Step("letterhead_buyer", letterhead_buyer, "a purchase order is headed with its buyer's name"),
]
