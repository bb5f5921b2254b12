"""End-to-end order corpus: mails in, ledger orders out, scored against truth.

Every ``*.eml`` in the corpus goes through the whole pipeline (readers, layout model or EDI,
matching, validation, decision) on a fresh embedded ledger with the corpus's master data, and
the resulting orders are scored against ``truth/<name>.json`` (peer-office schema:
``customer_id``, ``po_number``, ``lines[{sku, quantity, ambiguous, anomaly}]``, ``anomaly``).

What a seller cares about, in this order: wrong SKUs approved automatically (must be 0), the
share of lines mapped to the right SKU, orders that needed nobody (touchless), and planted
problems caught (an order with an anomaly must not be approved automatically).

    python bench/e2e.py --peer-office ../shared/peer-office [--json]
    python bench/e2e.py --inbox DIR --masters DIR [--json]
"""

from __future__ import annotations

import argparse
from datetime import date
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _norm_sku(v: Any) -> str:
    return "" if v is None else str(v).strip().upper()


def _align(pred: list[dict[str, Any]], truth: list[dict[str, Any]]) -> list[tuple[dict[str, Any] | None, dict[str, Any]]]:
    """Pair each truth line with a predicted line: same SKU first, then same quantity, then position."""
    left = list(range(len(pred)))
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []
    for ti, t in enumerate(truth):
        pick = next((i for i in left if _norm_sku(pred[i].get("sku")) == _norm_sku(t.get("sku")) and t.get("sku")), None)
        if pick is None:
            pick = next((i for i in left if pred[i].get("quantity") == t.get("quantity")), None)
        if pick is None and ti < len(pred) and ti in left:
            pick = ti
        if pick is not None:
            left.remove(pick)
        pairs.append((pred[pick] if pick is not None else None, t))
    return pairs


def _sent_day(data: bytes):  # type: ignore[no-untyped-def]
    """The day a mail was sent (its Date header), or None."""
    import email
    import email.utils

    try:
        hdr = email.message_from_bytes(data).get("Date")
        return email.utils.parsedate_to_datetime(str(hdr)).date() if hdr else None
    except (TypeError, ValueError, IndexError):
        return None


def _as_authenticated(pipe: Any, message_id: str, data: bytes) -> None:
    """A replayed corpus has no verdict of our receiving server: record its From as authenticated,
    as a server checking DKIM/SPF would for a customer's genuine mail (intake/core/identity.py). With
    --unauthenticated every mailed order waits for a person (unverified_sender)."""
    from intake.service.db import unit_of_work
    from intake.core.identity import mail_address
    from intake.service.models import MessageRow

    import email
    import email.policy

    sender = mail_address(str(email.message_from_bytes(data, policy=email.policy.default).get("from") or ""))
    with unit_of_work(pipe.sm) as s:
        m = s.get(MessageRow, message_id)
        if m is not None:
            m.from_addr, m.sender_verified, m.sender_auth = sender, sender is not None, "bench: assumed authenticated"


