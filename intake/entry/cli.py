"""The ``intake`` command line.

Errors print one line on stderr and exit non-zero; no traceback (set INTAKE_DEBUG=1 for one).

Commands import what they use inside their bodies, for start-up time: ``intake --help`` and the
light commands start in a quarter of a second, while the service stack (SQLAlchemy, the pipeline,
FastAPI, the layout model's code; intake/entry/bootstrap.py) takes about two seconds to import.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from intake.core.errors import IntakeError
from intake.core.settings import Settings, get_settings

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Order intake: purchase orders in, validated orders out.")
apikey_app = typer.Typer(no_args_is_help=True, help="API keys for machines calling the HTTP API.")
db_app = typer.Typer(no_args_is_help=True, help="The ledger database.")
orders_app = typer.Typer(no_args_is_help=True, help="Orders in the ledger.")
outbox_app = typer.Typer(no_args_is_help=True, help="Webhook deliveries.")
acks_app = typer.Typer(no_args_is_help=True, help="EDI acknowledgments written to the outbound folder.")
app.add_typer(apikey_app, name="apikey")
app.add_typer(db_app, name="db")
app.add_typer(orders_app, name="orders")
app.add_typer(outbox_app, name="outbox")
app.add_typer(acks_app, name="acks")


def _settings() -> Settings:
    from intake.entry.bootstrap import load_settings

    return load_settings()


def _sm() -> Any:
    from intake.entry.bootstrap import load_settings, open_ledger

    return open_ledger(load_settings())


def _out(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def _err(msg: str) -> None:
    sys.stderr.write("error: " + " ".join(str(msg).split()) + "\n")


# --- service ---------------------------------------------------------------------------------

@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          workers: Annotated[Optional[int], typer.Option(help="in-process pipeline workers")] = None) -> None:
    """Start the HTTP API, the in-process pipeline workers and the webhook relay."""
    import uvicorn

    from intake.entry.api.app import create_app

    s = _settings()
    if workers is not None:
        s.workers = workers
    application = create_app(s)
    uvicorn.run(application, host=host, port=port, log_level="info")


@app.command()
def ingest(files: Annotated[list[Path], typer.Argument(help="order files: .eml, PDF, image, spreadsheet, EDI")],
           as_json: Annotated[bool, typer.Option("--json", help="print the orders as JSON")] = False,
           partner: Annotated[Optional[str], typer.Option(
               help="the EDI partner these files come from, as its own channel would prove it (you vouch for "
                    "it); without it an EDI id inside a file is only a hint")] = None) -> None:
    """Store and process files synchronously on the configured ledger; print the resulting orders."""
    from intake.core.domain import Channel
    from intake.service import ledger
    from intake.service.db import unit_of_work
    from intake.service.outbox import deliver_acks
    from intake.service.pipeline import Pipeline

    s = _settings()
    pipe = Pipeline(s, _sm())
    failed = 0
    results: list[dict[str, Any]] = []
    for f in files:
        try:
            data = f.read_bytes()
        except OSError as exc:
            _err(f"{f}: {exc.strerror or exc}")
            failed += 1
            continue
        res = pipe.ingest(data, filename=f.name, channel=Channel.cli, trusted_partner=partner)
        if not res.duplicate:
            pipe.process_message(res.message_id)
        else:
            for oid in res.order_ids:
                pipe.advance(oid)
        dup = res.duplicate
        res = pipe.message_result(res.message_id)
        res.duplicate = dup
        with unit_of_work(pipe.sm) as sess:
            orders = [ledger.order_json(ledger.to_order(sess, ledger.get_order(sess, oid))) for oid in res.order_ids]
        deliver_acks(pipe.sm, s.outbound_dir)  # the EDI acknowledgments it queued, written now
        results.append({"file": str(f), "message_id": res.message_id, "duplicate": res.duplicate,
                        "status": res.status, "orders": orders})
        if res.status == "FAILED":
            failed += 1
            _err(f"{f}: {res.reason}")
        elif res.duplicate:
            sys.stderr.write(f"{f}: already received as message {res.message_id} (duplicate)\n")
        if not as_json:
            for o in orders:
                sys.stdout.write(_order_line(o) + "\n")
    if as_json:
        _out(results)
    raise typer.Exit(1 if failed else 0)


def _order_line(o: dict[str, Any]) -> str:
    probs = "; ".join(p["message"] for p in o.get("problems", [])[:3])
    return (f"{o['id']}  {o['status']:<12} PO {o.get('po_number') or '-':<16} customer {o.get('customer_id') or '-':<12} "
            f"{len(o.get('lines', []))} line(s) total {o.get('total') if o.get('total') is not None else '-'}"
            + (f"  [{probs}]" if probs else ""))


@app.command()
def extract(file: Path, explain: Annotated[bool, typer.Option(
        "--explain", help="with each order, what every step after the model changed (step, field or line, "
                          "before -> after, reason)")] = False) -> None:
    """Extract the orders in FILE without a database: a JSON array in the realdocs truth schema."""
    from extractors.dispatch import extract_drafts

    s = Settings()  # INTAKE_DATA_DIR and the rest; no database is opened
    data = _read_file(file)
    model_extract = None
    if explain:
        from extractors.inference import default_extractor

        read = default_extractor()

        def model_extract(doc: Any) -> Any:
            return read(doc, explain=True)  # type: ignore[call-arg]

    drafts = extract_drafts(data, file.name, s.limits, model_extract=model_extract).drafts
    out = []
    for d in drafts:
        t = d.to_truth()
        if explain:
            t["explain"] = d.meta.get("explain", [])
        out.append(t)
    _out(out)


@app.command()
def read(file: Path, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the pages and words (with boxes) that the readers find in FILE."""
    from extractors.registry import documents_to_json, documents_to_text, read_bytes

    docs = read_bytes(_read_file(file), file.name, get_settings().limits)
    if as_json:
        _out(documents_to_json(docs))
    else:
        sys.stdout.write(documents_to_text(docs) + "\n")


