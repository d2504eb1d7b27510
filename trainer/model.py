"""Fit XGBoost, choose the decision threshold by business cost, and evaluate.

Pure modelling code: arrays in, booster and numbers out. Reading data and writing bundles live elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from trainer.config import (
    DEFAULT_COST_FN,
    DEFAULT_COST_FP,
    DEFAULT_EARLY_STOPPING_ROUNDS,
    DEFAULT_NUM_BOOST_ROUND,
    DEFAULT_XGB_PARAMS,
)
from trainer.features import FeatureSpec

Matrix = np.ndarray[Any, np.dtype[np.float32]]
Vector = np.ndarray[Any, np.dtype[Any]]


def stratified_split(y: Vector, valid_share: float, seed: int) -> tuple[Vector, Vector]:
    """Return (train positions, validation positions), stratified on ``y`` and seeded."""
    positions = np.arange(len(y))
    train_pos, valid_pos = train_test_split(positions, test_size=valid_share, stratify=y, random_state=seed)
    return np.sort(train_pos), np.sort(valid_pos)


def make_dmatrix(x: Matrix, spec: FeatureSpec, label: Vector | None = None) -> xgb.DMatrix:
    """Wrap a feature matrix for XGBoost with the spec's names and categorical types."""
    return xgb.DMatrix(
        x,
        label=label,
        feature_names=list(spec.names),
        feature_types=spec.feature_types,
        enable_categorical=True,
    )


def fit_booster(
    x_train: Matrix,
    y_train: Vector,
    x_valid: Matrix,
    y_valid: Vector,
    spec: FeatureSpec,
    *,
    params: Mapping[str, Any] | None = None,
    num_boost_round: int = DEFAULT_NUM_BOOST_ROUND,
    early_stopping_rounds: int = DEFAULT_EARLY_STOPPING_ROUNDS,
    seed: int = 42,
    nthread: int = 0,
    on_round: Callable[[int, float], None] | None = None,
) -> xgb.Booster:
    """Train a gradient-boosted tree model with early stopping on validation ROC AUC.

    Args:
        x_train: Training features.
        y_train: Training labels (0/1).
        x_valid: Validation features.
        y_valid: Validation labels.
        spec: Feature names and categories, in matrix column order.
        params: XGBoost parameters overriding :data:`~trainer.config.DEFAULT_XGB_PARAMS`.
        num_boost_round: Maximum number of trees.
        early_stopping_rounds: Stop when validation AUC has not improved for this many rounds.
        seed: Random seed for row/column subsampling.
        nthread: Threads (0 = all cores).
        on_round: Called after each round with (round number, validation AUC), for progress bars.

    Returns:
        The booster truncated to its best iteration.

    Both matrices are plain ``DMatrix``es on purpose: a ``QuantileDMatrix`` (validation on the
    training cuts) grows the same trees and saves ~0.2 GB at full size, but measured on the 307,511
    synthetic clients (one thread, 60 rounds, interleaved) it cost 4.6-5.1 s more CPU to build and
    the validation one ~0.06 s more per round to evaluate, and time, not memory, is the bound
    (issue 14: 1.3-1.5 GB against 2.5 GB).
    """
    merged: dict[str, Any] = {**DEFAULT_XGB_PARAMS, **(params or {}), "seed": seed}
    if nthread:
        merged["nthread"] = nthread
    dtrain = make_dmatrix(x_train, spec, y_train)
    dvalid = make_dmatrix(x_valid, spec, y_valid)
    callbacks: list[xgb.callback.TrainingCallback] = []
    if on_round is not None:
        callbacks.append(_ProgressCallback(on_round))
    booster = xgb.train(
        merged,
        dtrain,
        num_boost_round=num_boost_round,
        evals=[(dvalid, "valid")],
        early_stopping_rounds=early_stopping_rounds,
        callbacks=callbacks,
        verbose_eval=False,
    )
    best = int(booster.best_iteration)
    return booster[: best + 1]


class _ProgressCallback(xgb.callback.TrainingCallback):
    """Reports each round's validation AUC."""

    def __init__(self, report: Callable[[int, float], None]) -> None:
        super().__init__()
        self._report = report

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        auc = float(evals_log["valid"]["auc"][-1])
        self._report(epoch + 1, auc)
        return False


