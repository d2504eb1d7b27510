"""Failure handling: bad bundles and clients files at the CLI (exit 2, one line), errors inside the app."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import TuiData
from tui_helpers import error_dialog_text, ready, settle, until

from credit_tui import cli
from credit_tui.app import CreditApp, create_app
from credit_tui.screens.dialogs import ErrorDialog
from credit_tui.services import Services
from trainer.errors import DataError


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("credit-tui: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def bundle_copy(tui_data: TuiData, tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(tui_data.model_dir, target)
    return target


def test_missing_bundle(tui_data: TuiData, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope"
    result = run_cli(["--model", str(missing), "--clients", str(tui_data.clients)], capsys)
    assert_one_line_error(*result, str(missing), "does not exist")


def test_corrupt_manifest(tui_data: TuiData, bundle_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (bundle_copy / "manifest.json").write_text("{ not json", encoding="utf-8")
    result = run_cli(["--model", str(bundle_copy), "--clients", str(tui_data.clients)], capsys)
    assert_one_line_error(*result, "not valid JSON")


def test_tampered_model(tui_data: TuiData, bundle_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = bundle_copy / "model.ubj"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    result = run_cli(["--model", str(bundle_copy), "--clients", str(tui_data.clients)], capsys)
    assert_one_line_error(*result, "model.ubj", "changed")


def test_newer_bundle(tui_data: TuiData, bundle_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = json.loads((bundle_copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["schema_version"] = 99
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = run_cli(["--model", str(bundle_copy), "--clients", str(tui_data.clients)], capsys)
    assert_one_line_error(*result, "newer")


def test_missing_clients_file(tui_data: TuiData, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "clients.csv"
    result = run_cli(["--model", str(tui_data.model_dir), "--clients", str(missing)], capsys)
    assert_one_line_error(*result, str(missing), "does not exist")


def test_clients_file_missing_a_column(
    tui_data: TuiData, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_parquet(tui_data.clients).drop(columns=["AMT_CREDIT"])
    bad = tmp_path / "application_test.parquet"
    frame.to_parquet(bad)
    result = run_cli(["--model", str(tui_data.model_dir), "--clients", str(bad)], capsys)
    assert_one_line_error(*result, "AMT_CREDIT")


def test_clients_file_with_bad_values(
    tui_data: TuiData, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_parquet(tui_data.clients).head(50)
    frame["AMT_CREDIT"] = frame["AMT_CREDIT"].astype(object)
    frame.loc[frame.index[3], "AMT_CREDIT"] = "lots"
    bad = tmp_path / "application_test.csv"
    frame.to_csv(bad, index=False)
    result = run_cli(["--model", str(tui_data.model_dir), "--clients", str(bad)], capsys)
    assert_one_line_error(*result, "AMT_CREDIT")


def test_only_one_path_given(tui_data: TuiData, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(["--model", str(tui_data.model_dir)], capsys)
    assert_one_line_error(*result, "--clients")


def test_demo_not_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "DEMO_MODEL", tmp_path / "model")
    monkeypatch.setattr(cli, "DEMO_CLIENTS", tmp_path / "clients" / "application_test.parquet")
    result = run_cli([], capsys)
    assert_one_line_error(*result, "demo", "--model")


def test_help_explains_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--model", "--clients", "--advisor", "demo"):
        assert option in out


def test_subprocess_exit_code_and_no_traceback(tui_data: TuiData, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "credit_tui",
            "--model",
            str(tmp_path / "x"),
            "--clients",
            str(tui_data.clients),
            "--audit-db",
            str(tmp_path / "audit.sqlite3"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def test_loading_failure_in_app_shows_dialog_then_exits_2() -> None:
    def loader() -> Services:
        raise DataError("clients.csv: column AMT_CREDIT has a bad value 'lots' on row 4; fix the file.")

    app = create_app(loader)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        message = error_dialog_text(app)
        assert "column AMT_CREDIT has a bad value" in message
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_code == 2
    assert app.error_message is not None and "AMT_CREDIT" in app.error_message


async def test_explain_failure_is_a_dialog_not_a_crash(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    class BrokenExplainer:
        def __init__(self, scorer: Any) -> None:
            self._scorer = scorer

        def __getattr__(self, name: str) -> Any:
            return getattr(self._scorer, name)

        def explain(self, record: Any, history: Any) -> Any:
            raise ValueError("booster exploded")

    broken = Services(BrokenExplainer(services.scorer), services.portfolio, "tester")  # type: ignore[arg-type]
    app = make_app(services=broken)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        message = error_dialog_text(app)
        assert message == "Unexpected ValueError: booster exploded."
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.search_screen
        assert app.is_running
