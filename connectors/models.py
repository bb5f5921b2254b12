"""Channel bookkeeping tables (on ``intake.service.db.Base``; migration 0004).

    channel_state      a cursor per mailbox (UIDVALIDITY + last stored UID) and per background
                       scan (the notifier's last order event, the EDI copier's last outbound doc)
    mail_seen          every IMAP message stored or recognised: (mailbox, uidvalidity, uid) once
    mail_attachments   the sha256 of each attachment of an ingested mail (same bytes in another
                       mail -> a duplicate, not a second order)
    mail_outgoing      every reply to a customer: kind, recipient, our Message-ID, delivery state
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from intake.service.db import Base
from intake.service.models import utcnow

__all__ = ["ChannelStateRow", "SeenMailRow", "MailAttachmentRow", "OutgoingMailRow"]

TS = DateTime(timezone=True)


class ChannelStateRow(Base):
    """Where a watcher stopped. For a mailbox: ``key`` names it, ``uidvalidity`` and ``last_uid``
    are the IMAP values (32-bit unsigned, hence BigInteger); for a scan, ``last_uid`` is a row id."""

    __tablename__ = "channel_state"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(TS, default=utcnow, onupdate=utcnow)


class SeenMailRow(Base):
    """One IMAP message that was stored (or recognised as already stored): never fetched twice."""

    __tablename__ = "mail_seen"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mailbox: Mapped[str] = mapped_column(String(512))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    rfc822_message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"), index=True)  # the ledger message
    outcome: Mapped[str] = mapped_column(String(16))  # ingested | duplicate | reply
    reason: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(TS, default=utcnow)

    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_mail_seen_uid"),)


class MailAttachmentRow(Base):
    """An attachment of an ingested mail, by content hash."""

    __tablename__ = "mail_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    filename: Mapped[str | None] = mapped_column(String(512))


class OutgoingMailRow(Base):
    """A reply to a customer. Written (pending) in the transaction that decides to send it; the
    notifier sends it and marks it sent, so a crash repeats a send at most once and loses none."""

    __tablename__ = "mail_outgoing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # received | approved | clarification | test
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)  # "<order>:received" once per order
    to_addr: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    rfc822_message_id: Mapped[str] = mapped_column(String(998), unique=True)  # ours; replies thread on it
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(TS)
