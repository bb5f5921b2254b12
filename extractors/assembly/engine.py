"""The rule engine of assembly: named steps run in order on one document's draft, each one
recorded with what it changed.

A :class:`Step` is a function of the document's :class:`Context` (its words with their boxes
and rows, the model's reading of every word, the locale, the draft being built). *Core* steps
read the document (the best span per header field, the item rows); the others are *checks*
that correct what the model read against what the page itself says, and any of them can be
switched off by name (``skip``: bench/ablation.py measures each one leave-issuer-out).

With ``trace`` on, the engine compares the draft (header fields, lines and the word tags)
before and after every step and records each difference as a :class:`Change`: step name,
field or line, value before and after, and the step's reason. ``intake extract --explain``
prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from extractors.geometry import Sheet
from extractors.normalize import Locale
from intake.core.domain import Field, LineDraft, OrderDraft, Word

__all__ = ["Step", "Change", "Context", "run_steps", "Calibrator"]

Calibrator = Callable[[str, float], float]  # (kind "field"|"line", raw score) -> calibrated
LINE_KEYS = ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount")
MAX_CHANGES = 2000  # a trace of a very long document keeps its first changes


@dataclass
class Step:
    """One named step: ``run(ctx)`` changes ``ctx.draft`` (or the word tags) in place."""

    name: str
    run: Callable[["Context"], None]
    reason: str
    core: bool = False  # reading the document, not a check: never switched off

    def __post_init__(self) -> None:
        if not self.reason:
            raise ValueError(f"step {self.name} needs a reason")


@dataclass
class Change:
    """What one step changed: on which field, line or word, from what to what, and why."""

    step: str
    target: str
    before: str
    after: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"step": self.step, "target": self.target, "before": self.before, "after": self.after,
                "reason": self.reason}


@dataclass
class Context:
    """One document while it is assembled."""

    sheet: Sheet
    probs: np.ndarray
    id2label: dict[int, str]
    loc: Locale
    calibrator: Calibrator | None
    draft: OrderDraft
    tags: list[Any] = field(default_factory=list)  # WordTag per word
    state: dict[str, Any] = field(default_factory=dict)  # what one step leaves for a later one

    @property
    def words(self) -> list[Word]:
        return self.sheet.words


# --- tracing ---------------------------------------------------------------------------------

def _show(f: Field) -> str:
    if not f.present:
        return "-"
    v = f.value
    text = f"{v:g}" if isinstance(v, float) else str(v)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({f.confidence:.2f})"


def _line_show(ln: LineDraft) -> str:
    parts = [f"{k}={_show(getattr(ln, k)).rsplit(' (', 1)[0]}" for k in ("sku", "quantity", "unit_price", "amount")
             if getattr(ln, k).present]
    return ", ".join(parts) or "(empty)"


def _snapshot(ctx: Context) -> dict[str, Any]:
    d = ctx.draft
    return {
        "header": {k: _show(getattr(d, k)) for k in OrderDraft.HEADER_FIELDS},
        "lines": [(id(ln), {k: _show(getattr(ln, k)) for k in LINE_KEYS}, _line_show(ln)) for ln in d.lines],
        "tags": [t.field for t in ctx.tags],
    }


def _diff(step: Step, a: dict[str, Any], b: dict[str, Any], ctx: Context) -> list[Change]:
    out: list[Change] = []
    for k, v in b["header"].items():
        if a["header"][k] != v:
            out.append(Change(step.name, k, a["header"][k], v, step.reason))
    before = {i: (vals, s) for i, vals, s in a["lines"]}
    after_ids = {i for i, _v, _s in b["lines"]}
    for n, (i, vals, s) in enumerate(b["lines"], 1):
        if i not in before:
            out.append(Change(step.name, f"line {n}", "-", s, step.reason))
            continue
        for k, v in vals.items():
            if before[i][0][k] != v:
                out.append(Change(step.name, f"line {n}.{k}", before[i][0][k], v, step.reason))
    for n, (i, _vals, s) in enumerate(a["lines"], 1):
        if i not in after_ids:
            out.append(Change(step.name, f"line {n} (before)", s, "removed", step.reason))
    ta, tb = a["tags"], b["tags"]
    if len(ta) == len(tb):
        for k, (x, y) in enumerate(zip(ta, tb)):
            if x != y:
                w = ctx.tags[k].word
                out.append(Change(step.name, f"word {w.text!r} (page {w.page + 1})", x or "O", y or "O", step.reason))
    return out


def run_steps(steps: Sequence[Step], ctx: Context, skip: frozenset[str] = frozenset(),
              trace: list[Change] | None = None) -> None:
    """Run ``steps`` in order on ``ctx``; checks named in ``skip`` are left out. With ``trace``
    (a list), every change a step makes is appended to it."""
    for st in steps:
        if st.name in skip and not st.core:
            continue
        if trace is None:
            st.run(ctx)
            continue
        before = _snapshot(ctx)
        st.run(ctx)
        if len(trace) < MAX_CHANGES:
            trace.extend(_diff(st, before, _snapshot(ctx), ctx)[:MAX_CHANGES - len(trace)])
