"""Typed orders (mail bodies): how well the grammar of extractors/typed.py reads item lines.

Generates synthetic order mails (``intake synth --formats email``; about 60 % carry the order in
the body, the rest are cover notes with a PDF) and scores the lines and header values the
grammar reads against their truth; a cover note with any item line read counts as a false
positive. With ``--peer-office DIR`` it also scores the typed mails of that corpus
(quantity and wording per line, PO number, requested date).

    python bench/typed.py [--n 150] [--seed 91] [--peer-office ../shared/peer-office] [--json]
"""

from __future__ import annotations

import argparse
import email
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def synthetic(n: int, seed: int) -> dict:
    from extractors.registry import read_bytes
    from extractors.typed import parse_typed
    from training.evaluate import values_equal
    from training.synth import generate

    st = dict(mails=0, typed_orders=0, cover_notes=0, false_positive_notes=0, lines=0, lines_read=0, quantity=0,
              sku=0, description=0, uom=0, unit_price=0, po_number=0, po_truth=0, requested_date=0, date_truth=0)
    with tempfile.TemporaryDirectory() as tmp:
        for p in generate(n, Path(tmp), seed=seed, formats=["email"], progress=False):
            truth = json.loads(Path(f"{p}.truth.json").read_text())
            docs = read_bytes(p.read_bytes(), p.name)
            body = next((d for d in docs if d.meta.get("part") == "body"), None)
            st["mails"] += 1
            items, hdr = parse_typed(body.text if body is not None and body.text else "")
            if len(docs) > 1:
                st["cover_notes"] += 1
                st["false_positive_notes"] += int(bool(items))
                continue
            st["typed_orders"] += 1
            st["lines"] += len(truth["lines"])
            st["lines_read"] += len(items)
            for key, tkey in (("po_number", "po_truth"), ("requested_date", "date_truth")):
                if truth.get(key):
                    st[tkey] += 1
                    st[key] += int(hdr.get(key, (None,))[0] == truth[key])
            for a, b in zip(items, truth["lines"]):
                st["quantity"] += values_equal("quantity", a.quantity, b["quantity"])
                st["sku"] += (values_equal("sku", a.code, b["sku"]) if b.get("sku") else a.code is None)
                st["description"] += values_equal("description", a.description, b.get("description"))
                st["uom"] += (b.get("uom") is None) or values_equal("uom", a.unit, b["uom"])
                st["unit_price"] += values_equal("unit_price", a.price, b.get("unit_price"))
    return st


def peer_office(folder: Path) -> dict:
    from extractors.typed import parse_typed

    st = dict(mails=0, lines=0, lines_read=0, quantity_and_wording=0, po_number=0, requested_date=0, date_truth=0)
    for f in sorted((folder / "dev_inbox").glob("*.eml")):
        t = json.loads((folder / "dev_inbox" / "truth" / f"{f.stem}.json").read_text())
        if t.get("format") != "email":
            continue
        m = email.message_from_bytes(f.read_bytes())
        body = next((p.get_payload(decode=True).decode("utf-8", "replace") for p in m.walk()
                     if p.get_content_type() == "text/plain"), "")
        items, hdr = parse_typed(body)
        st["mails"] += 1
        st["lines"] += len(t["lines"])
        st["lines_read"] += len(items)
        st["po_number"] += int(hdr.get("po_number", (None,))[0] == t.get("po_number"))
        if t.get("delivery_date"):
            st["date_truth"] += 1
            st["requested_date"] += int(hdr.get("requested_date", (None,))[0] == t["delivery_date"])
        for a, b in zip(items, t["lines"]):
            st["quantity_and_wording"] += int(a.quantity == b["quantity"] and (
                a.description == b["text"] or (a.code and a.description in b["text"])))
    return st


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--seed", type=int, default=91)
    ap.add_argument("--peer-office", type=Path)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = {"synthetic": synthetic(a.n, a.seed)}
    if a.peer_office:
        out["peer_office"] = peer_office(a.peer_office)
    if a.json:
        print(json.dumps(out, indent=2))
        return 0
    s = out["synthetic"]
    print(f"synthetic mails: {s['mails']} ({s['typed_orders']} typed orders, {s['cover_notes']} cover notes; "
          f"{s['false_positive_notes']} cover notes read as orders)")
    print(f"  lines read {s['lines_read']} of {s['lines']}; right: quantity {s['quantity']}, code {s['sku']}, "
          f"wording {s['description']}, unit {s['uom']}, price {s['unit_price']}")
    print(f"  PO number {s['po_number']}/{s['po_truth']}, requested date {s['requested_date']}/{s['date_truth']}")
    if "peer_office" in out:
        p = out["peer_office"]
        print(f"peer-office typed mails: {p['mails']}; lines read {p['lines_read']} of {p['lines']}, quantity and "
              f"wording right {p['quantity_and_wording']}; PO {p['po_number']}/{p['mails']}, requested date "
              f"{p['requested_date']}/{p['date_truth']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
