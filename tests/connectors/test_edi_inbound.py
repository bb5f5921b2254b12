"""EDI partner folders: a file is taken once it is complete, stored once, moved to processed/ or
failed/ (with the reason), and the acknowledgments land in the partner's out/ folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import func, select

from connectors.edi_inbound import EdiFolderWatcher
from intake.service import ledger
from intake.core.domain import Channel
from intake.service.models import MessageRow
from intake.service.outbox import deliver_acks
from intake.service.pipeline import Pipeline
from intake.core.settings import Settings
from tests.connectors.mails import x12_850


def _setup(tmp_path: Path) -> tuple[Pipeline, EdiFolderWatcher, Path]:
    import connectors.models  # noqa: F401

    root = tmp_path / "edi"
    (root / "acme" / "in").mkdir(parents=True)
    pipe = Pipeline(Settings(data_dir=tmp_path / "data", edi_inbound={"dir": root}))
    return pipe, EdiFolderWatcher(root, pipe, stable_s=0.2), root


def _scan_until(w: EdiFolderWatcher, n: int, timeout: float = 5.0) -> list:  # type: ignore[type-arg]
    got: list = []  # type: ignore[type-arg]
    deadline = time.time() + timeout
    while len(got) < n and time.time() < deadline:
        got += w.scan_once()
        time.sleep(0.1)
    return got


def test_a_partner_file_is_ingested_once_and_acknowledged_in_its_out_folder(tmp_path: Path) -> None:
    pipe, w, root = _setup(tmp_path)
    inbox = root / "acme" / "in"
    # a file still being written is not taken
    f = inbox / "po1.x12"
    f.write_text(x12_850("PO-EDI-1")[:60])
    assert w.scan_once() == []
    f.write_text(x12_850("PO-EDI-1"))
    assert w.scan_once() == []  # changed since the last look: wait until it is stable
    (res,) = _scan_until(w, 1)
    assert res.status == "processed" and res.partner == "acme"
    assert not f.exists() and (root / "acme" / "processed" / "po1.x12").is_file()
    with pipe.sm() as s:
        m = s.get(MessageRow, res.message_id)
        assert m.channel == "edi_folder" and m.sender == "acme"
        (oid,) = ledger.message_order_ids(s, m.id)
        assert ledger.get_order(s, oid).status == "APPROVED"
    # the acknowledgments wait in the outbox until the relay writes them; then they are copied out
    assert not list((root / "acme" / "out").glob("*")) and w.copy_acknowledgments() == 0
    assert deliver_acks(pipe.sm, pipe.settings.outbound_dir) == 2
    assert w.copy_acknowledgments() == 2
    out = sorted(p.name for p in (root / "acme" / "out").iterdir())
    assert any("997" in n for n in out) and any("855" in n for n in out), out
    assert all(not n.startswith(".") for n in out)
    # the same file again: recognised, no second order, moved beside the first with a note
    (inbox / "po1.x12").write_text(x12_850("PO-EDI-1"))
    (dup,) = _scan_until(w, 1)
    assert dup.status == "duplicate" and dup.message_id == res.message_id
    assert (root / "acme" / "processed" / "po1.1.x12").is_file()
    assert "already received" in (root / "acme" / "processed" / "po1.1.x12.reason.txt").read_text()
    with pipe.sm() as s:
        assert s.scalar(select(func.count()).select_from(MessageRow)) == 1
    assert sorted(p.name for p in (root / "acme" / "out").iterdir()) == out  # nothing copied twice


def test_an_unreadable_file_goes_to_failed_with_its_reason(tmp_path: Path) -> None:
    pipe, w, root = _setup(tmp_path)
    (root / "acme" / "in" / "broken.edi").write_text("ISA*00*garbage~")
    (root / "acme" / "in" / ".partial.edi").write_text("hidden: a gateway still writing")
    (root / "acme" / "in" / "upload.edi.tmp").write_text("temporary")
    got = _scan_until(w, 1)
    assert [r.status for r in got] == ["failed"]
    reason = (root / "acme" / "failed" / "broken.edi.reason.txt").read_text()
    assert reason.strip() and "message" in reason
    assert (root / "acme" / "failed" / "broken.edi").is_file()
    assert sorted(p.name for p in (root / "acme" / "in").iterdir()) == [".partial.edi", "upload.edi.tmp"]


def test_a_restart_after_storing_but_before_the_move_gives_no_second_order(tmp_path: Path) -> None:
    pipe, w, root = _setup(tmp_path)
    data = x12_850("PO-CRASH").encode()
    # the crash: stored and read, but the file is still in in/
    res = pipe.ingest(data, filename="po.edi", channel=Channel.edi_folder, sender="acme")
    pipe.process_message(res.message_id)
    (root / "acme" / "in" / "po.edi").write_bytes(data)
    old = time.time() - 10
    os.utime(root / "acme" / "in" / "po.edi", (old, old))
    w2 = EdiFolderWatcher(root, pipe, stable_s=0.2)
    (r,) = _scan_until(w2, 1)
    assert r.status == "duplicate" and r.message_id == res.message_id
    with pipe.sm() as s:
        assert len(ledger.message_order_ids(s, res.message_id)) == 1


def test_links_are_never_followed_out_of_the_partner_folder(tmp_path: Path) -> None:
    pipe, w, root = _setup(tmp_path)
    secret = tmp_path / "secret.edi"
    secret.write_text(x12_850("PO-SECRET"))  # outside the EDI folders (think /etc/shadow)
    inbox = root / "acme" / "in"
    os.symlink(secret, inbox / "po.edi")
    os.symlink(tmp_path, root / "evil")  # a "partner" that is a link to a folder elsewhere
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "other.edi").write_text(x12_850("PO-OTHER"))
    got = _scan_until(w, 1)
    assert [(r.status, r.message_id) for r in got] == [("failed", None)]
    assert "symbolic link" in (got[0].reason or "")
    moved = root / "acme" / "failed" / "po.edi"
    assert moved.is_symlink() and "symbolic link" in (root / "acme" / "failed" / "po.edi.reason.txt").read_text()
    assert secret.read_text() == x12_850("PO-SECRET") and (tmp_path / "in" / "other.edi").exists()  # untouched
    with pipe.sm() as s:
        assert s.scalar(select(func.count()).select_from(MessageRow)) == 0  # nothing was read or stored
    assert w.scan_once() == [] and not (tmp_path / "processed").exists()


def test_an_oversize_file_is_refused_without_being_read(tmp_path: Path) -> None:
    import connectors.models  # noqa: F401

    root = tmp_path / "edi"
    (root / "acme" / "in").mkdir(parents=True)
    pipe = Pipeline(Settings(data_dir=tmp_path / "data", limits={"max_upload_bytes": 1_000_000}))
    w = EdiFolderWatcher(root, pipe, stable_s=0.0)
    huge = root / "acme" / "in" / "huge.edi"
    with open(huge, "wb") as f:  # 5 GB, sparse: reading it whole would take gigabytes of memory
        f.truncate(5 * 1024**3)
    old = time.time() - 10
    os.utime(huge, (old, old))
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    got = w.scan_once() + w.scan_once()
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert [r.status for r in got] == ["failed"]
    assert "5368709120 bytes, more than the limit of 1000000" in (got[0].reason or "")
    assert grew_mb < 100, grew_mb  # refused from its size alone (reading it whole would take 5 GB)
    assert (root / "acme" / "failed" / "huge.edi").stat().st_size == 5 * 1024**3  # kept, not lost
    assert "not read" in (root / "acme" / "failed" / "huge.edi.reason.txt").read_text()
    (root / "acme" / "in" / "ok.edi").write_text(x12_850("PO-AFTER-HUGE"))
    os.utime(root / "acme" / "in" / "ok.edi", (old, old))
    (ok,) = w.scan_once() + w.scan_once()
    assert ok.status == "processed"  # the folder keeps flowing
