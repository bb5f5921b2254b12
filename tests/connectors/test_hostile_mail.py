"""Hostile mail against a real Dovecot: every mail is stored before it is parsed, a mail that
breaks the parser (or the process) ends FAILED with its reason while the mailbox keeps flowing,
nothing is lost, and a mailed order from a stranger with a partner's EDI id is never approved."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from connectors.imap import MailboxWatcher
from connectors.models import SeenMailRow
from intake.service import ledger
from intake.service.blobstore import sha256_hex
from intake.service.models import MessageRow, OutboxRow
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.connectors.dovecot import Dovecot, dovecot, dovecot_server  # noqa: F401  (fixtures)
from tests.connectors.mails import order_mail
from tests.connectors.test_imap import Recorder, _client, _mailbox
from tests.hostile.corpus import mime_nested
from tests.security.trust import mailed, northwind_850, pipeline_with_masters

KILLER = Path(__file__).with_name("killer_poll.py")


def _messages(pipe: Pipeline) -> dict[str, MessageRow]:
    with pipe.sm() as s:
        return {m.id: m for m in s.scalars(select(MessageRow))}


def test_a_mail_that_breaks_the_parser_fails_alone_and_the_mailbox_keeps_flowing(dovecot: Dovecot,
                                                                                 tmp_path: Path) -> None:
    import connectors.models  # noqa: F401

    pipe = Pipeline(Settings(data_dir=tmp_path / "data", limits={"max_upload_bytes": 1_000_000}))
    rec = Recorder()
    w = MailboxWatcher(_mailbox(dovecot), pipe, on_stored=rec)
    other = _client(dovecot)
    big = order_mail("PO-BIG", subject="big")[0].replace(b"please find", b"x" * 1_200_000 + b" please find")
    sent = [order_mail("PO-FLOW-1")[0], mime_nested(5000), big, order_mail("PO-FLOW-2")[0]]
    for raw in sent:
        other.append("INBOX", raw)
    w.start()
    try:
        got = rec.wait(4, timeout=30)
    finally:
        w.stop()
    assert [r.outcome for r in got] == ["ingested", "failed", "failed", "ingested"], got
    assert "nested too deeply" in (got[1].reason or "") and "more than the limit" in (got[2].reason or "")
    # every mail was flagged (the mailbox moved on) and every one is in the ledger with its bytes
    other.select_folder("INBOX")
    flags = other.get_flags(other.search(["ALL"]))
    assert len(flags) == 4 and all(b"$Intake" in f for f in flags.values())
    other.logout()
    msgs = _messages(pipe)
    assert len(msgs) == 4
    stored = [pipe.blobs.get(m.sha256) for m in msgs.values()]
    assert all(sha256_hex(b) == m.sha256 for b, m in zip(stored, msgs.values()))
    for raw in sent:  # nothing lost: each mail's bytes, as the server hands them out (CRLF line ends)
        assert sum(b.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n") for b in stored) == 1
    failed = [m for m in msgs.values() if m.status == "FAILED"]
    assert len(failed) == 2 and all(m.reason and "\n" not in m.reason for m in failed)
    with pipe.sm() as s:  # each FAILED mail carries one FAILED order with the reason, for the CSR
        for m in failed:
            (oid,) = ledger.message_order_ids(s, m.id)
            assert ledger.get_order(s, oid).status == "FAILED" and ledger.get_order(s, oid).reason == m.reason
        assert s.scalar(select(func.count()).select_from(SeenMailRow)) == 4
    for r in (got[0], got[3]):
        (oid,) = pipe.process_message(r.message_id)  # type: ignore[arg-type]
        pipe.advance(oid)
        with pipe.sm() as s:
            assert ledger.get_order(s, oid).status == "APPROVED"  # no master data: the document decides


def test_a_mail_that_kills_the_process_ends_failed_after_three_starts(dovecot: Dovecot, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(dovecot.env(ssl=True), INTAKE_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1",
               INTAKE_LIMITS__MAX_READ_ATTEMPTS="3")
    other = _client(dovecot)
    other.append("INBOX", order_mail("PO-KILLER", subject="KILLER")[0])
    other.append("INBOX", order_mail("PO-AFTER-KILLER")[0])
    other.logout()
    runs = []
    for _ in range(4):
        p = subprocess.run([sys.executable, str(KILLER)], env=env, capture_output=True, text=True, timeout=120)
        runs.append(p)
    assert [p.returncode for p in runs[:3]] == [-9, -9, -9], [(p.returncode, p.stderr[-300:]) for p in runs]
    assert runs[3].returncode == 0, runs[3].stderr
    out = runs[3].stdout
    assert "\tfailed\t" in out and "gave up after 3 attempts" in out and "\tingested\t" in out, out
    pipe = Pipeline(Settings(data_dir=tmp_path / "data"))
    msgs = list(_messages(pipe).values())
    killer = next(m for m in msgs if m.status == "FAILED")
    assert killer.attempts == 3 and "gave up after 3 attempts" in (killer.reason or "")
    ok = next(m for m in msgs if m.id != killer.id)
    assert ok.status == "PROCESSED"  # the mail behind it got in, and `mail poll` read it
    with pipe.sm() as s:
        assert len(ledger.message_order_ids(s, ok.id)) == 1


def test_a_stranger_mailing_a_partners_edi_order_through_the_real_mailbox_is_not_approved(
        dovecot: Dovecot, tmp_path: Path) -> None:
    pipe = pipeline_with_masters(tmp_path)
    rec = Recorder()
    w = MailboxWatcher(_mailbox(dovecot), pipe, on_stored=rec)
    other = _client(dovecot)
    other.append("INBOX", mailed(northwind_850("PO-IMAP-ATTACK"), sender="Purchasing <po@stranger.example>"))
    other.logout()
    w.start()
    try:
        (res,) = rec.wait(1, timeout=20)
    finally:
        w.stop()
    (oid,) = pipe.process_message(res.message_id)  # type: ignore[arg-type]
    pipe.advance(oid)
    with pipe.sm() as s:
        o = ledger.get_order(s, oid)
        codes = {p["code"] for p in o.problems}
        assert o.status == "NEEDS_REVIEW" and {"unknown_sender", "unverified_partner"} <= codes, o.problems
        assert s.scalar(select(func.count()).select_from(OutboxRow)) == 0  # no webhook
        m = s.get(MessageRow, res.message_id)
        assert m is not None and m.from_addr == "po@stranger.example" and not m.sender_verified
