"""Routed models (the fingerprints themselves: tests/extractors/serving/test_router.py): a
routed version in the registry loads both halves, routes each document, survives promote/rollback and a moved
data directory; retraining promotes a routed version when the plain candidate is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from intake.core.errors import ConfigError
from tests.extractors.serving.layouts import heldout_layouts


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    return heldout_layouts(tmp_path_factory.mktemp("layouts"))


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Any]:
    from training.registry import Registry

    yield Registry(tmp_path / "models")


def _routed(registry: Any, tmp_path: Path, corrected: list[Any], name: str = "r-routed") -> str:
    """A routed version whose halves are both the committed model (fast: nothing trained)."""
    from extractors.serving import DEFAULT_MODEL_DIR
    from training.retrain import _fallback_for, build_routed
    from extractors.serving.router import fingerprint

    fb_dir, fb_version = _fallback_for(DEFAULT_MODEL_DIR, registry)
    assert fb_dir.parent == registry.versions_dir  # the packaged model is registered as the fallback
    build_routed(DEFAULT_MODEL_DIR, tmp_path / name, [fingerprint(d, f"c{i}") for i, d in enumerate(corrected)],
                 0.7, fb_dir, fb_version)
    return registry.add(tmp_path / name, name)


def test_a_routed_version_loads_routes_and_serves_from_the_registry(layouts: dict[str, list[Any]], registry: Any,
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import extractors.inference as inf
    from extractors.inference import LayoutExtractor
    from extractors.serving import DEFAULT_MODEL_DIR
    from extractors.serving.model_dir import general_model_dir, is_routed

    fams = [k for k in layouts if k != "mail"]
    v = _routed(registry, tmp_path, layouts[fams[0]][:3])
    path = registry.path(v)
    assert is_routed(path) and general_model_dir(path).name.startswith("base-")
    meta = next(m for m in registry.versions() if m["version"] == v)
    assert meta["kind"] == "routed" and meta["router"]["corrected_documents"] == 3

    ex = LayoutExtractor(path)
    plain = LayoutExtractor(DEFAULT_MODEL_DIR)
    own = ex.extract(layouts[fams[0]][4])
    other = ex.extract(layouts[fams[1]][0])
    assert own.model_version == f"{v}/specialist" and own.meta["route"]["model"] == "specialist"
    assert other.model_version == f"{v}/base" and other.meta["route"]["model"] == "base"
    # same weights on both sides here: the routed system reads exactly what the plain model reads
    for d, got in ((layouts[fams[0]][4], own), (layouts[fams[1]][0], other)):
        want = plain.extract(d)
        assert [ln.model_dump(exclude={"source"}) for ln in got.lines] == \
            [ln.model_dump(exclude={"source"}) for ln in want.lines]

    # promote, serve, roll back: the registry's pointer works as for any version
    registry.promote(general_model_dir(path).name)
    registry.promote(v)
    monkeypatch.setenv("INTAKE_MODEL_RELOAD_CHECK_S", "0")
    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path))
    from intake.core.settings import get_settings

    get_settings.cache_clear()
    inf.reset_default()
    try:
        assert get_settings().registry_dir == registry.root
        assert inf.default_extractor()(layouts[fams[0]][3]).model_version == f"{v}/specialist"
        registry.rollback()
        assert inf.default_extractor()(layouts[fams[0]][3]).model_version.startswith("base-")
    finally:
        inf.reset_default()
        get_settings.cache_clear()

    # a moved data directory: the fallback is found beside the routed version by its name
    moved = tmp_path / "moved"
    shutil.copytree(registry.root, moved)
    shutil.rmtree(registry.root)
    ex2 = LayoutExtractor(moved / "versions" / v)
    assert ex2.fallback is not None and Path(ex2.fallback.loaded.path).parent == moved / "versions"


def test_a_routed_fallback_must_be_a_plain_model_and_a_missing_one_is_one_line(layouts: dict[str, list[Any]],
                                                                             registry: Any, tmp_path: Path) -> None:
    from extractors.inference import LayoutExtractor
    from extractors.serving.model_dir import ROUTER_FILE
    from training.router import write_router

    fams = [k for k in layouts if k != "mail"]
    v = _routed(registry, tmp_path, layouts[fams[0]][:2])
    with pytest.raises(ConfigError, match="must be a plain model"):
        write_router(tmp_path, [], 0.7, registry.path(v), v)
    spec = json.loads((registry.path(v) / ROUTER_FILE).read_text())
    spec["fallback"] = {"version": "gone", "path": str(tmp_path / "gone")}
    (registry.path(v) / ROUTER_FILE).write_text(json.dumps(spec))
    with pytest.raises(ConfigError, match="fallback model gone .* is missing"):
        LayoutExtractor(registry.path(v))
    (registry.path(v) / ROUTER_FILE).write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read the router"):
        LayoutExtractor(registry.path(v))


def _finnish_orders(out: Path, n: int) -> list[Path]:
    """Orders as spreadsheets with Finnish captions: a language and a layout no synthetic family
    has, so the committed model misreads their header (PO number, ship-to...). Values and truth
    come from synthetic orders."""
    from openpyxl import Workbook

    from training.synth import generate, heldout_families

    def num(x: Any) -> str:
        return "" if x is None else (str(int(x)) if float(x).is_integer() else f"{x:.2f}")

    paths = []
    for i, p in enumerate(generate(n, out / "src", seed=7, formats=["csv"], families=[heldout_families()[0]],
                                   progress=False)):
        t = json.loads(Path(f"{p}.truth.json").read_text())
        wb = Workbook()
        ws = wb.active
        for row in [["OSTOTILAUS"], ["Tilausnumero", t["po_number"]], ["Tilauspäivä", t.get("order_date") or ""],
                    ["Ostaja", t.get("buyer") or ""], ["Toimittaja", t.get("supplier") or ""],
                    ["Toimitusosoite", t.get("ship_to") or ""], ["Valuutta", t.get("currency") or ""], [],
                    ["Rivi", "Tuotekoodi", "Nimike", "Määrä", "Yksikkö", "Yksikköhinta", "Rivisumma"]]:
            ws.append(row)
        for ln in t["lines"]:
            ws.append([str(ln["line_no"]), ln.get("sku") or "", ln.get("description") or "", num(ln.get("quantity")),
                       ln.get("uom") or "", num(ln.get("unit_price")), num(ln.get("amount"))])
        ws.append([])
        ws.append(["Yhteensä", "", "", "", "", "", num(t.get("total"))])
        f = out / f"tilaus_{i:03d}.xlsx"
        wb.save(f)
        Path(f"{f}.truth.json").write_text(json.dumps(t))
        paths.append(f)
    return paths


def _overfitting_config() -> Any:
    """A short fine-tune on the corrections alone (no replay in the batches, no distillation, a
    high learning rate), in float32 (bfloat16 autocast is several times slower on a CPU without
    bfloat16 instructions)."""
    from training.retrain import load_retrain_config

    return load_retrain_config(None, steps=40, max_minutes=0, replay_n=2, replay_formats=["pdf"], frozen_n=3,
                               frozen_formats=["pdf"], batch_size=2, lr=1e-3, correction_share=1.0, distill=0.0,
                               fallback_merges=[], bf16=False)


@pytest.mark.slow
def test_retrain_promotes_a_routed_version_when_the_plain_candidate_is_refused(settings: Any, tmp_path: Path) -> None:
    """A short fine-tune on the corrections alone (no replay in the batches, no distillation, a
    high learning rate) learns the corrected layout and forgets some of others: the plain
    candidate is refused on the frozen set, the routed one is promoted. It is judged on the
    customer's newest correction, held out of its fine-tune, then refit on all three and
    promoted as the refit. A second retraining on top of the routed live model starts again
    from the general model, and its router covers every correction."""
    from extractors.inference import LayoutExtractor
    from extractors.registry import read_bytes
    from intake.service.db import make_engine, make_sessionmaker, unit_of_work
    from intake.service.migrate import upgrade
    from training.report import format_report
    from training.learn import learn_document
    from training.registry import Registry
    from training.retrain import retrain
    from extractors.serving.model_dir import read_router

    docs = _finnish_orders(tmp_path / "fi", 5)
    engine = make_engine(settings.db_url)
    upgrade(engine)
    sm = make_sessionmaker(engine)

    def learn(p: Path, customer: str) -> None:
        with unit_of_work(sm) as s:
            learn_document(s, settings, p.read_bytes(), p.name, json.loads(Path(f"{p}.truth.json").read_text()),
                           customer_id=customer)

    for p in docs[:3]:
        learn(p, "C-1")
    # The frozen set is PDFs: no spreadsheet's layout matches them, so the routed model scores as
    # the live one there.
    cfg = _overfitting_config()
    rep = retrain(settings, cfg).to_json()
    assert [a["attempt"] for a in rep["attempts"]] == ["candidate", "routed"], format_report(rep)
    assert not rep["attempts"][0]["passed"]  # the plain candidate is worse on the frozen set
    assert rep["promoted"] and rep["routed"], format_report(rep)
    reg = Registry(settings.registry_dir)
    v1 = rep["version"]
    assert reg.live() == v1
    fz = rep["frozen"]
    assert fz["candidate"] == fz["live"]  # nothing frozen was routed: the general model read it all
    assert sum(rep["attempts"][1]["frozen_documents_to_specialist"].values()) == 0
    # judged on the newest correction, which the judged fine-tune did not see
    assert [e["file"] for e in rep["held_out"]["examples"]] == [docs[2].name] and rep["trained_on"] == 3
    rc = rep["recent_corrections"]["C-1"]
    assert rc["held_out"] is True and [e["file"] for e in rc["examples"]] == [docs[2].name]
    assert rc["candidate"]["line_f1"] >= rc["live"]["line_f1"] and rc["candidate"]["header_f1"] > rc["live"]["header_f1"]
    # then refit on all three corrections, routed again, and not worse on the frozen set: promoted
    assert rep["refit"]["of"] == "routed" and rep["refit"]["passed"] and rep["refit"]["corrections"] == 3
    assert rep["refit"]["frozen"] == fz["live"] and rep["refit_seconds"] > 0
    meta = next(m for m in reg.versions() if m["version"] == v1)
    assert meta["kind"] == "routed" and meta["corrections"] == 3
    assert meta["refit"]["refit_on_all_corrections"] is True and meta["gate"]["refit_on_all_corrections"] is True
    assert meta["holdout"]["trained_on_all_corrections"] is True
    assert set(meta["trained_on_files"]) >= {d.name for d in docs[:3]}
    text = format_report(rep)
    assert "PROMOTED" in text and "routed" in text and "frozen set" in text and "refit on all 3 correction(s)" in text
    router = read_router(reg.path(v1))
    assert router["fallback"]["version"].startswith("base-") and len(router["fingerprints"]) == 3  # the refit's
    ex = LayoutExtractor(reg.path(v1))
    assert ex.extract(read_bytes(docs[4].read_bytes(), docs[4].name)[0]).model_version == f"{v1}/specialist"

    # a retraining on top of the routed live model: from the general model, all corrections routed
    learn(docs[3], "C-2")
    rep2 = retrain(settings, cfg).to_json()
    assert rep2["base"] == v1 and rep2["general"] == router["fallback"]["version"]
    meta2 = next(m for m in reg.versions() if m["version"] == rep2["version"])
    # C-1's newest is held out; C-2's single correction has nothing to hold out: seen in training
    assert [e["file"] for e in rep2["held_out"]["examples"]] == [docs[2].name]
    assert rep2["recent_corrections"]["C-2"]["held_out"] is False and rep2["recent_corrections"]["C-1"]["held_out"]
    assert meta2["parent"] == router["fallback"]["version"]
    assert meta2["corrections"] == (4 if rep2["held_out"]["trained_on_all_corrections"] else 3)
    for a in rep2["attempts"]:
        if a["attempt"] == "routed":
            assert a["fallback"] == router["fallback"]["version"]
    if rep2["routed"]:
        r2 = read_router(reg.path(rep2["version"]))
        assert r2["fallback"] == router["fallback"]
        assert len(r2["fingerprints"]) == (4 if rep2["refit"]["passed"] else 3)
    engine.dispose()


@pytest.mark.slow
def test_retrain_refuses_a_model_that_reads_the_next_document_of_the_customer_worse(settings: Any,
                                                                                     tmp_path: Path) -> None:
    """A customer's two older corrections swap the code and description columns (corrected
    inconsistently); its newest is right. The model fine-tuned on the two learns the swap: it
    reads those two as corrected, but the customer's next document worse. Judged on that held-out
    document, every attempt is refused, the routed one too, though nothing of the frozen set is
    routed (it is not worse there); the reason names the customer and the figure."""
    from intake.service.db import make_engine, make_sessionmaker, unit_of_work
    from intake.service.migrate import upgrade
    from training.report import format_report
    from training.learn import learn_document
    from training.registry import Registry
    from training.retrain import retrain

    docs = _finnish_orders(tmp_path / "fi", 3)
    engine = make_engine(settings.db_url)
    upgrade(engine)
    sm = make_sessionmaker(engine)
    for k, p in enumerate(docs):
        t = json.loads(Path(f"{p}.truth.json").read_text())
        if k < 2:
            for ln in t["lines"]:
                ln["sku"], ln["description"] = ln["description"], ln["sku"]
        with unit_of_work(sm) as s:
            learn_document(s, settings, p.read_bytes(), p.name, t, customer_id="C-1")
    engine.dispose()
    rep = retrain(settings, _overfitting_config()).to_json()
    text = format_report(rep)
    assert not rep["promoted"] and not rep["passed"] and Registry(settings.registry_dir).live() is None, text
    assert [e["file"] for e in rep["held_out"]["examples"]] == [docs[2].name] and rep["trained_on"] == 2
    rc = rep["recent_corrections"]["C-1"]
    assert rc["held_out"] is True and rc["live"]["documents"] == 1
    assert [a["attempt"] for a in rep["attempts"]] == ["candidate", "routed"], text
    for a in rep["attempts"]:
        assert not a["passed"]
        assert f"corrections of C-1 (held out): line_f1 {a['recent_corrections']['C-1']['line_f1']:.4f} < live " \
               f"{rc['live']['line_f1']:.4f}" in a["reasons"], text
    routed = rep["attempts"][1]
    assert routed["frozen"] == rep["frozen"]["live"]  # the frozen set alone would have let it through
    assert not [r for r in routed["reasons"] if r.startswith("frozen set")], text
    assert rep["refit"] is None and rep["refit_seconds"] == 0
    assert "routed: corrections of C-1 (held out): line_f1" in "; ".join(rep["reasons"])
    assert "NOT promoted" in text and "corrections of C-1 (held out: " in text
