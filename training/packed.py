"""Train the layout model on another machine (a GPU) from a packed dataset.

Reading thousands of synthetic documents needs the project's readers (PDF, OCR, spreadsheets);
the training steps need only torch. So the work is split in three, each a command:

``python -m training.packed pack DIR [--config CFG]``
    here: builds the training corpus exactly as ``intake train`` does (the synthetic families and
    free layouts of ``CFG``, labelled corrections, real documents with truth if the config names
    them), tokenises every page and writes ``DIR/pages.npz`` (word pieces, boxes on the 0..1000
    grid and labels per word), ``DIR/encoder.npz`` (the pretrained encoder's weights, rows
    rounded to int8 to travel small), the tokenizer and the config.
``python -m training.packed train DIR OUT [--steps N] [--batch B]``
    there: needs only torch, numpy, safetensors and transformers. Cuts the pages into the same
    windows as :func:`extractors.serving.features.encode_page`, runs :func:`training.finetune.fit` (CUDA
    with bf16 autocast when torch sees a GPU) and writes the weights in fp16 shards under 16 MB.
``python -m training.packed finish OUT MODEL [--config CFG]``
    here: joins the shards into a model directory, fits the calibration on documents of the
    training families it never saw, scores the held-out families and writes ``intake_model.json``.

The encoder's int8 rounding changes the starting point of fine-tuning by less than the int8
inference the service runs anyway; the model's metadata records it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = ["pack_pages", "load_pages", "pack_encoder", "unpack_encoder", "write_shards", "join_shards", "main"]

SHARD_BYTES = 15 * 1024 * 1024


def pack_pages(docs: Sequence[Any], tokenizer: Any, out: Path) -> dict[str, int]:
    """Write the labelled pages of ``docs`` as word pieces, boxes and label ids."""
    from extractors.serving.features import LABEL2ID, _pieces, normalize_box

    pieces: list[int] = []
    npieces: list[int] = []
    boxes: list[list[int]] = []
    labels: list[int] = []
    page_words: list[int] = []
    for d in docs:
        for p in d.pages:
            if not p.words:
                continue
            ps = _pieces(tokenizer, [w.text for w in p.words])
            for w, pc, tag in zip(p.words, ps, p.tags):
                pieces.extend(pc)
                npieces.append(len(pc))
                boxes.append(normalize_box(w.box, p.width, p.height))
                labels.append(LABEL2ID.get(tag, 0))
            page_words.append(len(p.words))
    np.savez_compressed(
        out, pieces=np.asarray(pieces, dtype=np.uint16), npieces=np.asarray(npieces, dtype=np.uint8),
        boxes=np.asarray(boxes, dtype=np.uint16).reshape(-1, 4), labels=np.asarray(labels, dtype=np.uint8),
        page_words=np.asarray(page_words, dtype=np.int32),
    )
    return {"pages": len(page_words), "words": len(labels), "pieces": len(pieces)}


def load_pages(path: Path, cls_id: int, sep_id: int, max_len: int, overlap: int) -> list[Any]:
    """The training windows of a packed file (the same windows ``encode_page`` cuts)."""
    from extractors.serving.features import windows_from_pieces

    z = np.load(path)
    pieces, npieces, boxes, labels, page_words = (z["pieces"], z["npieces"], z["boxes"], z["labels"],
                                                 z["page_words"])
    starts = np.concatenate([[0], np.cumsum(npieces.astype(np.int64))])
    out = []
    w0 = 0
    for n in page_words.tolist():
        ps = [pieces[starts[i]:starts[i + 1]].tolist() for i in range(w0, w0 + n)]
        out.extend(windows_from_pieces(ps, boxes[w0:w0 + n].tolist(), cls_id, sep_id,
                                       labels=labels[w0:w0 + n].tolist(), max_len=max_len, overlap=overlap))
        w0 += n
    return out


def pack_encoder(folder: Path, out: Path) -> None:
    """The encoder's weights with every 2-D tensor's rows rounded to int8 (scale per row)."""
    from safetensors.numpy import load_file

    state = load_file(str(folder / "model.safetensors"))
    arrays: dict[str, np.ndarray] = {}
    for k, v in state.items():
        if k.endswith("position_ids"):
            continue
        v = v.astype(np.float32)
        if v.ndim == 2:
            scale = np.abs(v).max(axis=1, keepdims=True) / 127.0
            scale[scale == 0] = 1.0
            arrays[f"q::{k}"] = np.round(v / scale).astype(np.int8)
            arrays[f"s::{k}"] = scale.astype(np.float32)
        else:
            arrays[f"f::{k}"] = v.astype(np.float16)
    np.savez_compressed(out, **arrays)


def unpack_encoder(path: Path, folder: Path, config: Path, tokenizer: Path) -> Path:
    """Rebuild an encoder folder (config, tokenizer, fp32 safetensors) from :func:`pack_encoder`."""
    import shutil

    from safetensors.numpy import save_file

    z = np.load(path)
    state: dict[str, np.ndarray] = {}
    for key in z.files:
        kind, name = key.split("::", 1)
        if kind == "q":
            state[name] = z[key].astype(np.float32) * z[f"s::{name}"]
        elif kind == "f":
            state[name] = z[key].astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / "model.safetensors"))
    shutil.copyfile(config, folder / "config.json")
    shutil.copyfile(tokenizer, folder / "tokenizer.json")
    return folder


def write_shards(model: Any, out: Path) -> list[Path]:
    """The model's weights in fp16 safetensors files of at most :data:`SHARD_BYTES` each."""
    import torch
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous().cpu() for k, v in model.state_dict().items()
             if not k.endswith("position_ids")}
    shards: list[dict[str, Any]] = [{}]
    size = 0
    for k, v in state.items():
        n = v.numel() * 2
        if size and size + n > SHARD_BYTES:
            shards.append({})
            size = 0
        if n > SHARD_BYTES:  # one tensor larger than a shard: split it by rows
            rows = max(1, SHARD_BYTES // (v.shape[1] * 2))
            for i in range(0, v.shape[0], rows):
                if shards[-1]:
                    shards.append({})
                shards[-1][f"{k}@@{i}"] = v[i:i + rows].contiguous()
            shards.append({})
            size = 0
            continue
        shards[-1][k] = v
        size += n
    paths = []
    for i, sh in enumerate(s for s in shards if s):
        p = out / f"shard-{i:02d}.safetensors"
        save_file(sh, str(p))
        paths.append(p)
    return paths


def join_shards(folder: Path) -> dict[str, Any]:
    """The full state dict from :func:`write_shards`' files."""
    import torch
    from safetensors.torch import load_file

    parts: dict[str, list[tuple[int, Any]]] = {}
    state: dict[str, Any] = {}
    for p in sorted(folder.glob("shard-*.safetensors")):
        for k, v in load_file(str(p)).items():
            if "@@" in k:
                name, start = k.split("@@")
                parts.setdefault(name, []).append((int(start), v))
            else:
                state[k] = v
    for name, ps in parts.items():
        state[name] = torch.cat([v for _, v in sorted(ps, key=lambda t: t[0])], dim=0)
    return state


# --- the three commands ---------------------------------------------------------------------------

def cmd_pack(out: Path, config: Path | None, data_dir: Path, workers: int) -> dict[str, Any]:
    from training.finetune import _synth_corpus, _truth_examples, build_examples, formats_key, load_config, set_seed
    from training.build_dataset import dataset_hash, load_labelled_dir
    from extractors.serving.features import load_tokenizer
    from training.model import resolve_encoder
    from training.synth import train_families

    cfg = load_config(config)
    set_seed(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    cache = data_dir / "cache" / "synth"
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    paths = _synth_corpus(cfg, cache, cfg.synth_n, cfg.synth_seed, train_families(), "train")
    ex_cache = cache / f"examples-train-n{cfg.synth_n}-s{cfg.synth_seed}-r{int(cfg.use_reader)}-{formats_key(cfg.synth_formats)}.jsonl"
    docs = build_examples(paths, cfg, ex_cache, workers=workers)
    docs = [d for d in docs if not d.meta.get("heldout")]
    if cfg.use_labelled:
        docs.extend(load_labelled_dir(data_dir / "labelled"))
    real = _truth_examples(cfg)
    for _ in range(max(1, cfg.truth_repeat)):
        docs.extend(real)
    folder, _ = resolve_encoder(cfg.encoder)
    tok = load_tokenizer(folder)
    stats = pack_pages(docs, tok, out / "pages.npz")
    pack_encoder(folder, out / "encoder.npz")
    import shutil

    shutil.copyfile(folder / "config.json", out / "encoder_config.json")
    shutil.copyfile(folder / "tokenizer.json", out / "tokenizer.json")
    info = {"config": asdict(cfg), "dataset_hash": dataset_hash(docs), "train_documents": len(docs),
            "trained_on_files": sorted({d.name for d in real}), "formats": sorted({str(d.meta.get("format")) for d in docs}),
            "pack_seconds": round(time.time() - t0, 1), **stats}
    (out / "pack.json").write_text(json.dumps(info, indent=1, default=str))
    return info


def cmd_merge(out: Path, parts: Sequence[Path]) -> dict[str, Any]:
    """One packed folder from several (the first one's config and encoder; the pages of all)."""
    import shutil

    out.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, list[np.ndarray]] = {}
    infos = []
    for p in parts:
        z = np.load(p / "pages.npz")
        for k in z.files:
            arrays.setdefault(k, []).append(z[k])
        infos.append(json.loads((p / "pack.json").read_text()))
    np.savez_compressed(out / "pages.npz", **{k: np.concatenate(v) for k, v in arrays.items()})
    for name in ("encoder.npz", "encoder_config.json", "tokenizer.json"):
        if (parts[0] / name).resolve() != (out / name).resolve():
            shutil.copyfile(parts[0] / name, out / name)
    import hashlib

    info = dict(infos[0])
    info["parts"] = [{k: i[k] for k in ("config", "dataset_hash", "train_documents", "pages", "words")} for i in infos]
    info["dataset_hash"] = hashlib.sha256("".join(i["dataset_hash"] for i in infos).encode()).hexdigest()
    for k in ("train_documents", "pages", "words", "pieces"):
        info[k] = sum(i[k] for i in infos)
    info["formats"] = sorted({f for i in infos for f in i["formats"]})
    (out / "pack.json").write_text(json.dumps(info, indent=1, default=str))
    return info


def cmd_train(packdir: Path, out: Path, steps: int | None, batch: int | None, lr: float | None,
              minutes: float | None) -> dict[str, Any]:
    import torch

    from extractors.serving.features import ID2LABEL, load_tokenizer
    from training.finetune import TrainConfig, fit, set_seed
    from training.model import build_model

    info = json.loads((packdir / "pack.json").read_text())
    known = set(TrainConfig.__dataclass_fields__)
    cfg = TrainConfig(**{k: v for k, v in info["config"].items() if k in known})
    cfg = replace(cfg, max_steps=steps or cfg.max_steps, batch_size=batch or cfg.batch_size, lr=lr or cfg.lr,
                  max_minutes=minutes if minutes is not None else cfg.max_minutes)
    set_seed(cfg.seed)
    t0 = time.time()
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="intake-encoder-"))
    enc = unpack_encoder(packdir / "encoder.npz", scratch / "encoder", packdir / "encoder_config.json",
                         packdir / "tokenizer.json")
    tok = load_tokenizer(enc)
    windows = load_pages(packdir / "pages.npz", tok.cls_token_id, tok.sep_token_id, cfg.max_len, cfg.overlap)
    print(f"{len(windows)} windows from the packed pages in {time.time() - t0:.1f} s", flush=True)
    model, _, missing = build_model(str(enc), ID2LABEL)
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
    t1 = time.time()
    step, losses, stopped = fit(model, windows, cfg, tok.pad_token_id, t1, progress=False)
    train_s = time.time() - t1
    write_shards(model, out)
    model.config.to_json_file(str(out / "config.json"))
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    meta = {"steps": step, "batch_size": cfg.batch_size, "lr": cfg.lr, "train_windows": len(windows),
            "epochs_done": step / max(1, math.ceil(len(windows) / cfg.batch_size)), "first_loss": losses[0] if losses else None,
            "final_loss": (sum(losses[-50:]) / len(losses[-50:])) if losses else None, "train_seconds": round(train_s, 1),
            "stopped_early": stopped, "device": device, "torch": torch.__version__,
            "loss_curve": [round(sum(losses[i:i + 100]) / len(losses[i:i + 100]), 4) for i in range(0, len(losses), 100)],
            "missing_keys_at_init": missing}
    (out / "train.json").write_text(json.dumps(meta, indent=1))
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)
    return meta


