"""Master data: import (CSV and JSON, replace and update), bad files, summary, CLI, PostgreSQL."""

from __future__ import annotations

import csv
import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from intake.core.errors import IntakeError
from intake.core.matching import normalize_key
from intake.service.db import Base, make_engine
from intake.service.masters import (
    MASTER_TABLES,
    CustomerRow,
    MasterDataError,
    ProductRow,
    import_dir,
    import_masters,
    is_empty,
    summarize,
)

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "fixtures" / "masters"


@pytest.fixture
def engine() -> Iterator[Engine]:
    eng = make_engine("sqlite://")
    Base.metadata.create_all(eng, tables=[t.__table__ for t in MASTER_TABLES])
    yield eng
    eng.dispose()


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "masters"
    shutil.copytree(DEMO, dest)
    return dest


def _rewrite(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0].keys())
    rows, fields = edit(rows, fields)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def test_import_demo_counts_attributes_and_lists(engine: Engine) -> None:
    with Session(engine) as s:
        assert is_empty(s)
        report = import_dir(s, DEMO, replace=True)
        assert not is_empty(s)
        s.commit()
        assert report.inserted["products"] == 31 and report.inserted["customers"] == 4
        summary = summarize(s)
        assert (summary.products, summary.customers, summary.ship_tos, summary.customer_items, summary.prices) == (31, 4, 6, 9, 4)
        assert summary.discontinued == 1
        bolt = s.get(ProductRow, "HB-0513-200-G5Z")
        assert bolt is not None
        assert bolt.alt_uoms == {"BX": 50.0, "CA": 500.0}
        assert bolt.min_order_qty == 50.0
        assert bolt.attributes == {"category": "fasteners", "status": "active"}  # extra columns kept
        assert bolt.aliases == ["HX BOLT 1/2-13X2 GR5 ZP"]
        cust = s.get(CustomerRow, "CUST-1002")
        assert cust is not None and cust.email_domains == ["harbormw.com", "hmw-purchasing.com"]
        assert cust.attributes == {"segment": "industrial"}
        assert s.get(CustomerRow, "CUST-1003").name == "Cabinet Lefèvre & Associés"  # type: ignore[union-attr]
        assert any("products" in line and "31" in line for line in summary.lines())


def test_update_then_replace(engine: Engine, demo_copy: Path, tmp_path: Path) -> None:
    with Session(engine) as s:
        import_masters(s, DEMO)
        s.commit()
        again = import_masters(s, DEMO)  # the same files again: every row an update
        s.commit()
        assert again.inserted == {"products": 0, "customers": 0, "ship_tos": 0, "customer_items": 0, "prices": 4}
        assert again.updated["ship_tos"] == 6 and summarize(s).prices == 4

    def edit(rows, fields):  # type: ignore[no-untyped-def]
        rows = [r for r in rows if r["sku"] in ("HB-0513-200-G5Z", "HN-0513-G5Z")]
        rows[0]["unit_price"] = "0.99"
        rows.append({**rows[1], "sku": "NEW-1", "description": "New product"})
        return rows, fields

    _rewrite(demo_copy / "products.csv", edit)
    for name in ("ship_tos.csv", "customer_items.csv", "prices.csv"):
        (demo_copy / name).unlink()
    with Session(engine) as s:
        rep = import_masters(s, demo_copy)  # update by key
        s.commit()
        assert rep.inserted["products"] == 1 and rep.updated["products"] == 2
        assert s.get(ProductRow, "HB-0513-200-G5Z").unit_price == 0.99  # type: ignore[union-attr]
        assert summarize(s).products == 32  # nothing removed
    with Session(engine) as s:
        import_masters(s, demo_copy, replace=True)
        s.commit()
        summary = summarize(s)
        assert summary.products == 3 and summary.ship_tos == 0 and summary.prices == 0


