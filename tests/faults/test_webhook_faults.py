"""The webhook receiver down, answering 500, hanging: retried with exponential backoff and jitter,
delivered once it recovers, dead-lettered after the limit, re-drivable over the API and the CLI.

A real HTTP receiver (tests/scale/harness.Receiver) and the real relay; a short timeout stands in
for "hanging for minutes" (the relay gives up on each attempt after ``webhook_timeout_s``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timezone
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.service import ledger
from intake.service.db import make_engine, make_sessionmaker, unit_of_work
from intake.core.domain import Channel
from intake.service.migrate import upgrade
from intake.service.models import OrderEventRow, OutboxRow
from intake.service.outbox import Relay
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.scale import harness as h

BASE, CAP, TIMEOUT = 0.05, 0.4, 0.5


def _setup(tmp_path: Path, port: int, **kw: object) -> tuple[Settings, Pipeline]:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'ledger.db'}",
                        webhook_url=f"http://127.0.0.1:{port}/hook", webhook_secret=h.SECRET,
                        webhook_timeout_s=TIMEOUT, webhook_backoff_base_s=BASE, webhook_backoff_max_s=CAP,
                        webhook_max_attempts=kw.pop("max_attempts", 100), **kw)  # type: ignore[arg-type]
    engine = make_engine(settings.db_url)
    upgrade(engine)
    return settings, Pipeline(settings, make_sessionmaker(engine))


def _approved(pipe: Pipeline, po: str, n: int) -> str:
    res = pipe.ingest(h.x12_order(po, n), filename=f"{po}.edi", channel=Channel.upload)
    oid, = pipe.process_message(res.message_id)
    with pipe.sm() as s:
        assert ledger.get_order(s, oid).status == "APPROVED"
    return oid


def _row(pipe: Pipeline, oid: str) -> OutboxRow:
    with pipe.sm() as s:
        ob = s.scalar(select(OutboxRow).where(OutboxRow.order_id == oid))
        assert ob is not None
        return ob


def _pump(relay: Relay, pipe: Pipeline, oid: str, seconds: float, delays: list[tuple[int, float]] | None = None,
          until: str | None = None) -> None:
    """Run the relay for ``seconds`` (or until the row reaches ``until``), recording each retry's delay."""
    end = time.time() + seconds
    while time.time() < end:
        if relay.run_once() and delays is not None:
            t = time.time()  # the retry is scheduled when the attempt ends
            ob = _row(pipe, oid)
            due = ob.next_attempt_at.replace(tzinfo=ob.next_attempt_at.tzinfo or timezone.utc).timestamp()
            delays.append((ob.attempts, due - t))
        if until and _row(pipe, oid).status == until:
            return
        time.sleep(0.01)


