"""Layout families: deterministic combinations of layout choices, language and locale.

A family fixes everything about how an order is drawn (where the header blocks sit, the
table style, which columns appear in which order, label wording, number/date/currency
formats, fonts, extras such as a logo, notes, a terms page, carried totals); the order
content varies per document.

Held-out split: families whose index ``% 5 == 4`` (f04, f09, ..., f44) are held out for
evaluation; :func:`train_families` and :func:`heldout_families` give the two lists. The model
trainer must not train on held-out families when it reports generalisation figures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from training.synth.vocab import COLUMN_LABELS, CURRENCIES, HEADER_LABELS, LANGS

__all__ = ["Family", "FAMILIES", "N_FAMILIES", "HELDOUT_MOD", "family_names", "is_heldout",
           "train_families", "heldout_families"]

N_FAMILIES = 45
HELDOUT_MOD = 5  # index % 5 == 4 -> held out

HEADER_LAYOUTS = ("left", "right", "top", "twocol", "boxed")
TABLE_STYLES = ("ruled", "grid", "plain", "hrule", "zebra")

# Column sets: order and presence differ the way real orders differ. Every set has the item code.
COLUMN_SETS: tuple[tuple[str, ...], ...] = (
    ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount"),
    ("sku", "description", "quantity", "unit_price", "amount"),
    ("line_no", "description", "sku", "quantity", "uom", "unit_price", "discount_pct", "amount"),
    ("line_no", "sku", "cust_part", "description", "quantity", "uom", "unit_price", "amount"),
    ("line_no", "quantity", "uom", "sku", "description", "unit_price", "amount"),
    ("sku", "cust_part", "description", "uom", "quantity", "unit_price", "discount_pct", "amount"),
    ("line_no", "sku", "description", "quantity", "unit_price"),
    ("quantity", "sku", "description", "unit_price", "amount"),
    ("line_no", "sku", "description", "uom", "quantity", "unit_price", "amount"),
)

# Number styles: grouping and decimal separators.
NUMBER_STYLES: dict[str, tuple[str, str]] = {
    "en": (",", "."),     # 1,234.56
    "de": (".", ","),     # 1.234,56
    "fr": (" ", ","),     # 1 234,56
    "ch": ("'", "."),     # 1'234.56
    "plain": ("", "."),   # 1234.56
    "plainc": ("", ","),  # 1234,56
}
LANG_NUMBER_STYLES: dict[str, tuple[str, ...]] = {
    "en": ("en", "en", "plain", "ch"), "de": ("de", "de", "ch", "plainc"), "fr": ("fr", "fr", "de", "ch"),
    "es": ("de", "de", "plainc", "en"), "nl": ("de", "de", "plainc", "en"),
}
# Date styles: dmy "03/04/2026", mdy "04/03/2026", iso, dot "03.04.2026", long "3 avril 2026",
# uslong "Apr 3, 2026", dmydash "03-04-2026".
LANG_DATE_STYLES: dict[str, tuple[str, ...]] = {
    "en": ("mdy", "uslong", "dmy", "iso", "long"), "de": ("dot", "long", "iso", "dot"),
    "fr": ("dmy", "long", "iso", "dmy"), "es": ("dmy", "long", "dmydash", "iso"),
    "nl": ("dmydash", "long", "iso", "dmy"),
}
PO_PATTERNS = ("sap", "po_year", "slash", "po_plain", "dash_code", "year_slash", "numeric6")
SKU_STYLES = ("abc123", "dashed_num", "numeric", "multi_dash", "letter_num", "dotted")
FONTS = ("Helvetica", "Times-Roman", "Courier")
CURRENCY_STYLES = ("code_field", "code_total", "symbol_total", "code_both")


@dataclass(frozen=True)
class Family:
    """One layout family. All attributes are fixed by the family index."""

    index: int
    name: str
    lang: str
    header_layout: str       # left | right | top | twocol | boxed
    table_style: str         # ruled | grid | plain | hrule | zebra
    columns: tuple[str, ...]
    number_style: str        # key of NUMBER_STYLES
    date_style: str
    currency: str            # ISO code most orders of this family use
    currency_style: str      # where/how the currency is printed
    po_pattern: str
    sku_style: str
    font: str
    page_size: str           # A4 | Letter
    label_variant: int       # which synonym of each label
    logo: bool               # buyer name as a big bold letterhead
    show_requested: bool
    show_bill_to: bool
    show_ship_to: bool
    show_terms: bool         # payment terms field
    notes: bool
    terms_page: bool         # a terms-and-conditions page after the order
    freight: bool
    order_discount: bool
    tax: bool
    carried: bool            # carried/brought forward totals on page breaks
    repeat_header: bool      # repeat the table header on every page
    wrap_codes: bool         # long item codes wrap onto a second line in their column
    long_desc: bool          # long descriptions that wrap
    qty_decimals: int        # 0: "20", 2: "20.00", 3: "20,000"
    max_lines: int           # lines per order drawn from 1..max_lines
    font_size: float

    def label(self, key: str) -> str:
        """The family's caption for header key (po_number, total, carried...)."""
        syn = HEADER_LABELS[self.lang][key]
        return syn[(self.label_variant + self.index) % len(syn)]

    def column_label(self, col: str) -> str:
        syn = COLUMN_LABELS[self.lang][col]
        return syn[(self.label_variant + 2 * self.index) % len(syn)]

    @property
    def heldout(self) -> bool:
        return is_heldout(self.index)


