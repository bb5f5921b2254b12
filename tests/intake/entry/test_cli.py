"""The command line as a user runs it: one-line errors, no tracebacks, the truth schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_realdocs
from tests.intake.service.test_pipeline import X12_850

HEADER = ("po_number", "order_date", "buyer", "supplier", "ship_to", "currency", "total")
LINE = ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount")


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, INTAKE_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1")
    env.pop("INTAKE_WEBHOOK_URL", None)
    return subprocess.run([sys.executable, "-m", "intake", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)


def test_ingest_prints_orders_and_keeps_history(tmp_path: Path) -> None:
    f = tmp_path / "po.edi"
    f.write_text(X12_850)
    r = run(tmp_path, "ingest", str(f), "--json")
    assert r.returncode == 0, r.stderr
    (res,) = json.loads(r.stdout)
    (order,) = res["orders"]
    assert order["status"] == "APPROVED" and order["po_number"] == "PO-77001"
    for key in ("id", "status", "customer_id", "po_number", "order_date", "requested_date", "ship_to", "currency",
                "payment_terms", "total", "lines", "confidence", "problems", "history"):
        assert key in order
    assert set(order["lines"][0]) >= {"line_no", "customer_sku", "sku", "description", "quantity", "uom",
                                      "unit_price", "amount", "confidence"}
    again = run(tmp_path, "ingest", str(f))
    assert again.returncode == 0 and "duplicate" in again.stderr
    shown = run(tmp_path, "orders", "show", order["id"])
    assert "EXTRACTED    -> MATCHED" in shown.stdout and "APPROVED" in shown.stdout


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 10, os.urandom(500), X12_850[:200].encode()])
def test_bad_input_exits_non_zero_with_one_line(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "bad.edi"
    f.write_bytes(content)
    for cmd in (["ingest", str(f)], ["extract", str(f)]):
        r = run(tmp_path, *cmd)
        assert r.returncode != 0
        assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
        assert len(lines) == 1 and len(lines[0]) > 10, r.stderr


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    r = run(tmp_path, "extract", str(tmp_path / "nope.pdf"))
    assert r.returncode != 0 and r.stderr.startswith("error:") and "Traceback" not in r.stderr


def test_apikey_prints_key_alone_on_last_line(tmp_path: Path) -> None:
    r = run(tmp_path, "apikey", "create", "erp")
    assert r.returncode == 0
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("oik_") and " " not in key and len(key) > 30


def _norm(v):  # type: ignore[no-untyped-def]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return round(float(v), 4)
    return v


def test_extract_matches_every_edi_truth(tmp_path: Path) -> None:
    root = need_realdocs()
    truths = sorted(list((root / "edi_x12").glob("*.truth.json")) + list((root / "edifact").glob("*.truth.json")))
    assert truths
    for t in truths:
        doc = t.with_name(t.name[: -len(".truth.json")])
        r = run(tmp_path, "extract", str(doc))
        assert r.returncode == 0, (doc.name, r.stderr)
        orders = json.loads(r.stdout)
        truth = json.loads(t.read_text())
        got = next(o for o in orders if o["po_number"] == truth["po_number"])
        for k in HEADER:
            assert _norm(got[k]) == _norm(truth[k]), (doc.name, k, got[k], truth[k])
        assert len(got["lines"]) == len(truth["lines"]), doc.name
        for gl, tl in zip(got["lines"], truth["lines"]):
            for k in LINE:
                assert _norm(gl[k]) == _norm(tl[k]), (doc.name, k, gl[k], tl[k])
        assert all(v == 1.0 for k, v in got["confidence"].items() if k != "lines")
