"""Short, bounded atheris runs of the harnesses in fuzz/ (a longer run: `python fuzz/edi_fuzz.py
-runs=20000`). A harness stops with a non-zero exit on any exception but the named errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.scale.harness import ROOT

pytest.importorskip("atheris", reason="atheris is in the test extras (pip install -e .[test])")
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("harness,runs", [("edi_fuzz.py", 4000), ("spreadsheet_fuzz.py", 800)])
def test_fuzzer_runs_clean(harness: str, runs: int) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "fuzz" / harness), f"-runs={runs}", "-seed=1"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT, env={"PYTHONPATH": str(ROOT),
                                                                                     "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"Done {runs} runs" in out.stderr