def is_heldout(index: int) -> bool:
    """The documented evaluation split: family index % 5 == 4."""
    return index % HELDOUT_MOD == HELDOUT_MOD - 1


def _make(i: int) -> Family:
    # Systematic strides guarantee that every language, header layout and table style appears
    # both among training and held-out families; the rest comes from a per-family RNG.
    lang = LANGS[(i + i // 5) % 5]
    header = HEADER_LAYOUTS[(i + 2 * (i // 5)) % 5]
    table = TABLE_STYLES[(3 * i + i // 5) % 5]
    r = random.Random(7919 * (i + 1))
    columns = COLUMN_SETS[(i * 4 + i // 9) % len(COLUMN_SETS)]
    multipage = i % 3 == 0
    number_style = r.choice(LANG_NUMBER_STYLES[lang])
    qty_dec = (0, 0, 0, 2, 3)[r.randrange(5)] if lang != "en" else (0, 0, 2)[r.randrange(3)]
    if qty_dec == 3 and NUMBER_STYLES[number_style][1] == ".":
        qty_dec = 2  # "500.000" with a decimal point reads as half a million
    return Family(
        index=i,
        name=f"f{i:02d}_{lang}_{header}_{table}",
        lang=lang,
        header_layout=header,
        table_style=table,
        columns=columns,
        number_style=number_style,
        date_style=r.choice(LANG_DATE_STYLES[lang]),
        currency=r.choice(CURRENCIES[lang]),
        currency_style=CURRENCY_STYLES[(i + i // 4) % len(CURRENCY_STYLES)],
        po_pattern=PO_PATTERNS[i % len(PO_PATTERNS)],
        sku_style=SKU_STYLES[(i // 2) % len(SKU_STYLES)],
        font=FONTS[(i // 3) % len(FONTS)] if i % 7 != 3 else "Helvetica",
        page_size="Letter" if lang == "en" and r.random() < 0.6 else "A4",
        label_variant=r.randrange(4),
        logo=r.random() < 0.5,
        show_requested=r.random() < 0.7,
        show_bill_to=r.random() < 0.45,
        show_ship_to=r.random() < 0.85,
        show_terms=r.random() < 0.75,
        notes=r.random() < 0.4,
        terms_page=i % 6 == 2,
        freight=r.random() < 0.35,
        order_discount=r.random() < 0.2,
        tax=r.random() < 0.4,
        carried=multipage and r.random() < 0.8,
        repeat_header=r.random() < 0.9,
        wrap_codes=i % 8 == 5,
        long_desc=r.random() < 0.5,
        qty_decimals=qty_dec,
        max_lines=40 if multipage else r.choice((8, 12, 18, 25)),
        font_size=(8.5, 9.0, 9.5)[r.randrange(3)],
    )


FAMILIES: dict[str, Family] = {f.name: f for f in (_make(i) for i in range(N_FAMILIES))}


def family_names() -> list[str]:
    """All family names in index order (f00_... f44_...)."""
    return list(FAMILIES)


def train_families() -> list[str]:
    return [n for n, f in FAMILIES.items() if not f.heldout]


def heldout_families() -> list[str]:
    return [n for n, f in FAMILIES.items() if f.heldout]
