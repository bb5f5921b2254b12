"""The pipeline's stages as Celery tasks: scale-out over a broker (``INTAKE_BROKER_URL``).

    intake.read_message(message_id)   RECEIVED message -> orders, then each order's next stage
    intake.match_order(order_id)      EXTRACTED -> MATCHED, then decide
    intake.decide_order(order_id)     MATCHED -> APPROVED (+ outbox row) | NEEDS_REVIEW | DUPLICATE
    intake.advance_order(order_id)    whatever stage the order is at (used by the sweep)
    intake.sweep()                    enqueue every message and order the ledger shows as pending

Each task calls the same ``Pipeline`` method the in-process threads call; every stage is
guarded by the order's status in the ledger, so a task delivered twice (a redelivery after a
killed worker, the sweep, two API processes) changes nothing the second time. The ledger is
the truth and the queue only a hint: ``Sweeper`` (a thread in ``intake serve`` with a broker and
in every ``intake worker``) re-enqueues what the ledger shows as pending, so a message lost with
a killed worker or a flushed broker is picked up again. A Redis key per item (``SET NX EX``)
keeps sweeps from piling copies of the same work onto a busy queue.

Settings that make redelivery safe: ``acks_late`` (a task is acknowledged after it ran) and
``reject_on_worker_lost`` (a pool process killed mid-task puts it back), prefetch of one.
The pipeline (engine, blob store, catalog) and the layout model are built once per worker
process in ``worker_process_init``.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable
from typing import Any

from celery import Celery, signals

from extractors.inference import default_extractor
from intake.core.errors import ConfigError, IntakeError, InvalidTransition, NotFound
from intake.core.settings import Settings, get_settings
from intake.core.states import OrderStatus
from intake.entry.bootstrap import build_pipeline, open_ledger
from intake.service import ledger
from intake.service.logs import log_context

__all__ = ["celery_app", "configure", "get_pipeline", "on_pipeline_ready", "Dispatcher", "Sweeper",
           "read_message", "match_order", "decide_order", "advance_order", "sweep", "QUEUE"]

log = logging.getLogger("intake.tasks")

QUEUE = "intake"

celery_app = Celery("intake")
celery_app.conf.update(
    task_acks_late=True,  # acknowledge after the task ran: a killed worker's task is delivered again
    task_reject_on_worker_lost=True,  # ... also when the pool process running it dies (kill -9, OOM)
    worker_prefetch_multiplier=1,  # a worker holds one task at a time: work spreads over workers
    task_default_queue=QUEUE,
    task_serializer="json", accept_content=["json"], result_serializer="json",
    task_ignore_result=True,  # the ledger holds every result; no result backend needed
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": 900},  # Redis: unacked tasks come back after this
    worker_hijack_root_logger=False,  # keep intake.logs' JSON lines
    worker_redirect_stdouts=False,
    worker_cancel_long_running_tasks_on_connection_loss=False,
    task_time_limit=1800, task_soft_time_limit=1700,
)

_state: dict[str, Any] = {"settings": None, "pipeline": None, "dispatcher": None}
_state_lock = threading.Lock()
_ready_hooks: list[Callable[[Any], None]] = []


def configure(settings: Settings) -> Celery:
    """Point the Celery app at ``settings.broker_url`` and remember the settings for the tasks."""
    if not settings.broker_url:
        raise ConfigError("INTAKE_BROKER_URL is not set: Celery workers need a broker, e.g. redis://127.0.0.1:6379/0")
    if celery_app.conf.broker_url != settings.broker_url:
        celery_app.conf.broker_url = settings.broker_url
        # connections already made point at the old broker: start afresh (the same reset Celery
        # does after a fork)
        celery_app._after_fork()
    with _state_lock:
        _state["settings"] = settings
        _state["dispatcher"] = None
    return celery_app


def _settings() -> Settings:
    s = _state["settings"]
    if s is None:
        s = get_settings()
        configure(s)
    return s  # type: ignore[no-any-return]


def on_pipeline_ready(fn: Callable[[Any], None]) -> None:
    """Call ``fn(pipeline)`` once the process's pipeline is built (to plug in an extractor)."""
    _ready_hooks.append(fn)


def get_pipeline() -> Any:
    """This process's Pipeline (built on first use; ``worker_process_init`` builds it eagerly)."""
    with _state_lock:
        pipe = _state["pipeline"]
        if pipe is not None:
            return pipe
    settings = _settings()
    # no migration here: `intake worker` upgrades once before its pool starts, so N pool processes
    # do not race to create the same tables
    pipe = build_pipeline(settings, open_ledger(settings, migrate=False))
    pipe.actor = "pipeline"
    with _state_lock:
        if _state["pipeline"] is None:
            _state["pipeline"] = pipe
            for hook in _ready_hooks:
                hook(pipe)
        return _state["pipeline"]


