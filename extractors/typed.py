"""Orders typed as text (a mail body, a ``.txt`` file): item lines read by their grammar.

People who type an order into a mail write one item per line in a handful of shapes, in every
language::

    25 MAT-1349 Clairefontaine paper A4 80g, ream       quantity, our/their code, wording
    - 4 x toner Brother TN-2410 noir                     bullet, quantity "x", wording
    classeur a levier A4 dos 50mm noir : 22              wording, separator, quantity
    207a toner cartridge cyan - qty 2                    wording, "qty", quantity
    D0944056        120 pce     Drive belt               code, quantity, unit, wording
    50,000 caja Dark chocolate 70% (ref. EVY-370)        quantity, unit, wording, marked code
    12 pens @ 1.20 EUR                                   ... and a price after "@", "à", "at"

The layout model reads these too, but a typed line has no columns for it to lean on and it
tends to cut wordings short or take a number inside the wording ("A3 80 grammes") for the
quantity. Here every line is parsed whole: the quantity is the number in a quantity position
(first, after a bullet, or last after a separator), a unit is taken only where it is a unit (an
abbreviation, "boxes of", or a column of units down the block), a code only where it is marked
("ref.", "art.") or stands in a column of codes, and the wording is everything else, untouched,
because the wording is what matching reads.

Item lines are looked for in the message's own text: quoted replies (``>``) and everything from
the sign-off ("Regards", "Cordialement", ...) on are not read; an address line ("19 rue de la
République", "12253 Lille") is not an item. Header values come from captions in the text ("PO:",
"Bon de commande n°", "Delivery by").

:func:`refine` merges this reading into the model's draft for a text document: where the text
has item lines, they replace the model's lines; header fields fill what the model missed or
replace it when a caption names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from extractors.normalize import Locale, detect_locale, normalize_uom, parse_currency, parse_date, parse_number
from intake.core.domain import Document, DocumentKind, Field, LineDraft, OrderDraft, SourceRef, Word

__all__ = ["TypedLine", "parse_items", "parse_header", "parse_typed", "refine", "TEXT_KINDS"]

TEXT_KINDS = frozenset({DocumentKind.email_body, DocumentKind.text})

# Confidence of a value read by the grammar (bench/typed.py): in blocks of like lines, 611 of 611
# synthetic lines and 66 of 66 typed lines of a public mail corpus had quantity and wording right;
# 0.96 leaves room for shapes neither holds. A lone line of a weaker shape stays below the
# approval threshold, so a person sees it.
CONF_STRONG = 0.96
CONF_WEAK = 0.82

_SIGNOFF = re.compile(
    r"(?i)^\s*(best regards|kind regards|regards|many thanks|thanks|thank you|cheers|best|sincerely|"
    r"cordialement|bien cordialement|salutations|bien à vous|bien a vous|merci|meilleures salutations|"
    r"mit freundlichen gr(ü|ue)(ß|ss)en|freundliche gr(ü|ue)(ß|ss)e|viele gr(ü|ue)(ß|ss)e|gr(ü|ue)(ß|ss)e|danke|"
    r"saludos|atentamente|un saludo|gracias|met vriendelijke groet(en)?|groeten|vriendelijke groet(en)?|"
    r"cordiali saluti|distinti saluti|saluti|grazie)\b[\s,.!]*(?:[A-ZÀ-Ý][\w.-]*[\s,.!]*){0,2}$")
_ADDRESS = re.compile(
    r"(?i)\b(rue|avenue|av\.|boulevard|bd|street|st\.|road|rd\.|lane|drive|blvd|way|place|chemin|allée|allee|"
    r"impasse|quai|straße|strasse|str\.|weg|gasse|platz|calle|avenida|paseo|plaza|carrer|via|viale|piazza|"
    r"straat|laan|plein|gracht|suite|floor|étage|etage|bâtiment|batiment|building|hall|gate|tel|tél|fax|phone|"
    r"téléphone|telefon|cedex|bp|po box|postfach)\b")
_TEL = re.compile(r"(?i)(\+\d{1,3}[\s\d().-]{6,}|\b(tel|tél|fax|phone|mobile|gsm)\b)")
_NUM = r"(?:\d{1,3}(?:[ .,\u00a0\u202f']\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?![\d])"
_QTY_WORDS = r"(?:qty|qte|qté|quantity|quantité|quantite|menge|anzahl|cantidad|cant\.?|aantal|quantità|qta)"
_LEAD = re.compile(rf"^\s*(?:[-*•·–>]\s*|\d+[.)]\s+)?(?:{_QTY_WORDS}\s*[:.]?\s*)?(?P<qty>{_NUM})\s*(?:(?P<x>[x×X*])(?=\s|$)\s*)?(?P<rest>\S.*)$")
_TRAIL = re.compile(
    rf"^\s*(?:[-*•·–]\s*)?(?P<rest>\S.*?\S)\s*(?:[:=]|\s[-–—]|[,;(]|\s)\s*(?:{_QTY_WORDS}\s*[:.]?\s*|[x×X*]\s*)?"
    rf"(?P<qty>{_NUM})\s*(?P<unit>[A-Za-zéèûôî.]{{1,12}})?\s*\)?\s*[.;]?\s*$")
_TRAIL_MARKED = re.compile(rf"(?i)(?:[:=]|\s[-–—]\s*(?:{_QTY_WORDS})?|\b{_QTY_WORDS}\s*[:.]?|\s[x×*])\s*$")
_TRAIL_STRONG = re.compile(rf"(?i)(?:[:=]|\b{_QTY_WORDS}\s*[:.]?)\s*$")
_MARKED_CODE = re.compile(
    r"(?i)(?:^|[\s(\[,;])(?:ref|réf|art|artikel|item|part|p/n|pn|sku|code|article|réf\.?\s*art|art\.-nr|art-nr|"
    r"artikelnr|bestellnr|item\s*no|part\s*no|n°\s*art)\.?\s*(?:n[o°º]\.?|nr\.?|#)?\s*[:#]?\s*"
    r"(?P<code>[A-Za-z0-9][A-Za-z0-9./_-]*\d[A-Za-z0-9./_-]*|\d[A-Za-z0-9./_-]*)\)?")
_CODE_TOKEN = re.compile(r"^(?=.*\d)(?=.{3,})[A-Za-z0-9][A-Za-z0-9./_-]*$")
_PRICE = re.compile(
    rf"(?i)\s*(?:[,;]\s*)?(?:(?:\s*@|\s+(?:à|a|at|je|zu|per|prix|price|unit price|p\.?u\.?|each|por|a\s+raz[oó]n\s+de)(?![\w]))\s*[:]?\s*)+"
    rf"(?P<cur1>[€$£]|eur|usd|gbp|chf)?\s*(?P<price>{_NUM})\s*(?P<cur2>[€$£]|eur|usd|gbp|chf)?"
    r"(?:\s*/\s*[\w.]+|\s+[A-Za-zÀ-ÿ'.]+(?:\s+[A-Za-zÀ-ÿ'.]+)?)?\.?\s*$")
_PRICE_CUR = re.compile(
    rf"(?i)\s*(?:[,;@-]\s*)?(?P<cur1>[€$£]|eur|usd|gbp|chf)\s*(?P<price>{_NUM})\s*(?:/\s*\w+|each|ea|ht)?\.?\s*$|"
    rf"\s*(?:[,;@-]\s*)?(?P<price2>{_NUM})\s*(?P<cur2>[€$£]|eur|usd|gbp|chf)\s*(?:/\s*\w+|each|ea|ht|ttc)?\.?\s*$")
_UNIT_OF = re.compile(r"(?i)^(?P<unit>\S+)\s+(?:of|de|d'|du|des|à|van|von|di)\s+(?P<rest>.+)$")
# Unit words that are also product nouns ("40 sac poubelle" orders bin bags): a unit only when
# "of"/"de" follows or the whole block has a unit column.
_SHORT_UNIT = re.compile(r"(?i)^(pcs?|pce?s?|ea|stk|st|ud|uds|u|un|bx|cs|ctn|pk|pkg|dz|kg|g|m|mm|cm|l|ml|lt|rl|rm|pr|pz)\.?$")


@dataclass
class TypedLine:
    """One item line as typed."""

    row: int  # line index in the text
    text: str
    quantity: float
    qty_raw: str
    description: str
    unit: str | None = None
    code: str | None = None
    price: float | None = None
    price_raw: str | None = None
    currency: str | None = None
    shape: str = "lead"  # lead | trail | code_lead
    tokens: list[str] = field(default_factory=list)


def _body_rows(text: str) -> list[tuple[int, str]]:
    """The message's own lines up to the sign-off, without quoted text."""
    out: list[tuple[int, str]] = []
    for i, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        s = line.strip()
        if s.startswith(">"):
            continue
        if _SIGNOFF.match(s) and len(s) < 40:
            break
        if re.match(r"(?i)^(-{2,}\s*original message|on .+ wrote:|le .+ a écrit|am .+ schrieb|-- ?$)", s):
            break
        out.append((i, line))
    return out


