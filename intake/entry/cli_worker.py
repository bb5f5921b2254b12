"""``intake worker``: a Celery worker running the pipeline's stages (``intake/entry/tasks.py``).

    INTAKE_BROKER_URL=redis://127.0.0.1:6379/0 \\
    INTAKE_DATABASE_URL=postgresql+psycopg://intake@db/intake \\
    intake worker --concurrency 4 [--relay]

Start as many as you like on as many machines as you like, all on the same broker, ledger
database and blob store (``INTAKE_DATA_DIR`` on shared storage). Each worker also sweeps the
ledger for pending work every ``INTAKE_SWEEP_INTERVAL_S`` seconds, so nothing stays stuck after a
crash. ``--relay`` sends the webhooks from this worker too (the API process always does; on
PostgreSQL any number of relays share the outbox with ``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from typing import Annotated, Any, Optional

import typer

__all__ = ["register", "worker"]

log = logging.getLogger("intake.worker")


def worker(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="pool processes (default: CPU count)")] = 0,
    queues: Annotated[Optional[str], typer.Option("--queues", "-Q", help="comma-separated queues (default: intake)")] = None,
    relay: Annotated[bool, typer.Option("--relay/--no-relay", help="also run the outbox relay (webhooks, EDI acknowledgment files) in this worker")] = False,
    sweep: Annotated[bool, typer.Option("--sweep/--no-sweep", help="re-enqueue pending work found in the ledger")] = True,
    pool: Annotated[str, typer.Option(help="prefork (processes), solo (one task at a time, in this process) or threads")] = "prefork",
    preload_model: Annotated[Optional[bool], typer.Option(
        "--preload-model/--no-preload-model",
        help="load the layout model when each pool process starts (default: yes, or INTAKE_WORKER_PRELOAD_MODEL)")] = None,
    name: Annotated[Optional[str], typer.Option(help="worker name (default intake-<pid>@<host>)")] = None,
    loglevel: Annotated[Optional[str], typer.Option(help="log level (default INTAKE_LOG_LEVEL)")] = None,
) -> None:
    """Run a Celery worker for the pipeline's stages on INTAKE_BROKER_URL (Redis) and the ledger."""
    from celery import signals

    from intake.entry import bootstrap, tasks  # start-up time: Celery and the service stack, only for a worker

    settings = bootstrap.load_settings()
    app = tasks.configure(settings)  # one-line ConfigError without a broker
    bootstrap.open_ledger(settings).kw["bind"].dispose()  # migrated once, before the pool processes start
    if preload_model is not None:
        settings.worker_preload_model = preload_model
    if pool not in ("prefork", "solo", "threads"):
        raise typer.BadParameter("pool must be prefork, solo or threads")
    if pool in ("solo", "threads"):
        # no pool processes: build the pipeline (and load the model) here, once
        tasks._init_worker_process()

    background: list[Any] = []

    @signals.setup_logging.connect(weak=False)
    def _keep_our_logging(**_kw: Any) -> None:
        """A receiver here stops Celery from configuring logging: intake.logs' JSON lines stay,
        in the main process and in every pool process."""
        if loglevel:
            logging.getLogger().setLevel(loglevel.upper())

    @signals.worker_ready.connect(weak=False)
    def _start_background(**_kw: Any) -> None:
        """After the pool has forked: the sweeper and the relay run in the main process."""
        main_sm = bootstrap.open_ledger(settings, migrate=False)
        tasks.parent_engines.append(main_sm.kw["bind"])  # pool processes forked later drop it
        main_pipe = bootstrap.build_pipeline(settings, main_sm)
        if sweep:
            sw = tasks.Sweeper(main_pipe, tasks.Dispatcher(settings), settings.sweep_interval_s)
            sw.start()
            background.append(sw)
        if relay:
            r = bootstrap.build_relay(settings, main_pipe.sm)
            threading.Thread(target=r.run_forever, args=(settings.poll_interval_s,), name="intake-relay",
                             daemon=True).start()
            background.append(r)
        log.info("worker ready", extra={"pid": os.getpid(), "sweep": sweep, "relay": relay})

    argv = ["worker", f"--pool={pool}",
            f"--hostname={name or f'intake-{os.getpid()}@{socket.gethostname()}'}",
            "--without-gossip", "--without-mingle", "--without-heartbeat",  # no chatter between workers
            f"--queues={queues or tasks.QUEUE}"]
    if pool != "solo":
        argv.append(f"--concurrency={concurrency or os.cpu_count() or 1}")
    try:
        app.worker_main(argv=argv)
    finally:
        for b in background:
            b.stop()
    sys.exit(0)


def register(app: typer.Typer) -> None:
    """Add ``intake worker`` to the CLI."""
    app.command("worker")(worker)
