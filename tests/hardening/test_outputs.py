"""Outputs never destroy what they do not own: one test per destructive case, the original untouched.

Each case records the bytes (or the listing) of what lies at the output path, runs the command, and
checks the exit code, the one-line message, and that the original is exactly as it was.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given

from credit_tui.audit import AuditStore, spreadsheet_safe
from credit_tui.audit_cli import audit_main
from credit_tui.letter import write_letter
from trainer.bundle import Bundle

from .conftest import RunTrainer
from .strategies import count, formula_text, hardening


def fingerprint(path: Path) -> str:
    """Bytes of a file, or names and bytes of every file under a folder."""
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for item in sorted(path.rglob("*")):
        digest.update(str(item.relative_to(path)).encode())
        if item.is_file():
            digest.update(item.read_bytes())
    return digest.hexdigest()


def audit(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = audit_main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def make_log(path: Path, records: int = 2, justification: str = "the client asked twice") -> Path:
    clock = iter(datetime(2026, 3, 1, 9, i, tzinfo=UTC) for i in range(60))
    with AuditStore(path, clock=lambda: next(clock)) as store:
        for i in range(records):
            store.record(
                advisor="ana",
                client_id=100001 + i,
                bundle_id="b" * 16,
                threshold=0.1,
                pd=0.05,
                model_decision="ACCEPT",
                final_decision="REFUSE",
                justification=justification,
                reasons=["reason"],
                input_hash="0" * 64,
                override_code="adverse_information",  # an override needs a reason code (issue 10)
            )
    return path


# -- trainer predict --out ------------------------------------------------------------------------


@pytest.fixture
def clients(data_copy: Path) -> Path:
    return data_copy / "application_test.csv"


@pytest.mark.parametrize("target", ["input", "history table", "existing file", "folder", "device"])
def test_predict_out_never_replaces_what_it_does_not_own(
    fitted_bundle: Bundle,
    clients: Path,
    tmp_path: Path,
    target: str,
    run_trainer: RunTrainer,
) -> None:
    count("destructive outputs")
    out = {
        "input": clients,
        "history table": clients.parent / "bureau.csv",
        "existing file": tmp_path / "scores.csv",
        "folder": tmp_path,
        "device": Path(os.devnull),
    }[target]
    if target == "existing file":
        out.write_text("precious\n")
    before = fingerprint(out) if out.is_file() and target != "device" else None
    code, err = run_trainer(
        ["predict", "--model", str(fitted_bundle.path), "--clients", str(clients), "--out", str(out)]
    )
    assert code == 2 and str(out) in err
    if before is not None:
        assert fingerprint(out) == before
    assert Path(os.devnull).is_char_device()


def test_predict_force_replaces_only_a_regular_file(
    fitted_bundle: Bundle,
    clients: Path,
    tmp_path: Path,
    run_trainer: RunTrainer,
) -> None:
    count("destructive outputs")
    out = tmp_path / "scores.csv"
    out.write_text("old\n")
    args = ["predict", "--model", str(fitted_bundle.path), "--clients", str(clients), "--out", str(out)]
    code, _ = run_trainer([*args, "--force"])
    assert code == 0 and out.read_text().startswith("SK_ID_CURR,TARGET")
    code, err = run_trainer([*args[:-1], str(clients), "--force"])
    assert code == 2 and "reads" in err  # --force never allows replacing the input


# -- trainer fit --out ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["project folder", "current folder", "a file", "data folder"])
def test_fit_out_replaces_only_an_existing_bundle(
    synth_dir: Path,
    tmp_path: Path,
    target: str,
    monkeypatch: pytest.MonkeyPatch,
    run_trainer: RunTrainer,
) -> None:
    count("destructive outputs")
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("years of work\n")
    monkeypatch.chdir(project)
    out = {
        "project folder": project,
        "current folder": Path("."),
        "a file": project / "notes.txt",
        "data folder": synth_dir,
    }[target]
    before = fingerprint(out.resolve())
    code, err = run_trainer(["fit", "--data", str(synth_dir), "--out", str(out), "--max-rounds", "2"])
    assert code == 2 and "--out" in err
    assert fingerprint(out.resolve()) == before


def test_fit_out_replaces_an_existing_bundle(
    fitted_bundle: Bundle,
    synth_dir: Path,
    tmp_path: Path,
    run_trainer: RunTrainer,
) -> None:
    count("destructive outputs")
    import shutil

    out = tmp_path / "models" / "again"
    shutil.copytree(fitted_bundle.path, out)
    args = ["fit", "--data", str(synth_dir), "--out", str(out), "--max-rounds", "3", "--no-history"]
    code, _ = run_trainer(args)
    assert code == 0 and (out / "manifest.json").is_file()


# -- credit-tui audit export --out -----------------------------------------------------------------


@pytest.mark.parametrize("target", ["the log", "its wal", "another log", "existing csv", "folder", "device"])
def test_audit_export_never_replaces_what_it_does_not_own(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    count("destructive outputs")
    log = make_log(tmp_path / "audit.sqlite3", records=1)
    other = make_log(tmp_path / "other.sqlite3", records=6)
    wal = tmp_path / "audit.sqlite3-wal"
    if target == "its wal":  # keep a WAL file around, as a running app does
        conn = sqlite3.connect(log)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("CREATE TEMP TABLE t(x)")
        wal.write_bytes(wal.read_bytes() if wal.exists() else b"\x37\x7f\x06\x82" + b"\0" * 28)
        conn.close()
    existing = tmp_path / "decisions.csv"
    existing.write_text("an earlier export\n")
    out = {
        "the log": log,
        "its wal": wal,
        "another log": other,
        "existing csv": existing,
        "folder": tmp_path,
        "device": Path(os.devnull),
    }[target]
    before = fingerprint(out) if out.is_file() else None
    code, err = audit(["export", "--audit-db", str(log), "--out", str(out)], capsys)
    assert code == 2 and str(out) in err
    if before is not None:
        assert fingerprint(out) == before
    assert not Path(f"{os.devnull}-journal").exists()


@hardening
@given(formula_text)
def test_export_cells_are_shown_as_text_by_spreadsheets(value: str) -> None:
    count("csv injection")
    safe = spreadsheet_safe(value)
    assert safe == "'" + value
    assert spreadsheet_safe(12.5) == 12.5 and spreadsheet_safe("plain") == "plain"


def test_export_writes_a_formula_justification_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count("csv injection")
    log = make_log(
        tmp_path / "audit.sqlite3", records=1, justification='=HYPERLINK("http://x","ok") was my reason'
    )
    out = tmp_path / "out.csv"
    assert audit(["export", "--audit-db", str(log), "--out", str(out)], capsys)[0] == 0
    assert "'=HYPERLINK(" in out.read_text()


# -- letters ------------------------------------------------------------------------------------------


LETTER = {
    "decision": "REFUSE",
    "date": datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
    "reasons": ["Your income is low compared with the credit"],
    "model_id": "m" * 16,
}


def test_a_same_day_correction_keeps_the_earlier_letter(tmp_path: Path) -> None:
    count("destructive outputs")
    first = write_letter(tmp_path, 100001, advisor="ana", **LETTER)  # type: ignore[arg-type]
    before = [fingerprint(p) for p in first]
    again = write_letter(tmp_path, 100001, advisor="ana", **LETTER)  # type: ignore[arg-type]
    assert again == first  # the very same letter: not written twice
    corrected = write_letter(tmp_path, 100001, advisor="ana", **{**LETTER, "decision": "ACCEPT"})  # type: ignore[arg-type]
    assert corrected[0].name == "letter-100001-2026-03-01-2.md"
    assert [fingerprint(p) for p in first] == before


def test_a_failed_letter_write_leaves_the_previous_letter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count("destructive outputs")
    first = write_letter(tmp_path, 100001, advisor="ana", **LETTER)  # type: ignore[arg-type]
    before = [fingerprint(p) for p in first]
    real_link = os.link

    def full_disk(src: str, dst: str) -> None:
        if str(dst).endswith(".html"):
            raise OSError(28, "No space left on device")
        real_link(src, dst)

    monkeypatch.setattr(os, "link", full_disk)
    from credit_tui.letter import LetterError

    with pytest.raises(LetterError, match="No space left"):
        write_letter(tmp_path, 100001, advisor="ana", **{**LETTER, "decision": "ACCEPT"})  # type: ignore[arg-type]
    assert [fingerprint(p) for p in first] == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first)  # no half letter


def test_letters_escape_control_characters_in_markdown_and_html(tmp_path: Path) -> None:
    count("letters")
    advisor = "ana\n# Approved by the bank\n[click](http://evil)\x1b[2J"
    md, page = write_letter(tmp_path, 100001, advisor=advisor, **LETTER)  # type: ignore[arg-type]
    text = md.read_text()
    assert not any(line.startswith("# Approved") for line in text.splitlines())  # no forged heading
    assert "\x1b" not in text  # no raw escape character
    assert "\\x0a# Approved" in text  # the newline is shown, escaped
    assert "](http" not in text.replace("\\](http", "")  # brackets escaped: no link
    assert "\x1b" not in page.read_text() and "<br" not in page.read_text().split("</p>")[-2]


def test_an_os_error_is_one_sentence_and_exit_2(
    synth_dir: Path, tmp_path: Path, run_trainer: RunTrainer
) -> None:
    count("os errors")
    folder = tmp_path / "params.json"
    folder.mkdir()  # a folder where a file is expected
    code, err = run_trainer(
        ["fit", "--data", str(synth_dir), "--out", str(tmp_path / "m"), "--params", str(folder)]
    )
    assert code == 2 and str(folder) in err and len(err.strip().splitlines()) == 1
