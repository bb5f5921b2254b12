"""Words with boxes -> model inputs: BIO label maps, box normalisation, tokenisation and
sliding windows, and the merge of window outputs back onto words.

Serving owns these functions and training imports them (:func:`training.trainer.windows_of`
builds the training windows with :func:`encode_page`), so the model sees the same tokens,
boxes and windows in both.

A page is tokenised once (every word split into word pieces, at most ``MAX_PIECES`` per word);
the token sequence is cut into windows of ``max_len`` tokens (``[CLS]`` + pieces + ``[SEP]``)
that overlap by ``overlap`` tokens. A word is scored by its first piece, taken from the window
where that piece sits closest to the window's centre, so every word gets the context on both
sides that the overlap allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = [
    "HEADER_FIELDS", "LINE_FIELDS", "FIELDS", "BIO_LABELS", "LABEL2ID", "ID2LABEL", "MAX_PIECES",
    "IGNORE", "Window", "load_tokenizer", "normalize_box", "bio_tags", "field_of", "encode_page",
    "windows_from_pieces", "merge_windows", "collate",
]

HEADER_FIELDS: tuple[str, ...] = (
    "po_number", "order_date", "requested_date", "buyer", "supplier", "ship_to", "bill_to",
    "currency", "payment_terms", "total",
)
LINE_FIELDS: tuple[str, ...] = ("line_no", "sku", "description", "quantity", "uom", "unit_price", "amount")
FIELDS: tuple[str, ...] = HEADER_FIELDS + LINE_FIELDS
BIO_LABELS: tuple[str, ...] = ("O", *(f"{p}-{f}" for f in FIELDS for p in ("B", "I")))
LABEL2ID: dict[str, int] = {lab: i for i, lab in enumerate(BIO_LABELS)}
ID2LABEL: dict[int, str] = dict(enumerate(BIO_LABELS))
MAX_PIECES = 12  # a 60-character URL must not eat a window: its first pieces say enough
IGNORE = -100  # torch's CrossEntropyLoss ignore_index


def field_of(label: str) -> str | None:
    """``"B-po_number"`` -> ``"po_number"``; ``"O"`` -> None."""
    return None if label == "O" else label[2:]


def bio_tags(fields: Sequence[str], instances: Sequence[Any]) -> list[str]:
    """BIO tags for words given their field (or ``"O"``) and an instance key per word.

    A word is ``B-`` when it is the first word (in reading order) of its (field, instance)
    and ``I-`` for every later word of it, even when other words come between: a wrapped
    description's second row is ``I-`` although the first row's prices sit between them.
    The instance is a line index for line fields and a block id for header fields.
    """
    out: list[str] = []
    seen: set[tuple[str, Any]] = set()
    for f, inst in zip(fields, instances):
        if f == "O" or not f:
            out.append("O")
            continue
        key = (f, inst)
        out.append(("I-" if key in seen else "B-") + f)
        seen.add(key)
    return out


def load_tokenizer(encoder_dir: Path) -> Any:
    """A fast word-piece tokenizer from ``encoder_dir/tokenizer.json`` (no network access)."""
    from transformers import PreTrainedTokenizerFast

    from intake.core.errors import ConfigError

    tj = Path(encoder_dir) / "tokenizer.json"
    if not tj.is_file():
        raise ConfigError(f"tokenizer.json not found in {encoder_dir}")
    return PreTrainedTokenizerFast(
        tokenizer_file=str(tj), unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
        cls_token="[CLS]", mask_token="[MASK]", model_max_length=512,
    )


def normalize_box(box: Sequence[float], width: float, height: float) -> list[int]:
    """A page box scaled to the 0..1000 grid that LayoutLM's box embeddings index."""
    w = width if width and width > 0 else 1.0
    h = height if height and height > 0 else 1.0
    x0, y0, x1, y1 = box
    vals = [x0 / w, y0 / h, x1 / w, y1 / h]
    out = [int(round(min(max(v, 0.0), 1.0) * 1000)) for v in vals]
    if out[2] < out[0]:
        out[0], out[2] = out[2], out[0]
    if out[3] < out[1]:
        out[1], out[3] = out[3], out[1]
    return out


@dataclass
class Window:
    """One model input: token ids, boxes and, per token, the word it belongs to."""

    input_ids: list[int]
    bbox: list[list[int]]
    token_word: list[int]  # word index per token, -1 for [CLS]/[SEP]
    first: list[bool]  # token is the first piece of its word
    labels: list[int] | None = None  # per token: label id at first pieces, IGNORE elsewhere
    page: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.input_ids)


def _pieces(tokenizer: Any, words: Sequence[str]) -> list[list[int]]:
    """Word-piece ids per word (batched through the fast tokenizer)."""
    if not words:
        return []
    enc = tokenizer([w if w.strip() else "[UNK]" for w in words], add_special_tokens=False)["input_ids"]
    out = []
    for ids in enc:
        ids = list(ids)[:MAX_PIECES] or [tokenizer.unk_token_id]
        out.append(ids)
    return out


