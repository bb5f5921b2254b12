"""The layout model: packaged encoder weights, windows, a tiny training run, the committed
default model extracting a synthetic PDF, calibration."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from intake.core.errors import ConfigError
from training import model as model_mod
from extractors.serving.features import ID2LABEL

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built() -> tuple[object, object, list[str]]:
    return model_mod.build_model("all-MiniLM-L6-v2", ID2LABEL)


def test_builds_from_packaged_weights_with_only_layout_keys_missing(built: tuple[object, object, list[str]]) -> None:
    model, tok, missing = built
    assert missing == [
        "classifier.bias", "classifier.weight",
        "layoutlm.embeddings.h_position_embeddings.weight", "layoutlm.embeddings.w_position_embeddings.weight",
        "layoutlm.embeddings.x_position_embeddings.weight", "layoutlm.embeddings.y_position_embeddings.weight",
    ]
    assert model.config.num_labels == len(ID2LABEL) == 35  # type: ignore[attr-defined]
    assert tok("Purchase", add_special_tokens=False)["input_ids"] == tok("purchase", add_special_tokens=False)["input_ids"]  # type: ignore[operator]


def test_hash_check_refuses_a_wrong_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = tmp_path / "model.safetensors"
    bogus.write_bytes(b"not the weights")
    with pytest.raises(ConfigError, match="refusing to load"):
        model_mod.verify_weights(bogus, model_mod.ENCODERS["all-MiniLM-L6-v2"].sha256 or "")
    spec = model_mod.ENCODERS["all-MiniLM-L6-v2"]
    wrong = model_mod.EncoderSpec(spec.name, spec.package, spec.subdir, "0" * 64, spec.pin)
    monkeypatch.setitem(model_mod.ENCODERS, "all-MiniLM-L6-v2", wrong)
    with pytest.raises(ConfigError, match="sha256"):
        model_mod.build_model("all-MiniLM-L6-v2", ID2LABEL)


def test_missing_encoder_package_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="not installed"):
        model_mod.resolve_encoder("package:no_such_encoder_pkg_xyz")


def test_tiny_training_reduces_loss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from training.finetune import load_config, train

    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path / "data"))
    cfg = replace(load_config(ROOT / "training" / "configs" / "tiny.json"), synth_n=3, synth_formats=["pdf"],
                  max_len=128, overlap=32, max_steps=8, calib_n=0, eval_n=0, lr=5e-4, use_labelled=False)
    meta = train(cfg, tmp_path / "m", tmp_path / "data", progress=False)
    assert meta["final_loss"] < meta["first_loss"] * 0.9
    assert len(meta["dataset_hash"]) == 64
    saved = json.loads((tmp_path / "m" / "intake_model.json").read_text())
    assert saved["config"]["seed"] == cfg.seed and saved["dataset_hash"] == meta["dataset_hash"]
    assert (tmp_path / "m" / "model.safetensors").stat().st_size < 50 * 1024 * 1024


def test_calibration_output_in_unit_interval() -> None:
    from extractors.serving.calibration import Calibration
    from training.calibrate import expected_calibration_error, fit_isotonic, fit_temperature

    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 500)
    right = rng.uniform(0, 1, 500) < scores ** 2  # over-confident raw scores
    xs, ys = fit_isotonic(scores.tolist(), right.tolist())
    cal = Calibration(temperature=1.0, maps={"field": (xs, ys)})
    out = [cal("field", float(s)) for s in np.linspace(-1, 2, 61)]
    assert all(0.0 <= v <= 1.0 for v in out)
    assert out == sorted(out)
    after = expected_calibration_error([cal("field", float(s)) for s in scores], right.tolist())
    before = expected_calibration_error(scores.tolist(), right.tolist())
    assert after < before
    logits = rng.normal(size=(400, 5)) * 4
    labels = np.argmax(logits + rng.normal(size=(400, 5)) * 4, axis=1)
    assert 1.0 < fit_temperature(logits, labels) < 20.0  # noisy labels: soften the logits


def test_synthetic_labels_align_to_reader_words_and_truth_labels_match(tmp_path: Path) -> None:
    from extractors.registry import read_bytes
    from training.build_dataset import from_synth, label_from_truth
    from training.synth import generate, train_families

    [pdf] = generate(1, tmp_path, seed=11, formats=["pdf"], families=train_families()[:1], progress=False)
    truth = json.loads(Path(f"{pdf}.truth.json").read_text())
    ex = from_synth(pdf)
    words = [w for p in ex.pages for w in p.words]
    tags = [t for p in ex.pages for t in p.tags]
    po = [w.text for w, t in zip(words, tags) if t.endswith("po_number")]
    assert " ".join(po) == truth["po_number"]
    assert sum(t == "B-quantity" for t in tags) == sum(1 for ln in truth["lines"] if ln["quantity"] is not None)
    # The same document labelled from its truth alone (the corrections path) finds the same PO
    # number and every line's quantity.
    [doc] = read_bytes(pdf.read_bytes(), pdf.name)
    lab = label_from_truth(doc, truth)
    ltags = [t for p in lab.pages for t in p.tags]
    lwords = [w for p in lab.pages for w in p.words]
    assert " ".join(w.text for w, t in zip(lwords, ltags) if t.endswith("po_number")) == truth["po_number"]
    assert sum(t == "B-quantity" for t in ltags) >= 0.8 * len(truth["lines"])


def test_registry_promotes_and_rolls_back(tmp_path: Path) -> None:
    from training.registry import Registry

    src = tmp_path / "m"
    src.mkdir()
    (src / "model.safetensors").write_bytes(b"x")
    (src / "intake_model.json").write_text("{}")
    reg = Registry(tmp_path / "models")
    assert reg.live_path() is None
    a = reg.add(src, "v1")
    b = reg.add(src, "v2")
    reg.promote(a)
    reg.promote(b)
    assert reg.live() == "v2" and reg.live_path() == tmp_path / "models" / "versions" / "v2"
    assert reg.rollback() == "v1" and reg.live() == "v1"
    assert [v["version"] for v in reg.versions()] == ["v1", "v2"]


def test_bf16_setting_is_true_false_or_auto() -> None:
    from intake.core.errors import ConfigError
    from training.model import use_bf16
    from training.retrain import load_retrain_config

    assert use_bf16(True) is True and use_bf16(False) is False
    assert isinstance(use_bf16("auto"), bool)  # native bf16 on this CPU or not
    with pytest.raises(ConfigError, match="bf16 must be true, false or"):
        load_retrain_config(None, bf16="fast")
