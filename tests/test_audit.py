"""The decision log: validation, queries, append-only, hash chain (property tests), anchors, CLI.

Tests taking the ``store`` or ``backend`` fixture run on both backends: the single desk's SQLite file and
the team log on PostgreSQL (marked ``postgres``; one throwaway server per session, the log emptied per test).
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_tui.audit import (
    GENESIS_HASH,
    AuditError,
    AuditStore,
    DecisionError,
    DecisionRecord,
    canonical_json,
    input_row_hash,
    needs_justification,
    open_audit_store,
)
from credit_tui.audit_cli import audit_main, export_main, verify_main
from credit_tui.audit_log import AuditLog
from trainer.errors import UserError

HASH = input_row_hash({"SK_ID_CURR": 100001, "AMT_CREDIT": 312000.0})


class Clock:
    """A clock that advances one minute per call."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def record(store: AuditLog, **overrides: Any) -> DecisionRecord:
    values: dict[str, Any] = {
        "advisor": "alice",
        "client_id": 100001,
        "bundle_id": "a" * 64,
        "threshold": 0.3,
        "pd": 0.12,
        "model_decision": "ACCEPT",
        "final_decision": "ACCEPT",
        "input_hash": HASH,
        "reasons": (),
        "justification": "",
    }
    values.update(overrides)
    if "override_code" not in overrides and needs_justification(
        values["model_decision"], values["final_decision"]
    ):
        values["override_code"] = "collateral"
    return store.record(**values)