def _number(raw: str, loc: Locale) -> float | None:
    v = parse_number(raw, loc)
    if v is None:
        return None
    return float(v)


def _is_num(tok: str) -> bool:
    return re.fullmatch(_NUM, tok) is not None


def _is_code(tok: str) -> bool:
    """An item code: letters and digits, or digits with dashes/dots, or a long number, or any
    of these ending in a colon ("08847394:")."""
    t = tok.rstrip(":,;")
    if not _CODE_TOKEN.match(t):
        return False
    if _is_num(t):
        return tok.endswith(":") or (t.isdigit() and len(t) >= 6)
    return bool(re.search(r"[A-Za-z]", t) and re.search(r"\d", t)) or bool(re.search(r"\d[-./_]\d", t))


def _is_unit(tok: str) -> bool:
    from intake.core.units import normalize_uom

    t = tok.strip(".,;:")
    return bool(t) and not any(c.isdigit() for c in t) and normalize_uom(t) is not None


def _strip_price(rest: str, loc: Locale) -> tuple[str, float | None, str | None, str | None]:
    m = _PRICE_CUR.search(rest) or _PRICE.search(rest)
    if not m:
        return rest, None, None, None
    price_raw = m.group("price") if "price" in m.groupdict() and m.group("price") else m.groupdict().get("price2")
    if not price_raw:
        return rest, None, None, None
    cur = next((m.groupdict().get(k) for k in ("cur1", "cur2") if m.groupdict().get(k)), None)
    head = rest[:m.start()].rstrip(" ,;-")
    if not head or not re.search(r"[A-Za-zÀ-ÿ]", head):
        return rest, None, None, None
    price = _number(price_raw, loc)
    if price is None:
        return rest, None, None, None
    return head, price, m.group(0).strip(), parse_currency(cur) if cur else None


