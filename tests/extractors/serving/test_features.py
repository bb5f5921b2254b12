"""Words with boxes -> model inputs and back (extractors/serving/features.py): the windows
training and inference share, the merge of their logits onto words, BIO tags."""

from __future__ import annotations

import numpy as np

from extractors.serving import DEFAULT_MODEL_DIR
from extractors.serving.features import bio_tags, encode_page, load_tokenizer, merge_windows


def test_windows_overlap_and_merge_per_word() -> None:
    tok = load_tokenizer(DEFAULT_MODEL_DIR)
    words = [f"w{i}" for i in range(300)]
    boxes = [(10.0, float(i), 30.0, i + 1.0) for i in range(300)]
    wins = encode_page(tok, words, boxes, 100.0, 400.0, labels=[i % 3 for i in range(300)], max_len=64, overlap=16)
    assert len(wins) > 3 and all(len(w) <= 64 for w in wins)
    assert all(w.input_ids[0] == tok.cls_token_id and w.input_ids[-1] == tok.sep_token_id for w in wins)  # type: ignore[attr-defined]
    seen = {wi for w in wins for wi, f in zip(w.token_word, w.first) if f}
    assert seen == set(range(300))
    # Logits that say which window and how central the token is: the merge must pick, for
    # every word, the window where its first piece is most central.
    logits = []
    for k, w in enumerate(wins):
        lg = np.zeros((len(w), 2), dtype=np.float32)
        for pos in range(len(w)):
            lg[pos] = (k, min(pos, len(w) - 1 - pos))
        logits.append(lg)
    merged = merge_windows(wins, logits, 300)
    for wi in range(300):
        best = max(min(pos, len(w) - 1 - pos) for w in wins for pos, (t, f) in enumerate(zip(w.token_word, w.first))
                   if t == wi and f)
        assert merged[wi, 1] == best
    # labels sit on first pieces only
    w0 = wins[0]
    assert all((lab == -100) == (not f) for lab, f in zip(w0.labels or [], w0.first))


def test_bio_tags_continue_a_field_across_interleaved_words() -> None:
    tags = bio_tags(["description", "amount", "description", "description", "O"], [0, 0, 0, 1, None])
    assert tags == ["B-description", "B-amount", "I-description", "B-description", "O"]