class Backend:
    """One log on one backend, as the advisor alice sees it and as an attacker with write access.

    ``target`` is what ``--audit-db`` takes; :meth:`raw` runs SQL (``?`` placeholders) with the log's
    protections bypassed: on SQLite the triggers are dropped (anyone who can write the file can), on
    PostgreSQL a superuser sets ``session_replication_role = replica`` (triggers do not fire).
    """

    def __init__(self, name: str, tmp_path: Path, team_log: Any = None) -> None:
        self.name = name
        self._team = team_log
        if name == "sqlite":
            self.target = str(tmp_path / "audit.sqlite3")
        else:
            self.dbname = team_log.new_database()
            self.target = team_log.url("alice", self.dbname)

    def open(self, user: str = "alice") -> AuditLog:
        if self.name == "sqlite":
            return AuditStore(Path(self.target), clock=Clock())
        from credit_tui.audit_pg import PgAuditStore

        return PgAuditStore(self._team.url(user, self.dbname))

    def raw(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        if self.name == "sqlite":
            conn = sqlite3.connect(self.target, isolation_level=None)
            try:
                for trigger in ("decisions_no_update", "decisions_no_delete", "decisions_append_only"):
                    conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
                conn.execute(sql, params)
            finally:
                conn.close()
            return
        import psycopg

        with psycopg.connect(self._team.server.admin_url(self.dbname), autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute("SET search_path = credit_audit")
            conn.execute(sql.replace("?", "%s").encode(), params)

    def rewrite_chain(self) -> None:
        """Recompute every record's links and hashes after an edit (a whole-chain rewrite)."""
        if self.name == "sqlite":
            from credit_tui.audit import _COLUMNS, _record_hash

            conn = sqlite3.connect(self.target, isolation_level=None)
            try:
                for trigger in ("decisions_no_update", "decisions_no_delete", "decisions_append_only"):
                    conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
                prev = GENESIS_HASH
                for row in conn.execute(
                    f"SELECT {', '.join(_COLUMNS)} FROM decisions ORDER BY id"
                ).fetchall():
                    content = dict(zip(_COLUMNS, row, strict=True))
                    content["reasons"] = json.loads(content["reasons"])
                    content["prev_hash"] = prev
                    prev = _record_hash(content)
                    conn.execute(
                        "UPDATE decisions SET prev_hash = ?, hash = ? WHERE id = ?",
                        (content["prev_hash"], prev, content["id"]),
                    )
            finally:
                conn.close()
            return
        self.raw(
            "DO $$ DECLARE r record; prev text := repeat('0', 64); BEGIN "
            "FOR r IN SELECT id FROM decisions ORDER BY id LOOP "
            "UPDATE decisions SET prev_hash = prev WHERE id = r.id; "
            "UPDATE decisions d SET hash = decision_hash(d) WHERE id = r.id RETURNING hash INTO prev; "
            "END LOOP; END $$"
        )


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    team = request.getfixturevalue("team_log") if request.param == "postgres" else None
    return Backend(request.param, tmp_path, team)


@pytest.fixture
def store(backend: Backend) -> Iterator[AuditLog]:
    with backend.open() as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[AuditStore]:
    with AuditStore(tmp_path / "audit.sqlite3", clock=Clock()) as opened:
        yield opened


# -- recording and validation ------------------------------------------------------------------------


def test_record_returns_the_stored_record(store: AuditLog) -> None:
    first = record(store)
    assert first.id == 1 and first.prev_hash == GENESIS_HASH and not first.override
    assert store.get(1) == first
    second = record(
        store,
        client_id=100002,
        pd=0.55,
        model_decision="REFUSE",
        final_decision="REFUSE",
        reasons=["The amount requested (900,000) is high."],
    )
    assert second.id == 2 and second.prev_hash == first.hash
    assert store.get(2) == second and second.reasons == ("The amount requested (900,000) is high.",)
    assert store.count() == 2 and store.head() == (2, second.hash)


def test_pragmas_wal_and_full_sync(sqlite_store: AuditStore) -> None:
    store = sqlite_store
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


@pytest.mark.parametrize(
    "justification", ["", "   ", "ok", "good client", "-- !! ??", "a b c", "ok ok ok", "yes yes yes Yes"]
)
def test_override_needs_three_words(store: AuditLog, justification: str) -> None:
    with pytest.raises(DecisionError, match="at least 3 different words of three letters"):
        record(store, pd=0.6, model_decision="REFUSE", final_decision="ACCEPT", justification=justification)
    assert store.count() == 0


def test_override_with_justification_is_flagged(store: AuditLog) -> None:
    rec = record(
        store,
        pd=0.6,
        model_decision="REFUSE",
        final_decision="ACCEPT",
        justification=" new guarantor signed ",
    )
    assert rec.override and rec.justification == "new guarantor signed"
    assert store.decisions(override=True) == [rec]


def test_review_needs_justification_but_is_not_an_override(store: AuditLog) -> None:
    with pytest.raises(DecisionError, match="review"):
        record(store, model_decision="REVIEW", final_decision="REFUSE")
    rec = record(
        store, model_decision="REVIEW", final_decision="REFUSE", justification="income not yet verified"
    )
    assert not rec.override


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"final_decision": "REVIEW"}, "ACCEPT or REFUSE"),
        ({"final_decision": "accept"}, "ACCEPT or REFUSE"),
        ({"model_decision": "MAYBE"}, "ACCEPT, REFUSE or REVIEW"),
        ({"advisor": "  "}, "advisor"),
        ({"pd": float("nan")}, "PD"),
        ({"pd": 1.5}, "PD"),
        ({"threshold": -0.1}, "threshold"),
        ({"input_hash": "abc"}, "SHA-256"),
        ({"client_id": "100001"}, "whole number"),
    ],
)
def test_invalid_values_are_refused_in_one_sentence(
    store: AuditLog, overrides: dict[str, Any], match: str
) -> None:
    with pytest.raises(DecisionError, match=match) as info:
        record(store, **overrides)
    assert isinstance(info.value, UserError)
    assert "\n" not in str(info.value) and str(info.value).endswith(".")
    assert store.count() == 0


def test_numpy_values_are_accepted(store: AuditLog) -> None:
    rec = record(store, client_id=np.int64(100003), pd=np.float32(0.25), threshold=np.float64(0.3))
    assert rec.client_id == 100003 and isinstance(rec.pd, float)
    assert store.verify().ok


def test_correction_must_exist_and_concern_the_same_client(store: AuditLog) -> None:
    first = record(store)
    with pytest.raises(DecisionError, match="does not exist"):
        record(store, corrects=99)
    with pytest.raises(DecisionError, match="same client"):
        record(store, client_id=100002, corrects=first.id)
    fix = record(
        store,
        pd=0.12,
        model_decision="ACCEPT",
        final_decision="REFUSE",
        justification="documents were found forged",
        corrects=first.id,
    )
    assert fix.corrects == first.id
    assert store.latest_for(100001) == fix
    assert store.count() == 2 and store.verify().ok


