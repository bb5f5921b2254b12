"""Shared by the atheris harnesses: seed corpora from the committed fixtures, and the contract.

The contract under test: a reader given any bytes either returns its result or raises a named
``IntakeError`` (with a one-line reason); any other exception is a bug and stops the fuzzer.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "orders"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def seed_dir(patterns: tuple[str, ...]) -> str:
    """A temporary folder holding the fixture files matching ``patterns`` (libFuzzer mutates a copy)."""
    d = Path(tempfile.mkdtemp(prefix="intake-fuzz-"))
    for pat in patterns:
        for f in sorted(FIXTURES.glob(pat)):
            shutil.copy(f, d / f"{f.parent.name}{f.suffix}")
    return str(d)


def check_reason(exc: BaseException) -> None:
    """A named error must carry a one-line reason."""
    reason = getattr(exc, "reason", None)
    if not reason or "\n" in reason:
        raise AssertionError(f"{type(exc).__name__} without a one-line reason: {reason!r}")


def args_with_seeds(argv: list[str], seeds: str) -> list[str]:
    """argv plus the seed folder, unless the caller named corpus folders itself."""
    if any(not a.startswith("-") for a in argv[1:]):
        return argv
    return [*argv, seeds]
