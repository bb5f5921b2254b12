"""Validation and the auto-approve decision over a matched order.

``validate`` lists every problem a CSR should see (codes below); ``decide`` approves only when
the customer and every line are matched above the thresholds and no error-severity problem is
left. A wrong SKU auto-approved is the worst outcome, so anything unsure goes to review.

Codes: unknown_customer, low_customer_score, unknown_sku, ambiguous_sku, low_match_score,
uom_unknown, price_mismatch, amount_mismatch, total_mismatch, below_min_qty, date_in_past,
duplicate_po, discontinued, missing_quantity, low_confidence, no_lines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from intake.domain import MatchedLine, MatchedOrder, Problem
from intake.matching import Catalog
from intake.settings import Decision
from intake.units import UnitError, conversion_factor, normalize_uom
from intake.units import as_number

__all__ = ["validate", "decide"]


_num = as_number


def _date(v: Any) -> date | None:
    if isinstance(v, date):
        return v
    if isinstance(v, str) and v.strip():
        try:
            return date.fromisoformat(v.strip()[:10])
        except ValueError:
            return None
    return None


def _line_no(ml: MatchedLine, i: int) -> int:
    v = ml.draft.line_no.value
    try:
        return int(v) if v is not None else i
    except (TypeError, ValueError):
        return i


def validate(
    matched: MatchedOrder,
    catalog: Catalog | None,
    *,
    settings: Decision,
    today: date,
    existing_po: Callable[[str | None, str], bool] | None = None,
) -> list[Problem]:
    """Every problem of ``matched``: matching, units, prices, amounts, dates, duplicates.

    ``existing_po(customer_id, po_number)`` says whether the ledger already holds that PO for
    that customer (a duplicate or a revision). Without master data (``catalog`` None or empty)
    only the document's own figures and dates are checked.
    """
    draft = matched.draft
    problems: list[Problem] = []
    have_masters = catalog is not None and not catalog.empty and matched.masters_loaded

    if not draft.lines:
        problems.append(Problem(code="no_lines", message="the order has no lines"))

    if have_masters:
        if matched.customer_id is None:
            problems.append(Problem(code="unknown_customer", message="the customer could not be identified",
                                    field="customer"))
        elif matched.customer_score < settings.min_customer_score:
            problems.append(Problem(code="low_customer_score", field="customer",
                                    message=f"customer {matched.customer_id} matched by {matched.customer_via or 'name'} "
                                            f"with score {matched.customer_score:.2f} only"))

    po = draft.po_number.value
    if existing_po is not None and po not in (None, ""):
        if existing_po(matched.customer_id, str(po)):
            problems.append(Problem(code="duplicate_po", field="po_number",
                                    message=f"PO {po} is already in the ledger for this customer (duplicate or revision)"))

    # requested date not in the past (header and lines)
    req = _date(draft.requested_date.value)
    if req is not None and req < today:
        problems.append(Problem(code="date_in_past", field="requested_date",
                                message=f"requested date {req.isoformat()} is in the past"))

    line_sum = 0.0
    line_sum_ok = bool(draft.lines)
    for i, ml in enumerate(matched.lines, 1):
        no = _line_no(ml, i)
        problems.extend(_line_problems(ml, no, matched, catalog if have_masters else None, settings, today))
        amount = _num(ml.draft.amount.value)
        if amount is None:
            qty, price = _num(ml.draft.quantity.value), _num(ml.draft.unit_price.value)
            amount = qty * price if qty is not None and price is not None else None
        if amount is None:
            line_sum_ok = False
        else:
            line_sum += amount

    total = _num(draft.total.value)
    if total is not None and line_sum_ok:
        tol = settings.amount_tolerance * max(1, len(draft.lines)) + 0.005
        if abs(total - line_sum) > tol:
            problems.append(Problem(code="total_mismatch", field="total",
                                    message=f"lines add up to {line_sum:.2f} but the total reads {total:.2f}"))
    return problems


def _line_problems(ml: MatchedLine, no: int, matched: MatchedOrder, catalog: Catalog | None, settings: Decision,
                   today: date) -> list[Problem]:
    out: list[Problem] = []
    d = ml.draft
    qty_printed = _num(d.quantity.value)
    price_printed = _num(d.unit_price.value)
    amount = _num(d.amount.value)

    if qty_printed is None:
        out.append(Problem(code="missing_quantity", line=no, field="quantity", message="no quantity"))
    elif qty_printed <= 0:
        out.append(Problem(code="missing_quantity", line=no, field="quantity", message=f"quantity {qty_printed:g} is not positive"))

    # quantity x price against the printed amount (the document's own arithmetic)
    if qty_printed is not None and price_printed is not None and amount is not None:
        if abs(qty_printed * price_printed - amount) > settings.amount_tolerance + 0.005 + abs(amount) * 1e-6:
            out.append(Problem(code="amount_mismatch", line=no, field="amount",
                               message=f"{qty_printed:g} x {price_printed:.2f} = {qty_printed * price_printed:.2f}, "
                                       f"printed {amount:.2f}"))

    lreq = _date(d.requested_date.value)
    if lreq is not None and lreq < today:
        out.append(Problem(code="date_in_past", line=no, field="requested_date",
                           message=f"requested date {lreq.isoformat()} is in the past"))

    if catalog is None:
        # no master data: a printed unit we cannot read is still worth a look
        if d.uom.present and normalize_uom(str(d.uom.value)) is None:
            out.append(Problem(code="uom_unknown", line=no, field="uom", severity="warning",
                               message=f"unknown unit of measure '{d.uom.value}'"))
        return out

    product = catalog.product(ml.sku)
    if product is None:
        if ml.candidates:
            out.append(Problem(code="unknown_sku", line=no, field="sku",
                               message="no product matches this line well enough; best guess "
                                       f"{ml.candidates[0].sku} ({ml.candidates[0].score:.2f})"))
        else:
            out.append(Problem(code="unknown_sku", line=no, field="sku", message="no product matches this line"))
        return out

    # match quality
    if ml.score < settings.min_line_match_score:
        runner = ml.candidates[1] if len(ml.candidates) > 1 else None
        if ml.via == "ambiguous" and runner is not None:
            out.append(Problem(code="ambiguous_sku", line=no, field="sku",
                               message=f"the wording fits several products ({ml.sku}, {runner.sku}, ...): please choose"))
        else:
            out.append(Problem(code="low_match_score", line=no, field="sku",
                               message=f"matched {ml.sku} by {ml.via or 'description'} with score {ml.score:.2f} only"))

    if product.discontinued:
        rb = f"; replaced by {product.replaced_by}" if product.replaced_by else ""
        out.append(Problem(code="discontinued", line=no, field="sku", message=f"{product.sku} is discontinued{rb}"))

    # units
    if d.uom.present:
        try:
            conversion_factor(str(d.uom.value), product.uom, product.alt_uoms, product.pack_size)
        except UnitError as exc:
            out.append(Problem(code="uom_unknown", line=no, field="uom", message=exc.reason))
            return out

    qty = ml.quantity
    if qty is not None and product.min_order_qty and qty < product.min_order_qty:
        out.append(Problem(code="below_min_qty", line=no, field="quantity",
                           message=f"{qty:g} {product.uom} is below the minimum order quantity {product.min_order_qty:g}"))

    # price against the customer's price valid on the order date, else the list price
    if ml.unit_price is not None:
        on = _date(matched.draft.order_date.value) or today
        cp = catalog.price_for(matched.customer_id, product.sku, on)
        ref, what = (cp.unit_price, "customer price") if cp is not None else (product.unit_price, "list price")
        if ref is not None and ref > 0:
            if abs(ml.unit_price - ref) > settings.price_tolerance * ref + 0.005:
                out.append(Problem(code="price_mismatch", line=no, field="unit_price",
                                   message=f"unit price {ml.unit_price:.2f} per {product.uom} differs from the "
                                           f"{what} {ref:.2f}"))
    return out


def decide(matched: MatchedOrder, problems: list[Problem], settings: Decision) -> bool:
    """True to approve automatically; False sends the order to a CSR.

    Approve only when the customer and every line are matched above the thresholds and no
    error-severity problem remains. Without master data the decision rests on extraction
    confidence and validation alone.
    """
    if any(p.severity == "error" for p in problems):
        return False
    draft = matched.draft
    if not matched.lines:
        return False
    for ml in matched.lines:
        if ml.draft.confidence < settings.min_line_confidence:
            return False
    for f in ("po_number",):
        fld = getattr(draft, f)
        if fld.present and fld.confidence < settings.min_field_confidence:
            return False
    if matched.masters_loaded:
        if matched.customer_id is None or matched.customer_score < settings.min_customer_score:
            return False
        for ml in matched.lines:
            if ml.sku is None or ml.score < settings.min_line_match_score:
                return False
    return True
