"""The spine end to end on SQLite and PostgreSQL: ingest -> read -> match -> decide -> outbox -> webhook."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from intake.service import ledger
from intake.service.db import make_engine, make_sessionmaker
from intake.core.domain import Channel
from intake.service.migrate import upgrade
from intake.service.models import MessageRow, OrderRow, OutboxRow
from intake.service.outbox import Relay
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.intake.dbutil import database_url

SECRET = "whsec_" + base64.b64encode(b"spine-test-secret-0123456789abcd").decode()

# A small 850 written for these tests: '*' elements, '~' segments, ':' components.
X12_850 = (
    "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*SELLERCO       *261130*1200*U*00401*000000101*0*P*:~"
    "GS*PO*BUYERCO*SELLERCO*20261130*1200*101*X*004010~"
    "ST*850*0001~"
    "BEG*00*SA*PO-77001**20261128~"
    "CUR*BY*USD~"
    "N1*BY*BUYER COMPANY INC~"
    "N1*ST*BUYER DC 4*92*0004~N3*12 DOCK ROAD~N4*TOLEDO*OH*43601~"
    "PO1*1*10*EA*2.5**VN*HX-1420~PID*F****HEX NUT 1/4-20 ZINC~"
    "PO1*2*4*BX*18**VN*WSH-0250~PID*F****FLAT WASHER 1/4 BOX OF 100~"
    "CTT*2~AMT*TT*97~"
    "SE*12*0001~GE*1*101~IEA*1*000000101~"
)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    with database_url(request.param, tmp_path) as url:
        yield Settings(data_dir=tmp_path / "data", database_url=url, webhook_url="http://127.0.0.1:9/hook",
                       webhook_secret=SECRET, webhook_backoff_base_s=0.0, webhook_max_attempts=3)


def _pipeline(settings: Settings) -> Pipeline:
    engine = make_engine(settings.db_url)
    upgrade(engine)
    return Pipeline(settings, make_sessionmaker(engine))


class Receiver:
    """A webhook receiver behind httpx.MockTransport that verifies every signature."""

    def __init__(self, status: int = 204) -> None:
        self.status, self.received = status, []

    def __call__(self, req: httpx.Request) -> httpx.Response:
        body = req.content.decode()
        payload = Webhook(SECRET).verify(body, dict(req.headers))  # raises on a bad signature
        self.received.append((req.headers["webhook-id"], payload))
        return httpx.Response(self.status)


def test_edi_order_travels_to_a_signed_webhook(settings: Settings) -> None:
    pipe = _pipeline(settings)
    res = pipe.ingest(X12_850.encode(), filename="po.edi", channel=Channel.upload)
    assert not res.duplicate and res.status == "RECEIVED"
    ids = pipe.process_message(res.message_id)
    assert len(ids) == 1
    with pipe.sm() as s:
        order = ledger.to_order(s, ledger.get_order(s, ids[0]))
    assert order.status == "APPROVED", order.problems
    assert order.po_number == "PO-77001" and order.currency == "USD" and order.total == 97
    assert [(ln.sku, ln.quantity, ln.uom, ln.unit_price) for ln in order.lines] == [
        ("HX-1420", 10, "EA", 2.5), ("WSH-0250", 4, "BX", 18)]
    assert [h.to_status for h in order.history if h.kind == "transition"] == ["RECEIVED", "EXTRACTED", "MATCHED", "APPROVED"]
    assert all(h.actor and h.reason for h in order.history)

    receiver = Receiver()
    relay = Relay(settings, pipe.sm, transport=httpx.MockTransport(receiver))
    assert relay.run_once() == 1
    assert relay.run_once() == 0  # nothing is sent twice
    (wid, payload), = receiver.received
    assert wid == f"msg_{order.id}_v1"
    assert payload["id"] == order.id and payload["po_number"] == "PO-77001"
    assert payload["lines"][1]["sku"] == "WSH-0250" and payload["lines"][1]["quantity"] == 4
    for key in ("id", "status", "customer_id", "po_number", "order_date", "requested_date", "ship_to", "currency",
                "payment_terms", "total", "lines", "confidence", "problems", "history"):
        assert key in payload
    with pipe.sm() as s:
        assert ledger.get_order(s, order.id).status == "DELIVERED"
        docs = ledger.outbound_docs(s)
    assert sorted(r.kind for r in docs) == ["855", "997"]
    # the acknowledgments went through the outbox: queued with the order, written by the relay
    assert {r.status for r in docs} == {"pending"} and not settings.outbound_dir.exists()
    assert relay.write_acks() == 2 and relay.write_acks() == 0
    assert sorted(os.listdir(settings.outbound_dir)) == sorted(r.filename for r in docs)
    assert all((settings.outbound_dir / r.filename).read_bytes() == r.content for r in docs)
    with pipe.sm() as s:
        assert {r.status for r in ledger.outbound_docs(s)} == {"written"}
        notes = [h.reason for h in ledger.to_order(s, ledger.get_order(s, order.id)).history if h.kind == "note"]
    assert any("855 acknowledgment written" in (n or "") for n in notes), notes


def test_same_bytes_twice_is_one_message(settings: Settings) -> None:
    pipe = _pipeline(settings)
    first = pipe.ingest(X12_850.encode(), filename="a.edi")
    pipe.process_message(first.message_id)
    second = pipe.ingest(X12_850.encode(), filename="b.edi")
    assert second.duplicate and second.message_id == first.message_id
    assert second.order_ids == first.order_ids or len(second.order_ids) == 1
    with pipe.sm() as s:
        assert s.query(MessageRow).count() == 1
        assert s.query(OrderRow).count() == 1
    blobs = [p for p in settings.blob_dir.rglob("*") if p.is_file()]
    assert len(blobs) == 1


@pytest.mark.parametrize("data,needle", [
    (b"", "empty"),
    (os.urandom(2048), ""),
    (X12_850[:150].encode(), ""),
    (X12_850.replace("ST*850", "ST*810").replace("BEG*", "BIG*").encode(), "810"),
])
def test_bad_input_is_kept_and_fails_with_one_line(settings: Settings, data: bytes, needle: str) -> None:
    pipe = _pipeline(settings)
    res = pipe.ingest(data, filename="bad.bin")
    ids = pipe.process_message(res.message_id)
    res = pipe.message_result(res.message_id)
    assert res.status == "FAILED" and res.reason and "\n" not in res.reason and "Traceback" not in res.reason
    assert needle.lower() in res.reason.lower()
    with pipe.sm() as s:
        order = ledger.to_order(s, ledger.get_order(s, ids[0]))
        assert order.status == "FAILED" and order.problems[-1].message == res.reason
        assert pipe.blobs.get(s.get(MessageRow, res.message_id).sha256) == data  # the raw message is kept


def test_a_crash_between_stages_resumes_and_delivers_once(settings: Settings) -> None:
    pipe = _pipeline(settings)
    res = pipe.ingest(X12_850.encode(), filename="po.edi")
    ids = pipe.read_message(res.message_id)  # ... and the process dies here
    pipe2 = _pipeline(settings)  # a new process
    assert pipe2.pending_orders() == ids
    pipe2.resume()
    pipe2.resume()  # running again changes nothing
    receiver = Receiver()
    Relay(settings, pipe2.sm, transport=httpx.MockTransport(receiver)).run_once()
    with pipe2.sm() as s:
        assert s.query(OutboxRow).count() == 1
        assert ledger.get_order(s, ids[0]).status == "DELIVERED"
    assert len(receiver.received) == 1


def test_failing_receiver_is_retried_then_dead_lettered_and_redriven(settings: Settings) -> None:
    pipe = _pipeline(settings)
    ids = pipe.process_message(pipe.ingest(X12_850.encode()).message_id)
    bad = Receiver(status=500)
    relay = Relay(settings, pipe.sm, transport=httpx.MockTransport(bad))
    for _ in range(5):
        relay.run_once()
    assert len(bad.received) == settings.webhook_max_attempts
    with pipe.sm() as s:
        ob = s.query(OutboxRow).one()
        assert ob.status == "dead" and ob.last_status_code == 500
        assert ledger.get_order(s, ids[0]).status == "APPROVED"
    from intake.service import outbox
    from intake.service.db import unit_of_work

    with unit_of_work(pipe.sm) as s:
        outbox.redrive(s, ob.id, actor="user:test")
    good = Receiver()
    Relay(settings, pipe.sm, transport=httpx.MockTransport(good)).run_once()
    assert [w for w, _ in good.received] == [ob.webhook_id]  # same id: the receiver can de-duplicate
    with pipe.sm() as s:
        assert ledger.get_order(s, ids[0]).status == "DELIVERED"


def test_an_order_cannot_be_moved_twice(settings: Settings) -> None:
    from intake.core.errors import InvalidTransition
    from intake.core.states import OrderStatus

    pipe = _pipeline(settings)
    ids = pipe.read_message(pipe.ingest(X12_850.encode()).message_id)
    s1, s2 = pipe.sm(), pipe.sm()
    o1, o2 = ledger.get_order(s1, ids[0]), ledger.get_order(s2, ids[0])
    ledger.transition(s1, o1, OrderStatus.MATCHED, actor="a", reason="first")
    s1.commit()
    with pytest.raises(InvalidTransition):
        ledger.transition(s2, o2, OrderStatus.MATCHED, actor="b", reason="second")
    s2.rollback()
    s1.close(), s2.close()
    with pipe.sm() as s:
        hist = ledger.order_history(s, ids[0])
    assert [h.reason for h in hist if h.to_status == "MATCHED"] == ["first"]


def test_payload_is_json_of_the_order(settings: Settings) -> None:
    pipe = _pipeline(settings)
    ids = pipe.process_message(pipe.ingest(X12_850.encode()).message_id)
    with pipe.sm() as s:
        ob = s.query(OutboxRow).one()
        assert json.loads(ob.payload)["id"] == ids[0]
