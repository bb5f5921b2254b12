"""Free layouts: every document draws its own layout, the way orders from many issuers differ.

The layout families (:mod:`training.synth.render_pdf`) fix a layout per family, so the model
learns 36 layouts well. Real issuers print what the families lack; this renderer draws, per
document:

* a letterhead without caption (the buyer's name, address, phone and tax id), or none;
  the supplier in a captioned block or in an address window with no caption;
* a header grid that mixes the order fields with keys that are not order fields (vendor
  number, quotation, contact, phone, tax id, department, incoterms, dates that are not the
  order date), in four styles: ``Caption: value``, caption over value, boxed cells, a ruled
  two-column table;
* a table of one of three kinds: one row per item with columns from a wide pool (EAN, HS code,
  colour, tax rate, delivery date beside the line fields), multi-row item blocks (code and
  numbers on the first row, the description under it, attribute rows such as "Your material
  number:" below), or items written inline ("Item code: X  Qty: 5  Unit price: 2.00");
  with or without rules, header captions on one or two rows, continued over pages with or
  without the header repeated;
* a totals block (subtotal, taxes, freight, total), a count row, the amount in words, and
  a footer with bank and registration lines.

Only the words of a value carry its label (conventions of :mod:`training.synth.labels`).
Free-layout documents are drawn only from the training families' languages and locales; the
held-out families stay unseen.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.lib.pagesizes import A4, LETTER

from training.synth import free_vocab as fv
from training.synth import vocab
from training.synth.families import Family
from decimal import ROUND_HALF_UP, Decimal

from training.synth.generator import Order, Party, fmt_number
from training.synth.labels import LabelledPage
from training.synth.render_pdf import _BOLD, _Writer, _wrap

__all__ = ["render_free", "free_order"]

_LINE_LABELS = {"line_no", "sku", "description", "quantity", "uom", "unit_price", "amount"}
_NUMERIC = {"line_no", "quantity", "unit_price", "discount_pct", "amount", "tax_pct", "mrp", "list_price"}
_NUM_STYLE = {"en": ("en", "en", "plain"), "de": ("de", "de", "ch"), "fr": ("fr", "de"), "es": ("de", "plainc"),
              "nl": ("de", "plainc"), "it": ("de", "de", "plainc"), "pt": ("fr", "de"), "he": ("en", "plain")}
_DATE_STYLES = {"en": ("dmy", "mdy", "iso", "dmon", "dmon_dash", "uslong", "dot"),
                "de": ("dot", "dot", "iso", "long"), "fr": ("dmy", "dmy", "long"), "es": ("dmy", "dmydash", "long"),
                "nl": ("dmydash", "dmy", "long"), "it": ("dmy", "dot", "long"), "pt": ("dmy", "dmydash", "long"),
                "he": ("dmy", "dot", "dmy")}
_RTL_FONTS = ("DejaVuSans", "DejaVuSans-Bold")


def rtl_fonts() -> tuple[str, str] | None:
    """Register (once) and name the TrueType fonts for right-to-left documents: DejaVu Sans,
    shipped by matplotlib (a dependency). None when the files are missing."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _RTL_FONTS[0] in pdfmetrics.getRegisteredFontNames():
        return _RTL_FONTS
    try:
        import matplotlib

        base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        for name in _RTL_FONTS:
            pdfmetrics.registerFont(TTFont(name, str(base / f"{name}.ttf")))
    except (ImportError, OSError):
        return None
    return _RTL_FONTS


def _months(lang: str) -> list[str]:
    return vocab.MONTHS.get(lang) or fv.MONTHS_EXTRA[lang]


def fdate(d: date, style: str, lang: str) -> str:
    """A date in one of the free layouts' styles."""
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
    if style == "dmon":
        return f"{d.day:02d} {vocab.MONTHS['en'][d.month - 1][:3]} {d.year}"
    if style == "dmon_dash":
        return f"{d.day:02d}-{vocab.MONTHS['en'][d.month - 1][:3]}-{d.year}"
    if style == "uslong":
        return f"{vocab.MONTHS['en'][d.month - 1][:3]} {d.day}, {d.year}"
    month = _months(lang)[d.month - 1]
    if lang == "de":
        return f"{d.day}. {month} {d.year}"
    if lang in ("es", "pt"):
        return f"{d.day} de {month} de {d.year}"
    return f"{d.day} {month} {d.year}"


_LEXICON_SECTION = {"order_date": "header", "requested_date": "header", "total": "header", "currency": "header",
                    "payment_terms": "header", "buyer": "parties", "supplier": "parties", "ship_to": "parties",
                    "bill_to": "parties", "title": "document", "subtotal": "document", "freight": "document",
                    "discount": "document", "tax": "document", "page": "document", "of": "document",
                    "notes": "document"}
# The order number's captions stay the generator's own: the lexicon's list also holds the captions of a
# seller's documents (quotation, sales order), which a purchase order prints as another key.


def _lexicon(key: str, lang: str, section: str | None) -> list[str]:
    """The caption vocabulary the readers use (extractors/lexicon), so that what the model learns
    and what the page checks read are one vocabulary."""
    if section is None:
        return []
    from extractors.lexicon import LEXICON

    return [v for v in LEXICON.variants(key, lang, section=section) if v and v.strip()]


def _header_syn(lang: str, key: str) -> list[str]:
    base = vocab.HEADER_LABELS.get(lang, {}).get(key, [])
    extra = fv.HEADER_LABELS_EXTRA.get(lang, {}).get(key, [])
    out = list(dict.fromkeys(list(base) + list(extra) + _lexicon(key, lang, _LEXICON_SECTION.get(key))))
    if not out:
        out = vocab.HEADER_LABELS["en"].get(key, []) + fv.HEADER_LABELS_EXTRA["en"].get(key, [])
    return out


