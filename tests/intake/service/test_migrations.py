"""Every ORM table is made by the migrations: the schema that ``alembic upgrade head`` builds
on SQLite equals the metadata of every module that maps tables (intake, connectors, review_ui,
training), so no table or column exists only in a model."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, Table, create_engine

from intake.service.db import Base
from intake.service.migrate import upgrade

ROOT = Path(__file__).resolve().parents[3]
TABLE_MODULES = ("intake.service.models", "intake.service.masters", "intake.service.users",
                 "intake.service.corrections", "connectors.models", "review_ui.models", "training.learn")


def _diff(tmp_path: Path) -> list[object]:
    for m in TABLE_MODULES:
        importlib.import_module(m)
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"render_as_batch": True}), Base.metadata))


def test_every_module_that_maps_a_table_is_listed() -> None:
    mapping = {".".join(p.relative_to(ROOT).with_suffix("").parts)
               for pkg in ("intake", "connectors", "review_ui", "training", "extractors")
               for p in (ROOT / pkg).rglob("*.py")
               if "__tablename__" in p.read_text(encoding="utf-8") and "migrations" not in p.parts}
    assert mapping == set(TABLE_MODULES)


def test_the_migrated_schema_is_the_orm_metadata(tmp_path: Path) -> None:
    assert _diff(tmp_path) == []


def test_a_table_without_a_migration_is_seen(tmp_path: Path) -> None:
    probe = Table("probe_without_migration", Base.metadata, Column("id", Integer, primary_key=True))
    try:
        diff = _diff(tmp_path)
        assert [d[0] for d in diff] == ["add_table"] and diff[0][1].name == "probe_without_migration"  # type: ignore[index]
    finally:
        Base.metadata.remove(probe)