# -- queries --------------------------------------------------------------------------------------------


def test_queries_filter_on_every_field(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 3, 1, 23, 0, tzinfo=UTC))
    with AuditStore(tmp_path / "a.sqlite3", clock=clock) as store:
        a = record(store, advisor="alice", client_id=1)  # 2026-03-01 23:01
        clock.now += timedelta(hours=2)
        b = record(
            store, advisor="bob", client_id=2, model_decision="REFUSE", final_decision="REFUSE", pd=0.5
        )
        c = record(
            store,
            advisor="bob",
            client_id=1,
            model_decision="ACCEPT",
            final_decision="REFUSE",
            justification="income proof was missing",
        )
        assert store.decisions() == [a, b, c]
        assert store.decisions(client_id=1) == [a, c]
        assert store.decisions(advisor="bob") == [b, c]
        assert store.decisions(final_decision="REFUSE") == [b, c]
        assert store.decisions(override=True) == [c]
        assert store.decisions(override=False) == [a, b]
        assert store.decisions(since=date(2026, 3, 2)) == [b, c]
        assert store.decisions(until=date(2026, 3, 1)) == [a]
        assert store.decisions(until=datetime(2026, 3, 2, 1, 2, 30, tzinfo=UTC)) == [a, b]
        assert store.decisions(since=datetime(2026, 3, 2, 1, 2)) == [b, c]  # naive = UTC
        assert store.decisions(advisor="bob", client_id=1, final_decision="REFUSE") == [c]
        assert store.latest_for(1) == c and store.latest_for(3) is None
        assert store.advisors() == ["alice", "bob"]


def test_export_csv_round_trips(store: AuditLog, tmp_path: Path) -> None:
    record(store, reasons=["A, with comma", 'and "quotes"'], model_decision="REFUSE", final_decision="REFUSE")
    out = tmp_path / "export.csv"
    assert store.export_csv(out) == 1
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert json.loads(rows[0]["reasons"]) == ["A, with comma", 'and "quotes"']
    assert rows[0]["hash"] == store.get(1).hash  # type: ignore[union-attr]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export")] == []
    with pytest.raises(AuditError, match="does not exist"):
        store.export_csv(tmp_path / "missing" / "x.csv")


# -- input hash -----------------------------------------------------------------------------------------


def test_input_row_hash_is_canonical() -> None:
    base = {"SK_ID_CURR": 1, "AMT_CREDIT": 312000.0, "EXT_SOURCE_1": None, "NAME": "Working", "R": 0.25}
    same = {
        "R": np.float64(0.25),
        "NAME": "Working",
        "EXT_SOURCE_1": float("nan"),
        "AMT_CREDIT": np.int64(312000),
        "SK_ID_CURR": np.int32(1),
    }
    assert input_row_hash(base) == input_row_hash(same)
    assert input_row_hash(base) == input_row_hash({**base, "EXT_SOURCE_1": np.float32("nan")})
    assert input_row_hash(base) != input_row_hash({**base, "AMT_CREDIT": 311999.0})
    assert input_row_hash(base) != input_row_hash({**base, "NAME": "working"})
    assert canonical_json({"b": float("inf"), "a": True}) == '{"a":true,"b":"Infinity"}'


def test_input_row_hash_handles_pandas_missing() -> None:
    import pandas as pd

    assert input_row_hash({"A": pd.NA, "B": pd.NaT}) == input_row_hash({"A": None, "B": None})


# -- opening --------------------------------------------------------------------------------------------


def test_path_under_a_regular_file_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(AuditError, match="inside a file") as info:
        AuditStore(blocker / "audit.sqlite3")
    assert "\n" not in str(info.value)
    with pytest.raises(AuditError, match="does not exist"):
        AuditStore(tmp_path / "missing" / "audit.sqlite3")
    with pytest.raises(AuditError, match="is a folder"):
        AuditStore(tmp_path)


def test_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    content = b"advisor notes, definitely not SQLite\n" * 50
    path.write_bytes(content)
    with pytest.raises(AuditError, match="not an SQLite database"):
        AuditStore(path)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite3"]


