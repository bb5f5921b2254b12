"""The one training loop: it learns, its learning rate ends at zero, extra losses and layer choice apply."""

from __future__ import annotations

import random

import pytest


def _tiny_model():
    from transformers import LayoutLMConfig, LayoutLMForTokenClassification

    cfg = LayoutLMConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64, num_labels=3)
    return LayoutLMForTokenClassification(cfg)


def _windows(n: int = 16):
    from extractors.serving.features import windows_from_pieces

    rng = random.Random(0)
    out = []
    for _ in range(n):
        words = [[rng.randrange(5, 64)] for _ in range(12)]
        boxes = [[i * 40, 100, i * 40 + 30, 120] for i in range(12)]
        labels = [1 if w[0] % 2 else 2 for w in words]  # a rule the model can learn from the token alone
        out += windows_from_pieces(words, boxes, 1, 2, labels=labels, max_len=32, overlap=4)
    return out


def _batches(windows, k=4):
    while True:
        for i in range(0, len(windows), k):
            yield windows[i:i + k]


def test_the_loop_learns_and_ends_with_the_learning_rate_at_zero() -> None:
    import torch

    from training.trainer import Schedule, run

    torch.manual_seed(0)
    model = _tiny_model()
    seen = []
    res = run(model, _batches(_windows()), Schedule(steps=60, lr=3e-3, warmup_steps=5, bf16=False), 0,
              on_step=lambda s, total, loss: seen.append(total))
    assert res.steps == 60 and not res.stopped_early and res.device == "cpu"
    assert sum(res.losses[-5:]) / 5 < 0.5 * sum(res.losses[:5]) / 5
    assert seen[-1] == 60 and not model.training


def test_extra_loss_is_added_and_only_the_chosen_layers_train() -> None:
    import torch

    from training.trainer import Schedule, run, trainable_parameters

    torch.manual_seed(0)
    model = _tiny_model()
    frozen = {k: v.clone() for k, v in model.named_parameters() if ".layer.0." in k}
    params = trainable_parameters(model, top_layers=1)
    calls = []

    def extra(logits, batch, inputs):
        calls.append(len(batch))
        return logits.new_tensor(10.0)

    res = run(model, _batches(_windows()), Schedule(steps=5, lr=1e-3, bf16=False), 0, params=params, extra_loss=extra)
    assert calls == [4] * 5 and min(res.losses) >= 10.0
    for k, v in model.named_parameters():
        if k in frozen:
            assert torch.equal(v, frozen[k]), k


def test_a_time_budget_shortens_the_plan_after_measuring_the_pace() -> None:
    import time

    from training.trainer import Schedule, run

    model = _tiny_model()
    planned = []

    def slow(windows):
        for b in _batches(windows):
            time.sleep(0.05)
            yield b

    run(model, slow(_windows()), Schedule(steps=10_000, lr=1e-3, bf16=False, max_minutes=3 / 60, fit_at=(1, 3)), 0,
        on_step=lambda s, total, loss: planned.append(total))
    # measured from step 1 to 3 (a step takes at least 0.05 s), a 3 s budget holds well under
    # a thousand steps: the plan, and with it the learning-rate decay, is shortened to fit
    assert planned[0] == 10_000 and planned[-1] < 1000
