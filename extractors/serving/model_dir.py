"""A model directory as serving reads it, and which one serves.

A saved model directory holds::

    config.json         the transformers config with the label map
    model.safetensors   the weights (fp16)
    tokenizer.json      the word-piece tokenizer
    intake_model.json   the manifest: version, encoder, window settings, dataset hash, metrics
    calibration.json    optional: the temperature and isotonic maps (serving.calibration)
    router.json         optional: a routed version (serving.router): fingerprints, threshold, fallback
    layouts.json        optional: layouts learned from corrections (serving.anchors)

:class:`ModelDir` reads all of the small files at once (``ModelDir.open``); the weights are
loaded by :func:`extractors.serving.load.load_model`. Training writes these directories
(``training.model.save_model``, ``training.router.write_router``, ``training.anchors.write_layouts``,
``training.calibrate.write_calibration``) and the registry under ``<data_dir>/models``
(``training.registry``); serving only reads them.

Which model serves (:func:`default_model_dir`): ``settings.model_dir`` when set, else the live
version of the registry (``models/live.json`` names a directory under ``models/versions/``),
else the model committed with the package under ``training/default_model`` (package data: its
path is computed here, nothing of ``training`` is imported).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractors.serving.calibration import Calibration
from intake.core.errors import ConfigError
from intake.core.settings import get_settings

__all__ = [
    "MODEL_META", "WEIGHTS_FILE", "CONFIG_FILE", "TOKENIZER_FILE", "CALIBRATION_FILE", "ROUTER_FILE", "LAYOUTS_FILE",
    "LIVE_FILE", "VERSIONS_DIR", "DEFAULT_MODEL_DIR", "RouterSpec", "ModelDir", "has_weights", "version_of",
    "read_router", "is_routed", "read_layouts", "fallback_dir", "general_model_dir", "live_model_path",
    "default_model_dir",
]

MODEL_META = "intake_model.json"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"
CALIBRATION_FILE = "calibration.json"
ROUTER_FILE = "router.json"
LAYOUTS_FILE = "layouts.json"
LIVE_FILE = "live.json"  # in the registry root: {"version": ..., "previous": ..., "promoted_at": ...}
VERSIONS_DIR = "versions"

# The model committed with the package (package data of ``training``; read here as files only).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent.parent / "training" / "default_model"


def has_weights(model_dir: Path) -> bool:
    return (Path(model_dir) / WEIGHTS_FILE).is_file()


def version_of(model_dir: Path) -> str:
    """The version a model directory's manifest names (its folder name when it names none)."""
    try:
        return str(json.loads((Path(model_dir) / MODEL_META).read_text()).get("version") or Path(model_dir).name)
    except (OSError, ValueError):
        return Path(model_dir).name


@dataclass(frozen=True)
class RouterSpec:
    """``router.json`` of a routed version: the corrected documents' fingerprints, the threshold a
    document's layout must reach to go to the specialist, and the fallback (a plain model)."""

    fingerprints: list[dict[str, Any]]
    threshold: float
    fallback_version: str
    fallback_path: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "RouterSpec":
        fb = obj.get("fallback") or {}
        return cls(fingerprints=list(obj["fingerprints"]), threshold=float(obj.get("threshold", 0.7)),
                   fallback_version=str(fb.get("version") or ""), fallback_path=str(fb.get("path") or ""), raw=obj)


def read_router(model_dir: Path) -> dict[str, Any]:
    """``router.json`` of a routed model directory (``ConfigError`` when unreadable)."""
    p = Path(model_dir) / ROUTER_FILE
    try:
        obj = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the router of the model at {model_dir}: {exc}") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("fingerprints"), list) or "fallback" not in obj:
        raise ConfigError(f"{p} is not a model router (needs fingerprints and fallback)")
    return obj


def is_routed(model_dir: Path) -> bool:
    return (Path(model_dir) / ROUTER_FILE).is_file()


def read_layouts(model_dir: Path) -> list[dict[str, Any]]:
    """The learned layouts of ``layouts.json`` (none when absent or unreadable: a model reads
    without them)."""
    p = Path(model_dir) / LAYOUTS_FILE
    if not p.is_file():
        return []
    try:
        obj = json.loads(p.read_text())
    except (OSError, ValueError):
        return []
    return [lay for lay in obj.get("layouts") or [] if isinstance(lay, dict) and lay.get("anchors")]


