"""Roles on the API equal roles in the UI; the history names who really acted; API keys are
scoped, listable and revocable; a bad key never falls back to the cookie; CSRF whenever a cookie
authenticates; the API docs come from this server; demo users have their own passwords; login
throttling slows guessing without locking anyone out."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from intake.service import ledger
from intake.service.db import unit_of_work
from intake.service.models import OutboxRow
from intake.core.settings import Settings
from intake.service.users import add_user, authenticate
from review_ui.auth import LoginThrottle
from tests.review_ui.conftest import PASSWORD, SECRET, ingest, login, make_app
from tests.review_ui.test_browser import X12_PAST
from tests.scale.harness import x12_order


@pytest.fixture
def app(tmp_path: Path) -> Any:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'ledger.db'}",
                        webhook_url="http://127.0.0.1:9/hook", webhook_secret=SECRET)
    application = make_app(settings)
    with unit_of_work(application.state.services.pipeline.sm) as s:
        add_user(s, "carla", "csr", PASSWORD)
        add_user(s, "ada", "admin", PASSWORD)
    return application


@pytest.fixture
def csr(app: Any) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app, follow_redirects=False) as c:
        yield c, login(c, "carla")


@pytest.fixture
def admin(app: Any) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app, follow_redirects=False, client=("192.0.2.20", 5000)) as c:
        yield c, login(c, "ada")


def _key(app: Any, name: str, *scopes: str, partner: str | None = None) -> dict[str, str]:
    with unit_of_work(app.state.services.pipeline.sm) as s:
        key = ledger.create_api_key(s, name, scopes=scopes or ledger.DEFAULT_SCOPES, partner=partner)
    return {"Authorization": f"Bearer {key}"}


def _dead_delivery(app: Any) -> tuple[str, int]:
    pipe = app.state.services.pipeline
    res = pipe.ingest(x12_order("PO-DEAD-1", 1), filename="po.edi")
    (oid,) = pipe.process_message(res.message_id)
    pipe.advance(oid)
    with unit_of_work(pipe.sm) as s:
        assert ledger.get_order(s, oid).status == "APPROVED"
        s.execute(update(OutboxRow).where(OutboxRow.order_id == oid).values(status="dead", attempts=8))
        (ob,) = ledger.outbox_rows(s, order_id=oid)
        return oid, ob.id


def _notes(app: Any, oid: str) -> list[tuple[str, str]]:
    with app.state.services.pipeline.sm() as s:
        return [(h.actor, h.reason) for h in ledger.order_history(s, oid)]


def test_a_csr_cannot_redrive_webhooks_over_the_api_and_history_names_who_did(
        app: Any, csr: tuple[TestClient, str], admin: tuple[TestClient, str]) -> None:
    oid, ob = _dead_delivery(app)
    c, token = csr
    r = c.post(f"/api/v1/outbox/{ob}/redrive", headers={"X-CSRF-Token": token})
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert c.get("/review/admin/webhooks").status_code == 403  # as in the UI
    r = c.post(f"/api/v1/outbox/{ob}/redrive", headers=_key(app, "erp"))  # a key without the admin scope
    assert r.status_code == 403
    with app.state.services.pipeline.sm() as s:
        assert s.get(OutboxRow, ob).status == "dead"  # nothing happened
    a, atoken = admin
    r = a.post(f"/api/v1/outbox/{ob}/redrive", headers={"X-CSRF-Token": atoken})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    with unit_of_work(app.state.services.pipeline.sm) as s:
        s.execute(update(OutboxRow).where(OutboxRow.id == ob).values(status="dead"))
    assert c.post(f"/api/v1/outbox/{ob}/redrive", headers=_key(app, "ops", "admin")).status_code == 200
    redrives = [actor for actor, why in _notes(app, oid) if "re-driven" in why]
    assert redrives == ["user:ada", "apikey:ops"]  # never "admin"


def test_approving_with_blocking_problems_over_the_api_needs_the_override_the_ui_needs(
        app: Any, csr: tuple[TestClient, str]) -> None:
    oid = ingest(app)  # requested date in the past: a problem that blocks approval
    c, token = csr
    r = c.post(f"/api/v1/orders/{oid}/approve", json={"reason": "looks fine"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 409 and r.json()["error"] == "approval_blocked" and "override" in r.json()["detail"]
    r = c.post(f"/api/v1/orders/{oid}/approve", json={"reason": "customer confirmed by phone", "override": True},
               headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["status"] == "APPROVED"
    approval = [(a, w) for a, w in _notes(app, oid) if "confirmed by phone" in w]
    assert approval == [("user:carla", "customer confirmed by phone (despite 1 problem(s))")]
    # a clean order needs no override
    other = ingest(app, X12_PAST.replace("PO-REVIEW-1", "PO-REVIEW-2").replace("DTM*002*20200115", "DTM*002*20990115"),
                   "b.edi")
    with app.state.services.pipeline.sm() as s:
        row = ledger.get_order(s, other)
        assert row.status == "APPROVED"  # it did not even need a person


def test_a_bad_key_is_401_and_never_falls_back_to_the_session_cookie(app: Any, admin: tuple[TestClient, str]) -> None:
    oid = ingest(app)
    a, token = admin
    assert a.get("/api/v1/orders").status_code == 200  # the admin's cookie alone works
    for auth in ("Bearer oik_forged", "Bearer ", "Basic YWRhOng=", "bearer", "Token abc"):
        r = a.get("/api/v1/orders", headers={"Authorization": auth})
        assert r.status_code == 401, auth
        r = a.post(f"/api/v1/orders/{oid}/reject", json={"reason": "x"},
                   headers={"Authorization": auth, "X-CSRF-Token": token})
        assert r.status_code == 401, auth
    # a valid key is judged alone: the admin's cookie beside a read-only key gives read only
    r = a.post(f"/api/v1/orders/{oid}/reject", json={"reason": "x"}, headers=_key(app, "ro", "read"))
    assert r.status_code == 403
    with app.state.services.pipeline.sm() as s:
        assert ledger.get_order(s, oid).status == "NEEDS_REVIEW"


def test_csrf_is_checked_whenever_a_cookie_authenticates(app: Any, admin: tuple[TestClient, str]) -> None:
    oid = ingest(app)
    a, token = admin
    calls = [("post", f"/api/v1/orders/{oid}/reject", {"json": {"reason": "x"}}),
             ("post", f"/api/v1/orders/{oid}/approve", {"json": {"override": True}}),
             ("post", f"/api/v1/orders/{oid}/rerun", {}),
             ("post", f"/api/v1/orders/{oid}/clarify", {"json": {"note": "x"}}),
             ("post", "/api/v1/messages", {"files": {"file": ("po.edi", x12_order("PO-CSRF", 9))}}),
             ("post", "/api/v1/outbox/1/redrive", {})]
    for method, path, kw in calls:
        for headers in ({}, {"X-CSRF-Token": "x" * len(token)}):
            r = getattr(a, method)(path, headers=headers, **kw)
            assert r.status_code == 403 and r.json()["error"] == "csrf", (path, headers, r.status_code)
    with app.state.services.pipeline.sm() as s:
        assert ledger.get_order(s, oid).status == "NEEDS_REVIEW"
    r = a.post("/api/v1/messages", files={"file": ("po.edi", x12_order("PO-CSRF", 9))}, headers={"X-CSRF-Token": token})
    assert r.status_code == 202  # with the token, the admin may upload


def test_scoped_keys(app: Any) -> None:
    oid = ingest(app)
    ingest_only, read_only, review = _key(app, "scanner", "ingest"), _key(app, "bi", "read"), _key(app, "crm", "review")
    with TestClient(app) as c:
        r = c.post("/api/v1/messages", files={"file": ("po.edi", x12_order("PO-SCOPE", 3))}, headers=ingest_only)
        assert r.status_code == 202 and r.json()["status"] == "PROCESSED"
        for path in ("/api/v1/orders", f"/api/v1/orders/{oid}", "/metrics", "/docs", "/openapi.json",
                     f"/api/v1/messages/{r.json()['message_id']}"):
            assert c.get(path, headers=ingest_only).status_code == 403, path
        assert c.post(f"/api/v1/orders/{oid}/reject", json={"reason": "x"}, headers=ingest_only).status_code == 403
        assert c.get("/api/v1/orders", headers=read_only).status_code == 200
        assert c.post("/api/v1/messages", files={"file": ("p.edi", b"x")}, headers=read_only).status_code == 403
        assert c.post(f"/api/v1/orders/{oid}/reject", json={"reason": "x"}, headers=read_only).status_code == 403
        r = c.post(f"/api/v1/orders/{oid}/reject", json={"reason": "duplicate of a phone order"}, headers=review)
        assert r.status_code == 200 and r.json()["history"][-1]["actor"] == "apikey:crm"


def test_apikey_cli_create_list_revoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.entry.cli import _mount_optional, app as cli
    from intake.core.settings import get_settings

    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        _mount_optional()
        run = CliRunner().invoke
        r = run(cli, ["apikey", "create", "edi-gateway", "--scope", "ingest", "--partner", "NWFAB001"])
        assert r.exit_code == 0, r.output
        key = r.stdout.strip().splitlines()[-1]
        assert key.startswith("oik_") and "scopes ingest, partner NWFAB001" in r.stderr
        r = run(cli, ["apikey", "create", "erp"])
        assert r.exit_code == 0
        listing = run(cli, ["apikey", "list"]).stdout
        assert re.search(r"edi-gateway\s+ingest\s+NWFAB001", listing) and re.search(r"erp\s+read,ingest,review", listing)
        assert key not in listing and key[10:] not in listing  # only the prefix is ever shown
        r = run(cli, ["apikey", "revoke", key[:10]])
        assert r.exit_code == 0 and "edi-gateway" in r.stdout
        assert "edi-gateway" not in run(cli, ["apikey", "list"]).stdout
        assert re.search(r"edi-gateway.*revoked", run(cli, ["apikey", "list", "--all"]).stdout)
        from intake.entry.cli import _sm

        with _sm()() as s:
            assert ledger.verify_api_key(s, key) is None  # refused from now on
        env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
        env["INTAKE_DATA_DIR"] = str(tmp_path / "data")
        for args, words in ((["create", "x", "--scope", "superuser"], "unknown scope 'superuser'"),
                            (["revoke", "nothing-like-it"], "no live API key")):
            p = subprocess.run([sys.executable, "-m", "intake", "apikey", *args], env=env, capture_output=True,
                               text=True, timeout=120)
            assert p.returncode == 2 and words in p.stderr and len(p.stderr.splitlines()) == 1, p.stderr
    finally:
        get_settings.cache_clear()


def test_the_api_docs_come_from_this_server(app: Any) -> None:
    auth = _key(app, "dev", "read")
    with TestClient(app) as c:
        page = c.get("/docs", headers=auth)
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "http" not in csp
        refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert refs and all(u.startswith("/docs/assets/") for u in refs), refs
        assert "http" not in page.text.lower() and "<script>" not in page.text  # no CDN, no inline script
        for u in refs:
            r = c.get(u, headers=auth)
            assert r.status_code == 200 and len(r.content) > 100, u
        assert len(c.get("/docs/assets/swagger-ui-bundle.js", headers=auth).content) > 500_000
        assert "openapi.json" in c.get("/docs/assets/init.js", headers=auth).text
        assert c.get("/docs/assets/..%2F..%2Fintake%2Fsettings.py", headers=auth).status_code == 404
        assert c.get("/docs/assets/swagger-ui-bundle.js").status_code == 401  # behind a key or a session


def test_demo_users_get_their_own_random_passwords(tmp_path: Path) -> None:
    from intake.entry.demo import _demo_csr, print_banner
    from intake.service.pipeline import Pipeline

    logins = []
    for d in ("a", "b"):
        s = Settings(data_dir=tmp_path / d)
        s.data_dir.mkdir(parents=True)
        pipe = Pipeline(s)
        info = _demo_csr(s, pipe, host="127.0.0.1", port=8765)
        csr_pw, admin_pw = info["csr_login"].split(" / ")[1], info["admin_login"].split(" / ")[1]
        assert csr_pw != admin_pw and len(csr_pw) >= 16 and len(admin_pw) >= 16
        for name in ("csr", "admin"):
            assert stat.S_IMODE(os.stat(s.data_dir / f"demo-{name}-password.txt").st_mode) == 0o600
        with unit_of_work(pipe.sm) as sess:
            assert authenticate(sess, "csr", csr_pw) is not None and authenticate(sess, "csr", admin_pw) is None
            assert authenticate(sess, "admin", admin_pw) is not None and authenticate(sess, "admin", csr_pw) is None
        assert _demo_csr(s, pipe, host="127.0.0.1", port=8765) == info  # a second start prints the same
        logins.append((csr_pw, admin_pw))
    assert logins[0][0] != logins[1][0] and logins[0][1] != logins[1][1]  # random per installation
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_banner({"url": "u", "api_key": "k", "webhook_url": "w", **info})
    assert logins[1][0] in out.getvalue() and logins[1][1] in out.getvalue()  # `make run` prints both


def test_login_throttle_slows_guessing_and_never_locks_the_user_out() -> None:
    now = [1000.0]
    t = LoginThrottle(clock=lambda: now[0])
    me, attacker, home = "name:ada", "ip:198.51.100.1", "ip:192.0.2.5"
    t.clear(me, home)  # ada signed in from home before
    waits = []
    for _ in range(12):
        assert t.retry_after(me, attacker) == 0  # the attacker waited as told
        t.fail(me, attacker)
        waits.append(t.retry_after(me, attacker))
        now[0] += waits[-1]
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300]  # doubling, capped: never a lockout
    # all the while, ada from home is not slowed at all
    assert t.retry_after(me, home) == 0
    # guesses spread over many addresses slow a new address down a little, never home
    for i in range(30):
        t.fail(me, f"ip:203.0.113.{i}")
    assert 0 < t.retry_after(me, "ip:203.0.113.200") <= 60 and t.retry_after(me, home) == 0
    # and it all fades: after the window nothing is remembered
    now[0] += 3600
    assert t.retry_after(me, attacker) == 0 and t.retry_after(me, "ip:203.0.113.200") == 0
