"""Migration 0008 on SQLite and PostgreSQL: the tables match the models, keys made before it keep
every right they had, messages start with no attempts, and it downgrades cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

import connectors.models  # noqa: F401  (every table on the metadata)
import intake.service.masters  # noqa: F401
import intake.service.users  # noqa: F401
from intake.service import ledger
from intake.service.db import Base
from intake.service.migrate import alembic_config, upgrade
from tests.intake.dbutil import database_url

NEW = {"messages": {"from_addr", "sender_verified", "sender_auth", "trusted_partner", "attempts", "lease_until",
                    "lease_owner"},
       "api_keys": {"scopes", "partner"}}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database_url(request.param, tmp_path) as url:
        eng = create_engine(url)
        yield eng
        eng.dispose()


def _to(engine: Engine, revision: str, *, down: bool = False) -> None:
    if not down:
        upgrade(engine, revision)
        return
    with engine.connect() as conn:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


def test_0008_keeps_old_keys_working_and_matches_the_models(engine: Engine) -> None:
    _to(engine, "0007")
    with engine.begin() as c:
        c.execute(text("INSERT INTO api_keys (name, prefix, key_hash, created_at) "
                       "VALUES ('erp', 'oik_old', :h, CURRENT_TIMESTAMP)"), {"h": ledger._hash_key("oik_old-key")})
        c.execute(text("INSERT INTO messages (id, sha256, size, channel, status, received_at, duplicate_hits) "
                       "VALUES ('m1', :s, 3, 'imap', 'RECEIVED', CURRENT_TIMESTAMP, 0)"), {"s": "a" * 64})
    _to(engine, "head")
    cols = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in NEW}
    assert all(NEW[t] <= cols[t] for t in NEW), cols
    with engine.connect() as c:
        assert c.execute(text("SELECT scopes, partner FROM api_keys")).one() == ("read,ingest,review,admin", None)
        row = c.execute(text("SELECT attempts, sender_verified, lease_until, trusted_partner FROM messages")).one()
        assert (row[0], bool(row[1]), row[2], row[3]) == (0, False, None, None)
        diffs = compare_metadata(MigrationContext.configure(c), Base.metadata)
    ours = [d for d in diffs if any(t in repr(d) for t in NEW)]
    assert not ours, ours
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        k = ledger.verify_api_key(s, "oik_old-key")
        assert k is not None and ledger.parse_scopes(k.scopes) == ledger.SCOPES  # nothing it could do is lost
    _to(engine, "0007", down=True)
    cols = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in NEW}
    assert not any(NEW[t] & cols[t] for t in NEW)
