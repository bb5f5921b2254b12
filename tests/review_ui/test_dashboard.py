"""Dashboard figures from a known history, and the migration that holds the review UI's tables."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from intake.service.db import unit_of_work
from review_ui import work
from review_ui.dashboard import build_dashboard
from tests.intake.service.test_pipeline import X12_850
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
    # accuracy is measured on the two orders a person approved: the rejected one checked nothing
    assert d.approved_by_person == 2
    assert d.field_accuracy["requested_date"] == 0.5 and d.field_accuracy["po_number"] == 1.0
    (cust,) = d.customers
    assert cust["orders"] == 4 and cust["touchless"] == 0.25 and cust["corrections_per_review"] == 0.5
    for svg in d.charts.values():
        assert svg.startswith("<svg") and "<script" not in svg and "style=" not in svg
    assert auto


def test_migration_0003_matches_the_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    import intake.service.corrections  # noqa: F401
    import intake.service.users  # noqa: F401
    import review_ui.models  # noqa: F401
    from intake.service.db import Base, make_engine
    from intake.service.migrate import upgrade

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


def test_confirmed_and_derived_values_are_no_corrections_and_a_rejection_is_no_perfect_review(app: Any) -> None:
    """Confirming a product as matched, or an amount that follows its quantity, is no misread;
    an order that was only rejected says nothing about field accuracy."""
    from intake.service.models import OrderEventRow
    from sqlalchemy import select

    pipe = app.state.services.pipeline
    confirmed = ingest(app, X12_PAST.replace("PO-REVIEW-1", "PO-C1"), "c1.edi")
    rejected = ingest(app, X12_PAST.replace("PO-REVIEW-1", "PO-C2"), "c2.edi")
    with unit_of_work(pipe.sm) as s:
        # the product as matched, confirmed by a person: recorded (it teaches), but not a misread
        row, _ev, changes = work.save_edits(s, pipe, confirmed, 1, [{"op": "set", "line": 0, "field": "sku",
                                                                     "value": "HX-1420"}], "user:c")
        assert [c.data["op"] for c in changes] == ["confirm_match"]
    with unit_of_work(pipe.sm) as s:
        work.approve(s, pipe, confirmed, 2, "user:c", override=True)
        work.reject(s, rejected, "user:c", "sent twice")
    with pipe.sm() as s:
        kinds = [e.data["op"] for e in s.scalars(select(OrderEventRow).where(OrderEventRow.kind == "correction"))]
        assert kinds == ["confirm_match"]
        d = build_dashboard(s, days=7, today=date.today())
    assert d.reviewed == 2 and d.approved_by_person == 1
    assert all(v == 1.0 for v in d.field_accuracy.values()), d.field_accuracy
    (cust,) = d.customers
    assert cust["corrections_per_review"] == 0.0


def test_a_day_at_zero_percent_touchless_draws_a_zero_mark() -> None:
    from review_ui.dashboard import bar_chart_svg

    svg = bar_chart_svg(["11-01", "11-02", "11-03"], [None, 0.0, 50.0], title="t", vmax=100, fmt="{:.0f}%",
                        mark_zero=True)
    assert svg.count('class="zero"') == 1  # 11-02: decided, none touchless; 11-01: no decisions, no mark
    assert ">0%</text>" in svg and ">100%</text>" in svg and ">50%</text>" in svg  # the axis has its scale
    empty = bar_chart_svg(["11-01"], [None], title="t", vmax=100, fmt="{:.0f}%")
    assert 'class="zero"' not in empty and "no data yet" in empty
    counts = bar_chart_svg(["a", "b"], [0.0, 3.0], title="t", fmt="{:.0f}")  # a count of 0 is just no bar
    assert 'class="zero"' not in counts
    ticks = re.findall(r'class="tick">([^<]*)<', bar_chart_svg(["a"], [1.0], title="t", fmt="{:.0f}"))
    assert ticks == ["0", "1"]  # no middle tick reading "0" on a scale up to 1