def test_receiver_down_then_500_then_hanging_then_recovers(tmp_path: Path) -> None:
    port = h.free_port()
    settings, pipe = _setup(tmp_path, port)
    oid = _approved(pipe, "PO-W1", 1)
    relay = Relay(settings, pipe.sm)
    delays: list[tuple[int, float]] = []

    _pump(relay, pipe, oid, 1.2, delays)  # nobody listens on the port
    down = _row(pipe, oid)
    assert down.status == "pending" and down.attempts >= 3 and "ConnectError" in (down.last_error or "")

    rec = h.Receiver(port, mode="error")
    try:
        _pump(relay, pipe, oid, 1.0, delays)
        err = _row(pipe, oid)
        assert err.status == "pending" and err.last_status_code == 500 and err.attempts > down.attempts
        assert rec.attempts >= 1

        rec.mode = "hang"
        t0, before = time.time(), err.attempts
        _pump(relay, pipe, oid, 1.5, delays)
        hung = _row(pipe, oid)
        assert hung.status == "pending" and "Timeout" in (hung.last_error or "")
        per_attempt = (time.time() - t0) / max(1, hung.attempts - before)
        assert per_attempt < TIMEOUT + CAP + 0.5  # each attempt gives up after the timeout, not after minutes

        rec.mode = "ok"
        t1 = time.time()
        _pump(relay, pipe, oid, 5.0, until="sent")
        recovered = time.time() - t1
        sent = _row(pipe, oid)
        assert sent.status == "sent" and sent.sent_at is not None
        with pipe.sm() as s:
            assert ledger.get_order(s, oid).status == "DELIVERED"
        assert [w for w, _ in rec.received] == [sent.webhook_id] and rec.bad == 0
    finally:
        rec.close()

    # exponential backoff with "equal jitter": the n-th retry waits between half and all of
    # min(cap, base * 2^(n-1)); the waits grow until the cap
    for n, d in delays:
        full = min(CAP, BASE * 2 ** (n - 1))
        assert 0.5 * full - 0.05 <= d <= full + 0.05, (n, d, full)
    assert max(d for _, d in delays) > 4 * BASE
    print(f"\nwebhook faults: {down.attempts} attempts while down, {err.attempts - down.attempts} answered 500, "
          f"{hung.attempts - err.attempts} hung (timeout {TIMEOUT}s, {per_attempt:.2f}s per attempt), delivered "
          f"{recovered:.2f}s after recovery, once (attempt {sent.attempts})")


def test_dead_lettered_after_the_limit_and_redriven_by_api_and_cli(tmp_path: Path) -> None:
    rec = h.Receiver(mode="error")
    settings, pipe = _setup(tmp_path, rec.port, max_attempts=3)
    relay = Relay(settings, pipe.sm)
    a, b = _approved(pipe, "PO-D1", 1), _approved(pipe, "PO-D2", 2)
    try:
        _pump(relay, pipe, a, 5.0, until="dead")
        _pump(relay, pipe, b, 5.0, until="dead")
        for oid in (a, b):
            ob = _row(pipe, oid)
            assert ob.status == "dead" and ob.attempts == 3 and ob.last_status_code == 500
            with pipe.sm() as s:
                notes = [e.reason for e in s.scalars(select(OrderEventRow).where(OrderEventRow.order_id == oid))]
            assert any("dead-lettered after 3 attempts" in r for r in notes)
        attempts_before = rec.attempts
        _pump(relay, pipe, a, 0.3)
        assert rec.attempts == attempts_before  # a dead row is not retried by itself

        from intake.entry.api.app import create_app

        with unit_of_work(pipe.sm) as s:
            key = ledger.create_api_key(s, "ops", scopes=("admin",))  # re-driving is an admin's
        ob_a, ob_b = _row(pipe, a), _row(pipe, b)
        with TestClient(create_app(settings, start_workers=False)) as client:
            assert client.post(f"/api/v1/outbox/{ob_a.id}/redrive").status_code == 401
            r = client.post(f"/api/v1/outbox/{ob_a.id}/redrive", headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["attempts"] == 0
            assert client.post("/api/v1/outbox/999999/redrive",
                               headers={"Authorization": f"Bearer {key}"}).status_code == 404
        env = h.base_env(tmp_path, settings.db_url, None, settings.webhook_url or "")
        out = subprocess.run([sys.executable, "-m", "intake", "outbox", "redrive", str(ob_b.id)], env=env,
                             capture_output=True, text=True, timeout=60, cwd=h.ROOT)
        assert out.returncode == 0, out.stderr
        assert _row(pipe, b).status == "pending"

        rec.mode = "ok"
        _pump(relay, pipe, a, 5.0, until="sent")
        _pump(relay, pipe, b, 5.0, until="sent")
        assert _row(pipe, a).status == "sent" and _row(pipe, b).status == "sent"
        assert sorted(p["po_number"] for _, p in rec.received) == ["PO-D1", "PO-D2"]
        with pipe.sm() as s:
            assert {ledger.get_order(s, o).status for o in (a, b)} == {"DELIVERED"}
    finally:
        rec.close()
