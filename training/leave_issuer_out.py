"""Leave-issuer-out evaluation: every issuer scored by a model and learned layouts fitted
without it (``intake eval --leave-issuer-out DIR``).

A development set scores well on whatever was tuned or trained on it; what a user sees is how
the service reads the *next* issuer. So documents are grouped by issuer (a split file maps
file-name patterns to an issuer id; without one, the name before the first ``_`` is the
issuer, the convention ``truth_holdout_issuers`` uses), and each issuer is scored:

* by a model that was not trained on it: the model's manifest names the files it was trained
  on (``trained_on_files``, or ``config.truth_dirs`` minus ``config.truth_holdout_issuers``).
  An issuer with a document in that list is *seen*: it is reported apart, never counted in the
  leave-issuer-out figure (pass ``--model`` with a model trained without it to score it);
* without the layouts (``layouts.json``, training/anchors.py, read by extractors/serving/anchors.py) learned from any of its
  documents: they are dropped while that issuer is read.

The page checks after the model are general code; whether each earns its place is measured
by ``bench/ablation.py`` on this same protocol.

The figure reported is pooled over the documents of the unseen issuers (micro-averaged, as
``training/evaluate.py`` counts), with per-issuer figures beside it.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from intake.core.domain import Document, OrderDraft
from intake.core.errors import ConfigError
from training.evaluate import Scores, score_file, truth_documents

__all__ = ["IssuerSplit", "DEFAULT_SPLIT", "seen_files", "leave_issuer_out", "extractor_scorer", "format_report"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPLIT = ROOT / "bench" / "splits" / "realdocs_issuers.json"


@dataclass
class IssuerSplit:
    """Issuer id -> file-name patterns (fnmatch, case-insensitive); a name no pattern matches
    is its own issuer by its prefix (the name before the first ``_``)."""

    issuers: dict[str, list[str]] = field(default_factory=dict)
    path: str | None = None

    @classmethod
    def load(cls, path: Path | None) -> "IssuerSplit":
        if path is None:
            return cls()
        try:
            obj = json.loads(Path(path).read_text())
        except OSError as exc:
            raise ConfigError(f"split file {path}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise ConfigError(f"split file {path} is not JSON: {exc}") from exc
        iss = obj.get("issuers") if isinstance(obj, dict) else None
        if not isinstance(iss, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(p, str) for p in v) for k, v in iss.items()):
            raise ConfigError(f"split file {path}: expected {{\"issuers\": {{id: [pattern, ...]}}}}")
        return cls({k: list(v) for k, v in iss.items()}, str(path))

    def issuer_of(self, name: str) -> str:
        low = Path(name).name.lower()
        for iid, pats in self.issuers.items():
            if any(fnmatch.fnmatch(low, p.lower()) for p in pats):
                return iid
        return low.split("_", 1)[0]


def seen_files(meta: dict[str, Any], folder: Path) -> tuple[set[str], str]:
    """Names of the files in ``folder`` a model (its manifest ``meta``) was trained on, and how
    that was found out."""
    names: set[str] = set()
    how = "the manifest lists no real documents"
    if meta.get("trained_on_files") is not None:
        names = {Path(n).name for n in meta.get("trained_on_files") or []}
        how = "trained_on_files in the manifest"
    else:
        cfg = meta.get("config") or {}
        held = {h.lower() for h in cfg.get("truth_holdout_issuers") or []}
        for d in cfg.get("truth_dirs") or []:
            if (ROOT / d).resolve() == Path(folder).resolve():
                names |= {p.name for p in truth_documents(folder) if p.name.split("_", 1)[0].lower() not in held}
                how = "config.truth_dirs minus config.truth_holdout_issuers"
    return names, how


def _brief(m: dict[str, Any]) -> dict[str, Any]:
    return {"documents": m["documents"], "header_f1": m["header"]["f1"], "line_f1": m["lines"]["f1"],
            "lines_right": m["lines"]["right"], "lines_truth": m["lines"]["truth"],
            "lines_predicted": m["lines"]["predicted"], "ece": m["calibration"]["ece"]}


KeepLayout = Callable[[dict[str, Any]], bool]
ScoreDoc = Callable[[Path, KeepLayout, Scores], Any]


def extractor_scorer(extract: Callable[..., OrderDraft]) -> ScoreDoc:
    """A ``score_doc`` for :func:`leave_issuer_out` that reads each file and extracts with
    ``extract(doc, keep_layout=keep)`` (``LayoutExtractor.extract``)."""
    def score_doc(path: Path, keep: KeepLayout, scores: Scores) -> Any:
        def one(doc: Document) -> OrderDraft:
            return extract(doc, keep_layout=keep)

        return score_file(path, one, scores)

    return score_doc


def leave_issuer_out(folder: Path, score_doc: ScoreDoc, split: IssuerSplit, seen: Iterable[str] = (),
                     seen_how: str = "", layouts: Sequence[dict[str, Any]] = (), progress: bool = False,
                     only: Sequence[str] | None = None) -> dict[str, Any]:
    """Score every document with truth in ``folder`` issuer by issuer.

    ``score_doc(path, keep, scores)`` reads, extracts and scores one document, reading only the
    learned layouts for which ``keep(layout)`` is true (:func:`extractor_scorer`); ``layouts``
    are the model's learned layouts (to count what was left out). ``seen`` names the files the
    model was trained on. ``only`` limits the run to some issuers."""
    paths = truth_documents(folder)
    if not paths:
        raise ConfigError(f"{folder}: no documents with a .truth.json beside them")
    by_issuer: dict[str, list[Path]] = {}
    for p in paths:
        by_issuer.setdefault(split.issuer_of(p.name), []).append(p)
    seen_set = set(seen)
    per: dict[str, dict[str, Any]] = {}
    pooled = {"unseen": Scores(), "seen": Scores()}
    items = sorted(by_issuer.items())
    if only:
        items = [(k, v) for k, v in items if k in set(only)]
    if progress:
        from tqdm import tqdm

        items = list(tqdm(items, desc="issuers", unit="issuer"))
    for iid, files in items:
        def keep(lay: dict[str, Any], iid: str = iid) -> bool:
            return not any(split.issuer_of(str(fp.get("name") or "")) == iid for fp in lay.get("fingerprints") or [])

        dropped = sum(1 for lay in layouts if not keep(lay))
        sc = Scores()
        for p in files:
            score_doc(p, keep, sc)
        trained = sorted(p.name for p in files if p.name in seen_set)
        kind = "seen" if trained else "unseen"
        pooled[kind] = pooled[kind].merge(sc)
        per[iid] = {**_brief(sc.metrics()), "files": [p.name for p in files], "seen_by_model": bool(trained),
                    "trained_on": trained, "layouts_left_out": dropped, "per_document": sc.per_doc}
    out: dict[str, Any] = {
        "protocol": "leave-issuer-out",
        "folder": str(folder),
        "split": split.path,
        "issuers": per,
        "leave_issuer_out": {**pooled["unseen"].metrics(),
                             "issuers": sorted(k for k, v in per.items() if not v["seen_by_model"])},
        "seen_by_model": {**pooled["seen"].metrics(),
                          "issuers": sorted(k for k, v in per.items() if v["seen_by_model"]),
                          "reason": ("the model was trained on documents of these issuers (" + seen_how + "): "
                                     "in-sample, not counted; score them with --model DIR, a model trained without them")},
        "all_documents": pooled["unseen"].merge(pooled["seen"]).metrics(),
    }
    for k in ("leave_issuer_out", "seen_by_model", "all_documents"):
        out[k].pop("per_doc", None)
    return out


def format_report(r: dict[str, Any]) -> str:
    """The report as text: the leave-issuer-out figure first, per-field F1, then per issuer."""
    lio = r["leave_issuer_out"]
    lines = [f"leave-issuer-out over {len(lio['issuers'])} issuer(s), {lio['documents']} document(s)"
             f" (split {r.get('split') or 'by file-name prefix'})"]

    def block(m: dict[str, Any], indent: str = "  ") -> list[str]:
        out = [f"{indent}header  P {m['header']['precision']:.3f}  R {m['header']['recall']:.3f}  F1 {m['header']['f1']:.3f}",
               f"{indent}lines   P {m['lines']['precision']:.3f}  R {m['lines']['recall']:.3f}  F1 {m['lines']['f1']:.3f}"
               f"  ({m['lines']['right']} right of {m['lines']['truth']} true, {m['lines']['predicted']} predicted)"]
        for k, v in m["fields"].items():
            out.append(f"{indent}  {k:<15} P {v['precision']:.3f}  R {v['recall']:.3f}  F1 {v['f1']:.3f}  (n={v['support']})")
        out.append(f"{indent}calibration ECE {m['calibration']['ece']:.3f} over {m['calibration']['n']} values")
        return out

    lines += block(lio)
    seen = r["seen_by_model"]
    if seen["issuers"]:
        lines.append(f"seen by the model, not counted: {', '.join(seen['issuers'])} ({seen['documents']} document(s)):"
                     f" header F1 {seen['header']['f1']:.3f}, line F1 {seen['lines']['f1']:.3f}")
    a = r["all_documents"]
    lines.append(f"all {a['documents']} documents (in-sample for seen issuers): header F1 {a['header']['f1']:.3f},"
                 f" line F1 {a['lines']['f1']:.3f}")
    lines.append("per issuer:")
    for iid, v in sorted(r["issuers"].items()):
        tag = "  (seen by the model)" if v["seen_by_model"] else ""
        lo = f", {v['layouts_left_out']} learned layout(s) left out" if v["layouts_left_out"] else ""
        lines.append(f"  {iid:<16} {v['documents']:>2} doc(s)  header F1 {v['header_f1']:.3f}  line F1 {v['line_f1']:.3f}"
                     f"  ({v['lines_right']}/{v['lines_truth']} lines right, {v['lines_predicted']} predicted){lo}{tag}")
    return "\n".join(lines)
