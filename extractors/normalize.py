"""Values as printed -> typed values: numbers by the document's locale, dates to ISO,
currencies to ISO 4217 codes, units of measure to codes.

Every parser returns None when the text is not a value of its kind; it never raises.

Locale matters where the text alone is ambiguous: ``1.234`` is one thousand two hundred and
thirty-four in a German order and one point two three four in an American one; ``03/04/2026``
is the 3rd of April in France and March 4th in the US. :func:`detect_locale` reads the
document's words (language of the captions, decimal separators, date shapes) and gives a
:class:`Locale` that the parsers take.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Iterable

__all__ = [
    "Locale", "detect_locale", "parse_number", "parse_date", "parse_currency", "normalize_uom",
    "MONTHS",
]


@dataclass(frozen=True)
class Locale:
    """How a document writes numbers and dates."""

    lang: str = "en"  # en, de, fr, es, nl
    decimal: str | None = None  # "." or ","; None: decide per number
    dayfirst: bool | None = None  # numeric dates: True d/m/y, False m/d/y, None: decide per date


def _fold(text: str) -> str:
    d = unicodedata.normalize("NFKD", text)
    return "".join(c for c in d if not unicodedata.combining(c)).lower()


MONTHS: dict[str, int] = {}
_MONTH_NAMES = {
    "en": ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"],
    "de": ["januar", "februar", "marz", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "dezember"],
    "fr": ["janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre",
           "novembre", "decembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
}
for _names in _MONTH_NAMES.values():
    for _i, _n in enumerate(_names, 1):
        MONTHS.setdefault(_n, _i)
        for _k in (3, 4):
            MONTHS.setdefault(_n[:_k], _i)
MONTHS.update({"sept": 9, "jan": 1, "janv": 1, "fevr": 2, "avr": 4, "juil": 7, "dic": 12, "ene": 1, "mrt": 3,
               "okt": 10, "dez": 12, "mei": 5, "maerz": 3, "setiembre": 9, "sep": 9})

# Caption words that give a document's language away.
_LANG_WORDS = {
    "de": {"bestellung", "bestellnummer", "datum", "lieferadresse", "menge", "einzelpreis", "gesamt", "lieferant",
           "artikel", "rechnungsadresse", "zahlungsbedingungen", "bezeichnung", "summe", "netto", "stuck", "lieferdatum",
           "bestelldatum", "preis", "betrag", "pos", "mwst", "zahlbar", "tage"},
    "fr": {"commande", "date", "livraison", "quantite", "prix", "unitaire", "fournisseur", "adresse", "facturation",
           "designation", "montant", "total", "reglement", "jours", "bon", "de", "le", "ht", "ttc", "article"},
    "es": {"pedido", "fecha", "entrega", "cantidad", "precio", "proveedor", "direccion", "facturacion", "descripcion",
           "importe", "dias", "pago", "orden", "compra", "unidad", "articulo", "codigo"},
    "nl": {"bestelling", "datum", "levering", "aantal", "prijs", "leverancier", "adres", "factuuradres",
           "omschrijving", "bedrag", "totaal", "betaling", "dagen", "inkooporder", "bestelnummer", "afleveradres",
           "eenheid", "artikelnummer", "stuksprijs"},
    "en": {"purchase", "order", "date", "ship", "bill", "quantity", "qty", "price", "supplier", "vendor", "total",
           "description", "amount", "terms", "payment", "item", "unit", "delivery", "days", "net"},
}

_NUM_RE = re.compile(r"^[+-]?[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202f]*$")
_CURRENCY_JUNK = re.compile(r"[€$£¥₹₣₤]|\b(?:[A-Z]{3})\b|\b(?:EUR|USD|GBP|CHF|Fr|SFr|kr|zł|Kč|R\$)\.?", re.I)


def parse_number(text: str | None, locale: Locale | None = None) -> float | None:
    """A printed number as a float: ``1,234.56``, ``1.234,56``, ``1 234,56``, ``1'234.56``,
    ``(12.00)``, ``12.00-``, ``€ 1.234,50``, ``20 %``. None when it is not a number.

    With one kind of separator appearing once and followed by exactly three digits
    (``1.234``), the locale's decimal mark decides; without a locale, it is a thousands
    separator when the mark is ``,`` in English or ``.`` elsewhere.
    """
    if text is None:
        return None
    t = str(text).strip()
    if not t:
        return None
    neg = False
    if t.startswith("(") and t.endswith(")"):
        neg, t = True, t[1:-1]
    t = _CURRENCY_JUNK.sub("", t).replace("%", "").strip()
    if t.endswith("-"):
        neg, t = True, t[:-1].strip()
    if t.startswith(("-", "−", "–")):
        neg, t = True, t[1:].strip()
    elif t.startswith("+"):
        t = t[1:].strip()
    t = t.replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    if not t or not _NUM_RE.match(t):
        return None
    t = t.replace(" ", "").replace("'", "")
    dots, commas = t.count("."), t.count(",")
    dec: str | None
    if dots and commas:
        dec = "." if t.rfind(".") > t.rfind(",") else ","
    elif dots + commas == 0:
        dec = None
    else:
        mark = "." if dots else ","
        if (dots or commas) > 1:
            dec = None  # repeated: grouping ("1.234.567")
            if mark == ".":
                t = t.replace(".", "")
            else:
                t = t.replace(",", "")
            mark = ""
        else:
            tail = t.split(mark)[1]
            head = t.split(mark)[0]
            if len(tail) != 3 or not head or head == "0":
                dec = mark
            elif locale is not None and locale.decimal is not None:
                dec = mark if locale.decimal == mark else None
            else:
                lang = locale.lang if locale else "en"
                dec = "." if (mark == "." and lang == "en") or (mark == "," and lang != "en") else None
            if dec is None:
                t = t.replace(mark, "")
    if dec is not None:
        grp = "," if dec == "." else "."
        t = t.replace(grp, "").replace(dec, ".")
    try:
        v = float(t)
    except ValueError:
        return None
    return -v if neg else v


_ISO_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_NUMDATE_RE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{2}|\d{4})$")
_TOKEN_RE = re.compile(r"[a-z]+|\d+")


def _mk(y: int, m: int, d: int) -> str | None:
    if y < 100:
        y += 2000 if y < 70 else 1900
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def parse_date(text: str | None, locale: Locale | None = None) -> str | None:
    """A printed date as ``YYYY-MM-DD``: ``2026-04-03``, ``03.04.2026``, ``03/04/2026``,
    ``3 avril 2026``, ``3. April 2026``, ``Apr 3, 2026``, ``3 de abril de 2026``, ``03-Apr-26``.

    Numeric day/month order comes from ``locale.dayfirst``; without it, a part above 12
    decides, then the separator (dots are day-first) and the language (English month-first).
    """
    if text is None:
        return None
    t = _fold(str(text)).strip().strip(",;:")
    if not t:
        return None
    t = re.sub(r"\s+", " ", t)
    m = _ISO_RE.match(t)
    if m:
        return _mk(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _NUMDATE_RE.match(t)
    if m:
        a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        if a > 12 and b <= 12:
            dayfirst = True
        elif b > 12 and a <= 12:
            dayfirst = False
        elif locale is not None and locale.dayfirst is not None:
            dayfirst = locale.dayfirst
        elif sep == ".":
            dayfirst = True
        else:
            dayfirst = not (locale is None or locale.lang == "en")
        return _mk(y, b, a) if dayfirst else _mk(y, a, b)
    # Month names: find a month token, a year (4 digits or last 2-digit number) and a day.
    toks = _TOKEN_RE.findall(t)
    month = None
    nums: list[str] = []
    for tok in toks:
        if tok.isdigit():
            nums.append(tok)
        elif month is None:
            base = tok[:-2] if re.fullmatch(r"\d+(st|nd|rd|th)", tok) else tok
            if base in MONTHS:
                month = MONTHS[base]
            elif len(base) > 4 and base[:4] in MONTHS:
                month = MONTHS[base[:4]]
            elif base not in {"de", "del", "le", "den", "the", "of", "st", "nd", "rd", "th", "er", "y"}:
                return None
        elif tok not in {"de", "del", "le", "den", "the", "of", "st", "nd", "rd", "th", "er"}:
            return None
    if month is None or len(nums) != 2:
        return None
    year_i = next((i for i, n in enumerate(nums) if len(n) == 4), None)
    if year_i is None:
        year_i = 1
    day = nums[1 - year_i]
    if len(day) > 2:
        return None
    return _mk(int(nums[year_i]), month, int(day))


_SYMBOLS = [
    ("US$", "USD"), ("U$S", "USD"), ("CA$", "CAD"), ("C$", "CAD"), ("A$", "AUD"), ("AU$", "AUD"), ("NZ$", "NZD"),
    ("HK$", "HKD"), ("S$", "SGD"), ("R$", "BRL"), ("€", "EUR"), ("£", "GBP"), ("¥", "JPY"), ("₹", "INR"), ("₪", "ILS"),
    ("ש\"ח", "ILS"), ("ש״ח", "ILS"),
    ("₩", "KRW"), ("₽", "RUB"), ("₺", "TRY"), ("zł", "PLN"), ("Kč", "CZK"), ("SFr", "CHF"), ("Fr.", "CHF"),
    ("$", "USD"),
]
_CODES = {
    "EUR", "USD", "GBP", "CHF", "JPY", "CNY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "INR",
    "AED", "SAR", "SGD", "HKD", "MXN", "BRL", "ZAR", "TRY", "RUB", "KRW", "ILS", "THB", "MYR", "IDR", "PHP", "RON",
    "BGN", "ISK", "CLP", "COP", "ARS", "PEN", "EGP", "NGN", "KES", "QAR", "KWD", "BHD", "OMR", "TWD", "VND",
}
_NAMES = {"euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "usd": "USD", "pound": "GBP",
          "pounds": "GBP", "sterling": "GBP", "franken": "CHF", "francs": "CHF", "yen": "JPY", "rupees": "INR",
          "dirham": "AED", "dirhams": "AED"}


def parse_currency(text: str | None) -> str | None:
    """An ISO 4217 code from a code, symbol or name as printed (``€`` -> EUR, ``US$`` -> USD)."""
    if text is None:
        return None
    t = str(text).strip()
    if not t:
        return None
    for tok in re.findall(r"[A-Za-z]{3}", t):
        if tok.upper() in _CODES and (tok.isupper() or len(t) <= 4):
            return tok.upper()
    for sym, code in _SYMBOLS:
        if sym in t:
            return code
    for tok in re.findall(r"[a-zA-Z]+", _fold(t)):
        if tok in _NAMES:
            return _NAMES[tok]
    return None


def normalize_uom(text: str | None) -> str | None:
    """A unit-of-measure code (``Stück`` -> EA); the text upper-cased when it is unknown."""
    if text is None or not str(text).strip():
        return None
    try:
        from intake.core.units import normalize_uom as _units
    except ImportError:  # the matching engineer's table is optional here
        _units = None
    if _units is not None:
        code = _units(text)
        if code:
            return code
    return str(text).strip().strip(".").upper() or None


def detect_locale(texts: Iterable[str], hint: str | None = None) -> Locale:
    """The language, decimal mark and date order of a document from its words.

    ``hint`` (a reader's ``Document.locale``) sets the language when given. The decimal mark
    is voted by numbers that show it unambiguously (both marks, or one mark followed by other
    than three digits); the date order by numeric dates with a part above 12.
    """
    words = list(texts)
    lang = (hint or "").split("-")[0].lower() or None
    if lang not in _LANG_WORDS:
        scores = {k: 0 for k in _LANG_WORDS}
        for w in words:
            f = _fold(w).strip(".:;,#")
            for k, vocab in _LANG_WORDS.items():
                if f in vocab:
                    scores[k] += 1
        # Shared words ("date", "total") appear in several vocabularies; English captions are
        # the usual fallback, so other languages must win outright.
        lang = max(scores, key=lambda k: (scores[k], k == "en"))
        if scores[lang] == 0:
            lang = "en"
    dot = comma = 0
    day_first = month_first = dotted = 0
    for w in words:
        s = w.strip().strip("€$£()")
        if re.fullmatch(r"\d{1,3}(\.\d{3})+,\d{1,2}", s) or re.fullmatch(r"\d+,\d{2}", s):
            comma += 1
        elif re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{1,2}", s) or re.fullmatch(r"\d+\.\d{2}", s):
            dot += 1
        elif re.fullmatch(r"\d{1,3}([ '\u00a0\u202f]\d{3})*,\d{1,2}", s):
            comma += 1
        m = _NUMDATE_RE.match(s)
        if m:
            a, b = int(m.group(1)), int(m.group(3))
            if a > 12 >= b:
                day_first += 1
            elif b > 12 >= a:
                month_first += 1
            elif m.group(2) == ".":
                dotted += 1  # d.m.y is the dotted convention everywhere it is used
    decimal = "," if comma > dot else ("." if dot > comma else None)
    if day_first or month_first:
        dayfirst: bool | None = day_first >= month_first
    elif dotted:
        dayfirst = True
    elif _mostly_rtl(words):
        dayfirst = True  # Hebrew and Arabic documents write the day first (no country of theirs writes m/d/y)
    else:
        dayfirst = None
    return Locale(lang=lang, decimal=decimal, dayfirst=dayfirst)


def _mostly_rtl(words: list[str]) -> bool:
    """Whether most letters of a document are right-to-left script (Hebrew, Arabic)."""
    rtl = letters = 0
    for w in words:
        for c in w:
            if c.isalpha():
                letters += 1
                rtl += "\u0590" <= c <= "\u08ff"
    return letters > 0 and rtl * 2 > letters