@pytest.mark.parametrize(
    ("name", "ours", "statement", "problem"),
    [
        ("other.db", False, "CREATE TABLE customers (id INTEGER, name TEXT)", "not a credit-tui audit log"),
        ("a.sqlite3", True, "PRAGMA user_version = 99", "newer"),
    ],
    ids=["foreign schema", "newer schema"],
)
def test_a_foreign_or_newer_schema_is_refused(
    tmp_path: Path, name: str, ours: bool, statement: str, problem: str
) -> None:
    path = tmp_path / name
    if ours:
        AuditStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(statement)
    with pytest.raises(AuditError, match=problem):
        AuditStore(path)


def test_empty_file_becomes_a_log(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    path.touch()
    with AuditStore(path) as store:
        record(store)
    with AuditStore(path) as store:
        assert store.count() == 1 and store.verify().ok


def test_open_audit_store_default_path_creates_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "data" / "credit-tui" / "audit.sqlite3"
    monkeypatch.setattr("credit_tui.audit.default_audit_path", lambda: target)
    with open_audit_store() as store:
        assert store.path == target
    assert target.is_file()


def test_readonly_database_is_reported_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    with AuditStore(path) as store:
        record(store)
    # Tests run as root, so file permissions do not stop writes: open SQLite itself read-only instead.
    with AuditStore(path) as store:
        store._conn.execute("PRAGMA query_only = ON")
        with pytest.raises(AuditError, match="nothing was recorded") as info:
            record(store, client_id=5)
        assert "\n" not in str(info.value)
        store._conn.execute("PRAGMA query_only = OFF")
        assert store.count() == 1 and store.verify().ok


# -- append-only ----------------------------------------------------------------------------------------


def test_update_and_delete_are_refused_by_the_database(sqlite_store: AuditStore) -> None:
    store = sqlite_store
    record(store)
    raw = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("UPDATE decisions SET final_decision = 'REFUSE'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("DELETE FROM decisions")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("INSERT OR REPLACE INTO decisions SELECT * FROM decisions")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):  # a gap in the ids
            raw.execute(
                "INSERT INTO decisions SELECT id + 5, time, advisor, client_id, bundle_id, threshold, "
                "pd, model_decision, final_decision, override, justification, reasons, input_hash, "
                "corrects, hash, 'x', override_code, terms FROM decisions"
            )
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):  # does not link to the last one
            raw.execute(
                "INSERT INTO decisions SELECT id + 1, time, advisor, client_id, bundle_id, threshold, "
                "pd, model_decision, final_decision, override, justification, reasons, input_hash, "
                "corrects, prev_hash, 'x', override_code, terms FROM decisions"
            )
    finally:
        raw.close()
    assert store.count() == 1 and store.verify().ok and store.protections_intact()


# -- hash chain: property tests ------------------------------------------------------------------------

N_RECORDS = 12


@pytest.fixture(scope="module")
def chain_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log of N_RECORDS records, closed (so it is one self-contained file), copied per example."""
    path = tmp_path_factory.mktemp("chain") / "chain.sqlite3"
    with AuditStore(path, clock=Clock()) as store:
        for i in range(N_RECORDS):
            refused = i % 3 == 0
            record(
                store,
                advisor=["alice", "bob"][i % 2],
                client_id=100000 + i % 5,
                pd=0.05 + i / 40,
                model_decision="REFUSE" if refused else "ACCEPT",
                final_decision="REFUSE" if refused else "ACCEPT",
                reasons=[f"Reason {i}"] if refused else [],
            )
    return path


def _tampered_copy(chain_file: Path, directory: str) -> sqlite3.Connection:
    copy = Path(directory) / "copy.sqlite3"
    shutil.copyfile(chain_file, copy)
    raw = sqlite3.connect(copy, isolation_level=None)
    # An attacker with write access to the file can drop the triggers.
    raw.execute("DROP TRIGGER decisions_no_update")
    raw.execute("DROP TRIGGER decisions_no_delete")
    raw.execute("DROP TRIGGER decisions_append_only")
    return raw


def _verify(directory: str, anchor: tuple[int, str] | None = None) -> Any:
    with AuditStore(Path(directory) / "copy.sqlite3") as store:
        return store.verify(anchor)


EDITS: dict[str, Any] = {  # column -> replacement (the second when the first equals the stored value)
    "time": "2020-01-01T00:00:00.000000+00:00",
    "advisor": "mallory",
    "client_id": 999999,
    "bundle_id": "f" * 64,
    "threshold": 0.99,
    "pd": 0.0001,
    "model_decision": ("REVIEW", "ACCEPT"),
    "final_decision": ("ACCEPT", "REFUSE"),
    "override": (1, 0),
    "justification": "edited afterwards by someone",
    "reasons": '["A different reason"]',
    "input_hash": "e" * 64,
    "corrects": (1, 2),
    "prev_hash": "d" * 64,
    "hash": "c" * 64,
}


def test_untampered_chain_verifies(chain_file: Path) -> None:
    with tempfile.TemporaryDirectory() as directory:
        _tampered_copy(chain_file, directory).close()
        result = _verify(directory)
    assert result.ok and result.checked == N_RECORDS and result.first_broken_id is None
    assert result.head_id == N_RECORDS


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.integers(1, N_RECORDS), column=st.sampled_from(sorted(EDITS)))
def test_any_single_edited_row_is_detected_at_its_id(chain_file: Path, target: int, column: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        raw = _tampered_copy(chain_file, directory)
        old = raw.execute(f"SELECT {column} FROM decisions WHERE id = ?", (target,)).fetchone()[0]
        choices = EDITS[column] if isinstance(EDITS[column], tuple) else (EDITS[column],)
        new = next(value for value in choices if value != old)
        raw.execute(f"UPDATE decisions SET {column} = ? WHERE id = ?", (new, target))
        raw.close()
        result = _verify(directory)
    assert not result.ok
    assert result.first_broken_id == target, result.message
    assert result.message.startswith(f"Record {target}")


def _newest(conn: sqlite3.Connection) -> tuple[int, str]:
    """(id, hash) of the newest record: an anchor taken before the tampering."""
    row = conn.execute("SELECT id, hash FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
    return int(row[0]), str(row[1])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.integers(1, N_RECORDS))
def test_any_single_deleted_row_is_detected(chain_file: Path, target: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        anchor_raw = _tampered_copy(chain_file, directory)
        anchor = _newest(anchor_raw)
        anchor_raw.execute("DELETE FROM decisions WHERE id = ?", (target,))
        anchor_raw.close()
        plain = _verify(directory)
        anchored = _verify(directory, anchor)
    assert not anchored.ok and anchored.first_broken_id == target, anchored.message
    if target < N_RECORDS:
        # A hole in the middle is visible from the chain alone.
        assert not plain.ok and plain.first_broken_id == target
        assert "missing" in plain.message
    else:
        # Removing the newest record leaves a shorter valid chain: only an anchor kept elsewhere shows it.
        assert plain.ok and plain.head_id == N_RECORDS - 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.integers(1, N_RECORDS))
def test_deleted_row_with_renumbering_is_detected(chain_file: Path, target: int) -> None:
    """The attacker deletes a row and shifts the later ids down to close the gap."""
    with tempfile.TemporaryDirectory() as directory:
        raw = _tampered_copy(chain_file, directory)
        raw.execute("DELETE FROM decisions WHERE id = ?", (target,))
        raw.execute("UPDATE decisions SET id = id - 1 WHERE id > ?", (target,))
        raw.close()
        result = _verify(directory)
    if target < N_RECORDS:
        assert not result.ok and result.first_broken_id == target, result.message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=st.lists(st.integers(1, N_RECORDS), min_size=2, max_size=2, unique=True))
def test_reordered_rows_are_detected_at_the_first(chain_file: Path, pair: list[int]) -> None:
    """Swap the content of two records, keeping their ids."""
    first, second = sorted(pair)
    with tempfile.TemporaryDirectory() as directory:
        raw = _tampered_copy(chain_file, directory)
        raw.execute("UPDATE decisions SET id = -1 WHERE id = ?", (first,))
        raw.execute("UPDATE decisions SET id = ? WHERE id = ?", (first, second))
        raw.execute("UPDATE decisions SET id = ? WHERE id = -1", (second,))
        raw.close()
        result = _verify(directory)
    assert not result.ok and result.first_broken_id == first, result.message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.integers(1, N_RECORDS))
def test_edit_with_recomputed_hash_breaks_the_next_link(chain_file: Path, target: int) -> None:
    """A smarter attacker recomputes the edited record's own hash: the next record's link breaks."""
    from credit_tui.audit import _COLUMNS, _record_hash

    with tempfile.TemporaryDirectory() as directory:
        raw = _tampered_copy(chain_file, directory)
        anchor = _newest(raw)
        row = raw.execute(f"SELECT {', '.join(_COLUMNS)} FROM decisions WHERE id = ?", (target,)).fetchone()
        content = dict(zip(_COLUMNS, row, strict=True))
        content["final_decision"] = "ACCEPT" if content["final_decision"] == "REFUSE" else "REFUSE"
        content["reasons"] = json.loads(content["reasons"])
        new_hash = _record_hash(content)
        raw.execute(
            "UPDATE decisions SET final_decision = ?, hash = ? WHERE id = ?",
            (content["final_decision"], new_hash, target),
        )
        raw.close()
        plain = _verify(directory)
        anchored = _verify(directory, anchor)
    if target < N_RECORDS:
        assert not plain.ok and plain.first_broken_id == target + 1, plain.message
    else:
        assert plain.ok
        assert not anchored.ok and anchored.first_broken_id == target


# -- CLI ------------------------------------------------------------------------------------------------


def test_verify_main_ok_and_broken(
    chain_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.sqlite3"
    shutil.copyfile(chain_file, good)
    assert verify_main(good) == 0
    out = capsys.readouterr().out
    assert "ok" in out and f"{N_RECORDS} records" in out
    with tempfile.TemporaryDirectory() as directory:
        raw = _tampered_copy(chain_file, directory)
        raw.execute("UPDATE decisions SET pd = 0.01 WHERE id = 5")
        raw.close()
        assert audit_main(["verify", "--audit-db", str(Path(directory) / "copy.sqlite3")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Record 5 was changed" in err
    unprotected = tmp_path / "unprotected.sqlite3"
    shutil.copyfile(chain_file, unprotected)
    with sqlite3.connect(unprotected) as raw:
        raw.execute("DROP TRIGGER decisions_no_delete")
    assert verify_main(unprotected) == 2
    assert "append-only were removed" in capsys.readouterr().err


def test_verify_main_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_main(tmp_path / "missing.sqlite3") == 2
    assert "does not exist" in capsys.readouterr().err
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("hello\n" * 100)
    assert verify_main(junk) == 2
    err = capsys.readouterr().err
    assert "not an SQLite database" in err and err.count("\n") == 1


def test_export_main(chain_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "db.sqlite3"
    shutil.copyfile(chain_file, db)
    out = tmp_path / "out.csv"
    assert audit_main(["export", "--out", str(out), "--audit-db", str(db)]) == 0
    assert f"wrote {N_RECORDS} records" in capsys.readouterr().out
    with out.open(encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == N_RECORDS
    assert export_main(db, tmp_path / "nope" / "out.csv") == 2
    assert "does not exist" in capsys.readouterr().err


def test_audit_main_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        audit_main(["export", "--audit-db", "x.sqlite3"])  # --out missing
    assert info.value.code == 2


# -- both backends: tampering, anchors, CLI ------------------------------------------------------------

N_SMALL = 6


def _fill(backend: Backend) -> tuple[int, str]:
    """Record N_SMALL decisions (two clients, one refusal in three); return the head as an anchor."""
    with backend.open() as store:
        for i in range(N_SMALL):
            refused = i % 3 == 0
            record(
                store,
                client_id=100000 + i % 2,
                pd=0.05 + i / 40,
                model_decision="REFUSE" if refused else "ACCEPT",
                final_decision="REFUSE" if refused else "ACCEPT",
                reasons=[f"Reason {i}"] if refused else [],
            )
        return store.head()


def _check(backend: Backend, anchor: tuple[int, str] | None = None) -> Any:
    with backend.open() as store:
        return store.verify(anchor)


def test_chain_holds_and_export_has_every_record(backend: Backend, tmp_path: Path) -> None:
    head = _fill(backend)
    result = _check(backend, head)
    assert result.ok and result.checked == N_SMALL and (result.head_id, result.head_hash) == head
    with backend.open() as store:
        assert store.protections_intact()
        assert store.export_csv(tmp_path / "x.csv") == N_SMALL
    with (tmp_path / "x.csv").open(encoding="utf-8") as fh:
        assert [int(row["id"]) for row in csv.DictReader(fh)] == list(range(1, N_SMALL + 1))


@pytest.mark.parametrize(
    ("column", "value"),
    [("final_decision", "ACCEPT"), ("pd", 0.0001), ("advisor", "mallory"), ("justification", "edited later")],
)
def test_edited_record_is_found_on_both_backends(backend: Backend, column: str, value: Any) -> None:
    _fill(backend)
    backend.raw(f"UPDATE decisions SET {column} = ? WHERE id = 4", (value,))
    result = _check(backend)
    assert not result.ok and result.first_broken_id == 4, result.message


def test_deleted_records_and_truncation_on_both_backends(backend: Backend) -> None:
    anchor = _fill(backend)
    backend.raw("DELETE FROM decisions WHERE id = ?", (N_SMALL,))  # the newest: the chain alone cannot see it
    plain, anchored = _check(backend), _check(backend, anchor)
    assert plain.ok and plain.head_id == N_SMALL - 1
    assert not anchored.ok and anchored.first_broken_id == N_SMALL and "anchor" in anchored.message
    backend.raw("DELETE FROM decisions WHERE id = 2")
    hole = _check(backend)
    assert not hole.ok and hole.first_broken_id == 2 and "missing" in hole.message


def test_whole_chain_rewrite_is_caught_by_the_anchor(backend: Backend) -> None:
    anchor = _fill(backend)
    backend.raw("UPDATE decisions SET final_decision = 'ACCEPT', model_decision = 'ACCEPT' WHERE id = 1")
    backend.rewrite_chain()
    assert _check(backend).ok  # a rewritten chain is consistent in itself
    anchored = _check(backend, anchor)
    assert not anchored.ok and anchored.first_broken_id == N_SMALL, anchored.message


def test_anchor_and_verify_anchor_commands(
    backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDIT_TUI_CONFIG", raising=False)
    _fill(backend)
    assert audit_main(["anchor", "--audit-db", backend.target]) == 0
    captured = capsys.readouterr()
    line = captured.out.strip()
    decisions_head, *reviews_head = line.split(",")  # the team log adds the reviews' head
    assert reviews_head == ([f"0:{GENESIS_HASH}"] if backend.name == "postgres" else [])
    assert decisions_head.startswith(f"{N_SMALL}:") and len(decisions_head.split(":")[1]) == 64
    assert f"{N_SMALL} records" in captured.err
    head_hash = decisions_head.split(":")[1]
    assert audit_main(["verify", "--audit-db", backend.target, "--anchor", line]) == 0
    assert audit_main(["verify", "--audit-db", backend.target, "--anchor", head_hash]) == 0
    capsys.readouterr()
    assert (
        audit_main(
            ["verify", "--audit-db", backend.target, "--anchor", f"{line},2:{head_hash},3:{head_hash}"]
        )
        == 2
    )
    assert "more than two parts" in capsys.readouterr().err
    assert (
        audit_main(["verify", "--audit-db", backend.target, "--anchor", f"{decisions_head},3:{head_hash}"])
        == 2
    )
    assert "review" in capsys.readouterr().err  # no such review (SQLite: no reviews at all)
    backend.raw("DELETE FROM decisions WHERE id = ?", (N_SMALL,))
    assert audit_main(["verify", "--audit-db", backend.target, "--anchor", head_hash]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gone or was changed" in err
    assert audit_main(["verify", "--audit-db", backend.target, "--anchor", line]) == 2
    assert "anchor" in capsys.readouterr().err
    assert audit_main(["verify", "--audit-db", backend.target, "--anchor", "12:zz"]) == 2
    assert "not a 64-digit hash" in capsys.readouterr().err


def test_verify_and_export_commands_on_both_backends(
    backend: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(backend)
    assert audit_main(["verify", "--audit-db", backend.target]) == 0
    assert f"{N_SMALL} records" in capsys.readouterr().out
    out = tmp_path / "export.csv"
    assert audit_main(["export", "--out", str(out), "--audit-db", backend.target]) == 0
    with out.open(encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == N_SMALL
    backend.raw("UPDATE decisions SET pd = 0.9 WHERE id = 3")
    assert audit_main(["verify", "--audit-db", backend.target]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Record 3 was changed" in err