def run(inbox: Path, truth_dir: Path, masters: Path, as_of: str = "now", authenticated: bool = True) -> dict[str, Any]:
    from intake.service import ledger
    from intake.service.db import unit_of_work
    from intake.core.domain import Channel
    from intake.service.masters import import_masters
    from intake.service.pipeline import Pipeline
    from intake.core.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="intake-e2e-"))
    pipe = Pipeline(Settings(data_dir=tmp / "data"))
    with unit_of_work(pipe.sm) as s:
        import_masters(s, masters)
    stats = dict(orders=0, failed=0, approved=0, review=0, customer_right=0, lines=0, lines_right=0,
                 lines_missing=0, wrong_sku_approved=0, ambiguous_lines=0, ambiguous_auto=0,
                 anomaly_orders=0, anomaly_caught=0, po_right=0, qty_right=0)
    per_order: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for mail in sorted(inbox.glob("*.eml")):
        tf = truth_dir / (mail.stem + ".json")
        if not tf.is_file():
            continue
        truth = json.loads(tf.read_text(encoding="utf-8"))
        data = mail.read_bytes()
        if as_of == "sent":
            # judge dates as on the day the mail was sent, as if it were processed on arrival
            sent = _sent_day(data)
            pipe.today = (lambda d=sent: d) if sent else date.today
        res = pipe.ingest(data, filename=mail.name, channel=Channel.imap)
        if authenticated:
            _as_authenticated(pipe, res.message_id, data)
        ids = pipe.process_message(res.message_id)
        with pipe.sm() as s:
            orders = [ledger.to_order(s, ledger.get_order(s, oid), with_history=False) for oid in ids]
        o = orders[0] if orders else None
        stats["orders"] += 1
        row: dict[str, Any] = {"mail": mail.name, "status": o.status if o else None}
        if o is None or o.status == "FAILED":
            stats["failed"] += 1
            row["reason"] = o.problems[-1].message if o and o.problems else None
            per_order.append(row)
            stats["lines"] += len(truth.get("lines", []))
            stats["lines_missing"] += len(truth.get("lines", []))
            continue
        approved = o.status in ("APPROVED", "DELIVERED")
        stats["approved" if approved else "review"] += 1
        stats["customer_right"] += int(o.customer_id == truth.get("customer_id"))
        stats["po_right"] += int((o.po_number or "") == (truth.get("po_number") or ""))
        pred = [ln.model_dump() for ln in o.lines]
        wrong_here = 0
        for p, t in _align(pred, truth.get("lines", [])):
            stats["lines"] += 1
            if t.get("ambiguous"):
                stats["ambiguous_lines"] += 1
                stats["ambiguous_auto"] += int(approved)
            if p is None:
                stats["lines_missing"] += 1
                continue
            right = _norm_sku(p.get("sku")) == _norm_sku(t.get("sku")) and t.get("sku") is not None
            stats["lines_right"] += int(right)
            stats["qty_right"] += int(p.get("quantity") == t.get("quantity"))
            if approved and not right:
                wrong_here += 1
        stats["wrong_sku_approved"] += wrong_here
        has_anomaly = bool(truth.get("anomaly")) or any(ln.get("anomaly") for ln in truth.get("lines", []))
        if has_anomaly:
            stats["anomaly_orders"] += 1
            stats["anomaly_caught"] += int(not approved)
        row.update(customer=o.customer_id, truth_customer=truth.get("customer_id"), lines=len(pred),
                   truth_lines=len(truth.get("lines", [])), wrong_sku_approved=wrong_here,
                   problems=[p.code for p in o.problems][:6],
                   why=[f"line {p.line}: {p.message}" if p.line else p.message for p in o.problems][:6])
        per_order.append(row)
    elapsed = time.perf_counter() - t0
    n = max(1, stats["orders"])
    return {
        "senders_assumed_authenticated": authenticated,
        "orders": stats["orders"], "seconds": round(elapsed, 1), "orders_per_minute": round(60 * stats["orders"] / max(elapsed, 1e-9), 1),
        "failed": stats["failed"], "approved_automatically": stats["approved"], "sent_to_review": stats["review"],
        "touchless_rate": round(stats["approved"] / n, 3),
        "customer_accuracy": round(stats["customer_right"] / n, 3),
        "po_number_accuracy": round(stats["po_right"] / n, 3),
        "line_sku_accuracy": round(stats["lines_right"] / max(1, stats["lines"]), 3),
        "line_quantity_accuracy": round(stats["qty_right"] / max(1, stats["lines"]), 3),
        "lines": stats["lines"], "lines_missing": stats["lines_missing"],
        "wrong_sku_auto_approved": stats["wrong_sku_approved"],
        "ambiguous_lines": stats["ambiguous_lines"], "ambiguous_lines_auto_approved": stats["ambiguous_auto"],
        "orders_with_planted_problem": stats["anomaly_orders"], "planted_problems_caught": stats["anomaly_caught"],
        "per_order": per_order,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer-office", type=Path, help="a corpus in the peer-office layout (catalog.json, customers.json, dev_inbox/)")
    ap.add_argument("--inbox", type=Path, help="folder of .eml files with truth/<name>.json")
    ap.add_argument("--masters", type=Path, help="master data folder (intake masters import format)")
    ap.add_argument("--as-of", choices=["now", "sent"], default="now",
                    help="judge requested dates against today (default) or the day each mail was sent")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="print one line per order")
    ap.add_argument("--unauthenticated", action="store_true",
                    help="do not treat the replayed senders as authenticated by the receiving server: every mailed "
                         "order then waits for a person (unverified_sender)")
    args = ap.parse_args(argv)
    if args.peer_office:
        src = args.peer_office
        if not src.is_dir():
            print(f"peer-office corpus not found at {src}: nothing to measure", file=sys.stderr)
            return 0
        from tests.peer_office_masters import convert_peer_office

        masters = convert_peer_office(src, Path(tempfile.mkdtemp(prefix="po-masters-")))
        inbox, truth = src / "dev_inbox", src / "dev_inbox" / "truth"
    elif args.inbox and args.masters:
        inbox, truth, masters = args.inbox, args.inbox / "truth", args.masters
    else:
        ap.error("give --peer-office DIR, or --inbox DIR and --masters DIR")
    out = run(inbox, truth, masters, args.as_of, authenticated=not args.unauthenticated)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for k, v in out.items():
        if k != "per_order":
            print(f"{k:<32} {v}")
    if args.verbose:
        for r in out["per_order"]:
            print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
