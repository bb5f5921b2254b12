"""Leave-issuer-out evaluation (training/leave_issuer_out.py, ``intake eval --leave-issuer-out``):
issuers the model was trained on are reported apart, and an issuer's learned layouts are left
out while it is read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from training.leave_issuer_out import DEFAULT_SPLIT, IssuerSplit, seen_files

REALDOCS = Path(__file__).resolve().parents[2].parent / "shared" / "realdocs" / "pdf"


def test_split_maps_patterns_and_falls_back_to_the_name_prefix(tmp_path: Path) -> None:
    p = tmp_path / "split.json"
    p.write_text(json.dumps({"issuers": {"north": ["north_*", "nw-order-*.pdf"], "quote": ["he_price_quote_*"]}}))
    sp = IssuerSplit.load(p)
    assert sp.issuer_of("north_PO1.pdf") == "north"
    assert sp.issuer_of("NW-ORDER-7.PDF") == "north"  # case-insensitive
    assert sp.issuer_of("he_price_quote_1.pdf") == "quote"
    assert sp.issuer_of("he_agent_order_2.pdf") == "he"  # no pattern: the prefix
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"issuers": ["north_*"]}))
    from intake.core.errors import ConfigError

    with pytest.raises(ConfigError, match="expected"):
        IssuerSplit.load(bad)


def test_seen_files_come_from_the_manifest(tmp_path: Path) -> None:
    for n in ("acme_1.pdf", "beta_1.pdf"):
        (tmp_path / n).write_bytes(b"%PDF")
        (tmp_path / f"{n}.truth.json").write_text("{}")
    names, how = seen_files({"trained_on_files": ["acme_1.pdf"]}, tmp_path)
    assert names == {"acme_1.pdf"} and "trained_on_files" in how
    # an older manifest: the truth folders it trained on, minus the held-out issuers
    names, how = seen_files({"config": {"truth_dirs": [str(tmp_path)], "truth_holdout_issuers": ["beta"]}}, tmp_path)
    assert names == {"acme_1.pdf"} and "truth_holdout_issuers" in how
    assert seen_files({}, tmp_path)[0] == set()


def _model_dir(tmp_path: Path, trained_on: list[str], layouts: list[dict[str, Any]]) -> Path:
    from extractors.serving import DEFAULT_MODEL_DIR

    m = tmp_path / "model"
    m.mkdir()
    for f in DEFAULT_MODEL_DIR.iterdir():
        if f.is_file() and f.name != "intake_model.json":
            (m / f.name).symlink_to(f)
    meta = json.loads((DEFAULT_MODEL_DIR / "intake_model.json").read_text())
    meta["trained_on_files"] = trained_on
    (m / "intake_model.json").write_text(json.dumps(meta))
    (m / "layouts.json").write_text(json.dumps({"layouts": layouts}))
    return m


def test_cli_reports_seen_issuers_apart_and_reads_no_layout_of_the_scored_issuer(
        tmp_path: Path, settings: Any) -> None:
    from extractors.registry import read_bytes
    from training.cli_model import eval_command
    from extractors.serving.router import fingerprint
    from training.synth import generate, train_families

    gen = generate(3, tmp_path / "gen", seed=4242, formats=["pdf"], families=train_families()[:1], progress=False)
    docs = tmp_path / "docs"
    docs.mkdir()
    names = ["acme_001.pdf", "beta_001.pdf", "beta_002.pdf"]
    for src, name in zip(gen, names):
        shutil.copy(src, docs / name)
        shutil.copy(f"{src}.truth.json", docs / f"{name}.truth.json")
    # A layout learned from a correction of beta_001 that says its documents print no order
    # number: read on beta's documents it would blank a right one.
    [d] = read_bytes((docs / "beta_001.pdf").read_bytes(), "beta_001.pdf")
    lay = {"fingerprints": [fingerprint(d, "beta_001.pdf")], "threshold": 0.5, "single_item": False,
           "anchors": {"total": {"caption": "no such caption here", "how": "right", "page": 0, "nth": 0, "of": 1}},
           "absent": ["po_number"]}
    model = _model_dir(tmp_path, ["acme_001.pdf"], [lay])
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"issuers": {"acme": ["acme_*"], "beta": ["beta_*"]}}))

    import typer

    app = typer.Typer()
    app.command("eval")(eval_command)
    app.command("noop")(lambda: None)
    res = CliRunner().invoke(app, ["eval", str(docs), "--leave-issuer-out", "--split", str(split),
                                   "--model", str(model), "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert r["leave_issuer_out"]["issuers"] == ["beta"]
    assert r["leave_issuer_out"]["documents"] == 2
    assert r["seen_by_model"]["issuers"] == ["acme"] and "trained_on_files" in r["seen_by_model"]["reason"]
    beta = r["issuers"]["beta"]
    assert beta["layouts_left_out"] == 1 and beta["seen_by_model"] is False
    assert r["issuers"]["acme"]["layouts_left_out"] == 0
    # beta was read without its layout: its order numbers are right
    assert r["leave_issuer_out"]["fields"]["po_number"]["f1"] == 1.0
    # the same model without the protocol reads beta_001 by the layout, and loses the number
    plain = CliRunner().invoke(app, ["eval", str(docs), "--model", str(model), "--json",
                                     "--report", str(tmp_path / "rep")])
    assert plain.exit_code == 0, plain.output
    per = {d["name"]: d for d in json.loads(plain.output)["per_document"]}
    assert "po_number" in per["beta_001.pdf"]["wrong_fields"]


def test_text_report_leads_with_the_leave_issuer_out_figure(tmp_path: Path) -> None:
    from training.evaluate import Scores, score_document
    from training.leave_issuer_out import format_report, leave_issuer_out
    from intake.core.domain import Field, OrderDraft

    for n, po in (("acme_1.pdf", "A-1"), ("beta_1.pdf", "B-1")):
        (tmp_path / n).write_bytes(b"%PDF")
        (tmp_path / f"{n}.truth.json").write_text(json.dumps({"po_number": po, "lines": []}))

    def score_doc(p: Path, keep: Any, sc: Scores) -> Any:
        truth = json.loads(Path(f"{p}.truth.json").read_text())
        got = truth["po_number"] if p.name.startswith("beta") else "wrong"
        return score_document(OrderDraft(po_number=Field(value=got, confidence=0.9)), truth, sc, p.name)

    r = leave_issuer_out(tmp_path, score_doc, IssuerSplit(), seen={"acme_1.pdf"}, seen_how="test")
    text = format_report(r)
    assert text.splitlines()[0].startswith("leave-issuer-out over 1 issuer(s), 1 document(s)")
    assert "header  P 1.000  R 1.000  F1 1.000" in text.splitlines()[1]
    assert "seen by the model, not counted: acme" in text
    assert r["all_documents"]["header"]["f1"] == pytest.approx(0.5)


@pytest.mark.skipif(not REALDOCS.is_dir(), reason="../shared/realdocs is absent (real documents are not shipped)")
def test_realdocs_split_names_the_issuer_of_every_document_with_truth() -> None:
    from training.evaluate import truth_documents

    sp = IssuerSplit.load(DEFAULT_SPLIT)
    for p in truth_documents(REALDOCS) + truth_documents(REALDOCS / "scanned"):
        assert sp.issuer_of(p.name) in sp.issuers, f"{p.name} matches no issuer of {DEFAULT_SPLIT.name}"
