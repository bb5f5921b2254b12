"""Loading a model directory's weights for inference: ``LayoutLMForTokenClassification`` in
float32, int8-quantised (dynamic, every ``nn.Linear``) by default.

torch and transformers are imported when a model is loaded, not when this module is; nothing
is downloaded (``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` default to on).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from extractors.serving.calibration import Calibration
from extractors.serving.features import load_tokenizer
from extractors.serving.model_dir import CONFIG_FILE, ModelDir
from intake.core.errors import ConfigError, IntakeError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

__all__ = ["LoadedModel", "load_model", "quantize"]


class LoadedModel:
    """A model ready for inference: module, tokenizer and the directory it came from."""

    def __init__(self, model: Any, tokenizer: Any, model_dir: ModelDir) -> None:
        self.model, self.tokenizer, self.dir = model, tokenizer, model_dir

    @property
    def path(self) -> Path:
        return self.dir.path

    @property
    def meta(self) -> dict[str, Any]:
        return self.dir.meta

    @property
    def calibration(self) -> Calibration:
        return self.dir.calibration

    @property
    def version(self) -> str:
        return self.dir.version

    @property
    def id2label(self) -> dict[int, str]:
        return {int(k): v for k, v in self.model.config.id2label.items()}


def load_model(model_dir: ModelDir | Path, quantized: bool = True, dtype: str = "fp32") -> LoadedModel:
    """Load a saved model directory; int8 dynamic quantisation of Linear layers by default.

    ``quantized=False`` keeps float32 weights (training fine-tunes from them), ``dtype="bf16"``
    casts them to bfloat16."""
    import torch
    from safetensors.torch import load_file
    from transformers import LayoutLMConfig, LayoutLMForTokenClassification

    md = model_dir if isinstance(model_dir, ModelDir) else ModelDir.open(model_dir)
    path = md.path
    try:
        cfg = LayoutLMConfig.from_json_file(str(path / CONFIG_FILE))
        model = LayoutLMForTokenClassification(cfg)
        state = load_file(str(md.weights))
        state = {k: v.float() for k, v in state.items()}
        res = model.load_state_dict(state, strict=False)
        bad = [k for k in res.missing_keys if not k.endswith("position_ids")]
        if bad or res.unexpected_keys:
            raise ConfigError(f"model at {path} does not match its config (missing {bad[:3]}, unexpected {res.unexpected_keys[:3]})")
        tok = load_tokenizer(path)
    except IntakeError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ConfigError(f"cannot load the model at {path}: {type(exc).__name__}: {str(exc)[:160]}") from exc
    model.eval()
    if quantized:
        model = quantize(model)
    elif dtype == "bf16":
        model = model.to(torch.bfloat16)
    return LoadedModel(model, tok, md)


def quantize(model: Any) -> Any:
    """int8 dynamic quantisation of every ``nn.Linear`` (about 3x faster on CPU)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
