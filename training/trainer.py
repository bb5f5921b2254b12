"""The one training loop of the layout model.

The first training (:mod:`training.finetune`, also on a GPU through :mod:`training.packed`) and the
retraining from corrections (:mod:`training.retrain`) differ in what they feed the loop (shuffled
batches of the whole corpus; corrections weighted up among replayed documents, with a
distillation term) and in their schedule, not in the loop: AdamW, linear warm-up then linear
decay to zero, gradient clipping, bf16 autocast where the hardware has it, and a time budget that
shortens the plan after the first steps so the learning rate still reaches zero in time.

Both build their windows with :func:`windows_of`, which cuts pages as serving does
(:func:`extractors.serving.features.encode_page`), so the model trains on the windows it reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from extractors.serving.features import LABEL2ID, Window, collate, encode_page
from training.model import use_bf16

__all__ = ["Schedule", "TrainResult", "windows_of", "run", "trainable_parameters"]


@dataclass
class Schedule:
    """How many steps, how fast, and within what time."""

    steps: int
    lr: float
    warmup_steps: int = 1
    weight_decay: float = 0.01
    max_minutes: float | None = None  # the budget of the run, counted from ``run``'s ``t_start``
    bf16: bool | str = "auto"  # on the CPU: true, false or "auto" (native bf16 only); always on CUDA
    clip: float = 1.0
    # Steps at which the plan is fitted to the budget: the pace is measured from the first of them.
    fit_at: tuple[int, ...] = (10, 50, 200)


@dataclass
class TrainResult:
    steps: int
    losses: list[float] = field(default_factory=list)
    stopped_early: bool = False
    seconds: float = 0.0
    device: str = "cpu"

    @property
    def first_loss(self) -> float | None:
        return self.losses[0] if self.losses else None

    def final_loss(self, last: int = 20) -> float | None:
        tail = self.losses[-last:]
        return sum(tail) / len(tail) if tail else None


def windows_of(docs: Sequence[Any], tokenizer: Any, max_len: int = 512, overlap: int = 128,
               labels: Sequence[Sequence[Sequence[int]] | None] | None = None) -> list[Window]:
    """Training windows of labelled documents (``training.build_dataset.LabelledDoc``).

    Each page's label ids come from its BIO tags, or from ``labels[doc][page]`` where given
    (the retraining leaves words a correction says nothing about out of the loss).
    """
    out: list[Window] = []
    for di, d in enumerate(docs):
        for pi, p in enumerate(d.pages):
            if not p.words:
                continue
            given = labels[di] if labels is not None else None
            lab = list(given[pi]) if given is not None else [LABEL2ID.get(t, 0) for t in p.tags]
            out.extend(encode_page(tokenizer, [w.text for w in p.words], [w.box for w in p.words], p.width, p.height,
                                   labels=lab, max_len=max_len, overlap=overlap, page=pi))
    return out


def trainable_parameters(model: Any, top_layers: int = 0) -> list[Any]:
    """The parameters to train: all, or the top ``top_layers`` encoder layers and the head."""
    params = list(model.parameters())
    if top_layers <= 0:
        return params
    layers = model.layoutlm.encoder.layer
    keep = {id(p) for layer in list(layers)[-top_layers:] for p in layer.parameters()}
    keep |= {id(p) for p in model.classifier.parameters()}
    for p in params:
        p.requires_grad_(id(p) in keep)
    return [p for p in params if p.requires_grad]


def run(model: Any, batches: Iterator[Sequence[Any]], schedule: Schedule, pad_id: int, *,
        params: Sequence[Any] | None = None,
        extra_loss: Callable[[Any, Sequence[Any], dict[str, Any]], Any] | None = None,
        on_step: Callable[[int, int, float], None] | None = None,
        t_start: float | None = None, device: str | None = None) -> TrainResult:
    """Train ``model`` on ``batches`` (lists of :class:`extractors.serving.features.Window`) by ``schedule``.

    ``extra_loss(logits, batch, inputs)`` is added to the model's loss (the retraining's
    distillation). ``on_step(step, planned_total, recent_loss)`` reports progress. Runs on
    ``device`` (default CUDA when torch sees a GPU, else the CPU); the model is left on the CPU in
    eval mode.
    """
    import torch

    t_start = t_start if t_start is not None else time.time()
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    params = list(params) if params is not None else list(model.parameters())
    fused = {"fused": True} if device == "cuda" else {}
    opt = torch.optim.AdamW(params, lr=schedule.lr, weight_decay=schedule.weight_decay, **fused)
    plan = {"total": max(1, schedule.steps), "warm": max(1, schedule.warmup_steps)}

    def lr_factor(s: int) -> float:
        if s < plan["warm"]:
            return (s + 1) / plan["warm"]
        return max(0.0, (plan["total"] - s) / max(1, plan["total"] - plan["warm"]))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    bf16 = True if device == "cuda" else use_bf16(schedule.bf16)
    kind = "cuda" if device == "cuda" else "cpu"
    model.train()
    result = TrainResult(steps=0, device=device)
    pending: list[Any] = []
    ref: tuple[int, float] | None = None
    budget = schedule.max_minutes * 60 if schedule.max_minutes else None
    for batch in batches:
        inputs = {k: v.to(device, non_blocking=True) for k, v in collate(batch, pad_id).items()}
        with torch.autocast(kind, dtype=torch.bfloat16, enabled=bf16):
            out = model(**inputs)
        loss = out.loss
        if extra_loss is not None:
            loss = loss + extra_loss(out.logits.float(), batch, inputs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, schedule.clip)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        pending.append(loss.detach())
        result.steps += 1
        step = result.steps
        if len(pending) >= 20 or step >= plan["total"] or on_step is not None:
            result.losses.extend(float(x) for x in pending)  # one device sync per 20 steps on a GPU
            pending = []
        if budget and step in schedule.fit_at:
            # The first steps pay for warm-up (allocations, kernel choice on a GPU): the pace is
            # measured from the first fitting point on, and only a later one shortens the plan.
            now = time.time()
            if ref is None:
                ref = (step, now)
            else:
                per_step = (now - ref[1]) / max(1, step - ref[0])
                fit = step + int((budget - (now - t_start)) / per_step)
                if fit < plan["total"]:
                    plan["total"] = max(step + 1, fit)
        if on_step is not None:
            tail = result.losses[-10:]
            on_step(step, plan["total"], sum(tail) / len(tail) if tail else float("nan"))
        if step >= plan["total"]:
            break
        if budget and time.time() - t_start > budget:
            result.stopped_early = True
            break
    result.losses.extend(float(x) for x in pending)
    model.eval()
    model.to("cpu")
    result.seconds = time.time() - t_start
    return result
