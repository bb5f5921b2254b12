"""IMAP intake against a real Dovecot: IDLE, flag/move, reconnect, polling, restart, and a real
`intake serve` that turns an emailed X12 850 into a delivered order and an acknowledgment."""

from __future__ import annotations

import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from imapclient import IMAPClient
from sqlalchemy import func, select

from connectors.imap import MailboxWatcher, StoreResult
from connectors.models import ChannelStateRow, SeenMailRow
from intake.service.models import MessageRow
from intake.service.pipeline import Pipeline
from intake.core.settings import ImapMailbox, Settings
from tests.connectors.dovecot import Dovecot, dovecot, dovecot_server, free_port  # noqa: F401  (fixtures)
from tests.connectors.mails import forward_mail, order_mail
from tests.connectors.smtp_sink import SmtpSink


def _mailbox(d: Dovecot, **kw: object) -> ImapMailbox:
    base = dict(name="test", host=d.host, port=d.port, user=d.user, password=d.password, folder="INBOX",
                ssl=False, starttls=True, ca_file=d.cert, keyword="$Intake", idle=True, poll_interval_s=5.0)
    base.update(kw)
    return ImapMailbox(**base)  # type: ignore[arg-type]


def _client(d: Dovecot) -> IMAPClient:
    c = IMAPClient(d.host, d.ssl_port, ssl=True, ssl_context=ssl.create_default_context(cafile=str(d.cert)))
    c.login(d.user, d.password)
    return c


class Recorder:
    """Collects what a watcher stored, so a test can wait for it."""

    def __init__(self) -> None:
        self.results: list[StoreResult] = []
        self.cond = threading.Condition()

    def __call__(self, res: StoreResult) -> None:
        with self.cond:
            self.results.append(res)
            self.cond.notify_all()

    def wait(self, n: int, timeout: float = 10.0) -> list[StoreResult]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.results) >= n, timeout)
            return list(self.results)


def _pipeline(tmp_path: Path) -> Pipeline:
    import connectors.models  # noqa: F401

    return Pipeline(Settings(data_dir=tmp_path / "data"))


def test_idle_stores_each_mail_once_flags_it_and_survives_a_restart(dovecot: Dovecot, tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)
    submitted: list[str] = []
    rec = Recorder()
    w = MailboxWatcher(_mailbox(dovecot), pipe, submit=submitted.append, on_stored=rec)
    w.start()
    other = _client(dovecot)
    try:
        time.sleep(0.5)  # the watcher is in IDLE
        raw, mid = order_mail("PO-IDLE-1")
        t0 = time.monotonic()
        other.append("INBOX", raw)
        (first,) = rec.wait(1)
        assert time.monotonic() - t0 < 5, "IDLE did not push the new mail"
        assert first.outcome == "ingested" and submitted == [first.message_id]
        other.select_folder("INBOX")
        flags = other.get_flags(other.search(["ALL"]))
        assert all(b"$Intake" in f and b"\\Seen" in f for f in flags.values()), flags
        # the same mail again (re-append: same bytes, a new UID) is recognised, not a new message
        other.append("INBOX", raw)
        second = rec.wait(2)[1]
        assert second.outcome == "duplicate" and second.message_id == first.message_id
    finally:
        w.stop()
    # while the watcher is down: one new mail and a forward of the first
    raw2, _ = order_mail("PO-IDLE-2")
    other.append("INBOX", raw2)
    other.append("INBOX", forward_mail(raw))
    other.logout()
    rec2 = Recorder()
    w2 = MailboxWatcher(_mailbox(dovecot), pipe, submit=submitted.append, on_stored=rec2)
    w2.start()
    try:
        got = rec2.wait(2)
        time.sleep(0.5)  # nothing else may come
        assert [r.outcome for r in rec2.results] == ["ingested", "duplicate"], rec2.results
        assert len(submitted) == 2 and got[0].message_id == submitted[1]
    finally:
        w2.stop()
    with pipe.sm() as s:
        uidvalidity = s.get(ChannelStateRow, "test").uidvalidity
        assert s.get(ChannelStateRow, "test").last_uid == 4
        assert s.scalar(select(func.count()).select_from(SeenMailRow)) == 4
        assert [u for (u,) in s.execute(select(SeenMailRow.uid).order_by(SeenMailRow.uid))] == [1, 2, 3, 4]
        assert uidvalidity > 0
        # two messages will be read (two orders); the re-send and the forward are duplicates
        assert s.scalar(select(func.count()).select_from(MessageRow).where(MessageRow.status == "RECEIVED")) == 2


