"""The learning loop: corrections become labelled examples, retraining is gated on the frozen
set, promotions are picked up without a restart, and `intake serve`'s learner retrains in the
background after INTAKE_RETRAIN_AFTER corrections."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def sm(settings: Any) -> Any:
    from intake.service.db import make_engine, make_sessionmaker
    from intake.service.migrate import upgrade

    engine = make_engine(settings.db_url)
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def family_docs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four PDFs of one layout family held out of training (a layout the model has not seen)."""
    from training.synth import generate, heldout_families

    out = tmp_path_factory.mktemp("family")
    return generate(4, out, seed=3, formats=["pdf"], families=[heldout_families()[1]], progress=False)


def _truth(p: Path) -> dict[str, Any]:
    return json.loads(Path(f"{p}.truth.json").read_text())


def test_migration_0005_matches_the_table(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    import intake.service.corrections  # noqa: F401
    import training.learn  # noqa: F401
    from intake.service.db import Base, make_engine
    from intake.service.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert "labelled_examples" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diffs if "labelled_examples" in repr(d)]
    assert not mine, mine


def test_learn_aligns_every_truth_value_and_stores_the_document(settings: Any, sm: Any, family_docs: list[Path]) -> None:
    from intake.service.blobstore import BlobStore
    from intake.service.db import unit_of_work
    from training.build_dataset import LabelledDoc
    from training.learn import count_unused, labelled_examples, learn_document

    pdf = family_docs[0]
    truth = _truth(pdf)
    with unit_of_work(sm) as s:
        row = learn_document(s, settings, pdf.read_bytes(), pdf.name, truth, customer_id="C-7")
        assert row.values_total >= 5 + 3 * len(truth["lines"])
        assert row.values_found == row.values_total  # a clean PDF: every value is on the page
    with unit_of_work(sm) as s:
        [stored] = labelled_examples(s)
        assert stored.customer_id == "C-7" and stored.source == "cli" and stored.used_in_model is None
        assert BlobStore(settings.blob_dir).get(stored.document_sha256) == pdf.read_bytes()
        ex = LabelledDoc.from_json(stored.example)
        tags = [t for p in ex.pages for t in p.tags]
        words = [w.text for p in ex.pages for w in p.words]
        po = [w for w, t in zip(words, tags) if t.endswith("po_number")]
        assert " ".join(po).replace(" ", "") == truth["po_number"].replace(" ", "")
        assert sum(1 for t in tags if t == "B-sku") == len(truth["lines"])
        assert count_unused(s) == 1


def test_learn_refuses_what_is_not_a_corrected_order(settings: Any, sm: Any, family_docs: list[Path],
                                                     tmp_path: Path) -> None:
    from intake.service.db import unit_of_work
    from intake.core.errors import ReadError
    from training.learn import learn_document, load_truth

    pdf = family_docs[0]
    with unit_of_work(sm) as s:
        with pytest.raises(ReadError, match="nothing to learn"):
            learn_document(s, settings, pdf.read_bytes(), pdf.name, {"lines": []})
        with pytest.raises(ReadError, match="empty file"):
            learn_document(s, settings, b"", "x.pdf", _truth(pdf))
        with pytest.raises(ReadError, match="none of the truth's values"):
            learn_document(s, settings, pdf.read_bytes(), pdf.name,
                           {"po_number": "ZZ-NOT-THERE-999", "lines": [{"sku": "QQQ-000", "quantity": 987654}]})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ReadError, match="not valid JSON"):
        load_truth(bad)
    # the command says it in one line, without a traceback
    env = {"INTAKE_DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-m", "intake", "learn", str(pdf), str(bad)], capture_output=True,
                       text=True, cwd=ROOT, env=env, timeout=120)
    assert r.returncode != 0 and "not valid JSON" in r.stderr and "Traceback" not in r.stderr


