"""trainer tune: seeded optuna search within the time budget, never worse than the defaults, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer.cli import _read_params
from trainer.compare import Dataset, load_dataset
from trainer.tune import SEARCHED, TuneConfig, run_tune, write_params


@pytest.fixture(scope="module")
def dataset(synth_dir: Path) -> Dataset:
    return load_dataset(synth_dir, sample=700, seed=1)


def test_tune_respects_the_budget_and_keeps_the_baseline(dataset: Dataset, tmp_path: Path) -> None:
    budget = 0.1  # minutes
    result = run_tune(TuneConfig(budget_minutes=budget, n_folds=2, threads=1, max_rounds=300), dataset)
    # The deadline is checked before every fold, so the overrun is at most one fold's training.
    assert result.seconds <= budget * 60 + 5
    assert result.n_trials >= 1
    assert result.best_auc >= result.baseline_auc
    out = tmp_path / "params.json"
    write_params(result, out)
    params = _read_params(out)
    assert set(params) == set(SEARCHED)
    assert json.loads(out.read_text()) == result.best_params


def test_tune_resumes_from_its_storage(dataset: Dataset, tmp_path: Path) -> None:
    storage = tmp_path / "study.db"
    config = TuneConfig(budget_minutes=1, n_folds=2, max_trials=1, threads=1, max_rounds=50, storage=storage)
    first = run_tune(config, dataset)
    second = run_tune(config, dataset)
    assert first.n_trials == 1 and first.best_auc == first.baseline_auc
    assert second.n_trials == 2
    assert second.baseline_auc == first.baseline_auc
