"""`make run`'s demo data: masters imported, sample orders ingested, one approved on its own."""

from __future__ import annotations

from pathlib import Path

from intake.service import ledger
from intake.entry.demo import prepare_demo
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings


def test_demo_prepares_a_whole_loop(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "data")
    info = prepare_demo(s, host="127.0.0.1", port=8765)
    assert info["api_key"].startswith("oik_") and info["ingested"] >= 5
    assert s.webhook_url == "http://127.0.0.1:8765/demo/webhooks" and s.webhook_secret is not None
    pipe = Pipeline(s)
    with pipe.sm() as sess:
        rows, total = ledger.list_orders(sess, limit=200)
        by_po = {r.po_number: r for r in rows}
        assert by_po["NWF-PO-26-1187"].status == "APPROVED" and by_po["NWF-PO-26-1187"].customer_id == "CUST-1001"
        assert any(r.status == "NEEDS_REVIEW" for r in rows)  # the queue has work for the CSR
        assert any(r.status == "FAILED" for r in rows)  # and a bad file shows its reason
    again = prepare_demo(s, host="127.0.0.1", port=8765)  # a second `make run` adds nothing
    assert again["api_key"] == info["api_key"] and "ingested" not in again
    with pipe.sm() as sess:
        assert ledger.list_orders(sess, limit=200)[1] == total
