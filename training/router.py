"""Writing routed models: the fingerprints of the corrected documents and ``router.json``.

A routed version (how it serves: :mod:`extractors.serving.router`) holds a retrained
specialist's weights plus ``router.json``: the corrected documents' layout fingerprints, the
threshold a document's layout must reach to be read by the specialist, and the fallback (the
general model, always a plain one). Training builds it (``training.retrain.build_routed``) and
:class:`extractors.serving.ModelDir` reads it back (``router``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from extractors.serving.model_dir import ROUTER_FILE, is_routed
from extractors.serving.router import fingerprint
from intake.core.errors import ConfigError
from training.learn import document_of

__all__ = ["corrected_fingerprint", "write_router"]


def corrected_fingerprint(example: Any) -> dict[str, Any]:
    """The fingerprint of a corrected document (a ``LabelledDoc``), its labelled words left out."""
    first = next((p for p in example.pages if p.words), None)
    return fingerprint(document_of(example), example.name, tags=list(first.tags) if first is not None else None)


def write_router(model_dir: Path, fingerprints: Iterable[dict[str, Any]], threshold: float,
                 fallback_dir: Path, fallback_version: str) -> dict[str, Any]:
    """Write ``router.json`` into ``model_dir`` (the specialist) and return it."""
    fallback_dir = Path(fallback_dir)
    if is_routed(fallback_dir):
        raise ConfigError(f"the fallback of a routed model must be a plain model, not {fallback_dir}")
    obj = {"kind": "routed", "measure": "overlap", "threshold": float(threshold),
           "fallback": {"version": fallback_version, "path": str(fallback_dir.resolve())},
           "fingerprints": list(fingerprints)}
    (Path(model_dir) / ROUTER_FILE).write_text(json.dumps(obj, indent=1, sort_keys=True))
    return obj
