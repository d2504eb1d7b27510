"""MLflow tracking in temporary stores: fit records its run id in the manifest; compare logs its metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import compare_args
from rich.console import Console
from typer.testing import CliRunner

from trainer import tracking
from trainer.cli import app
from trainer.train import FitConfig


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    uri = tracking.resolve_uri(str(tmp_path_factory.mktemp("mlruns")))
    assert uri is not None
    return uri


def test_resolve_uri(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRAINER_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert tracking.default_tracking_dir() == tmp_path / "mlruns"  # the current folder, as MLflow does
    assert tracking.resolve_uri(None) == f"sqlite:///{tmp_path.resolve() / 'mlruns' / 'mlflow.db'}"
    assert tracking.resolve_uri("off") is None
    assert tracking.resolve_uri(str(tmp_path)) == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert tracking.resolve_uri("http://localhost:5000") == "http://localhost:5000"
    monkeypatch.setenv("TRAINER_TRACKING_URI", "none")
    assert tracking.resolve_uri(None) is None


def test_without_mlflow_runs_work_and_say_tracking_is_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tracking, "mlflow_available", lambda: False)
    console = Console(record=True, width=200)
    with tracking.tracked("fit", tracking.resolve_uri(str(tmp_path)), console=console) as run:
        run.log_metrics({"auc": 0.7})
        run.log_params({"a": 1})
    assert not run.active and run.reference() is None
    assert tracking.OFF_MESSAGE in console.export_text()
    assert not (tmp_path / "mlflow.db").exists()


def test_fit_records_its_run_in_the_manifest(synth_dir: Path, tmp_path: Path, store: str) -> None:
    config = FitConfig(data_dir=synth_dir, out=tmp_path / "m", seed=5, num_boost_round=30, nthread=1)
    bundle = tracking.tracked_fit(config, store)
    ref = bundle.manifest.tracking
    assert ref is not None
    assert ref["uri"] == store
    metrics, params, tags = tracking.get_run_data(store, ref["run_id"])
    validation = bundle.manifest.validation
    assert metrics["roc_auc"] == pytest.approx(validation.roc_auc)
    assert metrics["business_cost"] == pytest.approx(validation.business_cost)
    assert params["seed"] == "5"
    assert tags["bundle.model_id"] == bundle.model_id
    assert tags["data.fingerprint"] == bundle.manifest.training_data.fingerprint


def test_compare_logs_the_metrics_it_printed(synth_dir: Path, tmp_path: Path, store: str) -> None:
    out = tmp_path / "cmp"
    args = compare_args(synth_dir, out, 600, store, "--models", "lr,xgb")
    result = CliRunner(env={"COLUMNS": "160"}).invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "comparison.json").read_text())
    run_id = payload["mlflow_run_id"]
    metrics, params, tags = tracking.get_run_data(store, run_id)
    assert params["models"] == "lr,xgb"
    assert tags["best_model"] == payload["best_model"]
    for model in payload["models"]:
        logged = metrics[f"{model['key']}.roc_auc_mean"]
        assert logged == pytest.approx(model["roc_auc_mean"])
        assert f"{logged:.4f}" in result.stdout
        assert f"{metrics[model['key'] + '.business_cost']:.4f}" in result.stdout
    artifacts = Path(tracking._artifact_root(store).removeprefix("file://"))  # type: ignore[union-attr]
    assert list(artifacts.rglob("comparison.csv")) and list(artifacts.rglob("comparison.png"))


def test_report_attaches_its_figures_to_the_bundle_run(synth_dir: Path, tmp_path: Path, store: str) -> None:
    config = FitConfig(data_dir=synth_dir, out=tmp_path / "m", seed=6, num_boost_round=20, nthread=1)
    bundle = tracking.tracked_fit(config, store)
    result = CliRunner().invoke(
        app, ["report", "--model", str(bundle.path), "--out", str(tmp_path / "r"), "--tracking-uri", store]
    )
    assert result.exit_code == 0, result.output
    assert bundle.manifest.tracking is not None
    run_id = bundle.manifest.tracking["run_id"]
    artifacts = Path(tracking._artifact_root(store).removeprefix("file://"))  # type: ignore[union-attr]
    attached = {p.name for p in artifacts.rglob(f"{run_id}/**/report/*")}
    assert {"report.html", "cost.png", "shap_beeswarm.png"} <= attached
