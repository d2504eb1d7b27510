"""The ``trainer`` console script as a user meets it: one clear line, exit code 2, nothing half-written."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trainer.bundle import MODEL_FILE, Bundle


def run_trainer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from trainer.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_one_clear_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_fit_on_a_missing_folder(tmp_path: Path) -> None:
    proc = run_trainer("fit", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "m"))
    assert_one_clear_error(proc, str(tmp_path / "nope"))
    assert not (tmp_path / "m").exists()


def test_fit_with_a_broken_table_writes_no_bundle(synth_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(synth_dir, data)
    text = (data / "bureau.csv").read_text().splitlines()
    header = text[0].replace("AMT_CREDIT_SUM_DEBT", "AMT_CREDIT_SUM_DEBTT")
    (data / "bureau.csv").write_text("\n".join([header, *text[1:]]) + "\n")
    out = tmp_path / "models" / "m"
    proc = run_trainer("fit", "--data", str(data), "--out", str(out))
    assert_one_clear_error(proc, "bureau.csv", "AMT_CREDIT_SUM_DEBTT")
    assert not out.exists()
    assert not (tmp_path / "models").exists() or list((tmp_path / "models").iterdir()) == []


def test_predict_with_a_tampered_bundle_writes_nothing(
    fitted_bundle: Bundle, synth_dir: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(fitted_bundle.path, bundle)
    with (bundle / MODEL_FILE).open("ab") as fh:
        fh.write(b"\0")
    out = tmp_path / "out.csv"
    proc = run_trainer("predict", "--model", str(bundle), "--data", str(synth_dir), "--out", str(out))
    assert_one_clear_error(proc, "model.ubj", "SHA-256")
    assert list(tmp_path.glob("*.csv")) == [] and list(tmp_path.glob(".out.csv*")) == []


def test_predict_into_a_missing_folder(fitted_bundle: Bundle, synth_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "out.csv"
    proc = run_trainer(
        "predict", "--model", str(fitted_bundle.path), "--data", str(synth_dir), "--out", str(out)
    )
    assert_one_clear_error(proc, str(out.parent))


def test_explain_an_unknown_client(fitted_bundle: Bundle, synth_dir: Path) -> None:
    proc = run_trainer(
        "explain", "--model", str(fitted_bundle.path), "--data", str(synth_dir), "--client", "42"
    )
    assert_one_clear_error(proc, "Client 42", "application_test")


def test_explain_shows_pd_decision_and_contributions(fitted_bundle: Bundle, synth_dir: Path) -> None:
    client = (synth_dir / "application_test.csv").read_text().splitlines()[1].split(",")[0]
    proc = run_trainer(
        "explain", "--model", str(fitted_bundle.path), "--data", str(synth_dir), "--client", client
    )
    assert proc.returncode == 0, proc.stderr
    assert f"Client {client}" in proc.stdout and "PD " in proc.stdout
    assert any(word in proc.stdout for word in ("ACCEPT", "REFUSE", "REVIEW"))
    assert "All " in proc.stdout and "others" in proc.stdout


@pytest.mark.parametrize("params", ["{not json", "[1, 2]"])
def test_bad_params_file(synth_dir: Path, tmp_path: Path, params: str) -> None:
    path = tmp_path / "params.json"
    path.write_text(params)
    proc = run_trainer("fit", "--data", str(synth_dir), "--out", str(tmp_path / "m"), "--params", str(path))
    assert_one_clear_error(proc, str(path))
    assert not (tmp_path / "m").exists()


def test_evaluate_uses_the_bundle_validation_clients(fitted_bundle: Bundle, synth_dir: Path) -> None:
    proc = run_trainer("evaluate", "--model", str(fitted_bundle.path), "--data", str(synth_dir))
    assert proc.returncode == 0, proc.stderr
    n_valid = fitted_bundle.manifest.training_data.n_valid
    assert f"bundle's {n_valid:,} validation clients" in proc.stdout
    auc = fitted_bundle.manifest.validation.roc_auc
    assert f"{auc:.4f}" in proc.stdout


def test_both_commands_print_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    from credit_tui.cli import main as tui_main

    installed = version("credit-tui")
    proc = run_trainer("--version")
    assert proc.returncode == 0 and installed in proc.stdout
    with pytest.raises(SystemExit) as info:
        tui_main(["--version"])
    assert info.value.code == 0 and f"credit-tui {installed}" in capsys.readouterr().out


def test_synth_check_only_on_an_empty_folder(tmp_path: Path) -> None:
    proc = run_trainer("synth", "--out", str(tmp_path), "--check-only")
    assert_one_clear_error(proc, str(tmp_path), "application_train")
    assert list(tmp_path.iterdir()) == []