def dispatcher() -> "Dispatcher":
    with _state_lock:
        d = _state["dispatcher"]
    if d is None:
        d = Dispatcher(_settings())
        with _state_lock:
            _state["dispatcher"] = d
    return d  # type: ignore[no-any-return]


parent_engines: list[Any] = []  # engines of the worker's main process (sweeper, relay)


@signals.worker_process_init.connect
def _init_worker_process(**_kw: Any) -> None:
    """In each pool process: forget engines inherited from the parent, build the pipeline and
    load the model once."""
    with _state_lock:
        inherited = _state["pipeline"]
        _state["pipeline"] = None
        _state["dispatcher"] = None
    # the parent's pooled connections must not be used (or closed) by a forked child
    for engine in ([inherited.sm.kw["bind"]] if inherited is not None else []) + parent_engines:
        engine.dispose(close=False)
    parent_engines.clear()
    pipe = get_pipeline()
    if _settings().worker_preload_model and pipe.model_extract is None:
        try:
            pipe.model_extract = default_extractor()
            log.info("layout model loaded in worker process", extra={"pid": os.getpid()})
        except IntakeError as exc:  # EDI still works; documents needing the model fail with this reason
            log.warning("layout model not loaded in worker process: %s", exc.reason, extra={"pid": os.getpid()})


# --- enqueueing ----------------------------------------------------------------------------------

_NEXT_TASK = {OrderStatus.EXTRACTED.value: "intake.match_order", OrderStatus.MATCHED.value: "intake.decide_order",
              OrderStatus.RECEIVED.value: "intake.advance_order"}


class Dispatcher:
    """Sends stage tasks, at most one queued copy per item (a Redis ``SET NX EX`` marker).

    The marker expires after ``marker_ttl_s``: a task lost with a killed worker is sent again by
    the next sweep after that, and a task that ran clears its marker so the next stage can go.
    """

    def __init__(self, settings: Settings, marker_ttl_s: float | None = None) -> None:
        self.settings = settings
        self.ttl = max(2, int(round(marker_ttl_s if marker_ttl_s is not None else 6 * settings.sweep_interval_s)))
        self._redis: Any = None
        self._lock = threading.Lock()

    def _r(self) -> Any:
        with self._lock:
            if self._redis is None:
                url = self.settings.broker_url or ""
                if url.startswith(("redis://", "rediss://", "unix://")):
                    import redis

                    self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
                else:
                    self._redis = False  # another broker: no dedupe, the status guards still hold
            return self._redis

    def _claim(self, key: str) -> bool:
        r = self._r()
        if not r:
            return True
        return bool(r.set(f"intake:queued:{key}", "1", nx=True, ex=self.ttl))

    def release(self, key: str) -> None:
        r = self._r()
        if r:
            r.delete(f"intake:queued:{key}")

    def submit_message(self, message_id: str, *, force: bool = False) -> bool:
        """Enqueue the read of a message. Returns False when a copy is already queued."""
        if not force and not self._claim(f"m:{message_id}"):
            return False
        celery_app.send_task("intake.read_message", args=[message_id], queue=QUEUE)
        return True

    def submit_order(self, order_id: str, status: str | None = None, *, force: bool = False) -> bool:
        """Enqueue the order's next stage (by its status, when known)."""
        task = _NEXT_TASK.get(status or "", "intake.advance_order")
        if not force and not self._claim(f"o:{order_id}"):
            return False
        celery_app.send_task(task, args=[order_id], queue=QUEUE)
        return True

    def sweep(self, pipeline: Any) -> int:
        """Enqueue every pending message and order of the ledger that is not queued already."""
        n = 0
        for mid in pipeline.pending_messages(limit=500):
            n += self.submit_message(mid)
        for oid in pipeline.pending_orders(limit=500):
            n += self.submit_order(oid)
        return n


class Sweeper:
    """A thread that runs ``Dispatcher.sweep`` every ``interval`` seconds; survives broker and
    database outages (it logs and tries again)."""

    def __init__(self, pipeline: Any, dispatch: Dispatcher, interval: float) -> None:
        self.pipeline, self.dispatch, self.interval = pipeline, dispatch, max(0.05, interval)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        while True:
            try:
                n = self.dispatch.sweep(self.pipeline)
                if n:
                    log.info("sweep enqueued pending work", extra={"enqueued": n})
            except Exception as exc:
                log.warning("sweep failed; retrying: %s", f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
            if self._stop.wait(self.interval):
                return

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="intake-sweep", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


# --- the tasks ---------------------------------------------------------------------------------

_DB_RETRIES = 10


def _is_db_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError)


