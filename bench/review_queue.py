"""The review queue as a CSR sees it: what the orders' scores say, and how long the queue takes.

For every order waiting for review it compares the stored order confidence (0 as soon as the
customer or a product is missing) with the decision score the queue shows
(``intake.service.decide.decision_score``: the least sure of reading, customer match and product match,
with what is missing named), and times building the queue page's data (``review_ui.work.queue``:
scores, customer names, the mail's From and Subject, problems in words, presence).

    python bench/review_queue.py --data-dir DIR [--json]          an existing ledger (INTAKE_DATA_DIR)
    python bench/review_queue.py --peer-office ../shared/peer-office [--also FILE...] [--json]
        the corpus's mails (and more documents, e.g. ../shared/realdocs/pdf/*.pdf) read into a fresh ledger
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _ledger_from_peer_office(src: Path, also: list[Path]) -> Path:
    from intake.core.domain import Channel
    from intake.core.settings import Settings
    from intake.service.db import unit_of_work
    from intake.service.masters import import_masters
    from intake.service.pipeline import Pipeline
    from tests.peer_office_masters import convert_peer_office

    tmp = Path(tempfile.mkdtemp(prefix="review-queue-"))
    pipe = Pipeline(Settings(data_dir=tmp / "data"))
    with unit_of_work(pipe.sm) as s:
        import_masters(s, convert_peer_office(src, tmp / "masters"))
    for doc in [*sorted((src / "dev_inbox").glob("*.eml")), *also]:
        res = pipe.ingest(doc.read_bytes(), filename=doc.name, channel=Channel.imap if doc.suffix == ".eml"
                          else Channel.upload)
        pipe.process_message(res.message_id)
    pipe.sm.kw["bind"].dispose()
    return tmp / "data"


def run(data_dir: Path, repeat: int = 5) -> dict[str, Any]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from intake.core.matching import Catalog
    from intake.service.blobstore import BlobStore
    from intake.service.catalog import load_catalog
    from intake.service.db import make_engine
    from intake.service.decide import decision_score
    from intake.service.models import OrderRow
    from review_ui import work
    from review_ui.editing import load_matched

    engine = make_engine(f"sqlite:///{data_dir / 'intake.db'}")
    blobs = BlobStore(data_dir / "blobs")
    with Session(engine) as s:
        catalog = load_catalog(s)
        rows = list(s.scalars(select(OrderRow).where(OrderRow.status == "NEEDS_REVIEW")))
        scores = [(r, decision_score(load_matched(r.record, r.matched, r.draft))) for r in rows if r.draft or r.matched]
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            view = work.queue(s, work.QueueFilters(), catalog=catalog, blobs=blobs)
            times.append(time.perf_counter() - t0)
    engine.dispose()
    zero = [(r, ds) for r, ds in scores if not r.confidence]
    return {
        "orders_waiting": len(rows),
        "stored_confidence_zero": len(zero),
        "of_those_decision_score_at_least_90": sum(1 for _r, ds in zero if (ds.score or 0) >= 0.9),
        "decision_score_median": round(statistics.median([ds.score or 0.0 for _r, ds in scores]), 3) if scores else None,
        "stored_confidence_median": round(statistics.median([r.confidence or 0.0 for r, _ds in scores]), 3)
        if scores else None,
        "queue_rows": view.shown,
        "queue_build_ms_median": round(1000 * statistics.median(times), 1),
        "zero_confidence_orders": [{"po": r.po_number, "read": ds.read, "decision_score": ds.score,
                                    "missing": list(ds.missing)} for r, ds in zero],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, help="an intake data directory (its intake.db and blobs)")
    ap.add_argument("--peer-office", type=Path, help="a corpus in the peer-office layout")
    ap.add_argument("--also", type=Path, nargs="*", default=[],
                    help="more documents for the --peer-office ledger (orders from customers it does not know)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.peer_office:
        if not args.peer_office.is_dir():
            print(f"peer-office corpus not found at {args.peer_office}: nothing to measure", file=sys.stderr)
            return 0
        data = _ledger_from_peer_office(args.peer_office, [p for p in args.also if p.is_file()])
    elif args.data_dir:
        if not (args.data_dir / "intake.db").is_file():
            print(f"no ledger at {args.data_dir / 'intake.db'}", file=sys.stderr)
            return 2
        data = args.data_dir
    else:
        ap.error("give --data-dir DIR or --peer-office DIR")
    out = run(data)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for k, v in out.items():
        if k != "zero_confidence_orders":
            print(f"{k:<40} {v}")
    for o in out["zero_confidence_orders"]:
        missing = ", ".join(o["missing"])
        print(f"  {str(o['po'] or '(no PO)'):<16} stored 0 %  read {o['read']:.0%}  decision score {o['decision_score']:.0%}"
              f"  missing: {missing}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
