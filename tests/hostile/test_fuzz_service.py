"""Generated hostile files through a real `intake serve` (bench/hostile.py, short run)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.scale.harness import ROOT

pytestmark = pytest.mark.slow


def test_hostile_files_through_a_real_service_end_failed_or_read_and_it_stays_up() -> None:
    """A short run of bench/hostile.py (the full run is 10,000 files: see the README)."""
    import json

    out = subprocess.run([sys.executable, str(ROOT / "bench" / "hostile.py"), "-n", "300", "--seed", "7", "--json"],
                         capture_output=True, text=True, timeout=1500, cwd=ROOT)
    res = json.loads(out.stdout)
    assert res["files"] == 300 and res["crashes"] == 0, res["crash_examples"]
    assert res["service_up"] and res["lost"] == 0 and res["left_unread"] == 0
    assert res["outcomes"].get("FAILED", 0) > 100  # the run did send hostile files, not only good ones
    assert out.returncode == 0
