"""Security: every route of the full app (API, channels, review UI, /metrics) refuses strangers and
wrong keys; API keys and passwords are stored hashed; uploads are size-limited; unknown types end
FAILED with a reason; the relay refuses internal addresses not on the allow-list; secrets never
reach the logs."""

from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from starlette.routing import Mount

from intake.service import ledger
from intake.entry.api.app import create_app
from intake.service.db import unit_of_work
from intake.core.domain import Channel
from intake.service.logs import configure_logging
from intake.service.models import ApiKeyRow, OutboxRow
from intake.service.outbox import Relay
from intake.core.settings import Settings
from intake.service.users import add_user
from tests.review_ui.test_routes import all_routes
from tests.scale.harness import SECRET, x12_order

PASSWORD = "Tr0ub4dor&3-horse-battery"
IMAP_PASSWORD = "imap-pa55word-zebra-42"
PUBLIC = {("GET", "/health"), ("GET", "/review/login"), ("POST", "/review/login")}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'ledger.db'}",
                    webhook_url="http://127.0.0.1:9/hook", webhook_secret=SECRET)


@pytest.fixture
def app(settings: Settings) -> Any:
    application = create_app(settings, start_workers=False)
    with unit_of_work(application.state.services.pipeline.sm) as s:
        add_user(s, "ada", "admin", PASSWORD)
    return application


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


def _order(app: Any, po: str = "PO-SEC-1") -> str:
    pipe = app.state.services.pipeline
    res = pipe.ingest(x12_order(po, 11), filename="po.edi", channel=Channel.upload)
    return str(pipe.process_message(res.message_id)[0])


def test_every_route_refuses_anonymous_and_wrong_keys(app: Any, client: TestClient) -> None:
    order_id = _order(app)
    with unit_of_work(app.state.services.pipeline.sm) as s:
        revoked = ledger.create_api_key(s, "old")
        s.execute(update(ApiKeyRow).where(ApiKeyRow.name == "old").values(revoked_at=datetime.now(timezone.utc)))
        message_id = ledger.get_order(s, order_id).message_id
    values = {"order_id": order_id, "message_id": message_id, "outbox_id": "1", "ack_id": "1", "name": "ada"}
    callers = {"anonymous": {}, "made-up key": {"Authorization": "Bearer oik_madeup"},
               "revoked key": {"Authorization": f"Bearer {revoked}"}, "basic auth": {"Authorization": "Basic YWRhOng="},
               "empty bearer": {"Authorization": "Bearer "}}
    walked, paths = 0, set()
    for full, route in all_routes(list(app.routes)):
        if isinstance(route, Mount):
            assert full == "/review/static", full  # the UI's CSS/JS only
            continue
        if not isinstance(route, APIRoute) and not hasattr(route, "methods"):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            path = _fill(full, values)
            paths.add(full)
            for who, headers in callers.items():
                r = client.request(method, path, headers=headers)
                walked += 1
                if (method, full) in PUBLIC:
                    assert r.status_code in (200, 403) and "PO-SEC-1" not in r.text, (who, method, path)
                    continue
                assert "PO-SEC-1" not in r.text and order_id not in r.text.replace(path, ""), (who, method, path)
                if r.status_code in (302, 303, 307):
                    assert r.headers["location"].startswith("/review/login"), (who, method, path, r.headers["location"])
                else:
                    assert r.status_code == 401, (who, method, path, r.status_code, r.text[:200])
    assert {"/metrics", "/api/v1/messages", "/api/v1/orders/{order_id}", "/openapi.json", "/docs"} <= paths
    assert walked >= 5 * 40
    # the same routes with a valid key do answer (the walk above is not vacuous)
    with unit_of_work(app.state.services.pipeline.sm) as s:
        key = ledger.create_api_key(s, "ok")
    assert client.get(f"/api/v1/orders/{order_id}", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_api_keys_and_passwords_are_stored_hashed(app: Any, client: TestClient, tmp_path: Path) -> None:
    with unit_of_work(app.state.services.pipeline.sm) as s:
        key = ledger.create_api_key(s, "ci")
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    with app.state.services.pipeline.sm() as s:
        row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.name == "ci"))
        assert row is not None and row.key_hash != key and key not in row.key_hash and len(row.key_hash) >= 64
    con = sqlite3.connect(tmp_path / "ledger.db")
    try:
        users = [dict(zip([d[0] for d in cur.description], r)) for cur in [con.execute("SELECT * FROM users")]
                 for r in cur.fetchall()]
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    assert users and all(str(u.get("password_hash", "")).startswith("$argon2id$") for u in users)
    assert PASSWORD not in dump and key not in dump  # neither in any table
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.db*"))
    assert PASSWORD.encode() not in raw and key.encode() not in raw  # nor in the file or its WAL


