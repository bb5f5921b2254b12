"""Dashboard figures from a known history, and the migration that holds the review UI's tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from intake.db import unit_of_work
from review_ui import work
from review_ui.dashboard import build_dashboard
from tests.intake.test_pipeline import X12_850
from tests.review_ui.conftest import ingest
from tests.review_ui.test_browser import X12_PAST

MINE = {"users", "user_sessions", "review_holds", "training_examples"}


def test_dashboard_counts_touchless_queue_time_and_field_accuracy(app: Any) -> None:
    pipe = app.state.services.pipeline
    auto = ingest(app, X12_850, "auto.edi")  # nothing wrong: approved without a person
    fixed = ingest(app, X12_PAST.replace("PO-REVIEW-1", "PO-D1"), "d1.edi")
    plain = ingest(app, X12_PAST.replace("PO-REVIEW-1", "PO-D2"), "d2.edi")
    dropped = ingest(app, X12_PAST.replace("PO-REVIEW-1", "PO-D3"), "d3.edi")
    with unit_of_work(pipe.sm) as s:
        work.save_edits(s, pipe, fixed, 1, [{"op": "set", "field": "requested_date", "value": "2031-01-01"}], "user:c")
    with unit_of_work(pipe.sm) as s:
        work.approve(s, pipe, fixed, 2, "user:c")
        work.approve(s, pipe, plain, 1, "user:c", override=True)
        work.reject(s, dropped, "user:c", "customer cancelled")
    with pipe.sm() as s:
        d = build_dashboard(s, days=7, today=date.today())
    assert d.decided == 4 and d.auto_approved == 1 and d.reviewed == 3
    assert d.touchless_overall == 0.25 and d.touchless_per_day[-1] == 0.25
    assert sum(sum(v) for v in d.per_day_channel.values()) == 4 and d.per_day_channel["upload"][-1] == 4
    assert len(d.queue_minutes) == 3 and d.queue_median_min is not None and d.queue_median_min < 5
    assert abs(d.field_accuracy["requested_date"] - 2 / 3) < 1e-9 and d.field_accuracy["po_number"] == 1.0
    (cust,) = d.customers
    assert cust["orders"] == 4 and cust["touchless"] == 0.25 and abs(cust["corrections_per_review"] - 1 / 3) < 1e-9
    for svg in d.charts.values():
        assert svg.startswith("<svg") and "<script" not in svg and "style=" not in svg
    assert auto


def test_migration_0003_matches_the_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    import intake.corrections  # noqa: F401
    import intake.users  # noqa: F401
    import review_ui.models  # noqa: F401
    from intake.db import Base, make_engine
    from intake.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert MINE <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def table_of(d: Any) -> str | None:
        d = d[0] if isinstance(d, list) else d
        for x in d[1:]:
            name = getattr(x, "name", None) if not isinstance(x, str) else None
            table = getattr(x, "table", None)
            if table is not None:
                return table.name
            if hasattr(x, "c") and name:
                return name
        return d[2] if len(d) > 2 and isinstance(d[2], str) else None

    mine = [d for d in diffs if table_of(d) in MINE]
    assert not mine, mine
