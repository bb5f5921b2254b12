"""Score extraction against truth: per-field precision/recall/F1, line-item F1, documents per
second, and calibration (reliability diagram), with a report directory of PNG charts and
``metrics.json``.

Comparison is normalised: numbers numerically (to a cent), dates as ISO strings, text
case-, space- and punctuation-insensitively. A truth value of null is not scored for recall;
a predicted value where the truth has null counts against precision only for the keys the
truth schema carries.

A line is right when its sku, quantity and unit price are right (keys the truth leaves null
are not required). Predicted lines are matched to truth lines by the best assignment
(Hungarian method on the number of agreeing keys).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from extractors.normalize import normalize_uom
from extractors.registry import read_bytes
from extractors.typed import refine
from intake.core.domain import Document, OrderDraft
from training.calibrate import expected_calibration_error, reliability

__all__ = ["values_equal", "match_lines", "score_document", "score_file", "Scores", "evaluate_dir",
           "write_report", "truth_documents", "SCORED_HEADER"]

SCORED_HEADER: tuple[str, ...] = OrderDraft.HEADER_FIELDS
LINE_KEYS = ("sku", "quantity", "unit_price")
_NUMERIC = {"total", "quantity", "unit_price", "amount", "line_no"}


def _norm_text(v: Any) -> str:
    s = str(v).casefold()
    s = re.sub(r"[\s,.;:]+", " ", s)
    return s.strip()


def values_equal(key: str, pred: Any, truth: Any) -> bool:
    """Normalised equality of a predicted and a true value of field ``key``."""
    if pred is None or truth is None:
        return pred is None and truth is None
    if key in _NUMERIC:
        try:
            return abs(float(pred) - float(truth)) <= 0.005 + 1e-9 * abs(float(truth))
        except (TypeError, ValueError):
            return _norm_text(pred) == _norm_text(truth)
    if key == "uom":
        return normalize_uom(str(pred)) == normalize_uom(str(truth))
    if key == "currency":
        return str(pred).upper() == str(truth).upper()
    return _norm_text(pred) == _norm_text(truth)


def _hungarian(cost: list[list[float]]) -> list[tuple[int, int]]:
    """Minimum-cost assignment for a rectangular matrix (rows <= cols after padding)."""
    n_r = len(cost)
    n_c = len(cost[0]) if cost else 0
    n = max(n_r, n_c)
    if n == 0:
        return []
    big = max((max(r) for r in cost), default=0.0) + 1.0
    a = [[(cost[i][j] if i < n_r and j < n_c else big) for j in range(n)] for i in range(n)]
    inf = float("inf")
    u = [0.0] * (n + 1)
    v = [0.0] * (n + 1)
    p = [0] * (n + 1)
    way = [0] * (n + 1)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (n + 1)
        used = [False] * (n + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], inf, 0
            for j in range(1, n + 1):
                if not used[j]:
                    cur = a[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(n + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    return [(p[j] - 1, j - 1) for j in range(1, n + 1) if p[j] - 1 < n_r and j - 1 < n_c]


def _line_agree(pl: dict[str, Any], tl: dict[str, Any]) -> tuple[int, bool]:
    agree = 0
    ok = True
    for k in LINE_KEYS:
        if tl.get(k) is None:
            continue
        if values_equal(k, pl.get(k), tl.get(k)):
            agree += 1
        else:
            ok = False
    if tl.get("amount") is not None and values_equal("amount", pl.get("amount"), tl.get("amount")):
        agree += 1  # a tie-breaker only; not required for a right line
    return agree, ok


def match_lines(pred: Sequence[dict[str, Any]], truth: Sequence[dict[str, Any]]) -> list[tuple[int, int, bool]]:
    """Best assignment of predicted to truth lines: (pred index, truth index, line right)."""
    if not pred or not truth:
        return []
    cost = [[-float(_line_agree(p, t)[0]) for t in truth] for p in pred]
    out = []
    for i, j in _hungarian(cost):
        _, ok = _line_agree(pred[i], truth[j])
        out.append((i, j, ok))
    return out


@dataclass
class Scores:
    """Counts summed over documents."""

    tp: dict[str, int] = field(default_factory=dict)
    fp: dict[str, int] = field(default_factory=dict)
    fn: dict[str, int] = field(default_factory=dict)
    line_tp: int = 0
    line_pred: int = 0
    line_truth: int = 0
    conf: list[tuple[float, bool, str]] = field(default_factory=list)  # (confidence, right, kind)
    docs: int = 0
    seconds: float = 0.0
    per_doc: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: "Scores") -> "Scores":
        """These counts plus ``other``'s (a pooled figure over several groups of documents)."""
        out = Scores(tp=dict(self.tp), fp=dict(self.fp), fn=dict(self.fn), line_tp=self.line_tp + other.line_tp,
                     line_pred=self.line_pred + other.line_pred, line_truth=self.line_truth + other.line_truth,
                     conf=self.conf + other.conf, docs=self.docs + other.docs, seconds=self.seconds + other.seconds,
                     per_doc=self.per_doc + other.per_doc)
        for k in set(other.tp) | set(other.fp) | set(other.fn):
            out.add(k, other.tp.get(k, 0), other.fp.get(k, 0), other.fn.get(k, 0))
        return out

    def add(self, key: str, tp: int = 0, fp: int = 0, fn: int = 0) -> None:
        self.tp[key] = self.tp.get(key, 0) + tp
        self.fp[key] = self.fp.get(key, 0) + fp
        self.fn[key] = self.fn.get(key, 0) + fn

    def prf(self, key: str) -> tuple[float, float, float]:
        tp, fp, fn = self.tp.get(key, 0), self.fp.get(key, 0), self.fn.get(key, 0)
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f

    def metrics(self) -> dict[str, Any]:
        fields = {k: dict(zip(("precision", "recall", "f1"), self.prf(k)),
                          support=self.tp.get(k, 0) + self.fn.get(k, 0))
                  for k in SCORED_HEADER if (self.tp.get(k, 0) + self.fp.get(k, 0) + self.fn.get(k, 0))}
        tp = sum(self.tp.get(k, 0) for k in SCORED_HEADER)
        fp = sum(self.fp.get(k, 0) for k in SCORED_HEADER)
        fn = sum(self.fn.get(k, 0) for k in SCORED_HEADER)
        hp = tp / (tp + fp) if tp + fp else 1.0
        hr = tp / (tp + fn) if tp + fn else 1.0
        lp = self.line_tp / self.line_pred if self.line_pred else (1.0 if not self.line_truth else 0.0)
        lr = self.line_tp / self.line_truth if self.line_truth else 1.0
        conf = [c for c, _, _ in self.conf]
        right = [r for _, r, _ in self.conf]
        return {
            "documents": self.docs,
            "docs_per_second": self.docs / self.seconds if self.seconds else None,
            "header": {"precision": hp, "recall": hr, "f1": 2 * hp * hr / (hp + hr) if hp + hr else 0.0},
            "fields": fields,
            "lines": {"precision": lp, "recall": lr, "f1": 2 * lp * lr / (lp + lr) if lp + lr else 0.0,
                      "predicted": self.line_pred, "truth": self.line_truth, "right": self.line_tp},
            "calibration": {"ece": expected_calibration_error(conf, right), "reliability": reliability(conf, right),
                            "n": len(conf)},
        }


