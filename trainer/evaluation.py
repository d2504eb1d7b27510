"""``trainer evaluate``: a bundle's metrics on labelled data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainer.bundle import load_bundle
from trainer.data import load_data
from trainer.features import feature_matrix, history_features, history_tables_used
from trainer.model import ThresholdChoice, evaluate, stratified_split
from trainer.scoring import Scorer


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics and a title saying which clients they were computed on."""

    metrics: dict[str, Any]
    title: str


def evaluate_bundle(model: Path, data_dir: Path) -> EvaluationResult:
    """Evaluate the bundle at ``model`` on ``application_train`` of ``data_dir``.

    When the data is the bundle's own training data (same fingerprint) only its validation clients are
    used, re-drawn with the recorded seed; otherwise every labelled client is.
    """
    bundle = load_bundle(model)
    scorer = Scorer(bundle)
    data = load_data(data_dir, need_train=True, history=bool(bundle.spec.history_tables))
    history_in = {t: data.history[t] for t in bundle.spec.history_tables if t in data.history}
    used = history_tables_used(history_in)
    history = history_features(history_in) if used else None
    y = data.train["TARGET"].to_numpy(dtype=np.int64)
    training = bundle.manifest.training_data
    rows = np.arange(len(y))
    title = f"Metrics on all {len(y):,} labelled clients of {data_dir}"
    if training.fingerprint == data.fingerprint():
        settings = bundle.manifest.training
        _, rows = stratified_split(y, settings.valid_share, settings.seed)
        title = f"Metrics on the bundle's {len(rows):,} validation clients"
    x = feature_matrix(data.train.iloc[rows], history, bundle.spec)
    pds = scorer.predict_matrix(x)
    thr = bundle.manifest.threshold
    choice = ThresholdChoice(thr.value, thr.cost_false_negative, thr.cost_false_positive, float("nan"))
    return EvaluationResult(evaluate(y[rows], pds, choice), title)