def _column_syn(lang: str, key: str) -> list[str]:
    base = vocab.COLUMN_LABELS.get(lang, {}).get(key, [])
    extra = fv.COLUMN_LABELS_EXTRA.get(lang, {}).get(key, [])
    section = "columns" if key in ("quantity", "unit_price", "amount", "line_no", "sku", "description", "uom",
                                   "cust_part", "discount_pct") else None
    out = list(dict.fromkeys(list(base) + list(extra) + _lexicon(key, lang, section)))
    if not out:
        out = fv.EXTRA_COLUMNS.get(lang, {}).get(key, []) or fv.EXTRA_COLUMNS["en"].get(key, [key.title()])
    return out


def _cased(text: str, r: random.Random) -> str:
    """A caption the lexicon keeps in lower case, printed the ways documents print it."""
    if not text.islower():
        return text
    return r.choice((text.title(), text.upper(), text[:1].upper() + text[1:], text.title()))


def _pattern(r: random.Random, pat: str) -> str:
    return "".join(str(r.randrange(10)) if ch == "9" else (chr(65 + r.randrange(26)) if ch == "A" else ch)
                   for ch in pat)


def _x_party(r: random.Random, country: str) -> Party:
    street, pc, city = r.choice(fv.EXTRA_PLACES[country])
    name = f"{r.choice(vocab.COMPANY_WORDS)} {r.choice(vocab.COMPANY_TRADES)} {r.choice(fv.EXTRA_FORMS[country])}"
    if r.random() < 0.3:
        name = name.upper()
    code = _pattern(r, pc) if pc else ""
    if country in ("IN",):
        addr = [street, f"{city} - {code}" if r.random() < 0.6 else f"{city} {code}"]
    elif country == "AE":
        addr = [street] + ([code] if code else []) + [city]
    elif country == "AU":
        addr = [street, f"{city} {code}"]
    else:
        addr = [street, f"{code} {city}"]
    if r.random() < 0.5:
        addr.append(fv.EXTRA_COUNTRY_NAMES[country] if country not in ("AE",) or r.random() < 0.5 else "UAE")
    return Party(name, addr)


def free_order(order: Order, lang: str, r: random.Random) -> Order:
    """Adapt an order drawn for a family to the free document's language and region."""
    if lang == "he":
        return _he_order(order, r)
    countries = fv.LANG_EXTRA_COUNTRIES.get(lang)
    if lang in ("it", "pt") or (countries and r.random() < 0.55):
        country = r.choice(countries or ["IN"])
        buyer, supplier = _x_party(r, country), _x_party(r, r.choice(countries or [country]))
        ship = Party(buyer.name, _x_party(r, country).address) if r.random() < 0.5 else _x_party(r, country)
        bill = Party(buyer.name, list(buyer.address))
        lines = list(order.lines)
        uoms = fv.EXTRA_UOMS.get(lang, [])
        if uoms:
            lines = [replace(ln, uom=r.choice(uoms)) for ln in lines]
        terms = r.choice(fv.PAYMENT_TERMS_EXTRA.get(lang) or [order.payment_terms])
        order = replace(order, buyer=buyer, supplier=supplier, ship_to=ship, bill_to=bill, lines=lines,
                        currency=r.choice(fv.EXTRA_CURRENCIES[country]), payment_terms=terms)
    elif lang == "en" and r.random() < 0.3:
        order = replace(order, payment_terms=r.choice(fv.PAYMENT_TERMS_EXTRA["en"]))
    return order


def _he_party(r: random.Random) -> Party:
    name = f"{r.choice(fv.HE_COMPANY_WORDS)} {r.choice(fv.HE_COMPANY_TRADES)} בע\"מ"
    addr = [f"{r.choice(fv.HE_STREETS)} {r.randrange(1, 120)}", r.choice(fv.HE_CITIES)]
    if r.random() < 0.4:
        addr[-1] += f" {_pattern(r, '9999999')}"
    if r.random() < 0.3:
        addr.append("ישראל")
    return Party(name, addr)


def _he_order(order: Order, r: random.Random) -> Order:
    buyer, supplier = _he_party(r), _he_party(r)
    ship = Party(buyer.name, _he_party(r).address) if r.random() < 0.5 else _he_party(r)
    lines = [replace(ln, description=f"{r.choice(fv.HE_PRODUCTS)} {r.choice(fv.HE_SPECS)}", uom=r.choice(fv.HE_UOMS))
             for ln in order.lines]
    return replace(order, buyer=buyer, supplier=supplier, ship_to=ship, bill_to=Party(buyer.name, list(buyer.address)),
                   lines=lines, currency="ILS", payment_terms=r.choice(fv.PAYMENT_TERMS_EXTRA["he"]))