def test_review_ui_training_examples_are_aligned_too(settings: Any, sm: Any, family_docs: list[Path]) -> None:
    from intake.service import ledger
    from intake.service.blobstore import BlobStore, sha256_hex
    from intake.service.corrections import save_training_example
    from intake.service.db import unit_of_work
    from intake.core.domain import Channel, RawMessage
    from intake.core.states import OrderStatus
    from training.learn import count_unused, labelled_examples, sync_training_examples

    pdf = family_docs[1]
    data = pdf.read_bytes()
    BlobStore(settings.blob_dir).put(data)
    with unit_of_work(sm) as s:
        raw = RawMessage(sha256=sha256_hex(data), size=len(data), filename=pdf.name, content_type="application/pdf",
                         channel=Channel.upload, received_at=datetime.now(timezone.utc))
        msg, _ = ledger.record_message(s, raw)
        order = ledger.create_order(s, msg, 0, OrderStatus.NEEDS_REVIEW, actor="test", reason="test",
                                    customer_id="C-9")
        save_training_example(s, order, _truth(pdf), "review_ui", "csr1")
    with unit_of_work(sm) as s:
        assert count_unused(s) == 1  # waiting to be aligned counts as a new correction
        assert sync_training_examples(s, settings) == 1
        assert sync_training_examples(s, settings) == 0  # once only
        [row] = labelled_examples(s)
        assert row.customer_id == "C-9" and row.training_example_id is not None and row.source == "review_ui"
        assert row.values_found == row.values_total
        assert count_unused(s) == 1


def test_retrain_config_holds_the_holdout_and_refit_switches(tmp_path: Path) -> None:
    from intake.core.errors import ConfigError
    from training.retrain import RetrainConfig, load_retrain_config

    assert RetrainConfig().holdout_newest is True and RetrainConfig().refit_all is True
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"holdout_newest": False, "refit_all": False}))
    cfg = load_retrain_config(p)
    assert cfg.holdout_newest is False and cfg.refit_all is False
    p.write_text(json.dumps({"refit_all": "no"}))
    with pytest.raises(ConfigError, match="refit_all take true or false"):
        load_retrain_config(p)


