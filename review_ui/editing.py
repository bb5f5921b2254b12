"""A CSR's edits of an order waiting for review, and what they change.

The CSR corrects what the *document* says (the draft: PO number, dates, quantities and units as
printed), and picks the seller's product for a line. After every edit the line is matched and
converted again, the order record is rebuilt with ``intake.service.decide.build_record``, and the
problems and confidence are recomputed with ``intake.service.decide.decide_order`` over the edited
order, so the page always shows what the pipeline would think of the order now.

An edited value is a person's: its confidence becomes 1.0. A product picked by a CSR is kept
(``via="csr"``) however the line changes afterwards.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from intake.core.domain import Field, LineDraft, MatchCandidate, MatchedLine, MatchedOrder, OrderDraft, Problem
from intake.core.errors import IntakeError
from intake.core.matching import Catalog, match_line
from intake.core.settings import Decision
from intake.core.units import UnitError, as_number, conversion_factor, normalize_uom
from intake.service.decide import build_record, decide_order

__all__ = [
    "EditError", "Change", "Evaluation", "HEADER_FIELDS", "LINE_FIELDS", "parse_value", "apply_ops", "evaluate",
    "load_matched", "line_label",
]

HEADER_FIELDS: tuple[str, ...] = OrderDraft.HEADER_FIELDS
# customer_sku is the item code as printed (the draft's sku); sku is the seller's product
LINE_FIELDS: tuple[str, ...] = ("customer_sku", "sku", "description", "quantity", "uom", "unit_price", "amount",
                                "requested_date")
NUMERIC = frozenset({"quantity", "unit_price", "amount", "total"})
DATES = frozenset({"order_date", "requested_date"})
MAX_TEXT = 1000
MAX_LINES = 2000
MIN_YEAR, MAX_YEAR = 1900, 2199
AMOUNT_TOLERANCE = 0.015  # a printed amount "adds up" within this (as validation's default, with rounding)


class EditError(IntakeError):
    """An edit that cannot be applied: unknown field or line, a value that does not parse."""

    code = "edit_error"


@dataclass
class Change:
    """One stored correction: ``field`` as ``po_number`` or ``lines[3].quantity``."""

    field: str
    old: Any
    new: Any
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evaluation:
    record: dict[str, Any]
    problems: list[Problem]
    confidence: float


_num = as_number


def parse_value(name: str, raw: Any) -> Any:
    """The typed value of field ``name`` from what the CSR typed; EditError with a clear reason."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise EditError(f"{name}: a yes/no is not a value for this field")
    text = str(raw).strip()
    if text == "":
        return None
    if name in NUMERIC:
        # accept 1,234.50 and 1234,50 (a decimal comma) alike
        t = text.replace(" ", "").replace("\u00a0", "")
        if "," in t and "." in t:
            t = t.replace(",", "") if t.rfind(".") > t.rfind(",") else t.replace(".", "").replace(",", ".")
        elif "," in t:
            t = t.replace(",", ".")
        try:
            v = float(t)
        except ValueError:
            raise EditError(f"{name}: {text!r} is not a number") from None
        if not math.isfinite(v):
            raise EditError(f"{name}: {text!r} is not a finite number")
        if name in ("quantity", "unit_price") and v < 0:
            raise EditError(f"{name}: must not be negative")
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    if name in DATES:
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
        except ValueError:
            d = None
        if d is None:
            raise EditError(f"{name}: {text!r} is not a date: type it as YYYY-MM-DD") from None
        if not MIN_YEAR <= d.year <= MAX_YEAR:
            # a year typed half-way ("0002", "0020") never becomes the order's value
            raise EditError(f"{name}: the year {m.group(1) if m else d.year} is not plausible: type the date as YYYY-MM-DD")
        return d.isoformat()
    if name == "currency":
        if len(text) != 3 or not text.isalpha():
            raise EditError(f"currency: {text!r} is not a three-letter ISO code")
        return text.upper()
    if len(text) > MAX_TEXT:
        raise EditError(f"{name}: longer than {MAX_TEXT} characters")
    return text


def load_matched(order_record: dict[str, Any] | None, matched_json: dict[str, Any] | None,
                 draft_json: dict[str, Any] | None) -> MatchedOrder:
    """The MatchedOrder of an order row (falls back to its draft when it was never matched)."""
    if matched_json:
        return MatchedOrder.model_validate(matched_json)
    if draft_json:
        d = OrderDraft.model_validate(draft_json)
        return MatchedOrder(draft=d, lines=[_plain_line(ln) for ln in d.lines])
    raise EditError("this order has nothing to edit (it was never read)")


