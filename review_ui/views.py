"""View models of the order page: what the template shows and what an edit sends back.

Every value on the page has a key: ``h.<header field>``, ``h.customer_id`` or
``l.<line index>.<line field>``. Problems, checks, confidences and source boxes are attached by
key so the page (and its script) can mark the field and highlight where it was read.
``outcome_view`` says what became of a decided order (who decided, delivered or not, and why).
"""

from __future__ import annotations

from datetime import date, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.core.domain import Field, MatchedOrder, OrderDraft, Problem
from intake.core.settings import Decision
from intake.core.units import as_number, fold
from intake.service import ledger
from intake.service.decide import decision_score
from intake.service.models import OrderEventRow, OrderRow
from review_ui.checks import date_view, value_checks
from review_ui.editing import HEADER_FIELDS, EditError, parse_value
from review_ui.problems import group_problems
from review_ui.work import blocking_problems

__all__ = ["HEADER_LABELS", "LINE_COLUMNS", "field_view", "order_state", "problem_key", "customer_view", "score_view",
           "outcome_view", "webhook_configured"]

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
DATE_FIELDS = ("order_date", "requested_date")
SCORE_PARTS = {"read": "reading", "customer": "customer match", "products": "product match"}


def _val(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _sources(f: Field) -> list[dict[str, Any]]:
    return [{"page": s.page, "box": list(s.box)} for s in f.source]


def _printed(f: Field) -> str:
    """The text as printed, when it says something the value does not ("RUPEES" for INR)."""
    raw, v = (f.raw or "").strip(), f.value
    if not raw or v in (None, ""):
        return ""
    if isinstance(v, (int, float)):
        try:
            n = parse_value("total", raw.strip(" $€£¥"))
        except EditError:
            n = None
        if n is not None and abs(float(n) - float(v)) < 1e-9:
            return ""

    def norm(x: Any) -> str:
        return "".join(ch for ch in fold(str(x)) if ch.isalnum())

    return "" if norm(raw) == norm(v) else raw


def field_view(key: str, f: Field, threshold: float) -> dict[str, Any]:
    return {"key": key, "value": _val(f.value), "confidence": round(f.confidence, 2),
            "low": f.value not in (None, "") and f.confidence < threshold, "sources": _sources(f),
            "confirmed": f.confidence >= 1.0, "printed": _printed(f)}


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


def customer_view(m: MatchedOrder, catalog: Any, settings: Decision) -> dict[str, Any]:
    """The customer as a person knows it: the name first, the id beside it."""
    c = catalog.customer(m.customer_id) if (catalog is not None and m.customer_id) else None
    return {"key": "h.customer_id", "value": m.customer_id or "", "name": c.name if c is not None else "",
            "confidence": round(m.customer_score, 2), "via": m.customer_via,
            "low": bool(m.masters_loaded and m.customer_score < settings.min_customer_score),
            "known": c is not None, "sources": []}


def score_view(m: MatchedOrder) -> dict[str, Any]:
    """The decision score and what sets it, in words."""
    ds = decision_score(m)
    parts = [f"{SCORE_PARTS[k]} {v:.0%}" for k, v in (("read", ds.read), ("customer", ds.customer),
                                                      ("products", ds.products)) if v is not None]
    missing = ["missing: " + ", ".join(ds.missing)] if ds.missing else []
    return {**ds.to_json(), "weakest_label": SCORE_PARTS.get(ds.weakest, ""),
            "detail": ", ".join(parts + missing)}


def order_state(m: MatchedOrder, record: dict[str, Any], problems: list[Any], settings: Decision, *,
                catalog: Any = None, today: date | None = None) -> dict[str, Any]:
    """Everything about the order's values that an edit can change: fields, lines, problems."""
    today = today or date.today()
    d = m.draft
    header = {f"h.{k}": field_view(f"h.{k}", getattr(d, k), settings.min_field_confidence) for k in HEADER_FIELDS}
    locale = d.meta.get("locale") if isinstance(d.meta.get("locale"), dict) else {}
    dayfirst = locale.get("dayfirst") if locale else None
    for k in DATE_FIELDS:
        header[f"h.{k}"]["date"] = date_view(getattr(d, k), dayfirst).to_json()
    cust = customer_view(m, catalog, settings)
    header["h.customer_id"] = cust
    lines = []
    rec_lines = record.get("lines") or []
    for i, ln in enumerate(d.lines):
        ml = m.lines[i] if i < len(m.lines) else None
        rl = rec_lines[i] if i < len(rec_lines) else {}
        cells = {}
        for name, _label, _typ, attr in LINE_COLUMNS:
            cells[name] = field_view(f"l.{i}.{name}", getattr(ln, attr), settings.min_line_confidence)
        cells["requested_date"]["date"] = date_view(ln.requested_date, dayfirst).to_json()
        q, p = as_number(ln.quantity.value), as_number(ln.unit_price.value)
        cells["amount"]["computed"] = "" if q is None or p is None else f"{q * p:.2f}"
        sku = ml.sku if ml is not None else None
        score = ml.score if ml is not None else 0.0
        via = ml.via if ml is not None else ""
        converted = ""
        if rl and (rl.get("quantity") != ln.quantity.value or (rl.get("uom") or "") != (ln.uom.value or "")):
            if rl.get("quantity") is not None:
                converted = f"= {_val(rl.get('quantity'))} {rl.get('uom') or ''}"
                if rl.get("unit_price") is not None:
                    converted += f" @ {_val(round(float(rl['unit_price']), 4))}"
        prod = catalog.product(sku) if (catalog is not None and sku) else None
        lines.append({
            "index": i, "line_no": _val(ln.line_no.value) or str(i + 1), "cells": cells,
            "product": {"key": f"l.{i}.sku", "sku": sku or "", "via": via, "score": round(score, 2),
                        "low": bool(m.masters_loaded and via != "csr" and score < settings.min_line_match_score),
                        "description": prod.description if prod is not None else next(
                            (c.description for c in (ml.candidates if ml else []) if c.sku == sku), "")},
            "candidates": [c.model_dump(mode="json") for c in (ml.candidates if ml else [])][:5],
            "converted": converted, "confidence": round(float(rl.get("confidence", 0.0) or 0.0), 2),
        })
    probs = []
    for p in problems:
        pd = p if isinstance(p, dict) else p.model_dump(mode="json")
        probs.append({**pd, "key": problem_key(pd, d)})
    checks = value_checks(m, probs, settings, today=today)
    blocking = blocking_problems(problems)
    # the per-line date column only when a line has a date or a date problem
    line_dates = any(ln.requested_date.present for ln in d.lines) or any(
        (p.get("key") or "").endswith(".requested_date") and (p.get("key") or "").startswith("l.") for p in probs)
    return {"header": header, "customer": cust, "lines": lines, "problems": probs, "checks": checks,
            "groups": group_problems(probs, checks, m, catalog, today=today), "blocking": len(blocking),
            "masters_loaded": m.masters_loaded, "line_dates": line_dates, "score": score_view(m)}


def webhook_configured(settings: Any) -> bool:
    """Whether approved orders are sent anywhere (a webhook URL and its secret are set)."""
    return bool(settings.webhook_url and settings.webhook_secret)


def _when(t: Any) -> str:
    """A stored time as local YYYY-MM-DD HH:MM."""
    if t is None:
        return ""
    t = t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)
    return t.astimezone().strftime("%Y-%m-%d %H:%M")


