"""Label Studio round trip against a REAL Label Studio server in its own virtual environment.

The server's venv (``pip install label-studio``, ~1 GB of pins kept out of the app's venv) is
created on first use under ``INTAKE_LS_VENV`` (default ``~/.cache/intake/label-studio-venv``)
and reused afterwards. When pip cannot reach a package index the test is skipped with the reason.

export (project, page images, the model's pre-annotations) -> an annotator submits an annotation
through the SDK -> import -> a labelled example with the annotated fields appears.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

pytestmark = pytest.mark.slow

LS_VERSION = "1.23.2"
TOKEN = "intake-test-token-0123456789abcdef"


def _venv_dir() -> Path:
    return Path(os.environ.get("INTAKE_LS_VENV") or Path.home() / ".cache" / "intake" / "label-studio-venv")


@pytest.fixture(scope="session")
def ls_binary() -> Path:
    """``label-studio`` from its own venv, created (once) when missing."""
    import fcntl

    venv = _venv_dir()
    exe = venv / "bin" / "label-studio"
    marker = venv / ".intake-complete"
    if exe.is_file() and marker.is_file():
        return exe
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Two test runs at once must not build (or delete) the same venv: take turns.
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            return _make_venv(venv, exe, marker)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _make_venv(venv: Path, exe: Path, marker: Path) -> Path:
    if exe.is_file() and marker.is_file():
        return exe  # made by the run we waited for
    if venv.exists():
        shutil.rmtree(venv)  # a half-made venv from an interrupted run
    venv.parent.mkdir(parents=True, exist_ok=True)
    base_python = Path(sys.base_prefix) / "bin" / "python3"
    r = subprocess.run([str(base_python if base_python.is_file() else "python3"), "-m", "venv", str(venv)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        pytest.skip(f"cannot create a venv for Label Studio: {r.stderr.strip()[-200:]}")
    r = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"label-studio=={LS_VERSION}"],
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        tail = " ".join(r.stderr.split())[-240:]
        pytest.skip(f"pip could not install label-studio=={LS_VERSION} (no package index reachable?): {tail}")
    marker.write_text(LS_VERSION)
    return exe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def ls_server(ls_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Label Studio server on a free loopback port with a known user and legacy API token."""
    root = tmp_path_factory.mktemp("ls")
    files = root / "files"
    files.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "VIRTUAL_ENV", "PYTHON"))}
    env.update({
        "LABEL_STUDIO_USERNAME": "csr@example.com", "LABEL_STUDIO_PASSWORD": "intake-test-pass-1",
        "LABEL_STUDIO_USER_TOKEN": TOKEN, "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false",
        "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true", "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(files),
        "PATH": f"{ls_binary.parent}:{env.get('PATH', '/usr/bin:/bin')}",
    })
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen([str(ls_binary), "start", "--no-browser", "--internal-host", "127.0.0.1",
                             "--port", str(port), "--data-dir", str(root / "data")],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(root))
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 150
    ok = False
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                ok = r.status == 200
        except OSError:
            ok = False
        if ok:
            break
        time.sleep(1)
    if not ok:
        proc.terminate()
        log.close()
        pytest.fail("Label Studio did not start: " + (root / "server.log").read_text(errors="replace")[-1500:])
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _annotation_from_truth(task: Any, doc: Any, truth: dict[str, Any]) -> list[dict[str, Any]]:
    """What a person would draw: a box around the PO number and around each line's SKU and
    quantity, with the value typed in."""
    from training.build_dataset import label_from_truth
    from extractors.serving.features import field_of
    from training.labelstudio import _region

    page = doc.pages[0]
    ex = label_from_truth(doc, {"po_number": truth["po_number"],
                                "lines": [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in truth["lines"]]})
    size = (1000, int(1000 * page.height / page.width))
    out: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    for w, t in zip(ex.pages[0].words, ex.pages[0].tags):
        f = field_of(t)
        if f and t.startswith("I-") and cur and cur["field"] == f:
            b = cur["box"]
            cur["box"] = (min(b[0], w.box[0]), min(b[1], w.box[1]), max(b[2], w.box[2]), max(b[3], w.box[3]))
            cur["text"] += " " + w.text
            continue
        if cur:
            out.extend(_region(cur["box"], cur["field"], cur["text"], page.width, page.height, size))
        cur = {"field": f, "box": tuple(w.box), "text": w.text} if f else None
    if cur:
        out.extend(_region(cur["box"], cur["field"], cur["text"], page.width, page.height, size))
    return out


def test_label_studio_round_trip(ls_server: str, settings: Any, tmp_path: Path) -> None:
    from extractors.registry import read_bytes
    from intake.service.db import make_engine, make_sessionmaker, unit_of_work
    from training.build_dataset import LabelledDoc
    from training.labelstudio import client, export_documents, import_annotations, label_config
    from training.learn import labelled_examples
    from training.synth import generate, heldout_families

    [pdf] = generate(1, tmp_path / "docs", seed=9, formats=["pdf"], families=[heldout_families()[0]], progress=False)
    truth = json.loads(Path(f"{pdf}.truth.json").read_text())

    res = export_documents(settings, [pdf], url=ls_server, token=TOKEN, title="Intake test")
    again = export_documents(settings, [], url=ls_server, token=TOKEN, title="Intake test")
    assert again["project_id"] == res["project_id"]  # updated, not duplicated
    ls = client(ls_server, TOKEN)
    project = ls.projects.get(id=res["project_id"])
    assert project.label_config.strip() == label_config().strip()
    [tid] = res["tasks"][:1]
    task = ls.tasks.get(id=tid)
    assert task.data["image"].startswith("data:image/png;base64,")
    preds = list(ls.predictions.list(task=tid))
    assert preds and any(r["value"].get("rectanglelabels") == ["po_number"] for r in preds[0].result), \
        "the model's reading should arrive as pre-annotations"

    # nothing finished yet: nothing imported
    assert import_annotations(settings, url=ls_server, token=TOKEN, title="Intake test")["imported"] == 0

    doc = read_bytes(pdf.read_bytes(), pdf.name)[0]
    ls.annotations.create(id=tid, result=_annotation_from_truth(task, doc, truth), was_cancelled=False,
                          lead_time=12.5)
    got = import_annotations(settings, url=ls_server, token=TOKEN, title="Intake test", customer_id="C-LS")
    assert got["imported"] == 1, got
    assert import_annotations(settings, url=ls_server, token=TOKEN, title="Intake test")["imported"] == 0  # once

    engine = make_engine(settings.db_url)
    with unit_of_work(make_sessionmaker(engine)) as s:
        [row] = labelled_examples(s)
        assert row.source == "labelstudio" and row.customer_id == "C-LS"
        assert row.truth["po_number"].replace(" ", "") == truth["po_number"].replace(" ", "")
        assert [ln["sku"].replace(" ", "") for ln in row.truth["lines"]] == \
            [ln["sku"].replace(" ", "") for ln in truth["lines"]]
        assert [ln["quantity"] for ln in row.truth["lines"]] == [ln["quantity"] for ln in truth["lines"]]
        ex = LabelledDoc.from_json(row.example)
        tags = [t for p in ex.pages for t in p.tags]
        assert tags.count("B-sku") == len(truth["lines"]) and "B-po_number" in tags
    engine.dispose()