def _plain_line(ln: LineDraft, sku: str | None = None, via: str = "") -> MatchedLine:
    printed = ln.sku.value
    uom = ln.uom.value
    return MatchedLine(draft=ln, sku=sku or (str(printed) if printed not in (None, "") else None),
                       score=1.0 if via == "csr" else 0.0, via=via, quantity=_num(ln.quantity.value),
                       uom=normalize_uom(str(uom)) if uom not in (None, "") else None,
                       unit_price=_num(ln.unit_price.value))


def _convert(catalog: Any, ln: LineDraft, sku: str | None, score: float, via: str,
             candidates: list[MatchCandidate]) -> MatchedLine:
    """Quantity and price in the product's own unit, as matching does it (2 BX of 50 -> 100 EA)."""
    qty, price = _num(ln.quantity.value), _num(ln.unit_price.value)
    printed_uom = None if ln.uom.value in (None, "") else str(ln.uom.value)
    p = catalog.product(sku) if catalog is not None else None
    if p is None:
        return MatchedLine(draft=ln, sku=sku, score=score, via=via, candidates=candidates, quantity=qty,
                           uom=normalize_uom(printed_uom) or printed_uom, unit_price=price)
    try:
        factor = conversion_factor(printed_uom, p.uom, p.alt_uoms, p.pack_size)
    except UnitError:
        return MatchedLine(draft=ln, sku=sku, score=score, via=via, candidates=candidates, quantity=qty,
                           uom=printed_uom, unit_price=price, list_price=p.unit_price)
    return MatchedLine(draft=ln, sku=sku, score=score, via=via, candidates=candidates,
                       quantity=None if qty is None else round(qty * factor, 6), uom=p.uom,
                       unit_price=None if price is None else round(price / factor, 6), list_price=p.unit_price)


def _rederive(m: MatchedOrder, i: int, catalog: Any, *, rematch: bool) -> None:
    """Match and convert line ``i`` again after its draft changed (a CSR's product pick stays)."""
    ln = m.draft.lines[i]
    while len(m.lines) <= i:
        m.lines.append(_plain_line(m.draft.lines[len(m.lines)]))
    old = m.lines[i]
    have = catalog is not None and not catalog.empty and m.masters_loaded
    if old.via == "csr" and old.sku:
        m.lines[i] = _convert(catalog if have else None, ln, old.sku, 1.0, "csr", old.candidates)
        return
    if not have:
        m.lines[i] = _plain_line(ln)
        return
    if rematch:
        desc = ln.description.value
        lm = match_line(catalog, customer_id=m.customer_id, code=None if ln.sku.value in (None, "") else str(ln.sku.value),
                        description=None if desc is None else str(desc), product_ids=ln.product_ids)
        m.lines[i] = _convert(catalog, ln, lm.sku, lm.score, lm.via, list(lm.candidates))
    else:
        m.lines[i] = _convert(catalog, ln, old.sku, old.score, old.via, old.candidates)


def line_label(m: MatchedOrder, i: int) -> str:
    ln = m.draft.lines[i]
    no = ln.line_no.value
    return f"lines[{no if no not in (None, '') else i + 1}]"


def _human(v: Any) -> Field:
    return Field(value=v, raw=None if v is None else str(v), confidence=1.0)


def _set_field(f: Field, value: Any) -> Field:
    # keep where the value was read (the page highlight), but it is now a person's value
    return Field(value=value, raw=None if value is None else str(value), confidence=1.0, source=f.source)


def _next_line_no(m: MatchedOrder) -> int:
    nos = [int(n) for n in (_num(ln.line_no.value) for ln in m.draft.lines) if n is not None]
    return (max(nos) if nos else 0) + 1


def _line_index(m: MatchedOrder, op: dict[str, Any]) -> int:
    i = op.get("line")
    if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(m.draft.lines):
        raise EditError(f"no line {i!r} on this order (it has {len(m.draft.lines)})")
    return i


