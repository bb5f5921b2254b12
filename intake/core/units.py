"""Units of measure: codes, synonyms in English/French/German, and conversion to a product's base unit.

Codes follow the short forms common on purchase orders and in X12/EDIFACT (EA, BX, CA, PK, DZ,
KG, M, L, RL, RM, ...). ``normalize_uom`` maps what customers print (``pcs``, ``Stück``,
``boîte``, ``carton``, ``dozen``) to one code; ``conversion_factor`` says how many base units of a
product one ordered unit holds, from the product's ``alt_uoms`` (``BX=50;CA=500``) and
``pack_size``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from intake.core.errors import IntakeError

__all__ = [
    "as_number",
    "UOM_CODES",
    "UOM_SYNONYMS",
    "UnitError",
    "fold",
    "normalize_uom",
    "parse_alt_uoms",
    "format_alt_uoms",
    "conversion_factor",
]


class UnitError(IntakeError):
    """A unit of measure is unknown or cannot be converted to the product's unit."""

    code = "uom_error"


UOM_CODES: dict[str, str] = {
    "EA": "each", "BX": "box", "CA": "case", "PK": "pack", "DZ": "dozen", "KG": "kilogram",
    "G": "gram", "M": "metre", "MM": "millimetre", "CM": "centimetre", "L": "litre",
    "ML": "millilitre", "RL": "roll", "RM": "ream", "PR": "pair", "ST": "set", "BG": "bag",
    "CT": "carton", "PL": "pallet", "SH": "sheet", "TB": "tube", "BT": "bottle", "CN": "can",
    "HR": "hour", "LB": "pound", "FT": "foot", "GR": "gross",
}
"""Every unit code the service knows, with its English name."""

# Synonyms as printed (already accent-folded and lower-cased) -> code. Plurals are handled by
# stripping a trailing "s" in ``normalize_uom``; only irregular forms are listed.
UOM_SYNONYMS: dict[str, str] = {
    # each / piece
    "ea": "EA", "each": "EA", "pc": "EA", "pcs": "EA", "pce": "EA", "pces": "EA", "piece": "EA",
    "pieces": "EA", "stk": "EA", "stuck": "EA", "stueck": "EA", "unit": "EA", "units": "EA",
    "u": "EA", "un": "EA", "unite": "EA", "unites": "EA", "ex": "EA", "exemplaire": "EA",
    "nos": "EA", "no": "EA", "nr": "EA", "item": "EA", "c62": "EA", "h87": "EA", "x": "EA",
    "pz": "EA", "pieza": "EA", "stck": "EA",
    "ud": "EA", "uds": "EA", "unidad": "EA", "unidades": "EA", "piezas": "EA", "stuk": "EA", "stuks": "EA",
    "pezzo": "EA", "pezzi": "EA", "stk.": "EA", "st.": "EA",
    # box
    "bx": "BX", "box": "BX", "boxes": "BX", "boite": "BX", "bte": "BX", "btes": "BX",
    "karton": "CA", "schachtel": "BX", "caja": "BX", "cajas": "BX", "doos": "BX", "scatola": "BX",
    "scatole": "BX",
    # case / carton
    "ca": "CA", "cs": "CA", "case": "CA", "cases": "CA", "caisse": "CA", "ctn": "CT",
    "carton": "CT", "cartons": "CT", "ct": "CT",
    # pack
    "pk": "PK", "pack": "PK", "packs": "PK", "pkg": "PK", "package": "PK", "paquet": "PK",
    "pqt": "PK", "packung": "PK", "lot": "PK", "sachet": "BG", "pck": "PK", "pak": "PK", "paquete": "PK", "confezione": "PK",
    "satz": "ST", "juego": "ST", "zak": "BG", "bolsa": "BG", "rol": "RL", "rollo": "RL", "rotolo": "RL",
    "fles": "BT", "botella": "BT", "bottiglia": "BT",
    # dozen, gross
    "dz": "DZ", "doz": "DZ", "dozen": "DZ", "douzaine": "DZ", "dutzend": "DZ", "gro": "GR",
    "gross": "GR",
    # weight
    "kg": "KG", "kgs": "KG", "kilo": "KG", "kilos": "KG", "kilogram": "KG", "kilogramme": "KG",
    "kgm": "KG", "g": "G", "gr": "G", "gram": "G", "gramme": "G", "grm": "G", "lb": "LB",
    "lbs": "LB", "pound": "LB",
    # length
    "m": "M", "mtr": "M", "metre": "M", "meter": "M", "mtrs": "M", "lm": "M", "mm": "MM",
    "cm": "CM", "ft": "FT", "foot": "FT", "feet": "FT",
    # volume
    "l": "L", "lt": "L", "ltr": "L", "litre": "L", "liter": "L", "ltrs": "L", "ml": "ML",
    # containers
    "rl": "RL", "roll": "RL", "rouleau": "RL", "rouleaux": "RL", "rolle": "RL",
    "rm": "RM", "ream": "RM", "rame": "RM", "ramette": "RM", "ries": "RM",
    "pr": "PR", "pair": "PR", "paire": "PR", "paar": "PR", "set": "ST", "jeu": "ST",
    "bg": "BG", "bag": "BG", "sac": "BG", "beutel": "BG", "pl": "PL", "pallet": "PL",
    "palette": "PL", "sh": "SH", "sheet": "SH", "feuille": "SH", "blatt": "SH",
    "tb": "TB", "tube": "TB", "bt": "BT", "bottle": "BT", "bouteille": "BT", "flacon": "BT",
    "cn": "CN", "can": "CN", "bidon": "CN", "hr": "HR", "hour": "HR", "heure": "HR",
}

