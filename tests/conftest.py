"""Shared test fixtures. Paths are built from this file, never from the working directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "orders"
REALDOCS = Path(os.environ.get("INTAKE_REALDOCS", ROOT.parent / "shared" / "realdocs"))
PEER_OFFICE = Path(os.environ.get("INTAKE_PEER_OFFICE", ROOT.parent / "shared" / "peer-office"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def need_realdocs() -> Path:
    """Skip the calling test with a clear reason when ../shared/realdocs is absent."""
    if not REALDOCS.is_dir():
        pytest.skip(f"real documents not found at {REALDOCS} (../shared/realdocs is only on development machines)")
    return REALDOCS


def need_peer_office() -> Path:
    if not PEER_OFFICE.is_dir():
        pytest.skip(f"peer-office corpus not found at {PEER_OFFICE}")
    return PEER_OFFICE


@pytest.fixture
def realdocs() -> Path:
    return need_realdocs()


@pytest.fixture
def peer_office() -> Path:
    return need_peer_office()