def score_document(draft: OrderDraft, truth: dict[str, Any], scores: Scores, name: str = "") -> dict[str, Any]:
    """Add one document's counts to ``scores``; returns its per-document summary."""
    pred = draft.to_truth()
    wrong: list[str] = []
    for k in SCORED_HEADER:
        if k not in truth:
            continue  # the truth schema of this corpus does not carry the key
        pv, tv = pred.get(k), truth.get(k)
        fld = getattr(draft, k)
        if pv is None and tv is None:
            continue
        ok = values_equal(k, pv, tv)
        scores.add(k, tp=int(ok), fp=int(pv is not None and not ok), fn=int(tv is not None and not ok))
        if pv is not None:
            scores.conf.append((fld.confidence, ok, "field"))
        if not ok:
            wrong.append(k)
    tl = truth.get("lines") or []
    pl = pred["lines"]
    m = match_lines(pl, tl)
    right = sum(1 for _, _, ok in m if ok)
    scores.line_tp += right
    scores.line_pred += len(pl)
    scores.line_truth += len(tl)
    matched = {i: ok for i, _, ok in m}
    for i, ln in enumerate(draft.lines):
        scores.conf.append((ln.confidence, bool(matched.get(i, False)), "line"))
    scores.docs += 1
    summary = {"name": name, "wrong_fields": wrong, "lines_right": right, "lines_pred": len(pl), "lines_truth": len(tl)}
    scores.per_doc.append(summary)
    return summary


