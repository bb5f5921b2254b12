"""Review-UI state that belongs to no other module: orders a CSR put on hold, and who has an
order open right now."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.service.db import Base

__all__ = ["HoldRow", "PresenceRow"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class HoldRow(Base):
    """An order waiting for review that a CSR parked (waiting for the customer, say).

    The order stays NEEDS_REVIEW in the state machine; a hold only moves it to the queue's
    "held" tab. Approving, rejecting or releasing it removes the row.
    """

    __tablename__ = "review_holds"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PresenceRow(Base):
    """A person who has an order open in the review UI (a soft lock: shown, never enforced).

    The order page writes it when it opens and every few seconds after (``seen_at``); a row not
    seen for ``review_ui.presence.STALE_AFTER`` no longer counts. ``since`` is when this person
    opened the order. Saving is still guarded by the order's version.
    """

    __tablename__ = "review_presence"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
