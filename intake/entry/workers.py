"""Who moves messages and orders along in `intake serve`.

Embedded (the zero-configuration default): ``InProcessWorkers``, threads in this process. A queue
gets new work immediately; a periodic scan of the ledger picks up whatever a crash or restart
left midway, so nothing depends on the queue surviving.

With ``INTAKE_BROKER_URL`` set: ``CeleryWorkers`` enqueues Celery tasks (``intake/entry/tasks.py``) that
`intake worker` processes run, on any number of machines, and sweeps the ledger for pending work
the same way. ``make_workers`` picks one from the settings.
"""

from __future__ import annotations

import logging
import queue
import threading

from intake.core.settings import Settings
from intake.service.pipeline import Pipeline

__all__ = ["InProcessWorkers", "CeleryWorkers", "make_workers"]

log = logging.getLogger("intake.workers")


class InProcessWorkers:
    def __init__(self, pipeline: Pipeline, n: int = 2, scan_interval: float = 1.0) -> None:
        self.pipeline, self.n, self.scan_interval = pipeline, max(1, n), scan_interval
        self.q: queue.Queue[tuple[str, str]] = queue.Queue()
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def submit_message(self, message_id: str) -> None:
        self.q.put(("message", message_id))

    def submit_order(self, order_id: str) -> None:
        self.q.put(("order", order_id))

    def _claim(self, key: str) -> bool:
        with self._busy_lock:
            if key in self._busy:
                return False
            self._busy.add(key)
            return True

    def _release(self, key: str) -> None:
        with self._busy_lock:
            self._busy.discard(key)

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                kind, ident = self.q.get(timeout=0.2)
            except queue.Empty:
                continue
            if not self._claim(ident):
                continue
            try:
                if kind == "message":
                    self.pipeline.process_message(ident)
                else:
                    self.pipeline.advance(ident)
            except Exception:  # a dropped connection: the scan retries it later
                log.exception("work on %s %s failed; will be resumed", kind, ident)
            finally:
                self._release(ident)

    def _scan(self) -> None:
        while not self._stop.wait(self.scan_interval):
            try:
                for mid in self.pipeline.pending_messages():
                    if mid not in self._busy:
                        self.submit_message(mid)
                for oid in self.pipeline.pending_orders():
                    if oid not in self._busy:
                        self.submit_order(oid)
            except Exception:
                log.exception("scan of pending work failed; retrying")

    def start(self) -> None:
        for i in range(self.n):
            t = threading.Thread(target=self._work, name=f"intake-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._scan, name="intake-scan", daemon=True)
        t.start()
        self._threads.append(t)
        # pick up whatever the last run left midway
        for mid in self.pipeline.pending_messages():
            self.submit_message(mid)
        for oid in self.pipeline.pending_orders():
            self.submit_order(oid)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)


class CeleryWorkers:
    """`intake serve` with a broker: work goes to Celery workers; a sweeper thread re-enqueues
    whatever the ledger shows pending (lost with a killed worker, or sent while the broker was down)."""

    def __init__(self, pipeline: Pipeline, settings: Settings) -> None:
        from intake.entry.tasks import Dispatcher, Sweeper, configure  # start-up time: Celery, only with a broker

        configure(settings)
        self.pipeline = pipeline
        self.dispatch = Dispatcher(settings)
        self.sweeper = Sweeper(pipeline, self.dispatch, settings.sweep_interval_s)

    def submit_message(self, message_id: str) -> None:
        try:
            self.dispatch.submit_message(message_id)
        except Exception as exc:  # broker down: the message is in the ledger, the sweep sends it later
            log.warning("could not enqueue message %s: %s", message_id, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)

    def submit_order(self, order_id: str) -> None:
        try:
            self.dispatch.submit_order(order_id)
        except Exception as exc:
            log.warning("could not enqueue order %s: %s", order_id, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)

    def start(self) -> None:
        self.sweeper.start()

    def stop(self) -> None:
        self.sweeper.stop()


def make_workers(pipeline: Pipeline, settings: Settings) -> InProcessWorkers | CeleryWorkers:
    """Celery tasks when a broker is configured, else in-process threads."""
    if settings.broker_url:
        return CeleryWorkers(pipeline, settings)
    return InProcessWorkers(pipeline, settings.workers, settings.poll_interval_s)