def outcome_view(db: Session, row: OrderRow, settings: Any) -> dict[str, Any] | None:
    """Where a decided order stands, in words: who decided, and whether the order system has it."""
    if row.status in ("NEEDS_REVIEW", "RECEIVED", "EXTRACTED", "MATCHED"):
        return None
    ev = db.scalars(select(OrderEventRow).where(OrderEventRow.order_id == row.id, OrderEventRow.kind == "transition",
                                                OrderEventRow.to_status.in_(("APPROVED", "REJECTED", "DUPLICATE")))
                    .order_by(OrderEventRow.id.desc()).limit(1)).first()
    who = "" if ev is None else (ev.actor.split(":", 1)[1] if ev.actor.startswith("user:") else
                                 "the service on its own" if ev.actor == "pipeline" else ev.actor)
    decided = {"by": who, "at": _when(ev.at) if ev else "", "reason": ev.reason if ev else (row.reason or "")}
    out: dict[str, Any] = {"status": row.status, "decided": decided, "kind": "info", "delivery": ""}
    if row.status == "REJECTED":
        out.update(kind="bad", title=f"Rejected by {who}" if who else "Rejected", delivery="")
        return out
    if row.status == "DUPLICATE":
        out.update(kind="info", title="A duplicate: nothing to do", delivery=row.reason or "")
        return out
    if row.status == "FAILED":
        return None
    rows = ledger.outbox_rows(db, order_id=row.id)
    ob = rows[-1] if rows else None
    title = f"Approved by {who}" if who else "Approved"
    if row.status == "DELIVERED":
        sent = ob.sent_at if ob is not None else None
        code = f" (the webhook was answered {ob.last_status_code})" if ob is not None and ob.last_status_code else ""
        out.update(kind="ok", title=title, delivery=f"Delivered to the order system at {_when(sent)}{code}.")
    elif not webhook_configured(settings):
        out.update(kind="ok", title=title,
                   delivery="No webhook is configured (INTAKE_WEBHOOK_URL), so the order is not sent anywhere: it "
                            "stays in the ledger as approved, where the order system can read it "
                            f"(GET /api/v1/orders/{row.id}). Its webhook goes out once a URL is set.")
    elif ob is None:
        out.update(kind="ok", title=title, delivery="Approved; no webhook is waiting for it.")
    elif ob.status == "dead":
        out.update(kind="bad", title=title,
                   delivery=f"Sending it to the order system failed {ob.attempts} times ({ob.last_error or 'no answer'}) "
                            "and was given up: an admin can send it again under Admin › Webhooks.")
    elif ob.attempts:
        out.update(kind="warn", title=title,
                   delivery=f"On its way to the order system: {ob.attempts} attempt(s) failed so far "
                            f"({ob.last_error or 'no answer'}); next try at {_when(ob.next_attempt_at)}.")
    else:
        out.update(kind="ok", title=title, delivery="On its way to the order system (the webhook is queued).")
    return out