def _money(x: Decimal) -> float:
    return float(Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _words_en(n: int) -> str:
    """An integer in English words, the way an amount-in-words line prints it."""
    ones = ["", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE", "TEN", "ELEVEN", "TWELVE",
            "THIRTEEN", "FOURTEEN", "FIFTEEN", "SIXTEEN", "SEVENTEEN", "EIGHTEEN", "NINETEEN"]
    tens = ["", "", "TWENTY", "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY"]

    def below_1000(k: int) -> list[str]:
        out = []
        if k >= 100:
            out += [ones[k // 100], "HUNDRED"]
            k %= 100
        if k >= 20:
            out.append(tens[k // 10])
            k %= 10
        if k:
            out.append(ones[k])
        return out

    if n == 0:
        return "ZERO"
    parts = []
    for size, word in ((10 ** 9, "BILLION"), (10 ** 6, "MILLION"), (1000, "THOUSAND"), (1, "")):
        if n >= size:
            parts += below_1000(n // size) + ([word] if word else [])
            n %= size
    return " ".join(parts)


class _Free:
    def __init__(self, order: Order, fam: Family, r: random.Random, lang: str) -> None:
        self.o, self.f, self.r, self.lang = order, fam, r, lang
        self.numstyle = fam.number_style if lang == fam.lang else r.choice(_NUM_STYLE[lang])
        self.datestyle = r.choice(_DATE_STYLES[lang])
        size = LETTER if (lang == "en" and r.random() < 0.4) else A4
        self.w = _Writer(*size, rtl=lang == "he")
        self.font = r.choice(("Helvetica", "Helvetica", "Times-Roman", "Courier"))
        self.bold = _BOLD[self.font] if r.random() < 0.85 else self.font
        if lang == "he":
            self.font, self.bold = _RTL_FONTS
        self.fs = r.choice((7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0))
        self.M = r.choice((28.0, 36.0, 42.0, 50.0))
        self.L, self.R = self.M, self.w.W - self.M
        self.bottom = self.w.H - r.choice((50.0, 60.0, 80.0))
        self.qty_dec = r.choice((0, 0, 0, 2, 3)) if lang != "en" else r.choice((0, 0, 0, 2))
        if self.qty_dec == 3 and self.numstyle in ("en", "plain", "ch"):
            self.qty_dec = 2
        self.colon = r.random() < 0.8
        self.seller = r.random() < 0.2  # a document the seller wrote (sales order, confirmation, quotation)

    # ----- values ---------------------------------------------------------------------------
    def cap(self, key: str) -> str:
        c = _cased(self.r.choice(_header_syn(self.lang, key)), self.r).rstrip(" :")
        if self.colon and key not in ("title", "page", "of", "subtotal", "freight", "discount", "tax", "total"):
            c += ":" if self.lang in ("en", "de", "nl", "es", "it", "pt", "he") else " :"
        return c

    def col(self, key: str) -> str:
        return _cased(self.r.choice(_column_syn(self.lang, key)), self.r)

    def num(self, x: float, dec: int = 2) -> str:
        return fmt_number(x, self.numstyle, dec)

    def qty(self, q: float) -> str:
        if float(q).is_integer() and self.qty_dec == 0:
            return str(int(q))
        dec = max(self.qty_dec, 1 if float(q * 10).is_integer() else 2)
        return fmt_number(q, self.numstyle, dec, group=q >= 10000)

    def date(self, d: date) -> str:
        return fdate(d, self.datestyle, self.lang)

    def distractor_value(self, kind: str) -> str:
        r = self.r
        if kind == "code":
            return r.choice([_pattern(r, "AA-9999-999"), _pattern(r, "99999/AA/99"), _pattern(r, "Q9999999"),
                             _pattern(r, "AAA/99-99/999"), _pattern(r, "99-99999")])
        if kind == "num":
            return _pattern(r, "9" * r.choice((5, 6, 7, 8, 10)))
        if kind == "short":
            return r.choice(fv.SHORT_VALUES)
        if kind == "person":
            if self.lang == "he":
                return r.choice(fv.HE_PERSONS)
            return f"{r.choice(vocab.PERSON_FIRST)} {r.choice(vocab.PERSON_LAST)}"
        if kind == "time":
            return f"{r.randrange(7, 19):02d}:{r.randrange(60):02d}"
        if kind == "phone":
            return r.choice([_pattern(r, "+49 99 9999999"), _pattern(r, "(999) 999-9999"), _pattern(r, "+91 99999 99999"),
                             _pattern(r, "+971 9 999 9999"), _pattern(r, "09999 999999"), _pattern(r, "+33 9 99 99 99 99")])
        if kind == "email":
            dom = r.choice(vocab.COMPANY_WORDS).lower().replace(" ", "").replace("&", "")
            return f"{r.choice(['purchasing', 'orders', 'procurement', 'buyer', 'info'])}@{dom}.{r.choice(['com', 'de', 'co.in', 'ae', 'fr'])}"
        if kind == "taxid":
            return r.choice([_pattern(r, "DE999999999"), _pattern(r, "99AAAAA9999A9Z9"), _pattern(r, "999999999999999"),
                             _pattern(r, "FR99999999999"), _pattern(r, "99 999 999 999")])
        if kind == "text":
            return r.choice(fv.TEXT_VALUES)
        if kind == "small":
            return r.choice(["0", "1", "2", "A", "B", "01", "03"])
        if kind == "date":
            return self.date(self.o.order_date + timedelta(days=r.randrange(-40, 90)))
        if kind == "count":
            return str(int(sum(ln.quantity for ln in self.o.lines))) if r.random() < 0.6 else str(r.randrange(1, 400))
        return ""

    # ----- header ---------------------------------------------------------------------------
    def letterhead(self, party: Party, label: str, x: float, top: float, align: str, big: bool,
                   contact: bool) -> float:
        r = self.r
        width = (self.R - self.L) * 0.5
        name_size = r.choice((14.0, 16.0, 18.0, 22.0)) if big else self.fs + 2
        self.w.text(x, top, [(party.name, label, None)], self.bold, name_size, align=align, max_width=width)
        y = top + name_size * 1.3
        addr = party.address
        if r.random() < 0.35:  # the address on one line
            self.w.text(x, y, [(", ".join(addr), label, None)], self.font, self.fs - 0.5, align=align, max_width=width)
            y += self.fs * 1.3
        else:
            for ln in addr:
                self.w.text(x, y, [(ln, label, None)], self.font, self.fs - 0.5, align=align, max_width=width)
                y += (self.fs - 0.5) * 1.3
        if contact:
            keys = fv.DISTRACTOR_KEYS[self.lang]
            for caps, kind in r.sample([k for k in keys if k[1] in ("phone", "email", "taxid")],
                                       k=min(3, r.randint(1, 3))):
                self.w.text(x, y, [(f"{r.choice(caps)} {self.distractor_value(kind)}", "O", None)], self.font,
                            self.fs - 1, align=align, max_width=width)
                y += (self.fs - 1) * 1.3
        return y + 4

    def kv_items(self) -> list[tuple[str, str, str]]:
        """(caption, value, label) pairs of the header grid: order fields and other keys, mixed."""
        r, o = self.r, self.o
        po_cap = r.choice(fv.SELLER_ORDER_CAPTIONS[self.lang]) if self.seller else self.cap("po_number")
        items = [(po_cap, o.po_number, "po_number"),
                 (self.cap("order_date"), self.date(o.order_date), "order_date")]
        if self.seller and r.random() < 0.5:  # the customer's own reference: not this document's number
            items.append((r.choice(fv.CUSTOMER_REF_CAPTIONS[self.lang]), self.distractor_value("code"), "O"))
        if r.random() < 0.6:
            items.append((self.cap("requested_date"), self.date(o.requested_date), "requested_date"))
        if r.random() < 0.6:
            items.append((self.cap("payment_terms"), o.payment_terms, "payment_terms"))
        if r.random() < 0.4:
            items.append((self.cap("currency"), o.currency, "currency"))
            self.currency_printed = True
        keys = fv.DISTRACTOR_KEYS[self.lang]
        n = r.choice((0, 2, 3, 4, 5, 6, 8))
        for caps, kind in r.sample(keys, k=min(n, len(keys))):
            c = r.choice(caps)
            if not self.colon:
                c = c.rstrip(" :")
            items.append((c, self.distractor_value(kind), "O"))
        head = items[:2]
        rest = items[2:]
        r.shuffle(rest)
        if r.random() < 0.3:
            items = rest[:2] + head + rest[2:]
        else:
            items = head + rest
        return items

    def kv_grid(self, items: list[tuple[str, str, str]], x: float, top: float, width: float, style: str,
                ncols: int) -> float:
        fs = self.fs
        colw = width / ncols
        rows = [items[i:i + ncols] for i in range(0, len(items), ncols)]
        y = top
        for row in rows:
            h = 0.0
            for k, (cap, val, lab) in enumerate(row):
                cx = x + k * colw
                if style == "colon":
                    capw = min(stringWidth(cap, self.bold, fs) + 6, colw * 0.55)
                    self.w.text(cx, y, [(cap, "O", None)], self.bold, fs, max_width=colw * 0.55)
                    self.w.text(cx + capw, y, [(val, lab, None)], self.font, fs, max_width=colw - capw - 6)
                    h = max(h, fs * 1.45)
                elif style == "stacked":
                    self.w.text(cx, y, [(cap, "O", None)], self.font, fs - 1.5, max_width=colw - 6)
                    self.w.text(cx, y + fs * 1.15, [(val, lab, None)], self.bold, fs, max_width=colw - 6)
                    h = max(h, fs * 2.6)
                else:  # cells / ruled
                    ch = fs * 2.9 if style == "cells" else fs * 1.7
                    self.w.rect(cx, y, colw, ch)
                    if style == "cells":
                        self.w.text(cx + 3, y + 2, [(cap, "O", None)], self.font, fs - 1.5, max_width=colw - 6)
                        self.w.text(cx + 3, y + 2 + fs * 1.2, [(val, lab, None)], self.font, fs, max_width=colw - 6)
                    else:
                        capw = colw * 0.48
                        self.w.vline(cx + capw, y, y + ch)
                        self.w.text(cx + 3, y + 3, [(cap, "O", None)], self.bold, fs - 0.5, max_width=capw - 6)
                        self.w.text(cx + capw + 3, y + 3, [(val, lab, None)], self.font, fs, max_width=colw - capw - 6)
                    h = max(h, ch)
            y += h
        return y

    def party_block(self, x: float, top: float, width: float, caption: str | None, party: Party, label: str,
                    boxed: bool) -> float:
        fs = self.fs
        y = top
        pad = 4.0 if boxed else 0.0
        if caption:
            if self.r.random() < 0.25 and not boxed:  # caption left of the block
                capw = stringWidth(caption, self.bold, fs) + 6
                self.w.text(x, y, [(caption, "O", None)], self.bold, fs)
                x, width = x + capw, width - capw
            else:
                self.w.text(x + pad, y + pad, [(caption, "O", None)], self.bold, fs, max_width=width - 2 * pad)
                y += fs * 1.35
        lines = party.lines
        if self.r.random() < 0.3:
            lines = lines + [f"{self.r.choice(['Tel', 'Ph', 'Phone'])}: {self.distractor_value('phone')}"]
        for i, ln in enumerate(lines):
            lab = label if i < len(party.lines) else "O"
            font = self.bold if i == 0 and self.r.random() < 0.7 else self.font
            self.w.text(x + pad, y + pad, [(ln, lab, None)], font, fs, max_width=width - 2 * pad)
            y += fs * 1.3
        if boxed:
            self.w.rect(x - (0 if not caption else 0), top, width, y - top + 2 * pad)
            y += 2 * pad
        return y

    def header(self) -> float:
        r, o = self.r, self.o
        L, R = self.L, self.R
        full = R - L
        y = self.M
        self.currency_printed = False
        letter = r.random() < 0.75
        title = self.cap("title").rstrip(" :")
        if self.seller:
            title = r.choice(fv.SELLER_TITLES[self.lang])
        issuer, issuer_label = (o.supplier, "supplier") if self.seller else (o.buyer, "buyer")
        other, other_label = (o.buyer, "buyer") if self.seller else (o.supplier, "supplier")
        title_size = r.choice((12.0, 14.0, 16.0, 18.0))
        title_align = r.choice(("right", "right", "center", "left"))
        ly = y
        if letter:
            ly = self.letterhead(issuer, issuer_label, L, y, "left", big=r.random() < 0.6, contact=r.random() < 0.6)
        if title_align == "right":
            self.w.text(R, y, [(title, "O", None)], self.bold, title_size, align="right")
            ty = y + title_size * 1.5
        elif title_align == "center":
            cy = max(ly, y) if letter and r.random() < 0.5 else y
            self.w.text((L + R) / 2, cy, [(title, "O", None)], self.bold, title_size, align="center")
            ty = cy + title_size * 1.5
            if cy > y:
                ly = ty
        else:
            self.w.text(L, ly, [(title, "O", None)], self.bold, title_size)
            ly += title_size * 1.5
            ty = y
        style = r.choice(("colon", "colon", "stacked", "cells", "ruled"))
        items = self.kv_items()
        if r.random() < 0.55:  # header grid at the right, parties below at the left
            ky = self.kv_grid(items, L + full * 0.52, ty + 4, full * 0.48, style, 1 if style != "cells" else 2)
            y = ly + 8
        else:  # header grid across the page
            ncols = r.choice((2, 3)) if style != "cells" else r.choice((3, 4, 5))
            ky = self.kv_grid(items, L, max(ly, ty) + 6, full, style, ncols)
            y = ky + 10
            ky = y
        # parties
        blocks: list[tuple[str | None, Party, str]] = []
        window = r.random() < 0.35
        if not letter:
            blocks.append((self.cap(issuer_label), issuer, issuer_label))
        other_cap = r.choice(fv.CUSTOMER_CAPTIONS[self.lang]) if self.seller else self.cap("supplier")
        blocks.append((None if window else other_cap, other, other_label))
        if r.random() < 0.8:
            blocks.append((self.cap("ship_to"), o.ship_to, "ship_to"))
        if r.random() < 0.3:
            blocks.append((self.cap("bill_to"), o.bill_to, "bill_to"))
        boxed = r.random() < 0.3
        if ky > y + 20 and r.random() < 0.7:  # stack the blocks in the left column beside the grid
            for cap, p, lab in blocks:
                y = self.party_block(L, y, full * 0.48, cap, p, lab, boxed) + 8
            y = max(y, ky)
        else:
            y = max(y, ky) + 4
            per = min(3, len(blocks))
            gap = 12.0
            bw = (full - gap * (per - 1)) / per
            bottom = y
            for i, (cap, p, lab) in enumerate(blocks):
                if i and i % per == 0:
                    y = bottom + 8
                bottom = max(bottom, self.party_block(L + (i % per) * (bw + gap), y, bw, cap, p, lab, boxed))
            y = bottom
        if r.random() < 0.3:
            notes = fv.HE_TERMS if self.lang == "he" else vocab.NOTES.get(self.lang, vocab.NOTES["en"])
            self.w.text(L, y + 6, [(r.choice(notes), "O", None)], self.font,
                        self.fs - 0.5, max_width=full)
            y += self.fs * 1.6
        return y + 12

    # ----- table ----------------------------------------------------------------------------
    def extra_value(self, key: str, i: int) -> str:
        r = self.r
        if key == "ean":
            return _pattern(r, "9" * r.choice((13, 13, 12, 8)))
        if key == "hs":
            return _pattern(r, r.choice(("99999999", "9999.99.99", "9999")))
        if key == "colour":
            return r.choice(["BLACK", "NAVY", "WHITE", "RED", "Grey", "Blue", "OLIVE", "Natural"])
        if key == "size":
            return r.choice(["S", "M", "L", "XL", "XXL", "38", "40", "42", "10-11Y"])
        if key == "tax_pct":
            return r.choice(["5%", "12%", "18%", "19%", "20%", "21%", "7", "0"])
        if key == "del_date":
            return self.date(self.o.requested_date + timedelta(days=r.randrange(-5, 20)))
        if key == "cust_part":
            return self.o.lines[i].cust_part
        if key == "mrp":
            return self.num(self.o.lines[i].unit_price * r.choice((1.2, 1.5, 2.0)))
        if key == "discount_pct":
            d = self.o.lines[i].discount_pct
            return self.num(d or 0, 0 if float(d or 0).is_integer() else 1)
        return ""

    def cell(self, key: str, i: int) -> str:
        ln = self.o.lines[i]
        if key == "line_no":
            return str(ln.line_no) if not self.lineno_fmt else self.lineno_fmt.format(ln.line_no)
        if key == "sku":
            return ln.sku
        if key == "description":
            return ln.description
        if key == "quantity":
            return self.qty(ln.quantity)
        if key == "uom":
            return ln.uom
        if key == "unit_price":
            return self.num(ln.unit_price, ln.price_decimals)
        if key == "amount":
            return self.num(ln.amount)
        if key == "list_price":
            return self.num(self.list_prices[i], ln.price_decimals)
        return self.extra_value(key, i)

    def choose_columns(self) -> list[str]:
        r = self.r
        cols: list[str] = []
        if r.random() < 0.7:
            cols.append("line_no")
        code_first = r.random() < 0.7
        extras = [k for k in ("ean", "hs", "colour", "size", "cust_part") if r.random() < 0.12]
        if code_first:
            cols += ["sku"] + extras[:1] + ["description"] + extras[1:]
        else:
            cols += ["description", "sku"] + extras
        tail = ["quantity"]
        if r.random() < 0.6:
            tail = ["quantity", "uom"] if r.random() < 0.7 else ["uom", "quantity"]
        if r.random() < 0.15:
            tail.append("del_date")
        if r.random() < 0.1:
            tail.append("mrp")
        if self.net_mode:
            tail += ["list_price", "discount_pct", "unit_price"]
        else:
            tail.append("unit_price")
            if self.has_disc:
                tail.append("discount_pct")
        if r.random() < 0.15:
            tail.append("tax_pct")
        if r.random() < 0.85:
            tail.append("amount")
        roll = r.random()
        if roll < 0.12:  # quantity written before the description
            cols = [c for c in cols if c != "quantity"]
            i = cols.index("description")
            tail = [c for c in tail if c != "quantity"]
            cols.insert(i, "quantity")
        elif roll < 0.27:  # quantity first, as many ERPs (and right-to-left orders) print it
            tail = [c for c in tail if c != "quantity"]
            cols = ["quantity"] + ([c for c in cols if c != "line_no"] if r.random() < 0.6 else cols)
        return cols + tail

    def widths(self, cols: list[str], size: float) -> dict[str, float]:
        out: dict[str, float] = {}
        for c in cols:
            if c == "description":
                continue
            vals = [self.cell(c, i) for i in range(len(self.o.lines))]
            head = max((stringWidth(w, self.bold, size) for w in self.heads[c].split("\n")), default=0)
            out[c] = max([head] + [stringWidth(v, self.font, size) for v in vals]) + 10
        rest = (self.R - self.L) - sum(out.values())
        if "description" in cols:
            out["description"] = max(rest, 90.0)
        return out

    def continuation(self) -> float:
        r = self.r
        self.w.new_page()
        y = self.M
        if r.random() < 0.7:
            self.w.text(self.L, y, [(self.cap("po_number"), "O", None), (self.o.po_number, "po_number", None)],
                        self.bold, self.fs)
            y += self.fs * 2.2
        return y

    def table(self, y: float) -> float:
        kind = self.r.choices(("rows", "block", "inline"), weights=(0.55, 0.3, 0.15))[0]
        if kind == "inline":
            return self.inline_items(y)
        return self.grid_table(y, block=kind == "block")

    def grid_table(self, y: float, block: bool) -> float:
        r, o = self.r, self.o
        cols = self.choose_columns()
        if block:  # the description sits under the code, not in a column of its own
            cols = [c for c in cols if c != "description"]
            if "sku" not in cols:
                cols.insert(1 if cols and cols[0] == "line_no" else 0, "sku")
        self.heads = {c: self.col(c) for c in cols}
        if "list_price" in cols:
            self.heads["list_price"] = r.choice(fv.LIST_PRICE_CAPTIONS[self.lang])
            self.heads["unit_price"] = r.choice(fv.NET_PRICE_CAPTIONS[self.lang])
        code_below = block and r.random() < 0.4  # the description first, the code on a row under it
        if code_below:
            self.heads["sku"] = r.choice(fv.DESCRIPTION_HEADS[self.lang])
        elif block and r.random() < 0.5:
            self.heads["sku"] = r.choice({"en": ["Material/Description", "Item / Description", "Code / Description"],
                                          "de": ["Material/Bezeichnung", "Artikel / Bezeichnung"],
                                          "fr": ["Article / Désignation"], "es": ["Código / Descripción"],
                                          "nl": ["Artikel / Omschrijving"], "it": ["Codice / Descrizione"],
                                          "pt": ["Código / Descrição"], "he": ['מק"ט / תיאור']}[self.lang])
        two_row_heads = r.random() < 0.3
        if two_row_heads:
            for c, h in self.heads.items():
                parts = h.split()
                if len(parts) > 1:
                    k = len(parts) // 2
                    self.heads[c] = " ".join(parts[:k]) + "\n" + " ".join(parts[k:])
        size = self.fs
        wd = self.widths(cols, size)
        while sum(wd.values()) > (self.R - self.L) + 1 and size > 6:
            size -= 0.5
            wd = self.widths(cols, size)
        if block:
            # the code column is as wide as the description needs to be readable
            spare = (self.R - self.L) - sum(wd.values())
            if spare > 0:
                wd["sku"] += spare
        xs: dict[str, float] = {}
        x = self.L
        for c in cols:
            xs[c] = x
            x += wd[c]
        rules = r.choice(("none", "hrule", "grid", "head", "zebra"))
        right = {c: (c in _NUMERIC and r.random() < 0.85) for c in cols}
        lead = size * 1.25

        def head_row(y: float) -> float:
            nl = max(len(self.heads[c].split("\n")) for c in cols)
            h = nl * lead + 6
            if rules == "zebra":
                self.w.rect(self.L, y, self.R - self.L, h, fill=0.85, stroke=False)
            for c in cols:
                for k, part in enumerate(self.heads[c].split("\n")):
                    tx = xs[c] + wd[c] - 4 if right[c] else xs[c] + 4
                    self.w.text(tx, y + 3 + k * lead, [(part, "O", None)], self.bold, size,
                                align="right" if right[c] else "left")
            if rules != "none":
                self.w.hline(self.L, self.R, y)
                self.w.hline(self.L, self.R, y + h)
            if rules == "grid":
                for c in cols:
                    self.w.vline(xs[c], y, y + h)
                self.w.vline(self.R, y, y + h)
            return y + h

        repeat = r.random() < 0.7
        y = head_row(y)
        attrs = fv.ITEM_ATTRIBUTES[self.lang]
        for i, ln in enumerate(o.lines):
            cells: dict[str, list[tuple[str, str]]] = {}
            for c in cols:
                v = self.cell(c, i)
                lab = c if c in _LINE_LABELS else "O"
                if c == "sku" and code_below:
                    cells[c] = [(t, "description") for t in _wrap(ln.description, self.font, size, wd[c] - 8)]
                elif c == "description" or (c == "sku" and block):
                    cells[c] = [(t, lab) for t in _wrap(v, self.font, size, wd[c] - 8)] if c == "description" else [(v, lab)]
                else:
                    cells[c] = [(v, lab)] if v else []
            rows = max(len(v) for v in cells.values())
            extra_rows: list[list[tuple[str, str]]] = []
            if code_below:
                extra_rows.append([(r.choice(fv.ITEM_CODE_CAPTIONS[self.lang]), "O"), (ln.sku, "sku")])
            elif block:
                for t in _wrap(ln.description, self.font, size, wd["sku"] - 8):
                    extra_rows.append([(t, "description")])
            if block:
                for cap, kind in r.sample(attrs, k=r.choice((0, 1, 1, 2, 3))):
                    val = ln.sku if (kind == "code" and r.random() < 0.3 and not code_below) else (
                        self.extra_value("ean", i) if kind == "ean" else self.extra_value("hs", i) if kind == "hs" else
                        self.date(o.requested_date) if kind == "date" else
                        f"{r.choice(vocab.COMPANY_WORDS)}" if kind == "company" else
                        r.choice(fv.SHORT_VALUES) if kind in ("short", "text") else self.distractor_value("code"))
                    extra_rows.append([(cap, "O"), (val, "O")])
            h = (rows + len(extra_rows)) * lead + 5
            if y + h > self.bottom:
                y = self.continuation()
                if repeat:
                    y = head_row(y)
            if rules == "zebra" and i % 2 == 1:
                self.w.rect(self.L, y, self.R - self.L, h, fill=0.93, stroke=False)
            for c in cols:
                for k, (txt, lab) in enumerate(cells[c]):
                    top = y + 3 + k * lead
                    line = i if lab != "O" else None
                    if right[c]:
                        self.w.text(xs[c] + wd[c] - 4, top, [(txt, lab, line)], self.font, size, align="right")
                    else:
                        fnt = self.bold if (block and c == "sku") else self.font
                        self.w.text(xs[c] + 4, top, [(txt, lab, line)], fnt, size, max_width=wd[c] - 6)
            for k, segs in enumerate(extra_rows):
                top = y + 3 + (rows + k) * lead
                x0 = xs["sku"] + 4 + (0 if segs[0][1] == "description" or code_below else 8)
                self.w.text(x0, top, [(t, lab, i if lab != "O" else None) for t, lab in segs], self.font,
                            size - (0 if segs[0][1] == "description" else 0.5),
                            max_width=(self.R - x0) * 0.7)
            if rules in ("hrule", "grid") or (block and rules != "none"):
                self.w.hline(self.L, self.R, y + h)
            if rules == "grid":
                for c in cols:
                    self.w.vline(xs[c], y, y + h)
                self.w.vline(self.R, y, y + h)
            y += h + (4 if block else 0)
        if r.random() < 0.35 and "quantity" in cols:  # a sums row: total pieces under the quantity column
            tq = sum(ln.quantity for ln in o.lines)
            capx = xs[cols[0]] + 4
            self.w.text(capx, y + 3, [(r.choice(["Total", "Total Qty", "TOTAL", "Sum"]), "O", None)], self.bold, size)
            self.w.text(xs["quantity"] + wd["quantity"] - 4 if right["quantity"] else xs["quantity"] + 4, y + 3,
                        [(self.qty(tq), "O", None)], self.bold, size, align="right" if right["quantity"] else "left")
            y += lead + 6
        self.amount_x = xs["amount"] + wd["amount"] - 4 if "amount" in cols else self.R - 4
        self.tsize = size
        return y + 8

    def inline_items(self, y: float) -> float:
        """Items written as captioned values, a paragraph each (mail-like orders, forms)."""
        r, o = self.r, self.o
        size = self.fs
        lead = size * 1.35
        caps = {"sku": self.col("sku"), "quantity": self.col("quantity"), "unit_price": self.col("unit_price"),
                "amount": self.col("amount"), "description": self.col("description")}
        sep = r.choice((": ", ": ", " - "))
        desc_first = r.random() < 0.6
        numbered = r.random() < 0.7
        for i, ln in enumerate(o.lines):
            need = 4 * lead
            if y + need > self.bottom:
                y = self.continuation()
            x = self.L
            if desc_first:
                segs = []
                if numbered:
                    segs.append((f"{ln.line_no}.", "line_no", i))
                segs.append((ln.description, "description", i))
                self.w.text(x, y, segs, self.bold, size, max_width=self.R - self.L)
                y += lead
                parts = [("sku", ln.sku), ("quantity", self.qty(ln.quantity))]
            else:
                parts = [("sku", ln.sku), ("description", ln.description), ("quantity", self.qty(ln.quantity))]
            parts.append(("unit_price", self.num(ln.unit_price, ln.price_decimals)))
            if r.random() < 0.7 and not ln.discount_pct:
                parts.append(("amount", self.num(ln.amount)))
            one_row = r.random() < 0.5
            xx = self.L + (10 if desc_first else 0)
            for key, val in parts:
                segs = [(caps[key].rstrip(":") + sep.rstrip(), "O", None), (val, key, i)]
                if key == "quantity" and r.random() < 0.5:
                    segs.append((ln.uom, "uom", i))
                if one_row:
                    text_w = stringWidth(" ".join(s[0] for s in segs), self.font, size)
                    if xx + text_w > self.R:
                        xx = self.L + (10 if desc_first else 0)
                        y += lead
                    self.w.text(xx, y, segs, self.font, size)
                    xx += text_w + 14
                else:
                    self.w.text(xx, y, segs, self.font, size, max_width=self.R - xx)
                    y += lead
            y += lead * (1.6 if one_row else 0.6)
        self.amount_x = self.R - 4
        self.tsize = size
        return y + 6

    # ----- totals and footer ----------------------------------------------------------------
    def totals(self, y: float) -> float:
        r, o = self.r, self.o
        size = self.tsize
        rows: list[tuple[str, str]] = []
        if o.freight or o.order_discount or o.tax or r.random() < 0.3:
            rows.append((self.cap("subtotal").rstrip(" :"), self.num(o.subtotal)))
        if o.order_discount:
            rows.append((self.cap("discount").rstrip(" :"), self.num(-o.order_discount)))
        if o.freight:
            rows.append((self.cap("freight").rstrip(" :"), self.num(o.freight)))
        if o.tax:
            rows.append((f"{self.cap('tax').rstrip(' :')} {self.num(o.tax_rate, 0)}%", self.num(o.tax)))
        if y + (len(rows) + 3) * (size + 8) > self.bottom:
            y = self.continuation()
        xr = self.amount_x
        xcap = min(xr - 90, self.R - 150)
        for cap, val in rows:
            self.w.text(xcap, y + 3, [(cap, "O", None)], self.font, size, align="right")
            self.w.text(xr, y + 3, [(val, "O", None)], self.font, size, align="right")
            y += size + 6
        cur = o.currency
        num = self.num(o.total)
        segs: list = [(num, "total", None)]
        where = r.random()
        if not self.currency_printed or where < 0.5:
            if where < 0.35:
                segs = [(cur, "currency", None), (num, "total", None)]
            elif where < 0.6:
                segs = [(num, "total", None), (cur, "currency", None)]
        self.w.text(xcap, y + 5, [(self.cap("total").rstrip(" :"), "O", None)], self.bold, size + 0.5, align="right")
        self.w.text(xr, y + 5, segs, self.bold, size + 0.5, align="right")
        y += size + 18
        if self.lang == "en" and r.random() < 0.35:
            words = f"{fv.AMOUNT_IN_WORDS['en']} {cur} {_words_en(int(o.total))} ONLY"
            self.w.text(self.L, y, [(words, "O", None)], self.font, size - 0.5, max_width=self.R - self.L)
            y += size * 1.8
        return y

    def footer(self, y: float) -> None:
        r = self.r
        if r.random() < 0.5:
            n = r.randint(2, 6)
            if y + n * 10 > self.bottom:
                y = self.continuation()
            sents = fv.HE_TERMS if self.lang == "he" else vocab.TERMS_SENTENCES.get(self.lang, vocab.TERMS_SENTENCES["en"])
            for s in r.sample(sents, k=min(n, len(sents))):
                for ln in _wrap(s, self.font, 7, self.R - self.L):
                    self.w.text(self.L, y, [(ln, "O", None)], self.font, 7)
                    y += 9
        lines = fv.FOOTER_LINES[self.lang]
        reg = r.sample(lines, k=min(len(lines), r.randint(1, 3)))
        extra = {"IBAN": _pattern(r, "AA99 9999 9999 9999 9999 99"), "SWIFT": _pattern(r, "AAAAAA9A"),
                 "BIC": _pattern(r, "AAAAAA9A")}
        text = "  ".join(f"{s} {extra.get(s.rstrip(' :'), '')}".strip() for s in reg)
        n = len(self.w.pages)
        page_word = self.r.choice(_header_syn(self.lang, "page") or ["Page"])
        of = self.r.choice(_header_syn(self.lang, "of") or ["of"])
        pos = r.choice(("center", "right", "none"))
        for i in range(n):
            keep = self.w.pages
            self.w.pages = keep[: i + 1]
            self.w.text(self.L, self.w.H - 30, [(text, "O", None)], self.font, 6.5, max_width=self.R - self.L)
            if pos != "none":
                x = (self.L + self.R) / 2 if pos == "center" else self.R
                self.w.text(x, self.w.H - 42, [(f"{page_word} {i + 1} {of} {n}", "O", None)], self.font, 7, align=pos)
            self.w.pages = keep

    def adapt_prices(self) -> None:
        """Discounts of the free layouts' own: a discount column (the unit price is the price before
        it), or a list price, the discount and the net price the line is charged at (then the net
        price is the unit price: the one that makes the amount)."""
        r, o = self.r, self.o
        self.list_prices: dict[int, float] = {}
        self.net_mode = False
        if r.random() >= 0.3:
            return
        net = r.random() < 0.5
        lines = []
        for i, ln in enumerate(o.lines):
            d = float(r.choice((0, 0, 5, 10, 15, 20, 25, 30, 40, 50)))
            q = Decimal(str(ln.quantity))
            if net:
                netp = float(Decimal(str(ln.unit_price * (1 - d / 100))).quantize(
                    Decimal(1).scaleb(-ln.price_decimals), rounding=ROUND_HALF_UP))
                self.list_prices[i] = ln.unit_price
                amt = _money(q * Decimal(str(netp)))
                lines.append(replace(ln, unit_price=netp, discount_pct=d, amount=amt))
            else:
                amt = _money(q * Decimal(str(ln.unit_price)) * (1 - Decimal(str(d)) / 100))
                lines.append(replace(ln, discount_pct=d, amount=amt))
        sub = _money(sum(Decimal(str(ln.amount)) for ln in lines))
        base = Decimal(str(sub)) - Decimal(str(o.order_discount)) + Decimal(str(o.freight))
        tax = _money(base * Decimal(str(o.tax_rate)) / 100)
        self.o = replace(o, lines=lines, subtotal=sub, tax=tax, total=_money(base + Decimal(str(tax))))
        self.net_mode = net

    def draw(self) -> tuple[bytes, list[LabelledPage]]:
        self.lineno_fmt = self.r.choice((None, None, "{:03d}", "{:05d}")) if all(
            ln.line_no < 1000 for ln in self.o.lines) else None
        self.adapt_prices()
        self.has_disc = any(ln.discount_pct for ln in self.o.lines)
        y = self.header()
        y = self.table(y)
        y = self.totals(y)
        self.footer(y)
        data = self.w.render()
        return data, [LabelledPage(self.w.W, self.w.H, p.words) for p in self.w.pages]


def render_free(order: Order, fam: Family, r: random.Random,
                lang: str | None = None) -> tuple[bytes, list[LabelledPage], Order]:
    """Draw ``order`` in a layout of its own; returns the PDF, its labelled pages and the order as
    printed (its parties, currency and units adapted to the document's language and region).
    The language is the family's or one drawn from :data:`free_vocab.FREE_LANGS` unless given."""
    if lang is None:
        lang = fam.lang if r.random() < 0.5 else r.choice(fv.FREE_LANGS)
    if lang == "he" and rtl_fonts() is None:
        lang = "en"
    order = free_order(order, lang, r)
    d = _Free(order, fam, r, lang)
    data, pages = d.draw()
    return data, pages, d.o
