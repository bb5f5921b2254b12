"""Documents of a few held-out synthetic layout families, read, for the routing tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extractors.registry import read_bytes
from training.synth import generate, heldout_families


def heldout_layouts(root: Path) -> dict[str, list[Any]]:
    """Read documents of three held-out synthetic families (PDF, five each) and one family's mails."""
    out: dict[str, list[Any]] = {}
    for fam in heldout_families()[:3]:
        paths = generate(5, root / fam, seed=11, formats=["pdf"], families=[fam], progress=False)
        out[fam] = [read_bytes(p.read_bytes(), p.name)[0] for p in paths]
    mails = generate(2, root / "mail", seed=11, formats=["email"], families=[heldout_families()[0]], progress=False)
    out["mail"] = [d for p in mails for d in read_bytes(p.read_bytes(), p.name) if d.words][:2]
    return out