def _parse_line(row: int, line: str, loc: Locale) -> TypedLine | None:
    s = line.strip()
    if not s or len(s) > 200 or not re.search(r"[A-Za-zÀ-ÿ]{2}", s):
        return None
    if _TEL.search(s) or re.search(r"(?i)\b(https?://|www\.|@[a-z0-9-]+\.)", s):
        return None
    if re.search(r"(?i)^\s*(total|sous-total|subtotal|summe|gesamt|montant|tva|vat|mwst|iva|btw)\b", s):
        return None
    if _PO_CAPTION.search(s) and not re.search(r"(?i)\b(x|qty|pcs?|stk)\b", s):
        return None  # "Notre n° de commande : 137624" is a caption, not an item
    price = price_raw = cur = None
    body = re.sub(r"^\s*(?:[-*•·–>]|\d{1,2}[.)])\s+", "", s)
    toks = body.split()
    # code first, then quantity: "D0944056   120 pce   Drive belt", "- 1919-253-06: 10 Satz ..."
    if len(toks) >= 3 and _is_code(toks[0]) and _is_num(toks[1]) and re.search(r"[A-Za-zÀ-ÿ]{2}", " ".join(toks[2:])):
        qty = _number(toks[1], loc)
        if qty is not None and 0 < qty < 1e7:
            rest = body.split(None, 2)[2]
            rest, price, price_raw, cur = _strip_price(rest, loc)
            return TypedLine(row, s, qty, toks[1], rest, code=toks[0].rstrip(":,;"), price=price, price_raw=price_raw,
                             currency=cur, shape="code_lead", tokens=rest.split())
    # qty first: "25 desc", "- 4 x desc", "qty 3 desc"
    m = _LEAD.match(s)
    if m and not re.match(r"^\s*\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", s):
        qty_raw, rest = m.group("qty"), m.group("rest").strip()
        qty = _number(qty_raw, loc)
        if qty is not None and 0 < qty < 1e7 and re.search(r"[A-Za-zÀ-ÿ]{2}", rest) and not rest[:1] in "-/.:":
            rest, price, price_raw, cur = _strip_price(rest, loc)
            # "25 ... : 3" is wording that starts with a number and a quantity at the end
            t = _TRAIL.match(s)
            if (t and not m.group("x") and _TRAIL_STRONG.search(s[:t.start("qty")])
                    and not re.search(r"[.,]\d{2}$", t.group("qty"))):
                pass
            else:
                return TypedLine(row, s, qty, qty_raw, rest, price=price, price_raw=price_raw, currency=cur,
                                 shape="lead_x" if m.group("x") else "lead", tokens=rest.split())
    # qty last: "desc : 22", "desc - qty 2", "desc x 3"
    rest0, price, price_raw, cur = _strip_price(s, loc)
    t = _TRAIL.match(rest0)
    if t:
        before = rest0[:t.start("qty")]
        if _TRAIL_MARKED.search(before):
            qty = _number(t.group("qty"), loc)
            unit = t.group("unit")
            if unit and not _is_unit(unit):
                return None
            desc = t.group("rest").strip().lstrip("-*•· ").strip()
            if qty is not None and 0 < qty < 1e7 and re.search(r"[A-Za-zÀ-ÿ]{2}", desc):
                return TypedLine(row, s, qty, t.group("qty"), desc, unit=unit, price=price, price_raw=price_raw,
                                 currency=cur, shape="trail", tokens=desc.split())
    return None


