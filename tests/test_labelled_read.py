"""evaluate, report and compare read the data as fit does (needed columns, history on DuckDB from the
files) and give exactly what the former whole-table path gave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trainer.bundle import Bundle
from trainer.compare import load_dataset
from trainer.data import load_data
from trainer.evaluation import evaluate_bundle
from trainer.features import feature_matrix, fit_feature_spec, history_features, history_tables_used
from trainer.model import ThresholdChoice, evaluate, stratified_split
from trainer.scoring import Scorer
from trainer.train import TRAIN_COLUMNS, read_labelled_data


def former(folder: Path, tables: tuple[str, ...] | None) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """The former path: every table loaded whole, then the history aggregated from the frames."""
    data = load_data(folder, need_train=True, history=tables is None or bool(tables))
    wanted = data.history if tables is None else {t: data.history[t] for t in tables if t in data.history}
    used = history_tables_used(wanted)
    history = history_features({t: wanted[t] for t in used}) if used else None
    return data.train, history, data.fingerprint()


@pytest.mark.parametrize("tables", [None, ("bureau", "bureau_balance", "installments_payments"), ()])
def test_the_labelled_read_equals_loading_every_table(
    synth_dir: Path, tables: tuple[str, ...] | None
) -> None:
    train, history, fingerprint = former(synth_dir, tables)
    data = read_labelled_data(synth_dir, tables, use_history=tables is None or bool(tables), with_test=True)
    assert data.fingerprint == fingerprint  # the same files: a bundle's own data is still recognised
    assert list(data.train.columns) == [c for c in TRAIN_COLUMNS if c in train.columns]
    pd.testing.assert_frame_equal(data.train, train[list(data.train.columns)])
    full_test = load_data(synth_dir, history=False).test
    assert data.test is not None and full_test is not None
    pd.testing.assert_frame_equal(data.test, full_test[list(data.test.columns)])
    if history is None:
        assert data.history is None and data.history_tables == []
    else:
        assert data.history is not None
        pd.testing.assert_frame_equal(data.history, history)  # exactly, not to a tolerance


def test_evaluate_gives_the_former_metrics(fitted_bundle: Bundle, synth_dir: Path) -> None:
    train, history, fingerprint = former(synth_dir, fitted_bundle.spec.history_tables)
    assert fingerprint == fitted_bundle.manifest.training_data.fingerprint
    y = train["TARGET"].to_numpy(dtype=np.int64)
    settings = fitted_bundle.manifest.training
    _, rows = stratified_split(y, settings.valid_share, settings.seed)
    pds = Scorer(fitted_bundle).predict_matrix(feature_matrix(train.iloc[rows], history, fitted_bundle.spec))
    thr = fitted_bundle.manifest.threshold
    choice = ThresholdChoice(thr.value, thr.cost_false_negative, thr.cost_false_positive, float("nan"))
    result = evaluate_bundle(fitted_bundle.path, synth_dir)
    assert result.metrics == evaluate(y[rows], pds, choice)
    assert f"{len(rows):,} validation clients" in result.title


def test_compare_builds_the_former_feature_matrix(synth_dir: Path) -> None:
    train, history, fingerprint = former(synth_dir, None)
    spec = fit_feature_spec(train, history_tables_used(load_data(synth_dir).history))
    dataset = load_dataset(synth_dir)
    assert dataset.spec == spec and dataset.fingerprint == fingerprint
    np.testing.assert_array_equal(dataset.x, feature_matrix(train, history, spec))