@dataclass(frozen=True)
class ThresholdChoice:
    """The decision threshold and the business cost behind it.

    Attributes:
        threshold: Refuse when PD >= threshold.
        cost_fn: Cost of accepting a client who defaults.
        cost_fp: Cost of refusing a client who would have repaid.
        cost_per_client: Expected cost per application at the threshold, on validation data.
    """

    threshold: float
    cost_fn: float
    cost_fp: float
    cost_per_client: float


def cost_curve(y: Vector, pd_: Vector, cost_fn: float, cost_fp: float) -> tuple[Vector, Vector]:
    """Expected cost per client when refusing PD >= t, for every threshold that separates distinct PDs.

    Refusing the k highest PDs gives FN = positives - TP(k) and FP = k - TP(k); a threshold can only cut
    between distinct PDs, and the first candidate is "refuse nobody". :func:`choose_threshold` takes this
    curve's minimum, so the report plots exactly the curve the threshold was chosen on.

    Returns:
        (thresholds in decreasing order, cost per client).
    """
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(pd_, dtype=np.float64)
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    tp = np.concatenate([[0], np.cumsum(y_sorted)])
    k = np.arange(len(p) + 1)
    cost = cost_fn * (int(y.sum()) - tp) + cost_fp * (k - tp)
    valid = np.ones(len(p) + 1, dtype=bool)
    valid[1:-1] = p_sorted[1:] != p_sorted[:-1]
    thresholds = np.concatenate([[1.0 + 1e-12], p_sorted])
    return thresholds[valid], cost[valid] / len(p)


def choose_threshold(
    y: Vector, pd_: Vector, cost_fn: float = DEFAULT_COST_FN, cost_fp: float = DEFAULT_COST_FP
) -> ThresholdChoice:
    """Pick the threshold that minimises ``cost_fn * FN + cost_fp * FP`` on labelled data.

    Candidate thresholds are the observed PDs (refuse when PD >= t) plus "refuse nobody"
    (:func:`cost_curve`); ties go to the highest threshold.
    """
    thresholds, costs = cost_curve(y, pd_, cost_fn, cost_fp)
    best = int(np.argmin(costs))
    return ThresholdChoice(float(thresholds[best]), cost_fn, cost_fp, float(costs[best]))


def business_cost(y: Vector, pd_: Vector, threshold: float, cost_fn: float, cost_fp: float) -> float:
    """Expected cost per application when refusing PD >= threshold."""
    y = np.asarray(y, dtype=np.int64)
    refuse = np.asarray(pd_) >= threshold
    fn = int(np.sum((y == 1) & ~refuse))
    fp = int(np.sum((y == 0) & refuse))
    return (cost_fn * fn + cost_fp * fp) / len(y)


def evaluate(y: Vector, pd_: Vector, threshold: ThresholdChoice) -> dict[str, Any]:
    """Validation metrics: ROC AUC, PR AUC, KS, Brier, business cost and confusion matrix at the threshold."""
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(pd_, dtype=np.float64)
    fpr, tpr, _ = roc_curve(y, p)
    refuse = p >= threshold.threshold
    tp = int(np.sum((y == 1) & refuse))
    fp = int(np.sum((y == 0) & refuse))
    fn = int(np.sum((y == 1) & ~refuse))
    tn = int(np.sum((y == 0) & ~refuse))
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "ks": float(np.max(tpr - fpr)),
        "brier": float(brier_score_loss(y, p)),
        "business_cost": business_cost(y, p, threshold.threshold, threshold.cost_fn, threshold.cost_fp),
        "business_cost_at_0_5": business_cost(y, p, 0.5, threshold.cost_fn, threshold.cost_fp),
        "refusal_rate": float(refuse.mean()),
        "default_rate": float(y.mean()),
        "n": len(y),
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def mean_abs_shap(booster: xgb.Booster, x: Matrix, spec: FeatureSpec) -> dict[str, float]:
    """Global importance: mean |TreeSHAP contribution| (log-odds) per feature, largest first."""
    contribs = booster.predict(make_dmatrix(x, spec), pred_contribs=True)[:, :-1]
    means = np.abs(contribs).mean(axis=0)
    order = np.argsort(-means, kind="stable")
    return {spec.names[i]: float(means[i]) for i in order}
