"""Check that the values of a realdocs truth file appear among a document's words.

Shared by the realdocs test and bench/readers.py. Numbers are compared as numbers, read in
either locale (1,234.50 or 1.234,50), and must be one word (or part of one split at
punctuation). Text values are split at punctuation and spaces into alphanumeric pieces that
must appear as consecutive pieces of the words: a doubled glyph ("PPOO") or a missing space
("Qty10") fails, a value printed as "SKU:1628327" or over two words passes.
"""

from __future__ import annotations

import re
from typing import Any

from intake.core.domain import Document

_NUM_TOKEN = re.compile(r"[-+]?\d[\d.,'\u00a0 ]*\d|\d")


def _norm_text(s: str) -> str:
    return re.sub(r"[\W_]+", "", s.casefold())


def number_readings(token: str) -> set[float]:
    """Every number a printed token can mean, in either locale convention."""
    out: set[float] = set()
    for m in _NUM_TOKEN.finditer(token):
        raw = m.group().replace("\u00a0", "").replace(" ", "").replace("'", "")
        cands = {raw.replace(",", ""), raw.replace(".", "").replace(",", ".")}
        if raw.count(",") == 1 and "." not in raw:
            cands.add(raw.replace(",", "."))
        for c in cands:
            try:
                out.add(round(float(c), 6))
            except ValueError:
                pass
    return out


def _pieces(s: str) -> list[str]:
    return [p for p in re.split(r"[\W_]+", s.casefold()) if p]


def _contains(stream: list[str], seq: list[str]) -> bool:
    n = len(seq)
    first = seq[0]
    return any(stream[i] == first and stream[i : i + n] == seq for i in range(len(stream) - n + 1))


def missing_values(doc: Document, truth: dict[str, Any]) -> list[str]:
    """The truth values (PO number, each line's sku/quantity/unit_price) not found in ``doc``."""
    words = [w.text for w in doc.words]
    stream = [p for w in words for p in _pieces(w)]
    numbers: set[float] = set()
    for w in words:
        numbers |= number_readings(w)
    # a space as thousands separator ("11 317") prints one number as two words
    for a, b in zip(words, words[1:]):
        if re.fullmatch(r"-?\d{1,3}", a) and re.fullmatch(r"\d{3}([.,]\d+)?", b):
            numbers |= number_readings(a + b)
    missing: list[str] = []

    def has_text(v: Any) -> bool:
        seq = _pieces(str(v))
        return not seq or _contains(stream, seq)

    def has_number(v: Any) -> bool:
        try:
            f = round(float(v), 6)
        except (TypeError, ValueError):
            return has_text(v)
        return f in numbers or has_text(v)

    if truth.get("po_number"):
        if not has_text(truth["po_number"]):
            missing.append(f"po_number={truth['po_number']!r}")
    for ln in truth.get("lines", []):
        no = ln.get("line_no")
        if ln.get("sku") and not has_text(ln["sku"]):
            missing.append(f"line {no} sku={ln['sku']!r}")
        if ln.get("quantity") is not None and not has_number(ln["quantity"]):
            missing.append(f"line {no} quantity={ln['quantity']!r}")
        if ln.get("unit_price") is not None and not has_number(ln["unit_price"]):
            missing.append(f"line {no} unit_price={ln['unit_price']!r}")
    return missing
