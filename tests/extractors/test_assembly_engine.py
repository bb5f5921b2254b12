"""The rule engine of assembly (extractors/assembly): named steps, checks that can be left out,
and the trace of what each step changed (``intake extract --explain``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from extractors.assembly import CHECKS, STEPS, Change, assemble
from extractors.normalize import Locale
from intake.core.domain import Word
from extractors.serving.features import ID2LABEL, LABEL2ID


class Page:
    """Words with the tag a sure model gives them."""

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.tags: list[str] = []

    def put(self, text: str, x: float, y: float, tag: str = "O") -> None:
        for i, t in enumerate(text.split()):
            self.words.append(Word(text=t, box=(x + i * 40, y, x + i * 40 + 35, y + 9)))
            self.tags.append(tag if i == 0 or tag == "O" else "I-" + tag[2:])

    def probs(self) -> np.ndarray:
        p = np.full((len(self.words), len(ID2LABEL)), 0.1 / (len(ID2LABEL) - 1))
        for k, t in enumerate(self.tags):
            p[k, LABEL2ID[t]] = 0.9
        return p


def _table(p: Page) -> None:
    p.put("Item", 20, 180)
    p.put("Qty", 400, 180)
    p.put("Price", 450, 180)
    p.put("Total", 510, 180)
    for k, (sku, q, pr, a) in enumerate((("AB-100", "10", "1.50", "15.00"), ("AB-200", "4", "2.00", "8.00"))):
        y = 200 + 20 * k
        p.put(sku, 20, y, "B-sku")
        # the model read the quantity column as prices
        p.put(q, 400, y, "B-unit_price")
        p.put(pr, 450, y, "B-unit_price")
        p.put(a, 510, y, "B-amount")


def test_steps_are_named_once_with_a_reason_and_core_steps_cannot_be_left_out() -> None:
    names = [s.name for s in STEPS]
    assert len(names) == len(set(names))
    assert all(s.reason for s in STEPS)
    assert "read_lines" in names and "read_lines" not in CHECKS and "table_header" in CHECKS
    with pytest.raises(ValueError, match="no such check: nope"):
        assemble([], np.zeros((0, len(ID2LABEL))), ID2LABEL, skip=["nope"])


def test_a_check_left_out_changes_what_is_read() -> None:
    p = Page()
    _table(p)
    loc = Locale("en", decimal=".")
    d = assemble(p.words, p.probs(), ID2LABEL, loc)
    assert [ln.quantity.value for ln in d.lines] == [10, 4]  # the header "Qty" names the column
    without = assemble(p.words, p.probs(), ID2LABEL, loc, skip=["table_header", "arithmetic_row"])
    assert [ln.quantity.value for ln in without.lines] != [10, 4]


def test_the_trace_names_the_step_the_target_and_before_and_after() -> None:
    p = Page()
    p.put("PO Number:", 300, 40)
    p.put("4500012345", 400, 40)  # the model did not tag it
    _table(p)
    trace: list[Change] = []
    d = assemble(p.words, p.probs(), ID2LABEL, Locale("en", decimal="."), trace=trace)
    assert d.po_number.value == "4500012345"
    po = [c for c in trace if c.target == "po_number"]
    assert po and po[0].step == "header_captions" and po[0].before == "-" and po[0].after.startswith("4500012345 (")
    assert po[0].reason
    qty = [c for c in trace if c.step == "table_header" and c.target.startswith("word '10'")]
    assert qty and (qty[0].before, qty[0].after) == ("unit_price", "quantity")
    assert any(c.step == "read_lines" and c.target == "line 1" for c in trace)
    # without a trace nothing is recorded, and the draft is the same
    assert assemble(p.words, p.probs(), ID2LABEL, Locale("en", decimal=".")).to_truth() == d.to_truth()


def test_extract_explain_prints_each_change_with_the_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.entry.cli import app
    from training.synth import generate, train_families

    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path / "data"))
    [pdf] = generate(1, tmp_path, seed=4242, formats=["pdf"], families=train_families()[:1], progress=False)
    res = CliRunner().invoke(app, ["extract", "--explain", str(pdf)])
    assert res.exit_code == 0, res.output
    [order] = json.loads(res.output)
    assert order["lines"] and order["explain"]
    steps = {s.name for s in STEPS}
    for c in order["explain"]:
        assert c["step"] in steps | {"learned_layout"}
        assert {"target", "before", "after", "reason"} <= set(c)
    assert any(c["step"] == "read_lines" for c in order["explain"])
    plain = CliRunner().invoke(app, ["extract", str(pdf)])
    assert plain.exit_code == 0 and "explain" not in json.loads(plain.output)[0]
    truth: dict[str, Any] = json.loads(Path(f"{pdf}.truth.json").read_text())
    assert order["po_number"] == truth["po_number"]
