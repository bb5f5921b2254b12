"""The HTTP API: authentication, upload, orders with history, deliveries, acknowledgments."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from intake.service import ledger
from intake.entry.api.app import create_app
from intake.service.db import unit_of_work
from intake.core.settings import Settings
from tests.intake.service.test_pipeline import SECRET, X12_850


@pytest.fixture
def client(tmp_path: Path):
    s = Settings(data_dir=tmp_path / "data", webhook_secret=SECRET)
    app = create_app(s, start_workers=False)
    with TestClient(app) as c:
        with unit_of_work(app.state.services.pipeline.sm) as sess:
            key = ledger.create_api_key(sess, "test")
        c.headers["Authorization"] = f"Bearer {key}"
        yield c


def test_every_route_but_health_needs_a_key(client: TestClient) -> None:
    anon = TestClient(client.app)
    assert anon.get("/health").status_code == 200
    for route in client.app.routes:
        path = getattr(route, "path", "")
        if path == "/health":
            continue
        url = path.replace("{order_id}", "x").replace("{message_id}", "x").replace("{outbox_id}", "1").replace("{ack_id}", "1")
        for method in getattr(route, "methods", []) or []:
            if method == "HEAD":
                continue
            r = anon.request(method, url)
            assert r.status_code == 401, (method, path, r.status_code)
            r = anon.request(method, url, headers={"Authorization": "Bearer wrong"})
            assert r.status_code == 401, (method, path)


def test_upload_gives_orders_with_history(client: TestClient) -> None:
    r = client.post("/api/v1/messages", files={"file": ("po.edi", X12_850.encode(), "application/edi-x12")})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "PROCESSED" and len(body["order_ids"]) == 1 and not body["duplicate"]
    oid = body["order_ids"][0]
    pipe = client.app.state.services.pipeline
    pipe.advance(oid)
    o = client.get(f"/api/v1/orders/{oid}").json()
    assert o["status"] == "APPROVED" and o["po_number"] == "PO-77001"
    assert [h["to_status"] for h in o["history"] if h["kind"] == "transition"] == ["RECEIVED", "EXTRACTED", "MATCHED", "APPROVED"]
    assert o["deliveries"][0]["status"] == "pending"
    again = client.post("/api/v1/messages", files={"file": ("copy.edi", X12_850.encode())}).json()
    assert again["duplicate"] and again["message_id"] == body["message_id"]
    listing = client.get("/api/v1/orders", params={"status": "APPROVED"}).json()
    assert listing["total"] == 1 and listing["orders"][0]["id"] == oid
    acks = client.get("/api/v1/acknowledgments").json()["acknowledgments"]
    assert {a["kind"] for a in acks} == {"997", "855"}
    text = client.get(f"/api/v1/acknowledgments/{acks[0]['id']}").text
    assert text.startswith("ISA")


def test_bad_upload_answers_failed_with_reason(client: TestClient) -> None:
    r = client.post("/api/v1/messages", files={"file": ("x.bin", b"\x00\x01garbage" * 50)})
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "FAILED" and body["reason"] and "\n" not in body["reason"]
    o = client.get(f"/api/v1/orders/{body['order_ids'][0]}").json()
    assert o["status"] == "FAILED" and o["problems"][0]["message"] == body["reason"]


def test_unknown_order_is_404_and_docs_need_a_key(client: TestClient) -> None:
    assert client.get("/api/v1/orders/nope").status_code == 404
    assert client.get("/openapi.json").json()["paths"]["/api/v1/messages"]
    assert client.get("/docs").status_code == 200


def test_upload_over_the_limit_is_413(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d2")
    s.limits.max_upload_bytes = 1000
    app = create_app(s, start_workers=False)
    with TestClient(app) as c:
        with unit_of_work(app.state.services.pipeline.sm) as sess:
            key = ledger.create_api_key(sess, "t")
        r = c.post("/api/v1/messages", files={"file": ("big.pdf", b"%PDF" + b"0" * 5000)},
                   headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 413


def test_numbers_past_what_the_database_holds_are_422_not_a_crash(client: TestClient) -> None:
    r = client.get("/api/v1/orders", params={"offset": 2**63})
    assert r.status_code == 422, r.text
    assert client.get("/api/v1/orders", params={"offset": 10}).status_code == 200