def apply_ops(m: MatchedOrder, ops: list[dict[str, Any]], catalog: Any) -> list[Change]:
    """Apply the CSR's operations to ``m`` in place; returns the corrections to record.

    Operations (JSON objects):
      {"op": "set", "field": HEADER_FIELD or "customer_id", "value": ...}
      {"op": "set", "line": INDEX, "field": LINE_FIELD, "value": ...}
      {"op": "add_line"}   {"op": "delete_line", "line": INDEX}
      {"op": "split_line", "line": INDEX, "quantity": Q}  (Q goes to a new line, the rest stays)
    ``line`` is the 0-based position on the page.
    """
    if not isinstance(ops, list) or not ops:
        raise EditError("no edit given")
    if len(ops) > 200:
        raise EditError("too many edits at once (200 at most)")
    changes: list[Change] = []
    for op in ops:
        if not isinstance(op, dict):
            raise EditError("each edit must be an object")
        kind = op.get("op", "set")
        if kind == "set":
            changes.extend(_apply_set(m, op, catalog))
        elif kind == "add_line":
            if len(m.draft.lines) >= MAX_LINES:
                raise EditError(f"an order holds at most {MAX_LINES} lines")
            no = _next_line_no(m)
            ln = LineDraft(line_no=_human(no))
            m.draft.lines.append(ln)
            m.lines.append(_plain_line(ln))
            changes.append(Change(f"lines[{no}]", None, "added", {"op": "add_line", "line": no}))
        elif kind == "delete_line":
            i = _line_index(m, op)
            label = line_label(m, i)
            gone = m.draft.lines.pop(i)
            if i < len(m.lines):
                m.lines.pop(i)
            summary = {k: getattr(gone, k).value for k in ("sku", "description", "quantity", "uom", "unit_price")}
            changes.append(Change(label, summary, None, {"op": "delete_line", "line": gone.line_no.value}))
        elif kind == "split_line":
            i = _line_index(m, op)
            q = parse_value("quantity", op.get("quantity"))
            src = m.draft.lines[i]
            total = _num(src.quantity.value)
            if q is None or total is None or not 0 < q < total:
                raise EditError(f"split: the quantity to move must be between 0 and {total if total is not None else 'the line quantity'}")
            rest = total - q
            rest = int(rest) if float(rest).is_integer() else round(rest, 6)
            no = _next_line_no(m)
            new = src.model_copy(deep=True)
            new.line_no = _human(no)
            new.quantity = _human(q)
            price = _num(src.unit_price.value)
            src.quantity = _set_field(src.quantity, rest)
            if price is not None:
                new.amount = _human(round(q * price, 2))
                src.amount = _set_field(src.amount, round(rest * price, 2))
            m.draft.lines.insert(i + 1, new)
            old_ml = m.lines[i] if i < len(m.lines) else _plain_line(src)
            m.lines.insert(i + 1, old_ml.model_copy(deep=True))
            _rederive(m, i, catalog, rematch=False)
            _rederive(m, i + 1, catalog, rematch=False)
            changes.append(Change(line_label(m, i) + ".quantity", total, rest,
                                  {"op": "split_line", "new_line": no, "moved": q}))
        else:
            raise EditError(f"unknown edit operation {kind!r}")
    return changes


