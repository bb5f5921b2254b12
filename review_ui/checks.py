"""What a careful CSR would question in an order the pipeline let through to review.

Validation (``intake.service.validation``) lists what is wrong against the master data; these checks
look at the values themselves, the way a person reads them before approving:

- ``low_read``: a header value read below the confidence threshold that validation does not
  already flag (payment terms, buyer, supplier, bill-to, requested date);
- ``implausible_terms``: payment terms with no word of payment terms in them ("558", a company
  name), or more days than a year (the words live in ``vocabulary.json``);
- ``date_order``: the order date after the requested date (a day/month swap, often);
- ``date_ambiguous``: a date printed with day and month both up to 12 ("11/09/2026"), shown with
  its other reading when the document does not settle which comes first;
- ``implausible_date``: a year far from today (a misread, or "0002" typed half-way).

A value a person confirmed (confidence 1.0) is not questioned again. Each check names the key of
the value it is about and the edits that would settle it (``fixes``: edit operations).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from intake.core.domain import Field, MatchedOrder
from intake.core.settings import Decision
from intake.core.units import fold

__all__ = ["DateView", "date_view", "value_checks", "plausible_terms", "parse_date", "long_date", "LOW_READ_FIELDS", "YEARS_AROUND"]

HERE = Path(__file__).resolve().parent
# header values that validation's low_confidence does not cover (it checks po_number,
# order_date, currency, total, ship_to and the lines)
LOW_READ_FIELDS = ("payment_terms", "buyer", "supplier", "bill_to", "requested_date")
YEARS_AROUND = 5  # a year further than this from today is questioned
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})\s*[./\-]\s*(\d{1,2})\s*[./\-]\s*(\d{2}|\d{4})\s*\.?\s*$")
LABELS = {"order_date": "order date", "requested_date": "requested date", "payment_terms": "payment terms",
          "buyer": "buyer", "supplier": "supplier", "bill_to": "bill-to", "ship_to": "ship-to"}


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, Any]:
    return json.loads((HERE / "vocabulary.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def plausible_terms(text: str) -> tuple[bool, str]:
    """Whether ``text`` reads like payment terms; the reason when it does not."""
    voc = _vocabulary()["payment_terms"]
    t = fold(text).strip()
    if not t:
        return True, ""
    if any(re.search(p, t) for p in voc["patterns"]):
        return True, ""
    words = set(re.findall(r"[\w./]+", t))
    known = {fold(w) for w in voc["words"]}
    numbers = [int(n) for n in re.findall(r"(?<![\d.,%])\d{1,6}(?![\d.,]*%)", t)]
    if not words & known:
        return False, "has no word of payment terms in it" if not numbers or any(c.isalpha() for c in t) \
            else "is only a number"
    if any(n > voc["max_days"] for n in numbers):
        return False, f"names more than {voc['max_days']} days"
    return True, ""


@dataclass
class DateView:
    iso: str  # the value, YYYY-MM-DD ("" when none)
    long: str  # "Mon 9 Nov 2026": no day/month order to misread
    printed: str  # the text as printed, when it differs from the ISO form
    alt: str  # the other reading of an ambiguous numeric date ("" when none)
    settled: bool  # the document shows which comes first (its locale), or a person confirmed it

    def to_json(self) -> dict[str, Any]:
        return {"iso": self.iso, "long": self.long, "printed": self.printed, "alt": self.alt, "settled": self.settled}


def parse_date(v: Any) -> date | None:
    """An ISO date value (a date or YYYY-MM-DD), else None."""
    if isinstance(v, date):
        return v
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip()):
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            return None
    return None


def long_date(d: date) -> str:
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b %Y')}"


def date_view(f: Field, dayfirst: bool | None) -> DateView:
    """How a date field is shown: ISO, spelt out, as printed, and its other reading."""
    d = parse_date(f.value)
    raw = (f.raw or "").strip()
    if d is None:
        return DateView(iso="" if f.value in (None, "") else str(f.value), long="", printed=raw, alt="", settled=True)
    iso = d.isoformat()
    printed = raw if raw and raw != iso else ""
    alt = ""
    m = _NUMERIC_DATE.match(raw) if printed else None
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if a != b and a <= 12 and b <= 12 and {a, b} == {d.day, d.month}:
            try:
                alt = d.replace(month=d.day, day=d.month).isoformat()
            except ValueError:
                alt = ""
    settled = not alt or dayfirst is not None or f.confidence >= 1.0
    return DateView(iso=iso, long=long_date(d), printed=printed, alt=alt, settled=settled)


def _check(code: str, key: str, message: str, fixes: list[dict[str, Any]] | None = None,
           line: int | None = None) -> dict[str, Any]:
    return {"code": code, "key": key, "message": message, "severity": "check", "line": line, "fixes": fixes or []}


def _confirm(field: str, value: Any, label: str = "it is right") -> dict[str, Any]:
    return {"label": label, "ops": [{"op": "set", "field": field, "value": value}]}


def value_checks(m: MatchedOrder, problems: list[dict[str, Any]], settings: Decision, *, today: date) -> list[dict[str, Any]]:
    """The checks of one order (see the module docstring), in the order of the page."""
    d = m.draft
    dayfirst = (d.meta.get("locale") or {}).get("dayfirst") if isinstance(d.meta.get("locale"), dict) else None
    flagged = {p.get("field") for p in problems if p.get("code") == "low_confidence" and p.get("line") is None}
    out: list[dict[str, Any]] = []

    terms = d.payment_terms
    odd_terms = terms.present and terms.confidence < 1.0 and not plausible_terms(str(terms.value))[0]
    for name in LOW_READ_FIELDS:
        f: Field = getattr(d, name)
        if name == "payment_terms" and odd_terms:
            continue  # said once, below, with the reason
        if f.present and f.confidence < settings.min_field_confidence and name not in flagged:
            shown = str(f.value).replace("\n", ", ")
            out.append(_check("low_read", f"h.{name}",
                              f"{LABELS[name].capitalize()} \u201c{shown[:60]}\u201d was read with {f.confidence:.0%} "
                              f"confidence: compare it with the document",
                              [_confirm(name, f.value), {"label": "clear it", "ops": [{"op": "set", "field": name, "value": ""}]}]))

    if odd_terms:
        why = plausible_terms(str(terms.value))[1]
        out.append(_check("implausible_terms", "h.payment_terms",
                          f"Payment terms \u201c{str(terms.value)[:60]}\u201d (read with {terms.confidence:.0%} "
                          f"confidence) {why}: probably not payment terms",
                          [{"label": "clear it", "ops": [{"op": "set", "field": "payment_terms", "value": ""}]},
                           _confirm("payment_terms", terms.value, "keep it")]))

    od, rd = parse_date(d.order_date.value), parse_date(d.requested_date.value)
    views = {n: date_view(getattr(d, n), dayfirst) for n in ("order_date", "requested_date")}
    for n, dv in views.items():
        f = getattr(d, n)
        dd = parse_date(f.value)
        if dd is not None and f.confidence < 1.0 and abs(dd.year - today.year) > YEARS_AROUND:
            out.append(_check("implausible_date", f"h.{n}",
                              f"The {LABELS[n]} {dd.isoformat()} is more than {YEARS_AROUND} years from today"))
    if od is not None and rd is not None and od > rd:
        fixes = []
        for n, dv in views.items():
            if dv.alt:
                alt = parse_date(dv.alt)
                other = rd if n == "order_date" else od
                if alt is not None and (alt <= other if n == "order_date" else alt >= other):
                    fixes.append({"label": f"{LABELS[n]} is {dv.alt} (day and month swapped)",
                                  "ops": [{"op": "set", "field": n, "value": dv.alt}]})
        out.append(_check("date_order", "h.order_date",
                          f"The order date {od.isoformat()} is after the requested date {rd.isoformat()}"
                          + (": day and month may be swapped" if fixes else ""), fixes))
    for n, dv in views.items():
        if dv.alt and not dv.settled and not any(c["code"] == "date_order" and c["fixes"] for c in out):
            out.append(_check("date_ambiguous", f"h.{n}",
                              f"The {LABELS[n]} is printed \u201c{dv.printed}\u201d: read as {dv.long} ({dv.iso}); "
                              f"it could also be {long_date(parse_date(dv.alt) or date.min)} ({dv.alt})",
                              [_confirm(n, dv.iso, f"it is {dv.iso}"),
                               {"label": f"it is {dv.alt}", "ops": [{"op": "set", "field": n, "value": dv.alt}]}]))
    for i, ln in enumerate(d.lines):
        lr = parse_date(ln.requested_date.value)
        if lr is not None and od is not None and lr < od:
            no = ln.line_no.value or i + 1
            out.append(_check("date_order", f"l.{i}.requested_date",
                              f"Line {no}: requested {lr.isoformat()}, before the order date {od.isoformat()}", line=i))
    return out