def test_json_files_are_read_like_csv(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "j"
    folder.mkdir()
    (folder / "products.json").write_text(json.dumps([
        {"sku": "A1", "description": "Hex nut M8 zinc", "uom": "pcs", "unit_price": 0.1, "aliases": ["nut m8"],
         "alt_uoms": {"BX": 100}, "color": "silver"},
    ]), encoding="utf-8")
    (folder / "customers.json").write_text(json.dumps({"customers": [
        {"customer_id": "K1", "name": "Kunde GmbH", "email_domains": "kunde.de"}]}), encoding="utf-8")
    with Session(engine) as s:
        import_masters(s, folder)
        p = s.get(ProductRow, "A1")
        assert p is not None and p.uom == "EA" and p.alt_uoms == {"BX": 100.0} and p.attributes == {"color": "silver"}
        assert s.get(CustomerRow, "K1").email_domains == ["kunde.de"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("file", "edit", "expect"),
    [
        ("products.csv", lambda r, f: (r, [c for c in f if c != "description"]), "products.csv, row 1, column description"),
        ("products.csv", lambda r, f: ([{**r[0], "unit_price": "abc"}] + r[1:], f), "row 2, column unit_price: 'abc' is not a number"),
        ("products.csv", lambda r, f: ([{**r[0], "uom": "bananas"}] + r[1:], f), "column uom: unknown unit of measure"),
        ("products.csv", lambda r, f: ([{**r[0], "alt_uoms": "BX:50"}] + r[1:], f), "column alt_uoms"),
        ("products.csv", lambda r, f: (r + [r[0]], f), "column sku: duplicate of row 2"),
        ("products.csv", lambda r, f: ([{**r[0], "pack_size": "-3"}] + r[1:], f), "column pack_size"),
        ("products.csv", lambda r, f: ([{**r[0], "currency": "dollars"}] + r[1:], f), "column currency"),
        ("ship_tos.csv", lambda r, f: ([{**r[0], "customer_id": "NOPE"}] + r[1:], f), "ship_tos.csv, row 2, column customer_id: unknown customer"),
        ("customer_items.csv", lambda r, f: ([{**r[0], "sku": "NOPE"}] + r[1:], f), "customer_items.csv, row 2, column sku: unknown product"),
        ("prices.csv", lambda r, f: ([{**r[0], "valid_from": "31/12/2026"}] + r[1:], f), "prices.csv, row 2, column valid_from"),
        ("customers.csv", lambda r, f: ([{**r[0], "email_domains": "not a domain"}] + r[1:], f), "column email_domains"),
    ],
)
def test_bad_files_name_file_row_column(engine: Engine, demo_copy: Path, file: str, edit, expect: str) -> None:  # type: ignore[no-untyped-def]
    _rewrite(demo_copy / file, edit)
    with Session(engine) as s, pytest.raises(MasterDataError) as exc:
        import_masters(s, demo_copy)
    assert expect in str(exc.value)
    assert isinstance(exc.value, IntakeError) and "\n" not in str(exc.value)


def test_missing_folder_missing_file_and_bad_encoding(engine: Engine, demo_copy: Path, tmp_path: Path) -> None:
    with Session(engine) as s:
        with pytest.raises(MasterDataError, match="folder not found"):
            import_masters(s, tmp_path / "nope")
        (demo_copy / "customers.csv").unlink()
        with pytest.raises(MasterDataError, match="customers.csv"):
            import_masters(s, demo_copy)
        (demo_copy / "customers.csv").write_bytes(b"customer_id,name\nC1,M\xfcller\n")
        with pytest.raises(MasterDataError, match="customers.csv, row 2: not UTF-8"):
            import_masters(s, demo_copy)
        (demo_copy / "customers.csv").write_text("", encoding="utf-8")
        with pytest.raises(MasterDataError, match="empty"):
            import_masters(s, demo_copy)


def test_bad_file_writes_nothing(engine: Engine, demo_copy: Path) -> None:
    _rewrite(demo_copy / "prices.csv", lambda r, f: ([{**r[0], "sku": "NOPE"}] + r[1:], f))
    with Session(engine) as s:
        with pytest.raises(MasterDataError):
            import_masters(s, demo_copy)
        assert summarize(s).products == 0  # checked before anything was written


def test_normalize_key() -> None:
    assert normalize_key("00-12.34 A") == "1234a"
    assert normalize_key("Réf. ABC-001") == "refabc001"
    assert normalize_key("000") == "000"


def test_cli_import_show_match(tmp_path: Path) -> None:
    from intake.entry.cli_masters import masters_app

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    res = runner.invoke(masters_app, ["import", str(DEMO), "--replace", "--db", db])
    assert res.exit_code == 0, res.output
    assert "products        31" in res.output
    res = runner.invoke(masters_app, ["show", "--db", db])
    assert res.exit_code == 0 and "customers       4" in res.output
    lines = tmp_path / "lines.csv"
    lines.write_text(
        "customer_id,customer_sku,description,uom\n"
        "CUST-1001,NW-778812,,BX\n"
        ",,hex nut 1/2-13 gr5 zp,EA\n"
        ",,completely unrelated garden hose,EA\n", encoding="utf-8")
    res = runner.invoke(masters_app, ["match", str(lines), "--db", db])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(res.stdout.splitlines()))
    assert rows[0]["sku"] == "HB-0513-200-G5Z" and float(rows[0]["score"]) == 1.0
    assert rows[1]["sku"] == "HN-0513-G5Z" and float(rows[1]["score"]) >= 0.9
    assert rows[2]["sku"] == "" and rows[2]["score"] == ""
    assert list(rows[0].keys()) == ["customer_id", "customer_sku", "description", "uom", "sku", "score"]
    bad = runner.invoke(masters_app, ["import", str(tmp_path / "missing"), "--db", db])
    assert bad.exit_code == 2 and "folder not found" in bad.output and "Traceback" not in bad.output


PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def _pg_schema() -> Iterator[Engine]:
    """An engine on a fresh PostgreSQL schema, dropped afterwards; skips when PostgreSQL is down."""
    admin = create_engine(PG_URL)
    try:
        with admin.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means: skip
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}")
    schema = f"md_test_{uuid.uuid4().hex[:10]}"
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_import_and_match_on_postgresql() -> None:
    with _pg_schema() as eng:
        Base.metadata.create_all(eng, tables=[t.__table__ for t in MASTER_TABLES])
        from intake.core.matching import Catalog, match_line
        from intake.service.catalog import learn_xref, load_catalog

        with Session(eng) as s:
            import_masters(s, DEMO, replace=True)
            s.commit()
            import_masters(s, DEMO)  # update path (bulk UPDATE by primary key)
            learn_xref(s, "CUST-1003", "boulons tête hex 1/2 x 2 zingués", "HB-0513-200-G5Z")
            s.commit()
            assert summarize(s).products == 31
            cat = load_catalog(s)
            m = match_line(cat, customer_id="CUST-1001", code="NW-778900", description=None)
            assert (m.sku, m.via) == ("HN-0513-G5Z", "cross_ref")
            m = match_line(cat, customer_id="CUST-1003", code=None, description="Boulons tete hex 1/2 x 2 zingues")
            assert (m.sku, m.via, m.score) == ("HB-0513-200-G5Z", "learned", 1.0)
            assert s.scalar(select(ProductRow.uom).where(ProductRow.sku == "CP-A4-80-W")) == "RM"


