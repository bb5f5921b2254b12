"""The same order seen again gives no second order; a changed PO is a revision of the first.

On SQLite and PostgreSQL: re-polls, re-appends (same bytes), re-sends with the same Message-ID,
forwards (the original attached, or its attachment re-attached), the same file uploaded and then
mailed, and a UIDVALIDITY reset of the mailbox."""

from __future__ import annotations

import email
import email.policy
import email.utils
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.imap import store_mail
from connectors.models import ChannelStateRow, SeenMailRow
from intake.service import ledger
from intake.service.db import make_engine, make_sessionmaker
from intake.core.domain import Channel
from intake.service.migrate import upgrade
from intake.service.models import MessageRow, OrderRow
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.connectors.mails import forward_mail, order_mail, x12_850
from tests.intake.dbutil import database_url


@pytest.fixture(params=["sqlite", "postgres"])
def pipe(request: pytest.FixtureRequest, tmp_path: Path) -> Pipeline:
    import connectors.models  # noqa: F401

    with database_url(request.param, tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        yield Pipeline(Settings(data_dir=tmp_path / "data", database_url=url), make_sessionmaker(engine))
        engine.dispose()


def _live_orders(p: Pipeline) -> list[OrderRow]:
    with p.sm() as s:
        return list(s.scalars(select(OrderRow).where(OrderRow.status.notin_(["DUPLICATE", "REJECTED", "FAILED"]))))


def _reattached(original: bytes) -> bytes:
    """A new mail (new Message-ID, new text) carrying the original's attachment bytes."""
    old = email.message_from_bytes(original, policy=email.policy.default)
    att = next(old.iter_attachments())
    msg = EmailMessage()
    msg["From"] = "someone.else@customer.example"
    msg["To"] = "orders@example.test"
    msg["Subject"] = "FW: the order again"
    msg["Message-ID"] = email.utils.make_msgid("fw", domain="customer.example")
    msg.set_content("Did you get this?\n")
    msg.add_attachment(att.get_payload(decode=True), maintype="application", subtype="edi-x12",
                       filename=att.get_filename())
    return msg.as_bytes()


def test_the_same_mail_ten_ways_gives_one_order(pipe: Pipeline) -> None:
    raw, mid = order_mail("PO-ONCE")
    first = store_mail(pipe, raw, mailbox="mb", uidvalidity=1, uid=1)
    assert first.outcome == "ingested" and first.new_message
    pipe.process_message(first.message_id)
    again = [
        store_mail(pipe, raw, mailbox="mb", uidvalidity=1, uid=1),  # re-poll of the same UID
        store_mail(pipe, raw, mailbox="mb", uidvalidity=1, uid=2),  # re-append: same bytes
        store_mail(pipe, raw, mailbox="mb", uidvalidity=1, uid=3),
        store_mail(pipe, order_mail("PO-ONCE", message_id=mid, date="Wed, 02 Dec 2026 08:00:00 +0000")[0],
                   mailbox="mb", uidvalidity=1, uid=4),  # re-sent with the same Message-ID
        store_mail(pipe, forward_mail(raw), mailbox="mb", uidvalidity=1, uid=5),  # forwarded as an attachment
        store_mail(pipe, _reattached(raw), mailbox="mb", uidvalidity=1, uid=6),  # same attachment, new mail
        store_mail(pipe, raw, mailbox="other-box", uidvalidity=9, uid=1),  # the same mail in a second mailbox
        store_mail(pipe, raw, mailbox="mb", uidvalidity=2, uid=1),  # after a UIDVALIDITY reset
        store_mail(pipe, forward_mail(forward_mail(raw)), mailbox="mb", uidvalidity=2, uid=2),
    ]
    assert [r.outcome for r in again] == ["seen"] + ["duplicate"] * 8
    assert not any(r.new_message for r in again)
    for mid_ in {r.message_id for r in again}:
        pipe.process_message(mid_)  # a worker that picks them up anyway changes nothing
    (order,) = _live_orders(pipe)
    assert order.po_number == "PO-ONCE"
    with pipe.sm() as s:
        assert s.scalar(select(func.count()).select_from(OrderRow)) == 1
        dups = list(s.scalars(select(MessageRow).where(MessageRow.reason.like("duplicate:%"))))
        assert len(dups) == 4 and all(m.status == "PROCESSED" for m in dups)  # kept, marked, no order
        assert s.get(MessageRow, first.message_id).duplicate_hits >= 8
        assert s.scalar(select(func.count()).select_from(SeenMailRow)) == 9
        state = s.get(ChannelStateRow, "mb")
        assert (state.uidvalidity, state.last_uid) == (2, 2)


def test_a_file_uploaded_then_mailed_is_one_order(pipe: Pipeline) -> None:
    edi = x12_850("PO-BOTH")
    res = pipe.ingest(edi.encode(), filename="po.edi", channel=Channel.upload)
    pipe.process_message(res.message_id)
    mailed = store_mail(pipe, order_mail("PO-BOTH", edi=edi)[0], mailbox="mb", uidvalidity=1, uid=1)
    assert mailed.outcome == "duplicate" and mailed.extra["duplicate_of"] == res.message_id
    assert len(_live_orders(pipe)) == 1


def test_a_revised_po_is_flagged_as_a_change_of_the_existing_order(pipe: Pipeline) -> None:
    r1 = store_mail(pipe, order_mail("PO-REV", qty1=10)[0], mailbox="mb", uidvalidity=1, uid=1)
    (o1,) = pipe.process_message(r1.message_id)
    r2 = store_mail(pipe, order_mail("PO-REV", qty1=15)[0], mailbox="mb", uidvalidity=1, uid=2)
    assert r2.outcome == "ingested"
    (o2,) = pipe.process_message(r2.message_id)
    with pipe.sm() as s:
        first, second = ledger.get_order(s, o1), ledger.get_order(s, o2)
        assert first.status == "APPROVED"
        assert second.status == "NEEDS_REVIEW" and second.record["revision_of"] == o1
        codes = [p["code"] for p in second.problems]
        assert codes[0] == "po_revision" and o1 in second.problems[0]["message"] and "duplicate_po" not in codes
        notes = [h.reason for h in ledger.order_history(s, o1) if h.kind == "note"]
        assert any(o2 in n and "revised PO" in n for n in notes)
    # the identical PO content a third time (a new mail, new bytes) is a DUPLICATE, not a revision
    r3 = store_mail(pipe, order_mail("PO-REV", qty1=10, edi=x12_850("PO-REV", 10, control=555))[0],
                    mailbox="mb", uidvalidity=1, uid=3)
    (o3,) = pipe.process_message(r3.message_id)
    with pipe.sm() as s:
        assert ledger.get_order(s, o3).status == "DUPLICATE"
