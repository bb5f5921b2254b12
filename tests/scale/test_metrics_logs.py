"""/metrics from the ledger (any process may have done the work) and the structured logs."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from intake.service import ledger
from intake.entry.api.app import create_app
from intake.service.db import unit_of_work
from intake.core.domain import Channel
from intake.service.logs import REDACTED, configure_logging, log_context, redact, register_secret
from intake.service.metrics import parse
from intake.service.outbox import Relay
from intake.core.settings import Settings
from tests.review_ui.test_browser import X12_PAST
from tests.scale.harness import SECRET, x12_order


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(n, tuple(sorted(lb.items()))): v for n, lb, v in parse(text)}


def test_metrics_count_states_queues_failures_and_touchless_rate(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'l.db'}",
                        webhook_url="http://127.0.0.1:9/hook", webhook_secret=SECRET, webhook_max_attempts=1)
    app = create_app(settings, start_workers=False)
    pipe = app.state.services.pipeline
    with unit_of_work(pipe.sm) as s:
        key = ledger.create_api_key(s, "ci")
    auth = {"Authorization": f"Bearer {key}"}
    machine, = pipe.process_message(pipe.ingest(x12_order("PO-M1", 1), filename="a.edi").message_id)
    review, = pipe.process_message(pipe.ingest(X12_PAST.encode(), filename="b.edi").message_id)
    failed, = pipe.process_message(pipe.ingest(b"\x00garbage" * 50, filename="c.bin", channel=Channel.imap).message_id)
    pending = pipe.ingest(x12_order("PO-M2", 2), filename="d.edi").message_id  # stored, not read yet
    with TestClient(app) as c:
        with pipe.sm() as s:
            assert ledger.get_order(s, review).status == "NEEDS_REVIEW"
        # its requested date is past: approving it anyway needs the override, as in the UI
        assert c.post(f"/api/v1/orders/{review}/approve", json={"reason": "checked", "override": True},
                      headers=auth).status_code == 200
        # the receiver answers 500 and one attempt is the limit: both webhooks are dead-lettered
        Relay(settings, pipe.sm, transport=httpx.MockTransport(lambda r: httpx.Response(500))).run_once()
        assert c.get("/metrics").status_code == 401
        r = c.get("/metrics", headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    m = _samples(r.text)
    assert m[("intake_orders", (("channel", "upload"), ("status", "APPROVED")))] == 2
    assert m[("intake_orders", (("channel", "imap"), ("status", "FAILED")))] == 1
    assert m[("intake_messages", (("status", "RECEIVED"),))] == 1
    assert m[("intake_queue_depth", (("queue", "messages_pending"),))] == 1
    assert m[("intake_queue_oldest_seconds", (("queue", "messages_pending"),))] >= 0
    assert m[("intake_queue_depth", (("queue", "outbox_dead"),))] == 2
    assert m[("intake_queue_depth", (("queue", "outbox_pending"),))] == 0
    assert m[("intake_webhook_attempts", (("status", "dead"),))] == 2
    assert m[("intake_webhook_failures", ())] == 2
    assert m[("intake_orders_approved", (("by", "machine"),))] == 1
    assert m[("intake_orders_approved", (("by", "person"),))] == 1
    assert m[("intake_touchless_ratio", ())] == 0.5
    assert m[("intake_orders_by_extractor", (("extractor", "edi-x12"),))] == 2
    assert {lb for (n, lb) in m if n == "intake_ledger_stage_seconds"} >= {
        (("quantile", "0.95"), ("stage", s)) for s in ("read", "match", "decide")}
    assert any(n == "intake_model_info" for n, _ in m)
    assert m[("intake_stage_runs_total", (("outcome", "ok"), ("stage", "read")))] >= 3
    assert m[("intake_stage_seconds_count", (("stage", "decide"),))] >= 2
    del machine, failed, pending


def test_json_lines_carry_the_ids_and_redact_secrets() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("INFO", "json", stream=stream)
    register_secret("s3cr3t-value-xyz")
    try:
        log = logging.getLogger("intake.test")
        with log_context(message_id="m-1"):
            log.info("outer")
            with log_context(order_id="o-1"):
                log.info("inner %s", "arg", extra={"webhook_id": "msg_o-1_v1"})
        log.info("after")
        log.warning("token oik_abcdefghijklmnop and %s in postgresql://u:pw123@h/db", "s3cr3t-value-xyz")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = [json.loads(ln) for ln in stream.getvalue().splitlines()]
    assert [ln["message"] for ln in lines] == ["outer", "inner arg", "after", lines[3]["message"]]
    assert lines[0]["message_id"] == "m-1" and "order_id" not in lines[0]
    assert lines[1]["order_id"] == "o-1" and lines[1]["message_id"] == "m-1" and lines[1]["webhook_id"] == "msg_o-1_v1"
    assert "order_id" not in lines[2] and "message_id" not in lines[2]
    assert lines[1]["logger"] == "intake.test" and lines[1]["level"] == "INFO" and lines[1]["ts"].endswith("Z")
    assert "oik_" not in lines[3]["message"] and "s3cr3t" not in lines[3]["message"] and "pw123" not in lines[3]["message"]


def test_redact_patterns() -> None:
    cases = {
        "Authorization: Bearer abc.def-123456": "abc.def-123456",
        "{'authorization': 'Basic YWRhOnB3'}": "YWRhOnB3",
        "secret=whsec_c2VjcmV0LXNlY3JldA==": "c2VjcmV0LXNlY3JldA",
        '{"password": "hunter2hunter2"}': "hunter2hunter2",
        "api_key=k-123456789": "k-123456789",
        "redis://:brokerpw@127.0.0.1:6379/0": "brokerpw",
        "Cookie: intake_session=abcdef0123456789": "abcdef0123456789",
    }
    for text, secret in cases.items():
        out = redact(text)
        assert secret not in out and REDACTED in out, (text, out)
    assert redact("order PO-1 for 3 EA at 2.50") == "order PO-1 for 3 EA at 2.50"  # plain text untouched


def test_ledger_stage_latency_of_read_starts_when_the_bytes_arrived(tmp_path: Path) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from intake.service.metrics import render
    from intake.service.models import MessageRow

    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'l.db'}")
    app = create_app(settings, start_workers=False)
    pipe = app.state.services.pipeline
    mid = pipe.ingest(x12_order("PO-LAT", 9), filename="a.edi").message_id
    with unit_of_work(pipe.sm) as s:  # the message waited ten minutes in the queue before a worker read it
        row = s.get(MessageRow, mid)
        s.execute(update(MessageRow).where(MessageRow.id == mid)
                  .values(received_at=row.received_at - timedelta(minutes=10)))
    pipe.process_message(mid)

    m = _samples(render(pipe.sm, settings).decode())
    assert m[("intake_ledger_stage_seconds", (("quantile", "0.5"), ("stage", "read")))] >= 600
    assert m[("intake_ledger_stage_seconds", (("quantile", "0.5"), ("stage", "match")))] < 300
