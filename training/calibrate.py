"""Confidence calibration: temperature scaling of the token logits, then isotonic regression of
span scores on span correctness, so that a confidence of 0.9 is right nine times in ten.

``fit_temperature`` picks T minimising the negative log-likelihood of the held-out words'
labels; ``fit_isotonic`` fits a monotone map score -> P(correct) with pool-adjacent-violators
(no scikit-learn needed). :class:`extractors.serving.Calibration` holds both and is written as
``calibration.json`` beside the model (:func:`write_calibration`); inference applies it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from extractors.serving.calibration import Calibration
from extractors.serving.model_dir import CALIBRATION_FILE

__all__ = ["write_calibration", "fit_temperature", "fit_isotonic", "reliability", "expected_calibration_error"]


def _log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True)
    z = x - m
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the NLL of ``labels`` under ``logits / T``."""
    if len(labels) == 0:
        return 1.0
    logits = logits.astype(np.float64)
    idx = np.arange(len(labels))

    def nll(t: float) -> float:
        return float(-_log_softmax(logits / t)[idx, labels].mean())

    # Golden-section search on log T: the NLL is unimodal in T.
    lo, hi = np.log(0.05), np.log(20.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(float(np.exp(a))), nll(float(np.exp(b)))
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(float(np.exp(a)))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(float(np.exp(b)))
    return float(np.exp((lo + hi) / 2))


def fit_isotonic(scores: Sequence[float], correct: Sequence[bool]) -> tuple[list[float], list[float]]:
    """Pool-adjacent-violators: knots (x, y) of a non-decreasing map from score to P(correct)."""
    if len(scores) == 0:
        return [0.0, 1.0], [0.0, 1.0]
    order = np.argsort(np.asarray(scores, dtype=np.float64), kind="mergesort")
    xs = np.asarray(scores, dtype=np.float64)[order]
    ys = np.asarray(correct, dtype=np.float64)[order]
    # Blocks: [sum_y, count, x_min, x_max]
    blocks: list[list[float]] = []
    for x, y in zip(xs, ys):
        blocks.append([y, 1.0, x, x])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s, c, x0, x1 = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
            blocks[-1][3] = x1
    kx: list[float] = []
    ky: list[float] = []
    for s, c, x0, x1 in blocks:
        # A tiny prior toward 0.5 keeps a block of three right answers from claiming certainty.
        p = (s + 0.5) / (c + 1.0)
        kx.append(float((x0 + x1) / 2))
        ky.append(float(p))
    # Keep the map non-decreasing after the prior.
    for i in range(1, len(ky)):
        ky[i] = max(ky[i], ky[i - 1])
    return kx, ky


def write_calibration(cal: Calibration, model_dir: Path) -> Path:
    """Write ``cal`` as ``model_dir``'s ``calibration.json`` (read back by
    :meth:`extractors.serving.ModelDir.open`)."""
    p = Path(model_dir) / CALIBRATION_FILE
    p.write_text(json.dumps(cal.to_json(), indent=1))
    return p


def reliability(conf: Sequence[float], correct: Sequence[bool], bins: int = 10) -> list[dict[str, float]]:
    """Per confidence bin: mean confidence, accuracy and count (the reliability diagram's data)."""
    c = np.asarray(conf, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        m = (c >= lo) & ((c < hi) if b < bins - 1 else (c <= hi))
        if m.sum() == 0:
            continue
        out.append({"lo": lo, "hi": hi, "confidence": float(c[m].mean()), "accuracy": float(y[m].mean()),
                    "count": int(m.sum())})
    return out


def expected_calibration_error(conf: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Weighted mean |accuracy - confidence| over bins."""
    rel = reliability(conf, correct, bins)
    n = sum(r["count"] for r in rel)
    if n == 0:
        return 0.0
    return float(sum(r["count"] * abs(r["accuracy"] - r["confidence"]) for r in rel) / n)
