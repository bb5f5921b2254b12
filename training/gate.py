"""The promotion gate: a retrained model goes live only if it measures at least as well as the
live one.

A candidate is compared with the live model on yardsticks: every frozen folder (synthetic
documents of held-out layout families, and an operator's documents with truth), and each
customer's corrections (held out of the fine-tune where there were two or more). On each, the
header F1 and the line F1 may not drop by more than ``tolerance`` (default 0): a drop on any
yardstick refuses the candidate, with the reason. A routed candidate must also read some
customer's corrections better than live (:func:`corrections_better`), or it would add a router
for nothing.

Each test returns a :class:`GateReport`: the decision, the reasons, and per yardstick the live
and candidate figures (header and line F1 and every field's F1). Reports add up (``a + b``:
passed only when both passed, reasons and yardsticks in order). ``training/retrain.py`` runs
the gate on every attempt and stores the reports with the candidate's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DECIDING", "Yardstick", "GateReport", "frozen_gate", "corrections_not_worse", "corrections_better",
           "corrections_gate"]

DECIDING = ("header_f1", "line_f1")  # the figures the decision reads; the fields are reported beside them
_EPS = 1e-9


@dataclass(frozen=True)
class Yardstick:
    """One comparison: the live model's and the candidate's figures (``summary_of`` of the
    evaluation: header_f1, line_f1, fields, documents) and which deciding figures dropped."""

    name: str
    live: dict[str, Any]
    candidate: dict[str, Any] | None
    worse: tuple[str, ...] = ()

    def fields(self) -> dict[str, tuple[float | None, float | None]]:
        """Per field: (live F1, candidate F1)."""
        lf = self.live.get("fields") or {}
        cf = (self.candidate or {}).get("fields") or {}
        return {k: (lf.get(k), cf.get(k)) for k in sorted(set(lf) | set(cf))}

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "worse": list(self.worse),
                **{k: {"live": self.live.get(k), "candidate": (self.candidate or {}).get(k)} for k in DECIDING},
                "fields": {k: {"live": a, "candidate": b} for k, (a, b) in self.fields().items()}}


@dataclass(frozen=True)
class GateReport:
    """A gate's decision: ``passed``, the ``reasons`` it did not (one line each), and the
    yardsticks it compared."""

    passed: bool
    reasons: list[str] = field(default_factory=list)
    yardsticks: list[Yardstick] = field(default_factory=list)
    tolerance: float = 0.0

    def __add__(self, other: "GateReport") -> "GateReport":
        return GateReport(self.passed and other.passed, self.reasons + other.reasons,
                          self.yardsticks + other.yardsticks, max(self.tolerance, other.tolerance))

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "reasons": list(self.reasons), "tolerance": self.tolerance,
                "yardsticks": [y.to_json() for y in self.yardsticks]}


def _not_worse(pairs: list[tuple[str, dict[str, Any], dict[str, Any] | None]], tolerance: float) -> GateReport:
    why: list[str] = []
    sticks: list[Yardstick] = []
    for name, lv, cv in pairs:
        if cv is None:
            why.append(f"{name}: candidate not evaluated")
            sticks.append(Yardstick(name, lv, None, DECIDING))
            continue
        worse = tuple(k for k in DECIDING if cv[k] < lv[k] - tolerance - _EPS)
        why.extend(f"{name}: {k} {cv[k]:.4f} < live {lv[k]:.4f}" for k in worse)
        sticks.append(Yardstick(name, lv, cv, worse))
    return GateReport(not why, why, sticks, tolerance)


def frozen_gate(live: dict[str, Any], cand: dict[str, Any], tolerance: float = 0.0) -> GateReport:
    """Whether the candidate is not worse than the live model on every frozen folder
    (``live``/``cand``: folder -> summary), and why not."""
    return _not_worse([(f"frozen set {name}", lv, cand.get(name)) for name, lv in live.items()], tolerance)


def _corrections_label(c: str, held: dict[str, bool] | None) -> str:
    if held is None:
        return f"corrections of {c}"
    return f"corrections of {c} ({'held out' if held.get(c) else 'seen in training'})"


def corrections_not_worse(live: dict[str, Any], cand: dict[str, Any], tolerance: float = 0.0,
                          held: dict[str, bool] | None = None) -> GateReport:
    """Whether a candidate reads every customer's corrections at least as well as live: neither
    header nor line F1 lower by more than ``tolerance``. ``live``/``cand``: customer -> summary;
    ``held``: customer -> whether its figures are on held-out examples (said in the reasons)."""
    return _not_worse([(_corrections_label(c, held), lv, cand.get(c)) for c, lv in live.items()], tolerance)


def corrections_better(live: dict[str, Any], cand: dict[str, Any]) -> GateReport:
    """Whether a candidate reads some customer's corrections better than live (header or line F1
    higher), and why not."""
    sticks = [Yardstick(f"corrections of {c}", lv, cand.get(c)) for c, lv in live.items()]
    for c, lv in live.items():
        cv = cand.get(c)
        if cv is not None and any(cv[k] > lv[k] + _EPS for k in DECIDING):
            return GateReport(True, [], sticks)
    return GateReport(False, ["reads no customer's corrections better than live"], sticks)


def corrections_gate(live: dict[str, Any], cand: dict[str, Any], tolerance: float = 0.0,
                     held: dict[str, bool] | None = None) -> GateReport:
    """The routed model's test on the corrections: not worse for any customer
    (:func:`corrections_not_worse`) and better for at least one (:func:`corrections_better`)."""
    rep = corrections_not_worse(live, cand, tolerance, held)
    return rep if not rep.passed else corrections_better(live, cand)
