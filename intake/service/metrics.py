"""Prometheus metrics for ``GET /metrics`` (authenticated like every route).

Two sources, because the work may run in other processes (Celery workers on other machines):

* the ledger, read at scrape time (``LedgerCollector``): orders by state and channel, messages
  by state, queue depth (pending messages and orders, orders waiting for review, outbox pending
  and dead, the age of the oldest pending item), webhook attempts and failures, the touchless
  rate, stage latencies over the last hour (quantiles from the order history) and the model
  version. These are right on the API process whatever runs the stages, with no multiprocess
  directory.
* counters and histograms of this process (``observe_stage``): how often each stage ran here,
  with what outcome, and how long it took. In the embedded setup that is every stage; with
  Celery workers each worker process counts its own.

``observe_stage(name)`` is the pipeline's hook at stage boundaries: it also sets the log context
(``intake.service.logs.log_context``) so every line a stage logs carries its order or message id.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from extractors.serving import default_model_dir
from intake.service.logs import log_context
from intake.service.models import MessageRow, OrderEventRow, OrderRow, OutboxRow

__all__ = ["STAGE_SECONDS", "STAGE_RUNS", "observe_stage", "LedgerCollector", "registry_for", "render",
           "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

# Process-wide; registered into every app's registry (a collector may sit in several registries).
STAGE_SECONDS = Histogram("intake_stage_seconds", "Time spent in a pipeline stage in this process",
                          ["stage"], buckets=_BUCKETS, registry=None)
STAGE_RUNS = Counter("intake_stage_runs", "Pipeline stage runs in this process, by outcome (ok|error)",
                     ["stage", "outcome"], registry=None)

F = TypeVar("F", bound=Callable[..., Any])


def observe_stage(stage: str, id_kind: str = "order_id") -> Callable[[F], F]:
    """Decorate a Pipeline stage method ``(self, ident, ...)``: log context, latency, outcome.

    The decorated method stays the same function for its callers (threads or Celery tasks); the
    wrapper only times it and sets ``order_id``/``message_id`` for the lines logged inside.
    """

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(self: Any, ident: str, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            outcome = "error"
            with log_context(**{id_kind: ident}):
                try:
                    result = fn(self, ident, *args, **kwargs)
                    outcome = "ok"
                    return result
                finally:
                    STAGE_SECONDS.labels(stage).observe(time.perf_counter() - t0)
                    STAGE_RUNS.labels(stage, outcome).inc()

        return wrapper  # type: ignore[return-value]

    return deco


# --- the ledger at scrape time ----------------------------------------------------------------------

_WINDOW = timedelta(hours=1)
_MAX_EVENTS = 20_000  # bound the scrape's work on a busy ledger
_QUANTILES = (0.5, 0.95, 0.99)
_STAGE_OF = {"EXTRACTED": "read", "MATCHED": "match", "APPROVED": "decide", "NEEDS_REVIEW": "decide",
             "DUPLICATE": "decide", "DELIVERED": "deliver"}


def _naive_utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes, PostgreSQL aware ones: compare them as naive UTC."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


def _quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))
    return s[k]


class LedgerCollector(Collector):
    """Gauges computed from the ledger each time Prometheus scrapes."""

    def __init__(self, sm: sessionmaker[Session], settings: Any = None) -> None:
        self.sm, self.settings = sm, settings
        self._model_version: tuple[float, str] | None = None

    def collect(self) -> Iterable[Metric]:
        now = _naive_utc(datetime.now(timezone.utc))
        assert now is not None
        with self.sm() as s:
            orders = GaugeMetricFamily("intake_orders", "Orders in the ledger by state and channel",
                                       labels=["status", "channel"])
            for status, channel, n in s.execute(select(OrderRow.status, OrderRow.channel, func.count())
                                                .group_by(OrderRow.status, OrderRow.channel)):
                orders.add_metric([status, channel or "unknown"], n)
            yield orders

            msgs = GaugeMetricFamily("intake_messages", "Raw messages by state", labels=["status"])
            for status, n in s.execute(select(MessageRow.status, func.count()).group_by(MessageRow.status)):
                msgs.add_metric([status], n)
            yield msgs

            depth = GaugeMetricFamily("intake_queue_depth", "Work waiting, by queue", labels=["queue"])
            oldest = GaugeMetricFamily("intake_queue_oldest_seconds", "Age of the oldest waiting item, by queue",
                                       labels=["queue"])
            pending_msgs = s.execute(select(func.count(), func.min(MessageRow.received_at))
                                     .where(MessageRow.status == "RECEIVED")).one()
            pending_orders = s.execute(select(func.count(), func.min(OrderRow.updated_at))
                                       .where(OrderRow.status.in_(["RECEIVED", "EXTRACTED", "MATCHED"]))).one()
            review = s.execute(select(func.count(), func.min(OrderRow.updated_at))
                               .where(OrderRow.status == "NEEDS_REVIEW")).one()
            outbox_pending = s.execute(select(func.count(), func.min(OutboxRow.created_at))
                                       .where(OutboxRow.status == "pending")).one()
            outbox_dead = s.execute(select(func.count(), func.min(OutboxRow.created_at))
                                    .where(OutboxRow.status == "dead")).one()
            for name, (n, first) in (("messages_pending", pending_msgs), ("orders_pending", pending_orders),
                                     ("needs_review", review), ("outbox_pending", outbox_pending),
                                     ("outbox_dead", outbox_dead)):
                depth.add_metric([name], n or 0)
                first_n = _naive_utc(first)
                oldest.add_metric([name], (now - first_n).total_seconds() if first_n is not None else 0.0)
            yield depth
            yield oldest

            deliveries = GaugeMetricFamily("intake_webhook_deliveries", "Webhooks in the outbox by state",
                                           labels=["status"])
            attempts = GaugeMetricFamily("intake_webhook_attempts", "Webhook POST attempts recorded in the outbox "
                                         "(an admin's re-drive starts a row's count again)", labels=["status"])
            sent_n, failed_attempts = 0, 0
            for status, n, att in s.execute(select(OutboxRow.status, func.count(), func.coalesce(func.sum(OutboxRow.attempts), 0))
                                            .group_by(OutboxRow.status)):
                deliveries.add_metric([status], n)
                attempts.add_metric([status], att)
                if status == "sent":
                    sent_n = n
                    failed_attempts += att - n  # every attempt of a sent row but the last one failed
                else:
                    failed_attempts += att
            yield deliveries
            yield attempts
            yield GaugeMetricFamily("intake_webhook_failures", "Webhook attempts that did not get a 2xx answer",
                                    value=max(0, failed_attempts))
            del sent_n

            # touchless: of the orders that reached APPROVED, how many did the machine approve alone
            machine, person = 0, 0
            for actor, n in s.execute(
                    select(OrderEventRow.actor, func.count(func.distinct(OrderEventRow.order_id)))
                    .where(OrderEventRow.kind == "transition", OrderEventRow.to_status == "APPROVED")
                    .group_by(OrderEventRow.actor)):
                if actor == "pipeline":
                    machine += n
                else:
                    person += n
            approved = GaugeMetricFamily("intake_orders_approved", "Orders approved, by who approved them",
                                         labels=["by"])
            approved.add_metric(["machine"], machine)
            approved.add_metric(["person"], person)
            yield approved
            yield GaugeMetricFamily("intake_touchless_ratio", "Share of approved orders that no person touched",
                                    value=machine / (machine + person) if machine + person else 0.0)

            extractors = GaugeMetricFamily("intake_orders_by_extractor", "Orders by the extractor (and model "
                                           "version) that read them", labels=["extractor"])
            for ex, n in s.execute(select(OrderRow.extractor, func.count()).group_by(OrderRow.extractor)):
                extractors.add_metric([ex or "none"], n)
            yield extractors

            yield self._latencies(s, now)
        info = InfoMetricFamily("intake_model", "The layout model this service loads")
        info.add_metric([], {"version": self.model_version()})
        yield info

    def _latencies(self, s: Session, now: datetime) -> Metric:
        """Quantiles of each stage's duration over the last hour, from the order history."""
        since = now - _WINDOW
        rows = s.execute(
            select(OrderEventRow.order_id, OrderEventRow.to_status, OrderEventRow.at, MessageRow.received_at)
            .join(OrderRow, OrderRow.id == OrderEventRow.order_id)
            .join(MessageRow, MessageRow.id == OrderRow.message_id)
            .where(OrderEventRow.kind == "transition", OrderEventRow.at >= since)
            .order_by(OrderEventRow.order_id, OrderEventRow.at, OrderEventRow.id).limit(_MAX_EVENTS)).all()
        durations: dict[str, list[float]] = {}
        prev_order, prev_at = None, None
        for order_id, to_status, at, received in rows:
            at_n, rec_n = _naive_utc(at), _naive_utc(received)
            if order_id != prev_order:
                prev_order, prev_at = order_id, rec_n  # the read stage starts when the bytes arrived
            stage = _STAGE_OF.get(to_status or "")
            if stage and prev_at is not None and at_n is not None:
                durations.setdefault(stage, []).append(max(0.0, (at_n - prev_at).total_seconds()))
            if to_status == "DELIVERED" and rec_n is not None and at_n is not None:
                durations.setdefault("ingest_to_webhook", []).append(max(0.0, (at_n - rec_n).total_seconds()))
            if stage:  # the order's creation (RECEIVED) is part of the read stage, not its start
                prev_at = at_n
        g = GaugeMetricFamily("intake_ledger_stage_seconds", "Stage durations over the last hour, from the "
                              "ledger (all processes)", labels=["stage", "quantile"])
        for stage, vals in sorted(durations.items()):
            for q in _QUANTILES:
                g.add_metric([stage, str(q)], _quantile(vals, q))
        return g

    def model_version(self) -> str:
        """The version of the model this service would load (cached for a minute)."""
        now = time.monotonic()
        if self._model_version is not None and now - self._model_version[0] < 60:
            return self._model_version[1]
        version = "none"
        try:
            d = default_model_dir(self.settings)
            meta = d / "intake_model.json"
            if meta.is_file():
                version = str(json.loads(meta.read_text()).get("version") or d.name)
            elif (d / "model.safetensors").is_file():
                version = d.name
        except Exception:  # a metrics scrape never fails because the model folder is odd
            version = "unknown"
        self._model_version = (now, version)
        return version


_registries: "weakref.WeakKeyDictionary[Any, CollectorRegistry]" = weakref.WeakKeyDictionary()
_reg_lock = threading.Lock()


def registry_for(sm: sessionmaker[Session], settings: Any = None) -> CollectorRegistry:
    """One registry per ledger (per app): the ledger collector plus this process's stage metrics."""
    with _reg_lock:
        reg = _registries.get(sm)
        if reg is None:
            reg = CollectorRegistry(auto_describe=False)
            reg.register(LedgerCollector(sm, settings))
            reg.register(STAGE_SECONDS)
            reg.register(STAGE_RUNS)
            _registries[sm] = reg
        return reg


def render(sm: sessionmaker[Session], settings: Any = None) -> bytes:
    """The Prometheus text exposition of the metrics for this ledger."""
    return generate_latest(registry_for(sm, settings))


def parse(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample in an exposition (for tests and the benchmark)."""
    from prometheus_client.parser import text_string_to_metric_families

    for fam in text_string_to_metric_families(text):
        for smp in fam.samples:
            yield smp.name, dict(smp.labels), float(smp.value)
