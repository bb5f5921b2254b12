"""One model directory, read (extractors/serving/model_dir.py), which one serves, and serving
apart from training: nothing under extractors/ imports training."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from extractors.serving import DEFAULT_MODEL_DIR, ModelDir, default_model_dir, live_model_path
from extractors.serving.calibration import Calibration
from extractors.serving.model_dir import LAYOUTS_FILE, ROUTER_FILE
from intake.core.errors import ConfigError
from intake.core.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_model_opens_with_its_manifest_labels_and_calibration() -> None:
    md = ModelDir.open(DEFAULT_MODEL_DIR)
    meta = json.loads((DEFAULT_MODEL_DIR / "intake_model.json").read_text())
    assert md.version == meta["version"] and md.meta == meta
    assert md.id2label[0] == "O" and len(md.id2label) == len(json.loads(
        (DEFAULT_MODEL_DIR / "config.json").read_text())["id2label"])
    assert md.max_len == int(meta.get("max_len", 512)) and md.overlap == int(meta.get("overlap", 128))
    cal = json.loads((DEFAULT_MODEL_DIR / "calibration.json").read_text())
    assert md.calibration == Calibration.from_json(cal) and md.calibration.temperature != 1.0
    assert md.router is None and not md.routed and md.fallback() is None and md.anchors == []


def test_a_folder_without_weights_or_with_a_broken_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no layout model at"):
        ModelDir.open(tmp_path)
    d = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL_DIR, d, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    (d / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="cannot load the model at") as exc:
        ModelDir.open(d)
    assert "\n" not in exc.value.reason
    (d / "config.json").write_text((DEFAULT_MODEL_DIR / "config.json").read_text())
    (d / ROUTER_FILE).write_text(json.dumps({"kind": "routed"}))
    with pytest.raises(ConfigError, match="is not a model router"):
        ModelDir.open(d)


def test_a_routed_directory_names_its_fallback_and_learned_layouts(tmp_path: Path) -> None:
    d = tmp_path / "versions" / "r1"
    shutil.copytree(DEFAULT_MODEL_DIR, d, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    fb = tmp_path / "versions" / "base-x"
    shutil.copytree(DEFAULT_MODEL_DIR, fb, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    fps = [{"name": "a.pdf", "kind": "pdf", "tokens": ["order@0"]}]
    (d / ROUTER_FILE).write_text(json.dumps({"kind": "routed", "threshold": 0.8, "fingerprints": fps,
                                             "fallback": {"version": "base-x", "path": "/nowhere"}}))
    lay = {"fingerprints": fps, "anchors": {"po_number": {"caption": "order no", "how": "right"}}}
    (d / LAYOUTS_FILE).write_text(json.dumps({"layouts": [lay, {"anchors": {}}]}))
    md = ModelDir.open(d)
    assert md.routed and md.router is not None
    assert (md.router.threshold, md.router.fallback_version, md.router.fingerprints) == (0.8, "base-x", fps)
    assert md.anchors == [lay]  # a layout without anchors reads nothing and is left out
    fallback = md.fallback()
    assert fallback is not None and fallback.path == fb and not fallback.routed
    shutil.rmtree(fb)
    with pytest.raises(ConfigError, match="fallback model base-x"):
        md.fallback()


def test_the_served_model_is_the_configured_one_else_the_live_version_else_the_committed_one(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert live_model_path(s.registry_dir) is None and default_model_dir(s) == DEFAULT_MODEL_DIR
    v = s.registry_dir / "versions" / "v1"
    shutil.copytree(DEFAULT_MODEL_DIR, v, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    (s.registry_dir / "live.json").write_text(json.dumps({"version": "v1"}))
    assert live_model_path(s.registry_dir) == v and default_model_dir(s) == v
    (s.registry_dir / "live.json").write_text(json.dumps({"version": "gone"}))
    assert default_model_dir(s) == DEFAULT_MODEL_DIR  # a pointer to a version without weights
    assert default_model_dir(Settings(data_dir=tmp_path, model_dir=v)) == v


def test_no_module_under_extractors_imports_training() -> None:
    bad = []
    for p in sorted((ROOT / "extractors").rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(), str(p))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [f"{p.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] == "training"]
    assert bad == []


def test_serving_reads_a_document_without_loading_training(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from extractors.inference import LayoutExtractor\n"
        "from extractors.registry import read_bytes\n"
        "from extractors.serving import DEFAULT_MODEL_DIR\n"
        f"[doc] = read_bytes(open({str(ROOT / 'fixtures' / 'orders' / 'read_pdf_two_pages' / 'input.pdf')!r}, 'rb').read(), 'o.pdf')\n"
        "draft = LayoutExtractor(DEFAULT_MODEL_DIR).extract(doc)\n"
        "assert draft.extractor.startswith('model:'), draft.extractor\n"
        "print(sorted(m for m in sys.modules if m == 'training' or m.startswith('training.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
