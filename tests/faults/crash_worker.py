"""`intake worker` that kills itself with SIGKILL right after a chosen stage boundary.

``INTAKE_TEST_CRASH_AFTER=<stage>:<n>``: after the n-th time ``stage`` finished in this process,
the whole process group gets SIGKILL (no cleanup, no ack, no finally blocks), exactly like a
machine losing power at that point. Stages:

    read     Pipeline.read_message committed its orders; the next stage is not enqueued yet
    match    Pipeline.match_order committed MATCHED; decide not enqueued yet
    decide   Pipeline.decide committed APPROVED and the outbox row; the webhook not sent yet
    relay    the receiver answered 2xx, the outbox row is not yet marked sent (not committed)

    python -m tests.faults.crash_worker worker --pool solo --relay
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from intake.service.outbox import Relay
from intake.service.pipeline import Pipeline

_stage, _, _n = os.environ.get("INTAKE_TEST_CRASH_AFTER", ":0").partition(":")
_left = [int(_n or 0)]
_lock = threading.Lock()


def _tick(stage: str) -> None:
    if stage != _stage:
        return
    with _lock:
        _left[0] -= 1
        if _left[0] == 0:
            os.killpg(os.getpgid(0), signal.SIGKILL)


def _wrap(cls: Any, name: str, stage: str) -> None:
    orig = getattr(cls, name)

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = orig(self, *args, **kwargs)
        _tick(stage)
        return out

    setattr(cls, name, wrapped)


_wrap(Pipeline, "read_message", "read")
_wrap(Pipeline, "match_order", "match")
_wrap(Pipeline, "decide", "decide")


_attempt = Relay._attempt


def _relay_attempt(self: Relay, session: Any, ob: Any, url: str, secret: str) -> None:
    _attempt(self, session, ob, url, secret)
    if ob.status == "sent":  # delivered, but the ledger does not know yet
        _tick("relay")


Relay._attempt = _relay_attempt  # type: ignore[method-assign]

if __name__ == "__main__":
    from intake.entry.cli import main

    main()
