"""Corrections: every human edit of an order, kept twice.

1. On the order's history (``order_events``, kind ``correction``): field, old value, new value,
   who and when, so anyone can see what a person changed.
2. As a training example (``training_examples``) when a corrected order is approved: the order's
   values as the document shows them, in the realdocs truth schema, so the learning issue can
   turn them into labelled data. ``used_in_model`` stays NULL until a model is trained on it.

Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from intake.core.domain import TRUTH_HEADER_KEYS, TRUTH_LINE_KEYS
from intake.core.errors import IntakeError
from intake.service import ledger
from intake.service.db import Base
from intake.service.models import MessageRow, OrderEventRow, OrderRow

__all__ = [
    "SOURCES", "TrainingExampleRow", "record_correction", "save_training_example", "corrections_of",
    "truth_from_record", "training_examples",
]

SOURCES = ("review_ui", "cli", "labelstudio")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class TrainingExampleRow(Base):
    """One corrected order: the truth the model should have read from the document."""

    __tablename__ = "training_examples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    message_sha256: Mapped[str] = mapped_column(String(64), index=True)
    document_index: Mapped[int] = mapped_column(Integer, default=0)
    customer_id: Mapped[str | None] = mapped_column(String(128))
    model_version: Mapped[str | None] = mapped_column(String(128))
    truth: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16), default="review_ui")
    actor: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    used_in_model: Mapped[str | None] = mapped_column(String(128))


def _plain(v: Any) -> Any:
    # history JSON must hold plain values (dates and the like become strings)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def record_correction(session: Session, order_row: OrderRow, field: str, old: Any, new: Any, actor: str,
                      *, data: dict[str, Any] | None = None) -> None:
    """Add a correction (field, old value, new value, who; the event has the time) to the history.

    ``field`` names the value: ``po_number``, ``customer_id`` or ``lines[2].quantity`` (line_no 2);
    ``data`` may add detail such as the operation (``set``, ``add_line``, ``split_line``).
    """
    if not field:
        raise IntakeError("a correction needs the name of the field it changed")
    payload = {"field": field, "old": _plain(old), "new": _plain(new), **(data or {})}
    ledger.add_event(session, order_row.id, None, None, actor,
                     f"corrected {field}: {_show(old)} -> {_show(new)}", kind="correction", data=payload)


def _show(v: Any) -> str:
    s = "(empty)" if v is None or v == "" else repr(v) if isinstance(v, str) else str(v)
    return s if len(s) <= 80 else s[:77] + "..."


def corrections_of(session: Session, order_id: str) -> list[OrderEventRow]:
    """The order's corrections, oldest first."""
    return list(session.scalars(select(OrderEventRow).where(OrderEventRow.order_id == order_id,
                                                            OrderEventRow.kind == "correction")
                                .order_by(OrderEventRow.id)))


def truth_from_record(record: dict[str, Any]) -> dict[str, Any]:
    """Keep only the truth-schema keys of a record-shaped dict (a draft's ``to_truth()`` works too)."""
    truth: dict[str, Any] = {k: record.get(k) for k in TRUTH_HEADER_KEYS}
    lines = []
    for i, ln in enumerate(record.get("lines") or [], 1):
        item = {k: ln.get(k) for k in TRUTH_LINE_KEYS}
        if item["line_no"] is None:
            item["line_no"] = i
        lines.append(item)
    truth["lines"] = lines
    return truth


def save_training_example(session: Session, order_row: OrderRow, truth: dict[str, Any], source: str,
                          actor: str) -> TrainingExampleRow:
    """Store ``truth`` (realdocs truth schema) as a labelled example of the order's document."""
    if source not in SOURCES:
        raise IntakeError(f"unknown training example source {source!r}: use one of {', '.join(SOURCES)}")
    msg = session.get(MessageRow, order_row.message_id)
    if msg is None:
        raise IntakeError(f"order {order_row.id} has no stored message")
    draft = order_row.draft or {}
    row = TrainingExampleRow(
        order_id=order_row.id, message_sha256=msg.sha256,
        document_index=int(draft.get("document_index", order_row.document_index) or 0),
        customer_id=order_row.customer_id, model_version=draft.get("model_version") or order_row.extractor,
        truth=truth_from_record(truth), source=source, actor=actor,
    )
    session.add(row)
    session.flush()
    return row


def training_examples(session: Session, *, unused_only: bool = False) -> list[TrainingExampleRow]:
    stmt = select(TrainingExampleRow).order_by(TrainingExampleRow.id)
    if unused_only:
        stmt = stmt.where(TrainingExampleRow.used_in_model.is_(None))
    return list(session.scalars(stmt))


def count_examples(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(TrainingExampleRow)) or 0)
