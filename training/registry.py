"""The model registry under ``<data_dir>/models``: every trained version kept with its config,
dataset hash and metrics, and one live pointer.

Layout::

    models/
      versions/<version>/      a saved model directory (training.model.save_model)
      live.json                {"version": ..., "promoted_at": ..., "previous": ...}
      history.jsonl            one line per promotion / rollback

Promotion rewrites ``live.json`` atomically (write a temp file, then ``os.replace``), so a
reader sees the old or the new pointer, never half of one. A rollback is a promotion of the
previous version.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from extractors.serving.model_dir import LIVE_FILE, MODEL_META, VERSIONS_DIR, has_weights, live_model_path
from intake.core.errors import NotFound

__all__ = ["Registry", "new_version_name"]


def new_version_name(prefix: str = "v") -> str:
    """A sortable version name: ``v20261130-151200``."""
    return prefix + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


class Registry:
    """Model versions on disk and the pointer to the live one."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / VERSIONS_DIR

    def versions(self) -> list[dict[str, Any]]:
        """Every registered version with its metadata, oldest first."""
        out = []
        if not self.versions_dir.is_dir():
            return out
        for d in sorted(self.versions_dir.iterdir()):
            meta_p = d / MODEL_META
            if d.is_dir() and meta_p.is_file():
                meta = json.loads(meta_p.read_text())
                meta["version"] = d.name
                out.append(meta)
        return out

    def path(self, version: str) -> Path:
        p = self.versions_dir / version
        if not has_weights(p):
            raise NotFound(f"model version {version} is not in the registry at {self.root}")
        return p

    def add(self, model_dir: Path, version: str | None = None) -> str:
        """Copy a saved model directory into the registry; returns its version name."""
        version = version or new_version_name()
        dst = self.versions_dir / version
        if dst.exists():
            raise FileExistsError(f"version {version} already exists")
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.versions_dir, prefix=".incoming-"))
        shutil.copytree(model_dir, tmp, dirs_exist_ok=True)
        meta_p = tmp / MODEL_META
        meta = json.loads(meta_p.read_text()) if meta_p.is_file() else {}
        meta["version"] = version
        meta_p.write_text(json.dumps(meta, indent=2, sort_keys=True))
        os.replace(tmp, dst)
        return version

    def live(self) -> str | None:
        p = self.root / LIVE_FILE
        if not p.is_file():
            return None
        return str(json.loads(p.read_text()).get("version") or "") or None

    def live_path(self) -> Path | None:
        """The live model's directory, or None when nothing was promoted (serving reads the same
        pointer: :func:`extractors.serving.live_model_path`)."""
        return live_model_path(self.root)

    def promote(self, version: str, reason: str = "") -> None:
        """Make ``version`` live (atomically) and log it."""
        self.path(version)
        prev = self.live()
        rec = {"version": version, "previous": prev, "promoted_at": datetime.now(timezone.utc).isoformat(),
               "reason": reason}
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".live-")
        with os.fdopen(fd, "w") as fh:
            json.dump(rec, fh)
        os.replace(tmp, self.root / LIVE_FILE)
        with open(self.root / "history.jsonl", "a") as fh:
            fh.write(json.dumps(rec) + "\n")

    def rollback(self) -> str:
        """Make the previously live version live again; returns it."""
        p = self.root / LIVE_FILE
        if not p.is_file():
            raise NotFound("no live model to roll back from")
        prev = json.loads(p.read_text()).get("previous")
        if not prev:
            raise NotFound("the live model has no previous version")
        self.promote(prev, reason="rollback")
        return str(prev)
