"""Threshold choice and metrics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.model import business_cost, choose_threshold, evaluate, stratified_split


def brute_force_cost(y: np.ndarray, p: np.ndarray, cost_fn: float, cost_fp: float) -> float:
    candidates = [*np.unique(p), 1.1]
    return min(business_cost(y, p, t, cost_fn, cost_fp) for t in candidates)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20)), min_size=2, max_size=60),
    cost_fn=st.sampled_from([1.0, 5.0, 10.0]),
)
def test_threshold_reaches_the_brute_force_minimum(data: list[tuple[int, int]], cost_fn: float) -> None:
    y = np.array([d[0] for d in data])
    p = np.array([d[1] / 20 for d in data])  # many ties on purpose
    choice = choose_threshold(y, p, cost_fn, 1.0)
    assert choice.cost_per_client == pytest.approx(brute_force_cost(y, p, cost_fn, 1.0))
    assert business_cost(y, p, choice.threshold, cost_fn, 1.0) == pytest.approx(choice.cost_per_client)


def test_threshold_moves_down_when_missing_a_defaulter_costs_more() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=200_000)
    y = (rng.uniform(size=200_000) < p).astype(int)
    cheap = choose_threshold(y, p, 1.0, 1.0).threshold
    dear = choose_threshold(y, p, 10.0, 1.0).threshold
    assert dear < cheap
    assert cheap == pytest.approx(0.5, abs=0.05)  # calibrated scores, equal costs: refuse above 1/2
    assert dear == pytest.approx(1 / 11, abs=0.03)  # cost-optimal cut for 10:1 on calibrated scores


def test_evaluate_reports_confusion_matrix_at_threshold() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.6, 0.7, 0.2, 0.3, 0.9])
    metrics = evaluate(y, p, choose_threshold(y, p, 10.0, 1.0))
    cm = metrics["confusion_matrix"]
    assert cm["tn"] + cm["fp"] + cm["fn"] + cm["tp"] == 6
    assert 0 <= metrics["ks"] <= 1 and metrics["roc_auc"] == pytest.approx(7 / 9)


def test_stratified_split_keeps_the_default_rate() -> None:
    y = np.array([1] * 100 + [0] * 900)
    train, valid = stratified_split(y, 0.2, seed=1)
    assert len(valid) == 200 and y[valid].mean() == pytest.approx(0.1)
    assert set(train).isdisjoint(valid)
    again, _ = stratified_split(y, 0.2, seed=1)
    np.testing.assert_array_equal(train, again)