def _reload_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serving compares the live pointer on every extraction (INTAKE_MODEL_RELOAD_CHECK_S=0)."""
    from intake.core.settings import get_settings

    monkeypatch.setenv("INTAKE_MODEL_RELOAD_CHECK_S", "0")
    get_settings.cache_clear()


def _default_model() -> Path:
    from extractors.serving import DEFAULT_MODEL_DIR

    assert (DEFAULT_MODEL_DIR / "model.safetensors").is_file(), "the committed default model is missing"
    return DEFAULT_MODEL_DIR


def test_a_promotion_is_picked_up_without_a_restart(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import extractors.inference as inf
    from training.registry import Registry

    base = _default_model()
    reg = Registry(settings.registry_dir)
    a = reg.add(base, "a-model")
    b = reg.add(base, "b-model")
    reg.promote(a)
    _reload_at_once(monkeypatch)
    inf.reset_default()
    try:
        first = inf.default_extractor()
        assert first.__self__.version == a  # type: ignore[attr-defined]
        assert inf.default_extractor() is not None and inf._default is first.__self__  # type: ignore[attr-defined]
        reg.promote(b, reason="test")
        second = inf.default_extractor()
        assert second.__self__.version == b  # type: ignore[attr-defined]
        reg.rollback()
        assert inf.default_extractor().__self__.version == a  # type: ignore[attr-defined]
    finally:
        inf.reset_default()


def _tiny_config(path: Path, **kw: Any) -> Path:
    cfg = {"steps": 2, "max_minutes": 0, "replay_n": 2, "replay_formats": ["pdf"], "frozen_n": 2,
           "frozen_formats": ["pdf"], "batch_size": 2, "lr": 1e-5, "bf16": False, **kw}
    path.write_text(json.dumps(cfg))
    return path


@pytest.mark.slow
def test_retrain_refuses_a_candidate_that_is_worse_and_prints_both_sets(settings: Any, sm: Any,
                                                                         family_docs: list[Path],
                                                                         tmp_path: Path) -> None:
    from intake.service.db import unit_of_work
    from training.learn import count_unused, learn_document
    from training.registry import Registry
    from training.report import RetrainReport
    from training.retrain import load_retrain_config, retrain

    reg = Registry(settings.registry_dir)
    reg.promote(reg.add(_default_model(), "base"))
    with unit_of_work(sm) as s:
        ids = [learn_document(s, settings, p.read_bytes(), p.name, _truth(p), customer_id="C-1").id
               for p in family_docs[:2]]
    # A tolerance below zero demands a candidate better by more than F1 can rise: never promoted.
    cfg = load_retrain_config(_tiny_config(tmp_path / "c.json", tolerance=-1.5))
    report = retrain(settings, cfg)
    assert isinstance(report, RetrainReport)
    rep = report.to_json()
    assert rep["promoted"] is False and rep["reasons"]
    assert reg.live() == "base"
    assert set(rep["frozen"]["live"]) == set(rep["frozen"]["candidate"]) and rep["frozen"]["live"]
    # the newest correction was held out of the judged fine-tune, and C-1's figures are on it alone
    assert rep["held_out"]["count"] == 1 and [e["id"] for e in rep["held_out"]["examples"]] == [ids[1]]
    assert rep["trained_on"] == 1 and rep["corrections"] == 2
    assert set(rep["recent_corrections"]) == {"C-1"}
    c1 = rep["recent_corrections"]["C-1"]
    assert c1["held_out"] is True and [e["id"] for e in c1["examples"]] == [ids[1]]
    assert c1["live"]["documents"] == 1 and c1["candidate"]["documents"] == 1
    # every attempt faces the per-customer check, and its reasons name the customer and the figure
    for a in rep["attempts"]:
        assert set(a["recent_corrections"]) == {"C-1"} and not a["passed"]
        assert any(r.startswith("corrections of C-1 (held out): header_f1") for r in a["reasons"]), a["reasons"]
    assert rep["refit"] is None and rep["refit_seconds"] == 0  # nothing passed: nothing refit
    meta = next(v for v in reg.versions() if v["version"] == rep["version"])  # registered all the same
    assert meta["gate"]["promoted"] is False and meta["corrections"] == 1 and len(meta["dataset_hash"]) == 64
    assert meta["holdout"]["examples"][0]["id"] == ids[1] and meta["holdout"]["trained_on_all_corrections"] is False
    with unit_of_work(sm) as s:
        assert count_unused(s) == 0  # trained on, so the background learner does not loop
    from training.report import format_report

    text = format_report(rep)
    assert "NOT promoted" in text and "frozen set" in text
    assert f"corrections of C-1 (held out: #{ids[1]} {family_docs[1].name})" in text
    assert f"held out of the judged fine-tune (each customer's newest): C-1 #{ids[1]}" in text


@pytest.mark.slow
def test_serve_learner_retrains_in_the_background_and_the_model_is_reloaded(settings: Any, sm: Any,
                                                                             family_docs: list[Path],
                                                                             tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import extractors.inference as inf
    from intake.service.db import unit_of_work
    from training.background import Learner
    from training.learn import learn_document
    from training.registry import Registry

    reg = Registry(settings.registry_dir)
    reg.promote(reg.add(_default_model(), "base"))
    # tolerance 1.0: whatever the candidate scores, it is promoted (the gate itself is tested above)
    monkeypatch.setenv("INTAKE_RETRAIN_CONFIG", str(_tiny_config(tmp_path / "c.json", tolerance=1.0)))
    _reload_at_once(monkeypatch)
    learner = Learner(settings, sm, after=2, check_s=0.2)
    with unit_of_work(sm) as s:
        learn_document(s, settings, family_docs[0].read_bytes(), family_docs[0].name, _truth(family_docs[0]))
    learner.step()
    assert learner.proc is None  # one correction: not yet
    with unit_of_work(sm) as s:
        learn_document(s, settings, family_docs[1].read_bytes(), family_docs[1].name, _truth(family_docs[1]))
    inf.reset_default()
    try:
        assert inf.default_extractor().__self__.version == "base"  # type: ignore[attr-defined]
        learner.start()
        deadline = time.time() + 600  # a loaded 2-core machine is slow; normally about a minute
        while not learner.runs and time.time() < deadline:
            time.sleep(0.5)
        learner.stop()
        assert learner.runs, "the background retraining did not finish"
        run = learner.runs[0]
        assert run["returncode"] == 0, Path(run["log"]).read_text()[-2000:]
        rep = run["report"]
        assert rep["promoted"] is True and reg.live() == rep["version"]
        # the newest correction was held out of the judged fine-tune; the promoted model is the
        # refit on both
        assert rep["held_out"]["count"] == 1 and rep["refit"]["passed"] and rep["refit"]["of"] == "candidate"
        meta = next(m for m in reg.versions() if m["version"] == rep["version"])
        assert meta["refit"]["refit_on_all_corrections"] is True and meta["corrections"] == 2
        # the serving process picks the promoted model up on its next extraction
        assert inf.default_extractor().__self__.version == rep["version"]  # type: ignore[attr-defined]
        learner.step()
        assert learner.proc is None  # nothing new to learn: no second run
    finally:
        learner.stop()
        inf.reset_default()
        shutil.rmtree(settings.data_dir / "cache", ignore_errors=True)


def test_model_commands_promote_list_and_roll_back_to_the_packaged_model(settings: Any) -> None:
    from training.registry import Registry

    reg = Registry(settings.registry_dir)
    v = reg.add(_default_model(), "v-by-hand")
    env = {"INTAKE_DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}

    def intake(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "intake", *args], capture_output=True, text=True, cwd=ROOT,
                              env=env, timeout=120)

    assert intake("model", "promote", v).returncode == 0
    assert reg.live() == v
    listed = json.loads(intake("model", "list", "--json").stdout)
    assert listed["live"] == v and {r["version"] for r in listed["versions"]} >= {v}
    r = intake("model", "rollback")
    assert r.returncode == 0 and reg.live() is not None and reg.live().startswith("base-")  # the packaged model
    bad = intake("model", "promote", "no-such-version")
    assert bad.returncode == 1 and "not in the registry" in bad.stderr and "Traceback" not in bad.stderr


def test_a_party_named_by_name_labels_its_whole_block() -> None:
    """The truth names the buyer ("Acme Ltd"); the example labels the address under it too, as
    the synthetic labels do, so corrections and synthetic data teach the model one thing."""
    from extractors.text import layout_text
    from training.build_dataset import label_from_truth

    doc = layout_text("PURCHASE ORDER 4711\n\nAcme Ltd\n12 High Street\nLeeds LS1 4AB\n\nShip to:\nDepot 9\n")
    ex = label_from_truth(doc, {"po_number": "4711", "buyer": "Acme Ltd", "lines": []})
    page = ex.pages[0]
    tags = dict(zip([w.text for w in page.words], [str(t) for t in page.tags]))
    for w in ("Acme", "Ltd", "12", "High", "Street", "Leeds", "LS1", "4AB"):
        assert "buyer" in tags[w], (w, tags[w])
    assert "buyer" not in tags["Ship"] and "buyer" not in tags["Depot"]


def test_alignment_labels_a_single_article_order_and_stops_party_blocks_at_captions_and_contacts() -> None:
    """An order for one article names it in the header and prints its quantity and price in a
    table below: those numbers are labelled as the line's. A party's address rows stop at a
    key-value row ("Option No: 32GPOO") and at a phone row."""
    from intake.core.domain import Document, DocumentKind, Page, Word
    from training.build_dataset import label_from_truth

    def w(text: str, x: float, y: float) -> Word:
        return Word(text=text, box=(x, y, x + 8 * len(text), y + 9), page=0)

    words = [w("Product", 300, 20), w("No:", 360, 20), w("0570002", 400, 20),
             w("Supplier", 20, 40), w("Name:", 90, 40), w("IMPRESS-NEWTEX", 140, 40),
             w("Option", 20, 52), w("No:", 80, 52), w("32GPOO", 140, 52),
             w("Vendor", 400, 80), w("SRI", 480, 80), w("GOPAL", 520, 80),
             w("HYDERABAD", 480, 92), w("Phone", 400, 104), w("0401234567", 480, 104),
             w("Blue", 20, 300), w("1.73", 300, 300), w("11", 400, 300), w("317", 420, 300)]
    doc = Document(kind=DocumentKind.pdf, name="po.pdf", pages=[Page(index=0, width=600, height=800, words=words)])
    truth = {"supplier": "IMPRESS-NEWTEX", "buyer": "SRI GOPAL",
             "lines": [{"sku": "0570002", "quantity": 11317, "unit_price": 1.73}]}
    ex = label_from_truth(doc, truth)
    tags = {wd.text: t for wd, t in zip(ex.pages[0].words, ex.pages[0].tags)}
    assert tags["0570002"] == "B-sku"
    assert (tags["1.73"], tags["11"], tags["317"]) == ("B-unit_price", "B-quantity", "I-quantity")
    assert tags["32GPOO"] == "O"  # a key-value row, not the supplier's address
    assert tags["HYDERABAD"] == "I-buyer" and tags["0401234567"] == "O"  # the phone row ends the block