def encode_page(
    tokenizer: Any,
    words: Sequence[str],
    boxes: Sequence[Sequence[float]],
    width: float,
    height: float,
    labels: Sequence[int] | None = None,
    max_len: int = 512,
    overlap: int = 128,
    page: int = 0,
) -> list[Window]:
    """Tokenise one page and cut it into overlapping windows.

    ``labels`` (label ids per word) are put on each word's first piece; other pieces get
    ``IGNORE`` so the loss counts each word once, as inference reads each word once.
    """
    if max_len < 16:
        raise ValueError("max_len must be at least 16")
    pieces = _pieces(tokenizer, words)
    boxes_n = [normalize_box(b, width, height) for b in boxes]
    return windows_from_pieces(pieces, boxes_n, tokenizer.cls_token_id, tokenizer.sep_token_id, labels=labels,
                               max_len=max_len, overlap=overlap, page=page)


def windows_from_pieces(
    pieces: Sequence[Sequence[int]],
    boxes: Sequence[Sequence[int]],
    cls_id: int,
    sep_id: int,
    labels: Sequence[int] | None = None,
    max_len: int = 512,
    overlap: int = 128,
    page: int = 0,
) -> list[Window]:
    """Cut a tokenised page (word-piece ids per word, boxes on the 0..1000 grid) into windows.

    The second half of :func:`encode_page`, apart so that a page tokenised once (or packed for
    training on another machine, ``training.packed``) gives the same windows.
    """
    if max_len < 16:
        raise ValueError("max_len must be at least 16")
    overlap = max(0, min(overlap, (max_len - 2) // 2))
    ids: list[int] = []
    tw: list[int] = []
    first: list[bool] = []
    bx: list[list[int]] = []
    for wi, (p, nb) in enumerate(zip(pieces, boxes)):
        nb = list(nb)
        for k, t in enumerate(p):
            ids.append(int(t))
            tw.append(wi)
            first.append(k == 0)
            bx.append(nb)
    body = max_len - 2
    step = body - overlap
    windows: list[Window] = []
    start = 0
    n = len(ids)
    while True:
        end = min(n, start + body)
        w_ids = [cls_id, *ids[start:end], sep_id]
        w_box = [[0, 0, 0, 0], *bx[start:end], [1000, 1000, 1000, 1000]]
        w_tw = [-1, *tw[start:end], -1]
        w_first = [False, *first[start:end], False]
        w_lab = None
        if labels is not None:
            w_lab = [IGNORE] + [int(labels[tw[i]]) if first[i] else IGNORE for i in range(start, end)] + [IGNORE]
        windows.append(Window(w_ids, w_box, w_tw, w_first, w_lab, page=page, meta={"start": start}))
        if end >= n:
            break
        start += step
    return windows


def merge_windows(windows: Sequence[Window], logits: Sequence[np.ndarray], n_words: int) -> np.ndarray:
    """Per-word logits from the windows' per-token logits.

    Each word takes its first piece's logits from the window where that piece is most central
    (largest distance to the window's nearer edge). Words that no window holds get zeros, which
    after softmax is the uniform distribution: the least confident answer.
    """
    if not windows:
        return np.zeros((n_words, 0), dtype=np.float32)
    n_labels = int(logits[0].shape[-1])
    out = np.zeros((n_words, n_labels), dtype=np.float32)
    best = np.full(n_words, -1, dtype=np.int64)
    for win, lg in zip(windows, logits):
        n = len(win)
        for pos in range(n):
            wi = win.token_word[pos]
            if wi < 0 or not win.first[pos]:
                continue
            centrality = min(pos, n - 1 - pos)
            if centrality > best[wi]:
                best[wi] = centrality
                out[wi] = lg[pos]
    return out


def collate(batch: Sequence[Window], pad_id: int = 0, with_labels: bool = True) -> dict[str, Any]:
    """Pad windows to the longest in the batch; returns torch tensors."""
    import torch

    n = max(len(w) for w in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    box = torch.zeros((len(batch), n, 4), dtype=torch.long)
    att = torch.zeros((len(batch), n), dtype=torch.long)
    lab = torch.full((len(batch), n), IGNORE, dtype=torch.long)
    for i, w in enumerate(batch):
        k = len(w)
        ids[i, :k] = torch.tensor(w.input_ids, dtype=torch.long)
        box[i, :k] = torch.tensor(w.bbox, dtype=torch.long)
        att[i, :k] = 1
        if with_labels and w.labels is not None:
            lab[i, :k] = torch.tensor(w.labels, dtype=torch.long)
    out: dict[str, Any] = {"input_ids": ids, "bbox": box, "attention_mask": att}
    if with_labels:
        out["labels"] = lab
    return out
