"""``intake masters``: import, show and try out the seller's master data.

    intake masters import DIR [--replace]   load products/customers/ship_tos/customer_items/prices/
                                            order_history CSV or JSON files
    intake masters show                     counts of what is loaded
    intake masters match FILE.csv           match lines (customer_id, customer_sku, description, uom)
                                            and print them as CSV with sku and score added
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from intake.core.errors import IntakeError
from intake.core.matching import Catalog, match_line
from intake.core.settings import get_settings
from intake.service.catalog import load_catalog
from intake.service.db import make_engine, make_sessionmaker, unit_of_work
from intake.service.masters import MasterDataError, import_masters, summarize
from intake.service.migrate import upgrade

__all__ = ["masters_app"]

masters_app = typer.Typer(help="The seller's master data: products, customers, ship-tos, prices.", no_args_is_help=True)

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: INTAKE_DATABASE_URL or the data dir)")]


def _engine(db: str | None) -> Engine:
    settings = get_settings()
    if db is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db or settings.db_url)
    # the schema (master-data tables included) comes from the migrations, as for the service
    upgrade(engine)
    return engine


def _fail(exc: IntakeError) -> None:
    typer.echo(f"error: {exc.reason}", err=True)
    raise typer.Exit(code=2)


@masters_app.command("import")
def import_cmd(
    folder: Annotated[Path, typer.Argument(help="folder with products.csv, customers.csv and optionally ship_tos.csv, "
                                                "customer_items.csv, prices.csv, order_history.csv")],
    replace: Annotated[bool, typer.Option("--replace", help="delete the current master data first")] = False,
    db: DbOpt = None,
) -> None:
    """Load master data from FOLDER (CSV or JSON); update by key, or replace everything."""
    try:
        sm = make_sessionmaker(_engine(db))
        with unit_of_work(sm) as session:
            report = import_masters(session, folder, replace=replace)
            summary = summarize(session)
    except IntakeError as exc:
        _fail(exc)
        return
    typer.echo(report.line())
    for line in summary.lines():
        typer.echo(line)


@masters_app.command("show")
def show_cmd(db: DbOpt = None) -> None:
    """Summarise the master data that is loaded."""
    sm = make_sessionmaker(_engine(db))
    with unit_of_work(sm) as session:
        summary = summarize(session)
    if summary.empty:
        typer.echo("no master data loaded (intake masters import DIR)")
    for line in summary.lines():
        typer.echo(line)


@masters_app.command("match")
def match_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with columns customer_id, customer_sku, description, uom")],
    db: DbOpt = None,
) -> None:
    """Match each row of FILE against the master data; print CSV with sku and score added."""
    try:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise MasterDataError(f"cannot read the file ({exc.strerror})", file=str(file)) from None
        except UnicodeDecodeError:
            raise MasterDataError("not UTF-8 text", file=str(file)) from None
        rows = list(csv.DictReader(io.StringIO(text)))
        fields = [f.strip() for f in (csv.DictReader(io.StringIO(text)).fieldnames or [])]
        if "description" not in fields and "customer_sku" not in fields:
            raise MasterDataError("needs a description or customer_sku column", file=file.name, row=1)
        sm = make_sessionmaker(_engine(db))
        with unit_of_work(sm) as session:
            catalog = load_catalog(session)
    except IntakeError as exc:
        _fail(exc)
        return
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*fields, "sku", "score"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row = {k.strip(): (v or "") for k, v in row.items() if k is not None}
        m = match_line(catalog, customer_id=row.get("customer_id") or None, code=row.get("customer_sku") or None,
                       description=row.get("description") or None)
        row["sku"] = m.sku or ""
        row["score"] = f"{m.score:.3f}" if m.sku else ""
        writer.writerow({k: row.get(k, "") for k in [*fields, "sku", "score"]})
    sys.stdout.write(out.getvalue())
