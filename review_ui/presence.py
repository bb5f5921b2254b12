"""Who has an order open: a soft lock the order page shows ("bob has had it open since 14:02").

The page marks its reader present when it opens and every ``HEARTBEAT_S`` seconds after; a
reader not seen for ``STALE_AFTER`` has gone (a closed tab sends a last "leave" too). Nothing is
refused because of presence: saving is guarded by the order's version, and a refused save keeps
the typed value on the page (see order.js).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from intake.service.models import OrderEventRow
from review_ui.models import PresenceRow

__all__ = ["HEARTBEAT_S", "STALE_AFTER", "Viewer", "touch", "leave", "viewers", "last_change", "viewers_by_order"]

HEARTBEAT_S = 15
STALE_AFTER = timedelta(seconds=45)


@dataclass
class Viewer:
    name: str
    since: datetime
    seen_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "since": _iso(self.since), "seen_at": _iso(self.seen_at)}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


def _iso(t: datetime) -> str:
    return _aware(t).isoformat(timespec="seconds")


def touch(session: Session, order_id: str, user: str, *, now: datetime | None = None) -> None:
    """Mark ``user`` present on the order; ``since`` restarts after they had gone."""
    now = now or _now()
    row = session.get(PresenceRow, (order_id, user))
    if row is None:
        session.add(PresenceRow(order_id=order_id, user_name=user, since=now, seen_at=now))
        return
    if now - _aware(row.seen_at) > STALE_AFTER:
        row.since = now
    row.seen_at = now


def leave(session: Session, order_id: str, user: str) -> None:
    session.execute(delete(PresenceRow).where(PresenceRow.order_id == order_id, PresenceRow.user_name == user))


def viewers(session: Session, order_id: str, *, besides: str | None = None, now: datetime | None = None) -> list[Viewer]:
    """Who else has the order open now, longest first."""
    cutoff = (now or _now()) - STALE_AFTER
    rows = session.scalars(select(PresenceRow).where(PresenceRow.order_id == order_id, PresenceRow.seen_at >= cutoff)
                           .order_by(PresenceRow.since))
    return [Viewer(r.user_name, _aware(r.since), _aware(r.seen_at)) for r in rows if r.user_name != besides]


def viewers_by_order(session: Session, *, now: datetime | None = None) -> dict[str, list[Viewer]]:
    """Every order someone has open (for the queue)."""
    cutoff = (now or _now()) - STALE_AFTER
    out: dict[str, list[Viewer]] = {}
    for r in session.scalars(select(PresenceRow).where(PresenceRow.seen_at >= cutoff).order_by(PresenceRow.since)):
        out.setdefault(r.order_id, []).append(Viewer(r.user_name, _aware(r.since), _aware(r.seen_at)))
    return out


def last_change(session: Session, order_id: str) -> dict[str, Any] | None:
    """The latest correction of the order: who changed it and when (for "bob changed it at ...")."""
    e = session.scalars(select(OrderEventRow).where(OrderEventRow.order_id == order_id,
                                                    OrderEventRow.kind == "correction")
                        .order_by(OrderEventRow.id.desc()).limit(1)).first()
    if e is None:
        return None
    actor = e.actor.split(":", 1)[1] if e.actor.startswith("user:") else e.actor
    return {"actor": actor, "at": _iso(e.at), "field": (e.data or {}).get("field"),
            "version": (e.data or {}).get("version")}
