"""Team mode on PostgreSQL: four-eyes, what the server refuses, failures, concurrent advisors, a crash.

Every test here needs the session's throwaway PostgreSQL server (``team_log`` in conftest.py) and is
marked ``postgres``. The 20 x 200 load run and its timings are in ``bench/bench_audit_pg.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from pg_server import TeamLog
from test_audit import record as decide

from credit_tui.audit import AuditError, DecisionError
from credit_tui.audit_cli import audit_main
from credit_tui.audit_pg import PgAuditStore
from credit_tui.letter_cli import letter_main

pytestmark = pytest.mark.postgres


@pytest.fixture
def db(team_log: TeamLog) -> str:
    return team_log.new_database()


def test_four_eyes_pending_approval_and_letters(
    team_log: TeamLog, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with PgAuditStore(team_log.url("alice", db)) as alice, PgAuditStore(team_log.url("sue", db)) as sue:
        plain = decide(alice)
        override = decide(
            alice,
            client_id=2,
            model_decision="REFUSE",
            final_decision="ACCEPT",
            justification="guarantor signed today",
        )
        high = decide(alice, client_id=3, pd=0.7, model_decision="REFUSE", final_decision="REFUSE")
        assert plain.advisor == "alice" and alice.status(plain.id) == "final"
        assert alice.status(override.id) == "pending" and alice.status(high.id) == "pending"  # PD 0.7 > 0.5
        assert [r.id for r in sue.pending()] == [override.id, high.id]
        # Letters wait for the approval.
        assert (
            letter_main(["--client", "2", "--out", str(tmp_path), "--audit-db", team_log.url("alice", db)])
            == 2
        )
        assert "waits for a supervisor" in capsys.readouterr().err
        with pytest.raises(DecisionError, match="not a credit supervisor"):
            alice.review(override.id, "APPROVED", "looks fine to me")
        with pytest.raises(DecisionError, match="at least 3 words"):
            sue.review(override.id, "APPROVED", "ok")
        review = sue.review(override.id, "APPROVED", "guarantor documents checked")
        assert review.approver == "sue" and alice.status(override.id) == "approved"
        with pytest.raises(DecisionError, match="already reviewed"):
            sue.review(override.id, "REJECTED", "changed my mind now")
        with pytest.raises(DecisionError, match="does not wait"):
            sue.review(plain.id, "APPROVED", "nothing to approve here")
        sue.review(high.id, "REJECTED", "income proof is missing")
        assert alice.status(high.id) == "rejected" and sue.pending() == []
        assert (
            letter_main(["--client", "2", "--out", str(tmp_path), "--audit-db", team_log.url("alice", db)])
            == 0
        )
        assert (
            letter_main(["--client", "3", "--out", str(tmp_path), "--audit-db", team_log.url("alice", db)])
            == 2
        )
        assert "rejected" in capsys.readouterr().err
        assert sue.verify().ok
        out = tmp_path / "team.csv"
        assert sue.export_csv(out) == 3
        text = out.read_text(encoding="utf-8")
        assert "approved,sue" in text and "rejected,sue" in text


def test_supervisor_cannot_approve_their_own_override(team_log: TeamLog, db: str) -> None:
    with PgAuditStore(team_log.url("sue", db)) as sue, PgAuditStore(team_log.url("sam", db)) as sam:
        own = decide(
            sue, model_decision="ACCEPT", final_decision="REFUSE", justification="fraud suspicion reported"
        )
        assert own.advisor == "sue"
        with pytest.raises(DecisionError, match="must differ from the advisor"):
            sue.review(own.id, "APPROVED", "I am sure about it")
        assert sue.status(own.id) == "pending"
        sam.review(own.id, "APPROVED", "fraud report confirmed")
        assert sue.status(own.id) == "approved"


def test_server_refuses_update_delete_insert_and_forged_names(team_log: TeamLog, db: str) -> None:
    url = team_log.url("alice", db)
    with PgAuditStore(url) as alice:
        first = decide(alice, advisor="bob")  # the name the app passes is not what is recorded
        assert first.advisor == "alice"
    statements = [
        "UPDATE credit_audit.decisions SET final_decision = 'REFUSE'",
        "DELETE FROM credit_audit.decisions",
        "TRUNCATE credit_audit.decisions, credit_audit.reviews",
        "INSERT INTO credit_audit.decisions SELECT * FROM credit_audit.decisions",
        "UPDATE credit_audit.meta SET value = '0.99' WHERE key = 'four_eyes_pd'",
        "SET ROLE bob",
        "SET SESSION AUTHORIZATION bob",
        "SELECT * FROM credit_audit.review_decision(1, 'APPROVED', 'approving it myself')",
    ]
    for statement in statements:
        with (
            psycopg.connect(url, autocommit=True) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(statement.encode())
    # Even the owner (an administrator) cannot UPDATE or DELETE while the triggers are in place.
    with psycopg.connect(team_log.server.admin_url(db), autocommit=True) as admin:
        for statement in statements[:3]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                admin.execute(statement.encode())
    with PgAuditStore(url) as alice:
        assert alice.count() == 1 and alice.verify().ok and alice.protections_intact()


def test_login_failures_are_one_sentence(team_log: TeamLog, db: str) -> None:
    server = team_log.server
    cases = [
        (server.url("alice", db, password="wrong"), "refused the password"),
        (team_log.url("nobody", db), "has no rights"),
        (f"postgresql://alice@127.0.0.1:{_closed_port()}/{db}", "Cannot reach the audit server"),
        (team_log.url("alice", "postgres"), "no credit-tui audit log"),
    ]
    for url, message in cases:
        with pytest.raises(AuditError, match=message) as info:
            PgAuditStore(url)
        assert (
            "\n" not in str(info.value) and "s3cret" not in str(info.value) and "wrong" not in str(info.value)
        )
    server.sql("INSERT INTO credit_audit.meta VALUES ('x', 'y')", db)  # meta is plain: make it newer
    with psycopg.connect(server.admin_url(db), autocommit=True) as admin:
        admin.execute("UPDATE credit_audit.meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(AuditError, match="newer credit-tui"):
        PgAuditStore(team_log.url("alice", db))


def test_app_stops_in_one_line_when_the_server_is_down(tmp_path: Path) -> None:
    url = f"postgresql://alice@127.0.0.1:{_closed_port()}/credit"
    done = subprocess.run(
        [sys.executable, "-m", "credit_tui", "--audit-db", url, "--letters-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Cannot reach the audit server" in done.stderr, done.stderr


def test_connection_lost_while_deciding_records_nothing_and_can_be_retried(
    team_log: TeamLog, db: str
) -> None:
    with PgAuditStore(team_log.url("alice", db)) as alice:
        decide(alice)
        pid = alice._conn.info.backend_pid  # type: ignore[union-attr]
        team_log.server.sql(f"SELECT pg_terminate_backend({pid})", db)
        request = uuid.uuid4()
        with pytest.raises(AuditError, match=r"was lost .* the decision was not recorded"):
            decide(alice, client_id=2, request_id=request)
        assert alice.count() == 1  # reconnects by itself
        again = decide(alice, client_id=2, request_id=request)
        same = decide(alice, client_id=2, request_id=request)  # a second retry does not record twice
        assert again == same and alice.count() == 2 and alice.verify().ok


def test_audit_init_command(team_log: TeamLog, capsys: pytest.CaptureFixture[str]) -> None:
    server = team_log.server
    server.sql("CREATE DATABASE fresh_init")
    assert audit_main(["init", "--db", team_log.url("alice", "fresh_init")]) == 2
    assert "may not create or upgrade the audit log" in capsys.readouterr().err
    assert audit_main(["init", "--db", server.admin_url("fresh_init"), "--four-eyes-pd", "0.4"]) == 0
    assert "four-eyes above PD 0.4" in capsys.readouterr().out
    assert audit_main(["init", "--db", server.admin_url("fresh_init")]) == 0
    assert "already exists" in capsys.readouterr().out
    assert audit_main(["init", "--db", "audit.sqlite3"]) == 2
    with PgAuditStore(team_log.url("bob", "fresh_init")) as bob:
        assert (
            bob.status(decide(bob, pd=0.45, model_decision="REFUSE", final_decision="REFUSE").id) == "pending"
        )


def test_anchor_covers_the_supervisors_reviews(
    team_log: TeamLog, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = team_log.url("alice", db)
    with PgAuditStore(url) as alice, PgAuditStore(team_log.url("sue", db)) as sue:
        for client in (1, 2, 3):
            pending = decide(
                alice, client_id=client, pd=0.7, model_decision="REFUSE", final_decision="REFUSE"
            )
            sue.review(pending.id, "APPROVED", f"income proof {client} checked")
    assert audit_main(["anchor", "--audit-db", url]) == 0
    line = capsys.readouterr().out.strip()
    decisions_only = line.split(",")[0]
    assert line.startswith("3:") and ",3:" in line
    assert audit_main(["verify", "--audit-db", url, "--anchor", line]) == 0
    admin = "SET session_replication_role = replica; SET search_path = credit_audit; "
    team_log.server.sql(admin + "DELETE FROM reviews WHERE id = 3", db)  # the newest review
    assert audit_main(["verify", "--audit-db", url]) == 0  # a shorter chain holds in itself...
    assert audit_main(["verify", "--audit-db", url, "--anchor", decisions_only]) == 0  # old anchors work
    capsys.readouterr()
    assert audit_main(["verify", "--audit-db", url, "--anchor", line]) == 2  # ...the anchor sees it
    assert "Supervisors' reviews: Record 3 of the anchor is missing" in capsys.readouterr().err
    team_log.server.sql(  # put a rejection in its place, the reviews chain rewritten to match
        admin + "INSERT INTO reviews SELECT 3, 3, time, approver, 'REJECTED', justification, hash, '' "
        "FROM reviews WHERE id = 2; UPDATE reviews r SET hash = review_hash(r) WHERE id = 3",
        db,
    )
    assert audit_main(["verify", "--audit-db", url]) == 0
    assert audit_main(["verify", "--audit-db", url, "--anchor", line]) == 2
    assert "no longer matches the anchor" in capsys.readouterr().err


WRITER = textwrap.dedent(
    """
    import sys
    from credit_tui.audit import input_row_hash
    from credit_tui.audit_pg import PgAuditStore
    from credit_tui.audit import AuditError

    url, count, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = PgAuditStore(url)
    for i in range(count):
        try:
            rec = store.record(
                advisor="x", client_id=tag * 100000 + i, bundle_id="b" * 16, threshold=0.3, pd=0.1,
                model_decision="ACCEPT", final_decision="ACCEPT", input_hash=input_row_hash({"i": i}),
            )
        except AuditError:
            break
        print(rec.id, rec.hash, flush=True)
    """
)


def _writers(team_log: TeamLog, db: str, n: int, count: int) -> list[subprocess.Popen[str]]:
    users = ["alice", "bob", "sue", "sam"]
    return [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, team_log.url(users[i % 4], db), str(count), str(i + 1)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]


def test_concurrent_advisors_get_one_gap_free_chain(team_log: TeamLog, db: str) -> None:
    procs = _writers(team_log, db, n=4, count=25)
    acked = [line.split() for proc in procs for line in proc.communicate(timeout=120)[0].splitlines()]
    assert all(proc.returncode == 0 for proc in procs)
    assert len(acked) == 100 and sorted(int(i) for i, _ in acked) == list(range(1, 101))
    with PgAuditStore(team_log.url("alice", db)) as store:
        result = store.verify()
        assert result.ok and result.checked == 100
        stored = {r.id: r.hash for r in store.decisions()}
    assert all(stored[int(i)] == h for i, h in acked)


def test_immediate_server_stop_loses_no_acknowledged_decision(team_log: TeamLog, db: str) -> None:
    server = team_log.server
    server.sql("CHECKPOINT")  # recovery then replays only this test's writes
    # Decisions commit without waiting for the disk; the acknowledgement waits for the confirm's flush,
    # even for a role whose own default is asynchronous commit.
    server.sql("ALTER ROLE bob SET synchronous_commit = off")
    try:
        procs = _writers(team_log, db, n=3, count=2000)
        first = procs[0].stdout.readline()  # type: ignore[union-attr]  # writers are up and recording
        time.sleep(0.3)
        server.stop("immediate")
        acked = [first.split()]
        acked += [line.split() for proc in procs for line in proc.communicate(timeout=120)[0].splitlines()]
        server.start()
    finally:
        server.sql("ALTER ROLE bob RESET synchronous_commit")
    assert len(acked) > 3, "too few decisions were acknowledged before the stop"
    with PgAuditStore(team_log.url("alice", db)) as store:
        stored = {r.id: r.hash for r in store.decisions()}
        assert store.verify().ok
    missing = [int(i) for i, h in acked if stored.get(int(i)) != h]
    assert missing == [] and len(stored) >= len(acked)
    print(f"immediate stop: {len(acked)} acknowledged, {len(stored)} stored, all acknowledged present")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_schema_decision_checks_come_from_the_enum() -> None:
    from credit_tui.audit_pg import schema_sql
    from trainer.decision import FINAL_DECISIONS, MODEL_DECISIONS, sql_in_check

    text = schema_sql()
    assert sql_in_check("model_decision", MODEL_DECISIONS) in text
    assert sql_in_check("final_decision", FINAL_DECISIONS) in text
    assert "_check}" not in text


def test_audit_init_upgrades_a_schema_1_log_and_old_records_keep_their_hashes(
    team_log: TeamLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from credit_tui.audit import input_row_hash
    from credit_tui.audit_pg import pack_justification, schema_sql

    server = team_log.server
    server.sql("CREATE DATABASE schema_one")
    with psycopg.connect(server.admin_url("schema_one"), autocommit=True) as admin:  # today's `audit init`
        admin.execute(schema_sql(1).encode())
        admin.execute("INSERT INTO credit_audit.meta VALUES ('schema_version', '1'), ('four_eyes_pd', '0.5')")
    url = team_log.url("alice", "schema_one")
    terms = '{"amount":150000,"months":36}'
    with psycopg.connect(url, autocommit=True) as alice:  # what schema-1 clients sent
        for client, model, final, code in (
            (1, "ACCEPT", "ACCEPT", ""),
            (2, "REFUSE", "ACCEPT", "collateral"),
        ):
            alice.execute(
                "SELECT credit_audit.record_decision(%s, 'b', 0.3, 0.2, %s, %s, %s, '[]', %s, NULL, %s)",
                (
                    client,
                    model,
                    final,
                    pack_justification("guarantor deed signed" if code else "", code, terms if code else ""),
                    input_row_hash({"c": client}),
                    uuid.uuid4(),
                ),
            )
        before = alice.execute("SELECT id, hash FROM credit_audit.decisions ORDER BY id").fetchall()
    with pytest.raises(AuditError, match="has schema 1, older than"):
        PgAuditStore(url)  # this version does not write to a schema-1 log
    assert audit_main(["init", "--db", server.admin_url("schema_one")]) == 0
    assert "Upgraded the audit log" in capsys.readouterr().out
    with PgAuditStore(url) as store:
        old = store.get(2)
        assert old is not None and (old.override_code, old.terms) == ("collateral", terms)
        assert old.justification == "guarantor deed signed"
        new = decide(
            store,
            client_id=3,
            model_decision="REFUSE",
            final_decision="ACCEPT",
            terms=terms,
            justification="guarantor deed signed",
        )
        assert (new.override_code, new.terms) == ("collateral", terms) and store.get(3) == new
        assert store.verify().ok and store.status(3) == "pending"  # four-eyes level kept
        after = {r.id: r.hash for r in store.decisions()}
        assert all(after[i] == h for i, h in before)
        out = tmp_path / "upgraded.csv"
        assert store.export_csv(out) == 3
    with psycopg.connect(url, autocommit=True) as alice:
        row = alice.execute(
            "SELECT override_code, terms, justification FROM credit_audit.decisions WHERE id = 3"
        )
        assert row.fetchone() == ("collateral", terms, "guarantor deed signed")  # real columns now
    assert "collateral" in out.read_text(encoding="utf-8")
    assert audit_main(["init", "--db", server.admin_url("schema_one")]) == 0
    assert "already exists (schema 3)" in capsys.readouterr().out


def test_audit_init_upgrades_a_schema_2_log_and_the_server_hash_is_unchanged(
    team_log: TeamLog, capsys: pytest.CaptureFixture[str]
) -> None:
    """Schema 3 builds the hash by column name instead of a loop over the row's JSON: same bytes."""
    from credit_tui.audit import input_row_hash
    from credit_tui.audit_pg import schema_sql

    server = team_log.server
    server.sql("CREATE DATABASE schema_two")
    admin_url = server.admin_url("schema_two")
    with psycopg.connect(admin_url, autocommit=True) as admin:  # schema 2's `audit init`
        admin.execute(schema_sql(1).encode())
        admin.execute("INSERT INTO credit_audit.meta VALUES ('schema_version', '2'), ('four_eyes_pd', '0.5')")
        admin.execute(schema_sql(2).encode())
    url = team_log.url("alice", "schema_two")
    terms = '{"amount":150000,"months":36}'
    signed = "caution: garant signé aujourd'hui"
    with psycopg.connect(url, autocommit=True) as alice:  # what schema-2 clients sent
        for client, pd, model, final, words, code, corrects in (
            (1, 0.1, "ACCEPT", "ACCEPT", "", "", None),
            (2, 0.123456789012345, "REFUSE", "ACCEPT", signed, "collateral", None),
            (3, 0.31, "REVIEW", "REFUSE", "income proof is missing", "documents", None),
            (1, 0.7, "ACCEPT", "ACCEPT", "", "", 1),
        ):
            alice.execute(
                "SELECT credit_audit.record_decision(%s, 'b', 0.3, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    client,
                    pd,
                    model,
                    final,
                    words,
                    '["A reason", "\\u00e9"]',
                    input_row_hash({"c": client}),
                    corrects,
                    uuid.uuid4(),
                    code,
                    terms if code == "collateral" else "",
                ),
            )
        before = alice.execute("SELECT id, hash FROM credit_audit.decisions ORDER BY id").fetchall()
    assert len(before) == 4
    assert audit_main(["init", "--db", admin_url]) == 0
    assert "from schema 2 to 3" in capsys.readouterr().out
    with psycopg.connect(admin_url, autocommit=True) as admin:  # the new function, on the old rows
        same = admin.execute(
            "SELECT bool_and(credit_audit.decision_hash(d) = d.hash) FROM credit_audit.decisions d"
        ).fetchone()
        assert same == (True,)
        assert admin.execute("SELECT to_regclass('credit_audit.confirmations')").fetchone() == (None,)
    with PgAuditStore(url) as store:
        assert store.verify().ok
        new = decide(
            store,
            client_id=2,
            pd=0.123456789012345,
            model_decision="REFUSE",
            final_decision="ACCEPT",
            justification=signed,
            terms=terms,
            corrects=2,
        )
        assert new.prev_hash == before[-1][1] and store.status(new.id) == "pending"
        assert store.verify().ok and {r.id: r.hash for r in store.decisions()}.items() >= set(before)


def test_a_session_that_lost_its_prepared_calls_records_in_full(team_log: TeamLog, db: str) -> None:
    with PgAuditStore(team_log.url("alice", db)) as alice:
        first = decide(alice)
        assert alice._conn is not None
        alice._conn.execute("DISCARD ALL")  # what a connection pooler sends between clients
        second = decide(alice, client_id=2, request_id=uuid.uuid4())
        assert second.id == first.id + 1 and second.prev_hash == first.hash
        again = decide(alice, client_id=3)
        assert again.id == second.id + 1 and alice.verify().ok and alice.count() == 3
