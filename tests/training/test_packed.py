"""Training on another machine: the packed pages give the same windows, the weights travel whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.packed import SHARD_BYTES, join_shards, load_pages, pack_encoder, pack_pages, unpack_encoder, write_shards


def _docs(tmp_path: Path) -> list:
    from training.build_dataset import from_synth
    from training.synth import generate, train_families

    paths = generate(4, tmp_path / "c", seed=5, formats=["free", "pdf", "xlsx", "email"], families=train_families(),
                     progress=False)
    return [from_synth(p) for p in paths]


def test_packed_pages_give_the_windows_encode_page_gives(tmp_path: Path) -> None:
    from extractors.serving.features import LABEL2ID, encode_page, load_tokenizer
    from training.model import resolve_encoder

    tok = load_tokenizer(resolve_encoder("all-MiniLM-L6-v2")[0])
    docs = _docs(tmp_path)
    stats = pack_pages(docs, tok, tmp_path / "pages.npz")
    assert stats["words"] == sum(len(p.words) for d in docs for p in d.pages)
    want = []
    for d in docs:
        for p in d.pages:
            want += encode_page(tok, [w.text for w in p.words], [w.box for w in p.words], p.width, p.height,
                                labels=[LABEL2ID.get(t, 0) for t in p.tags], max_len=128, overlap=32)
    got = load_pages(tmp_path / "pages.npz", tok.cls_token_id, tok.sep_token_id, 128, 32)
    assert len(got) == len(want) > len(docs)
    for a, b in zip(got, want):
        assert a.input_ids == b.input_ids and a.bbox == b.bbox and a.labels == b.labels


def test_weights_travel_in_shards_under_the_limit_and_join_exactly(tmp_path: Path) -> None:
    import torch

    from extractors.serving.features import ID2LABEL
    from training.model import build_model

    model, _, _ = build_model("all-MiniLM-L6-v2", ID2LABEL)
    paths = write_shards(model, tmp_path / "out")
    assert len(paths) >= 3 and all(p.stat().st_size <= SHARD_BYTES + 65536 for p in paths)
    joined = join_shards(tmp_path / "out")
    for k, v in model.state_dict().items():
        if k.endswith("position_ids"):
            continue
        assert torch.equal(joined[k], v.to(torch.float16)), k


def test_encoder_rows_rounded_to_int8_stay_within_half_a_step(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    from training.model import resolve_encoder

    folder = resolve_encoder("all-MiniLM-L6-v2")[0]
    pack_encoder(folder, tmp_path / "enc.npz")
    assert (tmp_path / "enc.npz").stat().st_size < (folder / "model.safetensors").stat().st_size / 3
    out = unpack_encoder(tmp_path / "enc.npz", tmp_path / "enc", folder / "config.json", folder / "tokenizer.json")
    a, b = load_file(str(folder / "model.safetensors")), load_file(str(out / "model.safetensors"))
    for k, v in a.items():
        if k.endswith("position_ids"):
            continue
        v = v.astype(np.float32)
        if v.ndim == 2:
            step = np.abs(v).max(axis=1, keepdims=True) / 127.0
            assert np.all(np.abs(b[k] - v) <= step / 2 + 1e-7), k
        else:
            assert np.allclose(b[k], v, atol=1e-2, rtol=1e-3), k


def test_merged_packs_hold_the_pages_of_both(tmp_path: Path) -> None:
    import json

    from extractors.serving.features import load_tokenizer
    from training.model import resolve_encoder
    from training.packed import cmd_merge

    folder = resolve_encoder("all-MiniLM-L6-v2")[0]
    tok = load_tokenizer(folder)
    docs = _docs(tmp_path)
    counts = []
    for k, part in enumerate((docs[:2], docs[2:])):
        d = tmp_path / f"p{k}"
        d.mkdir()
        stats = pack_pages(part, tok, d / "pages.npz")
        counts.append(stats)
        (d / "pack.json").write_text(json.dumps({"config": {"name": f"p{k}"}, "dataset_hash": str(k), "formats": ["pdf"],
                                                 "train_documents": len(part), **stats}))
        for name in ("encoder.npz", "encoder_config.json", "tokenizer.json"):
            (d / name).write_bytes(b"x")
    info = cmd_merge(tmp_path / "m", [tmp_path / "p0", tmp_path / "p1"])
    assert info["words"] == sum(c["words"] for c in counts) and [p["config"]["name"] for p in info["parts"]] == ["p0", "p1"]
    merged = load_pages(tmp_path / "m" / "pages.npz", tok.cls_token_id, tok.sep_token_id, 128, 32)
    apart = sum((load_pages(tmp_path / f"p{k}" / "pages.npz", tok.cls_token_id, tok.sep_token_id, 128, 32)
                 for k in (0, 1)), [])
    assert [w.input_ids for w in merged] == [w.input_ids for w in apart]
