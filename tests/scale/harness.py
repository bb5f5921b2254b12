"""Real processes for scale and fault tests: `intake serve`, `intake worker`, a webhook receiver.

Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432) run on every development and CI machine.
Each test takes its own Redis database number (flushed before and after) and its own PostgreSQL
schema (tests/intake/dbutil.py), so tests never see each other's work.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + base64.b64encode(b"scale-test-secret-0123456789abcd").decode()
REDIS = "redis://127.0.0.1:6379"

# A small 850 (the spine's test order); {po} is replaced per order.
X12_TEMPLATE = (
    "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*SELLERCO       *261130*1200*U*00401*{ctl}*0*P*:~"
    "GS*PO*BUYERCO*SELLERCO*20261130*1200*{gs}*X*004010~"
    "ST*850*0001~"
    "BEG*00*SA*{po}**20261128~"
    "CUR*BY*USD~"
    "N1*BY*BUYER COMPANY INC~"
    "N1*ST*BUYER DC 4*92*0004~N3*12 DOCK ROAD~N4*TOLEDO*OH*43601~"
    "PO1*1*10*EA*2.5**VN*HX-1420~PID*F****HEX NUT 1/4-20 ZINC~"
    "PO1*2*4*BX*18**VN*WSH-0250~PID*F****FLAT WASHER 1/4 BOX OF 100~"
    "CTT*2~AMT*TT*97~"
    "SE*12*0001~GE*1*{gs}~IEA*1*{ctl}~"
)


def x12_order(po: str, n: int = 0) -> bytes:
    """A valid X12 850 for PO ``po`` (unique bytes per PO)."""
    return (X12_TEMPLATE.replace("{po}", po).replace("{ctl}", f"{n % 10**9:09d}")
            .replace("{gs}", str(n % 10**9 or 1))).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping())
    except Exception:
        return False


_next_db = [8]


@contextlib.contextmanager
def redis_db() -> Iterator[str]:
    """A flushed Redis database of its own (numbers 8-15: other tests use the low ones)."""
    if not redis_available():
        pytest.skip("Redis is not reachable at 127.0.0.1:6379 (it runs on every development and CI machine)")
    import redis

    n = _next_db[0]
    _next_db[0] = 8 + (n - 7) % 8
    url = f"{REDIS}/{n}"
    r = redis.Redis.from_url(url)
    r.flushdb()
    try:
        yield url
    finally:
        r.flushdb()
        r.close()


class Receiver:
    """A real HTTP webhook receiver verifying Standard Webhooks signatures.

    ``mode``: "ok" (204), "error" (500), "hang" (holds the request ``hang_s`` seconds). Switch it
    any time; ``close()`` then a new Receiver on the same port simulates "down, then back".
    """

    def __init__(self, port: int | None = None, mode: str = "ok", hang_s: float = 120.0) -> None:
        self.port = port or free_port()
        self.mode, self.hang_s = mode, hang_s
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.first: dict[str, float] = {}  # PO -> arrival time of its first delivery
        self.attempts = 0
        self.bad = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                with outer._lock:
                    outer.attempts += 1
                if outer.mode == "hang":
                    outer._release.wait(outer.hang_s)
                    return  # the client has long given up
                if outer.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    payload = Webhook(SECRET).verify(body, {k.lower(): v for k, v in self.headers.items()})
                except Exception:
                    with outer._lock:
                        outer.bad += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                with outer._lock:
                    outer.received.append((self.headers["webhook-id"], payload))
                    outer.first.setdefault(str(payload.get("po_number")), time.time())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def by_po(self) -> dict[str, set[str]]:
        """PO number -> the webhook ids it was delivered under."""
        out: dict[str, set[str]] = {}
        with self._lock:
            for wid, p in self.received:
                out.setdefault(p["po_number"], set()).add(wid)
        return out

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def base_env(tmp_path: Path, db_url: str, broker: str | None, hook_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("INTAKE_"):
            del env[k]
    env.update(INTAKE_DATA_DIR=str(tmp_path / "data"), INTAKE_DATABASE_URL=db_url, INTAKE_WEBHOOK_URL=hook_url,
               INTAKE_WEBHOOK_SECRET=SECRET, INTAKE_WEBHOOK_BACKOFF_BASE_S="0.2", INTAKE_WEBHOOK_BACKOFF_MAX_S="1",
               INTAKE_WEBHOOK_MAX_ATTEMPTS="1000", INTAKE_POLL_INTERVAL_S="0.2", INTAKE_SWEEP_INTERVAL_S="0.5",
               INTAKE_WORKER_PRELOAD_MODEL="0", INTAKE_LOG_LEVEL="WARNING", HF_HUB_OFFLINE="1",
               PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    if broker:
        env["INTAKE_BROKER_URL"] = broker
    env.update(extra)
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "intake", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def api_key(env: dict[str, str]) -> str:
    res = cli(env, "apikey", "create", "test")
    assert res.returncode == 0, res.stderr
    return res.stdout.strip().splitlines()[-1]


def start_serve(env: dict[str, str], port: int, log: Path | None = None,
                module: str = "intake") -> subprocess.Popen[bytes]:
    """`intake serve` in its own process group; returns once /health answers."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    p = subprocess.Popen([sys.executable, "-m", module, "serve", "--port", str(port)], env=env, cwd=ROOT,
                         stdout=out, stderr=out, start_new_session=True)
    if log:
        out.close()  # the child holds its own copy of the file
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return p
        except httpx.HTTPError:
            pass
        if p.poll() is not None:
            raise RuntimeError(f"intake serve exited early ({p.returncode}); see {log}")
        time.sleep(0.2)
    kill9(p)
    raise RuntimeError("intake serve did not come up")


def start_worker(env: dict[str, str], *args: str, log: Path | None = None,
                 module: str = "intake") -> subprocess.Popen[bytes]:
    """`intake worker ARGS` (or ``python -m module worker ARGS``) in its own process group."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    p = subprocess.Popen([sys.executable, "-m", module, "worker", "--no-preload-model", *args], env=env, cwd=ROOT,
                         stdout=out, stderr=out, start_new_session=True)
    if log:
        out.close()  # the child holds its own copy of the file
    return p


def kill9(p: subprocess.Popen[bytes]) -> None:
    """kill -9 the process and every process of its group (a prefork worker's pool too)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        p.wait(10)


def stop(p: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        kill9(p)


def wait_for(cond: Callable[[], Any], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(interval)
    return bool(cond())


def ledger_counts(db_url: str) -> dict[str, int]:
    """Orders by status, straight from the ledger."""
    from sqlalchemy import create_engine, text

    eng = create_engine(db_url)
    try:
        with eng.connect() as c:
            return {s: n for s, n in c.execute(text("SELECT status, count(*) FROM orders GROUP BY status"))}
    finally:
        eng.dispose()
