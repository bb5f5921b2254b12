"""Test helper: convert the peer-office corpus (../shared/peer-office) to the master-data import
format in a temporary folder, and build OrderDrafts from its truth lines.

A converter in test code: nothing from the corpus is copied into the repository. Used by
tests/intake/service/test_matching.py and bench/matching.py --peer-office.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake.core.domain import Field, LineDraft, OrderDraft

__all__ = ["convert_peer_office", "peer_office_orders", "PeerOrder", "unit_of"]

_UNIT_WORDS = {"box": "BX", "pack": "PK", "roll": "RL", "ream": "RM", "each": "EA", "case": "CA", "bag": "BG"}


def unit_of(unit: str) -> tuple[str, float | None]:
    """'box of 100' -> ('BX', 100); 'each' -> ('EA', None); 'ream of 500 sheets' -> ('RM', 500)."""
    m = re.match(r"\s*(\w+)(?:\s+of\s+(\d+))?", unit.lower())
    if not m:
        return "EA", None
    code = _UNIT_WORDS.get(m.group(1), "EA")
    return code, float(m.group(2)) if m.group(2) else None


def _write(path: Path, header: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in header})


def convert_peer_office(src: Path, dest: Path) -> Path:
    """Write products.csv, customers.csv, prices.csv (customer discounts) and order_history.csv
    (history.json, when there is one) under ``dest``."""
    catalog = json.loads((src / "catalog.json").read_text(encoding="utf-8"))
    customers = json.loads((src / "customers.json").read_text(encoding="utf-8"))
    dest.mkdir(parents=True, exist_ok=True)
    prows = []
    for p in catalog:
        uom, pack = unit_of(p.get("unit") or "each")
        prows.append({
            "sku": p["sku"], "description": p["name_en"], "uom": uom, "unit_price": p.get("price"),
            "currency": "EUR", "aliases": ";".join(a for a in (p.get("name_fr"), p.get("mpn")) if a),
            "pack_size": pack, "status": p.get("status"), "replaced_by": p.get("replaced_by"),
            "category": p.get("category"), "brand": p.get("brand"), "unit_text": p.get("unit"),
        })
    _write(dest / "products.csv", ["sku", "description", "uom", "unit_price", "currency", "aliases", "alt_uoms",
                                   "pack_size", "min_order_qty", "status", "replaced_by", "category", "brand",
                                   "unit_text"], prows)
    crows = [{"customer_id": c["id"], "name": c["name"], "email_domains": c.get("domain"), "currency": "EUR",
              "contact": c.get("contact"), "lang": c.get("lang"), "discount": c.get("discount")} for c in customers]
    _write(dest / "customers.csv", ["customer_id", "name", "aliases", "email_domains", "edi_ids", "payment_terms",
                                    "currency", "contact", "lang", "discount"], crows)
    price_rows = []
    for c in customers:
        d = float(c.get("discount") or 0.0)
        if d <= 0:
            continue
        for p in catalog:
            if p.get("price") is not None:
                price_rows.append({"customer_id": c["id"], "sku": p["sku"],
                                   "unit_price": round(float(p["price"]) * (1 - d), 2), "currency": "EUR"})
    _write(dest / "prices.csv", ["customer_id", "sku", "unit_price", "currency", "valid_from", "valid_to"], price_rows)
    # history.json: customer id -> catalog SKU -> quantities of past orders (no dates)
    hist_path = src / "history.json"
    if hist_path.is_file():
        history = json.loads(hist_path.read_text(encoding="utf-8"))
        known = {p["sku"] for p in catalog}
        hrows = [{"customer_id": cid, "sku": sku, "quantity": q}
                 for cid, per_sku in history.items() for sku, qtys in per_sku.items() if sku in known
                 for q in qtys]
        _write(dest / "order_history.csv", ["customer_id", "sku", "quantity", "order_date"], hrows)
    return dest


@dataclass
class PeerOrder:
    order_id: str
    truth: dict[str, Any]
    draft: OrderDraft


def peer_office_orders(src: Path) -> list[PeerOrder]:
    """One OrderDraft per truth file, built from the truth lines' text/customer_ref/quantity
    (the reading part is measured elsewhere); the sender is the truth's sender address."""
    out = []
    for f in sorted((src / "dev_inbox" / "truth").glob("*.json")):
        t = json.loads(f.read_text(encoding="utf-8"))
        lines = []
        for i, ln in enumerate(t.get("lines", []), 1):
            lines.append(LineDraft(
                line_no=Field.exact(i), sku=Field.exact(ln.get("customer_ref")), description=Field.exact(ln.get("text")),
                quantity=Field.exact(ln.get("quantity")), unit_price=Field.exact(ln.get("unit_price")),
            ))
        draft = OrderDraft(po_number=Field.exact(t.get("po_number")), order_date=Field.exact(t.get("order_date")),
                           requested_date=Field.exact(t.get("delivery_date")), lines=lines, sender=t.get("sender"),
                           extractor="truth")
        out.append(PeerOrder(t.get("order_id", f.stem), t, draft))
    return out
