"""The order state machine: one table of allowed transitions.

    RECEIVED -> EXTRACTED -> MATCHED -> NEEDS_REVIEW | APPROVED -> DELIVERED
    exits: REJECTED, DUPLICATE, FAILED(reason)

FAILED orders can be re-run (back to RECEIVED); an order waiting for review can be re-matched
after a CSR's edit (back to MATCHED) and approved or rejected.
"""

from __future__ import annotations

import enum

from intake.core.errors import InvalidTransition

__all__ = ["OrderStatus", "MessageStatus", "ALLOWED", "TERMINAL", "check_transition", "ACTIVE"]


class OrderStatus(str, enum.Enum):
    RECEIVED = "RECEIVED"
    EXTRACTED = "EXTRACTED"
    MATCHED = "MATCHED"
    NEEDS_REVIEW = "NEEDS_REVIEW"
    APPROVED = "APPROVED"
    DELIVERED = "DELIVERED"
    REJECTED = "REJECTED"
    DUPLICATE = "DUPLICATE"
    FAILED = "FAILED"


class MessageStatus(str, enum.Enum):
    STORED = "STORED"  # bytes and row stored by a channel that still has to check it (a mail: headers, duplicates)
    RECEIVED = "RECEIVED"  # stored, not yet read
    PROCESSED = "PROCESSED"  # read; its orders exist
    FAILED = "FAILED"  # could not be read: one FAILED order carries the reason


S = OrderStatus

ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.RECEIVED: frozenset({S.EXTRACTED, S.FAILED, S.REJECTED}),
    S.EXTRACTED: frozenset({S.MATCHED, S.FAILED, S.REJECTED}),
    S.MATCHED: frozenset({S.NEEDS_REVIEW, S.APPROVED, S.DUPLICATE, S.FAILED, S.REJECTED}),
    S.NEEDS_REVIEW: frozenset({S.MATCHED, S.APPROVED, S.REJECTED, S.DUPLICATE}),
    S.APPROVED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.REJECTED: frozenset(),
    S.DUPLICATE: frozenset({S.NEEDS_REVIEW}),
    S.FAILED: frozenset({S.RECEIVED, S.REJECTED}),
}

TERMINAL = frozenset(s for s, nxt in ALLOWED.items() if not nxt)
ACTIVE = frozenset({S.RECEIVED, S.EXTRACTED, S.MATCHED})  # a worker still has to move these


def check_transition(from_: OrderStatus | str, to: OrderStatus | str) -> None:
    """Raise InvalidTransition unless ``from_ -> to`` is in the table."""
    f, t = OrderStatus(from_), OrderStatus(to)
    if t not in ALLOWED[f]:
        raise InvalidTransition(f.value, t.value)
