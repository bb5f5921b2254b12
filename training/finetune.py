"""Fine-tune the layout model: ``intake train [--config training/configs/NAME.json]``.

Reproducible: the seed is set first; the config, the dataset hash and the metrics are stored
with the model. The synthetic corpus is generated on the fly into a cache under the data
directory (unless ``synth_dir`` names one); the labelled examples in ``<data_dir>/labelled``
(CSR corrections) are added to the training set. Documents of held-out layout families are
never trained on. After training, the temperature and the isotonic confidence maps are fit on
calibration documents (training families, a different seed: documents the model never saw),
and the model is saved in fp16.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Sequence

from extractors.inference import LayoutExtractor
from extractors.serving.calibration import Calibration
from extractors.serving.features import ID2LABEL, LABEL2ID
from intake.core.errors import ConfigError, IntakeError
from training.build_dataset import (
    LabelledDoc, as_document, dataset_hash, from_synth, from_truth_file, load_labelled_dir)
from training.calibrate import expected_calibration_error, fit_isotonic, fit_temperature, write_calibration
from training.evaluate import Scores, evaluate_dir, score_document, truth_documents
from training.model import build_model, resolve_encoder, save_model, use_bf16
from training.synth import doc_suffix, generate, heldout_families, train_families
from training.trainer import Schedule, run, windows_of

__all__ = ["TrainConfig", "load_config", "set_seed", "build_examples", "fit", "train", "calibrate_model", "main"]


@dataclass
class TrainConfig:
    """Training settings (JSON files in ``training/configs``)."""

    name: str = "default"
    seed: int = 13
    encoder: str = "all-MiniLM-L6-v2"
    max_len: int = 512
    overlap: int = 128
    synth_n: int = 2000  # synthetic training documents
    synth_seed: int = 1
    synth_formats: list[str] = field(default_factory=lambda: ["pdf", "pdf", "xlsx", "csv", "email", "scan"])
    synth_dir: str | None = None  # an existing corpus instead of generating one
    # formats of the held-out-family evaluation corpus (default: synth_formats). Kept apart so a
    # training mix with free layouts is still measured on the same held-out documents as before.
    eval_formats: list[str] | None = None
    use_reader: bool = True  # words from the production readers (OCR for scans) rather than the label files
    max_scans: int = 200  # OCR is slow: cap the scanned documents read for training
    calib_n: int = 150  # calibration documents (training families, another seed)
    eval_n: int = 200  # held-out-family documents for the report
    epochs: float = 2.0
    max_steps: int | None = None
    max_minutes: float | None = None  # stop training (not calibration) after this long
    batch_size: int = 8
    lr: float = 1e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    bf16: bool | str = "auto"  # bf16 autocast: true, false, or "auto" (only where the CPU has native bf16)
    threads: int = 2
    use_labelled: bool = True  # add <data_dir>/labelled/*.labelled.json
    # Real documents with truth to train on, as CSR corrections would be (folders relative to the
    # repository root; a folder that is absent is skipped). Files whose issuer prefix (the name
    # before the first "_") is in truth_holdout_issuers are never trained on, so they still
    # measure documents from unseen issuers; every file trained on is listed in the model's
    # metadata and `intake eval --skip-trained` leaves them out.
    truth_dirs: list[str] = field(default_factory=list)
    truth_holdout_issuers: list[str] = field(default_factory=list)
    truth_repeat: int = 1  # a real document counts this many times (a few real ones among thousands)
    quantized_eval: bool = True
    init_from: str | None = None  # continue from a saved model directory instead of the bare encoder


def load_config(path: Path | None) -> TrainConfig:
    """A config from JSON (unknown keys are an error, so a typo does not pass silently)."""
    if path is None:
        return TrainConfig()
    try:
        obj = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read training config {path}: {exc}") from exc
    known = {f.name for f in fields(TrainConfig)}
    bad = sorted(set(obj) - known)
    if bad:
        raise ConfigError(f"unknown keys in {path}: {', '.join(bad)}")
    cfg = TrainConfig(**obj)
    use_bf16(cfg.bf16)  # a bad value is a one-line error now, not after the corpus is built
    return cfg


def set_seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def formats_key(formats: Sequence[str]) -> str:
    """A short, stable name for a list of formats (cache folder and file names)."""
    import hashlib

    key = "_".join(formats)
    return key if len(key) <= 60 else "mix" + hashlib.sha256(key.encode()).hexdigest()[:12]


def _synth_corpus(cfg: TrainConfig, cache: Path, n: int, seed: int, families: list[str], tag: str) -> list[Path]:
    """Generate (or reuse) a synthetic corpus in the cache."""
    key = f"{tag}-n{n}-s{seed}-{formats_key(cfg.synth_formats)}"
    folder = cache / key
    done = folder / ".complete"
    if done.is_file():
        return [folder / f"syn_{i:06d}{doc_suffix(cfg.synth_formats[i % len(cfg.synth_formats)])}" for i in range(n)]
    paths = generate(n, folder, seed=seed, formats=list(cfg.synth_formats), families=families, progress=True)
    done.write_text("ok")
    return paths


def _read_one(args: tuple[Path, bool]) -> Any:
    """One synthetic document read by the production readers (a worker process's job)."""
    p, use_reader = args
    try:
        d = from_synth(p, use_reader=use_reader)
    except IntakeError:
        return None  # a document the reader refuses teaches nothing; the readers' tests cover it
    d.name = p.name
    return d.to_json()


def build_examples(paths: Sequence[Path], cfg: TrainConfig, cache_file: Path | None = None,
                   workers: int = 1) -> list[Any]:
    """LabelledDocs for synthetic documents, cached as JSON lines (reading with OCR is slow).

    ``workers`` > 1 reads in that many processes (the order of the result stays that of ``paths``).
    """
    from tqdm import tqdm

    cached: dict[str, Any] = {}
    if cache_file is not None and cache_file.is_file():
        for line in cache_file.read_text().splitlines():
            obj = json.loads(line)
            cached[obj["name"]] = obj
    todo: list[Path] = []
    scans = 0
    for p in paths:
        is_scan = p.name.endswith(".scan.pdf")
        if p.name in cached:
            scans += int(is_scan and cfg.use_reader)  # cached scans count toward the cap
            continue
        if is_scan and cfg.use_reader:
            if scans >= cfg.max_scans:
                continue
            scans += 1
        todo.append(p)
    fh = open(cache_file, "a") if cache_file is not None else None
    try:
        jobs = [(p, cfg.use_reader) for p in todo]

        def keep(results: Any) -> None:
            for obj in tqdm(results, total=len(jobs), desc="dataset", unit="doc"):
                if obj is None:
                    continue
                cached[obj["name"]] = obj
                if fh is not None:  # as each arrives: an interrupted build resumes from here
                    fh.write(json.dumps(obj) + "\n")
                    fh.flush()

        if workers > 1 and len(jobs) > 1:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(workers) as pool:
                keep(pool.imap(_read_one, jobs, chunksize=4))
        else:
            keep(_read_one(j) for j in jobs)
    finally:
        if fh is not None:
            fh.close()
    return [LabelledDoc.from_json(cached[p.name]) for p in paths if p.name in cached]


def _truth_examples(cfg: TrainConfig) -> list[Any]:
    """Labelled examples from real documents with truth (``cfg.truth_dirs``), minus held-out issuers."""
    root = Path(__file__).resolve().parent.parent
    out = []
    held = {h.lower() for h in cfg.truth_holdout_issuers}
    for d in cfg.truth_dirs:
        folder = (root / d).resolve()
        if not folder.is_dir():
            continue
        for p in truth_documents(folder):
            if p.name.split("_", 1)[0].lower() in held:
                continue
            try:
                ex = from_truth_file(p)
            except (IntakeError, ValueError, KeyError):
                continue  # a truth file that does not fit its document teaches nothing
            if ex is not None:
                ex.name = p.name
                out.append(ex)
    return out


def _batches(windows: list[Any], batch_size: int, rng: random.Random) -> list[list[Any]]:
    """Shuffled batches of windows of similar length (little padding)."""
    idx = list(range(len(windows)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    batches = []
    for s in range(0, len(idx), chunk):
        part = sorted(idx[s:s + chunk], key=lambda i: len(windows[i]))
        batches.extend([[windows[i] for i in part[k:k + batch_size]] for k in range(0, len(part), batch_size)])
    rng.shuffle(batches)
    return batches


def train(cfg: TrainConfig, out: Path, data_dir: Path, progress: bool = True) -> dict[str, Any]:
    """Train, calibrate, evaluate and save a model under ``out``; returns its metadata."""
    import torch
    from tqdm import tqdm

    set_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    t_start = time.time()
    cache = data_dir / "cache" / "synth"
    cache.mkdir(parents=True, exist_ok=True)
    if cfg.synth_dir:
        paths = [p for p in truth_documents(Path(cfg.synth_dir)) if Path(f"{p}.labels.json").is_file()]
        paths = [p for p in paths if not json.loads(Path(f"{p}.labels.json").read_text()).get("heldout")]
        ex_cache = None
    else:
        paths = _synth_corpus(cfg, cache, cfg.synth_n, cfg.synth_seed, train_families(), "train")
        ex_cache = cache / f"examples-train-n{cfg.synth_n}-s{cfg.synth_seed}-r{int(cfg.use_reader)}-{formats_key(cfg.synth_formats)}.jsonl"
    docs = build_examples(paths, cfg, ex_cache)
    docs = [d for d in docs if not d.meta.get("heldout")]
    if cfg.use_labelled:
        docs.extend(load_labelled_dir(data_dir / "labelled"))
    real = _truth_examples(cfg)
    for _ in range(max(1, cfg.truth_repeat)):
        docs.extend(real)
    if not docs:
        raise ConfigError("no training examples: the synthetic corpus is empty and no labelled examples exist")
    dhash = dataset_hash(docs)

    model, tok, missing = build_model(cfg.encoder, ID2LABEL)
    if cfg.init_from:
        from safetensors.torch import load_file

        base = Path(cfg.init_from)
        if not base.is_absolute():
            base = Path(__file__).resolve().parent.parent / base
        try:
            state = {k: v.float() for k, v in load_file(str(base / "model.safetensors")).items()}
        except OSError as exc:
            raise ConfigError(f"cannot continue from {base}: {exc}") from exc
        res = model.load_state_dict(state, strict=False)
        missing = [k for k in res.missing_keys if not k.endswith("position_ids")]
    windows = windows_of(docs, tok, cfg.max_len, cfg.overlap)
    step, losses, stopped_early = fit(model, windows, cfg, tok.pad_token_id, t_start, progress=progress)
    model.eval()
    train_seconds = time.time() - t_start
    folder, _ = resolve_encoder(cfg.encoder)
    meta: dict[str, Any] = {
        "version": out.name, "encoder": cfg.encoder, "max_len": cfg.max_len, "overlap": cfg.overlap,
        "config": asdict(cfg), "dataset_hash": dhash, "train_documents": len(docs), "train_windows": len(windows),
        "steps": step, "epochs_done": step / max(1, math.ceil(len(windows) / cfg.batch_size)), "first_loss": losses[0] if losses else None,
        "final_loss": (sum(losses[-20:]) / len(losses[-20:])) if losses else None, "train_seconds": round(train_seconds, 1),
        "missing_keys_at_init": missing, "stopped_early": stopped_early,
        "trained_on_files": sorted({d.name for d in real}),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    save_model(model, folder, out, meta)
    if cfg.calib_n > 0:
        cal_paths = _synth_corpus(cfg, cache, cfg.calib_n, cfg.synth_seed + 1000, train_families(), "calib")
        cal_metrics = calibrate_model(out, cal_paths, cfg)
        meta["calibration"] = cal_metrics
    if cfg.eval_n > 0:
        ecfg = replace(cfg, synth_formats=list(cfg.eval_formats or cfg.synth_formats))
        ev_paths = _synth_corpus(ecfg, cache, cfg.eval_n, cfg.synth_seed + 2000, heldout_families(), "heldout")
        ex = LayoutExtractor(out, quantized=cfg.quantized_eval)
        scores = evaluate_dir(ev_paths[0].parent, ex.extract, progress=progress)
        meta["metrics_heldout_families"] = scores.metrics()
    (out / "intake_model.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    return meta



def fit(model: Any, windows: list[Any], cfg: TrainConfig, pad_id: int, t_start: float | None = None,
        progress: bool = True, device: str | None = None) -> tuple[int, list[float], bool]:
    """Train on ``windows`` by ``cfg`` (:func:`training.trainer.run` over shuffled, length-bucketed
    batches, epoch after epoch). Returns ``(steps, losses, stopped_early)``."""
    from tqdm import tqdm

    steps_per_epoch = math.ceil(len(windows) / cfg.batch_size)
    total = cfg.max_steps or max(1, int(steps_per_epoch * cfg.epochs))
    schedule = Schedule(steps=total, lr=cfg.lr, warmup_steps=max(1, int(total * cfg.warmup_ratio)),
                        weight_decay=cfg.weight_decay, max_minutes=cfg.max_minutes, bf16=cfg.bf16)
    rng = random.Random(cfg.seed)

    def batches() -> Any:
        while True:
            yield from _batches(windows, cfg.batch_size, rng)

    bar = tqdm(total=total, desc=f"train {cfg.name}", unit="step") if progress else None

    def on_step(step: int, planned: int, loss: float) -> None:
        assert bar is not None
        bar.total = planned
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}")

    res = run(model, batches(), schedule, pad_id, on_step=on_step if bar is not None else None, t_start=t_start,
              device=device)
    if bar is not None:
        bar.close()
    return res.steps, res.losses, res.stopped_early


def calibrate_model(model_dir: Path, paths: Sequence[Path], cfg: TrainConfig) -> dict[str, Any]:
    """Fit the temperature on token logits and isotonic maps on span correctness; write calibration.json."""
    import numpy as np

    ex = LayoutExtractor(model_dir, quantized=cfg.quantized_eval)
    all_logits, all_labels = [], []
    docs = []
    for p in paths:
        if p.name.endswith(".scan.pdf") and cfg.use_reader:
            continue  # OCR is slow; the temperature is a property of the model, not the reader
        d = from_synth(p, use_reader=cfg.use_reader)
        docs.append((p, d))
        doc = as_document(d)
        for lg, pg in zip(ex.page_logits(doc), d.pages):
            all_logits.append(lg)
            all_labels.extend(LABEL2ID.get(t, 0) for t in pg.tags)
    logits = np.concatenate(all_logits) if all_logits else np.zeros((0, len(LABEL2ID)))
    temp = fit_temperature(logits, np.asarray(all_labels, dtype=np.int64))
    ex.calibration = Calibration(temperature=temp)
    scores = Scores()
    for p, d in docs:
        truth = json.loads(Path(f"{p}.truth.json").read_text())
        score_document(ex.extract(as_document(d)), truth, scores, p.name)
    maps = {}
    for kind in ("field", "line"):
        c = [(s, r) for s, r, k in scores.conf if k == kind]
        maps[kind] = fit_isotonic([s for s, _ in c], [r for _, r in c])
    cal = Calibration(temperature=temp, maps=maps)
    write_calibration(cal, model_dir)
    raw = [(s, r) for s, r, _ in scores.conf]
    calibrated = [(cal(k, s), r) for s, r, k in scores.conf]
    return {"temperature": temp, "documents": len(docs),
            "ece_before": expected_calibration_error([s for s, _ in raw], [r for _, r in raw]),
            "ece_after_on_fit_set": expected_calibration_error([s for s, _ in calibrated], [r for _, r in calibrated])}


def main(config: Path | None = None, out: Path | None = None, data_dir: Path | None = None,
         register: bool = True) -> dict[str, Any]:
    """Train by a config; the model goes to ``out`` or into the registry as a new version
    (not promoted: promotion is the evaluation gate's job)."""
    from intake.core.settings import get_settings
    from training.registry import Registry, new_version_name

    cfg = load_config(config)
    settings = get_settings()
    data_dir = Path(data_dir or settings.data_dir)
    reg = Registry(settings.registry_dir)
    if out is None:
        version = new_version_name()
        tmp_out = data_dir / "cache" / "runs" / version
        meta = train(cfg, tmp_out, data_dir)
        if register:
            # Registered, not promoted: a model goes live only through the evaluation gate
            # (Registry.promote), so a CI smoke run never replaces the model in service.
            reg.add(tmp_out, version)
        meta["registered_version"] = version
        return meta
    return train(cfg, Path(out), data_dir)
