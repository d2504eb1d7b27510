"""The letter key and ``credit-tui letter``; ``credit-tui audit verify|export``; bad ``--audit-db`` paths."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from conftest import TuiData
from decision_helpers import client_open, clients_with, seed
from tui_helpers import settle

from credit_tui import cli
from credit_tui.app import CreditApp
from credit_tui.audit import AuditStore, open_audit_store
from credit_tui.services import Services


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, out: str, err: str, prefix: str, *fragments: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(prefix)
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


async def test_letter_key_writes_markdown_and_html(
    make_app: Callable[..., CreditApp], services: Services, audit_store: AuditStore, letters_dir: Path
) -> None:
    client_id = clients_with(services, "REFUSE")[2]
    app = make_app()
    async with client_open(app, client_id) as (pilot, screen):
        await pilot.press("l")  # nothing recorded yet
        await settle(pilot)
        assert any("No decision is recorded" in n.message for n in app._notifications)
        assert list(letters_dir.iterdir()) == []
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        record = audit_store.latest_for(client_id)
        assert record is not None and record.final_decision == "REFUSE"
        await pilot.press("l")
        await settle(pilot)
        stem = f"letter-{client_id}-{date.fromisoformat(record.time[:10]).isoformat()}"
        md_path, html_path = letters_dir / f"{stem}.md", letters_dir / f"{stem}.html"
        assert md_path.is_file() and html_path.is_file()
        markdown = md_path.read_text(encoding="utf-8")
        page = html_path.read_text(encoding="utf-8")
        assert "Refused" in markdown and str(client_id) in markdown and "tester" in markdown
        assert screen.reasons and all(reason in markdown for reason in screen.reasons[:4])
        assert page.startswith("<!DOCTYPE html>") and "Refused" in page and "<script" not in page
        assert "AMT_" not in markdown and "EXT_SOURCE" not in markdown
        assert any(str(letters_dir) in n.message and md_path.name in n.message for n in app._notifications)


def test_letter_cli(services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "audit.sqlite3"
    client_id = clients_with(services, "ACCEPT")[0]
    # No audit file at all, then a file without a decision for that client: one line, exit 2.
    result = run_cli(["letter", "--client", str(client_id), "--audit-db", str(db)], capsys)
    assert_one_line_error(*result, "credit-tui letter: ", f"client {client_id}", "does not exist")
    with open_audit_store(db) as store:
        seed(store, services, clients_with(services, "ACCEPT")[1], "ACCEPT")
    result = run_cli(["letter", "--client", str(client_id), "--audit-db", str(db)], capsys)
    assert_one_line_error(*result, "credit-tui letter: ", f"No decision is recorded for client {client_id}")
    # With a decision: both files in --out, one line on stdout.
    with open_audit_store(db) as store:
        record = seed(store, services, client_id, "ACCEPT", advisor="alice")
    out = tmp_path / "letters"
    out.mkdir()
    code, stdout, stderr = run_cli(
        ["letter", "--client", str(client_id), "--audit-db", str(db), "--out", str(out)], capsys
    )
    assert code == 0 and stderr == ""
    files = sorted(p.name for p in out.iterdir())
    stem = f"letter-{client_id}-{record.time[:10]}"
    assert files == [f"{stem}.html", f"{stem}.md"]
    assert "Accepted" in (out / f"{stem}.md").read_text(encoding="utf-8")
    assert "alice" in (out / f"{stem}.html").read_text(encoding="utf-8")
    assert len(stdout.strip().splitlines()) == 1 and f"{stem}.md" in stdout
    # A folder that does not exist: one line, exit 2.
    result = run_cli(
        ["letter", "--client", str(client_id), "--audit-db", str(db), "--out", str(tmp_path / "nope")], capsys
    )
    assert_one_line_error(*result, "credit-tui letter: ", "does not exist")


def test_audit_verify_and_export_through_main(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "audit.sqlite3"
    with open_audit_store(db) as store:
        for client_id in clients_with(services, "REFUSE")[:3]:
            seed(store, services, client_id, "REFUSE")
    code, out, err = run_cli(["audit", "verify", "--audit-db", str(db)], capsys)
    assert code == 0 and err == "" and "3 records" in out
    target = tmp_path / "decisions.csv"
    code, out, err = run_cli(["audit", "export", "--audit-db", str(db), "--out", str(target)], capsys)
    assert code == 0 and "wrote 3 records" in out
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["id"]) for r in rows] == [1, 2, 3] and {r["final_decision"] for r in rows} == {"REFUSE"}
    result = run_cli(["audit", "verify", "--audit-db", str(tmp_path / "missing.sqlite3")], capsys)
    assert_one_line_error(*result, "credit-tui audit: ", "does not exist")


def test_bad_audit_db_stops_before_the_app(
    tui_data: TuiData, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--model", str(tui_data.model_dir), "--clients", str(tui_data.clients)]
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("this is not a database, just some text\n" * 50, encoding="utf-8")
    result = run_cli([*base, "--audit-db", str(not_sqlite)], capsys)
    assert_one_line_error(*result, "credit-tui: ", str(not_sqlite), "not an SQLite database")
    assert not_sqlite.read_text(encoding="utf-8").startswith("this is not a database")  # untouched
    inside_a_file = not_sqlite / "audit.sqlite3"
    result = run_cli([*base, "--audit-db", str(inside_a_file)], capsys)
    assert_one_line_error(*result, "credit-tui: ", "inside a file")
    result = run_cli([*base, "--letters-dir", str(tmp_path / "nope")], capsys)
    assert_one_line_error(*result, "credit-tui: ", "letters folder", "does not exist")
