"""Retraining in the background of ``intake serve``.

A daemon thread (:class:`Learner`) looks every ``INTAKE_RETRAIN_CHECK_S`` seconds (default 30)
at how many corrections no model has been trained on yet; once there are
``INTAKE_RETRAIN_AFTER`` of them (default 3; 0 switches learning off) it starts
``python -m training.retrain`` as a separate, lower-priority process. Requests never train:
they only record corrections. The retraining process promotes its candidate if it is not worse on
the frozen set, and every process serving the model picks the new live version up on its next
extraction (``extractors.inference`` compares the live pointer every few seconds), so nothing
restarts. Only one retraining runs per data directory at a time (a lock file).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from training.learn import count_unused

__all__ = ["Learner", "start_learner", "retrain_after", "check_interval", "RetrainLock"]

log = logging.getLogger("intake.learning")


def retrain_after(settings: Any) -> int:
    """How many new corrections start a retraining (0: never): ``settings.retrain_after``
    (``INTAKE_RETRAIN_AFTER``)."""
    return max(0, int(settings.retrain_after))


def check_interval(settings: Any) -> float:
    """Seconds between two looks at the correction count: ``settings.retrain_check_s``
    (``INTAKE_RETRAIN_CHECK_S``), at least 0.2."""
    return max(0.2, float(settings.retrain_check_s))


class RetrainLock:
    """An exclusive, non-blocking lock file under the registry: one retraining at a time."""

    def __init__(self, registry_dir: Path) -> None:
        self.path = Path(registry_dir) / ".retrain.lock"
        self._fh: Any = None

    def acquire(self) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            import fcntl

            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def held_elsewhere(self) -> bool:
        """Whether another process holds the lock now."""
        if self.acquire():
            self.release()
            return False
        return True


class Learner:
    """Watches the correction count and runs retraining in a child process."""

    def __init__(self, settings: Any, sm: Any, *, after: int | None = None, check_s: float | None = None) -> None:
        self.settings = settings
        self.sm = sm
        self.after = retrain_after(settings) if after is None else after
        self.check_s = check_interval(settings) if check_s is None else check_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs: list[dict[str, Any]] = []  # finished runs: returncode, report, log file

    def pending(self) -> int:
        """Corrections not yet trained on."""
        from intake.service.db import unit_of_work

        with unit_of_work(self.sm) as s:
            return count_unused(s)

    def due(self) -> bool:
        return self.after > 0 and self.proc is None and self.pending() >= self.after

    def launch(self) -> subprocess.Popen[bytes]:
        """Start ``python -m training.retrain`` (nice 10) with this process's environment."""
        root = Path(__file__).resolve().parent.parent
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env["INTAKE_DATA_DIR"] = str(Path(self.settings.data_dir).resolve())
        if getattr(self.settings, "database_url", None):
            env["INTAKE_DATABASE_URL"] = str(self.settings.database_url)
        if getattr(self.settings, "retrain_config", None):
            env["INTAKE_RETRAIN_CONFIG"] = str(Path(self.settings.retrain_config).resolve())
        logs = Path(self.settings.registry_dir) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self._log_path = logs / time.strftime("retrain-%Y%m%d-%H%M%S.log")
        self._log_fh = open(self._log_path, "wb")
        self._out_path = self._log_path.with_suffix(".json")
        self._out_fh = open(self._out_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "training.retrain"], cwd=str(root), env=env,
                                     stdout=self._out_fh, stderr=self._log_fh, preexec_fn=lambda: os.nice(10))
        log.info("retraining started (pid %s), log %s", self.proc.pid, self._log_path)
        return self.proc

    def poll(self) -> dict[str, Any] | None:
        """If the child finished, collect its report (and return it)."""
        if self.proc is None or self.proc.poll() is None:
            return None
        rc = self.proc.returncode
        self._log_fh.close()
        self._out_fh.close()
        report: dict[str, Any] | None = None
        try:
            text = self._out_path.read_text().strip().splitlines()
            report = json.loads(text[-1]) if text else None
        except (OSError, ValueError):
            report = None
        run = {"returncode": rc, "report": report, "log": str(self._log_path)}
        self.runs.append(run)
        self.proc = None
        if report is not None:
            log.info("retraining finished: %s %s", report.get("version"),
                     ("promoted (routed: it reads the corrected layouts, the general model the rest)"
                      if report.get("routed") else "promoted") if report.get("promoted")
                     else "not promoted: " + "; ".join(report.get("reasons") or []))
        else:
            log.warning("retraining exited with %s; see %s", rc, self._log_path)
        return run

    def step(self) -> None:
        """One look: collect a finished run, start a new one when enough corrections wait."""
        self.poll()
        if self.due():
            self.launch()

    def _loop(self) -> None:
        while not self._stop.wait(self.check_s):
            try:
                self.step()
            except Exception:  # the learner must never take the service down
                log.exception("background learner check failed")

    def start(self) -> "Learner":
        if self.after <= 0:
            return self
        self._thread = threading.Thread(target=self._loop, name="intake-learner", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait_s: float = 5.0) -> None:
        """Stop watching; a running retraining is terminated (its candidate is never half-promoted:
        promotion is one atomic rename at the very end)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=wait_s)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.poll()


def start_learner(settings: Any, sm: Any) -> Learner | None:
    """The learner for ``intake serve`` (None when ``INTAKE_RETRAIN_AFTER`` is 0)."""
    learner = Learner(settings, sm)
    if learner.after <= 0:
        return None
    return learner.start()