def truth_documents(folder: Path) -> list[Path]:
    """Documents in ``folder`` that have a ``.truth.json`` beside them (sorted)."""
    out = []
    for p in sorted(Path(folder).iterdir()):
        if p.is_file() and not p.name.endswith(".json") and Path(f"{p}.truth.json").is_file():
            out.append(p)
    return out


def evaluate_dir(folder: Path, extract: Callable[[Document], OrderDraft], limit: int | None = None,
                 progress: bool = False, skip: set[str] | None = None) -> Scores:
    """Read, extract and score every document with truth in ``folder``.

    A document the readers cannot read, or the model cannot extract, scores as an empty order
    (every true value missed) and is named in ``per_doc`` with its reason.
    """
    paths = [p for p in truth_documents(folder) if not skip or p.name not in skip][: limit or None]
    scores = Scores()
    it: Iterable[Path] = paths
    if progress:
        from tqdm import tqdm

        it = tqdm(paths, desc="eval", unit="doc")
    for p in it:
        score_file(p, extract, scores)
    return scores


def score_file(path: Path, extract: Callable[[Document], OrderDraft], scores: Scores) -> dict[str, Any]:
    """Read, extract and score one document with a ``.truth.json`` beside it; adds to ``scores``
    and returns its per-document summary (with ``error`` when it could not be read)."""
    from intake.core.errors import IntakeError

    truth = json.loads(Path(f"{path}.truth.json").read_text())
    t0 = time.perf_counter()
    error = None
    try:
        docs = [d for d in read_bytes(path.read_bytes(), path.name) if d.pages and d.words]
        draft = _best_draft([_refined(d, extract(d)) for d in docs]) if docs else OrderDraft()
    except IntakeError as exc:
        draft, error = OrderDraft(), exc.reason
    scores.seconds += time.perf_counter() - t0
    s = score_document(draft, truth, scores, path.name)
    if error:
        s["error"] = error
    return s


def _refined(doc: Document, draft: OrderDraft) -> OrderDraft:
    """What the service does after the model: typed text gets its item lines read by grammar."""
    return refine(doc, draft)


def _best_draft(drafts: list[OrderDraft]) -> OrderDraft:
    """Of a message's documents (mail body and attachments), the one that reads most like an order."""
    if not drafts:
        return OrderDraft()
    return max(drafts, key=lambda d: (len(d.lines) + 3 * int(d.po_number.present)))


def write_report(metrics: dict[str, Any], out: Path, title: str = "") -> list[Path]:
    """``metrics.json`` plus PNG charts (F1 per field, reliability diagram) under ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    files = [out / "metrics.json"]
    fields = metrics.get("fields", {})
    names = list(fields) + ["lines"]
    f1s = [fields[k]["f1"] for k in fields] + [metrics["lines"]["f1"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(names, f1s, color=["#4c72b0"] * len(fields) + ["#dd8452"])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1")
    ax.set_title(f"F1 per field {title}".strip())
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    fig.savefig(out / "f1_per_field.png", dpi=100)
    plt.close(fig)
    files.append(out / "f1_per_field.png")
    rel = metrics.get("calibration", {}).get("reliability", [])
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect")
    if rel:
        ax.plot([r["confidence"] for r in rel], [r["accuracy"] for r in rel], "o-", label="model")
        for r in rel:
            ax.annotate(str(r["count"]), (r["confidence"], r["accuracy"]), fontsize=7)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability (ECE {metrics.get('calibration', {}).get('ece', 0):.3f})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "reliability.png", dpi=100)
    plt.close(fig)
    files.append(out / "reliability.png")
    return files
