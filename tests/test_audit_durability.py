"""Durability of the decision log: SIGKILL a writer at random moments; two writers at once.

A writer process records decisions in a loop and prints ``id hash`` of each one on stdout (flushed) only
after :meth:`AuditStore.record` returned, i.e. after COMMIT: that is what the UI would confirm. Every
acknowledged decision must survive the kill, ``PRAGMA integrity_check`` must say ok, and the chain must
verify. Run with ``pytest -s`` to see the figures.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from credit_tui.audit import AuditStore

KILLS = 220
SEED = 20261128
#: Random delay between the writer's first committed decision and SIGKILL (seconds).
KILL_DELAY = (0.005, 0.060)

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from credit_tui.audit import AuditStore, input_row_hash

    db, advisor, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = AuditStore(db)
    # Checkpoint often so that some kills land in the middle of a WAL checkpoint too.
    store._conn.execute("PRAGMA wal_autocheckpoint = 16")
    print("ready", flush=True)
    i = 0
    while count < 0 or i < count:
        refused = i % 4 == 0
        override = i % 7 == 0
        final = "REFUSE" if refused != override else "ACCEPT"
        rec = store.record(
            advisor=advisor,
            client_id=100000 + i % 97,
            bundle_id="b" * 64,
            threshold=0.3,
            pd=0.6 if refused else 0.1,
            model_decision="REFUSE" if refused else "ACCEPT",
            final_decision=final,
            input_hash=input_row_hash({"SK_ID_CURR": 100000 + i % 97, "AMT_CREDIT": 1000.0 * i}),
            reasons=["The amount requested is high."] if refused else [],
            justification="guarantor documents checked in branch" if override else "",
            override_code="collateral" if override else "",
        )
        print(rec.id, rec.hash, flush=True)
        i += 1
    """
)


def _spawn(script: Path, db: Path, advisor: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), str(db), advisor, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _acknowledged(lines: list[str]) -> dict[int, str]:
    acked: dict[int, str] = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            acked[int(parts[0])] = parts[1]
    return acked


def _check(db: Path, acked: dict[int, str]) -> tuple[int, int]:
    """Return (records in the log, acknowledged decisions lost); assert integrity and the chain."""
    with AuditStore(db) as store:
        assert store.integrity_check() == "ok"
        result = store.verify()
        assert result.ok, result.message
        stored = {rec.id: rec.hash for rec in store.decisions()}
    lost = sum(1 for rid, digest in acked.items() if stored.get(rid) != digest)
    return len(stored), lost


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_at_random_moments_loses_no_acknowledged_decision(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    db = tmp_path / "audit.sqlite3"
    rng = random.Random(SEED)
    acked: dict[int, str] = {}
    mid_run_kills = 0
    started = time.perf_counter()
    for _ in range(KILLS):
        proc = _spawn(script, db, "killed", -1)
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if first.strip() != "ready":
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"writer failed to start: {first!r} {err[-2000:]}")
        # Kill at a random moment while it writes (a reader thread keeps the pipe drained).
        lines: list[str] = []
        reader = threading.Thread(target=lines.extend, args=(proc.stdout,), daemon=True)
        reader.start()
        time.sleep(rng.uniform(*KILL_DELAY))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        reader.join(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        new = _acknowledged(lines)
        mid_run_kills += bool(new)
        acked.update(new)
    elapsed = time.perf_counter() - started
    records, lost = _check(db, acked)
    print(
        f"\ndurability: {KILLS} SIGKILLs ({mid_run_kills} after at least one commit), "
        f"{len(acked)} acknowledged decisions checked, {records} records in the log, lost {lost}, "
        f"integrity_check ok, chain ok, {elapsed:.1f} s"
    )
    assert lost == 0
    assert len(acked) >= KILLS  # the kills really landed while decisions were being written
    assert records >= len(acked)


def test_two_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    db = tmp_path / "audit.sqlite3"  # both writers create it: the schema creation races too
    per_writer = 200
    procs = [_spawn(script, db, name, per_writer) for name in ("anna", "bruno")]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    acked_each = [_acknowledged(out.splitlines()) for out, _ in outputs]
    assert [len(a) for a in acked_each] == [per_writer, per_writer]
    acked = {**acked_each[0], **acked_each[1]}
    assert len(acked) == 2 * per_writer  # no id handed out twice
    records, lost = _check(db, acked)
    with AuditStore(db) as store:
        advisors = [rec.advisor for rec in store.decisions()]
    interleaved = sum(1 for a, b in itertools.pairwise(advisors) if a != b)
    print(
        f"\nconcurrency: 2 writers x {per_writer} decisions, {records} records, lost {lost}, "
        f"{interleaved} switches between writers, chain ok"
    )
    assert lost == 0 and records == 2 * per_writer
    assert sorted(acked) == list(range(1, 2 * per_writer + 1))
