"""Order content: random but plausible purchase orders, and the locale formatting of values.

Everything is drawn from a ``random.Random`` that the caller seeds, so a seed gives the same
order every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from training.synth import vocab
from training.synth.families import NUMBER_STYLES, Family

__all__ = ["Party", "OrderLine", "Order", "make_order", "fmt_number", "fmt_date", "fmt_money"]


@dataclass
class Party:
    """A name with its address lines, printed one per line."""

    name: str
    address: list[str]

    @property
    def lines(self) -> list[str]:
        return [self.name, *self.address]

    def joined(self) -> str:
        """The truth form of a multi-line block: its printed lines joined with ", "."""
        return ", ".join(self.lines)


@dataclass
class OrderLine:
    line_no: int
    sku: str
    cust_part: str
    description: str
    quantity: float
    uom: str
    unit_price: float
    price_decimals: int
    discount_pct: float | None
    amount: float


@dataclass
class Order:
    po_number: str
    order_date: date
    requested_date: date
    buyer: Party
    supplier: Party
    ship_to: Party
    bill_to: Party
    contact: str  # the buyer's person, used in emails and signatures
    currency: str
    payment_terms: str
    lines: list[OrderLine]
    subtotal: float
    order_discount: float  # positive amount subtracted, 0 when none
    freight: float
    tax_rate: float  # percent, 0 when no tax line
    tax: float
    total: float
    notes: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _round2(x: float | Decimal) -> float:
    return float(Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def fmt_number(x: float, style: str, decimals: int = 2, group: bool = True) -> str:
    """Format ``x`` in a number style ("en" 1,234.56; "de" 1.234,56; "fr" 1 234,56; "ch" 1'234.56)."""
    sep, dec = NUMBER_STYLES[style]
    neg = x < 0
    q = Decimal(str(abs(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    s = f"{q:f}"
    ip, _, fp = s.partition(".")
    if group and sep:
        parts = []
        while len(ip) > 3:
            parts.insert(0, ip[-3:])
            ip = ip[:-3]
        parts.insert(0, ip)
        ip = sep.join(parts)
    out = ip + (dec + fp if decimals > 0 else "")
    return "-" + out if neg else out


def fmt_money(x: float, style: str, currency: str | None = None, symbol: bool = False) -> str:
    """An amount with an optional currency code or symbol placed the way the locale does."""
    num = fmt_number(x, style, 2)
    if currency is None:
        return num
    cur = vocab.CURRENCY_SYMBOLS.get(currency, currency) if symbol else currency
    if style in ("en", "plain") and symbol and cur in ("$", "£"):
        return f"{cur}{num}"
    if style in ("en", "plain", "ch"):
        return f"{cur} {num}"
    return f"{num} {cur}"


def fmt_date(d: date, style: str, lang: str) -> str:
    """Format a date in one of the families' date styles."""
    if style == "dmy":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "mdy":
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    if style == "iso":
        return d.isoformat()
    if style == "dot":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if style == "dmydash":
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    if style == "uslong":
        return f"{vocab.MONTHS['en'][d.month - 1][:3]} {d.day}, {d.year}"
    month = vocab.MONTHS[lang][d.month - 1]
    if lang == "de":
        return f"{d.day}. {month} {d.year}"
    if lang == "es":
        return f"{d.day} de {month} de {d.year}"
    if lang == "en":
        return f"{d.day} {month} {d.year}"
    return f"{d.day} {month} {d.year}"


def _pattern(r: random.Random, pat: str) -> str:
    return "".join(str(r.randrange(10)) if ch == "9" else (chr(65 + r.randrange(26)) if ch == "A" else ch)
                   for ch in pat)


def _party(r: random.Random, lang: str, country: str | None = None, with_country: bool | None = None) -> Party:
    country = country or r.choice(vocab.LANG_COUNTRIES[lang])
    words = r.choice(vocab.COMPANY_WORDS)
    name = f"{words} {r.choice(vocab.COMPANY_TRADES)} {r.choice(vocab.COMPANY_FORMS[country])}"
    street = r.choice(vocab.STREETS[country])
    num = str(r.randrange(1, 250))
    if country in ("US", "GB", "FR"):
        street_line = f"{num} {street}"
    else:
        street_line = f"{street} {num}"
    pc, city = r.choice(vocab.CITIES[country])
    code = _pattern(r, pc)
    city_line = f"{city} {code}" if country == "US" else (f"{city} {code}" if country == "GB" else f"{code} {city}")
    addr = [street_line]
    if r.random() < 0.25:
        addr.insert(0, r.choice(["Building 4", "Gate 2", "Dept. Purchasing", "c/o Warehouse", "Unit 12",
                                 "Hall B"]))
    addr.append(city_line)
    if with_country if with_country is not None else r.random() < 0.5:
        addr.append(vocab.COUNTRY_NAMES[lang][country])
    return Party(name, addr)


def _po_number(r: random.Random, pat: str, year: int) -> str:
    if pat == "sap":
        return "45" + "".join(str(r.randrange(10)) for _ in range(8))
    if pat == "po_year":
        return f"PO-{year}-{r.randrange(1, 99999):05d}"
    if pat == "slash":
        return f"{r.randrange(10000, 99999)}/{chr(65 + r.randrange(6))}"
    if pat == "po_plain":
        return f"PO{r.randrange(100000, 999999)}"
    if pat == "dash_code":
        return f"{chr(65 + r.randrange(26))}{chr(65 + r.randrange(26))}-{year % 100}-{r.randrange(1, 9999):04d}"
    if pat == "year_slash":
        return f"{year}/{r.randrange(1, 9999):04d}"
    return str(r.randrange(100000, 999999))


def _sku(r: random.Random, style: str, long: bool) -> str:
    L = lambda n: "".join(chr(65 + r.randrange(26)) for _ in range(n))  # noqa: E731
    D = lambda n: "".join(str(r.randrange(10)) for _ in range(n))  # noqa: E731
    if long:
        return r.choice([f"{L(3)}-{D(5)}-{L(2)}-{D(3)}", f"{D(4)}.{D(3)}.{D(3)}-{L(2)}{D(2)}",
                         f"{L(2)}{D(4)}-{L(3)}-{D(4)}"])
    if style == "abc123":
        return f"{L(3)}-{D(3)}"
    if style == "dashed_num":
        return f"{D(4)}-{D(3)}-{D(2)}"
    if style == "numeric":
        return D(8)
    if style == "multi_dash":
        return f"{L(3)}-{r.choice(['BLU', 'RED', 'BLK', 'WHT', 'GRN'])}-{r.choice(['S', 'M', 'L', 'XL'])}-{D(4)}"
    if style == "letter_num":
        return f"{L(1)}{D(7)}"
    return f"{L(2)}.{D(3)}.{D(3)}"


def _description(r: random.Random, long: bool) -> str:
    cat = r.choice(list(vocab.PRODUCT_NOUNS))
    desc = f"{r.choice(vocab.PRODUCT_NOUNS[cat])}, {r.choice(vocab.PRODUCT_SPECS[cat])}"
    if long:
        desc += ", " + r.choice(vocab.PRODUCT_EXTRAS)
    return desc


def make_order(r: random.Random, fam: Family, max_lines: int | None = None) -> Order:
    """Draw one order for family ``fam`` from ``r``."""
    year = r.choice((2024, 2025, 2026))
    od = date(year, 1, 1) + timedelta(days=r.randrange(365))
    rd = od + timedelta(days=r.randrange(3, 60))
    lang = fam.lang
    buyer = _party(r, lang)
    supplier = _party(r, lang)
    if r.random() < 0.4:
        ship_to = Party(buyer.name, _party(r, lang).address)
    else:
        ship_to = _party(r, lang)
    bill_to = Party(buyer.name, list(buyer.address)) if r.random() < 0.5 else _party(r, lang)
    currency = fam.currency if r.random() < 0.85 else r.choice(vocab.CURRENCIES[lang])
    terms = r.choice(vocab.PAYMENT_TERMS[lang])
    top = max_lines or fam.max_lines
    # Mostly short orders, sometimes long ones (multi-page in small fonts).
    n = min(top, 1 + int(r.expovariate(1 / 6))) if r.random() < 0.8 else r.randint(1, top)
    uoms = vocab.UOMS[lang]
    lines = []
    subtotal = Decimal(0)
    for i in range(n):
        uom = r.choice(uoms[:4]) if r.random() < 0.7 else r.choice(uoms)
        if uom in vocab.DECIMAL_UOMS and r.random() < 0.6:
            qty = round(r.uniform(0.5, 250), r.choice((1, 2)))
        else:
            qty = float(r.choice((1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 24, 25, 30, 48, 50, 100, 120, 200, 250,
                                  500, 1000, 1200, 2500)))
        if fam.qty_decimals == 0 and not float(qty).is_integer():
            qty = float(round(qty))
            qty = max(qty, 1.0)
        pdec = 2 if r.random() < 0.9 else r.choice((3, 4))
        price = round(r.lognormvariate(2.3, 1.4), pdec)
        price = max(price, 0.01 if pdec == 2 else 0.001)
        if price > 20000:
            price = round(price / 10, pdec)
        disc = None
        if "discount_pct" in fam.columns:
            disc = float(r.choice((0, 0, 0, 5, 10, 12.5, 15, 20)))
        amt_d = Decimal(str(qty)) * Decimal(str(price)) * (Decimal(1) - Decimal(str(disc or 0)) / 100)
        amount = _round2(amt_d)
        subtotal += Decimal(str(amount))
        lines.append(OrderLine(
            line_no=(i + 1) * (10 if fam.index % 4 == 1 else 1),
            sku=_sku(r, fam.sku_style, fam.wrap_codes and r.random() < 0.6),
            cust_part=_pattern(r, r.choice(("AA-99999", "999-9999", "CP99999"))),
            description=_description(r, fam.long_desc and r.random() < 0.35),
            quantity=float(qty), uom=uom, unit_price=float(price), price_decimals=pdec,
            discount_pct=disc, amount=amount,
        ))
    sub = _round2(subtotal)
    odisc = _round2(Decimal(str(sub)) * Decimal(r.choice((2, 3, 5))) / 100) if fam.order_discount else 0.0
    freight = _round2(r.choice((15, 25, 35.5, 49.9, 75, 120))) if fam.freight else 0.0
    tax_rate = {"en": 20.0, "de": 19.0, "fr": 20.0, "es": 21.0, "nl": 21.0}[lang] if fam.tax else 0.0
    base = Decimal(str(sub)) - Decimal(str(odisc)) + Decimal(str(freight))
    tax = _round2(base * Decimal(str(tax_rate)) / 100)
    total = _round2(base + Decimal(str(tax)))
    contact = f"{r.choice(vocab.PERSON_FIRST)} {r.choice(vocab.PERSON_LAST)}"
    return Order(
        po_number=_po_number(r, fam.po_pattern, year), order_date=od, requested_date=rd, buyer=buyer,
        supplier=supplier, ship_to=ship_to, bill_to=bill_to, contact=contact, currency=currency,
        payment_terms=terms, lines=lines, subtotal=sub, order_discount=odisc, freight=freight,
        tax_rate=tax_rate, tax=tax, total=total,
        notes=r.choice(vocab.NOTES[lang]) if fam.notes else None,
    )


def fmt_qty(q: float, fam: Family) -> str:
    """A quantity as the family prints it: integers bare unless the family shows decimals."""
    if float(q).is_integer() and fam.qty_decimals == 0:
        return str(int(q))
    dec = max(fam.qty_decimals, 1 if float(q * 10).is_integer() else 2)
    return fmt_number(q, fam.number_style, dec, group=q >= 10000)


def build_truth(order: Order, words_labels: list[tuple[str, int | None]],
                descriptions: list[str] | None = None) -> dict:
    """The truth (realdocs schema) for ``order`` as a document shows it.

    ``words_labels`` are the (label, line) pairs of every labelled word of the document: a
    header field the document does not print is null, and so is a line field not printed on
    that line. Unnumbered lines get their position as ``line_no``.
    """
    header = {lab for lab, line in words_labels if line is None}
    per_line: dict[int, set[str]] = {}
    for lab, line in words_labels:
        if line is not None:
            per_line.setdefault(line, set()).add(lab)
    o = order

    def h(key: str, value: object) -> object:
        return value if key in header else None

    lines = []
    for i, ln in enumerate(o.lines):
        have = per_line.get(i, set())
        lines.append({
            "line_no": ln.line_no if "line_no" in have else i + 1,
            "sku": ln.sku if "sku" in have else None,
            "description": (descriptions[i] if descriptions else ln.description) if "description" in have else None,
            "quantity": ln.quantity if "quantity" in have else None,
            "uom": ln.uom if "uom" in have else None,
            "unit_price": ln.unit_price if "unit_price" in have else None,
            "amount": ln.amount if "amount" in have else None,
        })
    return {
        "po_number": h("po_number", o.po_number),
        "order_date": h("order_date", o.order_date.isoformat()),
        "requested_date": h("requested_date", o.requested_date.isoformat()),
        # parties by name, as in the truth schema of real documents; addresses are for ship-to/bill-to
        "buyer": h("buyer", o.buyer.name),
        "supplier": h("supplier", o.supplier.name),
        "ship_to": h("ship_to", o.ship_to.joined()),
        "bill_to": h("bill_to", o.bill_to.joined()),
        "currency": h("currency", o.currency),
        "payment_terms": h("payment_terms", o.payment_terms),
        "total": h("total", o.total),
        "lines": lines,
    }