def _looks_like_address(tl: TypedLine) -> bool:
    """A street line or a postcode line read as '19 rue ...' / '12253 Lille'."""
    if tl.shape != "lead" or tl.code is not None or tl.price is not None or tl.unit is not None:
        return False  # a quantity marker, a code or a price: an item, whatever its wording
    if _ADDRESS.search(tl.description) and re.fullmatch(r"\d{1,5}[a-zA-Z]?", tl.qty_raw):
        return True
    if tl.shape == "lead" and re.fullmatch(r"\d{4,6}", tl.qty_raw) and len(tl.tokens) <= 3 and all(
            t[:1].isupper() for t in tl.tokens):
        return True
    return False


def parse_items(text: str, locale: Locale | None = None) -> list[TypedLine]:
    """The item lines of a typed order, in order (empty when there is no block of item lines)."""
    rows = _body_rows(text)
    loc = locale or detect_locale([w for _i, ln in rows for w in ln.split()])
    if loc.decimal is None and loc.lang in ("de", "fr", "es", "nl", "it", "pt"):
        # Continental writing: "6,000 Karton" is six cartons, "1.250" a thousand two hundred and fifty.
        loc = Locale(lang=loc.lang, decimal=",", dayfirst=loc.dayfirst)
    parsed: list[TypedLine | None] = [_parse_line(i, ln, loc) for i, ln in rows]
    # Blocks of consecutive item lines (blank lines inside a block are allowed once).
    blocks: list[list[TypedLine]] = []
    cur: list[TypedLine] = []
    gap = 0
    for (i, ln), p in zip(rows, parsed):
        if p is not None and not _looks_like_address(p):
            cur.append(p)
            gap = 0
            continue
        if not ln.strip() and cur and gap == 0:
            gap = 1
            continue
        if cur:
            blocks.append(cur)
        cur, gap = [], 0
    if cur:
        blocks.append(cur)
    items: list[TypedLine] = []
    for b in blocks:
        shapes = {t.shape for t in b}
        # A lone "lead" line ("3 weeks ago we ordered ...") among prose is not an order block
        # unless it has a quantity marker, a code or a price.
        if len(b) == 1 and b[0].shape == "lead" and not (b[0].price or _MARKED_CODE.search(b[0].text)):
            continue
        if len(shapes) > 1 and len(b) >= 3:
            # Mixed shapes: keep the dominant one (a stray "2 weeks" line is not an item).
            dom = max(shapes, key=lambda sh: sum(1 for t in b if t.shape == sh))
            if dom in ("lead", "lead_x"):
                b = [t for t in b if t.shape in ("lead", "lead_x")]
            else:
                b = [t for t in b if t.shape == dom]
        _columns(b)
        items.extend(b)
    for t in items:
        _marked_code(t)
    return items


