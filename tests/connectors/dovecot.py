"""A real Dovecot IMAP server for tests and benchmarks, loopback only, started without systemd.

``Dovecot.start()`` writes a private configuration (IMAP on a free port with STARTTLS, IMAPS on
another, a self-signed certificate made by openssl, a passwd-file user database, maildirs owned
by the ``dovecot`` user) under a fresh directory and runs ``/usr/sbin/dovecot -c CONF``.
Tests use the ``dovecot`` fixture, which skips with a clear reason when Dovecot is not
installed (``make install`` installs dovecot-imapd).
"""

from __future__ import annotations

import copy
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["Dovecot", "dovecot_available", "free_port", "dovecot", "dovecot_server"]

DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dovecot_available() -> str | None:
    """None when Dovecot can run here, else the reason it cannot."""
    if not Path(DOVECOT).is_file():
        return f"{DOVECOT} is not installed (apt-get install dovecot-imapd openssl; `make install` does it)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (needed for the test certificate)"
    try:
        pwd.getpwnam("dovecot")
    except KeyError:
        return "the dovecot system user does not exist (install the dovecot-core package)"
    if os.geteuid() != 0:
        return "Dovecot's test setup needs root (it switches to the dovecot user for the mail folders)"
    return None


class Dovecot:
    """One Dovecot instance with one user. ``port`` speaks IMAP (+STARTTLS), ``ssl_port`` IMAPS."""

    def __init__(self, user: str = "orders@example.test", password: str = "s3cret-test-pass",
                 spare_users: int = 40) -> None:
        self.user, self.password = user, password
        self.spare_users = spare_users
        self.port = free_port()
        self.ssl_port = free_port()
        # Not under pytest's tmp_path: that is mode 0700 and the dovecot user must traverse it.
        self.root = Path(tempfile.mkdtemp(prefix="intake-dovecot-"))
        os.chmod(self.root, 0o755)
        self.cert = self.root / "cert.pem"
        self.key = self.root / "key.pem"
        self.conf = self.root / "dovecot.conf"
        self.log = self.root / "log" / "dovecot.log"
        self.host = "127.0.0.1"
        self._started = False
        self._view = False  # a copy for another user of the same server: stop() leaves the server
        self._users = itertools.count(1)

    def _write_config(self) -> None:
        r = self.root
        for d in ("run", "state", "log", "mail"):
            (r / d).mkdir(parents=True, exist_ok=True)
        pw = pwd.getpwnam("dovecot")
        os.chown(r / "mail", pw.pw_uid, pw.pw_gid)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(self.key), "-out", str(self.cert)],
            check=True, capture_output=True, timeout=60,
        )
        # every user is written before the start: Dovecot's passwd-file cache may miss a quick edit
        users = [(self.user, self.password)] + [self._nth_user(i) for i in range(1, self.spare_users + 1)]
        (r / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in users))
        self.conf.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {r}/run
state_dir = {r}/state
log_path = {self.log}
info_log_path = {self.log}
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.key}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{r}/mail/%u/Maildir
mail_privileged_group =
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={r}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
imap_idle_notify_interval = 2 mins
""")

    def start(self, timeout: float = 15.0) -> "Dovecot":
        """Start the server and wait until both ports accept connections."""
        self._write_config()
        errfile = self.root / "start.err"
        # the master daemonizes; its children inherit our stdio, so no pipes (they would never close)
        with errfile.open("wb") as err:
            rc = subprocess.run([DOVECOT, "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, timeout=30).returncode
        if rc != 0:
            raise RuntimeError(f"dovecot did not start: {errfile.read_text(errors='replace').strip()}")
        self._started = True
        deadline = time.time() + timeout
        for port in (self.port, self.ssl_port):
            while True:
                try:
                    with socket.create_connection((self.host, port), timeout=1):
                        break
                except OSError:
                    if time.time() > deadline:
                        self.stop()
                        raise RuntimeError(f"dovecot is not listening on {port}: {self.log_tail()}")
                    time.sleep(0.05)
        return self

    @staticmethod
    def _nth_user(i: int) -> tuple[str, str]:
        return f"user{i}@example.test", f"pw-user{i}"

    def new_user(self) -> "Dovecot":
        """The same server seen as a fresh user with an empty mailbox (UIDs start at 1 again)."""
        i = next(self._users)
        if i > self.spare_users:
            raise RuntimeError(f"only {self.spare_users} test users were created")
        view = copy.copy(self)
        view._view = True
        view.user, view.password = self._nth_user(i)
        return view

    def log_tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the master process (and with it every child), then remove the directory."""
        if self._view:
            return
        if self._started:
            pidfile = self.root / "run" / "master.pid"
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                pid = 0
            if pid:
                try:
                    os.kill(pid, signal.SIGTERM)  # the master stops its children and exits
                except ProcessLookupError:
                    pid = 0
            deadline = time.time() + 10
            while pid and time.time() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def env(self, *, ssl: bool = False, starttls: bool = True) -> dict[str, str]:
        """The INTAKE_IMAP_* variables that point ``intake serve`` at this server (flat names)."""
        return {
            "INTAKE_IMAP_HOST": self.host,
            "INTAKE_IMAP_PORT": str(self.ssl_port if ssl else self.port),
            "INTAKE_IMAP_USER": self.user,
            "INTAKE_IMAP_PASSWORD": self.password,
            "INTAKE_IMAP_FOLDER": "INBOX",
            "INTAKE_IMAP_SSL": "true" if ssl else "false",
            "INTAKE_IMAP_STARTTLS": "false" if ssl else ("true" if starttls else "false"),
            "INTAKE_IMAP_CA_FILE": str(self.cert),
        }


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    """One running Dovecot for the session (stopping one takes ~2 s); skips when it cannot run."""
    why = dovecot_available()
    if why:
        pytest.skip(why)
    server = Dovecot().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The shared Dovecot as a fresh user: each test starts with an empty INBOX."""
    return dovecot_server.new_user()
