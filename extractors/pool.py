"""Readers in separate processes, each with a memory and a time limit.

    read_isolated(data, filename, limits) -> list[Document]

One hostile document must not take the service down: a PDF that makes pdfium allocate
gigabytes, a workbook that openpyxl blows up, an image that keeps Tesseract busy for minutes, a
library that crashes. ``registry.read_bytes`` therefore runs in a worker process (``python -m
extractors.pool``) whose address space is capped with ``RLIMIT_AS``
(``Limits.reader_memory_mb``; Tesseract, started by the worker, inherits the cap) and which is
killed, with everything it started, after ``Limits.reader_timeout_s``. What comes back is the
documents, or the named error with its one-line reason; a worker that died or was killed is
replaced and the message fails with a LimitExceeded or CorruptDocument saying why.

Workers are started on first use (about half a second each), kept for the next document, and
there are at most ``Limits.reader_processes`` of them; more concurrent reads wait for one.
``Limits.reader_isolation = "inline"`` reads in the calling process (no limits).

Each answer carries the worker's peak resident memory during that read (``last_peak_mb``), so
benchmarks can report it: the larger of the worker's own peak since the read began and the
largest peak of any program it ran (Tesseract), an upper bound of what one process of the read used.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from intake.core.domain import Document
from intake.core.errors import CorruptDocument, IntakeError, LimitExceeded, ReadError
from intake.core.settings import Limits

__all__ = ["ReaderPool", "read_isolated", "pool_for", "last_peak_mb", "shutdown"]

log = logging.getLogger("extractors.pool")
ROOT = Path(__file__).resolve().parent.parent
_HEADER = struct.Struct("!Q")
_local = threading.local()


def _send(fh: BinaryIO, obj: Any) -> None:
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(_HEADER.pack(len(blob)))
    fh.write(blob)
    fh.flush()


def _recv(fh: BinaryIO) -> Any:
    head = fh.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("the reader process closed its pipe")
    (n,) = _HEADER.unpack(head)
    blob = fh.read(n)
    if len(blob) < n:
        raise EOFError("the reader process closed its pipe")
    return pickle.loads(blob)  # noqa: S301 - our own worker, over a private pipe


class _Worker:
    def __init__(self, memory_mb: int) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        for var in ("OMP_THREAD_LIMIT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"  # one thread per read (readers run side by side); thread stacks count against the cap
        self.tmp = tempfile.mkdtemp(prefix="intake-reader-")  # a killed Tesseract's files go with the worker
        env["TMPDIR"] = self.tmp
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "extractors.pool", "--memory-mb", str(int(memory_mb))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, env=env, cwd=str(ROOT),
            start_new_session=True,  # its own process group: a kill takes Tesseract with it
        )
        self.used = 0
        self.ready = False

    def wait_ready(self, timeout: float = 120.0) -> None:
        """The worker says it has imported its libraries: its start does not count against a document."""
        import select

        if self.ready:
            return
        out = self.proc.stdout
        assert out is not None
        ready, _, _ = select.select([out], [], [], timeout)
        try:
            if not ready or _recv(out) != ("ready",):  # type: ignore[arg-type]
                raise EOFError
        except (EOFError, OSError, pickle.UnpicklingError):
            code = self.proc.poll()
            self.kill()
            raise ReadError(f"the reader process could not start ({_death(code)})") from None
        self.ready = True

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for fh in (self.proc.stdin, self.proc.stdout):
            try:
                if fh is not None:
                    fh.close()
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def _death(code: int | None) -> str:
    if code is None:
        return "the reader stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return f"the reader was killed ({name}): it probably ran out of memory"
        return f"the reader crashed ({name})"
    return f"the reader process ended with exit code {code}"


class ReaderPool:
    """At most ``size`` worker processes, each reading one document at a time."""

    def __init__(self, size: int, memory_mb: int) -> None:
        self.size, self.memory_mb = max(1, size), memory_mb
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False

    def _take(self) -> _Worker:
        with self._cond:
            while True:
                while self._idle:
                    w = self._idle.pop()
                    if w.alive():
                        return w
                    self._count -= 1
                    w.kill()
                if self._count < self.size:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            return _Worker(self.memory_mb)
        except Exception:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _give_back(self, w: _Worker, keep: bool) -> None:
        with self._cond:
            if keep and not self._closed and w.alive() and w.used < 200:
                self._idle.append(w)
            else:
                self._count -= 1
                w.kill()
            self._cond.notify()

    def read(self, data: bytes, filename: str | None, limits: Limits, kind: str | None = None) -> list[Document]:
        """``registry.read_bytes`` in a worker; the same named errors, plus limits on memory and time."""
        for attempt in range(2):
            w = self._take()
            keep = False
            try:
                w.wait_ready()
                try:
                    _send(w.proc.stdin, (bytes(data), filename, limits.model_dump(mode="json"), kind))  # type: ignore[arg-type]
                except (BrokenPipeError, OSError):
                    if attempt == 0:
                        continue  # the idle worker had died: take a fresh one
                    try:
                        w.proc.wait(2)
                    except subprocess.TimeoutExpired:
                        pass
                    raise CorruptDocument(f"the document could not be handed to a reader: {_death(w.proc.poll())}") \
                        from None
                w.used += 1
                answer = self._wait(w, limits.reader_timeout_s)
                if answer == ("ready",):  # cannot happen after wait_ready; a confused worker is not kept
                    raise CorruptDocument("the reader process answered out of turn")
                status, payload, peak = answer
                _local.peak_mb = peak
                if status == "ok":
                    keep = True
                    return payload  # type: ignore[no-any-return]
                cls, reason = payload
                keep = cls != "MemoryError"  # a worker that hit its memory cap is not trusted again
                raise _error(cls, reason)
            finally:
                self._give_back(w, keep)
        raise ReadError("the reader process could not be started")

    def _wait(self, w: _Worker, timeout: float) -> Any:
        import select

        out = w.proc.stdout
        assert out is not None
        ready, _, _ = select.select([out], [], [], timeout)
        if not ready:
            w.kill()
            raise LimitExceeded(f"reading the document took longer than {timeout:g} s (the limit); it was stopped")
        try:
            return _recv(out)  # type: ignore[arg-type]
        except (EOFError, OSError, pickle.UnpicklingError):
            try:
                w.proc.wait(2)
            except subprocess.TimeoutExpired:
                pass
            code = w.proc.poll()
            w.kill()
            reason = _death(code)
            if code is not None and -code == signal.SIGKILL:
                raise LimitExceeded(reason) from None
            raise CorruptDocument(reason) from None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for w in idle:
            w.kill()


def _error(cls: str, reason: str) -> IntakeError:
    import intake.core.errors as errors

    if cls == "MemoryError":
        return LimitExceeded(reason)
    klass = getattr(errors, cls, None)
    if isinstance(klass, type) and issubclass(klass, IntakeError):
        try:
            return klass(reason)  # type: ignore[call-arg]
        except TypeError:
            pass
    return CorruptDocument(reason)


_POOLS: dict[tuple[int, int], ReaderPool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(limits: Limits) -> ReaderPool:
    """The process-wide pool for these limits (one per memory cap and size)."""
    key = (limits.reader_processes, limits.reader_memory_mb)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = ReaderPool(*key)
        return pool


def read_isolated(data: bytes, filename: str | None, limits: Limits, kind: str | None = None) -> list[Document]:
    """Read ``data`` as ``registry.read_bytes`` does, in a bounded worker (or inline, if so configured).
    ``kind``: the content type already sniffed (extractors/dispatch.py), else the worker sniffs."""
    _local.peak_mb = None
    if limits.reader_isolation == "inline":
        from extractors.registry import read_bytes

        return read_bytes(data, filename, limits, kind)
    if not data:
        from intake.core.errors import EmptyDocument

        raise EmptyDocument("the input is empty (0 bytes)")
    if len(data) > limits.max_upload_bytes:
        raise LimitExceeded(f"the input has {len(data)} bytes, more than the limit of {limits.max_upload_bytes}")
    return pool_for(limits).read(data, filename, limits, kind)


def last_peak_mb() -> float | None:
    """Peak resident memory (MB) of the worker during this thread's last isolated read."""
    return getattr(_local, "peak_mb", None)


