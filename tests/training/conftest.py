"""Fixtures shared by the training tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from intake.core.settings import Settings, get_settings

    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("INTAKE_MODEL_DIR", raising=False)
    monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    s = Settings(data_dir=tmp_path / "data")
    s.data_dir.mkdir(parents=True)
    yield s
    get_settings.cache_clear()
