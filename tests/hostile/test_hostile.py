"""The hostile-input corpus through the pipeline and through a real `intake serve`: every input
ends FAILED with a one-line reason (or is refused at upload with 413/415), and the service stays up."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from intake.service import ledger
from intake.service.db import make_engine, make_sessionmaker
from intake.core.domain import Channel
from intake.service.migrate import upgrade
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.hostile.corpus import HOSTILE, OVERSIZED, TOLERATED
from tests.scale import harness as h


@pytest.fixture(scope="module")
def pipe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    d = tmp_path_factory.mktemp("hostile")
    settings = Settings(data_dir=d / "data", database_url=f"sqlite:///{d / 'ledger.db'}")
    engine = make_engine(settings.db_url)
    upgrade(engine)
    yield Pipeline(settings, make_sessionmaker(engine))
    engine.dispose()


def _one_line_reason(reason: str | None) -> None:
    assert reason, "FAILED without a reason"
    assert "\n" not in reason and "Traceback" not in reason and len(reason) <= 600, reason


def _process(pipe: Pipeline, data: bytes, name: str) -> list[tuple[str, str | None]]:
    res = pipe.ingest(data, filename=None, channel=Channel.imap)
    ids = pipe.process_message(res.message_id)
    with pipe.sm() as s:
        return [(o.status, o.reason) for o in (ledger.get_order(s, i) for i in ids)]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_ends_failed_with_a_one_line_reason(pipe: Pipeline, name: str) -> None:
    t0 = time.perf_counter()
    orders = _process(pipe, HOSTILE[name](), name)
    assert len(orders) == 1, orders
    status, reason = orders[0]
    assert status == "FAILED", (status, reason)
    _one_line_reason(reason)
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize("name", sorted(TOLERATED))
def test_tolerated_broken_input_does_not_crash(pipe: Pipeline, name: str) -> None:
    orders = _process(pipe, TOLERATED[name](), name)
    assert orders and all(s in ("FAILED", "APPROVED", "NEEDS_REVIEW", "DUPLICATE") for s, _ in orders)
    for s, r in orders:
        if s == "FAILED":
            _one_line_reason(r)


@pytest.mark.slow
def test_a_100_mb_attachment_handed_over_by_a_channel_ends_failed(pipe: Pipeline) -> None:
    orders = _process(pipe, OVERSIZED["mail_100mb_attachment"](), "big")
    assert [s for s, _ in orders] == ["FAILED"]
    _one_line_reason(orders[0][1])
    assert "larger than the limit" in (orders[0][1] or "")


@pytest.mark.slow
def test_over_http_each_is_failed_or_refused_and_the_service_stays_up(tmp_path: Path) -> None:
    env = h.base_env(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}", None, "http://127.0.0.1:9/hook")
    key = h.api_key(env)
    auth = {"Authorization": f"Bearer {key}"}
    port = h.free_port()
    server = h.start_serve(env, port, log=tmp_path / "serve.log")
    base = f"http://127.0.0.1:{port}"
    outcomes: dict[str, str] = {}
    try:
        for name, gen in sorted({**HOSTILE, **OVERSIZED}.items()):
            r = httpx.post(f"{base}/api/v1/messages", files={"file": (name, gen())}, headers=auth, timeout=120)
            if r.status_code in (413, 415):
                outcomes[name] = str(r.status_code)
                ctype = r.headers.get("content-type", "")
                _one_line_reason(r.json().get("detail") if ctype.startswith("application/json") else r.text)
                continue
            assert r.status_code == 202, (name, r.status_code, r.text[:300])
            body = r.json()
            assert body["status"] == "FAILED", (name, body)
            _one_line_reason(body["reason"])
            outcomes[name] = "FAILED"
            assert server.poll() is None, f"the server died on {name}"
        assert outcomes["mail_100mb_attachment"] == "413"
        assert httpx.get(f"{base}/health", timeout=10).status_code == 200
        # and it still does its job
        ok = httpx.post(f"{base}/api/v1/messages", files={"file": ("po.edi", h.x12_order("PO-AFTER", 7))},
                        headers=auth, timeout=30).json()
        assert ok["status"] == "PROCESSED" and len(ok["order_ids"]) == 1
        print(f"\nhostile corpus over HTTP: {list(outcomes.values()).count('FAILED')} FAILED with a reason, "
              f"{sum(v in ('413', '415') for v in outcomes.values())} refused (413/415), server up")
    finally:
        h.stop(server)
