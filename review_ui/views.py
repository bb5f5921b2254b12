"""View models of the order page: what the template shows and what an edit sends back.

Every value on the page has a key: ``h.<header field>``, ``h.customer_id`` or
``l.<line index>.<line field>``. Problems, confidences and source boxes are attached by key so
the page (and its script) can mark the field and highlight where it was read.
"""

from __future__ import annotations

from typing import Any

from intake.domain import Field, MatchedOrder, OrderDraft, Problem
from intake.settings import Decision
from review_ui.editing import HEADER_FIELDS

__all__ = ["HEADER_LABELS", "LINE_COLUMNS", "field_view", "order_state", "problem_key"]

HEADER_LABELS: dict[str, str] = {
    "po_number": "PO number", "order_date": "Order date", "requested_date": "Requested date", "buyer": "Buyer",
    "supplier": "Supplier", "ship_to": "Ship to", "bill_to": "Bill to", "currency": "Currency",
    "payment_terms": "Payment terms", "total": "Total",
}
# (field, label, input type, draft attribute)
LINE_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("customer_sku", "Item code", "text", "sku"),
    ("description", "Description", "text", "description"),
    ("quantity", "Qty", "number", "quantity"),
    ("uom", "Unit", "text", "uom"),
    ("unit_price", "Unit price", "number", "unit_price"),
    ("amount", "Amount", "number", "amount"),
    ("requested_date", "Req. date", "date", "requested_date"),
)
_LINE_FIELD_OF_PROBLEM = {"sku": "sku", "quantity": "quantity", "uom": "uom", "unit_price": "unit_price",
                          "amount": "amount", "requested_date": "requested_date", "description": "description"}


def _val(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _sources(f: Field) -> list[dict[str, Any]]:
    return [{"page": s.page, "box": list(s.box)} for s in f.source]


def field_view(key: str, f: Field, threshold: float) -> dict[str, Any]:
    return {"key": key, "value": _val(f.value), "confidence": round(f.confidence, 2),
            "low": f.value not in (None, "") and f.confidence < threshold, "sources": _sources(f)}


def problem_key(p: Problem | dict[str, Any], draft: OrderDraft) -> str | None:
    """The key of the value a problem is about, or None for the order as a whole."""
    d = p if isinstance(p, dict) else p.model_dump(mode="json")
    fld, line = d.get("field"), d.get("line")
    if line is not None:
        idx = None
        for i, ln in enumerate(draft.lines):
            no = ln.line_no.value
            try:
                if (int(no) if no not in (None, "") else i + 1) == int(line):
                    idx = i
                    break
            except (TypeError, ValueError):
                continue
        if idx is None:
            return None
        col = _LINE_FIELD_OF_PROBLEM.get(fld or "")
        return f"l.{idx}.{col}" if col else f"l.{idx}.row"  # about the line as a whole
    if fld == "customer":
        return "h.customer_id"
    if fld in HEADER_FIELDS:
        return f"h.{fld}"
    return None


def order_state(m: MatchedOrder, record: dict[str, Any], problems: list[Any], settings: Decision) -> dict[str, Any]:
    """Everything about the order's values that an edit can change: fields, lines, problems."""
    from review_ui.work import blocking_problems

    d = m.draft
    header = {f"h.{k}": field_view(f"h.{k}", getattr(d, k), settings.min_field_confidence) for k in HEADER_FIELDS}
    header["h.customer_id"] = {"key": "h.customer_id", "value": m.customer_id or "",
                               "confidence": round(m.customer_score, 2),
                               "low": bool(m.masters_loaded and m.customer_score < settings.min_customer_score),
                               "sources": [], "via": m.customer_via}
    lines = []
    rec_lines = record.get("lines") or []
    for i, ln in enumerate(d.lines):
        ml = m.lines[i] if i < len(m.lines) else None
        rl = rec_lines[i] if i < len(rec_lines) else {}
        cells = {}
        for name, _label, _typ, attr in LINE_COLUMNS:
            cells[name] = field_view(f"l.{i}.{name}", getattr(ln, attr), settings.min_line_confidence)
        sku = ml.sku if ml is not None else None
        score = ml.score if ml is not None else 0.0
        via = ml.via if ml is not None else ""
        converted = ""
        if rl and (rl.get("quantity") != ln.quantity.value or (rl.get("uom") or "") != (ln.uom.value or "")):
            if rl.get("quantity") is not None:
                converted = f"= {_val(rl.get('quantity'))} {rl.get('uom') or ''}"
                if rl.get("unit_price") is not None:
                    converted += f" @ {_val(round(float(rl['unit_price']), 4))}"
        lines.append({
            "index": i, "line_no": _val(ln.line_no.value) or str(i + 1), "cells": cells,
            "product": {"key": f"l.{i}.sku", "sku": sku or "", "via": via, "score": round(score, 2),
                        "low": bool(m.masters_loaded and via != "csr" and score < settings.min_line_match_score),
                        "description": next((c.description for c in (ml.candidates if ml else []) if c.sku == sku), "")},
            "candidates": [c.model_dump(mode="json") for c in (ml.candidates if ml else [])][:5],
            "converted": converted, "confidence": round(float(rl.get("confidence", 0.0) or 0.0), 2),
        })
    probs = []
    for p in problems:
        pd = p if isinstance(p, dict) else p.model_dump(mode="json")
        probs.append({**pd, "key": problem_key(pd, d)})
    blocking = blocking_problems(problems)
    # the per-line date column only when a line has a date or a date problem
    line_dates = any(ln.requested_date.present for ln in d.lines) or any(
        (p.get("key") or "").endswith(".requested_date") and (p.get("key") or "").startswith("l.") for p in probs)
    return {"header": header, "lines": lines, "problems": probs, "blocking": len(blocking),
            "masters_loaded": m.masters_loaded, "line_dates": line_dates}