def _columns(block: list[TypedLine]) -> None:
    """Unit and code columns: the token after the quantity is a unit (or a code) when it is one
    on every line of the block (or reads as one: "pcs", "boxes of")."""
    lead = [t for t in block if t.shape in ("lead", "lead_x", "code_lead")]
    if not lead:
        return
    n_units = sum(1 for t in lead if len(t.tokens) > 1 and _is_unit(t.tokens[0]))
    unit_col = n_units >= 2 and n_units >= 0.6 * len(lead)
    for t in lead:
        if not t.tokens or t.unit:
            continue
        first = t.tokens[0]
        m = _UNIT_OF.match(t.description)
        if m and _is_unit(m.group("unit")):
            t.unit, t.description = m.group("unit"), m.group("rest").strip()
        elif _is_unit(first) and len(t.tokens) > 1 and (unit_col or _SHORT_UNIT.match(first) or t.shape == "code_lead"):
            t.unit, t.description = first, t.description.split(None, 1)[1].strip()
        t.tokens = t.description.split()
    def codeish(t: TypedLine, strict: bool) -> bool:
        if t.code is not None or len(t.tokens) < 2 or not _is_code(t.tokens[0]):
            return False
        if not re.search(r"[A-Za-zÀ-ÿ]{2}", " ".join(t.tokens[1:])):
            return False
        # alone, only a code that cannot be a word of the wording ("12a toner" keeps its "12a")
        return not strict or bool(re.search(r"\d[-./_]|[-./_]\d", t.tokens[0]) or len(t.tokens[0]) >= 6)

    code_col = all(codeish(t, len(lead) < 2) for t in lead)
    if code_col:
        for t in lead:
            t.code, t.description = t.tokens[0], t.description.split(None, 1)[1].strip()
            t.tokens = t.description.split()


def _marked_code(t: TypedLine) -> None:
    """"(ref. EVY-370)", "Ref 286309 ...", "art. 4711": the code the customer marks as one."""
    if t.code:
        return
    m = _MARKED_CODE.search(t.description)
    if not m:
        return
    t.code = m.group("code").rstrip(".,;)")
    desc = (t.description[:m.start()] + " " + t.description[m.end():]).strip(" ,;-")
    desc = re.sub(r"\(\s*\)", "", desc)
    t.description = re.sub(r"\s{2,}", " ", desc).strip(" ,;-") or t.description


# --- header captions ---------------------------------------------------------------------------

_PO_CAPTION = re.compile(
    r"(?i)(?:\bp\.?\s?o\.?(?=[\s:#]|$)|\b\w*(?:order|commande|bestell|pedido|ordine|orden|auftrag|inkoop|bestel)[\w-]*\.?)"
    r"(?:\s+(?:de\s+|di\s+)?(?:compra|acquisto|commande|number|no\.?|nr\.?|n[°º.o]+|#|ref\.?|reference|nummer|num\.?))*"
    r"\s*[:#]?\s*(?P<v>(?=[A-Za-z0-9/_.-]*\d)[A-Za-z0-9][A-Za-z0-9/_.-]*[A-Za-z0-9]|\d)(?![\w-])")
