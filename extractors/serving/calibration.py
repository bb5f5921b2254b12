"""Confidence calibration as inference applies it: temperature scaling of the token logits, then
an isotonic map of span scores to P(correct), so that a confidence of 0.9 is right nine times
in ten.

:class:`Calibration` is what a model directory's ``calibration.json`` holds. Fitting it (the
temperature that minimises the held-out NLL, pool-adjacent-violators for the maps) is
training's job: ``training/calibrate.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Calibration"]


@dataclass
class Calibration:
    """Temperature for token logits and isotonic maps for field and line scores."""

    temperature: float = 1.0
    maps: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)

    def __call__(self, kind: str, score: float) -> float:
        """The calibrated confidence of a raw span score of ``kind`` ("field" or "line")."""
        m = self.maps.get(kind)
        if not m or not m[0]:
            return float(score)
        return float(np.interp(score, m[0], m[1]))

    def to_json(self) -> dict[str, object]:
        return {"temperature": self.temperature, "maps": {k: {"x": v[0], "y": v[1]} for k, v in self.maps.items()}}

    @classmethod
    def from_json(cls, obj: dict[str, object] | None) -> "Calibration":
        if not obj:
            return cls()
        maps_obj = obj.get("maps") or {}
        maps = {k: (list(v["x"]), list(v["y"])) for k, v in maps_obj.items()}  # type: ignore[union-attr, index]
        return cls(temperature=float(obj.get("temperature", 1.0)), maps=maps)  # type: ignore[arg-type]