def _apply_set(m: MatchedOrder, op: dict[str, Any], catalog: Any) -> list[Change]:
    name = op.get("field")
    if "line" not in op or op.get("line") is None:
        if name == "customer_id":
            new = parse_value(name, op.get("value"))
            if new is not None and catalog is not None and not catalog.empty and catalog.customer(new) is None:
                new = _customer_by_name(catalog, str(new))
            old = m.customer_id
            if new == old:
                return []
            m.customer_id, m.customer_score, m.customer_via = new, (1.0 if new else 0.0), ("csr" if new else "")
            # cross-references are per customer: lines a person did not settle are matched again
            for i in range(len(m.draft.lines)):
                _rederive(m, i, catalog, rematch=True)
            return [Change("customer_id", old, new, {"op": "set"})]
        if name not in HEADER_FIELDS:
            raise EditError(f"unknown header field {name!r}")
        new = parse_value(name, op.get("value"))
        f: Field = getattr(m.draft, name)
        if new == f.value:
            if f.confidence < 1.0:  # confirming a value as read counts too, but is no correction
                setattr(m.draft, name, _set_field(f, f.value))
            return []
        setattr(m.draft, name, _set_field(f, new))
        return [Change(name, f.value, new, {"op": "set"})]

    i = _line_index(m, op)
    if name not in LINE_FIELDS:
        raise EditError(f"unknown line field {name!r}")
    label = line_label(m, i)
    ln = m.draft.lines[i]
    if name == "sku":  # the seller's product, picked by the CSR
        new = parse_value(name, op.get("value"))
        if new is not None and catalog is not None and not catalog.empty and catalog.product(new) is None:
            raise EditError(f"product {new!r} is not in the catalog")
        old_ml = m.lines[i] if i < len(m.lines) else _plain_line(ln)
        if new == old_ml.sku and old_ml.via == "csr":
            return []
        old_sku = old_ml.sku
        while len(m.lines) <= i:
            m.lines.append(_plain_line(m.draft.lines[len(m.lines)]))
        if new is None:
            m.lines[i] = old_ml.model_copy(update={"sku": None, "score": 0.0, "via": ""})
            _rederive(m, i, catalog, rematch=False)
        else:
            m.lines[i] = old_ml.model_copy(update={"sku": new, "score": 1.0, "via": "csr"})
            _rederive(m, i, catalog, rematch=False)
        if new == old_sku:  # the match was right: confirming it still teaches the cross-reference
            return [Change(label + ".sku", old_sku, new, {"op": "confirm_match"})]
        return [Change(label + ".sku", old_sku, new, {"op": "set"})]
    attr = "sku" if name == "customer_sku" else name
    f = getattr(ln, attr)
    new = parse_value(name, op.get("value"))
    if new == f.value:
        if f.confidence < 1.0:
            setattr(ln, attr, _set_field(f, f.value))
            _rederive(m, i, catalog, rematch=False)
        return []
    adds_up = _adds_up(ln)
    setattr(ln, attr, _set_field(f, new))
    out = [Change(f"{label}.{name}", f.value, new, {"op": "set"})]
    if name in ("quantity", "unit_price") and adds_up:
        out += _follow_amount(ln, label)
    # a new code or wording may name another product; units and prices convert again
    _rederive(m, i, catalog, rematch=name in ("customer_sku", "description"))
    return out


def _adds_up(ln: LineDraft) -> bool:
    """The line's printed amount is its quantity x price (so it follows when either changes)."""
    q, p, a = _num(ln.quantity.value), _num(ln.unit_price.value), _num(ln.amount.value)
    return q is not None and p is not None and a is not None and abs(q * p - a) <= AMOUNT_TOLERANCE + abs(a) * 1e-6


def _follow_amount(ln: LineDraft, label: str) -> list[Change]:
    """Recompute the amount of a line that added up before its quantity or price changed.

    Recorded as a ``derived`` change: the history shows it, the dashboard does not count it as
    a misread. An amount that did not add up is left alone: the CSR is fixing the misread.
    """
    q, p = _num(ln.quantity.value), _num(ln.unit_price.value)
    if q is None or p is None:
        return []
    new = round(q * p, 2)
    new = int(new) if float(new).is_integer() else new
    old = ln.amount.value
    if _num(old) == new:
        return []
    ln.amount = _set_field(ln.amount, new)
    return [Change(f"{label}.amount", old, new, {"op": "derived"})]


def _customer_by_name(catalog: Any, text: str) -> str:
    """The id of the one customer named ``text`` (id, name or alias as a person types it)."""
    hits = catalog.search_customers(text, limit=5)
    exact = [c for c, score in hits if score >= 1.0]
    if len(exact) == 1:
        return str(exact[0].customer_id)
    if not hits:
        raise EditError(f"no customer named {text!r} in the master data: search by name or id and pick one")
    names = ", ".join(f"{c.name} ({c.customer_id})" for c, _s in hits[:3])
    raise EditError(f"{text!r} is not one customer: pick one of {names}")


def evaluate(m: MatchedOrder, catalog: Any, settings: Decision, *, today: date,
             existing_po: Callable[[str | None, str], bool]) -> Evaluation:
    """Rebuild the record and recompute problems and confidence of the edited order."""
    cat = catalog if catalog is not None else Catalog()
    verdict = decide_order(m, cat, settings, today=today, existing_po=existing_po,
                           duplicate_of=lambda _c, _p, _f: None)  # a person is looking at it already
    record = build_record(m)
    for i, ml in enumerate(m.lines[: len(record["lines"])]):
        if ml.via == "csr":  # without master data build_record keeps the printed code
            record["lines"][i]["sku"] = ml.sku
            record["lines"][i]["confidence"] = round(min(record["lines"][i]["confidence"], 1.0), 4)
    return Evaluation(record=record, problems=verdict.problems, confidence=verdict.confidence)