def _retry_later(task: Any, exc: BaseException, what: str) -> None:
    """A dropped database connection: try again soon (backoff with jitter); after the limit the
    sweep takes it up, since the ledger still shows it pending."""
    n = task.request.retries
    delay = min(30.0, 0.5 * 2 ** n) * random.uniform(0.5, 1.0)
    log.warning("%s: database error, retry %d in %.1fs: %s", what, n + 1, delay,
                f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
    if n < _DB_RETRIES:
        raise task.retry(countdown=delay, exc=exc)


@celery_app.task(name="intake.read_message", bind=True, max_retries=_DB_RETRIES)
def read_message(self: Any, message_id: str) -> list[str]:
    """Read a stored message into orders and enqueue each order's next stage."""
    pipe, disp = get_pipeline(), dispatcher()
    with log_context(message_id=message_id):
        try:
            ids = pipe.read_message(message_id)
        except NotFound:
            log.warning("message not found; nothing to do")
            disp.release(f"m:{message_id}")
            return []
        except Exception as exc:
            disp.release(f"m:{message_id}")
            if _is_db_error(exc):
                _retry_later(self, exc, "read")
                return []
            raise
        disp.release(f"m:{message_id}")
        log.info("message read", extra={"orders": len(ids)})
        for oid in ids:
            _next(pipe, disp, oid)
        return ids


def _status(pipe: Any, order_id: str) -> str:
    with pipe.sm() as s:
        return str(ledger.get_order(s, order_id).status)


def _next(pipe: Any, disp: Dispatcher, order_id: str) -> None:
    status = _status(pipe, order_id)
    if status in _NEXT_TASK:
        disp.submit_order(order_id, status)


def _run_stage(task: Any, order_id: str, expected: str, stage: Callable[[str], None]) -> str:
    """Run one stage with the embedded workers' error rules; enqueue the next. Returns the status."""
    pipe, disp = get_pipeline(), dispatcher()
    with log_context(order_id=order_id):
        try:
            status = _status(pipe, order_id)
            if status == expected:
                try:
                    stage(order_id)
                except InvalidTransition:
                    pass  # another worker moved it
                except IntakeError as exc:
                    pipe._fail(order_id, expected, exc.reason)
                except Exception as exc:
                    if _is_db_error(exc):
                        raise
                    log.exception("stage after %s failed", expected)
                    pipe._fail(order_id, expected, f"internal error: {type(exc).__name__}: {exc}".splitlines()[0][:500])
        except NotFound:
            disp.release(f"o:{order_id}")
            return "NOT_FOUND"
        except Exception as exc:
            disp.release(f"o:{order_id}")
            if _is_db_error(exc):
                _retry_later(task, exc, f"stage after {expected}")
                return expected
            raise
        disp.release(f"o:{order_id}")
        status = _status(pipe, order_id)
        log.info("stage done", extra={"after": expected, "status": status})
        if status in _NEXT_TASK:
            disp.submit_order(order_id, status)
        return status


@celery_app.task(name="intake.match_order", bind=True, max_retries=_DB_RETRIES)
def match_order(self: Any, order_id: str) -> str:
    """EXTRACTED -> MATCHED (customer and products from master data), then the decision."""
    return _run_stage(self, order_id, OrderStatus.EXTRACTED.value, get_pipeline().match_order)


@celery_app.task(name="intake.decide_order", bind=True, max_retries=_DB_RETRIES)
def decide_order(self: Any, order_id: str) -> str:
    """MATCHED -> APPROVED (with its outbox row) | NEEDS_REVIEW | DUPLICATE."""
    return _run_stage(self, order_id, OrderStatus.MATCHED.value, get_pipeline().decide)


@celery_app.task(name="intake.advance_order", bind=True, max_retries=_DB_RETRIES)
def advance_order(self: Any, order_id: str) -> str:
    """Run whichever stage the order is at (the sweep does not know the status when it sends)."""
    pipe = get_pipeline()
    try:
        status = _status(pipe, order_id)
    except NotFound:
        dispatcher().release(f"o:{order_id}")
        return "NOT_FOUND"
    except Exception as exc:
        dispatcher().release(f"o:{order_id}")
        if _is_db_error(exc):
            _retry_later(self, exc, "advance")
        raise
    if status == OrderStatus.EXTRACTED.value:
        return _run_stage(self, order_id, status, pipe.match_order)
    if status == OrderStatus.MATCHED.value:
        return _run_stage(self, order_id, status, pipe.decide)
    dispatcher().release(f"o:{order_id}")
    return status


@celery_app.task(name="intake.sweep")
def sweep() -> int:
    """Enqueue every pending message and order (for operators: `celery call intake.sweep`)."""
    return dispatcher().sweep(get_pipeline())
