"""`Pipeline.resume()` (what `intake serve` does at every start) in which reading one document
(holding KILL-ME-NOW) kills the whole process with SIGKILL, as a crash in a library or the OOM
killer would.

    python tests/hostile/killer_resume.py      (INTAKE_* settings in the environment)
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import intake.service.pipeline as pipeline  # noqa: E402

_extract = pipeline.extract_drafts


def _extract_or_die(data: bytes, *args: Any, **kwargs: Any) -> Any:
    if b"KILL-ME-NOW" in data:
        os.kill(os.getpid(), signal.SIGKILL)
    return _extract(data, *args, **kwargs)


pipeline.extract_drafts = _extract_or_die  # type: ignore[assignment]

if __name__ == "__main__":
    from intake.core.settings import Settings

    n = pipeline.Pipeline(Settings()).resume()
    sys.stdout.write(f"resumed {n}\n")