def test_imaps_moves_stored_mail_and_polling_fallback_works(dovecot: Dovecot, tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)
    rec = Recorder()
    mb = _mailbox(dovecot, port=dovecot.ssl_port, ssl=True, starttls=False, move_to="Intake/Done",
                  idle=False, poll_interval_s=0.3)
    w = MailboxWatcher(mb, pipe, on_stored=rec)
    w.start()
    other = _client(dovecot)
    try:
        other.append("INBOX", order_mail("PO-POLL-1")[0])
        (res,) = rec.wait(1, timeout=8)
        assert res.outcome == "ingested"
        deadline = time.time() + 5
        while time.time() < deadline and other.select_folder("INBOX")[b"EXISTS"]:
            time.sleep(0.1)
        assert other.select_folder("INBOX")[b"EXISTS"] == 0
        assert other.select_folder("Intake.Done")[b"EXISTS"] == 1
    finally:
        w.stop()
        other.logout()


def test_reconnects_after_the_connection_drops(dovecot: Dovecot, tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)
    rec = Recorder()
    w = MailboxWatcher(_mailbox(dovecot), pipe, on_stored=rec, reconnect_max_s=1.0)
    w.start()
    other = _client(dovecot)
    try:
        deadline = time.time() + 5
        while w._client is None and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        w._client.socket().shutdown(2)  # the network drops the IDLE connection
        other.append("INBOX", order_mail("PO-RECONNECT")[0])
        (res,) = rec.wait(1, timeout=10)
        assert res.outcome == "ingested" and w.connects >= 2
    finally:
        w.stop()
        other.logout()


def test_bad_password_is_retried_not_fatal(dovecot: Dovecot, tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)
    w = MailboxWatcher(_mailbox(dovecot, password="wrong"), pipe, reconnect_max_s=0.5)
    w.start()
    try:
        deadline = time.time() + 5
        while w.last_error is None and time.time() < deadline:
            time.sleep(0.05)
        assert w.last_error and "LoginError" in w.last_error
        assert w._thread is not None and w._thread.is_alive()
    finally:
        w.stop()


# --- a real `intake serve` -------------------------------------------------------------------

@pytest.mark.slow
def test_serve_turns_an_emailed_po_into_one_delivered_order_and_an_acknowledgment(dovecot: Dovecot, tmp_path: Path) -> None:
    from tests.intake.entry.test_serve import Receiver, _cli, _env, _start, _wait

    hook_port, port = free_port(), free_port()
    hooks = Receiver(hook_port)
    with SmtpSink() as sink:
        env = _env(tmp_path, hook_port)
        env.update(dovecot.env(ssl=False, starttls=True))
        env.update(INTAKE_SMTP_HOST="127.0.0.1", INTAKE_SMTP_PORT=str(sink.port),
                   INTAKE_SMTP_FROM="Orders <orders@seller.example>")
        key = _cli(env, "apikey", "create", "ci").stdout.strip().splitlines()[-1]
        server = _start(env, port)
        other = _client(dovecot)
        try:
            raw, mid = order_mail("PO-SERVE-1", sender="buyer@customer.example")
            t0 = time.time()
            other.append("INBOX", raw)
            assert _wait(lambda: hooks.received, 20), "no webhook for the emailed order"
            latency = time.time() - t0
            (_wid, payload), = hooks.received
            assert payload["po_number"] == "PO-SERVE-1" and payload["channel"] == "imap"
            assert latency < 20
            # the customer hears back: received + approved, threaded on their mail
            mails = sink.wait(2, timeout=15)
            kinds = sorted(m["Subject"] for _to, m in mails)
            assert len(mails) == 2 and any("received" in k for k in kinds) and any("confirmed" in k for k in kinds), kinds
            for to, m in mails:
                assert to == ["buyer@customer.example"] and m["In-Reply-To"] == mid and mid in m["References"]
            confirmed = next(m for _to, m in mails if "confirmed" in m["Subject"])
            assert "HX-1420" in confirmed.get_content() and "WSH-0250" in confirmed.get_content()
            stored = httpx.get(f"http://127.0.0.1:{port}/api/v1/orders/{payload['id']}/mails",
                               headers={"Authorization": f"Bearer {key}"}).json()
            assert {m["message_id"] for m in stored} == {m["Message-ID"] for _to, m in mails}
            # the same mail nine more times (re-appends) and a re-send with the same Message-ID
            for _ in range(9):
                other.append("INBOX", raw)
            other.append("INBOX", order_mail("PO-SERVE-1", message_id=mid, date="Tue, 01 Dec 2026 09:00:00 +0000")[0])
            time.sleep(2.5)  # IDLE pushes within ~0.5 s; a second order would be delivered by now
        finally:
            server.terminate()
            server.wait(15)
        # while intake is down, a new order arrives; after the restart only that one is new
        other.append("INBOX", order_mail("PO-SERVE-2")[0])
        server = _start(env, port)
        try:
            assert _wait(lambda: len(hooks.received) >= 2, 20), "the mail that came during the restart was lost"
            time.sleep(1.5)
            assert sorted(p["po_number"] for _w, p in hooks.received) == ["PO-SERVE-1", "PO-SERVE-2"]
            orders = httpx.get(f"http://127.0.0.1:{port}/api/v1/orders", headers={"Authorization": f"Bearer {key}"}).json()
            items = orders["orders"]
            assert sorted(o["po_number"] for o in items) == ["PO-SERVE-1", "PO-SERVE-2"]
            assert len(sink.wait(4, timeout=10)) == 4  # and no second acknowledgment of the first
        finally:
            server.terminate()
            server.wait(15)
            other.logout()
            hooks.close()
    assert hooks.bad == 0


