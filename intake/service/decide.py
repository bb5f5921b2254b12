"""The decision stage: approve on its own, or send to a CSR with every problem listed.

An order is approved only when its required fields are there, extraction is confident,
the customer and every line are matched above thresholds (when master data is loaded) and
nothing failed validation. The same PO with the same content already in the ledger is a
DUPLICATE; the same PO with other content is a revision and goes to review.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from intake.core.domain import MatchedOrder, Problem
from intake.core.settings import Decision
from intake.core.states import OrderStatus
from intake.service.validation import decide, validate

__all__ = ["Verdict", "decide_order", "build_record", "record_fingerprint", "required_field_problems", "DecisionScore",
           "decision_score", "blocking_problems"]


@dataclass
class Verdict:
    status: OrderStatus
    problems: list[Problem]
    confidence: float
    reason: str
    revision_of: str | None = None  # the existing order this one revises (same customer and PO)


def build_record(m: MatchedOrder) -> dict[str, Any]:
    """The order record (header and lines) that the ledger keeps, the API shows and the webhook sends."""
    d = m.draft
    lines = []
    matched_lines = m.lines or []
    for i, ld in enumerate(d.lines):
        ml = matched_lines[i] if i < len(matched_lines) else None
        no = ld.line_no.value
        try:
            no = int(no) if no is not None else i + 1
        except (TypeError, ValueError):
            no = i + 1
        printed_sku = ld.sku.value
        sku = ml.sku if (ml is not None and m.masters_loaded) else printed_sku
        lines.append({
            "line_no": no,
            "customer_sku": None if printed_sku is None else str(printed_sku),
            "sku": sku,
            "description": ld.description.value,
            "quantity": ml.quantity if (ml is not None and ml.quantity is not None) else ld.quantity.value,
            "uom": ml.uom if (ml is not None and ml.uom) else ld.uom.value,
            "unit_price": ml.unit_price if (ml is not None and ml.unit_price is not None) else ld.unit_price.value,
            "amount": ld.amount.value,
            "confidence": round(min(ld.confidence, ml.score if (ml is not None and m.masters_loaded) else 1.0), 4),
            "candidates": [c.model_dump(mode="json") for c in (ml.candidates[:5] if ml is not None else [])],
        })
    return {
        "po_number": d.po_number.value, "order_date": d.order_date.value, "requested_date": d.requested_date.value,
        "buyer": d.buyer.value, "supplier": d.supplier.value, "ship_to": d.ship_to.value, "bill_to": d.bill_to.value,
        "currency": d.currency.value, "payment_terms": d.payment_terms.value, "total": d.total.value,
        "customer_id": m.customer_id, "ship_to_code": m.ship_to_code, "lines": lines,
    }


def record_fingerprint(record: dict[str, Any]) -> str:
    """What makes two orders the same order: PO, customer and the lines' items and quantities."""
    key = {
        "po": record.get("po_number"), "customer": record.get("customer_id"),
        "lines": [(ln.get("sku") or ln.get("customer_sku"), ln.get("quantity"), ln.get("unit_price"))
                  for ln in record.get("lines", [])],
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def blocking_problems(problems: list[Any] | None) -> list[dict[str, Any]]:
    """Problems a person must fix, or knowingly override, before approving (UI and API alike).

    Every error but low extraction confidence: a person looking at the order is what settles that.
    """
    out = []
    for p in problems or []:
        d = p.model_dump(mode="json") if isinstance(p, Problem) else dict(p)
        if d.get("severity", "error") == "error" and d.get("code") != "low_confidence":
            out.append(d)
    return out


def required_field_problems(m: MatchedOrder) -> list[Problem]:
    d = m.draft
    out: list[Problem] = []
    if not d.po_number.present:
        out.append(Problem(code="missing_field", field="po_number", message="no PO number found"))
    if not d.lines:
        out.append(Problem(code="missing_field", field="lines", message="no order lines found"))
    for i, ln in enumerate(d.lines, 1):
        no = ln.line_no.value or i
        if not ln.sku.present and not ln.description.present:
            out.append(Problem(code="missing_field", line=_int(no, i), field="sku", message=f"line {no}: no item code or description"))
        q = ln.quantity.value
        if q is None:
            out.append(Problem(code="missing_field", line=_int(no, i), field="quantity", message=f"line {no}: no quantity"))
        elif isinstance(q, (int, float)) and q <= 0:
            out.append(Problem(code="bad_quantity", line=_int(no, i), field="quantity", message=f"line {no}: quantity {q} is not positive"))
    return out


def coverage_problems(m: MatchedOrder) -> list[Problem]:
    """Rows that look like order lines but that no extracted line covers (see extractors.coverage)."""
    return [Problem(code="possible_missed_line", message=f"this row looks like an order line but was not read as one: {row!r}")
            for row in m.draft.meta.get("uncovered_rows", [])]


def _confidence_problems(m: MatchedOrder, s: Decision) -> list[Problem]:
    d = m.draft
    out: list[Problem] = []
    for name in ("po_number", "order_date", "currency", "total", "ship_to"):
        f = getattr(d, name)
        if f.present and f.confidence < s.min_field_confidence:
            out.append(Problem(code="low_confidence", field=name,
                               message=f"{name} read with confidence {f.confidence:.2f}"))
    for i, ln in enumerate(d.lines, 1):
        if ln.confidence < s.min_line_confidence:
            no = ln.line_no.value or i
            out.append(Problem(code="low_confidence", line=_int(no, i),
                               message=f"line {no} read with confidence {ln.confidence:.2f}"))
    return out


def _int(v: Any, default: int) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def decide_order(m: MatchedOrder, catalog: Any, settings: Decision, *, today: date,
                 existing_po: Callable[[str | None, str], bool],
                 duplicate_of: Callable[[str | None, str, str], str | None],
                 revision_of: Callable[[str | None, str], str | None] | None = None) -> Verdict:
    """Validate and decide. ``catalog`` is the master data (may be empty).

    ``revision_of(customer_id, po)`` names the live order of that customer with that PO (when
    there is one): same PO, other content is a revision of it, flagged ``po_revision`` and sent
    to review, never a new order of its own.
    """
    problems = required_field_problems(m) + _confidence_problems(m, settings) + coverage_problems(m)
    record = build_record(m)
    po = record.get("po_number")
    if po:
        dup = duplicate_of(m.customer_id, str(po), record_fingerprint(record))
        if dup is not None:
            return Verdict(OrderStatus.DUPLICATE, [Problem(code="duplicate_order", message=f"same order as {dup}")],
                           _confidence(m), f"same PO {po} with the same lines as order {dup}")
    problems += validate(m, catalog, settings=settings, today=today, existing_po=existing_po)
    conf = _confidence(m)
    prior = revision_of(m.customer_id, str(po)) if (po and revision_of is not None) else None
    if prior is not None:
        # more precise than validation's "duplicate or revision": name the order it changes
        problems = [p for p in problems if p.code != "duplicate_po"]
        problems.insert(0, Problem(code="po_revision", field="po_number",
                                   message=f"revision of order {prior}: same customer and PO {po}, different content"))
        return Verdict(OrderStatus.NEEDS_REVIEW, problems, conf,
                       f"revised PO {po}: a change of order {prior}", revision_of=prior)
    approve = not any(p.severity == "error" for p in problems) and decide(m, problems, settings)
    if approve:
        return Verdict(OrderStatus.APPROVED, problems, conf, "approved automatically: every check passed")
    errors = [p for p in problems if p.severity == "error"] or problems
    reason = "; ".join(p.message for p in errors[:3]) + (f" (+{len(errors) - 3} more)" if len(errors) > 3 else "")
    return Verdict(OrderStatus.NEEDS_REVIEW, problems, conf, reason or "needs a person's check")


@dataclass(frozen=True)
class DecisionScore:
    """The scores the decision compares with its thresholds, and the weakest of them.

    ``read`` is the least sure value that extraction gave the decision (the PO number and every
    line), ``customer`` the customer match and ``products`` the weakest product match, each
    only where there is one: a customer nobody identified or a line without a product has no
    score at all; it is named in ``missing`` (and is a problem that blocks the approval).
    ``score`` is the weakest part, the number a CSR sorts the queue by; ``Order.confidence`` is
    stricter (0 as soon as anything is missing), which is right for the gate but says nothing
    about how well the rest was read.
    """

    score: float | None
    read: float | None
    customer: float | None
    products: float | None
    weakest: str  # "read", "customer", "products" or "" when nothing was scored
    missing: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "read": self.read, "customer": self.customer, "products": self.products,
                "weakest": self.weakest, "missing": list(self.missing)}


