"""Structured logs: one JSON object per line, the order and message id on every line, no secrets.

    {"ts": "2026-11-30T12:00:00.123Z", "level": "INFO", "logger": "intake.outbox",
     "message": "webhook delivered", "order_id": "…", "message_id": "…", "webhook_id": "…"}

``log_context(order_id=..., message_id=...)`` sets the ids for every line logged inside it (a
``contextvars`` variable, so threads and tasks each see their own). The pipeline's stages set it
(``intake.service.metrics.observe_stage``). ``RedactingFilter`` rewrites every record before any handler
writes it: API keys, webhook secrets, passwords, ``Authorization`` headers, credentials in URLs
and every secret value registered with ``register_secret`` (the configured ones are registered by
``configure_logging``) become ``[REDACTED]``.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

__all__ = ["log_context", "current_context", "JsonFormatter", "RedactingFilter", "redact", "register_secret",
           "configure_logging", "REDACTED"]

REDACTED = "[REDACTED]"

_order_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("intake_order_id", default=None)
_message_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("intake_message_id", default=None)


@contextlib.contextmanager
def log_context(*, order_id: str | None = None, message_id: str | None = None) -> Iterator[None]:
    """Every log line inside the block carries these ids (unset ones keep the outer value)."""
    tokens = []
    if order_id is not None:
        tokens.append((_order_id, _order_id.set(order_id)))
    if message_id is not None:
        tokens.append((_message_id, _message_id.set(message_id)))
    try:
        yield
    finally:
        for var, tok in reversed(tokens):
            var.reset(tok)


def current_context() -> dict[str, str]:
    """The ids set by the enclosing ``log_context`` blocks."""
    out = {}
    if (o := _order_id.get()) is not None:
        out["order_id"] = o
    if (m := _message_id.get()) is not None:
        out["message_id"] = m
    return out


# --- redaction --------------------------------------------------------------------------------

# Patterns of things that are secrets whatever their value. Each keeps its first group (the name)
# and replaces the value.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization / Proxy-Authorization / Cookie headers in any rendering (dict repr, HTTP text, JSON)
    (re.compile(r"""((?:proxy-)?authorization['"]?\s*[:=]\s*['"]?)(?:bearer|basic|token)?\s*[^'",\s}]+""", re.I),
     r"\1" + REDACTED),
    (re.compile(r"""((?:set-)?cookie['"]?\s*[:=]\s*['"]?)[^'"\n}]+""", re.I), r"\1" + REDACTED),
    (re.compile(r"(\bbearer\s+)[A-Za-z0-9._~+/=-]{6,}", re.I), r"\1" + REDACTED),
    # our API keys and Standard Webhooks secrets have fixed prefixes
    (re.compile(r"\boik_[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}"), REDACTED),
    # name=value / "name": "value" for names that hold secrets
    (re.compile(r"""(\b(?:password|passwd|pwd|secret|api[_-]?key|token|access[_-]?token|client[_-]?secret|"""
                r"""webhook[_-]?secret)['"]?\s*[:=]\s*['"]?)(?!\[REDACTED\])[^'"&,\s}]+""", re.I),
     r"\1" + REDACTED),
    # credentials inside URLs: scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(@)", re.I), r"\1" + REDACTED + r"\2"),
]

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: Any) -> None:
    """Redact this exact value wherever it appears in a log line (``SecretStr`` accepted)."""
    if value is None:
        return
    raw = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    if len(raw) >= 4:  # shorter values would redact ordinary words
        with _secrets_lock:
            _secrets.add(raw)


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``[REDACTED]``."""
    if not text:
        return text
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for s in known:
        if s in text:
            text = text.replace(s, REDACTED)
    for pat, repl in _PATTERNS:
        text = pat.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, extras and exception text with ``redact``. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            msg = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(msg), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key, val in list(record.__dict__.items()):
            if key not in _STD_ATTRS and isinstance(val, str):
                setattr(record, key, redact(val))
        return True


_STD_ATTRS = (frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
              | {"message", "asctime", "taskName", "color_message"})  # uvicorn's ANSI copy of the message


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the context ids and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(current_context())
        for key, val in record.__dict__.items():
            if key not in _STD_ATTRS and not key.startswith("_") and val is not None:
                out[key] = val if isinstance(val, (str, int, float, bool)) else str(val)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        # the last line of defence: whatever a handler got past the filter is redacted here too
        return redact(json.dumps(out, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """Human-readable lines with the context ids appended."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ctx = current_context()
        if ctx:
            line += " " + " ".join(f"{k}={v}" for k, v in ctx.items())
        return redact(line)


_HANDLER_FLAG = "_intake_handler"


def configure_logging(level: str | int = "WARNING", fmt: str = "json", *, settings: Any = None,
                      stream: IO[str] | None = None) -> logging.Handler:
    """Install one handler on the root logger (replacing a previous one of ours).

    ``fmt`` is ``json`` or ``text``. The configured secrets of ``settings`` (webhook secret,
    database, broker, IMAP and SMTP passwords) are registered for redaction. Uvicorn's loggers are
    pointed at the root so their lines get the same format.
    """
    if settings is not None:
        register_settings_secrets(settings)
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, _HANDLER_FLAG, False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_FLAG, True)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else str(level).upper())
    _route_uvicorn_to_root()
    return handler


def register_settings_secrets(settings: Any) -> None:
    """Register every secret the settings hold: SecretStr fields and passwords inside URLs."""
    from urllib.parse import urlsplit

    register_secret(getattr(settings, "webhook_secret", None))
    for group in ("imap", "smtp"):
        g = getattr(settings, group, None)
        if g is not None:
            register_secret(getattr(g, "password", None))
            for mb in getattr(g, "mailboxes", []) or []:
                register_secret(getattr(mb, "password", None))
    for url in (getattr(settings, "database_url", None), getattr(settings, "broker_url", None)):
        if url:
            try:
                register_secret(urlsplit(url).password)
            except ValueError:
                pass


def _route_uvicorn_to_root() -> None:
    """uvicorn.run() applies its own dictConfig (text handlers on its loggers). Point that config
    at the root logger instead, so access and error lines come out in our format and redacted."""
    try:
        import uvicorn.config
    except ImportError:  # pragma: no cover - uvicorn is a dependency
        return
    cfg = uvicorn.config.LOGGING_CONFIG
    cfg["handlers"] = {}
    cfg["disable_existing_loggers"] = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        cfg.setdefault("loggers", {})[name] = {"handlers": [], "propagate": True}
