"""Scale-out on real Redis and PostgreSQL: `intake serve` enqueues, `intake worker`s run the stages.

The scaling test is the issue's "done when": two workers finish a batch within a deadline that
one worker cannot meet. The per-order cost is known (tests/scale/slow_worker.py), so the deadline
is set where one worker physically cannot make it (its lower bound is N x cost) and two workers
only make it by really sharing the work; both runs are measured and printed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from intake.service.db import make_engine, make_sessionmaker
from intake.core.domain import Channel
from intake.service.migrate import upgrade
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.intake.dbutil import database_url
from tests.scale import harness as h

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_serve_with_broker_and_a_prefork_worker_deliver_on_postgres(tmp_path: Path) -> None:
    """INTAKE_BROKER_URL set: the server enqueues, a prefork worker (2 processes) runs the stages,
    every order is delivered once, /metrics (authenticated) shows it, logs are JSON with ids."""
    with database_url("postgres", tmp_path) as url, h.redis_db() as broker:
        rec = h.Receiver()
        env = h.base_env(tmp_path, url, broker, rec.url)
        key = h.api_key(env)
        auth = {"Authorization": f"Bearer {key}"}
        port = h.free_port()
        srv = h.start_serve(env, port, log=tmp_path / "serve.log")
        wlog = tmp_path / "worker.log"
        worker = h.start_worker(dict(env, INTAKE_LOG_LEVEL="INFO"), "--concurrency", "2", "--preload-model", log=wlog)
        try:
            n = 8
            for i in range(n):
                r = httpx.post(f"http://127.0.0.1:{port}/api/v1/messages?wait=false",
                               files={"file": (f"{i}.edi", h.x12_order(f"PO-S{i}", i))}, headers=auth, timeout=30)
                assert r.status_code == 202, r.text
            assert h.wait_for(lambda: len(rec.received) >= n, 90), f"{len(rec.received)} of {n} delivered"
            assert h.wait_for(lambda: h.ledger_counts(url) == {"DELIVERED": n}, 20), h.ledger_counts(url)
            by_po = rec.by_po()
            assert sorted(by_po) == sorted(f"PO-S{i}" for i in range(n))
            assert all(len(w) == 1 for w in by_po.values())

            assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 401
            m = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=auth, timeout=10)
            assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
            from intake.service.metrics import parse

            samples = {(name, tuple(sorted(lb.items()))): v for name, lb, v in parse(m.text)}
            assert samples[("intake_orders", (("channel", "upload"), ("status", "DELIVERED")))] == n
            assert samples[("intake_queue_depth", (("queue", "orders_pending"),))] == 0
            assert samples[("intake_webhook_deliveries", (("status", "sent"),))] == n
            assert samples[("intake_touchless_ratio", ())] == 1.0
            assert samples[("intake_ledger_stage_seconds", (("quantile", "0.95"), ("stage", "ingest_to_webhook")))] > 0
            # a pool process may still be loading the model when the orders are all through (one
            # process can serve them all on a slow machine): let both finish before stopping
            h.wait_for(lambda: wlog.read_text().count('"layout model') >= 2, 60)
        finally:
            h.stop(worker)
            h.stop(srv)
            rec.close()
        lines = [json.loads(ln) for ln in wlog.read_text().splitlines() if ln.startswith("{")]
        staged = [ln for ln in lines if ln.get("message") == "stage done"]
        assert len(staged) >= 2 * n and all(ln.get("order_id") and ln["logger"] == "intake.tasks" for ln in staged)
        assert all({"ts", "level", "logger", "message"} <= set(ln) for ln in lines)
        # the model is loaded (or found missing) once in each of the two pool processes, not per task
        model_lines = [ln for ln in lines if ln["message"].startswith("layout model")]
        assert len(model_lines) == 2 and len({ln["pid"] for ln in model_lines}) == 2, model_lines


def _run_batch(tmp_path: Path, workers: int, n: int, cost: float) -> float:
    """Seconds for ``workers`` solo workers to move ``n`` stored orders to APPROVED."""
    with database_url("postgres", tmp_path / f"w{workers}") as url, h.redis_db() as broker:
        env = h.base_env(tmp_path / f"w{workers}", url, broker, "", INTAKE_TEST_STAGE_COST_S=str(cost),
                         INTAKE_SWEEP_INTERVAL_S="10")  # no re-sends within the measured run
        del env["INTAKE_WEBHOOK_URL"]
        settings = Settings(data_dir=tmp_path / f"w{workers}" / "data", database_url=url, broker_url=broker,
                            sweep_interval_s=10)
        engine = make_engine(url)
        upgrade(engine)
        pipe = Pipeline(settings, make_sessionmaker(engine))
        from intake.entry import tasks

        tasks.configure(settings)
        disp = tasks.Dispatcher(settings)
        procs = [h.start_worker(env, "--pool", "solo", "--no-sweep", module="tests.scale.slow_worker",
                                log=tmp_path / f"w{workers}-{i}.log") for i in range(workers)]
        try:
            # warm-up: one order per worker, so every worker is up before the clock starts
            for i in range(workers):
                res = pipe.ingest(h.x12_order(f"PO-WARM{i}", 900 + i), filename="w.edi", channel=Channel.upload)
                disp.submit_message(res.message_id)
            assert h.wait_for(lambda: h.ledger_counts(url).get("APPROVED", 0) == workers, 90), h.ledger_counts(url)
            ids = [pipe.ingest(h.x12_order(f"PO-B{i}", i + 1), filename=f"{i}.edi", channel=Channel.upload).message_id
                   for i in range(n)]
            t0 = time.perf_counter()
            for mid in ids:
                disp.submit_message(mid)
            assert h.wait_for(lambda: h.ledger_counts(url).get("APPROVED", 0) == workers + n, 120, 0.05), \
                h.ledger_counts(url)
            return time.perf_counter() - t0
        finally:
            for p in procs:
                h.stop(p)
            engine.dispose()


def test_two_workers_finish_a_batch_that_one_worker_cannot(tmp_path: Path) -> None:
    n, cost = 16, 0.5
    deadline = 0.8 * n * cost  # one worker needs at least n * cost
    one = _run_batch(tmp_path, 1, n, cost)
    two = _run_batch(tmp_path, 2, n, cost)
    print(f"\nbatch of {n} orders, {cost}s stage cost: 1 worker {one:.2f}s ({n / one * 60:.0f} orders/min), "
          f"2 workers {two:.2f}s ({n / two * 60:.0f} orders/min), deadline {deadline:.1f}s, speed-up {one / two:.2f}x")
    assert one > deadline, f"one worker finished in {one:.2f}s, under the {deadline:.1f}s deadline"
    assert two < deadline, f"two workers took {two:.2f}s, over the {deadline:.1f}s deadline"