def _read_file(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise IntakeError(f"{file}: {exc.strerror or exc}") from exc


@app.command()
def demo(serve_too: Annotated[bool, typer.Option("--serve/--no-serve", help="start the service afterwards")] = True,
         host: str = "127.0.0.1", port: int = 8000) -> None:
    """Prepare the embedded demo (SQLite, demo master data, sample orders, API key) and serve it."""
    from intake.entry.demo import demo_router, prepare_demo, print_banner

    s = _settings()
    info = prepare_demo(s, host=host, port=port)
    print_banner(info)
    if serve_too:
        import uvicorn

        from intake.entry.api.app import create_app

        application = create_app(s)
        application.include_router(demo_router(s))
        uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command()
def synth(n: Annotated[int, typer.Option("--n", help="how many documents")] = 20,
          out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("synth"),
          seed: int = 0,
          formats: Annotated[str, typer.Option(help="comma-separated: pdf,scan,xlsx,csv,email,free,freescan,freertl")] = "pdf,scan,xlsx,csv,email",
          families: Annotated[str, typer.Option(help="all | train | heldout: the layout families (and, for free layouts, the locales) drawn from")] = "all") -> None:
    """Generate synthetic purchase orders with exact truth and word labels."""
    from training.synth import generate, heldout_families, train_families

    fmts = [f.strip() for f in formats.split(",") if f.strip()]
    pick = {"all": None, "train": train_families(), "heldout": heldout_families()}
    if families not in pick:
        raise typer.BadParameter(f"--families must be all, train or heldout, not {families!r}")
    paths = generate(n, out, seed=seed, formats=fmts, families=pick[families], progress=True)
    sys.stdout.write(f"{len(paths)} document(s) written to {out}\n")


# --- API keys, database --------------------------------------------------------------------

@apikey_app.command("create")
def apikey_create(
    name: str,
    scope: Annotated[Optional[list[str]], typer.Option(
        "--scope", help="read | ingest | review | admin (repeat for several; default: read, ingest, review). "
                        "A channel that only uploads needs ingest alone.")] = None,
    partner: Annotated[Optional[str], typer.Option(
        help="bind the key to an EDI partner id: its uploads come from that partner's channel")] = None,
) -> None:
    """Create an API key; the key is printed alone on the last line (it is stored hashed)."""
    from intake.core.errors import ConfigError
    from intake.service import ledger
    from intake.service.db import unit_of_work

    try:
        scopes = ledger.parse_scopes(",".join(scope)) if scope else ledger.DEFAULT_SCOPES
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    with unit_of_work(_sm()) as s:
        key = ledger.create_api_key(s, name, scopes=scopes, partner=partner)
    bound = f", partner {partner}" if partner else ""
    sys.stderr.write(f"API key {name!r} created (scopes {', '.join(scopes)}{bound}); keep it now, it cannot be "
                     "shown again:\n")
    sys.stdout.write(key + "\n")


@apikey_app.command("list")
def apikey_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
                all_keys: Annotated[bool, typer.Option("--all", help="revoked keys too")] = False) -> None:
    """The API keys: id, prefix, name, scopes, partner, when created and last used (never the key)."""
    from intake.service import ledger

    with _sm()() as s:
        rows = ledger.list_api_keys(s, include_revoked=all_keys)
        items = [{"id": r.id, "prefix": r.prefix, "name": r.name, "scopes": r.scopes, "partner": r.partner,
                  "created_at": r.created_at, "last_used_at": r.last_used_at, "revoked_at": r.revoked_at}
                 for r in rows]
    if as_json:
        _out(items)
        return
    for k in items:
        ts = lambda v: v.isoformat(timespec="seconds") if v else "never"  # noqa: E731
        state = f"revoked {ts(k['revoked_at'])}" if k["revoked_at"] else f"last used {ts(k['last_used_at'])}"
        sys.stdout.write(f"{k['id']:>4}  {k['prefix']}  {k['name']:<24} {k['scopes']:<26} "
                         f"{k['partner'] or '-':<14} {state}\n")
    sys.stdout.write(f"{len(items)} key(s)\n")