def cmd_finish(trained: Path, packdir: Path, model: Path, data_dir: Path, eval_n: int | None,
               calib_n: int | None) -> dict[str, Any]:
    import shutil

    from transformers import LayoutLMConfig, LayoutLMForTokenClassification

    from training.finetune import TrainConfig, _synth_corpus, calibrate_model
    from training.model import save_model
    from training.synth import heldout_families, train_families

    info = json.loads((packdir / "pack.json").read_text())
    tmeta = json.loads((trained / "train.json").read_text())
    known = set(TrainConfig.__dataclass_fields__)
    cfg = TrainConfig(**{k: v for k, v in info["config"].items() if k in known})
    if eval_n is not None:
        cfg = replace(cfg, eval_n=eval_n)
    if calib_n is not None:
        cfg = replace(cfg, calib_n=calib_n)
    conf = LayoutLMConfig.from_json_file(str(trained / "config.json"))
    net = LayoutLMForTokenClassification(conf)
    res = net.load_state_dict({k: v.float() for k, v in join_shards(trained).items()}, strict=False)
    bad = [k for k in res.missing_keys if not k.endswith("position_ids")]
    if bad:
        raise SystemExit(f"the shards miss weights: {bad[:3]}")
    net.eval()
    meta: dict[str, Any] = {
        "version": model.name, "encoder": cfg.encoder, "max_len": cfg.max_len, "overlap": cfg.overlap,
        "config": asdict(cfg), "dataset_hash": info["dataset_hash"], "train_documents": info["train_documents"],
        "train_windows": tmeta["train_windows"], "steps": tmeta["steps"], "epochs_done": tmeta["epochs_done"],
        "first_loss": tmeta["first_loss"], "final_loss": tmeta["final_loss"], "train_seconds": tmeta["train_seconds"],
        "trained_on": f"{tmeta['device']} (torch {tmeta['torch']}), from pages packed by training.packed",
        "packed_parts": [p["config"].get("name") for p in info.get("parts", [])] or [cfg.name],
        "encoder_init": "pretrained weights with rows rounded to int8 for transfer",
        "stopped_early": tmeta["stopped_early"], "trained_on_files": info["trained_on_files"],
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    save_model(net, packdir, model, meta)
    cache = data_dir / "cache" / "synth"
    cache.mkdir(parents=True, exist_ok=True)
    if cfg.calib_n > 0:
        cal_paths = _synth_corpus(cfg, cache, cfg.calib_n, cfg.synth_seed + 1000, train_families(), "calib")
        meta["calibration"] = calibrate_model(model, cal_paths, cfg)
    if cfg.eval_n > 0:
        from extractors.inference import LayoutExtractor
        from training.evaluate import evaluate_dir

        ecfg = replace(cfg, synth_formats=list(cfg.eval_formats or cfg.synth_formats))
        ev_paths = _synth_corpus(ecfg, cache, cfg.eval_n, cfg.synth_seed + 2000, heldout_families(), "heldout")
        ex = LayoutExtractor(model, quantized=cfg.quantized_eval)
        meta["metrics_heldout_families"] = evaluate_dir(ev_paths[0].parent, ex.extract, progress=False).metrics()
    (model / "intake_model.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    shutil.copyfile(packdir / "tokenizer.json", model / "tokenizer.json")
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.packed", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="build and pack the training pages (here)")
    p.add_argument("out", type=Path)
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--workers", type=int, default=2)
    t = sub.add_parser("train", help="train from a packed folder (on the GPU machine)")
    t.add_argument("packdir", type=Path)
    t.add_argument("out", type=Path)
    t.add_argument("--steps", type=int, default=None)
    t.add_argument("--batch", type=int, default=None)
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--minutes", type=float, default=None)
    m = sub.add_parser("merge", help="merge packed folders into one (here)")
    m.add_argument("out", type=Path)
    m.add_argument("parts", type=Path, nargs="+")
    f = sub.add_parser("finish", help="join, calibrate and evaluate a trained model (here)")
    f.add_argument("trained", type=Path)
    f.add_argument("packdir", type=Path)
    f.add_argument("model", type=Path)
    f.add_argument("--data-dir", type=Path, default=None)
    f.add_argument("--eval-n", type=int, default=None)
    f.add_argument("--calib-n", type=int, default=None)
    a = ap.parse_args(argv)
    from intake.core.errors import IntakeError

    try:
        if a.cmd == "train":
            r = cmd_train(a.packdir, a.out, a.steps, a.batch, a.lr, a.minutes)
        elif a.cmd == "merge":
            r = cmd_merge(a.out, a.parts)
        else:
            from intake.core.settings import get_settings

            data_dir = a.data_dir or Path(get_settings().data_dir)
            if a.cmd == "pack":
                r = cmd_pack(a.out, a.config, data_dir, a.workers)
            else:
                r = cmd_finish(a.trained, a.packdir, a.model, data_dir, a.eval_n, a.calib_n)
    except IntakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in r.items() if k not in ("config", "loss_curve")}, indent=1, default=str)[:4000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