def decision_score(m: MatchedOrder) -> DecisionScore:
    """The order's decision score (see ``DecisionScore``); reads ``m``, changes nothing."""
    d = m.draft
    reads = ([d.po_number.confidence] if d.po_number.present else []) + [ln.confidence for ln in d.lines]
    missing: list[str] = []
    if not d.po_number.present:
        missing.append("PO number")
    customer = products = None
    if m.masters_loaded:
        if m.customer_id:
            customer = m.customer_score
        else:
            missing.append("customer")
        matched = [ml.score for ml in m.lines if ml.sku]
        products = min(matched) if matched else None
        unmatched = sum(1 for ml in m.lines if not ml.sku)
        if unmatched:
            missing.append(f"{unmatched} product{'s' if unmatched > 1 else ''}")
    parts = {"read": min(reads) if reads else None, "customer": customer, "products": products}
    scored = {k: v for k, v in parts.items() if v is not None}
    weakest = min(scored, key=lambda k: scored[k]) if scored else ""
    return DecisionScore(score=round(scored[weakest], 4) if weakest else None,
                         read=None if parts["read"] is None else round(parts["read"], 4),
                         customer=None if customer is None else round(customer, 4),
                         products=None if products is None else round(products, 4),
                         weakest=weakest, missing=tuple(missing))


def _confidence(m: MatchedOrder) -> float:
    d = m.draft
    vals = [d.po_number.confidence] if d.po_number.present else [0.0]
    vals += [ln.confidence for ln in d.lines]
    if m.masters_loaded:
        vals.append(m.customer_score)
        vals += [ml.score for ml in m.lines]
    return round(min(vals), 4) if vals else 0.0
