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
        "quotation date", "bestelldatum", "auftragsdatum", "belegdatum", "datum", "date de commande",
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


def _norm(t: str) -> str:
    return t.casefold().strip(":").strip()


def _compile() -> list[tuple[str, list[str]]]:
    pats = [(f, c.split()) for f, caps in CAPTIONS.items() for c in caps]
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
        v = parse_number(ws[-1].text, loc)
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
                right = [w for w in right if parse_number(w.text, loc) is not None][-1:]
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
