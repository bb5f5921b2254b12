"""In-process workers for the embedded setup: threads that move messages and orders along.

A queue gets new work immediately; a periodic scan of the ledger picks up whatever a crash
or restart left midway, so nothing depends on the queue surviving.
"""

from __future__ import annotations

import logging
import queue
import threading

from intake.pipeline import Pipeline

__all__ = ["InProcessWorkers"]

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
