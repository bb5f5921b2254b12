"""Load benchmark: orders per minute sustained and time from ingest to webhook, 1 and 2 workers,
on SQLite (in-process workers of `intake serve`) and on PostgreSQL (Celery `intake worker`s on Redis).

    python bench/load.py [-n 60] [--configs sqlite:1,sqlite:2,postgres:1,postgres:2] [--pdf-share 0.0] [--json]

Each configuration runs real processes: `intake serve` (plus `intake worker --pool solo` processes
for PostgreSQL: one order at a time each) and a real webhook receiver verifying signatures.
Two phases per configuration, after a warm-up:

* burst: ``n`` orders uploaded as fast as four clients can; orders/min = n / (last webhook -
  first upload); ingest->webhook latencies include the queueing of the burst.
* paced: ``n // 2`` orders at half the burst rate (a steady load the service can sustain);
  p50/p95 ingest->webhook is the latency a customer sees.

Orders are X12 850s (deterministic, approved without review). ``--pdf-share`` mixes in PDF orders
read by the layout model when it is available; those usually wait for review, so they count in
the load but their latency is measured to the decision (ledger), not to a webhook.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.intake.dbutil import database_url  # noqa: E402
from tests.scale import harness as h  # noqa: E402


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def _pdf_po(po: str) -> bytes:
    """A one-page PDF purchase order with a text layer (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    y = 800
    for line in ("BUYER COMPANY INC", "12 Dock Road, Toledo OH 43601", "", "PURCHASE ORDER",
                 f"PO Number: {po}", "Order Date: 2026-11-28", "Currency: USD", "",
                 "Line  Item       Description                  Qty  UOM  Unit Price  Amount",
                 "1     HX-1420    HEX NUT 1/4-20 ZINC           10  EA   2.50        25.00",
                 "2     WSH-0250   FLAT WASHER 1/4 BOX OF 100     4  BX   18.00       72.00", "", "Total: 97.00 USD"):
        c.drawString(50, y, line)
        y -= 16
    c.showPage()
    c.save()
    return buf.getvalue()


def _model_works() -> bool:
    try:
        from extractors.inference import default_extractor

        default_extractor()
        return True
    except Exception:
        return False


def _decided_at(db_url: str, pos: list[str]) -> dict[str, float]:
    """PO -> when the ledger recorded its decision (for orders that wait for review, not a webhook)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(db_url)
    out: dict[str, float] = {}
    try:
        with eng.connect() as c:
            for po, at in c.execute(text(
                    "SELECT o.po_number, min(e.at) FROM orders o JOIN order_events e ON e.order_id = o.id "
                    "WHERE e.to_status IN ('APPROVED','NEEDS_REVIEW','DUPLICATE','FAILED') GROUP BY o.po_number")):
                if po in pos and at is not None:
                    if isinstance(at, str):  # SQLite hands back min() of a timestamp as text
                        at = __import__("datetime").datetime.fromisoformat(at)
                    out[po] = at.timestamp() if at.tzinfo else at.replace(tzinfo=__import__("datetime").timezone.utc).timestamp()
    finally:
        eng.dispose()
    return out


def run_config(backend: str, workers: int, n: int, pdf_share: float, tmp: Path) -> dict[str, Any]:
    """One configuration: start the processes, warm up, burst, paced; returns the figures."""
    import httpx

    rec = h.Receiver()  # stamps each PO's first delivery (rec.first)
    procs = []
    with database_url(backend, tmp) as url:
        broker_cm = h.redis_db() if backend == "postgres" else None
        broker = broker_cm.__enter__() if broker_cm else None
        try:
            env = h.base_env(tmp, url, broker, rec.url, INTAKE_WORKERS=str(workers),
                             INTAKE_WORKER_PRELOAD_MODEL="1" if pdf_share else "0")
            key = h.api_key(env)
            auth = {"Authorization": f"Bearer {key}"}
            port = h.free_port()
            procs.append(h.start_serve(env, port, log=tmp / "serve.log"))
            for i in range(workers if backend == "postgres" else 0):
                args = ["--pool", "solo"] + (["--preload-model"] if pdf_share else [])
                procs.append(h.start_worker(env, *args, log=tmp / f"worker{i}.log"))
            base = f"http://127.0.0.1:{port}/api/v1/messages?wait=false"
            client = httpx.Client(timeout=60, headers=auth)
            sent: dict[str, float] = {}
            kinds: dict[str, str] = {}
            seq = [0]

            def upload(po: str, pdf: bool) -> None:
                seq[0] += 1
                data = _pdf_po(po) if pdf else h.x12_order(po, seq[0])
                kinds[po] = "pdf" if pdf else "edi"
                sent[po] = time.time()
                r = client.post(base, files={"file": (f"{po}.{'pdf' if pdf else 'edi'}", data)})
                r.raise_for_status()

            def wait_delivered(pos: list[str], timeout: float) -> None:
                edi = [p for p in pos if kinds[p] == "edi"]
                pdf = [p for p in pos if kinds[p] == "pdf"]
                ok = h.wait_for(lambda: all(p in rec.first for p in edi)
                                and (not pdf or len(_decided_at(url, pdf)) == len(pdf)), timeout, 0.05)
                if not ok:
                    raise RuntimeError(f"{backend}/{workers}: only {sum(p in rec.first for p in edi)} of {len(edi)} "
                                       "delivered in time")

            def latencies(pos: list[str]) -> list[float]:
                done = dict(rec.first)
                pdf = [p for p in pos if kinds[p] == "pdf"]
                if pdf:
                    done.update(_decided_at(url, pdf))
                return [done[p] - sent[p] for p in pos if p in done]

            warm = [f"WARM-{i}" for i in range(2 * workers)]
            for po in warm:
                upload(po, False)
            wait_delivered(warm, 120)

            every = int(round(1 / pdf_share)) if pdf_share else 0
            burst = [f"B-{i}" for i in range(n)]
            t0 = time.time()
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda ip: upload(ip[1], bool(every) and ip[0] % every == every - 1), enumerate(burst)))
            wait_delivered(burst, 600)
            t_end = max(rec.first.get(p, 0.0) for p in burst if kinds[p] == "edi")
            if every:
                t_end = max([t_end, *_decided_at(url, [p for p in burst if kinds[p] == "pdf"]).values()])
            opm = n / (t_end - t0) * 60
            burst_lat = latencies(burst)

            paced = [f"P-{i}" for i in range(max(4, n // 2))]
            interval = 60 / (opm / 2)
            for i, po in enumerate(paced):
                due = time.time() + interval
                upload(po, bool(every) and i % every == every - 1)
                time.sleep(max(0.0, due - time.time()))
            wait_delivered(paced, 600)
            paced_lat = latencies(paced)
            client.close()
            dup_ids = sum(1 for w in rec.by_po().values() if len(w) > 1)
            return {"backend": backend, "workers": workers,
                    "mode": "in-process threads" if backend == "sqlite" else "celery (solo) on redis",
                    "orders": n, "pdf_share": pdf_share, "orders_per_min": round(opm, 1),
                    "burst_p50_s": round(_pct(burst_lat, 50), 3), "burst_p95_s": round(_pct(burst_lat, 95), 3),
                    "paced_orders_per_min": round(opm / 2, 1), "paced_p50_s": round(_pct(paced_lat, 50), 3),
                    "paced_p95_s": round(_pct(paced_lat, 95), 3), "orders_under_two_webhook_ids": dup_ids}
        finally:
            for p in procs:
                h.stop(p)
            rec.close()
            if broker_cm:
                broker_cm.__exit__(None, None, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=60, help="orders in the burst (the paced phase sends n/2)")
    ap.add_argument("--configs", default="sqlite:1,sqlite:2,postgres:1,postgres:2",
                    help="backend:workers, comma-separated")
    ap.add_argument("--pdf-share", type=float, default=0.0,
                    help="share of PDF orders (layout model); ignored when the model does not load")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    pdf_share = args.pdf_share if args.pdf_share and _model_works() else 0.0
    results = []
    for cfg in args.configs.split(","):
        backend, _, w = cfg.strip().partition(":")
        tmp = Path(tempfile.mkdtemp(prefix=f"intake-bench-load-{backend}{w}-"))
        results.append(run_config(backend, int(w or 1), args.n, pdf_share, tmp))
        if not args.json:
            sys.stderr.write(f"done: {cfg}\n")
    env = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
           "load_avg_1m": round(os.getloadavg()[0], 2), "poll_interval_s": 0.2, "sweep_interval_s": 0.5,
           "note": "shared machine: other processes compete for the same cores"}
    if args.json:
        sys.stdout.write(json.dumps({"environment": env, "results": results}, indent=2) + "\n")
        return
    head = (f"{'backend':<9} {'workers':>7}  {'mode':<24} {'orders':>6} {'orders/min':>10} {'burst p50':>9} "
            f"{'burst p95':>9} {'paced/min':>9} {'paced p50':>9} {'paced p95':>9}")
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r['backend']:<9} {r['workers']:>7}  {r['mode']:<24} {r['orders']:>6} {r['orders_per_min']:>10} "
                     f"{r['burst_p50_s']:>8}s {r['burst_p95_s']:>8}s {r['paced_orders_per_min']:>9} "
                     f"{r['paced_p50_s']:>8}s {r['paced_p95_s']:>8}s")
    lines.append(f"({env['cpus']} CPUs, load {env['load_avg_1m']}; ingest->webhook seconds; PDF share {pdf_share})")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
