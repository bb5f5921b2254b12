"""Problems in plain language, grouped: one heading per kind with the lines it concerns, and
the edits that settle them, one at a time or all at once ("accept the customer price for all").

The codes stay in the data (``data-code`` on the page, the queue's filter) but a CSR reads
sentences: "8 lines: the price differs from the customer's price", not ``price_mismatch`` eight
times. Each item may carry ``fixes`` (edit operations as ``editing.apply_ops`` takes them);
a group whose items all have a first fix gets a bulk action that sends them in one save.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from intake.core.domain import MatchedOrder
from intake.core.units import as_number
from intake.service.validation import REVIEW_WARNINGS
from review_ui.checks import parse_date

__all__ = ["TITLES", "title_of", "short_of", "group_problems", "queue_groups"]

# code -> short label (queue, filters), title for one, title for n (with {n}), bulk action (with {n})
TITLES: dict[str, tuple[str, str, str, str]] = {
    "unknown_customer": ("Customer not identified", "The customer is not identified: choose it below", "", ""),
    "low_customer_score": ("Customer unsure", "The customer match is unsure: check it", "", ""),
    "duplicate_po": ("PO already received", "This PO number is already in the ledger for this customer", "", ""),
    "po_revision": ("Revised PO", "A revised PO: it changes an order already received", "", ""),
    "missing_field": ("Missing value", "A required value is missing", "{n} required values are missing", ""),
    "no_lines": ("No lines", "No order lines were read", "", ""),
    "missing_quantity": ("No quantity", "A line has no usable quantity", "{n} lines have no usable quantity", ""),
    "bad_quantity": ("No quantity", "A line has no usable quantity", "{n} lines have no usable quantity", ""),
    "unknown_sku": ("No product found", "No product found for a line: pick one",
                    "No product found for {n} lines: pick them", ""),
    "ambiguous_sku": ("Product to confirm", "A product was pre-selected: please confirm it",
                      "{n} products were pre-selected: please confirm them", "Confirm all {n} products"),
    "low_match_score": ("Product match unsure", "A product match is unsure: confirm or pick another",
                        "{n} product matches are unsure: confirm or pick others", "Confirm all {n} products"),
    "discontinued": ("Discontinued product", "A product is discontinued", "{n} products are discontinued",
                     "Use the {n} replacements"),
    "uom_unknown": ("Unit not convertible", "A unit cannot be converted to the product's unit",
                    "{n} units cannot be converted to the products' units", ""),
    "below_min_qty": ("Below minimum quantity", "A quantity is below the minimum order quantity",
                      "{n} quantities are below the minimum order quantity", ""),
    "price_mismatch": ("Price differs", "The price differs from the customer's price",
                       "{n} lines: the price differs from the customer's price",
                       "Accept the customer price for all {n} lines"),
    "amount_mismatch": ("Amount does not add up", "Quantity \u00d7 price does not give the printed amount",
                        "{n} lines: quantity \u00d7 price does not give the printed amount",
                        "Use quantity \u00d7 price on all {n} lines"),
    "total_mismatch": ("Total does not match", "The total does not match the lines", "", ""),
    "date_in_past": ("Date in the past", "The requested date is in the past", "{n} requested dates are in the past", ""),
    "qty_outlier": ("Unusual quantity", "An unusually large quantity for this customer",
                    "{n} unusually large quantities for this customer", ""),
    "low_confidence": ("Read with low confidence", "A value was read with low confidence: compare it with the document",
                       "{n} values were read with low confidence: compare them with the document", ""),
    "possible_missed_line": ("Line possibly missed", "A row looks like an order line but was not read as one",
                             "{n} rows look like order lines but were not read as one", ""),
    # the review UI's own checks (review_ui/checks.py)
    "low_read": ("Read with low confidence", "A value was read with low confidence: compare it with the document",
                 "{n} values were read with low confidence: compare them with the document", ""),
    "implausible_terms": ("Odd payment terms", "The payment terms do not look like payment terms", "", ""),
    "date_order": ("Dates out of order", "The dates are out of order", "{n} dates are out of order", ""),
    "date_ambiguous": ("Ambiguous date", "A date can be read two ways", "{n} dates can be read two ways", ""),
    "implausible_date": ("Date far from today", "A date is far from today", "{n} dates are far from today", ""),
}
ORDER = list(TITLES)


def title_of(code: str, n: int = 1) -> str:
    """The sentence heading a group of ``n`` problems of one kind."""
    _short, one, many, _bulk = TITLES.get(code, ("", code.replace("_", " ").capitalize(), "", ""))
    return many.format(n=n) if n > 1 and many else one


def short_of(code: str) -> str:
    """A few words for the queue and its filters."""
    return TITLES[code][0] if code in TITLES else code.replace("_", " ").capitalize()


def _fmt(v: float) -> str:
    return f"{v:.4f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def _line_index(m: MatchedOrder, line_no: Any) -> int | None:
    if line_no is None:
        return None
    for i, ln in enumerate(m.draft.lines):
        no = ln.line_no.value
        try:
            if (int(no) if no not in (None, "") else i + 1) == int(line_no):
                return i
        except (TypeError, ValueError):
            continue
    return None


def _fixes(p: dict[str, Any], m: MatchedOrder, catalog: Any, today: date) -> list[dict[str, Any]]:
    """The edits that would settle problem ``p``, best first (may be none)."""
    code = p.get("code")
    i = _line_index(m, p.get("line"))
    have = catalog is not None and not getattr(catalog, "empty", True) and m.masters_loaded
    if code == "total_mismatch":
        total = 0.0
        for ln in m.draft.lines:
            a = as_number(ln.amount.value)
            if a is None:
                q, pr = as_number(ln.quantity.value), as_number(ln.unit_price.value)
                if q is None or pr is None:
                    return []
                a = q * pr
            total += a
        return [{"label": f"use {total:.2f}, the sum of the lines", "ops": [{"op": "set", "field": "total",
                                                                             "value": round(total, 2)}]}]
    if i is None or i >= len(m.lines):
        return []
    ml, ln = m.lines[i], m.draft.lines[i]
    if code in ("ambiguous_sku", "low_match_score") and ml.sku:
        return [{"label": f"confirm {ml.sku}", "ops": [{"op": "set", "line": i, "field": "sku", "value": ml.sku}]}]
    if code == "discontinued" and have:
        prod = catalog.product(ml.sku)
        if prod is not None and prod.replaced_by and catalog.product(prod.replaced_by) is not None:
            return [{"label": f"use {prod.replaced_by} instead",
                     "ops": [{"op": "set", "line": i, "field": "sku", "value": prod.replaced_by}]}]
    if code == "price_mismatch" and have:
        prod = catalog.product(ml.sku)
        if prod is None:
            return []
        cp = catalog.price_for(m.customer_id, prod.sku, parse_date(m.draft.order_date.value) or today)
        ref = cp.unit_price if cp is not None else prod.unit_price
        if ref is None:
            return []
        qp, qm = as_number(ln.quantity.value), ml.quantity
        factor = (qm / qp) if (qp and qm) else 1.0  # the printed unit holds this many product units
        value = round(ref * factor, 4)
        what = "customer price" if cp is not None else "list price"
        return [{"label": f"use {_fmt(value)}, the {what}", "ops": [{"op": "set", "line": i, "field": "unit_price",
                                                                      "value": value}]}]
    if code == "amount_mismatch":
        q, pr = as_number(ln.quantity.value), as_number(ln.unit_price.value)
        if q is not None and pr is not None:
            return [{"label": f"use {q * pr:.2f}", "ops": [{"op": "set", "line": i, "field": "amount",
                                                           "value": round(q * pr, 2)}]}]
    return []


@dataclass
class _Group:
    code: str
    severity: str
    items: list[dict[str, Any]]


def _severity(p: dict[str, Any]) -> str:
    sev = p.get("severity") or "error"
    if sev == "warning" and p.get("code") in REVIEW_WARNINGS:
        return "warning"
    return sev


def group_problems(problems: list[dict[str, Any]], checks: list[dict[str, Any]], m: MatchedOrder, catalog: Any,
                   *, today: date) -> list[dict[str, Any]]:
    """Problems and checks grouped by kind, in plain language, with their fixes and bulk action."""
    groups: dict[str, _Group] = {}
    for p in [*problems, *checks]:
        code = str(p.get("code") or "problem")
        g = groups.setdefault(code, _Group(code, _severity(p), []))
        if p.get("severity") == "error":
            g.severity = "error"
        fixes = p.get("fixes") if p.get("severity") == "check" else _fixes(p, m, catalog, today)
        line = p.get("line")
        idx = _line_index(m, line) if p.get("severity") != "check" else line
        label = ""
        if idx is not None and idx < len(m.draft.lines):
            no = m.draft.lines[idx].line_no.value
            label = f"line {no if no not in (None, '') else idx + 1}"
        msg = str(p.get("message") or "")
        # a line's message reads "line 3: no quantity" already, or carries no line at all
        if label and msg.lower().startswith(label) and msg[len(label):len(label) + 1] in (":", " "):
            msg = msg[len(label):].lstrip(": ")
        g.items.append({"key": p.get("key"), "where": label, "message": msg, "fixes": fixes or []})
    out = []
    rank = {"error": 0, "warning": 1, "check": 2}
    for g in sorted(groups.values(), key=lambda g: (rank.get(g.severity, 3), ORDER.index(g.code) if g.code in ORDER
                                                   else len(ORDER))):
        n = len(g.items)
        bulk_label = TITLES.get(g.code, ("", "", "", ""))[3]
        bulk = None
        if n > 1 and bulk_label and all(it["fixes"] for it in g.items):
            bulk = {"label": bulk_label.format(n=n), "ops": [op for it in g.items for op in it["fixes"][0]["ops"]]}
        out.append({"code": g.code, "severity": g.severity, "title": title_of(g.code, n), "count": n,
                    "entries": g.items, "bulk": bulk})
    return out


def queue_groups(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The queue's summary of an order's problems: one chip per kind, with its count."""
    counts: dict[str, dict[str, Any]] = {}
    for p in problems or []:
        if not isinstance(p, dict):
            continue
        code = str(p.get("code") or "problem")
        c = counts.setdefault(code, {"code": code, "n": 0, "severity": _severity(p), "messages": []})
        c["n"] += 1
        if len(c["messages"]) < 6:
            c["messages"].append(str(p.get("message") or ""))
    out = []
    rank = {"error": 0, "warning": 1}
    for c in sorted(counts.values(), key=lambda c: (rank.get(c["severity"], 2), ORDER.index(c["code"])
                                                   if c["code"] in ORDER else len(ORDER))):
        c["title"] = short_of(c["code"])
        out.append(c)
    return out
