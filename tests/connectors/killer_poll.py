"""`intake mail poll` in which parsing one mail (subject KILLER) kills the whole process with
SIGKILL, as a parser bug that segfaults or the OOM killer would: no cleanup, no finally blocks.

    python tests/connectors/killer_poll.py      (INTAKE_IMAP_* in the environment)
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import connectors.imap as imap  # noqa: E402

_parse = imap.parse_mail


def _parse_or_die(data: bytes, *args: object, **kwargs: object) -> imap.MailInfo:
    if b"Subject: KILLER" in data:
        os.kill(os.getpid(), signal.SIGKILL)
    return _parse(data, *args, **kwargs)  # type: ignore[arg-type]


imap.parse_mail = _parse_or_die  # type: ignore[assignment]

if __name__ == "__main__":
    from intake.entry.cli import main

    sys.argv = ["intake", "mail", "poll"]
    main()