_REQ_CAPTION = re.compile(
    r"(?i)(deliver(?:y|ed)?\s+(?:by|on|before|date)|required\s+(?:by|on)|needed\s+(?:by|on)|ship\s+(?:by|on)|"
    r"livraison(?:\s+souhait[ée]e)?(?:\s+(?:le|pour|avant))?|livrer\s+(?:le|avant)|date\s+de\s+livraison|"
    r"liefer(?:ung|termin|datum)(?:\s+(?:bis|am))?|entrega(?:\s+(?:antes\s+del|el|para))?|fecha\s+de\s+entrega|"
    r"leverdatum|levering(?:\s+(?:voor|vóór|op))?|consegna(?:\s+entro)?|liefern\s+(?:bis|am|zum)|"
    r"leveren\s+(?:voor|vóór|op|uiterlijk)|entregar?\s+(?:antes\s+del?|el|para)|consegnare\s+entro|"
    r"delivery|livraison|lieferung|entrega|levering|consegna)\s*[:]?\s*(?:le|am|el|on|by|bis|voor|op|del?)?\s*"
    r"(?P<v>\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}\.?\s+[A-Za-zéûä]{3,10}\.?\s+\d{4}|[A-Za-z]{3,10}\.?\s+\d{1,2},?\s+\d{4})")
_DATE_CAPTION = re.compile(
    r"(?i)(order\s+date|date\s+of\s+order|date\s+de\s+(?:la\s+)?commande|bestelldatum|fecha\s+(?:del\s+)?pedido|"
    r"orderdatum|data\s+ordine|^date)\s*[:]?\s*"
    r"(?P<v>\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}\.?\s+[A-Za-zéûä]{3,10}\.?\s+\d{4}|[A-Za-z]{3,10}\.?\s+\d{1,2},?\s+\d{4})")


def parse_header(text: str, locale: Locale | None = None) -> dict[str, tuple[object, str, int]]:
    """Header values named by a caption in the text: field -> (value, raw, line index)."""
    rows = _body_rows(text)
    loc = locale or detect_locale([w for _i, ln in rows for w in ln.split()])
    out: dict[str, tuple[object, str, int]] = {}
    for i, ln in rows:
        if "po_number" not in out:
            m = _PO_CAPTION.search(ln)
            if m:
                v = m.group("v").rstrip(".,;)")
                if re.search(r"\d", v) and not parse_date(v, loc):
                    out["po_number"] = (v, v, i)
        for key, rx in (("requested_date", _REQ_CAPTION), ("order_date", _DATE_CAPTION)):
            if key in out:
                continue
            m = rx.search(ln)
            if m:
                d = parse_date(m.group("v").strip().rstrip("."), loc)
                if d:
                    out[key] = (d, m.group("v").strip(), i)
    return out


