"""Small value helpers the checks share: numbers of fields, closeness, folded text, legal forms."""

from __future__ import annotations

import re
import unicodedata

from extractors.lexicon import LEXICON
from intake.core.domain import Field

__all__ = ["num", "close", "fold_text", "same_text", "LEGAL_FORM", "MONEY_SHAPE", "DATE_SHAPE", "CODE_PART",
           "MEASURE"]

# A company's legal form ("Ltd", "GmbH", "S.A.", "sp. z o.o.") or a word companies name themselves by
# ("Group", "Industries"): a row with one names a company.
LEGAL_FORM = LEXICON.regex("legal_forms", suffix=r"\.?")
MONEY_SHAPE = re.compile(r"^\d{1,3}(?:[,.\s]\d{3})*[.,]\d{2}$|^\d+[.,]\d{2}$")
DATE_SHAPE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-](\d{2}|\d{4})$")
CODE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./_-]*$")
MEASURE = re.compile(
    r"(?i)^\d+(?:[.,]\d+)?(?:(?:x\d+(?:[.,]\d+)?)+[a-z%\"]{0,4}|[a-z%\"]{1,4}),?$")  # 80gsm, 5x5, 50mm


def num(f: Field) -> float | None:
    """A field's numeric value (None when absent or not a number)."""
    return float(f.value) if isinstance(f.value, (int, float)) and not isinstance(f.value, bool) else None


def close(a: float, b: float) -> bool:
    return abs(a - b) <= max(0.011, 0.0015 * abs(b))


def fold_text(t: str) -> str:
    t = unicodedata.normalize("NFKD", t.casefold())
    return " ".join("".join(c for c in t if not unicodedata.combining(c)).split())


def same_text(a: object, b: object) -> bool:
    return fold_text(str(a)) == fold_text(str(b))
