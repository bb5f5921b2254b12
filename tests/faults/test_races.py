"""Two readers of one message at once (an upload answered with ``wait`` and a worker sent by the
sweep): exactly one set of orders, on SQLite and on PostgreSQL. The kill -9 test found this race."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from intake.service.db import make_engine, make_sessionmaker
from intake.core.domain import Channel
from intake.service.migrate import upgrade
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.intake.dbutil import database_url
from tests.scale.harness import x12_order


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_concurrent_reads_of_one_message_make_one_order(kind: str, tmp_path: Path) -> None:
    with database_url(kind, tmp_path) as url:
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        engine = make_engine(url)
        upgrade(engine)
        pipe = Pipeline(settings, make_sessionmaker(engine))
        for rnd in range(5):
            mid = pipe.ingest(x12_order(f"PO-RACE{rnd}", rnd + 1), filename="r.edi", channel=Channel.upload).message_id
            start = threading.Barrier(4)
            results: list[list[str]] = []
            errors: list[BaseException] = []

            def read() -> None:
                start.wait()
                try:
                    results.append(pipe.read_message(mid))
                except BaseException as exc:  # a loser may see a database conflict: it is resumed later
                    errors.append(exc)

            threads = [threading.Thread(target=read) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            with pipe.sm() as s:
                from intake.service import ledger

                ids = ledger.message_order_ids(s, mid)
            assert len(ids) == 1, f"round {rnd}: {len(ids)} orders for one message"
            assert results and all(r == ids for r in results), (results, errors)
        engine.dispose()
