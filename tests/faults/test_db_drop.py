"""The database connection dropped mid-stage: PostgreSQL terminates the worker's connections
(``pg_terminate_backend``) again and again while it runs the stages and the relay. The stage
retries (Celery retry with backoff) or the sweep resumes the order; every order is delivered once."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from intake.service.db import make_engine, make_sessionmaker
from intake.core.domain import Channel
from intake.service.migrate import upgrade
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.intake.dbutil import PG_URL, database_url
from tests.scale import harness as h

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_connections_terminated_mid_stage_every_order_still_delivered_once(tmp_path: Path) -> None:
    with database_url("postgres", tmp_path) as url, h.redis_db() as broker:
        app_name = "intakefault" + uuid.uuid4().hex[:8]
        rec = h.Receiver()
        env = h.base_env(tmp_path, f"{url}&application_name={app_name}", broker, rec.url)
        settings = Settings(data_dir=tmp_path / "data", database_url=url, broker_url=broker, sweep_interval_s=0.5)
        engine = make_engine(url)
        upgrade(engine)
        pipe = Pipeline(settings, make_sessionmaker(engine))
        from intake.entry import tasks

        tasks.configure(settings)
        disp = tasks.Dispatcher(settings)
        wlog = tmp_path / "worker.log"
        worker = h.start_worker(dict(env, INTAKE_LOG_LEVEL="INFO"), "--pool", "solo", "--relay", log=wlog)
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        terminated = [0]
        stop = threading.Event()

        def killer() -> None:
            with admin.connect() as c:
                while not stop.wait(0.1):
                    terminated[0] += len(c.execute(text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :a"),
                        {"a": app_name}).all())

        n = 16
        pos = [f"PO-DB{i}" for i in range(n)]
        try:
            # the worker is up and connected before the connections start dying
            first = pipe.ingest(h.x12_order(pos[0], 1), filename="0.edi", channel=Channel.upload).message_id
            disp.submit_message(first)
            assert h.wait_for(lambda: h.ledger_counts(url).get("DELIVERED") == 1, 60)
            t = threading.Thread(target=killer, daemon=True)
            t.start()
            for i, po in enumerate(pos[1:], 1):
                disp.submit_message(pipe.ingest(h.x12_order(po, i + 1), filename=f"{i}.edi",
                                                channel=Channel.upload).message_id)
                time.sleep(0.15)
            time.sleep(1.0)
            stop.set()
            t.join(10)
            t0 = time.perf_counter()
            assert h.wait_for(lambda: h.ledger_counts(url) == {"DELIVERED": n}, 90), h.ledger_counts(url)
            settle = time.perf_counter() - t0
            time.sleep(0.5)
        finally:
            stop.set()
            h.stop(worker)
            admin.dispose()
            engine.dispose()
            rec.close()
        by_po = rec.by_po()
        assert sorted(by_po) == sorted(pos) and all(len(w) == 1 for w in by_po.values())
        assert terminated[0] > 0
        log = wlog.read_text()
        retried = log.count("database error, retry") + log.count("relay pass failed") + log.count("sweep failed")
        assert retried > 0, "no stage saw the dropped connection"
        print(f"\nDB connections dropped: {terminated[0]} terminated during {n} orders, {retried} stage/relay/sweep "
              f"retries logged, all {n} delivered once ({settle:.1f}s after the drops stopped)")
