"""The layout model at inference (extractors/inference.py) with the committed default model."""

from __future__ import annotations

import json
from pathlib import Path

from extractors.inference import LayoutExtractor
from extractors.registry import read_bytes
from extractors.serving import DEFAULT_MODEL_DIR
from training.synth import generate, train_families


def test_default_model_extracts_a_synthetic_pdf(tmp_path: Path) -> None:
    assert (DEFAULT_MODEL_DIR / "model.safetensors").is_file(), "the committed default model is missing"
    assert (DEFAULT_MODEL_DIR / "model.safetensors").stat().st_size <= 50 * 1024 * 1024
    ex = LayoutExtractor(DEFAULT_MODEL_DIR)
    [pdf] = generate(1, tmp_path, seed=4242, formats=["pdf"], families=train_families()[:1], progress=False)
    truth = json.loads(Path(f"{pdf}.truth.json").read_text())
    [doc] = read_bytes(pdf.read_bytes(), pdf.name)
    draft = ex.extract(doc)
    assert draft.po_number.value == truth["po_number"]
    assert draft.extractor.startswith("model:")
    assert 0.0 <= draft.po_number.confidence <= 1.0
    assert draft.lines, "no line items extracted"