def test_a_typed_mail_uploaded_as_eml_is_matched_by_its_own_sender_and_lines(tmp_path: Path) -> None:
    """An .eml posted or ingested without an envelope sender: the mail's From names the customer,
    and the order typed in its body is read line by line."""
    from intake.core.settings import Settings
    from intake.service import ledger
    from intake.service.db import unit_of_work
    from intake.service.pipeline import Pipeline

    pipe = Pipeline(Settings(data_dir=tmp_path / "data"))
    with unit_of_work(pipe.sm) as s:
        import_masters(s, DEMO)
    mail = ("From: Pat Buyer <pat@hmw-purchasing.com>\r\nTo: orders@example.com\r\nSubject: order\r\n"
            "Message-ID: <t1@hmw>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Hello,\r\nplease send:\r\n- 200 x hex nut 1/2-13 gr5 zp\r\n- 50 x Hex bolt 1/2-13 x 2 Grade 5 zinc plated\r\n"
            "PO: HMW-7781\r\nRegards,\r\nPat Buyer\r\n").encode()
    res = pipe.ingest(mail, filename="order.eml")
    ids = pipe.process_message(res.message_id)
    with pipe.sm() as s:
        o = ledger.to_order(s, ledger.get_order(s, ids[0]), with_history=False)
    assert o.customer_id == "CUST-1002" and o.po_number == "HMW-7781"
    assert [(ln.quantity, ln.sku) for ln in o.lines] == [(200, "HN-0513-G5Z"), (50, "HB-0513-200-G5Z")]


# ---------------------------------------------------------------- order history

HISTORY = ("customer_id,sku,quantity,order_date,po_number\n"
           "CUST-1003,LAF-A4-80-BLK,4,2026-05-02,L-100\n"
           "CUST-1003,LAF-A4-80-BLK,6,2026-06-11,L-131\n"
           "CUST-1003,CP-A4-80-W,10,,L-131\n"
           "CUST-1001,HN-0513-G5Z,200,2026-07-01,\n")


def test_order_history_import_update_and_replace(engine: Engine, demo_copy: Path) -> None:
    from intake.service.masters import OrderHistoryRow

    (demo_copy / "order_history.csv").write_text(HISTORY, encoding="utf-8")
    with Session(engine) as s:
        rep = import_masters(s, demo_copy)
        s.commit()
        assert rep.inserted["order_history"] == 4
        summary = summarize(s)
        assert (summary.order_history, summary.history_customers) == (4, 2)
        assert "order history   4 lines (2 customers)" in summary.lines()
        rows = s.scalars(select(OrderHistoryRow).order_by(OrderHistoryRow.id)).all()
        assert [(r.customer_id, r.sku, r.quantity) for r in rows][:2] == [
            ("CUST-1003", "LAF-A4-80-BLK", 4.0), ("CUST-1003", "LAF-A4-80-BLK", 6.0)]
        assert str(rows[0].order_date) == "2026-05-02" and rows[2].order_date is None
        assert rows[0].attributes == {"po_number": "L-100"} and rows[3].attributes == {}  # extra columns kept
        # the same export again: each (customer, sku) it names is replaced, not counted twice
        import_masters(s, demo_copy)
        s.commit()
        assert summarize(s).order_history == 4
        # a newer export of one customer's history replaces that customer's SKUs only
        (demo_copy / "order_history.csv").write_text(
            "customer_id,sku,quantity\nCUST-1003,LAF-A4-80-BLK,5\n", encoding="utf-8")
        import_masters(s, demo_copy)
        s.commit()
        assert summarize(s).order_history == 3
        # --replace without the file: the history goes with the rest of the master data
        (demo_copy / "order_history.csv").unlink()
        import_masters(s, demo_copy, replace=True)
        s.commit()
        assert summarize(s).order_history == 0


def test_order_history_as_json(engine: Engine, demo_copy: Path) -> None:
    (demo_copy / "order_history.json").write_text(json.dumps({"order_history": [
        {"customer_id": "CUST-1003", "sku": "LAF-A4-80-BLK", "quantity": 4, "order_date": "2026-05-02", "channel": "fax"},
        {"customer_id": "CUST-1003", "sku": "LAF-A4-80-BLK", "quantity": "6"}]}), encoding="utf-8")
    with Session(engine) as s:
        assert import_masters(s, demo_copy).inserted["order_history"] == 2
        assert summarize(s).order_history == 2


