"""People and their sessions: passwords, cookies, CSRF, roles, headers, escaping."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from intake.service.db import unit_of_work
from intake.service.users import (
    SESSION_IDLE, SessionRow, UserError, add_user, authenticate, create_session, session_identity, set_disabled,
    set_password,
)
from review_ui.auth import CSP, safe_next
from tests.review_ui.conftest import PASSWORD, ingest, login
from tests.review_ui.test_browser import X12_PAST


def _sm(app: Any) -> Any:
    return app.state.services.pipeline.sm


def test_passwords_are_argon2_and_sessions_end(app: Any) -> None:
    with unit_of_work(_sm(app)) as s:
        with pytest.raises(UserError, match="at least 8"):
            add_user(s, "shorty", "csr", "short")
        with pytest.raises(UserError, match="already exists"):
            add_user(s, "carla", "csr", PASSWORD)
        with pytest.raises(UserError, match="unknown role"):
            add_user(s, "zed", "boss", PASSWORD)
        with pytest.raises(UserError, match="not valid"):
            add_user(s, "<b>", "csr", PASSWORD)
    with unit_of_work(_sm(app)) as s:
        u = authenticate(s, "carla", PASSWORD)
        assert u is not None and u.password_hash.startswith("$argon2id$") and PASSWORD not in u.password_hash
        assert authenticate(s, "carla", PASSWORD + "x") is None
        assert authenticate(s, "nobody", PASSWORD) is None
        token, ident = create_session(s, u)
        assert session_identity(s, token) == ident and ident.role == "csr" and not ident.is_admin
        assert session_identity(s, token + "x") is None
    with unit_of_work(_sm(app)) as s:  # idle too long: the session is gone
        s.execute(update(SessionRow).values(last_seen_at=datetime.now(timezone.utc) - SESSION_IDLE - timedelta(minutes=1)))
    with unit_of_work(_sm(app)) as s:
        assert session_identity(s, token) is None
        u = authenticate(s, "carla", PASSWORD)
        token, _ = create_session(s, u)  # type: ignore[arg-type]
        set_password(s, "carla", "another-pass-2")  # a new password ends the old sessions
        assert session_identity(s, token) is None
        token, _ = create_session(s, authenticate(s, "carla", "another-pass-2"))  # type: ignore[arg-type]
        set_disabled(s, "carla")
        assert session_identity(s, token) is None and authenticate(s, "carla", "another-pass-2") is None


def test_cli_users_add_prompts_hidden_and_confirmed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.entry.cli import _mount_optional, app
    from intake.core.settings import get_settings

    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        _mount_optional()
        runner = CliRunner()
        r = runner.invoke(app, ["users", "add", "bob", "--role", "admin"], input="pass-word-9\npass-word-9\n")
        assert r.exit_code == 0, r.output
        assert "pass-word-9" not in r.output  # hidden
        r = runner.invoke(app, ["users", "add", "eve"], input="pass-word-9\nsomething-else\npass-word-9\npass-word-9\n")
        assert r.exit_code == 0 and "do not match" in r.output.lower()
        r = runner.invoke(app, ["users", "add", "al", "--role", "csr", "--password", "pass-word-7"])
        assert r.exit_code == 0
        r = runner.invoke(app, ["users", "disable", "al"])
        assert r.exit_code == 0
        listing = runner.invoke(app, ["users", "list"]).output
        assert re.search(r"bob\s+admin\s+active", listing) and re.search(r"al\s+csr\s+disabled", listing)
        assert re.search(r"eve\s+csr\s+active", listing)
    finally:
        get_settings.cache_clear()


def test_cookie_flags_csp_and_logout(app: Any) -> None:
    with TestClient(app, follow_redirects=False) as c:
        page = c.get("/review/login")
        assert page.headers["content-security-policy"] == CSP
        for d in ("default-src 'self'", "img-src 'self' data:", "script-src 'self'", "style-src 'self'",
                  "frame-ancestors 'none'", "form-action 'self'"):
            assert d in CSP
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = c.post("/review/login", data={"name": "carla", "password": PASSWORD, "csrf_token": token})
        cookie = r.headers["set-cookie"]
        assert "intake_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert "Secure" not in cookie  # plain http (development): a Secure cookie would never come back
        queue = c.get("/review")
        assert queue.status_code == 200 and queue.headers["content-security-policy"] == CSP
        assert "<script>" not in queue.text and "style=" not in queue.text  # nothing inline for the CSP to block
        assert c.get("/api/v1/orders").status_code == 200  # the browser's session opens the API too
        csrf = re.search(r'csrf-token" content="([^"]+)"', queue.text).group(1)  # type: ignore[union-attr]
        r = c.post("/review/logout", data={"csrf_token": csrf})
        assert r.status_code == 303 and 'intake_session=""' in r.headers["set-cookie"]
        assert c.get("/review").status_code == 303
    # the same over https: the cookie is Secure
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        page = c.get("/review/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = c.post("/review/login", data={"name": "carla", "password": PASSWORD, "csrf_token": token})
        assert "Secure" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]


def test_csrf_is_required_on_forms_edits_and_cookie_api_calls(app: Any, client: TestClient) -> None:
    oid = ingest(app)
    # the login form itself: no token, no sign-in
    r = client.post("/review/login", data={"name": "carla", "password": PASSWORD})
    assert r.status_code == 403 and "intake_session" not in r.headers.get("set-cookie", "")
    csrf = login(client)
    r = client.post(f"/review/orders/{oid}/reject", data={"reason": "no token"})
    assert r.status_code == 403
    r = client.post(f"/review/orders/{oid}/reject", data={"reason": "bad token", "csrf_token": "x" * 43})
    assert r.status_code == 403
    r = client.post(f"/review/api/orders/{oid}/edit", json={"version": 1, "ops": [{"field": "total", "value": 1}]})
    assert r.status_code == 403
    r = client.post(f"/api/v1/orders/{oid}/reject", json={"reason": "cross-site"})
    assert r.status_code == 403 and r.json()["error"] == "csrf"
    with app.state.services.pipeline.sm() as s:
        from intake.service import ledger

        assert ledger.get_order(s, oid).status == "NEEDS_REVIEW" and ledger.get_order(s, oid).version == 1
    # with the token everything works
    r = client.post(f"/api/v1/orders/{oid}/reject", json={"reason": "by the API"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["status"] == "REJECTED"
    assert r.json()["history"][-1]["actor"] == "user:carla"


def test_roles_throttle_and_redirects(app: Any, client: TestClient) -> None:
    login(client)
    assert client.get("/review/admin/users").status_code == 403
    assert client.get("/review/admin/settings").status_code == 403
    def attempt(c: TestClient, password: str) -> Any:
        page = c.get("/review/login")
        tok = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        return c.post("/review/login", data={"name": "ada", "password": password, "csrf_token": tok})

    with TestClient(app, follow_redirects=False, client=("198.51.100.7", 4000)) as attacker:
        for _ in range(3):
            assert attempt(attacker, "wrong-one").status_code == 401
        r = attempt(attacker, PASSWORD)
        assert r.status_code == 429  # even the right password waits after three wrong ones from there
        assert 0 < int(r.headers["retry-after"]) <= 2 and "try again in" in r.text
    # the real user, from their own address, is not locked out by someone else's guesses
    with TestClient(app, follow_redirects=False, client=("192.0.2.10", 4000)) as real:
        assert attempt(real, PASSWORD).status_code == 303
    assert safe_next("//evil.example/x") == "/review" and safe_next("https://evil.example") == "/review"
    assert safe_next("/review/orders/abc?tab=held") == "/review/orders/abc?tab=held"
    r = client.get("/review/login?next=//evil.example")
    assert r.status_code == 303 and r.headers["location"] == "/review"


def test_mail_and_field_content_is_escaped(app: Any, client: TestClient) -> None:
    evil = "<script>alert('x')</script><img src=http://evil.example/t.png>"
    mail = (f"From: Buyer <buyer@example.com>\r\nTo: orders@example.com\r\nSubject: PO {evil}\r\n"
            f"Message-ID: <xss-1@example.com>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            f"<html><body><p>Please ship {evil}</p><script>document.title='pwned'</script></body></html>\r\n").encode()
    pipe = app.state.services.pipeline
    res = pipe.ingest(mail, filename="evil.eml", subject=f"PO {evil}", sender="buyer@example.com")
    mail_order = pipe.process_message(res.message_id)[0]
    x12 = X12_PAST.replace("HEX NUT 1/4-20 ZINC", "<script>alert(1)</script>")
    oid = ingest(app, x12, "evil.edi")
    login(client)
    for order_id in (mail_order, oid):
        page = client.get(f"/review/orders/{order_id}")
        assert page.status_code == 200
        html = page.text
        assert "<script>alert" not in html and "<img src=http://evil" not in html, order_id
        assert "document.title=" not in html or "&lt;script&gt;document.title" in html
        assert page.headers["content-security-policy"] == CSP
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(f"/review/orders/{oid}").text
    mail_page = client.get(f"/review/orders/{mail_order}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in mail_page  # the subject, shown as text
    # the only scripts on the page are the UI's own files (and a JSON data block that is never run)
    scripts = re.findall(r"<script([^>]*)>", mail_page)
    assert all('src="/review/static/' in a or 'type="application/json"' in a for a in scripts), scripts
    queue = client.get("/review?tab=failed").text + client.get("/review").text
    assert "<script>alert" not in queue