def shutdown() -> None:
    """Stop every worker (also done when the interpreter exits)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for p in pools:
        p.close()


import atexit  # noqa: E402

atexit.register(shutdown)


# --- the worker process ----------------------------------------------------------------------

def _peak_mb() -> float:
    """This process's peak resident memory since the last reset, plus its children's (Tesseract)."""
    import resource

    hwm = 0.0
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) / 1024
                    break
    except OSError:
        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(max(hwm, children), 1)


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


def _serve(memory_mb: int) -> None:
    import resource

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service decides when readers stop
    # the libraries first (they count against the cap too, but must not fail half-imported)
    import extractors.email  # noqa: F401
    import extractors.ocr  # noqa: F401
    import extractors.pdf  # noqa: F401
    import extractors.spreadsheet  # noqa: F401
    from extractors.base import short_reason
    from extractors.registry import read_bytes

    for optional in ("pytesseract", "PIL.Image", "openpyxl", "pypdfium2", "charset_normalizer"):
        try:
            __import__(optional)
        except ImportError:
            pass
    if memory_mb > 0:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a library that prints must not corrupt the answers
    _send(stdout, ("ready",))
    while True:
        try:
            data, filename, limits_json, kind = _recv(stdin)
        except EOFError:
            return
        _reset_peak()
        try:
            docs = read_bytes(data, filename, Limits.model_validate(limits_json), kind)
            answer: Any = ("ok", docs, _peak_mb())
        except IntakeError as exc:
            answer = ("err", (type(exc).__name__, exc.reason), _peak_mb())
        except MemoryError:
            answer = ("err", ("MemoryError", f"the document needs more memory than the reader's limit of "
                                             f"{memory_mb} MB"), _peak_mb())
        except RecursionError:
            answer = ("err", ("LimitExceeded", "the document is nested too deeply to read"), _peak_mb())
        except Exception as exc:  # read_bytes names its errors; anything else is still this document's fault
            answer = ("err", ("CorruptDocument", f"the document could not be read: {short_reason(exc)}"), _peak_mb())
        del data
        try:
            _send(stdout, answer)
        except MemoryError:
            _send(stdout, ("err", ("MemoryError", "the document's text is too large to hand back"), _peak_mb()))


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="A reader worker (started by extractors.pool; speaks over its pipes).")
    ap.add_argument("--memory-mb", type=int, default=0)
    _serve(ap.parse_args().memory_mb)
