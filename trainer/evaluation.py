"""``trainer evaluate``: a bundle's metrics on labelled data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainer.bundle import load_bundle
from trainer.errors import DataError
from trainer.features import feature_matrix
from trainer.model import ThresholdChoice, evaluate, stratified_split
from trainer.scoring import Scorer
from trainer.train import read_labelled_data


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics and a title saying which clients they were computed on."""

    metrics: dict[str, Any]
    title: str


def evaluate_bundle(model: Path, data_dir: Path) -> EvaluationResult:
    """Evaluate the bundle at ``model`` on ``application_train`` of ``data_dir``.

    When the data is the bundle's own training data (same fingerprint) only its validation clients are
    used, re-drawn with the recorded seed; otherwise every labelled client is. The data is read as
    ``trainer fit`` reads it (:func:`~trainer.train.read_labelled_data`): the needed columns only, the
    history tables the bundle uses aggregated on DuckDB straight from their files.
    """
    bundle = load_bundle(model)
    scorer = Scorer(bundle)
    tables = bundle.spec.history_tables
    data = read_labelled_data(data_dir, tables, use_history=bool(tables))
    if "TARGET" not in data.train.columns:
        raise DataError(f"application_train in {data_dir} has no TARGET column; evaluate needs labels.")
    history = data.history
    y = data.train["TARGET"].to_numpy(dtype=np.int64)
    training = bundle.manifest.training_data
    rows = np.arange(len(y))
    title = f"Metrics on all {len(y):,} labelled clients of {data_dir}"
    if training.fingerprint == data.fingerprint:
        settings = bundle.manifest.training
        _, rows = stratified_split(y, settings.valid_share, settings.seed)
        title = f"Metrics on the bundle's {len(rows):,} validation clients"
    x = feature_matrix(data.train.iloc[rows], history, bundle.spec)
    pds = scorer.predict_matrix(x)
    thr = bundle.manifest.threshold
    choice = ThresholdChoice(thr.value, thr.cost_false_negative, thr.cost_false_positive, float("nan"))
    return EvaluationResult(evaluate(y[rows], pds, choice), title)