def signature_company(text: str) -> tuple[str, int] | None:
    """The sender's company from the signature under the sign-off ("Regards, / Emma Clarke /
    Brightside Dental Group / 12 High Street"): the row with a legal form, else the row after the
    person's name. Returns (name, line index) or None."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = None
    for i, line in enumerate(lines):
        st = line.strip()
        if st.startswith(">"):
            break
        if _SIGNOFF.match(st) and len(st) < 40:
            start = i
            break
    if start is None:
        return None
    rows: list[tuple[int, str]] = []
    for i in range(start + 1, min(len(lines), start + 8)):
        st = lines[i].strip()
        if not st:
            if rows:
                break
            continue
        if st.startswith(("--", "__", ">")) or _TEL.search(st) or "@" in st or re.search(r"(?i)https?://|www\.", st):
            continue
        if _ADDRESS.search(st) or re.search(r"\d", st):
            continue  # a street, a postcode and town, a phone number
        rows.append((i, st))
    if not rows:
        return None
    from extractors.assembly.values import LEGAL_FORM as _LEGAL_FORM

    legal = next((r for r in rows if _LEGAL_FORM.search(r[1])), None)
    if legal:
        return legal[1], legal[0]
    def person(r: str) -> bool:
        ws = r.split()
        return 1 <= len(ws) <= 3 and all(w[:1].isupper() and w[1:].replace("-", "").isalpha() for w in ws)
    if person(rows[0][1]):
        return (rows[1][1], rows[1][0]) if len(rows) >= 2 else None
    return rows[0][1], rows[0][0]  # "Thanks, Emma" / "Brightside Dental Group"


def parse_typed(text: str, locale: Locale | None = None) -> tuple[list[TypedLine], dict[str, tuple[object, str, int]]]:
    loc = locale or detect_locale(text.split())
    return parse_items(text, loc), parse_header(text, loc)


# --- merging into the model's draft ------------------------------------------------------------

def _row_source(words_by_row: dict[int, list[Word]], row: int) -> list[SourceRef]:
    from extractors.geometry import union

    return union(words_by_row.get(row) or [])


def _text_of(doc: Document) -> str:
    if doc.text:
        return doc.text
    rows: dict[int, list[Word]] = {}
    for p in doc.pages:
        for w in p.words:
            rows.setdefault(int(round(w.box[1] / 12.0)), []).append(w)
    return "\n".join(" ".join(w.text for w in sorted(ws, key=lambda w: w.box[0])) for _k, ws in sorted(rows.items()))


def refine(doc: Document, draft: OrderDraft, locale: Locale | None = None) -> OrderDraft:
    """The model's draft of a typed order with the grammar's reading merged in (other documents
    are returned as they are)."""
    if doc.kind not in TEXT_KINDS or not doc.pages:
        return draft
    text = _text_of(doc)
    loc = locale or detect_locale(text.split(), doc.locale)
    items, header = parse_typed(text, loc)
    from extractors.base import LINE_HEIGHT

    words_by_row: dict[int, list[Word]] = {}
    for w in doc.pages[0].words:
        words_by_row.setdefault(int(round(w.box[1] / LINE_HEIGHT)), []).append(w)
    if items:
        block_strong = len(items) >= 2
        lines: list[LineDraft] = []
        for n, t in enumerate(items, start=1):
            strong = block_strong or t.shape in ("lead_x", "trail", "code_lead") or t.code is not None
            conf = CONF_STRONG if strong else CONF_WEAK
            src = _row_source(words_by_row, t.row)
            ln = LineDraft(
                line_no=Field(value=n, raw=None, confidence=conf, source=src),
                description=Field(value=t.description, raw=t.description, confidence=conf, source=src),
                quantity=Field(value=t.quantity, raw=t.qty_raw, confidence=conf, source=src),
            )
            if t.code:
                ln.sku = Field(value=t.code, raw=t.code, confidence=conf, source=src)
            if t.unit:
                ln.uom = Field(value=normalize_uom(t.unit), raw=t.unit, confidence=conf, source=src)
            if t.price is not None:
                ln.unit_price = Field(value=t.price, raw=t.price_raw, confidence=conf, source=src)
            lines.append(ln)
        if _better(lines, draft.lines):
            draft.lines = lines
            draft.meta["typed_lines"] = len(lines)
            if not draft.currency.present:
                cur = next((t.currency for t in items if t.currency), None)
                if cur:
                    draft.currency = Field(value=cur, raw=cur, confidence=CONF_STRONG)
    sig = signature_company(text)
    if sig is not None:
        name, row = sig
        cur_b: Field = draft.buyer
        if not (cur_b.present and str(cur_b.value).casefold() == name.casefold()):
            draft.buyer = Field(value=name, raw=name, confidence=CONF_WEAK, source=_row_source(words_by_row, row))
    for key, (value, raw, row) in header.items():
        cur_f: Field = getattr(draft, key)
        if cur_f.present and cur_f.value == value:
            continue
        setattr(draft, key, Field(value=value, raw=raw, confidence=CONF_STRONG, source=_row_source(words_by_row, row)))
    return draft


def _better(typed: Sequence[LineDraft], model: Sequence[LineDraft]) -> bool:
    """Whether the grammar's lines should replace the model's: it found at least as many, or
    its lines carry more of the text (the model cut wordings short)."""
    if not typed:
        return False
    if len(typed) >= len(model):
        return True
    # The model found more lines: keep them unless they are fragments of the typed ones.
    model_desc = sum(len(str(ln.description.value or "")) for ln in model)
    typed_desc = sum(len(str(ln.description.value or "")) for ln in typed)
    return typed_desc >= model_desc and len(typed) >= 0.6 * len(model)
