"""Validation and the auto-approve decision over a matched order.

``validate`` lists every problem a CSR should see (codes below); ``decide`` approves only when
the customer and every line are matched above the thresholds and no error-severity problem is
left. A wrong SKU auto-approved is the worst outcome, so anything unsure goes to review.

Codes: unknown_customer, low_customer_score, unknown_sku, ambiguous_sku, low_match_score,
uom_unknown, price_mismatch, amount_mismatch, total_mismatch, below_min_qty, date_in_past,
duplicate_po, discontinued, missing_quantity, low_confidence, no_lines, qty_outlier, and the
identity problems of ``intake/core/identity.py`` (unknown_sender, unverified_sender,
unverified_partner, partner_mismatch, unknown_ship_to).

``qty_outlier`` (a warning that still sends the order to review, see ``REVIEW_WARNINGS``): the
quantity, in the product's unit, is far above what this customer usually orders of that product.
With at least ``OUTLIER_MIN_ORDERS`` past orders of it (``order_history.csv`` and the ledger's
approved/delivered orders), a quantity above max(``OUTLIER_MEDIAN_FACTOR`` x median,
``OUTLIER_MAX_FACTOR`` x largest) is flagged (3 x median, 2.5 x largest). Both bounds matter:
the median alone flags a customer whose orders vary a lot (50, 66, 132), the largest alone is
lifted by one big order. A slip of a digit (10 for 1, 340 for 34) lands far above both. Measured
on the peer-office development corpus: its 3 planted outliers are 2 to 4 times this threshold,
while its normal repeat orders reach 2 x the customer's largest past order (hence 2.5, not 2).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from intake.core.domain import MatchedLine, MatchedOrder, Problem
from intake.core.identity import identity_problems
from intake.core.matching import Catalog, CustomerHistory
from intake.core.settings import Decision
from intake.core.units import UnitError, as_number, conversion_factor, normalize_uom

__all__ = ["validate", "decide", "REVIEW_WARNINGS", "qty_outlier"]

REVIEW_WARNINGS = frozenset({"qty_outlier"})
"""Warnings that do not make the order wrong but need a person's look before it is approved."""

OUTLIER_MIN_ORDERS = 3
OUTLIER_MEDIAN_FACTOR = 3.0
OUTLIER_MAX_FACTOR = 2.5


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


def qty_outlier(quantity: float, past: list[float]) -> bool:
    """True when ``quantity`` is far above the customer's past quantities of the product (the
    rule in the module docstring); never with fewer than ``OUTLIER_MIN_ORDERS`` past orders."""
    past = [q for q in past if q > 0]
    if len(past) < OUTLIER_MIN_ORDERS:
        return False
    return quantity > max(OUTLIER_MEDIAN_FACTOR * _median(past), OUTLIER_MAX_FACTOR * max(past))


def _median(v: list[float]) -> float:
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


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

        problems.extend(identity_problems(matched, catalog))

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
    history = (catalog.customer_history(matched.customer_id)
               if (catalog is not None and have_masters and matched.customer_id) else None)
    for i, ml in enumerate(matched.lines, 1):
        no = _line_no(ml, i)
        problems.extend(_line_problems(ml, no, matched, catalog if have_masters else None, settings, today))
        if catalog is not None and history is not None and not history.empty:
            problems.extend(_history_problems(ml, no, matched, catalog, history))
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


def _history_problems(ml: MatchedLine, no: int, matched: MatchedOrder, catalog: Catalog,
                      history: CustomerHistory) -> list[Problem]:
    """``qty_outlier``: far more than this customer usually orders of the product."""
    product = catalog.product(ml.sku)
    qty = ml.quantity
    if product is None or qty is None or qty <= 0:
        return []
    po = matched.draft.po_number.value
    past = history.quantities(product.sku, exclude_po=None if po in (None, "") else str(po))
    if not qty_outlier(qty, past):
        return []
    unit = product.uom
    return [Problem(code="qty_outlier", line=no, field="quantity", severity="warning",
                    message=f"{qty:g} {unit} is far more than {matched.customer_id} usually orders of {product.sku} "
                            f"(median {_median(past):g}, at most {max(past):g} {unit} in {len(past)} past orders)")]


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
        if ml.via == "history" and runner is not None:
            out.append(Problem(code="ambiguous_sku", line=no, field="sku",
                               message=f"{ml.sku} pre-selected because this customer ordered it before; the wording "
                                       f"alone does not tell it from {runner.sku} (score {ml.score:.2f}): please confirm"))
        elif ml.via == "ambiguous" and runner is not None:
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
    if any(p.severity == "error" or p.code in REVIEW_WARNINGS for p in problems):
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