@pytest.mark.parametrize(
    ("row", "expect"),
    [
        ("CUST-1003,LAF-A4-80-BLK,abc,", "order_history.csv, row 3, column quantity: 'abc' is not a number"),
        ("CUST-1003,LAF-A4-80-BLK,0,", "order_history.csv, row 3, column quantity: '0' must be positive"),
        ("CUST-1003,LAF-A4-80-BLK,,", "order_history.csv, row 3, column quantity: a value is required"),
        ("CUST-1003,NOPE,3,", "order_history.csv, row 3, column sku: unknown product 'NOPE'"),
        ("NOPE,LAF-A4-80-BLK,3,", "order_history.csv, row 3, column customer_id: unknown customer 'NOPE'"),
        ("CUST-1003,LAF-A4-80-BLK,3,02/05/2026", "order_history.csv, row 3, column order_date: '02/05/2026' is not a date"),
    ],
)
def test_bad_order_history_row_names_file_row_column(engine: Engine, demo_copy: Path, row: str, expect: str) -> None:
    (demo_copy / "order_history.csv").write_text(
        f"customer_id,sku,quantity,order_date\nCUST-1003,LAF-A4-80-BLK,4,2026-05-02\n{row}\n", encoding="utf-8")
    with Session(engine) as s, pytest.raises(MasterDataError) as exc:
        import_masters(s, demo_copy)
    assert expect in str(exc.value) and "\n" not in str(exc.value)
    with Session(engine) as s:
        assert summarize(s).products == 0  # nothing written


def test_order_history_missing_column(engine: Engine, demo_copy: Path) -> None:
    (demo_copy / "order_history.csv").write_text("customer_id,sku,qty\nCUST-1003,LAF-A4-80-BLK,4\n", encoding="utf-8")
    with Session(engine) as s, pytest.raises(MasterDataError, match="order_history.csv, row 1, column quantity"):
        import_masters(s, demo_copy)


def test_migration_0006_matches_the_table_and_cli_counts_history(tmp_path: Path, demo_copy: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from intake.entry.cli_masters import masters_app
    from intake.service.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert "md_order_history" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert not [d for d in diffs if "md_order_history" in repr(d)]
    engine.dispose()
    (demo_copy / "order_history.csv").write_text(HISTORY, encoding="utf-8")
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'm.db'}"
    res = runner.invoke(masters_app, ["import", str(demo_copy), "--db", db])
    assert res.exit_code == 0, res.output
    assert "order_history 4 new" in res.output
    res = runner.invoke(masters_app, ["show", "--db", db])
    assert res.exit_code == 0 and "order history   4 lines (2 customers)" in res.output
    (demo_copy / "order_history.csv").write_text("customer_id,sku,quantity\nCUST-1003,LAF-A4-80-BLK,-2\n", encoding="utf-8")
    bad = runner.invoke(masters_app, ["import", str(demo_copy), "--db", db])
    assert bad.exit_code == 2 and "order_history.csv, row 2, column quantity" in bad.output
    assert "Traceback" not in bad.output


@pytest.mark.postgres
def test_order_history_migration_and_import_on_postgresql(demo_copy: Path) -> None:
    from intake.core.matching import Catalog
    from intake.service.catalog import load_catalog
    from intake.service.migrate import upgrade

    with _pg_schema() as eng:
        upgrade(eng)  # every migration, 0006 included
        (demo_copy / "order_history.csv").write_text(HISTORY, encoding="utf-8")
        with Session(eng) as s:
            import_masters(s, demo_copy, replace=True)
            s.commit()
            import_masters(s, demo_copy)  # the update path: per (customer, sku) replaced
            s.commit()
            assert summarize(s).order_history == 4
            cat = load_catalog(s)
            assert cat.customer_history("CUST-1003").quantities("LAF-A4-80-BLK") == [4.0, 6.0]
            assert cat.ledger is not None and cat.customer_history("CUST-1003").ledger == {}