def test_settings_flat_names_nested_json_and_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(__import__("os").environ):
        if k.startswith(("INTAKE_IMAP", "INTAKE_SMTP", "INTAKE_EDI_INBOUND", "INTAKE_CONFIG_FILE")):
            monkeypatch.delenv(k)
    monkeypatch.setenv("INTAKE_IMAP_HOST", "imap.example.test")
    monkeypatch.setenv("INTAKE_IMAP_USER", "orders")
    monkeypatch.setenv("INTAKE_IMAP_PASSWORD", "pw")
    monkeypatch.setenv("INTAKE_IMAP_SSL", "true")
    monkeypatch.setenv("INTAKE_SMTP_HOST", "smtp.example.test")
    monkeypatch.setenv("INTAKE_SMTP_FROM", "Orders <orders@example.test>")
    monkeypatch.setenv("INTAKE_EDI_INBOUND_DIR", str(tmp_path / "edi"))
    cfg = tmp_path / "intake.json"
    cfg.write_text('{"imap": {"mailboxes": [{"folder": "EDI", "move_to": "EDI/Done"}, {"host": "other.test", "user": "x", "ssl": false, "starttls": true}]}}')
    monkeypatch.setenv("INTAKE_CONFIG_FILE", str(cfg))
    s = Settings()
    boxes = s.imap.resolved()
    assert [(b.host, b.port, b.user, b.folder, b.ssl, b.starttls, b.move_to) for b in boxes] == [
        ("imap.example.test", 993, "orders", "INBOX", True, False, None),
        ("imap.example.test", 993, "orders", "EDI", True, False, "EDI/Done"),
        ("other.test", 143, "x", "INBOX", False, True, None),
    ]
    assert boxes[1].password is not None and boxes[1].password.get_secret_value() == "pw"
    assert len({b.name for b in boxes}) == 3
    assert s.smtp.host == "smtp.example.test" and s.smtp.from_ == "Orders <orders@example.test>"
    assert s.edi_inbound.dir == tmp_path / "edi"
    monkeypatch.setenv("INTAKE_IMAP__MAILBOXES", '[{"folder": "Orders"}]')  # nested JSON wins over the file
    assert [b.folder for b in Settings().imap.resolved()] == ["INBOX", "Orders"]


def test_cli_mail_poll_stores_and_reads_new_mail(dovecot: Dovecot, tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(dovecot.env(ssl=True), INTAKE_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1")
    other = _client(dovecot)
    other.append("INBOX", order_mail("PO-CLI-1")[0])
    other.logout()
    run = lambda: subprocess.run([sys.executable, "-m", "intake", "mail", "poll"], env=env,  # noqa: E731
                                 capture_output=True, text=True, timeout=60)
    first = run()
    assert first.returncode == 0, first.stderr
    assert "\tingested\t" in first.stdout and ": 1 mail(s)" in first.stdout
    second = run()
    assert second.returncode == 0 and ": 0 mail(s)" in second.stdout
    env["INTAKE_IMAP_PASSWORD"] = "wrong"
    bad = run()
    assert bad.returncode != 0 and bad.stderr.startswith("error: mailbox") and "Traceback" not in bad.stderr
