"""Real order documents (../shared/realdocs): every file is read or refused with a named
error, and for every PDF with a truth file the PO number and every line's sku, quantity and
unit price appear among the words. Also the committed read_* fixtures, word for word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors.registry import read_bytes
from intake.core.domain import DocumentKind
from intake.core.errors import ReadError
from intake.core.settings import Limits
from tests.conftest import FIXTURES, need_realdocs
from tests.extractors.truthcheck import missing_values

# OCR at a lower resolution and one language keeps the scanned pages within the test budget
FAST = Limits(ocr_dpi=150, ocr_languages="eng")
SKIP_SUFFIXES = (".json", ".md", ".tsv")


def _realdoc_files() -> list[Path]:
    root = need_realdocs()
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith(SKIP_SUFFIXES))


@pytest.mark.realdocs
def test_every_realdoc_is_read_or_refused_with_a_named_error() -> None:
    refused: dict[str, str] = {}
    read = 0
    for path in _realdoc_files():
        try:
            docs = read_bytes(path.read_bytes(), filename=path.name, limits=FAST)
        except ReadError as exc:
            refused[path.name] = f"{type(exc).__name__}: {exc}"
            continue
        read += 1
        assert docs, path
        top = path.relative_to(need_realdocs()).parts[0]
        if top == "pdf":
            assert docs[0].kind in (DocumentKind.pdf, DocumentKind.scan), path
        elif top == "sheets":
            assert docs[0].kind in (DocumentKind.xlsx, DocumentKind.csv), path
        elif top == "edi_x12":
            assert docs[0].kind == DocumentKind.x12, path
        elif top == "edifact":
            assert docs[0].kind == DocumentKind.edifact, path
    # only a scanned Hebrew page may come out empty (no Hebrew OCR model): nothing else
    assert set(refused) <= {"he_itelplast_order.pdf"}, refused
    assert read >= 85


def _truth_pdfs() -> list[Path]:
    root = need_realdocs()
    return sorted(p for p in (root / "pdf").rglob("*.pdf") if Path(f"{p}.truth.json").exists())


@pytest.mark.realdocs
def test_realdoc_pdf_truth_values_appear_among_words() -> None:
    failures: dict[str, list[str]] = {}
    checked = 0
    for path in _truth_pdfs():
        truth = json.loads(Path(f"{path}.truth.json").read_text(encoding="utf-8"))
        docs = read_bytes(path.read_bytes(), filename=path.name, limits=FAST)
        missing = missing_values(docs[0], truth)
        checked += 1
        if missing:
            failures[path.name] = missing
    assert checked >= 20
    assert not failures, failures


@pytest.mark.parametrize("case", sorted(p.name for p in FIXTURES.glob("read_*") if p.is_dir()))
def test_committed_read_fixtures(case: str) -> None:
    folder = FIXTURES / case
    [inp] = [p for p in folder.iterdir() if p.name.startswith("input.")]
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    docs = read_bytes(inp.read_bytes(), filename=inp.name)
    got = [{"kind": d.kind.value, "pages": len(d.pages), "words": [w.text for w in d.words]} for d in docs]
    assert got == expected["documents"]
