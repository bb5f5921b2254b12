"""The retraining report: what ``intake train --from-corrections`` prints (``--json``: all of it),
what the background learner's process writes as its last line, and what the candidate's
metadata keeps.

:class:`RetrainReport` holds the decision (``promoted``, ``passed``, ``routed``, ``reasons``),
the frozen-set and per-customer figures of the live model and the chosen candidate, every
attempt's figures with its :class:`training.gate.GateReport` (``attempts[i]["gate"]``), the
held-out corrections, the refit and the timings. ``to_json`` gives the JSON object (the keys
the report has always had) and :func:`format_report` the text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["RetrainReport", "format_report"]


@dataclass
class RetrainReport:
    """One retraining run, decided."""

    version: str
    promoted: bool
    passed: bool
    routed: bool
    reasons: list[str]
    base: str  # the live model's version when the run started
    general: str  # the plain model fine-tuned (a routed live model's fallback)
    corrections: int
    trained_on: int
    held_out: dict[str, Any]
    frozen: dict[str, Any]  # {"live": folder -> summary, "candidate": folder -> summary}
    recent_corrections: dict[str, Any]  # customer -> {"live", "candidate", "held_out", "examples"}
    attempts: list[dict[str, Any]] = field(default_factory=list)  # each with its gate report (JSON)
    refit: dict[str, Any] | None = None
    train_seconds: float = 0.0
    refit_seconds: float = 0.0
    total_seconds: float = 0.0
    steps: int = 0
    final_loss: float | None = None
    merge: float = 1.0
    fallback_merges_tried: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "RetrainReport":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in known})

    def format(self) -> str:
        return format_report(self.to_json())


def format_report(rep: dict[str, Any]) -> str:
    """The retraining report as text: which corrections were held out, every attempt's figures
    (frozen set, and each customer's corrections), the refit, and the decision."""
    def hl(v: dict[str, Any] | None) -> str:
        return f"{v['header_f1']:.3f} / {v['line_f1']:.3f}" if v else "  -   /   -  "

    def ex(e: dict[str, Any]) -> str:
        return f"#{e['id']} {e['file']}".strip() if e.get("file") else f"#{e['id']}"

    general = f", general model {rep['general']}" if rep.get("general") and rep.get("general") != rep["base"] else ""
    refit = rep.get("refit")
    lines = [f"candidate {rep['version']} (from {rep['base']}{general}, {rep['corrections']} correction(s), "
             f"{rep['steps']} steps, trained in {rep['train_seconds']:.0f} s"
             + (f", refit in {rep.get('refit_seconds', 0):.0f} s" if refit else "")
             + f", {rep['total_seconds']:.0f} s in all)"]
    held = rep.get("held_out") or {}
    if held.get("count"):
        lines.append(f"held out of the judged fine-tune (each customer's newest): "
                     + ", ".join(f"{e['customer']} {ex(e)}" for e in held["examples"]))
    elif held:
        lines.append("nothing held out (" + ("no customer has two corrections" if held.get("enabled")
                                             else "holdout_newest is off") + ")")
    attempts = rep.get("attempts") or [{"attempt": "candidate", "frozen": rep["frozen"]["candidate"],
                                        "recent_corrections": {c: v["candidate"] for c, v in rep["recent_corrections"].items()},
                                        "passed": rep["passed"]}]
    names = [a["attempt"] for a in attempts] + (["refit (all)"] if refit else [])
    lines.append("header / line F1    " + "".join(f"{n[:15]:<17}" for n in ["live", *names]))
    for name, lv in rep["frozen"]["live"].items():
        lines.append(f"  frozen set: {name[:40]} ({lv['documents']} docs)")
        lines.append("                    " + "".join(f"{hl(v):<17}" for v in
                                                      [lv, *[a["frozen"].get(name) for a in attempts],
                                                       *([refit["frozen"].get(name)] if refit else [])]))
    for c, v in rep["recent_corrections"].items():
        seen = "held out" if v.get("held_out") else "seen in training"
        which = ", ".join(ex(e) for e in v.get("examples") or [])
        lines.append(f"  corrections of {c[:40]} ({seen}: {which or str(v['live']['documents']) + ' docs'})")
        lines.append("                    " + "".join(f"{hl(x):<17}" for x in
                                                      [v["live"], *[(a.get("recent_corrections") or {}).get(c)
                                                                    for a in attempts]]))
    for a in attempts:
        extra = ""
        if a["attempt"] == "routed":
            n = sum((a.get("frozen_documents_to_specialist") or {}).values())
            extra = (f" (threshold {a.get('threshold')}, fallback {a.get('fallback')}; "
                     f"{n} frozen document(s) routed to the candidate)")
        lines.append(f"  {a['attempt']}{extra}: " + ("passes" if a["passed"] else "; ".join(a.get("reasons") or [])))
    if refit:
        lines.append(f"  refit of the {refit['of']} on all {refit['corrections']} correction(s): "
                     + ("not worse on the frozen set" if refit["passed"]
                        else f"{'; '.join(refit.get('reasons') or [])}: {refit.get('note', '')}"))
    if rep["promoted"]:
        how = ""
        if rep.get("routed"):
            how = " (routed: the candidate reads the corrected layouts, the general model the rest)"
        elif rep.get("merge", 1.0) < 1.0:
            how = f" (blend {rep['merge']:.2f})"
        if refit and refit["passed"]:
            how += f", refit on all {refit['corrections']} correction(s)"
        elif held.get("count"):
            how += f", trained without the {held['count']} held-out correction(s)"
        lines.append(f"PROMOTED {rep['version']}{how}: not worse on the frozen set nor on any customer's corrections")
    elif rep["passed"]:
        lines.append(f"not promoted (--no-promote): {rep['version']} is registered; `intake model promote {rep['version']}`")
    else:
        lines.append(f"NOT promoted: {'; '.join(rep['reasons'])} (registered as {rep['version']})")
    return "\n".join(lines)
