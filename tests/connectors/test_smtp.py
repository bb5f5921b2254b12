"""Customer replies over a real SMTP server (aiosmtpd): acknowledgments, clarification requests,
admin templates, threading of the customer's answer, and retries when the server is away."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from connectors.imap import store_mail
from connectors.models import OutgoingMailRow
from connectors.smtp import NotAMailOrder, Notifier, render
from intake.service import ledger
from intake.service.db import unit_of_work
from intake.core.domain import Channel
from intake.core.errors import ConfigError
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.connectors.dovecot import free_port
from tests.connectors.mails import order_mail, reply_mail, x12_850
from tests.connectors.smtp_sink import SmtpSink


def _settings(tmp_path: Path, port: int) -> Settings:
    return Settings(data_dir=tmp_path / "data", smtp={"host": "127.0.0.1", "port": port,
                                                      "from": "Seller Orders <orders@seller.example>"})


def _pipeline(settings: Settings) -> Pipeline:
    import connectors.models  # noqa: F401

    return Pipeline(settings)


def _mail_order(pipe: Pipeline, po: str, uid: int, **kw: object) -> tuple[str, str]:
    """(order id, customer Message-ID) of an emailed order, read and decided."""
    raw, mid = order_mail(po, **kw)  # type: ignore[arg-type]
    res = store_mail(pipe, raw, mailbox="mb", uidvalidity=7, uid=uid)
    (oid,) = pipe.process_message(res.message_id)
    return oid, mid


def test_acknowledgments_are_threaded_on_the_customers_mail_and_sent_once(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        settings = _settings(tmp_path, sink.port)
        pipe = _pipeline(settings)
        n = Notifier(settings, pipe.sm, pipe.blobs)
        assert n.run_once() == (0, 0)  # the first pass sets the cursor: no mail for history
        oid, mid = _mail_order(pipe, "PO-ACK-1", 1, sender="buyer@customer.example")
        assert n.run_once() == (2, 2)
        assert n.run_once() == (0, 0)  # nothing twice
        mails = sink.wait(2)
        assert len(mails) == 2
        by_subject = {m["Subject"]: (to, m) for to, m in mails}
        received = next(m for s, (to, m) in by_subject.items() if "received" in s)
        confirmed = next(m for s, (to, m) in by_subject.items() if "confirmed" in s)
        for to, m in mails:
            assert to == ["buyer@customer.example"]
            assert m["In-Reply-To"] == mid and m["References"] == mid
            assert m["From"] == "Seller Orders <orders@seller.example>"
            assert m["Auto-Submitted"] == "auto-replied"
        assert "PO-ACK-1" in received.get_content() and oid in received.get_content()
        body = confirmed.get_content()
        assert "HX-1420" in body and "WSH-0250" in body and "Total: 97 USD" in body
        with pipe.sm() as s:
            rows = list(s.scalars(select(OutgoingMailRow).where(OutgoingMailRow.order_id == oid)))
            assert {r.rfc822_message_id for r in rows} == {m["Message-ID"] for _to, m in mails}
            assert all(r.status == "sent" and r.attempts == 1 for r in rows)
            notes = [h.reason for h in ledger.order_history(s, oid) if h.kind == "note"]
            assert any("received mail sent" in r for r in notes) and any("approved mail sent" in r for r in notes)


def test_no_reply_for_uploads_automatic_mail_or_our_own_address(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        settings = _settings(tmp_path, sink.port)
        pipe = _pipeline(settings)
        n = Notifier(settings, pipe.sm, pipe.blobs)
        n.run_once()
        res = pipe.ingest(x12_850("PO-UPLOAD").encode(), filename="po.edi", channel=Channel.upload)
        (up,) = pipe.process_message(res.message_id)
        _mail_order(pipe, "PO-SELF", 1, sender="orders@seller.example")
        raw, _ = order_mail("PO-AUTO", sender="robot@customer.example")
        raw = b"Auto-Submitted: auto-generated\r\n" + raw
        pipe.process_message(store_mail(pipe, raw, mailbox="mb", uidvalidity=7, uid=2).message_id)
        assert n.run_once() == (0, 0)
        assert sink.messages == []
        with pytest.raises(NotAMailOrder, match="not by mail"):
            n.request_clarification(up, "user:csr", "which dock?")


def test_clarification_lists_the_problems_uses_the_admin_template_and_the_reply_threads_back(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        settings = _settings(tmp_path, sink.port)
        pipe = _pipeline(settings)
        n = Notifier(settings, pipe.sm, pipe.blobs)
        n.run_once()
        first, _ = _mail_order(pipe, "PO-CLAR", 1)
        second, mid2 = _mail_order(pipe, "PO-CLAR", 2, qty1=12)  # a revision: goes to review
        n.run_once()
        sink.messages.clear()
        # the admin's own template wins over the packaged one
        tdir = settings.data_dir / "templates"
        tdir.mkdir(parents=True)
        (tdir / "clarification.txt.j2").write_text(
            "Subject: Question on {{ po_number }}\n\nDear customer,\n{% for p in problems %}* {{ p.code }}: {{ p.message }}\n"
            "{% endfor %}{{ note }}\n")
        out = n.request_clarification(second, "user:csr", "Is line 1 really 12 pieces?")
        assert out["to"] == "buyer@customer.example" and out["status"] == "pending"
        assert n.send_pending() == 1
        ((to, m),) = sink.wait(1)
        assert m["Subject"] == "Question on PO-CLAR" and m["In-Reply-To"] == mid2
        body = m.get_content()
        assert f"* po_revision: revision of order {first}" in body and "Is line 1 really 12 pieces?" in body
        # the customer answers the clarification: the answer lands on the order's history
        raw, _ = reply_mail(m["Message-ID"], text="Yes, 12 pieces is right.")
        res = store_mail(pipe, raw, mailbox="mb", uidvalidity=7, uid=3)
        assert res.outcome == "reply" and res.order_id == second and not res.new_message
        with pipe.sm() as s:
            hist = ledger.order_history(s, second)
            note = [h for h in hist if h.kind == "note" and "customer replied" in h.reason][-1]
            assert "Yes, 12 pieces is right." in note.reason and "we need your help" not in note.reason
            assert any("clarification requested" in h.reason for h in hist)
            assert ledger.message_order_ids(s, res.message_id) == []  # no order from a plain answer
        # an answer with a corrected PO is read as a revision of the same order
        raw, _ = reply_mail(m["Message-ID"], text="Corrected PO attached.", attachment=x12_850("PO-CLAR", 12, 6, control=202))
        res = store_mail(pipe, raw, mailbox="mb", uidvalidity=7, uid=4)
        assert res.outcome == "reply" and res.new_message
        (third,) = pipe.process_message(res.message_id)
        with pipe.sm() as s:
            o = ledger.get_order(s, third)
            assert o.status == "NEEDS_REVIEW" and o.record["revision_of"] == second
            assert o.problems[0]["code"] == "po_revision"


def test_clarify_route_and_smtp_outage_retries(tmp_path: Path) -> None:
    from intake.entry.api.app import create_app

    dead_port = free_port()  # nothing listens: sending fails and is retried later
    settings = _settings(tmp_path, dead_port)
    settings.smtp.max_attempts = 2
    pipe = _pipeline(settings)
    oid, _ = _mail_order(pipe, "PO-ROUTE", 1)
    with unit_of_work(pipe.sm) as s:
        key = ledger.create_api_key(s, "t")
    app = create_app(settings, start_workers=False)
    with TestClient(app) as client:
        h = {"Authorization": f"Bearer {key}"}
        r = client.post(f"/api/v1/orders/{oid}/clarify", json={"note": "Which delivery address?"}, headers=h)
        assert r.status_code == 202, r.text
        assert r.json()["to"] == "buyer@customer.example"
        assert client.post(f"/api/v1/orders/{oid}/clarify", json={"note": "x"}).status_code == 401
        assert client.post("/api/v1/orders/nope/clarify", json={"note": "x"}, headers=h).status_code == 404
        listed = client.get(f"/api/v1/orders/{oid}/mails", headers=h).json()
        assert [m["kind"] for m in listed] == ["clarification"]
    n = Notifier(settings, pipe.sm, pipe.blobs)
    assert n.send_pending() == 0
    with pipe.sm() as s:
        row = s.scalar(select(OutgoingMailRow))
        assert row.status == "pending" and row.attempts == 1 and "ConnectionRefused" in (row.last_error or "")
        row.next_attempt_at = row.created_at  # due again now
        s.commit()
    assert n.send_pending() == 0
    with pipe.sm() as s:
        assert s.scalar(select(OutgoingMailRow)).status == "failed"


def test_broken_template_and_missing_smtp_are_named_errors(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    (settings.data_dir / "templates").mkdir(parents=True)
    (settings.data_dir / "templates" / "received.txt.j2").write_text("Subject: {{ order.nope.deeper }}\n\nx")
    with pytest.raises(ConfigError, match="received.txt.j2"):
        render(settings, "received", {"order": {}})
    (settings.data_dir / "templates" / "received.txt.j2").write_text("no subject line\n")
    with pytest.raises(ConfigError, match="Subject"):
        render(settings, "received", {"order": {}})
    pipe = _pipeline(settings)
    with pytest.raises(ConfigError, match="INTAKE_SMTP_HOST"):
        Notifier(settings, pipe.sm).request_clarification("x", "user:csr", "note")
