"""Header values named by their caption: "PO Number: 4500012345", "Order Date" over "11.12.2025".

Every order form labels its key values, in a few dozen ways per language. The layout model
learns these captions from the synthetic corpus, but on a layout it has never seen it can take
the wrong number ("Incoterms" for the order number, a row count for the total). This reader
finds captions among the words and reads the value beside them (same row, to the right) or
under them (the next row, overlapping in x), checked by type: an order number has a digit, a
date parses, a total is a number. :func:`assemble` uses it to fill a field the model left
empty and to replace a value no caption vouches for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from extractors.normalize import Locale, parse_currency, parse_date, parse_number
from intake.domain import Word

__all__ = ["CaptionValue", "caption_values", "CAPTIONS"]

CAPTIONS: dict[str, tuple[str, ...]] = {
    "po_number": (
        "purchase order number", "purchase order no", "purchase order #", "purchase order", "p.o. number",
        "p.o. no", "p.o. #", "po number", "po no", "po nr", "po #", "po#", "po", "order number", "order no",
        "order nr", "order #", "order n°", "order id", "order ref", "order reference", "sales order",
        "quotation #", "quotation no", "quotation number", "quote #", "quote no", "our order no",
        "bestellnummer", "bestell-nr", "bestell nr", "bestellung nr", "bestellung", "auftragsnummer", "auftrag nr",
        "bon de commande n°", "bon de commande", "n° de commande", "numéro de commande", "commande n°",
        "réf. commande", "référence commande", "pedido n.º", "pedido nº", "pedido n°", "número de pedido",
        "n.º de pedido", "nº pedido", "pedido", "orden de compra", "inkoopordernummer", "inkooporder",
        "ordernummer", "bestelnummer", "ordine n.", "numero ordine", "ordine",
    ),
    "order_date": (
        "purchase order date", "po date", "p.o. date", "order date", "date of order", "date ordered",
        "date placed", "po creation", "creation date", "issue date", "document date", "date issued",
        "quotation date", "date generated", "generated on", "date created", "created on", "bestelldatum", "auftragsdatum", "belegdatum", "datum", "date de commande",
        "date de la commande", "date", "fecha de pedido", "fecha del pedido", "fecha", "orderdatum",
        "besteldatum", "data ordine", "data",
    ),
    "requested_date": (
        "requested delivery date", "requested delivery", "delivery date", "delivery dt", "required date",
        "required by", "date required", "need by", "needed by", "ship date", "due date", "deliver by",
        "liefertermin", "lieferdatum", "wunschtermin", "date de livraison", "livraison souhaitée",
        "livraison le", "délai de livraison", "délai", "fecha de entrega", "plazo de entrega", "entrega",
        "leverdatum", "gewenste leverdatum", "leveren voor", "lieferung bis", "liefern bis", "data consegna",
        "data di consegna", "consegna entro",
    ),
    "total": (
        "grand total", "total amount", "order total", "total order", "total purchase order", "net total",
        "total net", "total value", "total incl. tax", "total including tax", "total due", "amount due",
        "total ttc", "total ht", "montant total", "gesamtbetrag", "gesamtsumme", "endbetrag", "summe",
        "importe total", "total a pagar", "totaal", "totale", "total",
    ),
    "currency": (
        "currency code", "currency", "order currency", "währung", "waehrung", "monnaie", "devise", "moneda",
        "divisa", "valuta", "munt",
    ),
    "payment_terms": (
        "payment terms", "terms of payment", "payment conditions", "terms of pay", "zahlungsbedingungen",
        "zahlungsbedingung", "zahlungsziel", "zahlungskondition", "zahlungskonditionen",
        "conditions de paiement", "conditions de règlement", "modalités de paiement", "mode de règlement",
        "condiciones de pago", "condición de pago", "forma de pago", "betalingsvoorwaarden",
        "betalingscondities", "betalingstermijn", "condizioni di pagamento", "termini di pagamento",
        "terms", "payment", "zahlung", "paiement", "règlement", "pago", "betaling", "pagamento",
    ),
}
# Single words that are a caption only when a colon follows them ("Terms: Net 30", "Pago:"), not
# in a sentence ("Terms and conditions apply", "pago a 30 días").
_NEEDS_COLON = frozenset({"terms", "payment", "zahlung", "paiement", "règlement", "pago", "betaling", "pagamento"})

# Words after "Total" that make it a count, not an amount of money.
_COUNTED = frozenset({"units", "unit", "packs", "pack", "qty", "quantity", "quantities", "pieces", "pcs", "cartons",
                      "ctns", "weight", "kg", "volume", "cbm", "items", "lines", "pages", "menge", "stück", "colis",
                      "pallets", "pallet", "boxes", "gewicht", "poids", "peso", "cantidad", "quantité"})
_SEP = frozenset({"", ":", "#", "-", "–", "n°", "no", "no.", "nr", "nr.", "/"})
_CODE = re.compile(r"^(?=[A-Za-z0-9/_.-]*\d)[A-Za-z0-9][A-Za-z0-9/_.-]*$")


@dataclass
class CaptionValue:
    field: str
    value: object
    words: list[Word]
    caption: str
    below: bool
    qualified: bool = False  # a word before the caption names another number ("Bulk Order Number")


_ABBREV = {"no.": "no", "nr.": "nr", "num.": "num"}  # "Order No." is "Order No"


def _norm(t: str) -> str:
    t = t.casefold().strip(":").strip()
    return _ABBREV.get(t, t)


def _compile() -> list[tuple[str, list[str]]]:
    pats = [(f, c.split()) for f, caps in CAPTIONS.items() for c in caps]
    # a spreadsheet's column names in one word: "OrderID", "PO_Number", "DeliveryDate"
    pats += [(f, [j.join(c.split())]) for f, caps in CAPTIONS.items() for c in caps for j in ("", "_")
             if " " in c and "." not in c and "#" not in c]
    return sorted(pats, key=lambda p: -len(" ".join(p[1])))


_PATTERNS = _compile()
# Patterns by their first token, longest first: a row is scanned once, not once per pattern.
_BY_FIRST: dict[str, list[tuple[str, list[str]]]] = {}
for _f, _pat in _PATTERNS:
    _BY_FIRST.setdefault(_pat[0], []).append((_f, _pat))


def _rows(words: Sequence[Word]) -> list[list[int]]:
    from extractors.assemble import visual_rows

    return visual_rows(words)


def _typed(field: str, ws: Sequence[Word], loc: Locale) -> object | None:
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
        if not any(c.isalpha() for c in text) or _starts_caption([_norm(w.text) for w in ws]):
            return None
        return text
    return None


def _starts_caption(toks: Sequence[str]) -> bool:
    """Whether a run of tokens begins with a whole caption ("Delivery date ...")."""
    return any(list(toks[:len(p)]) == p for _f, p in _BY_FIRST.get(toks[0] if toks else "", ()))


def _run(ws: Sequence[Word]) -> list[Word]:
    """The first words of a row up to a column gap (a value printed beside another column's)."""
    out: list[Word] = []
    for w in ws:
        if out:
            h = max(1.0, out[-1].box[3] - out[-1].box[1])
            if w.box[0] - out[-1].box[2] > 2.5 * h:
                break
        out.append(w)
    return out


def caption_values(words: Sequence[Word], loc: Locale) -> dict[str, list[CaptionValue]]:
    """For each field, the values its captions point at, in reading order."""
    rows = _rows(words)
    out: dict[str, list[CaptionValue]] = {}
    for ri, r in enumerate(rows):
        toks = [_norm(words[i].text) for i in r]
        used = [False] * len(r)
        k = 0
        while k < len(r):
            hit = None
            for f, pat in _BY_FIRST.get(toks[k], ()):
                n = len(pat)
                if k + n <= len(r) and not any(used[k:k + n]) and toks[k:k + n] == pat and (
                        n > 1 or pat[0] not in _NEEDS_COLON or words[r[k]].text.endswith(":")
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
            h = max(1.0, cap_words[-1].box[3] - cap_words[-1].box[1])
            if f == "total" and k + n < len(r) and toks[k + n] in _COUNTED:
                k += n  # "Total Units: 3,500", "Total Packs": a count, not the order's total
                continue
            # "Bulk Order Number", "Customer PO No": a word just before the caption, at word spacing,
            # makes it another number of the same kind; such a caption only fills an empty field.
            prev = words[r[k - 1]] if k > 0 else None
            qualified = bool(prev is not None and not used[k - 1] and toks[k - 1] not in _SEP
                             and any(c.isalpha() for c in toks[k - 1]) and not prev.text.endswith(":")
                             and 0 <= cap_words[0].box[0] - prev.box[2] < 1.0 * h)
            # to the right, on the same row, skipping ":" "#" "No."
            j = k + n
            while j < len(r) and toks[j] in _SEP:
                j += 1
            right = [words[i] for i in r[j:]]
            if right and right[0].box[0] - cap_words[-1].box[2] > 25 * h:
                right = []  # far across the page: another column's value
            if f == "total":
                nums = [w for w in right if parse_number(w.text, loc) is not None and not w.text.endswith("%")]
                right = nums[-1:]
                if len(nums) >= 2 and re.fullmatch(r"\d{3}(?:[.,]\d{1,2})?", nums[-1].text) and re.fullmatch(
                        r"\d{1,3}", nums[-2].text) and 0 <= nums[-1].box[0] - nums[-2].box[2] < 0.6 * h:
                    right = nums[-2:]  # "11 317": thousands set apart by a thin space
            elif f in ("order_date", "requested_date"):
                right = right[:3]
            elif f == "payment_terms":
                right = _run(right)
            else:
                right = right[:1]
            v = _typed(f, right, loc) if right else None
            below = False
            if v is None and ri + 1 < len(rows) and f != "total":
                x0, x1 = cap_words[0].box[0], cap_words[-1].box[2]
                nxt = [words[i] for i in rows[ri + 1] if words[i].page == cap_words[0].page
                       and min(x1, words[i].box[2]) - max(x0, words[i].box[0]) > 0]
                if nxt and nxt[0].box[1] - cap_words[-1].box[3] < 2.5 * h:
                    if f in ("payment_terms", "order_date", "requested_date"):
                        # the run that starts under the caption, to its column gap ("Jun 29, 2026")
                        row = [words[i] for i in rows[ri + 1] if words[i].page == cap_words[0].page]
                        start = row.index(nxt[0])
                        while start > 0 and row[start].box[0] - row[start - 1].box[2] < 1.0 * h \
                                and row[start - 1].box[2] > x0 - 3 * h:  # a value centred under its caption
                            start -= 1
                        under = _run(row[start:])
                        if f != "payment_terms":
                            under = under[:3]
                    else:
                        under = nxt[:1] if f in ("po_number", "currency") else nxt[:3]
                    v = _typed(f, under, loc)
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

PARTY_CAPTIONS: dict[str, tuple[str, ...]] = {
    "ship_to": ("ship to", "ship-to", "ship-to address", "deliver to", "delivery address", "delivery to", "deliver-to",
                "consignee", "ship to address", "shipping address", "delivery location", "lieferanschrift",
                "lieferadresse", "warenempfänger", "versandadresse", "lieferung an", "adresse de livraison",
                "livrer à", "lieu de livraison", "livraison", "dirección de entrega", "enviar a", "lugar de entrega",
                "afleveradres", "leveradres", "leveren aan", "indirizzo di consegna", "destinazione"),
    "bill_to": ("bill to", "bill-to", "invoice to", "invoice address", "billing address", "sold to",
                "rechnungsanschrift", "rechnungsadresse", "rechnung an", "adresse de facturation", "facturer à",
                "facturation", "dirección de facturación", "facturar a", "factuuradres", "factureren aan",
                "indirizzo di fatturazione"),
    "supplier": ("supplier", "vendor", "seller", "supplier address", "vendor address", "vendor name", "supplier name",
                 "lieferant", "lieferantenanschrift", "fournisseur", "proveedor", "datos del proveedor", "leverancier",
                 "leveranciersadres", "fornitore"),
    "buyer": ("buyer", "purchaser", "customer", "customer name", "ordered by", "besteller", "auftraggeber", "käufer",
              "kunde", "acheteur", "client", "donneur d'ordre", "comprador", "cliente", "solicitante", "koper",
              "opdrachtgever"),
}
# One block for both addresses.
_BOTH = ("invoice and shipping address", "invoicing and shipping address", "billing and shipping address",
         "invoice and delivery address", "adresse de facturation et de livraison")
_PARTY_PATTERNS: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
for _f, _caps in PARTY_CAPTIONS.items():
    for _c in _caps:
        _PARTY_PATTERNS.setdefault(_c.split()[0], []).append(((_f,), _c.split()))
for _c in _BOTH:
    _PARTY_PATTERNS.setdefault(_c.split()[0], []).append((("ship_to", "bill_to"), _c.split()))
for _v in _PARTY_PATTERNS.values():
    _v.sort(key=lambda p: -len(p[1]))

# A row of contact details ends an address block.
_CONTACT = re.compile(r"(?i)^(tel|tél|phone|telephone|téléphone|telefon|fax|e-?mail|mail|mob|mobile|cell|gst|gstin|vat|"
                      r"tva|ust|cin|pan|attn|attention|contact|www|web)\b[.:]?|^[ptfme]\s?:")


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


def _party_caption_at(toks: Sequence[str]) -> tuple[tuple[str, ...], int] | None:
    for fields, pat in _PARTY_PATTERNS.get(toks[0] if toks else "", ()):
        if list(toks[:len(pat)]) == pat:
            return fields, len(pat)
    return None


def _contact_row(ws: Sequence[Word]) -> bool:
    text = " ".join(w.text for w in ws)
    digits = sum(c.isdigit() for c in text)
    letters = sum(c.isalpha() for c in text)
    return bool(_CONTACT.match(text)) or "@" in text or (digits >= 7 and letters <= 2)


def _key_row(ws: Sequence[Word]) -> bool:
    """A row that starts another caption ("PO Date", "Bill To:"): the block above has ended."""
    toks = [_norm(w.text) for w in ws]
    return bool(_party_caption_at(toks) or _starts_caption(toks))


def _run_starts(words: Sequence[Word], page: int) -> list[float]:
    """Left edges of the runs of words on a page (a word after a column gap or first in its row)."""
    out: list[float] = []
    ws = [w for w in words if w.page == page]
    for r in _rows(ws):
        prev = None
        for i in r:
            w = ws[i]
            h = max(1.0, w.box[3] - w.box[1])
            if prev is None or w.box[0] - prev.box[2] > 1.5 * h:
                out.append(w.box[0])
            prev = w
    return sorted(out)


_NUMBER_WORDS = frozenset({"no", "no.", "nr", "nr.", "#", "code", "id", "number", "n°", "nº", "num", "num."})


def _cut_at_caption(seg: list[Word], starts: list[float], h: float) -> list[Word]:
    """A segment running into the next caption of a key-value grid ("IMPRESS-NEWTEX COMPOSITE …
    Customs Customer Group: Men"): cut where that caption starts, at a column other rows start
    at; a trailing ellipsis of a truncated value goes too."""
    import bisect

    def column(x: float) -> bool:
        lo = bisect.bisect_left(starts, x - 0.5 * h)
        hi = bisect.bisect_right(starts, x + 0.5 * h)
        return hi - lo >= 3

    for m in range(1, len(seg)):
        toks = [_norm(w.text) for w in seg[m:m + 4]]
        hit = _party_caption_at(toks)
        if hit and (seg[m + hit[1] - 1].text.endswith(":") or (m + hit[1] < len(seg) and toks[hit[1]:hit[1] + 1]
                                                                 and toks[hit[1]] in _NUMBER_WORDS)):
            seg = seg[:m]  # "M.I.M. FASHION WEAR LTD.  Supplier No. 1004060": the next caption
            break
        if seg[m].text.endswith(":"):
            s = m
            while s > 1 and not column(seg[s].box[0]):
                s -= 1
            seg = seg[:s]
            break
    while seg and seg[-1].text in ("…", "...", "-", "|"):
        seg = seg[:-1]
    return seg


def party_blocks(words: Sequence[Word]) -> list[PartyBlock]:
    """Party blocks named by a caption, in reading order: the block to the right of the caption
    (its first row on the caption's row, the rows under it aligned with it, until a row with
    something in the caption's column) or under it (rows aligned under the caption, bounded by
    whatever stands right of the caption on its row). A block ends at a blank row, a row of
    contact details (phone, e-mail, tax numbers) or another caption."""
    rows = _rows(words)
    out: list[PartyBlock] = []
    starts_by_page: dict[int, list[float]] = {}
    for ri, r in enumerate(rows):
        toks = [_norm(words[i].text) for i in r]
        k = 0
        while k < len(r):
            hit = _party_caption_at(toks[k:])
            if hit is None:
                k += 1
                continue
            fields, n = hit
            cap = [words[i] for i in r[k:k + n]]
            h = max(1.0, cap[-1].box[3] - cap[-1].box[1])
            prev = words[r[k - 1]] if k > 0 else None
            j = k + n
            while j < len(r) and toks[j] in ("", ":"):
                j += 1
            colon = cap[-1].text.endswith(":") or j > k + n
            nxt = words[r[j]] if j < len(r) else None
            # a caption stands apart: not the middle of a phrase ("Our customer service", "Vendor No.")
            if (prev is not None and cap[0].box[0] - prev.box[2] < 0.6 * h and not prev.text.endswith(":")) or (
                    nxt is not None and not colon and nxt.box[0] - cap[-1].box[2] < 0.6 * h):
                k += 1
                continue
            blk = _party_block(words, rows, ri, r, j, cap, h, starts_by_page)
            if blk:
                out.append(PartyBlock(fields, " ".join(toks[k:k + n]), cap, blk))
            k = j
    return out


def _segment(words: Sequence[Word], row: list[int], x: float, bound: float, h: float, starts: list[float],
             page: int, first: bool = False) -> list[Word]:
    """The run of a row's words that starts at ``x`` (left of ``bound``), or [] when none does."""
    ws = [words[i] for i in row if words[i].page == page and words[i].box[0] < bound - 0.5 * h]
    start = next((k for k, w in enumerate(ws) if abs(w.box[0] - x) < 1.5 * h), None)
    if start is None:
        return []
    seg = _cut_at_caption(_run(ws[start:]), starts, h)
    # the run starts the segment: a word just left of it at word spacing means x is mid-row
    if not first and start > 0 and seg and seg[0].box[0] - ws[start - 1].box[2] < 0.6 * h:
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
        if not any(words[i].box[2] > x - 1.5 * h and words[i].box[0] < bound for i in row):
            nri += 1  # a row of another column only (columns whose rows interleave)
            continue
        last_bottom = max(w.box[3] for w in block[-1])
        top = min(words[i].box[1] for i in row)
        if top - last_bottom > 1.2 * h:
            break
        if len(block) >= 2:
            pitch = min(w.box[1] for w in block[-1]) - min(w.box[1] for w in block[-2])
            if pitch > 0 and top - min(w.box[1] for w in block[-1]) > 1.4 * pitch:
                break  # a blank line between: the block has ended
        if col is not None and any(words[i].box[2] > col[0] and words[i].box[0] < col[1] for i in row):
            break  # the caption's column holds the next caption ("Phone", "Vendor")
        seg = _segment(words, row, x, bound, h, starts, page)
        if not seg or _contact_row(seg) or _key_row(seg):
            break
        block.append(seg)
        nri += 1
    return block


def rows_below(words: Sequence[Word], block: Sequence[Word]) -> list[list[Word]]:
    """Rows that continue the block ``block`` (words on one page) downwards, aligned with its left
    edge: the address lines a model left untagged under the ones it tagged."""
    if not block:
        return []
    page = block[0].page
    ids = {id(w) for w in block}
    pw = [w for w in words if w.page == page]
    rows = _rows(pw)
    own = [[pw[i] for i in r if id(pw[i]) in ids] for r in rows]
    have = [k for k, r in enumerate(own) if r]
    if not have:
        return []
    h = sorted(max(1.0, w.box[3] - w.box[1]) for w in block)[len(block) // 2]
    x = min(w.box[0] for w in block)
    seed = [own[k] for k in have]
    n = len(seed)
    out = _continue_block(pw, rows, have[-1] + 1, list(seed), x, h, float("inf"), _run_starts(words, page), page)
    return out[n:]


def _party_block(words: Sequence[Word], rows: list[list[int]], ri: int, r: list[int], j: int, cap: list[Word],
                 h: float, starts_by_page: dict[int, list[float]]) -> list[list[Word]] | None:
    page = cap[0].page
    nxt = words[r[j]] if j < len(r) else None
    right_of_cap = nxt is not None and nxt.box[0] - cap[-1].box[2] <= 15 * h and not _key_row([words[i] for i in r[j:j + 4]])
    if right_of_cap and not any(c.isalpha() for c in nxt.text):
        return None  # a code beside the caption ("Vendor 07821490"): the party's number, not its block
    if right_of_cap and nxt.box[0] - cap[-1].box[2] > 4 * h and ri + 1 < len(rows):
        # far right of the caption, with a block aligned right under it: the block under it is
        # the caption's ("Invoice and shipping address:" over the address; the far word is the
        # start of the window address printed beside it)
        under = [words[i] for i in rows[ri + 1] if words[i].page == page]
        width = max(w.box[2] for w in words if w.page == page) - min(w.box[0] for w in words if w.page == page)
        if nxt.box[0] - cap[-1].box[2] > 0.2 * width and under and under[0].box[1] - cap[-1].box[3] < 1.5 * h and any(
                abs(w.box[0] - cap[0].box[0]) < 1.0 * h for w in under):
            right_of_cap = False
    if page not in starts_by_page:
        starts_by_page[page] = _run_starts(words, page)
    starts = starts_by_page[page]

    def segment(row: list[int], x: float, bound: float, first: bool = False) -> list[Word]:
        return _segment(words, row, x, bound, h, starts, page, first)

    block: list[list[Word]] = []
    if right_of_cap:
        x = nxt.box[0]
        bound = float("inf")
        col0, col1 = cap[0].box[0] - h, x - 0.5 * h
        first = segment(r, x, bound, first=True)
        first = [w for w in first if not _key_row([w])] if first and _key_row(first[1:2]) else first
        block.append(first)
        nri = ri + 1
    else:
        bound = nxt.box[0] if nxt is not None else float("inf")
        col0 = col1 = None
        # the first row under the caption with a word under it (rows of other columns can come between)
        nri = ri + 1
        cand: list[Word] = []
        while nri < len(rows):
            below = [words[i] for i in rows[nri] if words[i].page == page]
            if not below or below[0].box[1] - cap[-1].box[3] > 2.5 * h:
                return None
            cand = [w for w in below if cap[0].box[0] - 2 * h <= w.box[0] < min(cap[-1].box[2], bound - 0.5 * h)]
            if cand:
                break
            nri += 1
        if not cand:
            return None
        x = cand[0].box[0]
        first = segment(rows[nri], x, bound)
        if not first:
            return None
        block.append(first)
        nri += 1
    if not block[0] or _contact_row(block[0]) or _key_row(block[0]) or block[0][-1].text.endswith(":") \
            or sum(c.isalpha() for w in block[0] for c in w.text) < 2:
        return None
    return _continue_block(words, rows, nri, block, x, h, bound, starts, page,
                           (col0, col1) if col0 is not None else None)


# Captions of a purchase order's key-value header that name something other than a party
# ("Department 432 BOYS", "Category 432004 HOODIES & SWEAT", "Factory 41098223"): their value is
# no buyer, supplier or address, however the model tagged it.
OTHER_KEY_CAPTIONS = frozenset({
    "department", "dept", "dept.", "category", "sub category", "subcategory", "season", "seasonality", "colour",
    "color", "colour code", "color code", "fabric", "composition", "factory", "factory code", "factory no",
    "division", "brand", "label", "style", "style no", "style number", "product ident", "product description",
    "product name", "product no", "product number", "article no", "article number", "option no",
    "development no", "country of origin", "origin", "country of production", "country of delivery",
    "port", "port of departure", "port of loading", "port of discharge", "incoterms", "incoterm", "ship via",
    "shipping method", "carrier", "freight", "freight terms", "transport", "mode of transport", "buyer id",
    "buyer code", "vendor no", "vendor number", "vendor id", "vendor code", "supplier no", "supplier number",
    "supplier code", "supplier id", "customer no", "customer number", "customer id", "customer code",
    "account no", "account number", "tax id", "vat no", "vat number", "pack type", "carton type", "qc status",
    "customs customer group", "type of construction", "sales mode", "no of pieces", "launch date",
    "buying process", "shipping instruction", "designated channel", "manufacturers ref", "manufacturer's ref",
    "abteilung", "saison", "farbe", "marke", "rayon", "couleur", "marque", "temporada", "marca",
})


_CONTACT_CAPTIONS = frozenset({"address", "adresse", "dirección", "adres", "indirizzo", "name", "customer name",
                               "contact", "contact name", "phone", "telephone", "tel", "fax", "email", "e-mail",
                               "attn", "attention"})


def other_caption(text: str, field: str = "buyer") -> bool:
    """Whether ``text`` (a caption as printed) names a value other than ``field``: a key of the
    header grid (department, season, factory, article number), or for a party also a header
    field (order number, date, currency) or a table column."""
    t = _norm(text).strip(" #").strip()
    t = re.sub(r"\s+", " ", t.replace(".", ". ").replace(" .", ".")).strip()
    t = t.rstrip(".") if t.rstrip(".") in OTHER_KEY_CAPTIONS else t
    if not t:
        return False
    own = [p for f, p in _BY_FIRST.get(t.split()[0], ()) if t == " ".join(p)]
    if field in CAPTIONS:
        # an order number, date or total is not printed after a party's or a contact's caption
        return not own and (t in OTHER_KEY_CAPTIONS or t in _CONTACT_CAPTIONS or bool(_party_caption_at(t.split())))
    if _party_caption_at(t.split()):
        return False
    return t in OTHER_KEY_CAPTIONS or bool(own)


def caption_left_of(words: Sequence[Word], first: Word) -> str | None:
    """The caption printed left of a value on its row: the run of words before the value's own
    run (runs are split at a gap of over one line height). None when the value starts its row."""
    h = max(1.0, first.box[3] - first.box[1])
    row = sorted((w for w in words if w.page == first.page and w.box[2] <= first.box[0] + 0.5
                  and min(w.box[3], first.box[3]) - max(w.box[1], first.box[1]) > 0.5 * h),
                 key=lambda w: w.box[0])
    # walk left: the value's own run, then the caption's
    runs: list[list[Word]] = [[first]]
    for w in reversed(row):
        if w is first:
            continue
        if runs[-1][0].box[0] - w.box[2] > 1.0 * h:
            if len(runs) == 2:
                break
            runs.append([w])
        else:
            runs[-1].insert(0, w)
    if len(runs) < 2:
        return None
    cap = runs[1]
    if len(cap) > 5 or any(c.isdigit() for w in cap for c in w.text):
        return None
    return " ".join(w.text for w in cap)


def starts_with_other_caption(words: Sequence[Word], first: Word, field: str = "buyer") -> bool:
    """Whether the row read from ``first`` begins with a caption of another key, printed whole
    before its value ("Factory   41098223", "Development No: 0000424C")."""
    h = max(1.0, first.box[3] - first.box[1])
    row = sorted((w for w in words if w.page == first.page and w.box[0] >= first.box[0] - 0.5
                  and min(w.box[3], first.box[3]) - max(w.box[1], first.box[1]) > 0.5 * h),
                 key=lambda w: w.box[0])
    for n in range(1, min(5, len(row)) + 1):
        cap = row[:n]
        # a caption ends at a colon or a gap; "Country of Origin" is one whatever follows
        ends = cap[-1].text.endswith(":") or n == len(row) or row[n].box[0] - cap[-1].box[2] > 1.0 * h or n >= 2
        if ends and other_caption(" ".join(w.text for w in cap), field):
            return True
        if cap[-1].text.endswith(":"):
            return False
    return False
