"""Review-UI state that belongs to no other module: orders a CSR put on hold."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base

__all__ = ["HoldRow"]


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