# Fixed factors that need no product data: (from, to) -> base units per unit.
_FIXED: dict[tuple[str, str], float] = {
    ("DZ", "EA"): 12.0, ("GR", "EA"): 144.0, ("KG", "G"): 1000.0, ("M", "MM"): 1000.0,
    ("M", "CM"): 100.0, ("CM", "MM"): 10.0, ("L", "ML"): 1000.0, ("PR", "EA"): 2.0,
}

_PACK_UNITS = frozenset({"BX", "CA", "CT", "PK", "RL", "RM", "BG", "ST"})


def fold(text: str) -> str:
    """Lower-case ``text`` and strip accents (``Stück`` -> ``stuck``, ``boîte`` -> ``boite``)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().replace("ß", "ss")


def normalize_uom(text: str | None) -> str | None:
    """The unit code for ``text`` as printed, or None when it is empty or unknown.

    Accepts codes (``EA``), names in English/French/German, plurals and a trailing dot
    (``Stck.``). A bare number or an unknown word gives None: the caller reports ``uom_unknown``.
    """
    if text is None:
        return None
    t = fold(str(text)).strip().strip(".").strip()
    if not t:
        return None
    if t.upper() in UOM_CODES:
        return t.upper()
    if t in UOM_SYNONYMS:
        return UOM_SYNONYMS[t]
    # "box of 100", "carton de 12": the unit is the first word.
    first = re.split(r"[\s/(\-]+", t, maxsplit=1)[0].strip(".")
    for cand in (first, first.rstrip("s"), first.rstrip("x")):
        if cand.upper() in UOM_CODES and len(cand) > 1:
            return cand.upper()
        if cand in UOM_SYNONYMS:
            return UOM_SYNONYMS[cand]
    return None


def parse_alt_uoms(text: str | Mapping[str, object] | None) -> dict[str, float]:
    """Parse ``BX=50;CA=500`` (or a mapping) into ``{"BX": 50.0, "CA": 500.0}``.

    Raises ``ValueError`` with a short reason on a malformed entry, a unit that is not known or a
    factor that is not a positive number; the importer turns it into a ``MasterDataError``.
    """
    if text is None:
        return {}
    items: list[tuple[str, object]]
    if isinstance(text, Mapping):
        items = [(str(k), v) for k, v in text.items()]
    else:
        items = []
        for part in str(text).split(";"):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise ValueError(f"'{part}' is not UNIT=FACTOR")
            k, v = part.split("=", 1)
            items.append((k, v))
    out: dict[str, float] = {}
    for k, v in items:
        code = normalize_uom(k)
        if code is None:
            raise ValueError(f"unknown unit '{k.strip()}'")
        try:
            factor = float(str(v).strip().replace(",", "."))
        except ValueError:
            raise ValueError(f"factor '{v}' of {code} is not a number") from None
        if not factor > 0:
            raise ValueError(f"factor of {code} must be positive")
        out[code] = factor
    return out


def format_alt_uoms(alt: Mapping[str, float]) -> str:
    """The inverse of ``parse_alt_uoms``: ``{"BX": 50} -> "BX=50"``."""
    return ";".join(f"{k}={v:g}" for k, v in alt.items())


def conversion_factor(
    uom: str | None,
    base_uom: str,
    alt_uoms: Mapping[str, float] | None = None,
    pack_size: float | None = None,
) -> float:
    """Base units of the product in one ``uom`` (``2 BX`` with ``BX=50`` -> factor 50).

    ``uom`` None means the product's own unit. ``pack_size`` is the number of pieces in one unit
    of a product sold by the pack/box (base BX, pack_size 100): ordering in EA then converts to
    boxes (factor 1/100); for a product sold by the piece it is the pieces per pack/box when
    ``alt_uoms`` does not say. Raises ``UnitError`` when the unit is unknown or no conversion
    exists.
    """
    base = normalize_uom(base_uom) or base_uom.upper()
    if uom is None or uom == "":
        return 1.0
    code = normalize_uom(uom)
    if code is None:
        raise UnitError(f"unknown unit of measure '{uom}'")
    if code == base:
        return 1.0
    alt = dict(alt_uoms or {})
    if code in alt:
        return alt[code]
    if (code, base) in _FIXED:
        return _FIXED[(code, base)]
    if (base, code) in _FIXED:
        return 1.0 / _FIXED[(base, code)]
    if pack_size and pack_size > 0:
        if code == "EA" and base in _PACK_UNITS:
            return 1.0 / pack_size
        if base == "EA" and code in _PACK_UNITS:
            return float(pack_size)
        if code == "DZ" and base in _PACK_UNITS:
            return 12.0 / pack_size
    # An ordered unit that is itself one of the product's alternative units' synonyms, e.g. a
    # product sold by CA ordered in CT (carton): treat carton and case as the same container.
    if {code, base} == {"CA", "CT"}:
        return 1.0
    if code in ("CA", "CT"):
        other = "CT" if code == "CA" else "CA"
        if other in alt:
            return alt[other]
    raise UnitError(f"cannot convert {code} to the product unit {base}")


def as_number(v: Any) -> float | None:
    """A stored value as a float (``"12,5"`` reads as 12.5); None when it is not a number."""
    if v is None or v == "" or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(str(v).replace(",", ".").strip())
    except ValueError:
        return None