def fallback_dir(model_dir: Path, router: dict[str, Any] | None = None) -> Path:
    """Where a routed model's fallback is: the registry version beside it, else its recorded path,
    else the packaged model when that is the version named."""
    model_dir = Path(model_dir)
    router = router or read_router(model_dir)
    fb = router.get("fallback") or {}
    cands = []
    if fb.get("version"):
        cands.append(model_dir.parent / str(fb["version"]))
    if fb.get("path"):
        cands.append(Path(fb["path"]))
    for c in cands:
        if has_weights(c):
            return c
    want = str(fb.get("version") or "")
    if version_of(DEFAULT_MODEL_DIR) in (want, want.removeprefix("base-")):
        return DEFAULT_MODEL_DIR
    raise ConfigError(f"the fallback model {want or fb.get('path')} of the routed model at {model_dir} is missing")


def general_model_dir(model_dir: Path) -> Path:
    """The plain model behind ``model_dir``: itself, or a routed model's fallback."""
    return fallback_dir(model_dir) if is_routed(model_dir) else Path(model_dir)


@dataclass(frozen=True)
class ModelDir:
    """One saved model directory, read: everything serving needs except the weights.

    ``meta``: the manifest (``intake_model.json``); ``config``: the transformers config
    (``config.json``, with the label map); ``calibration``: ``calibration.json`` (the identity
    when absent); ``router``: ``router.json`` of a routed version, else None; ``anchors``: the
    layouts learned from corrections (``layouts.json``)."""

    path: Path
    version: str
    meta: dict[str, Any]
    config: dict[str, Any]
    calibration: Calibration
    router: RouterSpec | None = None
    anchors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def open(cls, path: Path | str) -> "ModelDir":
        """Read the model directory at ``path``. ``ConfigError`` (one line) when it holds no
        weights or a file is unreadable."""
        path = Path(path)
        if not has_weights(path):
            raise ConfigError(f"no layout model at {path}: train one with `intake train` or reinstall the package")
        try:
            meta = json.loads((path / MODEL_META).read_text()) if (path / MODEL_META).is_file() else {}
            config = json.loads((path / CONFIG_FILE).read_text())
            cal_p = path / CALIBRATION_FILE
            cal = json.loads(cal_p.read_text()) if cal_p.is_file() else None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load the model at {path}: {type(exc).__name__}: {str(exc)[:160]}") from exc
        router = RouterSpec.from_json(read_router(path)) if is_routed(path) else None
        return cls(path=path, version=str(meta.get("version", path.name)), meta=meta, config=config,
                   calibration=Calibration.from_json(cal), router=router, anchors=read_layouts(path))

    @property
    def weights(self) -> Path:
        return self.path / WEIGHTS_FILE

    @property
    def id2label(self) -> dict[int, str]:
        return {int(k): v for k, v in (self.config.get("id2label") or {}).items()}

    @property
    def max_len(self) -> int:
        return int(self.meta.get("max_len", 512))

    @property
    def overlap(self) -> int:
        return int(self.meta.get("overlap", 128))

    @property
    def routed(self) -> bool:
        return self.router is not None

    def fallback(self) -> "ModelDir | None":
        """A routed version's fallback (the general model), read; None for a plain model."""
        if self.router is None:
            return None
        return ModelDir.open(fallback_dir(self.path, self.router.raw))


def live_model_path(registry_dir: Path) -> Path | None:
    """The live version's directory of the registry at ``registry_dir``, or None when nothing
    was promoted (or the version it names has no weights). The pointer is replaced atomically by
    a promotion, so it reads as the old or the new one; a malformed one raises ``ValueError``."""
    p = Path(registry_dir) / LIVE_FILE
    if not p.is_file():
        return None
    v = str(json.loads(p.read_text()).get("version") or "") or None
    if v is None:
        return None
    d = Path(registry_dir) / VERSIONS_DIR / v
    return d if has_weights(d) else None


def default_model_dir(settings: Any = None) -> Path:
    """Which model to load: ``settings.model_dir``, the registry's live model, or the committed default."""
    if settings is None:
        settings = get_settings()
    if getattr(settings, "model_dir", None):
        return Path(settings.model_dir)
    live = live_model_path(Path(settings.registry_dir))
    return live if live is not None else DEFAULT_MODEL_DIR
