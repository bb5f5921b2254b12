"""Retraining from corrections: ``intake train --from-corrections``.

The live model is fine-tuned on the labelled examples (corrections aligned onto their
documents, :mod:`training.learn`) plus a replay sample of synthetic documents from the training
families, so what the model knew is rehearsed while it learns the new layouts. Corrections are
weighted up: a fixed share of every batch (``correction_share``) comes from them, however few
they are.

Hold-out (``holdout_newest``, default on): for every customer with two or more labelled
examples, the newest one (creation order) is left out of the fine-tune that is judged, so the
per-customer figures measure how the candidate reads a *further* document of that customer, not
the ones it was just taught (a candidate that overfits a layout reads the next document of it
worse, and is caught). A customer with a single correction has nothing to hold out: it is scored
on that example, marked ``held_out: false`` (seen in training) in the report.

Every attempt is evaluated against the live model on

* the **frozen set**: synthetic documents of the held-out layout families, generated once from a
  fixed seed and kept under ``<data_dir>/models/frozen/`` (plus any documents with a
  ``.truth.json`` that an operator puts in ``<data_dir>/models/frozen/docs/``), and
* the **corrections of each customer**: its held-out example, or (nothing held out) its last
  ``recent_per_customer`` labelled examples,

and passes only when it is not worse on either: no frozen folder's and no customer's header F1
or line F1 may drop by more than ``tolerance`` (default 0): :mod:`training.gate`. The attempts,
in order: the fine-tuned candidate; blends of it with the general model (``fallback_merges``); a
*routed* model (:mod:`extractors.serving.router`): the candidate reads only documents whose layout matches a
corrected (trained-on) document's, the general model reads the rest. The routed model is
evaluated as it serves, document by document, and must also read some customer's corrections
better than live. With a routed live model, fine-tuning starts from its general model (the
fallback) and the new router covers all the corrections, so routes merge rather than chain.

Refit (``refit_all``, default on): when an attempt passes and something was held out, the
general model is fine-tuned again, same config and seed, on *all* the labelled examples, the same
kind of model is built from it (same blend, or routed over every corrected document) and checked
on the frozen set once more; it is promoted if not worse there, otherwise the held-out-trained
model that passed is (the report and the version's metadata say which). Every attempt's figures
are returned (and printed by the CLI). Every candidate is registered with its config, dataset
hash and metrics, promoted or not, so ``intake model promote VERSION`` can still choose it by
hand. Every setting of :class:`RetrainConfig` can be given in a JSON config (``--config``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from extractors.inference import LayoutExtractor
from extractors.registry import read_bytes
from extractors.serving.features import HEADER_FIELDS, IGNORE, LABEL2ID, LINE_FIELDS, collate, field_of
from extractors.serving.load import load_model
from extractors.serving.model_dir import (
    DEFAULT_MODEL_DIR, ROUTER_FILE, default_model_dir, fallback_dir, general_model_dir, is_routed, read_router,
    version_of)
from extractors.serving.router import Router
from intake.core.domain import OrderDraft
from intake.core.errors import ConfigError, IntakeError
from training.anchors import learn_layouts, write_layouts
from training.build_dataset import dataset_hash
from training.evaluate import Scores, evaluate_dir, score_document, truth_documents
from training.finetune import TrainConfig, build_examples
from training.gate import GateReport, corrections_better, corrections_not_worse, frozen_gate
from training.background import RetrainLock
from training.learn import LabelledExampleRow, document_of, example_of, labelled_examples, mark_used, sync_training_examples
from training.model import save_model, use_bf16
from training.registry import Registry, new_version_name
from training.report import RetrainReport
from training.router import corrected_fingerprint, write_router
from training.synth import doc_suffix, generate, heldout_families, train_families
from training.trainer import Schedule, run, trainable_parameters, windows_of

__all__ = [
    "RetrainConfig", "load_retrain_config", "frozen_dirs", "truth_fields", "correction_labels", "replay_examples", "fine_tune", "evaluate_model",
    "evaluate_examples", "build_routed", "retrain", "summary_of",
]

FROZEN_VERSION = "v1"


@dataclass
class RetrainConfig:
    """How a retraining run trains and judges (defaults: about 5 minutes in all on 2 CPU cores)."""

    steps: int = 60
    # The training budget of a run: the loop stops (with its LR decayed) within it. When a refit
    # follows (something held out, ``refit_all``), the judged fine-tune gets half and the refit
    # repeats its number of steps, so the two together stay within the budget.
    max_minutes: float = 4.0
    lr: float = 6e-5
    warmup_steps: int = 4
    batch_size: int = 8
    correction_share: float = 0.25  # of each batch, from the corrections (the weighting-up)
    replay_n: int = 60  # synthetic documents of the training families rehearsed alongside
    replay_seed: int = 77
    replay_formats: list[str] = field(default_factory=lambda: ["pdf", "pdf", "xlsx", "csv", "email"])
    frozen_n: int = 40
    frozen_seed: int = 4242
    frozen_formats: list[str] = field(default_factory=lambda: ["pdf", "pdf", "xlsx", "csv", "email"])
    recent_per_customer: int = 5
    tolerance: float = 0.0  # how much F1 on the frozen set a candidate may lose and still be promoted
    threads: int = 2
    seed: int = 13
    bf16: bool | str = "auto"  # bf16 autocast: true, false, or "auto" (only where the CPU has native bf16)
    # Train only the top N encoder layers and the classifier (0: everything). Fewer trainable
    # weights forget less of what the model knew, and a step costs less (shorter backward pass).
    train_layers: int = 0
    # Learning without forgetting: on replay windows the candidate is also pulled towards the
    # base model's own label distribution (KL divergence, this weight), which anchors what it
    # does on layouts the corrections do not show.
    distill: float = 1.0
    # Weight-space ensembling (WiSE-FT): the saved weights are base + merge * (fine-tuned - base).
    # Below 1 the candidate keeps more of the base model on everything the corrections do not show.
    merge: float = 1.0
    # When the candidate fails the gate, try these blends of it with the live model (same
    # formula as ``merge``) before giving up: the first that is not worse on the frozen set wins.
    fallback_merges: list[float] = field(default_factory=lambda: [0.5, 0.25])
    # When the blends fail too, try a routed model (extractors/serving/router.py): the candidate reads the
    # documents whose layout matches a corrected one (at least ``route_threshold`` of a corrected
    # layout's template tokens), the general model everything else. Promoted when it is not worse
    # on the frozen set, not worse for any customer and better than live for at least one.
    route: bool = True
    route_threshold: float = 0.7
    # Judge on unseen corrections: each customer's newest labelled example (when it has two or
    # more) is left out of the fine-tune that is judged, and the per-customer figures are its.
    holdout_newest: bool = True
    # When an attempt passes and something was held out: fine-tune again on every labelled
    # example (same config and seed), build the same kind of model and promote it if it is not
    # worse on the frozen set (else the held-out-trained model that passed).
    refit_all: bool = True
    # Learn each corrected layout's anchors (the caption beside or over every corrected value) and
    # read further documents of the layout by them (training/anchors.py, extractors/serving/anchors.py).
    anchors: bool = True


def load_retrain_config(path: Path | None = None, **overrides: Any) -> RetrainConfig:
    """A config from JSON (unknown keys are an error) with keyword overrides."""
    obj: dict[str, Any] = {}
    if path is not None:
        try:
            obj = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read retraining config {path}: {exc}") from exc
    obj.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(RetrainConfig)}
    bad = sorted(set(obj) - known)
    if bad:
        raise ConfigError(f"unknown retraining settings: {', '.join(bad)}")
    flags = [f.name for f in fields(RetrainConfig) if isinstance(f.default, bool)]
    wrong = sorted(k for k in flags if k in obj and not isinstance(obj[k], bool))
    if wrong:
        raise ConfigError(f"retraining settings {', '.join(wrong)} take true or false")
    cfg = RetrainConfig(**obj)
    use_bf16(cfg.bf16)  # true, false or "auto"; anything else is a one-line error
    return cfg


# --- data -------------------------------------------------------------------------------------

def frozen_dirs(data_dir: Path, cfg: RetrainConfig) -> list[Path]:
    """The frozen evaluation folders: the deterministic synthetic held-out set (generated on
    first use) and ``frozen/docs`` when it holds documents with truth."""
    root = Path(data_dir) / "models" / "frozen"
    synth = root / f"synth-{FROZEN_VERSION}-s{cfg.frozen_seed}-n{cfg.frozen_n}-{'_'.join(cfg.frozen_formats)}"
    if not (synth / ".complete").is_file():
        # Generated once, never rewritten: a fixed yardstick that every candidate is held to.
        generate(cfg.frozen_n, synth, seed=cfg.frozen_seed, formats=list(cfg.frozen_formats),
                 families=heldout_families(), progress=False)
        (synth / ".complete").write_text("frozen evaluation set: never edit\n")
    out = [synth]
    docs = root / "docs"
    if docs.is_dir() and any(p.name.endswith(".truth.json") for p in docs.iterdir()):
        out.append(docs)
    return out


def replay_examples(data_dir: Path, cfg: RetrainConfig) -> list[Any]:
    """Labelled synthetic documents of the training families (cached: read once)."""
    cache = Path(data_dir) / "cache" / "replay"
    folder = cache / f"replay-s{cfg.replay_seed}-n{cfg.replay_n}-{'_'.join(cfg.replay_formats)}"
    if not (folder / ".complete").is_file():
        generate(cfg.replay_n, folder, seed=cfg.replay_seed, formats=list(cfg.replay_formats),
                 families=train_families(), progress=False)
        (folder / ".complete").write_text("ok")
    paths = [folder / f"syn_{i:06d}{doc_suffix(cfg.replay_formats[i % len(cfg.replay_formats)])}"
             for i in range(cfg.replay_n)]
    tcfg = TrainConfig(synth_formats=list(cfg.replay_formats), use_reader=True, max_scans=0)
    import contextlib
    import io

    with contextlib.redirect_stderr(io.StringIO()):  # build_examples draws a progress bar
        return build_examples(paths, tcfg, folder.with_suffix(".examples.jsonl"))


# --- training ---------------------------------------------------------------------------------

def truth_fields(truth: dict[str, Any]) -> set[str]:
    """The fields a corrected order speaks about: header keys with a value, line keys that some
    line has. The realdocs truth schema has no requested date, bill-to or payment terms at all."""
    out = {f for f in HEADER_FIELDS if truth.get(f) not in (None, "")}
    for ln in truth.get("lines") or []:
        out |= {f for f in LINE_FIELDS if ln.get(f) not in (None, "")}
    return out


def correction_labels(base: Path, docs: Sequence[Any], truths: Sequence[dict[str, Any]]) -> list[list[list[int]]]:
    """Label ids for the corrections' words, where a correction is silent left to the model.

    A word the alignment left "O" is only known to be "O" if the corrected order covers the
    field the base model reads there, and that field's value was found somewhere in the
    document. Otherwise (a payment term the truth schema does not carry, a value the alignment
    could not find) the word is ignored by the loss instead of being taught as "O": teaching
    "not a payment term" to a model that reads payment terms well is how it would forget them.
    """
    ex = LayoutExtractor(Path(base))
    out: list[list[list[int]]] = []
    for d, t in zip(docs, truths):
        covered = truth_fields(t)
        found = {field_of(tag) for p in d.pages for tag in p.tags} - {None}
        probs = ex.word_probs(document_of(d))
        pred = [ex.id2label[int(i)] for i in probs.argmax(axis=1)] if len(probs) else []
        k = 0
        pages = []
        for p in d.pages:
            lab = []
            for tag in p.tags:
                f = field_of(pred[k]) if k < len(pred) else None
                k += 1
                if tag == "O" and f is not None and (f not in covered or f not in found):
                    lab.append(IGNORE)
                else:
                    lab.append(LABEL2ID.get(tag, 0))
            pages.append(lab)
        out.append(pages)
    return out


def fine_tune(base: Path, corrections: Sequence[Any], replay: Sequence[Any], out: Path, cfg: RetrainConfig,
              progress: Callable[[str], None] | None = None,
              truths: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Fine-tune the model at ``base`` on ``corrections`` (weighted up) and ``replay``; save it
    (with the base's calibration) under ``out`` and return its metadata. With the corrections'
    ``truths``, words a correction says nothing about are left out of the loss
    (:func:`correction_labels`)."""
    import torch

    if not corrections:
        raise ConfigError("no corrections to learn from: record some with `intake learn` or the review UI")
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    t0 = time.time()
    clabels = correction_labels(Path(base), corrections, truths) if truths is not None else None
    loaded = load_model(Path(base), quantized=False)
    base_meta = dict(loaded.meta)
    max_len, overlap = int(base_meta.get("max_len", 512)), int(base_meta.get("overlap", 128))
    model, tok = loaded.model, loaded.tokenizer
    cw = windows_of(corrections, tok, max_len, overlap, clabels)
    rw = windows_of(replay, tok, max_len, overlap)
    if not cw:
        raise ConfigError("the corrections hold no words to learn from")
    n_c = max(1, round(cfg.batch_size * cfg.correction_share)) if rw else cfg.batch_size
    n_r = cfg.batch_size - n_c
    rng = random.Random(cfg.seed)
    pools = {"c": (cw, []), "r": (rw, [])}

    def draw(key: str, k: int) -> list[Any]:
        # Cycle through a shuffled pool so every window is seen before any repeats.
        src, queue = pools[key]
        got = []
        while len(got) < k and src:
            if not queue:
                queue.extend(rng.sample(range(len(src)), len(src)))
            got.append(src[queue.pop()])
        return got

    params = trainable_parameters(model, cfg.train_layers)
    base_state = {k: v.detach().clone() for k, v in model.state_dict().items()} if cfg.merge < 1.0 else None
    teacher: dict[int, Any] = {}
    if cfg.distill > 0 and rw:
        # The base model's logits on every replay window, once, before any weight moves.
        model.eval()
        with torch.no_grad():
            for s in range(0, len(rw), 8):
                chunk = rw[s:s + 8]
                lg = model(**collate(chunk, tok.pad_token_id, with_labels=False)).logits.float()
                for j, w in enumerate(chunk):
                    teacher[id(w)] = lg[j, :len(w)].clone()

    def batches() -> Any:
        while True:
            yield draw("c", n_c) + draw("r", n_r)

    def distill(logits: Any, batch: Sequence[Any], inputs: dict[str, Any]) -> Any:
        if not teacher or not any(id(w) in teacher for w in batch):
            return logits.new_zeros(())
        return cfg.distill * _distill_loss(logits, batch, teacher, inputs["labels"])

    def on_step(step: int, planned: int, loss: float) -> None:
        if progress and (step % 10 == 0 or step == planned):
            progress(f"step {step}/{planned} loss {loss:.4f}")

    schedule = Schedule(steps=max(1, cfg.steps), lr=cfg.lr, warmup_steps=max(1, cfg.warmup_steps),
                        max_minutes=cfg.max_minutes, bf16=cfg.bf16, fit_at=(2, 6, 12))
    res = run(model, batches(), schedule, tok.pad_token_id, params=params, extra_loss=distill, on_step=on_step,
              t_start=t0)
    step, losses = res.steps, res.losses
    model.eval()
    if base_state is not None:
        with torch.no_grad():
            for k, v in model.state_dict().items():
                if v.is_floating_point():
                    v.copy_(base_state[k] + cfg.merge * (v - base_state[k]))
    meta = {k: base_meta[k] for k in ("encoder", "max_len", "overlap") if k in base_meta}
    meta.update({
        "version": out.name, "parent": base_meta.get("version", Path(base).name), "kind": "retrain",
        "retrain_config": asdict(cfg), "config": base_meta.get("config"),
        "dataset_hash": dataset_hash(list(corrections) + list(replay)),
        "corrections": len(corrections), "replay_documents": len(replay), "correction_windows": len(cw),
        "replay_windows": len(rw), "steps": step, "first_loss": losses[0] if losses else None,
        "final_loss": (sum(losses[-10:]) / len(losses[-10:])) if losses else None,
        "train_seconds": round(time.time() - t0, 1),
        "trained_on_files": sorted(set(base_meta.get("trained_on_files") or []) | {d.name for d in corrections}),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    layouts: list[dict[str, Any]] = []
    if truths is not None and cfg.anchors:
        # Where each corrected value sits, named by its caption: read by the anchors on further
        # documents of the layout (extractors/serving/anchors.py).
        layouts = learn_layouts(corrections, truths, cfg.route_threshold)
    meta["learned_layouts"] = [{"documents": [fp.get("name") for fp in lay["fingerprints"]],
                                "fields": sorted(lay["anchors"]), "single_item": lay["single_item"]}
                               for lay in layouts]
    save_model(model, Path(base), out, meta)
    write_layouts(out, layouts)
    cal = Path(base) / "calibration.json"
    if cal.is_file():
        # A short fine-tune barely moves the logits' scale: keep the base's calibration.
        shutil.copyfile(cal, out / "calibration.json")
    return meta


def _distill_loss(logits: Any, batch: Sequence[Any], teacher: dict[int, Any], labels: Any) -> Any:
    """Mean KL(teacher || student) over the scored tokens (first pieces) of the replay rows."""
    import torch
    import torch.nn.functional as F

    total = logits.new_zeros(())
    n = 0
    for i, w in enumerate(batch):
        t = teacher.get(id(w))
        if t is None:
            continue
        t = t.to(logits.device)
        k = t.shape[0]
        mask = labels[i, :k] != -100
        if not bool(mask.any()):
            continue
        log_s = F.log_softmax(logits[i, :k][mask], dim=-1)
        p_t = F.softmax(t[mask], dim=-1)
        total = total + (p_t * (torch.log(p_t + 1e-9) - log_s)).sum(-1).sum()
        n += int(mask.sum())
    return total / max(1, n)


# --- evaluation -------------------------------------------------------------------------------

def summary_of(metrics: dict[str, Any]) -> dict[str, Any]:
    """The figures that matter from ``Scores.metrics()``."""
    return {"documents": metrics["documents"], "header_f1": round(metrics["header"]["f1"], 4),
            "line_f1": round(metrics["lines"]["f1"], 4),
            "lines_right": metrics["lines"]["right"], "lines_truth": metrics["lines"]["truth"],
            "fields": {k: round(v["f1"], 4) for k, v in metrics.get("fields", {}).items()}}


def _model_key(model_dir: Path) -> str:
    h = hashlib.sha256()
    with open(Path(model_dir) / "model.safetensors", "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    cal = Path(model_dir) / "calibration.json"
    if cal.is_file():
        h.update(cal.read_bytes())
    meta = Path(model_dir) / "intake_model.json"
    if meta.is_file():
        m = json.loads(meta.read_text())
        h.update(f"{m.get('max_len')}:{m.get('overlap')}".encode())
    if is_routed(model_dir):
        # A routed model's figures are its router's and both halves'.
        h.update((Path(model_dir) / ROUTER_FILE).read_bytes())
        h.update(_model_key(fallback_dir(Path(model_dir))).encode())
    # The figures also depend on the code that turns word labels into an order: a cached score
    # from older assembly code is not a fair yardstick.
    root = Path(__file__).resolve().parent.parent
    for rel in ("extractors/assemble.py", "extractors/normalize.py", "extractors/inference.py",
                "training/evaluate.py", "extractors/serving/features.py", "extractors/serving/router.py",
                "extractors/serving/anchors.py", "extractors/serving/model_dir.py"):
        p = root / rel
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()[:24]


def evaluate_model(model_dir: Path, folders: Sequence[Path], cache: Path | None = None) -> dict[str, Any]:
    """Summaries per frozen folder for the model at ``model_dir`` (cached by the weights' hash).
    A routed model is evaluated as it serves: each document read by the half it is routed to."""
    key = _model_key(model_dir)
    store: dict[str, Any] = {}
    if cache is not None and cache.is_file():
        try:
            store = json.loads(cache.read_text())
        except ValueError:
            store = {}
    out: dict[str, Any] = {}
    ex = None
    for f in folders:
        ck = f"{key}:{f.name}"
        if ck in store and f.name.startswith("synth-"):  # operator docs may change: always re-score
            out[f.name] = store[ck]
            continue
        ex = ex or LayoutExtractor(Path(model_dir))
        out[f.name] = summary_of(evaluate_dir(f, ex.extract).metrics())
        store[ck] = out[f.name]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(store, indent=1, sort_keys=True))
    return out


def evaluate_examples(model_dir: Path, examples: Sequence[Any], truths: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Extraction scores of a model on labelled examples' words against their truths."""
    ex = LayoutExtractor(Path(model_dir))
    scores = Scores()
    for d, t in zip(examples, truths):
        try:
            draft = ex.extract(document_of(d))
        except IntakeError:
            draft = OrderDraft()
        score_document(draft, t, scores, d.name)
    return summary_of(scores.metrics())


def build_routed(specialist: Path, out: Path, fingerprints: Sequence[dict[str, Any]], threshold: float,
                 fallback: Path, fallback_version: str) -> Path:
    """A routed model directory at ``out``: the ``specialist`` model's files, its metadata marked
    ``kind: routed``, and ``router.json`` (the corrected documents' fingerprints, the threshold,
    the fallback model)."""
    shutil.copytree(specialist, out, dirs_exist_ok=True)
    router = write_router(out, fingerprints, threshold, fallback, fallback_version)
    m = json.loads((out / "intake_model.json").read_text())
    m.update({"version": out.name, "kind": "routed",
              "router": {"threshold": threshold, "fallback": router["fallback"],
                         "corrected_documents": len(router["fingerprints"]),
                         "layouts": len(Router(router["fingerprints"], threshold).layouts)}})
    (out / "intake_model.json").write_text(json.dumps(m, indent=2, sort_keys=True, default=str))
    return out


def _fallback_for(base: Path, reg: Any) -> tuple[Path, str]:
    """The general model as a routed model's fallback, by a registry version where possible (the
    packaged model is registered for it, as the baseline would be)."""
    base = Path(base)
    if base.resolve() == DEFAULT_MODEL_DIR.resolve():
        v = _has(reg, DEFAULT_MODEL_DIR) or reg.add(DEFAULT_MODEL_DIR, "base-" + version_of(DEFAULT_MODEL_DIR).replace("/", "_"))
        return reg.path(str(v)), str(v)
    if base.parent.resolve() == reg.versions_dir.resolve():
        return base, base.name
    return base, version_of(base)


def _count_routed(model_dir: Path, folders: Sequence[Path]) -> dict[str, int]:
    """Per frozen folder: how many of its documents the routed model sends to the specialist."""
    spec = read_router(model_dir)
    r = Router(spec["fingerprints"], float(spec["threshold"]))
    out: dict[str, int] = {}
    for f in folders:
        n = 0
        for p in truth_documents(f):
            try:
                docs = [d for d in read_bytes(p.read_bytes(), p.name) if d.pages and d.words]
            except IntakeError:
                continue
            n += any(r.to_specialist(d) for d in docs)
        out[f.name] = n
    return out


# --- the whole run ----------------------------------------------------------------------------

def _new_version() -> str:
    return new_version_name("r") + "-" + uuid.uuid4().hex[:4]


def retrain(settings: Any, cfg: RetrainConfig | None = None, *, promote: bool = True,
            log: Callable[[str], None] | None = None) -> RetrainReport:
    """Fine-tune the general model on the labelled examples, judge it and promote it if not worse.

    Each customer's newest example is held out of the fine-tune that is judged when it has two
    or more (``holdout_newest``). Attempts, in order, each judged against the live model (as it
    serves: a routed live model routes) on the frozen set and on every customer's corrections
    (held out where there are): the fine-tuned candidate; its blends with the general model
    (``fallback_merges``); a routed model (the candidate for the corrected layouts, the general
    model for the rest), which must also read some customer's corrections better than live. The
    first that is not worse on either passes. When something was held out, the same kind of
    model is then refit on every labelled example (``refit_all``) and promoted if it is still not
    worse on the frozen set; otherwise the held-out-trained model that passed is promoted. With a
    routed live model, "the general model" is its fallback: the new candidate learns from the
    corrections afresh and its router covers all of them.

    Returns a :class:`training.report.RetrainReport`: version, promoted (bool), routed (bool),
    reasons, the frozen-set figures of live and the chosen model, every attempt's figures, the per-customer figures (live and
    candidate, with which examples they were scored on and whether those were held out), the
    held-out examples, the refit (or None), and timings. Raises ``ConfigError`` when there are
    no corrections.
    """
    from intake.service.db import make_engine, make_sessionmaker, unit_of_work
    from intake.service.migrate import upgrade

    cfg = cfg or RetrainConfig()
    say = log or (lambda _m: None)
    t0 = time.time()
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    upgrade(engine)
    sm = make_sessionmaker(engine)
    with unit_of_work(sm) as s:
        synced = sync_training_examples(s, settings)
        rows = labelled_examples(s)  # oldest first
        examples = [example_of(r) for r in rows]
        truths = [dict(r.truth) for r in rows]
        ids = [r.id for r in rows]
        files = [r.filename or "" for r in rows]
        customers = [r.customer_id or "(no customer)" for r in rows]
    if not examples:
        raise ConfigError("no corrections to learn from: record some with `intake learn FILE TRUTH.json` or the review UI")
    say(f"{len(examples)} labelled example(s) ({synced} new from the review UI)")
    by_c: dict[str, list[int]] = {}
    for i, c in enumerate(customers):
        by_c.setdefault(c, []).append(i)
    # Each customer's newest example is kept out of the judged fine-tune when it has another one;
    # a customer with a single correction is scored on it (seen in training).
    held_c = {c: bool(cfg.holdout_newest and len(idx) >= 2) for c, idx in by_c.items()}
    judged = {c: (idx[-1:] if held_c[c] else idx[-max(1, cfg.recent_per_customer):]) for c, idx in by_c.items()}
    held = sorted(judged[c][0] for c in by_c if held_c[c])
    train_idx = [i for i in range(len(examples)) if i not in set(held)]
    if held:
        say(f"held out of the judged fine-tune: {len(held)} example(s), each customer's newest "
            f"({', '.join(f'{customers[i]}: {files[i] or ids[i]}' for i in held)}); trained on {len(train_idx)}")
    live = default_model_dir(settings)
    if not (live / "model.safetensors").is_file():
        raise ConfigError(f"no live model at {live} to fine-tune: train one with `intake train`")
    base = general_model_dir(live)  # what the candidate starts from and falls back to
    reg = Registry(Path(settings.registry_dir))
    replay = replay_examples(data_dir, cfg)
    say(f"replay: {len(replay)} synthetic document(s); fine-tuning {base.name}"
        + (f" (the general model of the routed {live.name})" if base != live else ""))
    version = _new_version()
    out = data_dir / "cache" / "runs" / version
    judged_cfg = replace(cfg, max_minutes=cfg.max_minutes / 2) if held and cfg.refit_all else cfg
    meta = fine_tune(base, [examples[i] for i in train_idx], replay, out, judged_cfg, progress=say,
                     truths=[truths[i] for i in train_idx])
    judged_steps = int(meta["steps"])
    t_train = time.time() - t0
    say(f"trained in {t_train:.0f} s; evaluating candidate and live model")
    folders = frozen_dirs(data_dir, cfg)
    cache = data_dir / "models" / "frozen" / "scores.json"
    live_frozen = evaluate_model(live, folders, cache)

    def on_corrections(model: Path) -> dict[str, Any]:
        return {c: evaluate_examples(model, [examples[i] for i in idx], [truths[i] for i in idx])
                for c, idx in judged.items()}

    live_recent = on_corrections(live)

    def judge(name: str, model: Path, **extra: Any) -> dict[str, Any]:
        """An attempt's figures, and whether it is not worse than live on the frozen set and for
        every customer."""
        fz = evaluate_model(model, folders, cache)
        rc = on_corrections(model)
        g = frozen_gate(live_frozen, fz, cfg.tolerance) + corrections_not_worse(live_recent, rc, cfg.tolerance, held_c)
        return {"attempt": name, "frozen": fz, "recent_corrections": rc, "passed": g.passed,
                "reasons": g.reasons, "gate": g, **extra}

    not_worse = "not worse on the frozen set nor on any customer's corrections"
    attempts: list[dict[str, Any]] = [judge("candidate", out)]
    say(f"candidate: {not_worse if attempts[0]['passed'] else '; '.join(attempts[0]['reasons'])}")
    chosen: dict[str, Any] | None = attempts[0] if attempts[0]["passed"] else None
    tried: list[dict[str, Any]] = []
    for alpha in ([] if chosen else cfg.fallback_merges):
        blend = out.with_name(out.name + f"-m{int(alpha * 100)}")
        blend_models(base, out, blend, alpha)
        b = judge(f"blend {alpha:.2f}", blend, merge=alpha)
        attempts.append(b)
        tried.append({"merge": alpha, "frozen": b["frozen"], "passed": b["passed"], "reasons": b["reasons"]})
        say(f"blend {alpha:.2f} of the candidate: {not_worse if b['passed'] else '; '.join(b['reasons'])}")
        if b["passed"]:
            shutil.rmtree(out, ignore_errors=True)
            os.replace(blend, out)
            meta = json.loads((out / "intake_model.json").read_text())
            chosen = b
            break
        shutil.rmtree(blend, ignore_errors=True)
    routed = False
    fb_dir, fb_version = base, version_of(base)
    if chosen is None and cfg.route:
        rdir = out.with_name(out.name + "-routed")
        fb_dir, fb_version = _fallback_for(base, reg)
        # The router covers the documents trained on: a held-out one is routed only if its
        # layout matches one of them, as a customer's next document would be.
        build_routed(out, rdir, [corrected_fingerprint(examples[i]) for i in train_idx], cfg.route_threshold,
                     fb_dir, fb_version)
        to_spec = _count_routed(rdir, folders)
        r = judge("routed", rdir, fallback=fb_version, threshold=cfg.route_threshold,
                  frozen_documents_to_specialist=to_spec)
        g = r["gate"] + corrections_better(live_recent, r["recent_corrections"])
        r["passed"], r["reasons"], r["gate"] = g.passed, g.reasons, g
        attempts.append(r)
        say(f"routed (candidate for the corrected layouts, {fb_version} for the rest; "
            f"{sum(to_spec.values())} frozen document(s) routed to the candidate): "
            + (not_worse + ", better on some customer's" if r["passed"] else "; ".join(r["reasons"])))
        if r["passed"]:
            shutil.rmtree(out, ignore_errors=True)
            os.replace(rdir, out)
            meta = json.loads((out / "intake_model.json").read_text())
            chosen, routed = r, True
        else:
            shutil.rmtree(rdir, ignore_errors=True)
    ok = chosen is not None
    why = [] if ok else [f"{a['attempt']}: {w}" for a in attempts for w in a["reasons"]]
    cand_frozen = (chosen or attempts[0])["frozen"]
    cand_recent = (chosen or attempts[0])["recent_corrections"]

    refit: dict[str, Any] | None = None
    t_refit = 0.0
    if chosen is not None and held and cfg.refit_all:
        # The attempt passed on corrections it had not seen; the model that serves should know
        # them all. Same base, config and seed, same kind of model; the frozen set checks it again.
        t1 = time.time()
        say(f"refit: fine-tuning {base.name} again on all {len(examples)} correction(s), the held-out ones included")
        final = out.with_name(out.name + "-refit")
        fine_tune(base, examples, replay, final, replace(cfg, steps=judged_steps, max_minutes=0), progress=say,
                  truths=truths)
        if routed:
            raw, final = final, final.with_name(final.name + "-routed")
            build_routed(raw, final, [corrected_fingerprint(e) for e in examples], cfg.route_threshold,
                         fb_dir, fb_version)
            shutil.rmtree(raw, ignore_errors=True)
        elif chosen.get("merge") is not None:
            raw, final = final, final.with_name(final.name + f"-m{int(chosen['merge'] * 100)}")
            blend_models(base, raw, final, chosen["merge"])
            shutil.rmtree(raw, ignore_errors=True)
        rf = evaluate_model(final, folders, cache)
        rg = frozen_gate(live_frozen, rf, cfg.tolerance)
        f_ok, f_why = rg.passed, rg.reasons
        refit = {"of": chosen["attempt"], "corrections": len(examples), "frozen": rf, "passed": f_ok,
                 "reasons": f_why, "refit_on_all_corrections": f_ok, "gate": rg.to_json()}
        if routed:
            refit["frozen_documents_to_specialist"] = _count_routed(final, folders)
        if f_ok:
            shutil.rmtree(out, ignore_errors=True)
            os.replace(final, out)
            meta = json.loads((out / "intake_model.json").read_text())
            cand_frozen = rf
        else:
            shutil.rmtree(final, ignore_errors=True)
            refit["note"] = (f"the refit is worse on the frozen set: the {chosen['attempt']} trained without the "
                             f"{len(held)} held-out correction(s) is kept")
        t_refit = time.time() - t1
        refit["seconds"] = round(t_refit, 1)
        say(f"refit ({t_refit:.0f} s): "
            + ("not worse on the frozen set" if f_ok else refit["note"] + ": " + "; ".join(f_why)))
    all_in = not held or bool(refit and refit["passed"])
    held_info = {"enabled": cfg.holdout_newest, "count": len(held),
                 "examples": [{"id": ids[i], "file": files[i], "customer": customers[i]} for i in held],
                 "trained_on_all_corrections": all_in}
    per_customer = {c: {"live": live_recent[c], "candidate": cand_recent[c], "held_out": held_c[c],
                        "examples": [{"id": ids[i], "file": files[i]} for i in judged[c]]} for c in by_c}
    for a in attempts:  # each attempt's gate report, as JSON from here on
        a["gate"] = a["gate"].to_json() if isinstance(a.get("gate"), GateReport) else a.get("gate")
    meta["fallback_merges_tried"] = tried
    meta["attempts"] = attempts
    meta["metrics_frozen"] = cand_frozen
    meta["metrics_frozen_live"] = {"version": version_of(live), "figures": live_frozen}
    meta["metrics_recent_corrections"] = per_customer
    meta["holdout"] = held_info
    meta["refit"] = refit
    meta["gate"] = {"promoted": bool(ok and promote), "passed": ok, "reasons": why, "tolerance": cfg.tolerance,
                    "routed": routed, "refit_on_all_corrections": bool(refit and refit["passed"])}
    (out / "intake_model.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    if ok and promote and live.resolve() == DEFAULT_MODEL_DIR.resolve():
        ensure_baseline(reg)
    reg.add(out, version)
    if ok and promote:
        how = (f"; refit on all {len(examples)} corrections" if refit and refit["passed"] else
               f"; trained without the {len(held)} held-out correction(s) (the refit was worse on the frozen set)"
               if refit else "")
        reg.promote(version, reason=f"retrained on {meta['corrections']} correction(s); not worse on the frozen set "
                    "nor on any customer's corrections" + how
                    + ("; routed: the candidate reads the corrected layouts" if routed else ""))
    with unit_of_work(sm) as s:
        mark_used(s, [r for r in (s.get(LabelledExampleRow, i) for i in ids) if r is not None], version)
    engine.dispose()
    shutil.rmtree(out, ignore_errors=True)  # the registry holds its copy
    return RetrainReport(
        version=version, promoted=bool(ok and promote), passed=ok, routed=routed, reasons=why,
        base=version_of(live), general=version_of(base), corrections=len(examples),
        trained_on=meta["corrections"], held_out=held_info,
        frozen={"live": live_frozen, "candidate": cand_frozen}, recent_corrections=per_customer,
        attempts=attempts, refit=refit, train_seconds=round(t_train, 1), refit_seconds=round(t_refit, 1),
        total_seconds=round(time.time() - t0, 1), steps=meta["steps"], final_loss=meta["final_loss"],
        merge=meta.get("merge", 1.0), fallback_merges_tried=tried)


def blend_models(base: Path, tuned: Path, out: Path, alpha: float) -> Path:
    """Save ``base + alpha * (tuned - base)`` (weights only; config, tokenizer, calibration and
    metadata from ``tuned``) under ``out``."""
    from safetensors.torch import load_file, save_file

    b = load_file(str(Path(base) / "model.safetensors"))
    t = load_file(str(Path(tuned) / "model.safetensors"))
    if set(b) != set(t):
        raise ConfigError(f"cannot blend {tuned.name} with {Path(base).name}: different weights")
    mixed = {k: (b[k].float() + alpha * (t[k].float() - b[k].float())).to(t[k].dtype) if t[k].is_floating_point()
             else t[k] for k in t}
    shutil.copytree(tuned, out, dirs_exist_ok=True)
    save_file(mixed, str(out / "model.safetensors"), metadata={"format": "pt"})
    m = json.loads((out / "intake_model.json").read_text())
    m.update({"version": out.name, "merge": alpha})
    (out / "intake_model.json").write_text(json.dumps(m, indent=2, sort_keys=True, default=str))
    return out


def ensure_baseline(reg: Any) -> str | None:
    """With nothing live yet, register and promote the packaged model, so that the first
    promotion of another version has a previous one to roll back to. Returns the live version."""
    if reg.live() is not None or not (DEFAULT_MODEL_DIR / "model.safetensors").is_file():
        return reg.live()
    bv = _has(reg, DEFAULT_MODEL_DIR) or reg.add(DEFAULT_MODEL_DIR, "base-" + version_of(DEFAULT_MODEL_DIR).replace("/", "_"))
    reg.promote(str(bv), reason="baseline: the packaged model, before the first other version")
    return str(bv)


def _has(reg: Any, model_dir: Path) -> str | None:
    name = "base-" + version_of(model_dir).replace("/", "_")
    return name if (reg.versions_dir / name / "model.safetensors").is_file() else None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m training.retrain``: what the background learner runs in its own process."""
    import argparse
    import sys

    from intake.core.settings import get_settings

    settings = get_settings()
    ap = argparse.ArgumentParser(prog="python -m training.retrain")
    # default: INTAKE_RETRAIN_CONFIG (settings.retrain_config), how `intake serve`'s learner is tuned
    ap.add_argument("--config", type=Path, default=settings.retrain_config)
    ap.add_argument("--no-promote", action="store_true")
    a = ap.parse_args(argv)
    lock = RetrainLock(settings.registry_dir)
    if not lock.acquire():
        sys.stderr.write("error: another retraining is running for this data directory\n")
        return 3
    try:
        rep = retrain(settings, load_retrain_config(a.config), promote=not a.no_promote,
                      log=lambda m: sys.stderr.write(m + "\n"))
    except IntakeError as exc:
        sys.stderr.write("error: " + exc.reason + "\n")
        return 2
    finally:
        lock.release()
    sys.stdout.write(json.dumps(rep.to_json(), default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