@apikey_app.command("revoke")
def apikey_revoke(ref: Annotated[str, typer.Argument(help="the key's id, prefix (oik_...) or name")]) -> None:
    """Revoke a key: every request with it is refused (401) from now on."""
    from intake.service import ledger
    from intake.service.db import unit_of_work

    with unit_of_work(_sm()) as s:
        rows = ledger.revoke_api_key(s, ref)
        for r in rows:
            sys.stdout.write(f"revoked key {r.id} {r.prefix} {r.name!r}\n")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (also done at every start)."""
    _sm()
    sys.stdout.write(f"database at {get_settings().db_url.split('@')[-1]} is up to date\n")


# --- orders, deliveries, acknowledgments ---------------------------------------------------------

@orders_app.command("list")
def orders_list(status: Optional[str] = None, limit: int = 50,
                as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List orders, newest first."""
    from intake.service import ledger

    with _sm()() as s:
        rows, total = ledger.list_orders(s, status=status, limit=limit)
        orders = [ledger.order_json(ledger.to_order(s, r, with_history=False)) for r in rows]
    if as_json:
        _out({"total": total, "orders": orders})
        return
    for o in orders:
        sys.stdout.write(_order_line(o) + "\n")
    sys.stdout.write(f"{len(orders)} of {total} order(s)\n")


@orders_app.command("show")
def orders_show(order_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one order: header, lines, problems and history."""
    from intake.service import ledger

    with _sm()() as s:
        o = ledger.order_json(ledger.to_order(s, ledger.get_order(s, order_id)))
    if as_json:
        _out(o)
        return
    w = sys.stdout.write
    w(_order_line(o) + "\n")
    for k in ("order_date", "requested_date", "ship_to", "currency", "payment_terms", "confidence"):
        w(f"  {k:<15} {o.get(k)}\n")
    w("  lines:\n")
    for ln in o["lines"]:
        w(f"    {ln['line_no']:>4}  {ln.get('sku') or '-':<18} {ln.get('quantity')} {ln.get('uom') or ''} "
          f"x {ln.get('unit_price')}  {(ln.get('description') or '')[:50]}\n")
    if o["problems"]:
        w("  problems:\n")
        for p in o["problems"]:
            w(f"    - [{p['code']}] {p['message']}\n")
    w("  history:\n")
    for h in o["history"]:
        w(f"    {h['at']}  {h.get('from_status') or '':<12} -> {h['to_status']:<12} by {h['actor']}: {h['reason']}\n")


@outbox_app.command("list")
def outbox_list(status: Optional[str] = None) -> None:
    """Webhook deliveries and their state (pending, sent, dead)."""
    from intake.service import ledger, outbox

    with _sm()() as s:
        _out([outbox.outbox_json(ob) for ob in ledger.outbox_rows(s, status=status)])


@outbox_app.command("redrive")
def outbox_redrive(outbox_id: int) -> None:
    """Put a dead-lettered webhook back in line."""
    import getpass

    from intake.service import outbox
    from intake.service.db import unit_of_work

    with unit_of_work(_sm()) as s:
        _out(outbox.outbox_json(outbox.redrive(s, outbox_id, actor=f"cli:{getpass.getuser()}")))


@outbox_app.command("relay")
def outbox_relay() -> None:
    """Send every due webhook once (the server does this continuously)."""
    from intake.service.outbox import Relay

    n = Relay(_settings(), _sm()).run_once()
    sys.stdout.write(f"{n} delivery attempt(s)\n")


@acks_app.command("list")
def acks_list() -> None:
    """EDI acknowledgments: written to the outbound folder, or pending for the outbox relay."""
    from intake.service import ledger

    s_ = _settings()
    with _sm()() as s:
        for r in ledger.outbound_docs(s):
            sys.stdout.write(f"{r.id:>5}  {r.kind:<7} {r.status:<8} {s_.outbound_dir / r.filename}\n")


def _mount_optional() -> None:
    """Sub-commands that live with their modules."""
    from intake.entry.cli_masters import masters_app

    app.add_typer(masters_app, name="masters")
    from intake.entry.cli_mail import mail_app  # noqa: E402  (intake mail poll | test-send | status)

    app.add_typer(mail_app, name="mail")
    from intake.entry.cli_users import users_app

    app.add_typer(users_app, name="users")
    from intake.entry.cli_worker import register as register_worker

    register_worker(app)  # intake worker (Celery)
    from training.cli_learn import register as register_learning

    register_learning(app)  # intake learn | train [--from-corrections] | eval | model | labelstudio


def main() -> None:
    from intake.service.logs import configure_logging

    try:  # structured JSON lines (INTAKE_LOG_FORMAT=text for people), secrets redacted
        settings: Settings | None = get_settings()
    except Exception:  # bad settings are reported by the command itself, in one line
        settings = None
    level = (settings.log_level if settings is not None else Settings.model_fields["log_level"].default).upper()
    if settings is not None:
        configure_logging(level, settings.log_format, settings=settings)
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        _mount_optional()
        app()
    except IntakeError as exc:
        _err(exc.reason)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # never a traceback for the user
        if settings is not None and settings.debug:
            raise
        _err(f"internal error: {type(exc).__name__}: {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
