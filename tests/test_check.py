"""Tests of trainer.check (check_folder, render_findings) and the `trainer check` command."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from helpers import tiny_table
from rich.console import Console
from typer.testing import CliRunner

from trainer.check import Finding, check_folder, render_findings
from trainer.cli import app
from trainer.schema import TABLE_NAMES, ColumnSpec, load_profile

N = 8


def make_table(name: str, n: int = N) -> pd.DataFrame:
    """A tiny valid table: categories cycle through their levels, numbers through the real quartiles."""
    stats = load_profile()["tables"][name]["stats"]

    def value(spec: ColumnSpec, i: int) -> object:
        if spec.kind == "category":
            return spec.levels[i % len(spec.levels)]
        # values the real column holds (check warns about numbers far outside its range)
        return float(stats[spec.name]["quantiles"][("0.25", "0.5", "0.75")[i % 3]])

    return tiny_table(name, n, value)


def good_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in TABLE_NAMES:
        make_table(name).to_csv(folder / f"{name}.csv", index=False)
    return folder


def by_table(findings: list[Finding], table: str) -> list[Finding]:
    return [f for f in findings if f.table == table]


def severities(findings: list[Finding], table: str) -> set[str]:
    return {f.severity for f in by_table(findings, table)}


def test_good_folder_all_ok(tmp_path: Path) -> None:
    findings = check_folder(good_folder(tmp_path))
    assert [f.table for f in findings] == list(TABLE_NAMES)
    assert all(f.severity == "ok" for f in findings), findings
    train = by_table(findings, "application_train")[0]
    assert f"{N} rows" in train.message and "122 columns" in train.message


def test_missing_folder(tmp_path: Path) -> None:
    findings = check_folder(tmp_path / "absent")
    assert len(findings) == 1 and findings[0].severity == "error"
    assert "trainer synth --out" in findings[0].message


def test_missing_tables(tmp_path: Path) -> None:
    folder = good_folder(tmp_path)
    (folder / "application_train.csv").unlink()
    (folder / "bureau.csv").unlink()
    findings = check_folder(folder)
    assert severities(findings, "application_train") == {"error"}
    assert severities(findings, "bureau") == {"warning"}
    assert "credits at other institutions" in by_table(findings, "bureau")[0].message
    # bureau_balance still readable; its join to bureau cannot be checked, so no orphan warning
    assert severities(findings, "bureau_balance") == {"ok"}


def test_broken_tables_collected_not_raised(tmp_path: Path) -> None:
    folder = good_folder(tmp_path)
    train = make_table("application_train").rename(columns={"AMT_CREDIT": "AMT_CREDT"})
    train["MY_NOTE"] = "x"
    train.loc[3, "TARGET"] = 2
    train.loc[5, "SK_ID_CURR"] = train.loc[4, "SK_ID_CURR"]
    train.to_csv(folder / "application_train.csv", index=False)
    bureau = make_table("bureau")
    bureau["CREDIT_ACTIVE"] = bureau["CREDIT_ACTIVE"].astype(object)
    bureau.loc[[0, 1], "CREDIT_ACTIVE"] = "Closd"
    bureau.loc[2, "SK_ID_CURR"] = 999
    bureau.to_csv(folder / "bureau.csv", index=False)
    prev = make_table("previous_application")
    prev["AMT_CREDIT"] = prev["AMT_CREDIT"].astype(object)
    prev.loc[1, "AMT_CREDIT"] = "lots"
    prev.to_csv(folder / "previous_application.csv", index=False)
    (folder / "credit_card_balance.csv").write_bytes(b"")

    findings = check_folder(folder)
    msgs = " | ".join(f.message for f in by_table(findings, "application_train"))
    assert "did you mean AMT_CREDIT?" in msgs
    assert "outside the schema, ignored: MY_NOTE" in msgs
    assert "TARGET is 2" in msgs
    assert "SK_ID_CURR 100005 appears more than once" in msgs
    assert "ok" not in severities(findings, "application_train")

    bureau_msgs = [f for f in by_table(findings, "bureau") if f.severity == "warning"]
    text = " | ".join(f.message for f in bureau_msgs)
    assert "CREDIT_ACTIVE" in text and "'Closd' (2 rows)" in text
    # row 2 (999) and row 5 (100006, whose train row was overwritten by the duplicate) are orphans
    assert re.search(r"25\.0% of rows \(2 of 8\) have SK_ID_CURR values not found", text)
    assert "ok" in severities(findings, "bureau")

    prev_err = by_table(findings, "previous_application")[0]
    assert prev_err.severity == "error"
    assert "AMT_CREDIT" in prev_err.message and "'lots'" in prev_err.message and "line 3" in prev_err.message
    # history rows of a previous_application that failed to read are not reported as orphans
    pos = by_table(findings, "POS_CASH_balance")
    assert "ok" in {f.severity for f in pos}
    assert not any("SK_ID_PREV" in f.message for f in pos)

    assert severities(findings, "credit_card_balance") == {"error"}
    assert "empty" in by_table(findings, "credit_card_balance")[0].message
    assert all("Traceback" not in f.message for f in findings)


def test_orphan_history_rows(tmp_path: Path) -> None:
    folder = good_folder(tmp_path)
    bb = make_table("bureau_balance")
    bb.loc[:3, "SK_ID_BUREAU"] = 1
    bb.to_csv(folder / "bureau_balance.csv", index=False)
    pos = make_table("POS_CASH_balance")
    pos.loc[0, "SK_ID_PREV"] = 7
    pos.to_parquet(folder / "POS_CASH_balance.parquet", index=False)
    (folder / "POS_CASH_balance.csv").unlink()
    findings = check_folder(folder)
    bb_warn = [f.message for f in by_table(findings, "bureau_balance") if f.severity == "warning"]
    assert bb_warn == [
        "50.0% of rows (4 of 8) have SK_ID_BUREAU values not found in bureau; "
        "they will not join to any client."
    ]
    pos_warn = [f.message for f in by_table(findings, "POS_CASH_balance") if f.severity == "warning"]
    assert len(pos_warn) == 1 and "SK_ID_PREV" in pos_warn[0] and "previous_application" in pos_warn[0]


def test_render_findings_table(tmp_path: Path) -> None:
    findings = [
        Finding("application_train", "ok", "8 rows, 122 columns."),
        Finding("bureau", "warning", "bureau.csv is absent."),
        Finding("credit_card_balance", "error", "credit_card_balance.csv is empty."),
    ]
    console = Console(record=True, width=120)
    console.print(render_findings(findings, tmp_path))
    out = console.export_text()
    assert str(tmp_path) in out
    for f in findings:
        assert f.table in out and f.message in out
    assert "1 error, 1 warning: not usable for training" in out


def test_cli_exit_codes(tmp_path: Path) -> None:
    folder = good_folder(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(app, ["check", "--data", str(folder)], env={"COLUMNS": "160"})
    assert ok.exit_code == 0, ok.output
    assert "application_train" in ok.output and "0 errors" in ok.output

    (folder / "application_train.csv").write_text("SK_ID_CURR,TARGET\n")
    bad = runner.invoke(app, ["check", "--data", str(folder)], env={"COLUMNS": "160"})
    assert bad.exit_code == 2, bad.output
    assert "application_train" in bad.output and "error" in bad.output
    assert "Traceback" not in bad.output

    missing = runner.invoke(app, ["check", "--data", str(tmp_path / "nope")], env={"COLUMNS": "160"})
    assert missing.exit_code == 2
    assert "trainer synth --out DIR" in missing.output
