"""Documents with truth, read and run through the layout model once, for benchmarks that score
the checks after the model many times (bench/eval.py, bench/ablation.py).

Each file is read by the production readers and each of its documents gets the model's word
probabilities; both are kept on disk under a cache folder (keyed by the file's bytes, the
model's version and the readers' code), so a second run scores in seconds. Scoring goes through
``LayoutExtractor.extract(doc, probs=...)``: the same assembly, anchors and typed-text
refinement as ``intake eval``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from intake.core.domain import Document, OrderDraft
from training.evaluate import Scores, _best_draft, _refined, score_document

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = Path("/tmp") / "intake-bench-cache"


@dataclass
class Entry:
    """One file with truth: its documents and the model's probabilities for each."""

    path: Path
    truth: dict[str, Any]
    docs: list[Document] = field(default_factory=list)
    probs: list[np.ndarray] = field(default_factory=list)
    error: str | None = None


def _code_hash() -> str:
    """The readers' and the model pass's code (not assembly's): a cached reading is stale when it changes."""
    h = hashlib.sha256()
    skip = {"assemble.py", "geometry.py"}
    files = sorted(p for p in (ROOT / "extractors").glob("*.py") if p.name not in skip)
    files += sorted((ROOT / "extractors" / "serving").glob("*.py")) + [ROOT / "training" / "model.py"]
    for p in files:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _key(path: Path, version: str, code: str) -> str:
    h = hashlib.sha256(path.read_bytes())
    h.update(version.encode())
    h.update(code.encode())
    return h.hexdigest()[:24]


def load(paths: Sequence[Path], ex: Any, cache: Path | None = DEFAULT_CACHE, progress: bool = False) -> list[Entry]:
    """Read every file and compute its word probabilities (or take both from ``cache``)."""
    from extractors.registry import read_bytes
    from intake.core.errors import IntakeError

    out: list[Entry] = []
    it: Any = paths
    if progress:
        from tqdm import tqdm

        it = tqdm(paths, desc="read+model", unit="doc")
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    code = _code_hash()
    for p in it:
        truth = json.loads(Path(f"{p}.truth.json").read_text())
        e = Entry(p, truth)
        key = _key(p, ex.version, code) if cache is not None else ""
        hit = cache / f"{key}.json" if cache is not None else None
        if hit is not None and hit.is_file():
            obj = json.loads(hit.read_text())
            e.error = obj.get("error")
            e.docs = [Document.model_validate(d) for d in obj["docs"]]
            with np.load(cache / f"{key}.npz") as z:
                e.probs = [z[f"p{i}"] for i in range(len(e.docs))]
            out.append(e)
            continue
        try:
            e.docs = [d for d in read_bytes(p.read_bytes(), p.name) if d.pages and d.words]
            e.probs = [ex.word_probs(d) for d in e.docs]
        except IntakeError as exc:
            e.docs, e.probs, e.error = [], [], exc.reason
        if hit is not None:
            np.savez_compressed(cache / f"{key}.npz", **{f"p{i}": pr for i, pr in enumerate(e.probs)})
            hit.write_text(json.dumps({"error": e.error, "docs": [d.model_dump(mode="json") for d in e.docs]}))
        out.append(e)
    return out


def score(e: Entry, extract: Callable[..., OrderDraft], scores: Scores, drafts: dict[str, Any] | None = None,
          **kw: Any) -> dict[str, Any]:
    """Score one entry: ``extract(doc, probs=..., **kw)`` per document, the best draft kept (and
    put in ``drafts`` under the file's name, as the truth schema with confidences)."""
    from intake.core.errors import IntakeError

    error = e.error
    draft = OrderDraft()
    if e.docs and error is None:
        try:
            draft = _best_draft([_refined(d, extract(d, probs=pr, **kw)) for d, pr in zip(e.docs, e.probs)])
        except IntakeError as exc:
            draft, error = OrderDraft(), exc.reason
    if drafts is not None:
        drafts[e.path.name] = {**draft.to_truth(), "lines_confidence": [
            {k: round(getattr(ln, k).confidence, 4) for k in ("sku", "description", "quantity", "unit_price", "amount")}
            for ln in draft.lines], "document_type": draft.meta.get("document_type")}
    s = score_document(draft, e.truth, scores, e.path.name)
    if error:
        s["error"] = error
    return s


def heldout_synth(n: int, seed: int, formats: Sequence[str], cache: Path = DEFAULT_CACHE) -> list[Path]:
    """The held-out-family synthetic documents the trainer reports on (generated once)."""
    from training.evaluate import truth_documents
    from training.synth import generate, heldout_families

    # the formats list of a model may be long (formats repeated for weight): named by its hash
    fmt = hashlib.sha256("_".join(formats).encode()).hexdigest()[:12]
    folder = cache / f"synth-heldout-n{n}-s{seed}-{fmt}"
    done = folder / ".complete"
    if not done.is_file():
        generate(n, folder, seed=seed, formats=list(formats), families=heldout_families(), progress=False)
        done.write_text("ok")
    return truth_documents(folder)


def model_formats(ex: Any) -> list[str]:
    cfg = ex.loaded.meta.get("config") or {}
    return list(cfg.get("synth_formats") or ["pdf", "pdf", "xlsx", "csv", "email", "scan"])
