"""Desk settings from config.toml, the advisor's name, and schema-1 audit logs upgraded in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from credit_tui.audit import _SCHEMA, APPLICATION_ID, GENESIS_HASH, AuditStore, DecisionRecord, _record_hash
from credit_tui.config import ConfigError, DeskConfig, load_desk_config, resolve_advisor
from credit_tui.record_view import latest_ids, record_detail, status_flags


def test_desk_config_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[desk]\nadvisor = "Alice Martin"\nletters_dir = "~/letters"\n'
        '[bank]\ncontact = "Review Service, 1 rue X, Paris"\nreview_days = 45\n'
        '[product]\ncurrency = "EUR"\ninterest_rate = 0.12\n'
        '[audit]\ndb = "ignored here"\n',
        encoding="utf-8",
    )
    desk = load_desk_config(path)
    assert desk.advisor == "Alice Martin" and desk.review_days == 45
    assert desk.letters_dir == Path("~/letters").expanduser()
    assert desk.product.interest_rate == 0.12 and desk.product.basis == "at 12.0 % a year"
    assert resolve_advisor(None, desk) == "Alice Martin"
    assert resolve_advisor("Bob", desk) == "Bob"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("[bank]\nreview_days = 0\n", "review_days"),
        ("[product]\ninterest_rate = 2\n", "interest_rate"),
        ('[desk]\nadvisor = "bad\\u001b[2J"\n', "control characters"),
        ("[desk\n", "cannot be read as TOML"),
        ('desk = "x"\n', r"\[desk\] must be a table"),
    ],
)
def test_wrong_config_values_are_one_sentence(tmp_path: Path, body: str, match: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        load_desk_config(path)


def test_no_advisor_name_is_never_the_login_name() -> None:
    with pytest.raises(ConfigError, match="--advisor NAME"):
        resolve_advisor(None, DeskConfig())
    assert load_desk_config().advisor == ""  # the test's config folder holds no file


def test_a_schema_1_log_is_upgraded_and_its_chain_still_holds(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    old_schema = _SCHEMA.replace(
        "    hash           TEXT    NOT NULL UNIQUE,\n    override_code  TEXT    NOT NULL DEFAULT '',\n"
        "    terms          TEXT    NOT NULL DEFAULT ''\n",
        "    hash           TEXT    NOT NULL UNIQUE\n",
    )
    assert old_schema != _SCHEMA
    conn.executescript(old_schema)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    content = {
        "id": 1,
        "time": "2026-01-05T10:00:00.000000+00:00",
        "advisor": "alice",
        "client_id": 100001,
        "bundle_id": "b" * 16,
        "threshold": 0.3,
        "pd": 0.6,
        "model_decision": "REFUSE",
        "final_decision": "ACCEPT",
        "override": True,
        "justification": "guarantor signed today",
        "reasons": [],
        "input_hash": "a" * 64,
        "corrects": None,
        "prev_hash": GENESIS_HASH,
    }
    content["hash"] = _record_hash({**content, "override_code": "", "terms": ""})
    conn.execute(
        "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            *[content[k] for k in list(content)[:9]],
            1,
            content["justification"],
            "[]",
            content["input_hash"],
            None,
            content["prev_hash"],
            content["hash"],
        ),
    )
    conn.close()
    with AuditStore(path) as store:
        assert store.verify().ok
        [old] = store.decisions()
        assert old.override_code == "" and old.terms == ""
        # A correction of record 1 by another advisor: same case, now with an override reason code.
        case = ("client_id", "bundle_id", "threshold", "pd", "model_decision", "final_decision", "input_hash")
        store.record(
            **{k: content[k] for k in case},
            advisor="bob",
            justification="collateral deed received",
            override_code="collateral",
            corrects=1,
        )
        assert store.verify().ok and store.latest_for(100001).override_code == "collateral"  # type: ignore[union-attr]


def override_record(id_: int, client: int, bundle: str, advisor: str, justification: str) -> DecisionRecord:
    """A stored override (REFUSE -> ACCEPT, code collateral) as the audit log reads it back."""
    return DecisionRecord(
        id=id_,
        time="2026-03-01T10:00:00+00:00",
        advisor=advisor,
        client_id=client,
        bundle_id=bundle,
        threshold=0.1,
        pd=0.2,
        model_decision="REFUSE",
        final_decision="ACCEPT",
        override=True,
        justification=justification,
        reasons=(),
        input_hash="a" * 64,
        corrects=None,
        prev_hash=GENESIS_HASH,
        hash="h" * 64,
        override_code="collateral",
    )


def test_decisions_are_marked_superseded_other_model_and_shown_in_full() -> None:
    long_text = "guarantor deed signed at the branch " * 5
    records = [
        override_record(1, 100, "model-a", "alice", long_text),
        override_record(2, 100, "model-b", "alice", ""),
        override_record(3, 200, "model-b", "alice", ""),
    ]
    latest = latest_ids(records)
    assert status_flags(records[0], latest, "model-b") == ["superseded by #2", "other model"]
    assert status_flags(records[1], latest, "model-b") == []
    detail = record_detail(records[0], latest, "model-b").plain
    assert long_text.strip() in detail and "Collateral or guarantor offered" in detail


def test_record_detail_strips_control_characters() -> None:
    record = override_record(1, 100, "m", "eve\x1b[2J", "ok\x1b[15G then [bold]markup[/bold] stays text")
    detail = record_detail(record, {100: 1}, None).plain
    assert "\x1b" not in detail and "[bold]markup[/bold]" in detail


def test_team_log_carries_the_reason_code_and_terms_with_the_justification() -> None:
    from credit_tui.audit_pg import pack_justification, unpack_justification

    terms = '{"asked":{"credit":1000.0},"granted":{"credit":800.0}}'
    packed = pack_justification("collateral deed received", "collateral", terms)
    assert not any(ord(ch) < 32 for ch in packed)  # the server refuses control characters
    assert unpack_justification(packed) == ("collateral deed received", "collateral", terms)
    assert pack_justification("plain words here", "", "") == "plain words here"
    assert unpack_justification("plain words here") == ("plain words here", "", "")
