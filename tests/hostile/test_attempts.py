"""A message whose reading kills the process is not read again at every start: each read
counts an attempt before it begins, and after ``max_read_attempts`` the message ends FAILED
with its reason, while the messages behind it are read."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from intake.service import ledger
from intake.core.domain import Channel
from intake.service.models import MessageRow
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.scale.harness import x12_order

KILLER = Path(__file__).with_name("killer_resume.py")


def test_a_message_that_kills_the_reader_ends_failed_after_three_starts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(INTAKE_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1", INTAKE_LIMITS__MAX_READ_ATTEMPTS="3")
    settings = Settings(data_dir=tmp_path / "data")
    pipe = Pipeline(settings)
    bad = pipe.ingest(b"ISA KILL-ME-NOW: whatever this is, reading it stops the process", filename="x.bin",
                      channel=Channel.upload).message_id
    time.sleep(0.01)
    good = pipe.ingest(x12_order("PO-BEHIND", 5), filename="po.edi", channel=Channel.upload).message_id
    codes = []
    for _ in range(4):
        p = subprocess.run([sys.executable, str(KILLER)], env=env, capture_output=True, text=True, timeout=120)
        codes.append(p.returncode)  # the next start takes the dead reader's lease over at once
    assert codes == [-9, -9, -9, 0], (codes, p.stderr[-500:])
    with pipe.sm() as s:
        m = s.get(MessageRow, bad)
        assert m is not None and m.status == "FAILED" and m.attempts == 3
        assert m.reason == ("gave up after 3 attempts: reading this message stopped the service or ran out of time "
                            "every time")
        (oid,) = ledger.message_order_ids(s, bad)
        assert ledger.get_order(s, oid).status == "FAILED" and ledger.get_order(s, oid).reason == m.reason
        g = s.get(MessageRow, good)
        assert g is not None and g.status == "PROCESSED" and g.attempts == 1
        (goid,) = ledger.message_order_ids(s, good)
        assert ledger.get_order(s, goid).status == "APPROVED"
    # a CSR's re-run (after a fix, say) starts the count again: now the real reader says what is wrong
    (new,) = pipe.rerun(oid, actor="user:carla")
    with pipe.sm() as s:
        m = s.get(MessageRow, bad)
        assert m is not None and m.attempts == 1 and m.status == "FAILED" and "gave up" not in (m.reason or "")
        assert ledger.get_order(s, new).status == "FAILED"


def test_a_lease_keeps_a_second_reader_off_a_message_being_read(tmp_path: Path) -> None:
    from sqlalchemy import update

    from intake.service.pipeline import LEASE_OWNER, _process_token

    pipe = Pipeline(Settings(data_dir=tmp_path / "data", limits={"read_lease_s": 60}))
    mid = pipe.ingest(x12_order("PO-LEASE", 6), filename="po.edi").message_id
    assert isinstance(pipe._claim(mid, wait=False), tuple)
    reader = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # the reader, elsewhere
    try:
        host = LEASE_OWNER.rsplit(":", 2)[0]
        with pipe.sm() as s:
            s.execute(update(MessageRow).where(MessageRow.id == mid)
                      .values(lease_owner=f"{host}:{reader.pid}:{_process_token(reader.pid)}"))
            s.commit()
        assert pipe.pending_messages() == []  # the sweep does not hand it out again
        assert pipe.read_message(mid, wait=False) == []  # a second reader leaves it alone
        with pipe.sm() as s:
            m = s.get(MessageRow, mid)
            assert m is not None and m.status == "RECEIVED" and m.attempts == 1
    finally:
        reader.kill()
        reader.wait()
    assert pipe.pending_messages() == [mid]  # its reader is gone: the message is handed out again
    (oid,) = pipe.read_message(mid)
    with pipe.sm() as s:
        m = s.get(MessageRow, mid)
        assert m is not None and m.status == "PROCESSED" and m.attempts == 2 and m.lease_owner is None


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once() -> None:
    from intake.service.pipeline import LEASE_OWNER, _process_token, owner_dead

    host, pid, token = LEASE_OWNER.rsplit(":", 2)
    assert not owner_dead(LEASE_OWNER)  # this very process: alive
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        other = f"{host}:{p.pid}:{_process_token(p.pid)}"
        assert not owner_dead(other)
        assert owner_dead(f"{host}:{p.pid}:1")  # the pid, reused by another process: not the holder
    finally:
        p.kill()
        p.wait()
    assert owner_dead(other)
    assert not owner_dead(f"another-host:{p.pid}:1")  # never judged from here: its lease runs out instead
    assert not owner_dead(None) and not owner_dead("junk")
