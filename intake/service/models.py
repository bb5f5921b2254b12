"""Ledger tables (SQLAlchemy 2 ORM). Master-data tables live in ``intake/service/masters.py``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.service.db import Base

__all__ = ["MessageRow", "OrderRow", "OrderEventRow", "OutboxRow", "ApiKeyRow", "OutboundDocRow", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


TS = DateTime(timezone=True)


class MessageRow(Base):
    """A raw message as it arrived; the bytes live in the blob store under ``sha256``.

    Identity: ``sender`` is what the sender typed (a mail's Reply-To/From, an upload's
    X-Intake-Sender header): a hint. ``from_addr`` is a mail's From; ``sender_verified`` says the
    receiving mail server authenticated its domain (``sender_auth`` holds its verdict).
    ``trusted_partner`` is the EDI partner the channel itself proves (its folder, a partner key).

    Reading: ``attempts`` counts the reads started, ``lease_until``/``lease_owner`` mark one in
    progress (and which process holds it: a dead one's lease is taken over at once on its host);
    a message whose reading stopped the process ``Limits.max_read_attempts`` times ends FAILED.
    """

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(512))
    content_type: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32), default="upload")
    sender: Mapped[str | None] = mapped_column(String(512))
    subject: Mapped[str | None] = mapped_column(Text)
    rfc822_message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    status: Mapped[str] = mapped_column(String(16), default="RECEIVED", index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(TS)
    duplicate_hits: Mapped[int] = mapped_column(Integer, default=0)
    from_addr: Mapped[str | None] = mapped_column(String(512))
    sender_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    sender_auth: Mapped[str | None] = mapped_column(Text)
    trusted_partner: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(TS)
    lease_owner: Mapped[str | None] = mapped_column(String(128))  # host:pid:start of the reading process


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    document_index: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    po_number: Mapped[str | None] = mapped_column(String(128), index=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    extractor: Mapped[str | None] = mapped_column(String(64))
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # OrderDraft
    matched: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # MatchedOrder
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the Order's header and lines
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TS, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("message_id", "document_index", name="uq_orders_message_doc"),
        Index("ix_orders_customer_po", "customer_id", "po_number"),
    )


class OrderEventRow(Base):
    """One line of an order's history: a transition or a correction (who, when, why)."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16), default="transition")  # transition | correction | note
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OutboxRow(Base):
    """A webhook to send, written in the same transaction as the order's approval."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    order_version: Mapped[int] = mapped_column(Integer)
    webhook_id: Mapped[str] = mapped_column(String(96), unique=True)  # the receiver's idempotency key
    event_type: Mapped[str] = mapped_column(String(64), default="order.approved")
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TS, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(TS)


class ApiKeyRow(Base):
    """A machine's API key (only its SHA-256 is kept). ``scopes``: comma-separated, from
    ``read``, ``ingest``, ``review``, ``admin``. ``partner``: uploads with this key come from that
    EDI partner's channel (its partner id is trusted, another one is not)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(TS)
    last_used_at: Mapped[datetime | None] = mapped_column(TS)
    scopes: Mapped[str] = mapped_column(String(128), default="read,ingest,review")
    partner: Mapped[str | None] = mapped_column(String(128))


class OutboundDocRow(Base):
    """An EDI acknowledgment (997, 855, CONTRL, ORDRSP): the outbox of the outbound folder.

    Written ``pending`` with its bytes in the same transaction as the order (or receipt) it
    acknowledges; the outbox relay (``intake.service.outbox.deliver_acks``) writes the file and
    marks it ``written``."""

    __tablename__ = "outbound_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255), unique=True)
    partner: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # the acknowledgment itself
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|written
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    written_at: Mapped[datetime | None] = mapped_column(TS)