def test_upload_limit_and_unknown_types(app: Any, client: TestClient) -> None:
    with unit_of_work(app.state.services.pipeline.sm) as s:
        key = ledger.create_api_key(s, "ci")
    auth = {"Authorization": f"Bearer {key}"}
    limit = app.state.services.settings.limits.max_upload_bytes
    big = client.post("/api/v1/messages", files={"file": ("big.pdf", b"%PDF-1.7\n" + b"0" * limit)}, headers=auth)
    assert big.status_code == 413
    for name, data in [("x.bin", b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 20),
                       ("x.docx", _docx()), ("x.gif", b"GIF89a" + b"\x00" * 64)]:
        r = client.post("/api/v1/messages", files={"file": (name, data)}, headers=auth)
        if r.status_code == 415:
            continue
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["status"] == "FAILED" and body["reason"] and "\n" not in body["reason"]
        with app.state.services.pipeline.sm() as s:
            o = ledger.get_order(s, body["order_ids"][0])
            assert o.status == "FAILED" and o.reason == body["reason"]


def _docx() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.mark.parametrize("url", ["http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data/",
                                 "http://127.0.0.2:8080/hook", "http://[::ffff:127.0.0.5]/hook",
                                 "http://192.168.0.10/hook", "http://0.0.0.0/hook", "file:///etc/passwd"])
def test_relay_refuses_internal_addresses_not_allow_listed(tmp_path: Path, url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'l.db'}", webhook_url=url,
                        webhook_secret=SECRET, webhook_max_attempts=5)
    app = create_app(settings, start_workers=False)
    oid = _order(app)
    sent: list[httpx.Request] = []
    relay = Relay(settings, app.state.services.pipeline.sm,
                  transport=httpx.MockTransport(lambda req: sent.append(req) or httpx.Response(204)))
    relay.run_once()
    assert sent == []  # not one request left the building
    with app.state.services.pipeline.sm() as s:
        ob = s.scalar(select(OutboxRow).where(OutboxRow.order_id == oid))
        assert ob is not None and ob.status == "dead" and ob.sent_at is None  # a refused URL will not heal
        assert "allow" in (ob.last_error or "") or "http(s)" in (ob.last_error or ""), ob.last_error
    # allow-listing that host lets it through (the check is the allow-list, not a blanket refusal)
    if url.startswith("http://10.1.2.3"):
        ok = Settings(**{**settings.model_dump(), "webhook_allowed_hosts": "10.1.2.3"})
        assert ok.webhook_allowed_hosts == "10.1.2.3"
        from intake.service.webhooks import check_url_allowed

        check_url_allowed(url, ok.webhook_allowed_hosts)


def test_secrets_never_reach_the_logs(tmp_path: Path) -> None:
    """Run the API, a sign-in, the pipeline and the relay at DEBUG with a webhook secret, an API
    key, a password, an IMAP password and a database password configured; grep every line."""
    db_pw = "pg-s3cret-pass-77"
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'l.db'}",
                        webhook_url="http://127.0.0.1:9/hook", webhook_secret=SECRET, webhook_max_attempts=2,
                        imap={"host": "127.0.0.1", "user": "orders", "password": IMAP_PASSWORD},
                        broker_url=None)
    stream = io.StringIO()
    root = logging.getLogger()
    old_level = root.level
    handler = configure_logging("DEBUG", "json", settings=settings, stream=stream)
    try:
        app = create_app(settings, start_workers=False)
        with unit_of_work(app.state.services.pipeline.sm) as s:
            add_user(s, "ada", "admin", PASSWORD)
            key = ledger.create_api_key(s, "ci")
        with TestClient(app, follow_redirects=False) as c:
            auth = {"Authorization": f"Bearer {key}"}
            r = c.post("/api/v1/messages", files={"file": ("po.edi", x12_order("PO-LOG", 5))}, headers=auth)
            assert r.status_code == 202
            c.get("/api/v1/orders", headers=auth)
            c.get("/metrics", headers=auth)
            page = c.get("/review/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            c.post("/review/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token})
            c.post("/review/login", data={"name": "ada", "password": PASSWORD + "x", "csrf_token": token})
        pipe = app.state.services.pipeline
        for oid in r.json()["order_ids"]:
            pipe.advance(oid)
        Relay(settings, pipe.sm).run_once()  # nobody listens on :9: errors get logged
        # careless code paths: secrets inside messages, extras and exceptions
        log = logging.getLogger("intake.test")
        log.warning("calling with headers %s", {"Authorization": f"Bearer {key}", "webhook-secret": SECRET})
        log.error("login failed for ada password=%s", PASSWORD)
        log.info("connecting to postgresql://intake:%s@db/intake", db_pw)
        log.info("imap login", extra={"password": IMAP_PASSWORD, "user": "orders"})
        try:
            raise RuntimeError(f"could not sign with {SECRET} for key {key}")
        except RuntimeError:
            log.exception("signing failed")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    out = stream.getvalue()
    lines = out.splitlines()
    assert len(lines) > 20, "the run logged almost nothing: the grep would prove nothing"
    for line in lines:
        json.loads(line)  # every line is one JSON object
    for secret in (SECRET, SECRET.removeprefix("whsec_"), key, PASSWORD, IMAP_PASSWORD, db_pw):
        assert secret not in out, f"a secret reached the logs: {secret[:6]}..."
    assert out.count("[REDACTED]") >= 6
    assert any(json.loads(ln).get("order_id") for ln in lines)  # the pipeline's lines carry the order id
