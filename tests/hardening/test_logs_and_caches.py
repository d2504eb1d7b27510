"""The audit log and the history cache are not silently trusted."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import sys
from pathlib import Path

import pandas as pd
import pytest

from credit_tui import cli
from credit_tui.audit import AuditError, AuditStore
from trainer import history_cache
from trainer.portfolio import Portfolio

from .strategies import count
from .test_outputs import audit, fingerprint, make_log

# -- audit verify / export -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["verify", "export"])
@pytest.mark.parametrize("state", ["deleted", "zero bytes"])
def test_a_missing_or_empty_log_is_reported_not_recreated(
    tmp_path: Path,
    command: str,
    state: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    count("audit log")
    default = tmp_path / "data" / "audit.sqlite3"
    default.parent.mkdir()
    if state == "zero bytes":
        default.write_bytes(b"")
    monkeypatch.setattr("credit_tui.audit.default_audit_path", lambda: default)
    args = [command] + (["--out", str(tmp_path / "out.csv")] if command == "export" else [])
    code, err = audit(args, capsys)
    assert code == 2
    assert ("does not exist" if state == "deleted" else "is empty") in err
    assert default.exists() == (state == "zero bytes") and (
        not default.exists() or default.stat().st_size == 0
    )
    assert not (tmp_path / "out.csv").exists()


def test_verify_and_export_open_the_log_read_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    count("audit log")
    folder = tmp_path / "ro"
    folder.mkdir()
    log = make_log(folder / "audit.sqlite3", records=3)
    before = fingerprint(log)
    log.chmod(0o444)
    folder.chmod(0o555)  # as on a read-only filesystem: no -wal / -shm can be created
    try:
        code, err = audit(["verify", "--audit-db", str(log)], capsys)
        assert code == 0, err
        code, err = audit(["export", "--audit-db", str(log), "--out", str(tmp_path / "out.csv")], capsys)
        assert code == 0, err
    finally:
        folder.chmod(0o755)
    assert fingerprint(log) == before  # (SQLite may add its -shm index beside a WAL log it can)
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 4


@pytest.mark.parametrize(
    "tamper",
    [
        "DROP TRIGGER decisions_no_delete",
        "DROP TRIGGER decisions_no_update; CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions "
        "WHEN 0 BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE is refused; record a "
        "correction instead'); END",
        "DROP TRIGGER decisions_no_delete; CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions "
        "BEGIN SELECT 1; END",
    ],
)
def test_verify_checks_the_triggers_sql_not_only_their_names(
    tmp_path: Path, tamper: str, capsys: pytest.CaptureFixture[str]
) -> None:
    count("audit log")
    log = make_log(tmp_path / "audit.sqlite3")
    assert audit(["verify", "--audit-db", str(log)], capsys)[0] == 0
    conn = sqlite3.connect(log)
    conn.executescript(tamper)
    conn.close()
    code, err = audit(["verify", "--audit-db", str(log)], capsys)
    assert code == 2 and "triggers" in err


@pytest.mark.parametrize(
    "target",
    [
        "device",
        "read-only file",
        pytest.param(
            "read-only folder",
            marks=pytest.mark.skipif(sys.platform == "win32", reason="Windows ignores a folder's mode bits"),
        ),
    ],
)
def test_the_app_refuses_an_unusable_audit_path_at_launch(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    count("audit log")
    if target == "device":
        path = Path(os.devnull)
    elif target == "read-only file":
        path = make_log(tmp_path / "audit.sqlite3")
        path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    else:
        (tmp_path / "ro").mkdir()
        path = tmp_path / "ro" / "audit.sqlite3"
        path.parent.chmod(0o555)
    try:
        code = cli.main(["--audit-db", str(path)])
        with pytest.raises(AuditError):
            AuditStore(path)
    finally:
        if (tmp_path / "ro").exists():
            (tmp_path / "ro").chmod(0o755)
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and len(err.strip().splitlines()) == 1
    assert not Path(f"{os.devnull}-journal").exists() and not Path(f"{os.devnull}-wal").exists()


# -- history cache ----------------------------------------------------------------------------------


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setattr(history_cache, "user_cache_dir", lambda: folder)
    return folder


def test_a_planted_cache_beside_the_clients_changes_nothing(data_copy: Path, user_cache: Path) -> None:
    count("history cache")
    clients = data_copy / "application_test.csv"
    honest = Portfolio.load(clients, cache=True)
    (cached,) = user_cache.glob("history_features.*.arrow")
    planted = history_cache.read_history(cached).copy()  # read zero-copy: read-only arrays
    planted[:] = 0.0  # every client now looks spotless
    history_cache.write_history(planted, data_copy / cached.name)
    shutil.rmtree(user_cache)
    again = Portfolio.load(clients, cache=True)
    assert again.history is not None and honest.history is not None
    pd.testing.assert_frame_equal(again.history, honest.history)


@pytest.mark.parametrize(
    "damage", ["garbage bytes", "other columns", "zeroed, metadata stripped", "other key"]
)
def test_a_damaged_cache_is_rebuilt_with_a_notice(data_copy: Path, user_cache: Path, damage: str) -> None:
    count("history cache")
    clients = data_copy / "application_test.csv"
    honest = Portfolio.load(clients, cache=True)
    (cached,) = user_cache.glob("history_features.*.arrow")
    frame = history_cache.read_history(cached).copy()
    if damage == "garbage bytes":
        cached.write_bytes(b"PAR1 not really")
    elif damage == "other columns":
        history_cache.write_history(frame.rename(columns=lambda c: f"X_{c}"), cached)
    elif damage == "zeroed, metadata stripped":
        frame[:] = 0.0
        history_cache.write_history(frame, cached)
    else:
        other = frame.copy()
        other[:] = 0.0
        history_cache.write_history(other, cached, {"bureau": data_copy / "bureau.csv"})
    again = Portfolio.load(clients, cache=True)
    assert again.history is not None and honest.history is not None
    pd.testing.assert_frame_equal(again.history, honest.history)
    assert len(again.notices) == 1 and "rebuilt" in again.notices[0]
    assert Portfolio.load(clients, cache=True).notices == ()  # the rebuilt cache is good


def test_the_cache_key_follows_the_content_not_the_name_or_size(data_copy: Path, user_cache: Path) -> None:
    count("history cache")
    paths = {"bureau": data_copy / "bureau.csv"}
    key = history_cache.cache_key(paths)
    text = paths["bureau"].read_text()
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    i = digits[len(digits) // 2]
    swapped = text[:i] + ("1" if text[i] != "1" else "2") + text[i + 1 :]  # same size, same name
    stat_before = paths["bureau"].stat()
    paths["bureau"].write_text(swapped)
    os.utime(paths["bureau"], ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    assert history_cache.cache_key(paths) != key
