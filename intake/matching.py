"""Match an order to the seller's master data: customer, ship-to, and a product for every line.

Matching runs over an in-memory ``Catalog`` (built once from the database with
``Catalog.load(session)``, or from plain lists), so it is pure and fast:

- customer: the EDI partner the channel proves, an authenticated sender address / mail domain,
  then hints a sender can type (capped below approval, see ``intake/identity.py``) and names,
  aliases and addresses printed on the document (rapidfuzz), each with a score 0..1 and ``via``;
- ship-to: by code, then the address (its numbers must all be printed) against the customer's
  ship-tos; a printed ship-to that is none of them is flagged (``ship_to_unknown``);
- lines, in order of trust: the customer's cross-reference (customer items and learned
  cross-references), our SKU as printed, a normalised SKU, an item code printed inside the
  description (our SKU or a manufacturer part number), then the description against product
  descriptions and aliases.

Description matching normalises both sides the same way (accents folded, plurals, colours and a
few common French office words translated, ``80 grammes``/``80gsm`` -> ``80g``, ``box of 100``/
``x100``/``(100)`` -> ``q100``, ``GR5`` -> ``grade5``, ``ZP`` -> zinc plated, ``SS`` -> stainless,
inch marks and fractions) and scores IDF-weighted token overlap with typo tolerance (rapidfuzz over
the vocabulary). A prefilter over a token inverted index (numpy) keeps it fast on 100,000
products. The confidence uses the margin between the best and the second-best product: two
near-identical siblings that the wording does not separate never give a confident match.

Order history, as a customer-service rep uses it: when the wording does not separate siblings
(or reads weakly) and exactly one of the close candidates is a product this customer has ordered
before (``order_history.csv`` and the customer's approved/delivered orders in the ledger), that
one is pre-selected (via ``history``) with the others as runners-up. The line's confidence is
not raised: the wording did not decide, so a person still confirms it.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from intake.domain import LineDraft, MatchCandidate, MatchedLine, MatchedOrder, OrderDraft, Origin
from intake.masters import (
    CustomerItemRow,
    CustomerRow,
    LearnedXrefRow,
    OrderHistoryRow,
    PriceRow,
    ProductRow,
    ShipToRow,
    _is_discontinued,
    normalize_key,
)
from intake.units import UnitError, conversion_factor, fold, normalize_uom
from intake.units import as_number

__all__ = [
    "Product",
    "Customer",
    "ShipTo",
    "CustomerPrice",
    "CustomerHistory",
    "LedgerHistory",
    "Catalog",
    "CatalogCache",
    "LineMatch",
    "CustomerMatch",
    "match_order",
    "match_line",
    "match_customer",
    "learn_xref",
    "tokenize",
    "line_confidence",
    "AMBIGUOUS_GAP",
    "HISTORY_WINDOW",
    "RECALL_WEIGHT",
]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- master-data records


@dataclass
class Product:
    sku: str
    description: str
    uom: str = "EA"
    unit_price: float | None = None
    currency: str | None = None
    aliases: list[str] = field(default_factory=list)
    alt_uoms: dict[str, float] = field(default_factory=dict)
    pack_size: float | None = None
    min_order_qty: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def discontinued(self) -> bool:
        return _is_discontinued(self.attributes)

    @property
    def replaced_by(self) -> str | None:
        r = self.attributes.get("replaced_by")
        return str(r) if r else None


@dataclass
class Customer:
    customer_id: str
    name: str
    aliases: list[str] = field(default_factory=list)
    email_domains: list[str] = field(default_factory=list)
    edi_ids: list[str] = field(default_factory=list)
    payment_terms: str | None = None
    currency: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ShipTo:
    customer_id: str
    code: str
    name: str | None = None
    address: str | None = None


@dataclass
class CustomerPrice:
    customer_id: str
    sku: str
    unit_price: float
    currency: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass
class CustomerHistory:
    """What one customer ordered before: past quantities per SKU, in the product's unit.

    ``imported`` comes from ``order_history.csv``; ``ledger`` holds, per SKU, (quantity,
    po_number) of the customer's approved or delivered orders, so an order being re-checked can
    leave its own lines out (``exclude_po``).
    """

    imported: dict[str, list[float]] = field(default_factory=dict)
    ledger: dict[str, list[tuple[float, str | None]]] = field(default_factory=dict)

    def ordered(self, sku: str) -> bool:
        return sku in self.imported or sku in self.ledger

    def quantities(self, sku: str, *, exclude_po: str | None = None) -> list[float]:
        out = list(self.imported.get(sku, ()))
        out += [q for q, po in self.ledger.get(sku, ()) if exclude_po is None or po != exclude_po]
        return out

    @property
    def empty(self) -> bool:
        return not self.imported and not self.ledger


class LedgerHistory:
    """The lines of a customer's past APPROVED/DELIVERED orders in the ledger, read lazily, one
    customer at a time, and kept until that customer's orders change.

    Bounded: the ``max_orders`` most recent orders of the customer. Each look-up costs one small
    indexed query (count and latest update of the customer's orders); the lines themselves are
    read again only when that changed.
    """

    STATUSES = ("APPROVED", "DELIVERED")

    def __init__(self, engine: Engine, *, max_orders: int = 200) -> None:
        self._engine, self.max_orders = engine, max_orders
        self._cache: dict[str, tuple[tuple[Any, ...], dict[str, list[tuple[float, str | None]]]]] = {}
        self._lock = threading.Lock()

    def of(self, customer_id: str) -> dict[str, list[tuple[float, str | None]]]:
        """sku -> (quantity in the product's unit, PO number) of the customer's past orders."""
        from intake.models import OrderRow

        where = (OrderRow.customer_id == customer_id, OrderRow.status.in_(self.STATUSES))
        try:
            with Session(self._engine) as s:
                key = tuple(s.execute(select(func.count(), func.max(OrderRow.updated_at)).where(*where)).one())
                with self._lock:
                    hit = self._cache.get(customer_id)
                if hit is not None and hit[0] == key:
                    return hit[1]
                out: dict[str, list[tuple[float, str | None]]] = {}
                if key[0]:
                    rows = s.execute(select(OrderRow.po_number, OrderRow.record).where(*where)
                                     .order_by(OrderRow.updated_at.desc()).limit(self.max_orders))
                    for po, record in rows:
                        for ln in (record or {}).get("lines", []) or []:
                            sku, qty = ln.get("sku"), as_number(ln.get("quantity"))
                            if sku and qty is not None and qty > 0:
                                out.setdefault(str(sku), []).append((float(qty), po))
        except SQLAlchemyError as exc:  # history only helps; never fail an order for it
            log.warning("order history from the ledger unavailable: %s", exc.__class__.__name__)
            return {}
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[customer_id] = (key, out)
        return out


# ---------------------------------------------------------------- text normalisation

_WORD_MAP: dict[str, tuple[str, ...]] = {
    # fasteners shorthand
    "zp": ("zinc", "plated"), "zn": ("zinc",), "znpl": ("zinc", "plated"), "zinc-plated": ("zinc", "plated"),
    "ss": ("stainless",), "inox": ("stainless",), "a2": ("stainless",), "hdg": ("hot", "dip", "galvanized"),
    "galv": ("galvanized",), "galvanised": ("galvanized",), "hx": ("hex",), "hexagon": ("hex",),
    "hd": ("head",), "shcs": ("socket", "head", "cap", "screw"), "sck": ("socket",), "skt": ("socket",),
    "scr": ("screw",), "mach": ("machine",), "carr": ("carriage",), "anc": ("anchor",), "blt": ("bolt",), "wsh": ("washer",), "wshr": ("washer",), "flt": ("flat",),
    "lk": ("lock",), "nyl": ("nylon",), "thd": ("thread",), "thrd": ("thread",), "crs": ("coarse",),
    "fn": ("fine",), "phil": ("phillips",), "ph": ("phillips",), "pan": ("pan",), "csk": ("countersunk",),
    "stl": ("steel",), "brs": ("brass",), "alum": ("aluminium",), "aluminum": ("aluminium",),
    "blk": ("black",), "bk": ("black",), "wht": ("white",), "wh": ("white",), "blu": ("blue",),
    "bl": ("blue",), "grn": ("green",), "yel": ("yellow",), "ylw": ("yellow",), "gry": ("grey",),
    "gray": ("grey",), "rd": ("red",), "org": ("orange",), "asst": ("assorted",), "assortment": ("assorted",),
    # French office and colour words -> English, so a French line meets an English catalog
    "noir": ("black",), "noire": ("black",), "blanc": ("white",), "blanche": ("white",), "bleu": ("blue",),
    "bleue": ("blue",), "rouge": ("red",), "vert": ("green",), "verte": ("green",), "jaune": ("yellow",),
    "gri": ("grey",), "grise": ("grey",), "rose": ("pink",), "violet": ("purple",), "violette": ("purple",),
    "marron": ("brown",), "transparente": ("transparent",), "incolore": ("transparent",),
    "papier": ("paper",), "enveloppe": ("envelope",), "env": ("envelope",), "stylo": ("pen",),
    "cahier": ("notebook",), "crayon": ("pencil",), "agrafe": ("staple",), "agrafeuse": ("stapler",),
    "ciseaux": ("scissors",), "ciseau": ("scissors",), "colle": ("glue",), "pile": ("battery",),
    "batt": ("battery",), "batterie": ("battery",), "cell": ("battery",), "gant": ("glove",),
    "etiquette": ("label",), "surligneur": ("highlighter",),
    "marqueur": ("marker",), "feutre": ("marker",), "cartouche": ("cartridge",), "souri": ("mouse",),
    "clavier": ("keyboard",), "cle": ("key",), "memoire": ("memory",), "ramette": ("ream",),
    "rame": ("ream",), "levier": ("lever", "arch"), "poubelle": ("bin",), "dechet": ("bin",), "sac": ("bag",), "sack": ("bag",),
    "eau": ("water",), "cafe": ("coffee",), "the": ("tea",), "sucre": ("sugar",), "gobelet": ("cup",),
    "nettoyant": ("cleaner",), "essuie": ("wipe",), "lingette": ("wipe",), "mouchoir": ("tissue",),
    "scotch": ("tape",), "ruban": ("tape",), "adhesif": ("adhesive",), "autocollant": ("adhesive",),
    "self-adhesive": ("adhesive",), "spirale": ("spiral",), "carreaux": ("squared",), "ligne": ("lined",),
    "ballpen": ("ballpoint", "pen"), "biro": ("ballpoint", "pen"), "bille": ("ballpoint",),
    "rollerball": ("roller",), "hilighter": ("highlighter",), "copier": ("copy",), "photocopie": ("copy",),
    "reprographique": ("copy",), "tissue": ("tissue",), "pad": ("notebook",),
    "pf": ("nopowder",), "poudre": ("powder",), "powdered": ("powder",), "poudree": ("powder",),
    "multipurpose": ("multi",), "purpose": ("multi",), "usage": ("multi",), "binder": ("file",),
    "classeur": ("file",), "taille": ("size",), "sz": ("size",), "fenetre": ("window",),
}

_STOP = frozenset(
    "of the and for with per in on by a an to x ref reference art article item no nr code qty pcs "
    "de du des la le les au aux en pour avec par et un une sur ou all "
    "please pls merci thanks".split()
)

# (pattern, replacement, substrings one of which must be present for the pattern to apply);
# every pattern but the multiplication sign needs a digit. The checks skip most regex work.
_SUBS: list[tuple[re.Pattern[str], Any, tuple[str, ...]]] = [
    (re.compile(r"(\d),(\d)"), r"\1.\2", (',',)),  # decimal comma
    (re.compile(r"[×*]"), "x", ('×', '*')),
    (re.compile(r"(\d)\s*(?:\"|''|”)\s*-\s*(\d)"), r"\1-\2", ('"', "''", '”')),  # 1/2"-13 -> 1/2-13
    (re.compile(r"(\d)\s*(?:\"|''|”|inch(?:es)?\b|in\b)"), r"\1 ", ('"', "''", '”', 'in')),  # inch marks: sizes read the same without
    (re.compile(r"\b(\d+)-(\d+)/(\d+)\b(?!-)"), lambda m: f"{int(m.group(1)) + int(m.group(2)) / int(m.group(3)):g}", ('/',)),
    (re.compile(r"(\d+/\d+(?:-\d+)?)\s*x\s*(?=\d)"), r"\1 ", ('/',)),  # 1/2-13 x 2: thread, then length
    # 110 x 220 -> 110x220 (spaced on both sides or neither: "316 x100" is a pack count)
    (re.compile(r"(\d)(?:x| x )(?=\d)"), r"\1x", ('x',)),
    (re.compile(r"\b(g[a-z]{0,5})\.?\s*-?\s*(\d{1,2})\b"), lambda m: _grade(m), ('g',)),  # GR5, Grade 5, grdae 5
    (re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(?:g/m2|g/m²|gsm|grs?|grammes?|grams?|gramm|g)\b"), r"\1g ", ('g',)),
    (re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(?:litres?|liters?|lires?|lts?|ltrs?|l)\b"), r"\1l ", ('l',)),
    (re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(?:ml|millilitres?)\b"), r"\1ml ", ('ml',)),
    (re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(?:go|gb|gigas?)\b"), r"\1gb ", ('g',)),
    (re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(?:to|tb)\b"), r"\1tb ", ('t',)),
    (re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(mm|cm|m|kg|mah|v|w)\b"), r"\1\2 ", ()),
    (re.compile(r"(\d+)\s*-?\s*(?:sheets?|sht?s?|feuilles?|ff|fls?|f|pages?|p|blatt)\b"), r"\1sheet ", ()),
    # pack counts: box of 100, 100 per box, 100/box, x100, (100), pk 12, 12-pack, paquet de 12 -> q100
    (re.compile(r"\b(?:pack|pk|pkt|box|bx|bte|boite|paquet|pqt|carton|ctn|case|bag|sac|roll|rouleau|lot|set|tube|sachet)s?\s*(?:of|de|x)\s*(\d+)\b"), r" q\1 ", ()),
    (re.compile(r"\b(\d+)\s*(?:/|per|par|p/|a|pieces? per|pcs? per)\s*(?:pack|pk|box|bx|boite|bte|paquet|roll|rouleau|carton|case|bag|sac|sheet|feuille|tube|sachet)\b"), r" q\1 ", ()),
    (re.compile(r"\b(\d+)\s*-?\s*(?:pack|pk|pcs?|pieces?|count|ct|er)\b"), r" q\1 ", ()),
    (re.compile(r"\b(?:pk|pack|bx|box|bte|boite|paquet|x|lot|set)\s*(\d+)\b"), r" q\1 ", ()),
    (re.compile(r"\((\d+)\)"), r" q\1 ", ('(',)),
    (re.compile(r"\b([a-z]{1,3})[\s\-]+(\d+[a-z]?)\b(?![./\-]\d)"), lambda m: _join_code(m), ()),  # HP 85A -> hp85a
    (re.compile(r"\b(\d+)\s+([a-z])\b(?![.\-])"), r"\1\2", ()),  # 410 A -> 410a
    (re.compile(r"\b([a-z]+)-(\d)"), r"\1\2", ('-',)),
    (re.compile(r"(\d)-([a-z]{2,})\b"), r"\1\2", ('-',)),  # 2-ply -> 2ply
]
_TOKEN = re.compile(
    r"\d+/\d+(?:-\d+)?[a-z]*|\d+(?:\.\d+)?(?:[a-wyz%][a-z%]*)?(?:x\d+(?:\.\d+)?(?:[a-wyz%][a-z%]*)?)*[a-z]*|[a-z][a-z0-9]*"
)
_NEGATION = frozenset({"no", "non", "sans", "without", "ohne", "wo", "not"})
_CODE_WORD = re.compile(r"[0-9A-Za-z\u00C0-\u024F][0-9A-Za-z\u00C0-\u024F\-./_#]*")
_KEY_DROP = re.compile(r"[^0-9a-z]+")
_THREAD = re.compile(r"^(\d+/\d+)-\d+$")
_CM = re.compile(r"^(\d+(?:\.\d+)?)cm$")


def _join_code(m: re.Match[str]) -> str:
    """Join a short letter prefix to its number (``HP 85A``, ``TN-2420``) unless the letters
    are a word of their own (``SS 316`` is stainless 316, ``no 2`` is not a code)."""
    head, num = m.group(1), m.group(2)
    if head in _WORD_MAP or head in _STOP or head in _UNIT_WORDS:
        return m.group(0)
    # "nut 100" is a word and a count; codes have a short prefix or a hyphen or a letter suffix
    if len(head) > 2 and "-" not in m.group(0) and not num[-1].isalpha():
        return m.group(0)
    return head + num


def _grade(m: re.Match[str]) -> str:
    """``GR5``, ``Grade 5`` and typos of "grade" -> ``grade5``; other g-words stay."""
    word = m.group(1)
    if word in ("gr", "gd", "gde", "grd") or (len(word) >= 4 and fuzz.ratio(word, "grade") >= 78):
        return f"grade{m.group(2)}"
    return m.group(0)


_UNIT_WORDS = frozenset({"mm", "cm", "m", "kg", "g", "l", "ml", "gb", "tb", "in", "ft", "lb", "oz", "pk", "bx", "q"})


def _stem(t: str) -> str:
    if t.isalpha() and len(t) > 3:
        if t.endswith("ies") and len(t) > 4:
            return t[:-3] + "y"
        if t.endswith("sses"):
            return t[:-2]
        if t.endswith("s") and not t.endswith("ss"):
            return t[:-1]
        if t.endswith("x") and t[-2:] in ("ux",) and len(t) > 5:  # rouleaux, journaux
            return t[:-1]
    return t


@lru_cache(maxsize=200_000)
def tokenize(text: str) -> tuple[str, ...]:
    """Normalised tokens of a product description or an order line (same rules both sides)."""
    s = fold(text)
    has_digit = any(c.isdigit() for c in s)
    for i, (pat, rep, needs) in enumerate(_SUBS):
        if i != 1 and not has_digit:
            continue
        if needs and not any(n in s for n in needs):
            continue
        s = pat.sub(rep, s)
    out: list[str] = []
    negate = False
    for raw in _TOKEN.findall(s):
        t = raw if raw in _WORD_MAP else _stem(raw)
        if t in _NEGATION:
            negate = True  # "no window", "sans fenetre", "non poudres" -> one token "nowindow"
            continue
        m = _CM.match(t)
        if m:  # 8 cm and 80 mm are the same size
            t = f"{float(m.group(1)) * 10:g}mm"
        if t == "free" and out and not out[-1].startswith("no"):
            out[-1] = "no" + out[-1]  # powder-free -> nopowder
            continue
        mapped = _WORD_MAP.get(t, (t,))
        th = _THREAD.match(t)
        if th:  # 1/2-13 also says diameter 1/2, which is how many customers write it
            mapped = (t, th.group(1))
        for mt in mapped:
            if mt in _STOP:
                continue
            if negate:
                mt = "no" + mt
                negate = False
            out.append(mt)
    # keep order but drop repeats (a bag of words with first positions)
    return tuple(dict.fromkeys(out))


def _has_digit(t: str) -> bool:
    return any(c.isdigit() for c in t)


# ---------------------------------------------------------------- the catalog

RECALL_WEIGHT = 0.85
"""Share of the similarity that measures how much of the line the product explains; the rest
measures how much of the product the line mentions (customers leave words out)."""



@dataclass
class LineMatch:
    """The outcome of matching one line: best SKU (None when unsure of any), score 0..1, via
    and the top candidates for the review UI."""

    sku: str | None
    score: float
    via: str
    candidates: list[MatchCandidate]


@dataclass
class CustomerMatch:
    customer_id: str | None
    score: float
    via: str
    notes: list[str] = field(default_factory=list)  # claims that disagree with the proven identity


class Catalog:
    """An in-memory, read-only index of the master data for fast matching.

    Build with ``Catalog.load(session)`` or ``Catalog(products=[...], customers=[...], ...)``.
    """


    def __init__(
        self,
        products: Iterable[Product] = (),
        customers: Iterable[Customer] = (),
        ship_tos: Iterable[ShipTo] = (),
        customer_items: Iterable[tuple[str, str, str]] = (),
        prices: Iterable[CustomerPrice] = (),
        learned: Iterable[tuple[str, str, str]] = (),
        history: Iterable[tuple[str, str, float]] = (),
        ledger: LedgerHistory | None = None,
    ) -> None:
        self.products: dict[str, Product] = {p.sku: p for p in products}
        self.customers: dict[str, Customer] = {c.customer_id: c for c in customers}
        self.ship_tos: dict[str, list[ShipTo]] = {}
        for s in ship_tos:
            self.ship_tos.setdefault(s.customer_id, []).append(s)
        self.prices: dict[tuple[str, str], list[CustomerPrice]] = {}
        for pr in prices:
            self.prices.setdefault((pr.customer_id, pr.sku), []).append(pr)
        # cross-references: (customer_id, normalize_key(code or wording)) -> sku
        self.xrefs: dict[tuple[str, str], str] = {}
        for cid, csku, sku in customer_items:
            self.xrefs[(cid, normalize_key(csku))] = sku
        self.learned: dict[tuple[str, str], str] = {}
        for cid, text, sku in learned:
            self.learned[(cid, normalize_key(text))] = sku
        # order history: customer_id -> sku -> past quantities (product unit)
        self.history: dict[str, dict[str, list[float]]] = {}
        for cid, sku, qty in history:
            self.history.setdefault(cid, {}).setdefault(sku, []).append(float(qty))
        self.ledger = ledger
        self._build_product_index()
        self._build_customer_index()

    # ---- construction

    @classmethod
    def load(cls, session: Session) -> "Catalog":
        """Read all master data from the database (one query per table)."""
        products = [
            Product(r.sku, r.description, r.uom, r.unit_price, r.currency, list(r.aliases or []), dict(r.alt_uoms or {}),
                    r.pack_size, r.min_order_qty, dict(r.attributes or {}))
            for r in session.scalars(select(ProductRow))
        ]
        customers = [
            Customer(r.customer_id, r.name, list(r.aliases or []), list(r.email_domains or []), list(r.edi_ids or []),
                     r.payment_terms, r.currency, dict(r.attributes or {}))
            for r in session.scalars(select(CustomerRow))
        ]
        ship_tos = [ShipTo(r.customer_id, r.code, r.name, r.address) for r in session.scalars(select(ShipToRow))]
        items = [(r.customer_id, r.customer_sku, r.sku) for r in session.scalars(select(CustomerItemRow))]
        prices = [CustomerPrice(r.customer_id, r.sku, r.unit_price, r.currency, r.valid_from, r.valid_to)
                  for r in session.scalars(select(PriceRow))]
        learned = [(r.customer_id, r.key, r.sku) for r in session.scalars(select(LearnedXrefRow))]
        history = list(map(tuple, session.execute(select(OrderHistoryRow.customer_id, OrderHistoryRow.sku,
                                                         OrderHistoryRow.quantity).order_by(OrderHistoryRow.id))))
        ledger = None
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else getattr(bind, "engine", None)
        # the ledger's own orders count as history where the ledger lives in the same database
        if isinstance(engine, Engine) and inspect(session.connection()).has_table("orders"):
            ledger = LedgerHistory(engine)
        return cls(products, customers, ship_tos, items, prices, learned, history, ledger)

    @property
    def empty(self) -> bool:
        """No master data at all: matching is skipped."""
        return not self.products and not self.customers

    def product(self, sku: str | None) -> Product | None:
        return self.products.get(sku) if sku else None

    def customer(self, customer_id: str | None) -> Customer | None:
        return self.customers.get(customer_id) if customer_id else None

    def price_for(self, customer_id: str | None, sku: str, on: date | None = None) -> CustomerPrice | None:
        """The customer's price valid on ``on`` (latest valid_from wins), or None."""
        if not customer_id:
            return None
        best: CustomerPrice | None = None
        for pr in self.prices.get((customer_id, sku), []):
            if on is not None and ((pr.valid_from and on < pr.valid_from) or (pr.valid_to and on > pr.valid_to)):
                continue
            if best is None or (pr.valid_from or date.min) > (best.valid_from or date.min):
                best = pr
        return best

    def customer_history(self, customer_id: str | None) -> CustomerHistory:
        """What this customer ordered before (imported history and the ledger's orders)."""
        if not customer_id:
            return CustomerHistory()
        ledger = self.ledger.of(customer_id) if self.ledger is not None else {}
        return CustomerHistory(self.history.get(customer_id, {}), ledger)

    def search_customers(self, text: str, *, limit: int = 10) -> list[tuple[Customer, float]]:
        """Customers for a person's search box: the id, then names and aliases (typos forgiven).

        An exact id or name scores 1.0, a name that starts with the words typed 0.95; otherwise
        the best fuzzy score of the customer's names (rapidfuzz WRatio), kept from 0.6 up.
        """
        q = text.strip()
        if not q or not self.customers:
            return []
        qn = _name_norm(q) or fold(q)
        scores: dict[str, float] = {}
        for c in self.customers.values():
            if c.customer_id.upper() == q.upper():
                scores[c.customer_id] = 1.0
            elif c.customer_id.upper().startswith(q.upper()) and len(q) >= 2:
                scores[c.customer_id] = 0.9
        for i, name in enumerate(self._names):
            cid = self._name_owner[i]
            if name == qn:
                s = 1.0
            elif name.startswith(qn) or any(w.startswith(qn) for w in name.split()):
                s = 0.95 if name.startswith(qn) else 0.9
            else:
                s = fuzz.WRatio(qn, name) / 100.0 if len(qn) >= 3 else 0.0
            if s >= 0.6 and s > scores.get(cid, 0.0):
                scores[cid] = s
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self.customers[kv[0]].name.lower()))
        return [(self.customers[cid], round(s, 4)) for cid, s in ranked[:limit]]

    def add_learned(self, customer_id: str, text: str, sku: str) -> None:
        """Make a confirmed wording exact in this in-memory catalog (the DB row is written by
        ``learn_xref``)."""
        self.learned[(customer_id, normalize_key(text))] = sku

    # ---- product index

    def _build_product_index(self) -> None:
        self._skus: list[str] = list(self.products)
        sku_pos = {s: i for i, s in enumerate(self._skus)}
        doc_prod: list[int] = []
        doc_tokens: list[tuple[str, ...]] = []
        self._norm_sku: dict[str, list[str]] = {}
        self._codes: dict[str, set[str]] = {}  # normalize_key(code) -> skus (SKU + code-like aliases)
        for sku, p in self.products.items():
            self._norm_sku.setdefault(normalize_key(sku), []).append(sku)
            self._codes.setdefault(normalize_key(sku), set()).add(sku)
            for text in [p.description, *p.aliases]:
                toks = tokenize(text)
                if toks:
                    doc_prod.append(sku_pos[sku])
                    doc_tokens.append(toks)
                if " " not in text.strip() and _has_digit(text) and len(normalize_key(text)) >= 4:
                    self._codes.setdefault(normalize_key(text), set()).add(sku)
        self._doc_prod = np.asarray(doc_prod, dtype=np.int32)
        self._doc_tokens = doc_tokens
        df: dict[str, int] = {}
        for toks in doc_tokens:
            for t in toks:
                df[t] = df.get(t, 0) + 1
        n = max(1, len(doc_tokens))
        self._idf: dict[str, float] = {t: math.log(1.0 + n / c) for t, c in df.items()}
        self._idf_unknown = math.log(1.0 + n / 1.0) * 0.6 if df else 1.0
        postings: dict[str, list[int]] = {t: [] for t in df}
        for d, toks in enumerate(doc_tokens):
            for t in toks:
                postings[t].append(d)
        # Tokens in many documents ("screw", "white") are kept as dense 0/1 vectors, the rest as
        # posting lists: a query gathers its candidates from the rare tokens' postings and reads
        # the common tokens' vectors only at those candidates.
        dense_min = max(512, n // 50)
        self._postings = {t: np.asarray(v, dtype=np.int32) for t, v in postings.items() if len(v) < dense_min}
        self._dense: dict[str, np.ndarray] = {}
        for t, v in postings.items():
            if len(v) >= dense_min:
                vec = np.zeros(n, dtype=np.uint8)
                vec[np.asarray(v, dtype=np.int32)] = 1
                self._dense[t] = vec
        self._doc_weight = np.asarray([sum(self._idf[t] for t in toks) for toks in doc_tokens], dtype=np.float32)
        self._alpha_vocab = [t for t in df if t.isalpha() and len(t) >= 3]
        self._code_vocab = [t for t in df if _has_digit(t) and not t[0].isdigit() and len(t) >= 3]
        self._mark = np.zeros(n, dtype=np.float32)
        self._count = np.zeros(n, dtype=np.uint8)
        self._all_docs = np.arange(n, dtype=np.int32)
        self._expand_cache: dict[str, tuple[tuple[str, float], ...]] = {}

    def _expand(self, t: str) -> tuple[tuple[str, float], ...]:
        """Catalog tokens a query token may stand for, with a similarity 0..1.

        Exact tokens match 1.0; an unknown word matches close vocabulary words (typos) with
        rapidfuzz; numbers and sizes match only exactly, since ``80g`` vs ``90g`` is the whole
        difference between siblings; a code like ``85a`` may match ``hp85a``.
        """
        hit = self._expand_cache.get(t)
        if hit is not None:
            return hit
        out: tuple[tuple[str, float], ...]
        if t in self._idf:
            out = ((t, 1.0),)
            if t.isdigit() and f"q{t}" in self._idf:  # a bare "100" may be the pack count
                out = out + ((f"q{t}", 0.8),)
        elif t.isdigit() and f"q{t}" in self._idf:
            out = ((f"q{t}", 0.8),)
        elif t.isalpha() and len(t) >= 4:
            res = process.extract(t, self._alpha_vocab, scorer=fuzz.ratio, score_cutoff=78, limit=3)
            out = tuple((str(v), (float(s) / 100.0) ** 2) for v, s, _ in res)
        elif _has_digit(t) and not t.isdigit() and len(t) >= 3 and any(c.isalpha() for c in t):
            res = process.extract(t, self._code_vocab, scorer=fuzz.partial_ratio, score_cutoff=100, limit=3)
            out = tuple((str(v), 0.8) for v, s, _ in res if t in str(v))
        else:
            out = ()
        if len(self._expand_cache) > 100_000:
            self._expand_cache.clear()
        self._expand_cache[t] = out
        return out

    def search(self, text: str, *, limit: int = 5) -> list[MatchCandidate]:
        """Products whose description or aliases best match ``text``, best first, each with a
        raw similarity 0..1 (not yet the margin-aware confidence).

        similarity = 0.85 x (IDF weight of the line's tokens found in the product, typos
        counted by their closeness) / (weight of the line) + 0.15 x (weight of the product's
        tokens the line mentions) / (weight of the product).
        """
        qtoks = tokenize(text)
        if not qtoks or not self._doc_tokens:
            return []
        expansions: list[tuple[float, tuple[tuple[str, float], ...]]] = []
        for t in qtoks:
            exp = self._expand(t)
            w = max((self._idf[v] for v, _ in exp), default=self._idf_unknown)
            expansions.append((w, exp))
        qweight = sum(w for w, _ in expansions)
        if not any(exp for _w, exp in expansions):
            return []
        cands = self._candidates(expansions)
        s = self._score_docs(cands, expansions, qweight)
        if len(cands) < len(self._all_docs) and float(s.max()) < 0.6:
            # the rare tokens may be noise (a typo read as another word): look everywhere
            cands = self._all_docs
            s = self._score_docs(cands, expansions, qweight)
        k = min(len(s), max(limit * 4, 20))
        top = np.argpartition(s, -k)[-k:] if len(s) > k else np.arange(len(s))
        top = top[np.argsort(-s[top], kind="stable")]
        out: list[MatchCandidate] = []
        seen: set[int] = set()
        for i in top.tolist():
            pi = int(self._doc_prod[cands[i]])
            if pi in seen:
                continue
            seen.add(pi)
            sku = self._skus[pi]
            out.append(MatchCandidate(sku=sku, score=round(min(1.0, float(s[i])), 4),
                                      description=self.products[sku].description, via="description"))
            if len(out) >= limit:
                break
        return out

    SELECTIVE = 5  # the rarest query tokens that pick the candidates

    def _candidates(self, expansions: list[tuple[float, tuple[tuple[str, float], ...]]]) -> np.ndarray:
        """Documents holding all but one of the line's most selective tokens (one may be a typo
        read as the wrong word, or a word the product lacks)."""
        sel = sorted((e for e in expansions if e[1]), key=lambda e: -e[0])[: self.SELECTIVE]
        count = self._count
        touched_all = False
        for _w, exp in sel:
            for v, _sim in exp:
                dense = self._dense.get(v)
                if dense is not None:
                    count += dense
                    touched_all = True
                else:
                    count[self._postings[v]] += 1
        need = max(1, len(sel) - 1)
        cands = np.flatnonzero(count >= need).astype(np.int32)
        while len(cands) == 0 and need > 1:
            need -= 1
            cands = np.flatnonzero(count >= need).astype(np.int32)
        if touched_all:
            count.fill(0)
        else:
            for _w, exp in sel:
                for v, _sim in exp:
                    count[self._postings[v]] = 0
        return cands

    def _score_docs(self, cands: np.ndarray, expansions: list[tuple[float, tuple[tuple[str, float], ...]]],
                    qweight: float) -> np.ndarray:
        """The similarity of every candidate document, vectorised (see ``search``)."""
        matched = np.zeros(len(cands), dtype=np.float32)
        covered = np.zeros(len(cands), dtype=np.float32)
        seen: set[str] = set()
        mark = self._mark
        for w, exp in expansions:
            best: np.ndarray | None = None
            for v, sim in exp:
                dense = self._dense.get(v)
                if dense is not None:
                    ind = dense[cands]
                else:
                    post = self._postings[v]
                    mark[post] = 1.0
                    ind = mark[cands]
                    mark[post] = 0.0
                if v not in seen:
                    seen.add(v)
                    covered += self._idf[v] * ind
                contrib = ind * (w * sim)
                best = contrib if best is None else np.maximum(best, contrib)
            if best is not None:
                matched += best
        precision = np.minimum(1.0, covered / np.maximum(self._doc_weight[cands], 1e-6))
        return RECALL_WEIGHT * matched / max(qweight, 1e-6) + (1.0 - RECALL_WEIGHT) * precision

    def covered(self, text: str, sku: str) -> frozenset[str]:
        """The line's tokens (typos read as the catalog word they stand for) that the product's
        description or aliases hold."""
        p = self.products.get(sku)
        if p is None:
            return frozenset()
        ptoks: set[str] = set()
        for d in [p.description, *p.aliases]:
            ptoks.update(tokenize(d))
        return frozenset(t for t in tokenize(text) if any(v in ptoks for v, _sim in self._expand(t)))

    def codes_in_text(self, text: str) -> list[tuple[str, str]]:
        """(code as printed, sku) for every SKU or code-like alias printed inside ``text``.

        Only words holding a digit can be codes; a short letter prefix printed apart
        (``HP 85A``, ``TN 2420``) is tried joined to the next word.
        """
        words = _CODE_WORD.findall(text)
        hits: list[tuple[str, str]] = []
        seen: set[str] = set()
        cands = [w for w in words if any(ch.isdigit() for ch in w)]
        cands += [a + b for a, b in zip(words, words[1:])
                  if a.isalpha() and len(a) <= 4 and any(ch.isdigit() for ch in b)]
        for w in cands:
            k = _KEY_DROP.sub("", w.lower()).lstrip("0") if w.isascii() else normalize_key(w)
            if len(k) < 4 or k in seen:
                continue
            # a bare short number (a size, a quantity) is not evidence of a code
            if k.isdigit() and len(k) < 5:
                continue
            seen.add(k)
            for sku in sorted(self._codes.get(k, ())):
                hits.append((w, sku))
        return hits

    # ---- customer index

    def _build_customer_index(self) -> None:
        self._by_edi: dict[str, str] = {}
        self._by_domain: dict[str, list[str]] = {}
        self._by_email: dict[str, str] = {}
        self._names: list[str] = []
        self._name_owner: list[str] = []
        for c in self.customers.values():
            for e in c.edi_ids:
                self._by_edi[_edi_key(e)] = c.customer_id
            for d in c.email_domains:
                d = d.lower().lstrip("@")
                if "@" in d:
                    self._by_email[d] = c.customer_id
                else:
                    self._by_domain.setdefault(d, []).append(c.customer_id)
            for n in [c.name, *c.aliases]:
                if n.strip():
                    self._names.append(_name_norm(n))
                    self._name_owner.append(c.customer_id)
            for s in self.ship_tos.get(c.customer_id, []):
                for n in (s.name, s.address):
                    if n and n.strip():
                        self._names.append(_name_norm(n))
                        self._name_owner.append(c.customer_id)


def _edi_key(v: str) -> str:
    # "ZZ:ACME001", "14:4012345000009" -> the id; spaces and case do not count
    v = v.strip().upper()
    if re.match(r"^[0-9A-Z]{1,2}[:/]", v):
        v = re.split(r"[:/]", v, 1)[1]
    return re.sub(r"\s+", "", v)


_LEGAL = re.compile(r"\b(?:inc|llc|ltd|limited|gmbh|ag|sa|sas|sarl|bv|nv|plc|corp|corporation|co|company|group|srl|spa)\b\.?")


def _name_norm(s: str) -> str:
    return " ".join(_LEGAL.sub(" ", fold(s)).replace("&", " and ").split())


# ---------------------------------------------------------------- customer


HINT_SCORE = 0.85
"""The highest score an identity the sender can type gets (below the default approval threshold):
a From address or domain not authenticated by a trusted server, an X-Intake-Sender header, an EDI
partner id inside a file that did not come through that partner's channel."""

_SENDER_ROLES = ("isa_sender", "gs_sender", "unb_sender", "BY", "OB")  # partner ids that say who sends


def partner_customer(catalog: Catalog, partner: str | None) -> str | None:
    """The customer behind an EDI partner name: one of its EDI ids, or its customer id."""
    if not partner:
        return None
    cid = catalog._by_edi.get(_edi_key(partner))
    if cid:
        return cid
    p = partner.strip().lower()
    return next((c for c in catalog.customers if c.lower() == p), None)


def match_customer(draft: OrderDraft, catalog: Catalog, *, sender: str | None = None,
                   origin: Origin | None = None, hint_score: float = HINT_SCORE) -> CustomerMatch:
    """The customer, by evidence first, then by hints and printed names (see intake/identity.py).

    - ``edi_channel`` (1.0): the partner the channel proves (its EDI folder, a partner key);
    - ``email``/``email_domain`` (0.99/0.97/0.93): a From address or domain of the customer that a
      trusted mail server authenticated;
    - hints, at most ``hint_score``: ``edi_id_claimed`` (a partner id in the file), ``email``/
      ``email_domain`` unauthenticated, ``sender_hint`` (an id typed in a header);
    - ``name`` (at most 0.95): names, aliases and addresses printed on the document.

    ``sender`` (without ``origin``) is an unauthenticated hint.
    """
    if not catalog.customers:
        return CustomerMatch(None, 0.0, "")
    origin = origin or Origin(sender=sender or draft.sender, mail=bool((sender or draft.sender or "").count("@")))
    notes: list[str] = []
    # 1. the channel proves the partner
    trusted = partner_customer(catalog, origin.trusted_partner)
    if trusted:
        for role in _SENDER_ROLES:
            v = draft.partner_ids.get(role)
            other = catalog._by_edi.get(_edi_key(str(v))) if v else None
            if other and other != trusted:
                notes.append(f"the file names EDI partner {v} ({other}) but came through the channel of partner "
                             f"{origin.trusted_partner} ({trusted})")
                break
        return CustomerMatch(trusted, 1.0, "edi_channel", notes)
    if origin.trusted_partner:
        notes.append(f"partner {origin.trusted_partner!r} of this channel is not in the master data (name the folder or "
                     "key after one of the customer's EDI ids or its customer id)")
    cands: list[CustomerMatch] = []
    # 2. a mail sender (authenticated: evidence; otherwise a hint)
    addr = origin.sender if origin.sender and "@" in origin.sender else None
    if addr:
        a = addr.strip().strip("<>").lower()
        m = re.search(r"[\w.+\-]+@([\w\-]+(?:\.[\w\-]+)+)", a)
        if m:
            email, domain = m.group(0), m.group(1)
            verified = origin.sender_verified
            if email in catalog._by_email:
                cands.append(CustomerMatch(catalog._by_email[email], 0.99 if verified else hint_score, "email"))
            else:
                parts = domain.split(".")
                for i in range(len(parts) - 1):  # sub.domain.com -> domain.com
                    owners = catalog._by_domain.get(".".join(parts[i:]))
                    if owners:
                        if len(set(owners)) == 1:
                            score = (0.97 if i == 0 else 0.93) if verified else hint_score
                            cands.append(CustomerMatch(owners[0], score, "email_domain"))
                        break  # shared domain: fall through to names
    # 3. EDI partner ids claimed by the file, or typed in a header: hints
    for v in draft.partner_ids.values():
        cid = catalog._by_edi.get(_edi_key(str(v)))
        if cid:
            cands.append(CustomerMatch(cid, hint_score, "edi_id_claimed"))
            break
    for s in (origin.sender, sender):
        if s and "@" not in s:
            cid = catalog._by_edi.get(_edi_key(str(s)))
            if cid:
                cands.append(CustomerMatch(cid, hint_score, "sender_hint"))
                break
    # 4. printed names, aliases and addresses
    named = _match_by_name(draft, catalog)
    if named is not None:
        cands.append(named)
    if not cands:
        return CustomerMatch(None, 0.0, "", notes)
    best = max(cands, key=lambda c: c.score)  # the first of equals: evidence, then claims, then names
    best.notes = notes
    return best


def _match_by_name(draft: OrderDraft, catalog: Catalog) -> CustomerMatch | None:
    texts = [f.value for f in (draft.buyer, draft.bill_to, draft.ship_to) if f.present and isinstance(f.value, str)]
    # a party is named by its name; its whole block (raw, row by row) may name the company too
    texts += [f.raw.replace("\n", ", ") for f in (draft.buyer, draft.bill_to) if f.present and f.raw
              and "\n" in f.raw]
    best: tuple[float, str | None, float] = (0.0, None, 0.0)
    for t in texts:
        res = process.extract(_name_norm(t), catalog._names, scorer=fuzz.token_set_ratio, limit=10)
        per: dict[str, float] = {}
        for _v, s, i in res:
            cid = catalog._name_owner[i]
            per[cid] = max(per.get(cid, 0.0), float(s) / 100.0)
        ranked = sorted(per.items(), key=lambda kv: -kv[1])
        if ranked and ranked[0][1] > best[0]:
            second = ranked[1][1] if len(ranked) > 1 else 0.0
            best = (ranked[0][1], ranked[0][0], second)
    s1, cid, s2 = best
    if cid is None or s1 < 0.6:
        return None
    # a name matched by wording is less sure than an id; a close runner-up lowers it further
    score = s1 * 0.95 * min(1.0, 0.5 + (s1 - s2) / 0.2)
    return CustomerMatch(cid, round(score, 4), "name")


def _ship_to_fits(text: str, st: ShipTo) -> bool:
    """A printed ship-to is this address: its street number is printed, no other postal code is,
    and most of its words are there. A name alone, or the company at another address, is not."""
    known = _name_norm(st.address or st.name or "").replace(",", " ").split()
    printed = _name_norm(text).replace(",", " ").split()
    if not known:
        return False
    nums = [t for t in known if t.isdigit()]
    if nums and nums[0] not in printed:
        return False  # another house number (or none)
    if any(t.isdigit() and len(t) >= 4 and t not in known for t in printed):
        return False  # another postal code
    def has(word: str) -> bool:  # "dr" and "drive" are one word
        return any(p == word or (len(min(p, word, key=len)) >= 2 and (p.startswith(word) or word.startswith(p)))
                   for p in printed)
    return sum(1 for t in known if has(t)) / len(known) >= 0.6


def _match_ship_to(draft: OrderDraft, catalog: Catalog, customer_id: str | None) -> tuple[str | None, bool]:
    """(the customer's ship-to code, whether the order names a ship-to that is none of them)."""
    if not customer_id:
        return None, False
    sts = catalog.ship_tos.get(customer_id, [])
    if not sts:
        return None, False
    text = draft.ship_to.value if draft.ship_to.present and isinstance(draft.ship_to.value, str) else ""
    ids = [v for k, v in draft.partner_ids.items() if k.upper() in ("ST", "DP", "SHIP_TO")]
    for s in sts:
        if any(normalize_key(i) == normalize_key(s.code) for i in ids):
            return s.code, False
    if text:
        for s in sts:
            if re.search(rf"(?<![0-9A-Za-z]){re.escape(s.code)}(?![0-9A-Za-z])", text, re.I):
                return s.code, False
        fits = [s for s in sts if _ship_to_fits(text, s)]
        if fits:
            if len(fits) == 1:
                return fits[0].code, False
            choices = [_name_norm(f"{s.name or ''} {s.address or ''}") for s in fits]
            res = process.extractOne(_name_norm(text), choices, scorer=fuzz.token_set_ratio)
            return fits[res[2]].code if res else fits[0].code, False
    if text or ids:
        return None, True  # it names a place to ship to, and that place is none of the customer's
    if len(sts) == 1:
        return sts[0].code, False
    return None, False


# ---------------------------------------------------------------- lines


AMBIGUOUS_GAP = 0.06
"""A description match whose runner-up is closer than this is reported with via="ambiguous"."""


def line_confidence(best: float, second: float) -> float:
    """Confidence of a description match from the best and second-best product scores.

    The margin counts as much as the similarity: siblings that the wording does not separate
    (margin near 0) stay below any sane auto-approve threshold even when both read well.
    """
    margin = max(0.0, best - second)
    return round(max(0.0, min(1.0, best * min(1.0, 0.55 + margin / 0.12 * 0.45))), 4)


def _text_of(ln: LineDraft) -> str:
    v = ln.description.value
    return str(v) if v is not None else ""


def match_line(
    catalog: Catalog,
    *,
    customer_id: str | None,
    code: str | None,
    description: str | None,
    product_ids: Mapping[str, str] | None = None,
    limit: int = 5,
    history: CustomerHistory | None = None,
) -> LineMatch:
    """Match one line by code and/or wording (see the module docstring for the order of trust).

    ``history`` is what the customer ordered before (read from the catalog when not given);
    it only breaks ties between close description candidates (see ``_prefer_history``).
    """
    codes = [c for c in [code, *(product_ids or {}).values()] if c and str(c).strip()]
    desc = (description or "").strip()
    cid = customer_id or ""
    # 1. the customer's cross-reference, then what a CSR confirmed before
    for c in codes:
        k = normalize_key(str(c))
        sku = catalog.xrefs.get((cid, k))
        if sku and sku in catalog.products:
            return _exact(catalog, sku, 1.0, "cross_ref")
    for text in [*codes, desc]:
        if not text:
            continue
        k = normalize_key(str(text))
        sku = catalog.learned.get((cid, k))
        if sku and sku in catalog.products:
            return _exact(catalog, sku, 1.0, "learned")
    # 2. our SKU as printed, 3. normalised
    for c in codes:
        c = str(c).strip()
        if c in catalog.products:
            return _check_code(catalog, c, desc, 0.99, "sku")
    for c in codes:
        skus = catalog._norm_sku.get(normalize_key(str(c)), [])
        if len(skus) == 1:
            return _check_code(catalog, skus[0], desc, 0.97, "normalized_sku")
    # a code printed in the code column that is one of our manufacturer part numbers
    for c in codes:
        skus = sorted(catalog._codes.get(normalize_key(str(c)), ()))
        if len(skus) == 1:
            return _check_code(catalog, skus[0], desc, 0.95, "code")
    if not desc:
        return LineMatch(None, 0.0, "", [])
    # 4. a SKU or part number inside the description, 5. the description itself
    cands = catalog.search(desc, limit=max(limit, 5))
    hits = catalog.codes_in_text(desc)
    hit_skus = list(dict.fromkeys(s for _w, s in hits))
    if len(hit_skus) == 1:
        sku = hit_skus[0]
        desc_score = next((c.score for c in cands if c.sku == sku), 0.0)
        rest = [t for t in tokenize(desc) if normalize_key(t) not in {normalize_key(w) for w, _ in hits}]
        # the words around the code must agree with the product, or be (almost) absent
        if desc_score >= 0.5 or len(rest) <= 1:
            score, via = 0.97, "code_in_text"
        else:
            score, via = 0.8, "code_in_text"
        top = [MatchCandidate(sku=sku, score=score, description=catalog.products[sku].description, via=via)]
        top += [c for c in cands if c.sku != sku][: limit - 1]
        return LineMatch(sku, score, via, top)
    if not cands:
        return LineMatch(None, 0.0, "", [])
    s1 = cands[0].score
    s2 = cands[1].score if len(cands) > 1 else 0.0
    conf = line_confidence(s1, s2)
    # every candidate on the same, margin-aware scale: the runner-ups measured against the best
    top = [cands[0].model_copy(update={"score": conf})] + [
        c.model_copy(update={"score": line_confidence(c.score, s1)}) for c in cands[1:limit]]
    ambiguous = s1 - s2 < AMBIGUOUS_GAP
    if cid and (ambiguous or conf < HISTORY_WEAK):
        hm = _prefer_history(catalog, cid, desc, cands, conf, limit, history)
        if hm is not None:
            return hm
    if s1 < 0.45:
        return LineMatch(None, conf, "description", top)
    # siblings the wording does not separate: keep the best guess, but say so
    via = "ambiguous" if ambiguous else "description"
    return LineMatch(cands[0].sku, conf, via, top)


HISTORY_WINDOW = 0.12
"""Description candidates within this much (raw similarity) of the best are close enough for
the customer's order history to choose between them."""

HISTORY_WEAK = 0.8
"""Below this line confidence a description match counts as weak: history may pick another
close candidate even when the wording did not tie."""

HISTORY_MIN = 0.35
"""A candidate reading worse than this is never picked because of history."""


def _prefer_history(catalog: Catalog, customer_id: str, text: str, cands: list[MatchCandidate], conf: float,
                    limit: int, history: CustomerHistory | None) -> LineMatch | None:
    """The one close candidate this customer ordered before, as the top candidate (via
    ``history``), the others kept as runners-up; None when none or several of them are known.

    The score stays the line's confidence from the wording: history pre-selects, a person still
    confirms (a wrong SKU approved automatically is the worst outcome).
    """
    hist = history if history is not None else catalog.customer_history(customer_id)
    if hist.empty:
        return None
    s1 = cands[0].score
    # a sibling the wording does not separate explains every word of the line the best one does:
    # one that misses a word (A3 for A4, window for "no window") is not a sibling of it
    best_covers = catalog.covered(text, cands[0].sku)
    close = [c for c in cands if c.score >= s1 - HISTORY_WINDOW and c.score >= HISTORY_MIN
             and catalog.covered(text, c.sku) >= best_covers]
    known = [c for c in close if hist.ordered(c.sku)]
    if len(known) != 1:
        return None
    pick = known[0]
    top = [pick.model_copy(update={"score": conf, "via": "history"})]
    top += [c.model_copy(update={"score": line_confidence(c.score, s1)}) for c in cands if c.sku != pick.sku]
    return LineMatch(pick.sku, conf, "history", top[:limit])


def _exact(catalog: Catalog, sku: str, score: float, via: str) -> LineMatch:
    p = catalog.products[sku]
    return LineMatch(sku, score, via, [MatchCandidate(sku=sku, score=score, description=p.description, via=via)])


def _check_code(catalog: Catalog, sku: str, desc: str, score: float, via: str) -> LineMatch:
    """A printed code wins, unless the description plainly names something else (a typo in
    the code): then the line goes to review with both candidates."""
    if desc and len(tokenize(desc)) >= 3:
        cands = catalog.search(desc, limit=5)
        own = next((c.score for c in cands if c.sku == sku), None)
        if own is None:
            own_c = _score_against(catalog, desc, sku)
            own = own_c
        if own < 0.35 and cands and cands[0].score >= 0.8:
            lowered = 0.7
            top = [MatchCandidate(sku=sku, score=lowered, description=catalog.products[sku].description, via=via)]
            top += [c for c in cands if c.sku != sku][:4]
            return LineMatch(sku, lowered, via, top)
    return _exact(catalog, sku, score, via)


def _score_against(catalog: Catalog, text: str, sku: str) -> float:
    p = catalog.products[sku]
    a = set(tokenize(text))
    best = 0.0
    for d in [p.description, *p.aliases]:
        b = set(tokenize(d))
        if a:
            best = max(best, len(a & b) / len(a))
    return best


_num = as_number


def match_order(draft: OrderDraft, catalog: Catalog, *, sender: str | None = None,
                origin: Origin | None = None, hint_score: float = HINT_SCORE) -> MatchedOrder:
    """Match the customer, ship-to and every line of ``draft`` against ``catalog``.

    ``origin`` says where the order came from and what proves its sender (see
    ``match_customer``); ``sender`` alone is a hint. With no master data (``catalog.empty``)
    matching is skipped: lines keep the printed SKU, the customer stays None and
    ``masters_loaded`` is False.
    """
    if catalog.empty:
        lines = []
        for ln in draft.lines:
            printed = ln.sku.value
            lines.append(MatchedLine(
                draft=ln, sku=str(printed) if printed not in (None, "") else None, score=0.0, via="",
                quantity=_num(ln.quantity.value), uom=normalize_uom(ln.uom.value) or (ln.uom.value or None),
                unit_price=_num(ln.unit_price.value),
            ))
        return MatchedOrder(draft=draft, lines=lines, masters_loaded=False, origin=origin)
    cm = match_customer(draft, catalog, sender=sender, origin=origin, hint_score=hint_score)
    history = catalog.customer_history(cm.customer_id) if cm.customer_id else None
    out_lines = []
    for ln in draft.lines:
        lm = match_line(catalog, customer_id=cm.customer_id, code=_str(ln.sku.value), description=_text_of(ln),
                        product_ids=ln.product_ids, history=history)
        out_lines.append(_convert(catalog, ln, lm))
    ship_to, ship_to_unknown = _match_ship_to(draft, catalog, cm.customer_id)
    return MatchedOrder(
        draft=draft, customer_id=cm.customer_id, customer_score=cm.score, customer_via=cm.via,
        ship_to_code=ship_to, ship_to_unknown=ship_to_unknown, lines=out_lines, masters_loaded=True,
        origin=origin or Origin(sender=sender or draft.sender, mail=bool((sender or draft.sender or "").count("@"))),
        identity_notes=cm.notes,
    )


def _str(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def _convert(catalog: Catalog, ln: LineDraft, lm: LineMatch) -> MatchedLine:
    """Quantity and unit price in the product's own unit (2 BX of BX=50 -> 100 EA)."""
    qty, price = _num(ln.quantity.value), _num(ln.unit_price.value)
    p = catalog.product(lm.sku)
    printed_uom = _str(ln.uom.value)
    if p is None:
        return MatchedLine(draft=ln, sku=lm.sku, score=lm.score, via=lm.via, candidates=lm.candidates,
                           quantity=qty, uom=normalize_uom(printed_uom) or printed_uom, unit_price=price)
    try:
        factor = conversion_factor(printed_uom, p.uom, p.alt_uoms, p.pack_size)
    except UnitError:
        # validation reports uom_unknown; keep the printed figures
        return MatchedLine(draft=ln, sku=lm.sku, score=lm.score, via=lm.via, candidates=lm.candidates,
                           quantity=qty, uom=printed_uom, unit_price=price, list_price=p.unit_price)
    return MatchedLine(
        draft=ln, sku=lm.sku, score=lm.score, via=lm.via, candidates=lm.candidates,
        quantity=None if qty is None else round(qty * factor, 6), uom=p.uom,
        unit_price=None if price is None else round(price / factor, 6), list_price=p.unit_price,
    )


# ---------------------------------------------------------------- learning and caching


def learn_xref(session: Session, customer_id: str | None, customer_sku_or_text: str, sku: str) -> LearnedXrefRow:
    """Record that ``customer_sku_or_text`` means ``sku`` for this customer (a CSR confirmed
    it), so the same code or wording matches exactly next time. Never commits."""
    cid = customer_id or ""
    key = normalize_key(customer_sku_or_text)
    if not key:
        from intake.masters import MasterDataError

        raise MasterDataError("cannot learn an empty item code or wording")
    if session.get(ProductRow, sku) is None:
        from intake.masters import MasterDataError

        raise MasterDataError(f"unknown product '{sku}'", column="sku")
    row = session.scalars(select(LearnedXrefRow).where(LearnedXrefRow.customer_id == cid, LearnedXrefRow.key == key)).first()
    now = datetime.now(timezone.utc)
    if row is None:
        row = LearnedXrefRow(customer_id=cid, key=key, text=customer_sku_or_text, sku=sku, confirmations=1,
                             created_at=now, updated_at=now)
        session.add(row)
    else:
        row.confirmations = (row.confirmations or 0) + 1 if row.sku == sku else 1
        row.sku, row.text, row.updated_at = sku, customer_sku_or_text, now
    session.flush()
    return row


class CatalogCache:
    """Keeps one ``Catalog`` and rebuilds it when the master data changed.

    The fingerprint (row counts, latest update times) costs a few cheap queries; building the
    index of 100,000 products takes seconds, so it is done only when something changed.
    """

    def __init__(self) -> None:
        self._fingerprint: tuple[Any, ...] | None = None
        self._catalog: Catalog | None = None

    @staticmethod
    def fingerprint(session: Session) -> tuple[Any, ...]:
        parts: list[Any] = []
        for model, ts in ((ProductRow, ProductRow.updated_at), (CustomerRow, CustomerRow.updated_at),
                          (LearnedXrefRow, LearnedXrefRow.updated_at)):
            parts.extend(session.execute(select(func.count(), func.max(ts)).select_from(model)).one())
        for model in (ShipToRow, CustomerItemRow, PriceRow, OrderHistoryRow):
            parts.append(session.scalar(select(func.count()).select_from(model)))
        parts.append(session.scalar(select(func.max(PriceRow.id))))
        parts.append(session.scalar(select(func.max(OrderHistoryRow.id))))
        return tuple(parts)

    def get(self, session: Session) -> Catalog:
        """The catalog, rebuilt only when the master data changed since the last call."""
        fp = self.fingerprint(session)
        if self._catalog is None or fp != self._fingerprint:
            self._catalog = Catalog.load(session)
            self._fingerprint = fp
        return self._catalog

    def invalidate(self) -> None:
        self._catalog, self._fingerprint = None, None

