"""The one place where the service is wired from Settings: the ledger (engine, migrations,
sessions), the pipeline, the workers, the outbox relay, the channels and the learning loop.

The command line, ``intake serve`` (the HTTP app), ``intake worker`` and the Celery pool
processes all build what they need here, so tests can hand in fakes (a sessionmaker, a
pipeline) at one seam.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.service import Channels
from intake.core.settings import Settings, get_settings
from intake.entry.workers import make_workers
from intake.service.db import make_engine, make_sessionmaker
from intake.service.migrate import upgrade
from intake.service.outbox import Relay
from intake.service.pipeline import Pipeline
from training.background import start_learner

__all__ = ["load_settings", "open_ledger", "build_pipeline", "build_relay", "Services"]


def load_settings() -> Settings:
    """The process's settings (``INTAKE_*``, ``.env``, the config file), its data folder made."""
    s = get_settings()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    return s


def open_ledger(settings: Settings, *, migrate: bool = True) -> sessionmaker[Session]:
    """Sessions on the configured ledger, its schema brought to the newest migration first
    (``migrate=False`` where one process upgrades before others start, as ``intake worker`` does)."""
    engine = make_engine(settings.db_url)
    if migrate:
        upgrade(engine)
    return make_sessionmaker(engine)


def build_pipeline(settings: Settings, sm: sessionmaker[Session] | None = None) -> Pipeline:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Pipeline(settings, sm if sm is not None else open_ledger(settings))


def build_relay(settings: Settings, sm: sessionmaker[Session], **kw: Any) -> Relay:
    """The outbox relay: webhooks to the configured URL, EDI acknowledgments to files."""
    return Relay(settings, sm, **kw)


class Services:
    """What ``intake serve`` runs, built once: the pipeline, workers, the outbox relay, the
    channels (mailbox, EDI folders, SMTP) and the learning loop."""

    def __init__(self, settings: Settings, *, start_workers: bool = True, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline or build_pipeline(settings)
        # in-process threads, or Celery tasks when INTAKE_BROKER_URL is set
        self.workers: Any = make_workers(self.pipeline, settings) if start_workers else None
        self.relay = build_relay(settings, self.pipeline.sm) if start_workers else None
        self._relay_thread: threading.Thread | None = None
        self.channels: Channels | None = None  # when a mailbox, EDI folder or SMTP is set
        self.learner: Any = None  # training.background.Learner: retrains after INTAKE_RETRAIN_AFTER corrections

    def start(self) -> None:
        if self.workers is not None:
            self.workers.start()
            if Channels.configured(self.settings):
                self.channels = Channels(self.settings, self.pipeline, submit=self.workers.submit_message)
                self.channels.start()
            self.learner = start_learner(self.settings, self.pipeline.sm)
        if self.relay is not None:
            self._relay_thread = threading.Thread(target=self.relay.run_forever, args=(self.settings.poll_interval_s,),
                                                  name="intake-relay", daemon=True)
            self._relay_thread.start()

    def stop(self) -> None:
        if self.learner is not None:
            self.learner.stop()
        if self.channels is not None:
            self.channels.stop()
        if self.relay is not None:
            self.relay.stop()
        if self.workers is not None:
            self.workers.stop()
        if self._relay_thread is not None:
            self._relay_thread.join(timeout=5)
