"""The precomputed TreeSHAP tables against XGBoost itself: same margin and PD to the last digit, same
decision, contributions within 1e-5 in log-odds (demo bundle, what-if edits, a freshly fitted model
with native categorical splits and missing values, every grouping)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from credit_tui.cli import DEMO_CLIENTS, DEMO_MODEL
from trainer import tree_shap
from trainer.features import feature_row
from trainer.portfolio import Portfolio
from trainer.scoring import Scorer
from trainer.tree_shap import TreeShapTables, xgboost_sigmoid

TOLERANCE = 1e-5


def _what_ifs(record: dict[str, Any], k: int) -> list[dict[str, Any]]:
    """The record, and edits an advisor can make: amounts, a missing score, an unseen category."""
    edits: list[dict[str, Any]] = [
        {},
        {"AMT_CREDIT": float(record.get("AMT_CREDIT") or 1.0) * (0.5 + k % 3)},
        {"EXT_SOURCE_2": None, "EXT_SOURCE_3": None, "AMT_ANNUITY": None},
        {"NAME_CONTRACT_TYPE": "Teleport loans", "NAME_INCOME_TYPE": None, "OCCUPATION_TYPE": "Astronaut"},
    ]
    return [{**record, **edit} for edit in edits]


def test_demo_explanations_equal_xgboost_for_clients_and_what_ifs() -> None:
    scorer = Scorer.load(DEMO_MODEL)
    scorer.prepare_explanations()  # in a background thread, as the advisor app does
    tables = scorer.explanation_tables
    assert tables is not None  # the demo model is covered
    portfolio = Portfolio.load(DEMO_CLIENTS, tables=scorer.spec.history_tables)
    records = []
    for k, client_id in enumerate(portfolio.client_ids[:150]):
        history = portfolio.history_record(client_id)
        records += [(record, history) for record in _what_ifs(portfolio.record(client_id), k)]
    rows = np.concatenate([feature_row(record, history, scorer.spec) for record, history in records])
    assert np.isnan(rows).any()
    batch = scorer.predict_matrix(rows)  # the PDs trainer predict writes
    margins = scorer.bundle.booster.predict(xgb.DMatrix(rows), output_margin=True, validate_features=False)
    decisions = set()
    for i, (record, history) in enumerate(records):
        fast = scorer.explain(record, history)
        reference = scorer.explain(record, history, reference=True)
        assert fast.pd == reference.pd == batch[i]  # to the last digit
        assert fast.decision == reference.decision
        assert fast.margin == pytest.approx(float(margins[i]), abs=TOLERANCE)
        assert tables.explain(rows[i])[0] == margins[i]  # the margin the PD comes from: exact
        assert fast.base_value == pytest.approx(reference.base_value, abs=TOLERANCE)
        mine = {c.feature: (c.contribution, c.value) for c in fast.contributions}
        theirs = {c.feature: (c.contribution, c.value) for c in reference.contributions}
        assert mine.keys() == theirs.keys()
        for name, (share, value) in theirs.items():
            assert mine[name][0] == pytest.approx(share, abs=TOLERANCE), name
            assert mine[name][1] == value or (value != value and mine[name][1] != mine[name][1])
        sizes = [abs(c.contribution) for c in fast.contributions]
        assert sizes == sorted(sizes, reverse=True)
        decisions.add(fast.decision)
    assert len(decisions) >= 2  # both sides of the threshold were explained


def _categorical_model(depth: int, rounds: int, seed: int) -> tuple[xgb.Booster, int]:
    """A model on numbers and native categories, trained with missing values in both."""
    rng = np.random.default_rng(seed)
    n, levels = 3000, 7
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.exponential(size=n),
            "c": rng.integers(0, 4, size=n).astype(float),
            "d": pd.Categorical.from_codes(rng.integers(0, levels, size=n), categories=list("ABCDEFG")),
            "e": pd.Categorical.from_codes(rng.integers(0, 3, size=n), categories=list("xyz")),
        }
    )
    frame.loc[rng.random(n) < 0.15, "a"] = np.nan
    frame.loc[rng.random(n) < 0.1, "d"] = np.nan
    codes = frame["d"].cat.codes.to_numpy()
    logit = frame["a"].fillna(1.0) * 1.5 - frame["b"] + np.isin(codes, [1, 4]) * 2.0 + (frame["c"] > 1)
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    matrix = xgb.DMatrix(frame, label=label, enable_categorical=True)
    params = {
        "objective": "binary:logistic",
        "max_depth": depth,
        "learning_rate": 0.3,
        "max_cat_to_onehot": 1,
        "min_child_weight": 1,
        "nthread": 1,
        "seed": seed,
    }
    return xgb.train(params, matrix, num_boost_round=rounds), levels


def _probe_rows(levels: int, seed: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Rows with missing values, unseen (too large, negative, fractional) and known category codes."""
    rng = np.random.default_rng(seed)
    rows = np.column_stack(
        [
            rng.normal(size=400),
            rng.exponential(size=400),
            rng.integers(0, 4, size=400),
            rng.integers(0, levels, size=400),
            rng.integers(0, 3, size=400),
        ]
    ).astype(np.float32)
    rows[rng.random(rows.shape) < 0.15] = np.nan
    rows[:40, 3] = [levels, levels + 40, -1.0, 2.5, 1e9] * 8
    return rows


@pytest.mark.parametrize(("depth", "group_bits"), [(4, 0), (6, 6), (6, 9), (3, 3)])
def test_tables_equal_xgboost_on_a_fresh_categorical_model(depth: int, group_bits: int) -> None:
    booster, levels = _categorical_model(depth, rounds=40, seed=depth)
    trees = json.loads(bytes(booster.save_raw("json")))["learner"]["gradient_booster"]["model"]["trees"]
    assert any(tree["categories_nodes"] for tree in trees)  # native categorical splits in use
    tables = TreeShapTables.build(booster, group_bits=group_bits)
    assert tables is not None
    rows = _probe_rows(levels, seed=depth)
    matrix = xgb.DMatrix(rows)
    margins = booster.predict(matrix, output_margin=True, validate_features=False)
    pds = booster.inplace_predict(rows, validate_features=False)
    contribs = booster.predict(matrix, pred_contribs=True, validate_features=False)
    for i, row in enumerate(rows):
        margin, shares = tables.explain(row)
        assert margin == margins[i]
        assert xgboost_sigmoid(margin) == pds[i]
        np.testing.assert_allclose(shares, contribs[i, :-1], rtol=0, atol=TOLERANCE)
        assert tables.base_value == pytest.approx(float(contribs[i, -1]), abs=TOLERANCE)


def test_sigmoid_equals_xgboost_transform() -> None:
    # A model whose trees add exactly zero: its PD is XGBoost's sigmoid of the given base margin.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 2)).astype(np.float32)
    zero = {"objective": "binary:logistic", "learning_rate": 0.0}
    booster = xgb.train(zero, xgb.DMatrix(x, label=x[:, 0] > 0), 1)
    margins = np.concatenate(
        [rng.uniform(-30, 30, 100_000), rng.normal(0, 3, 100_000), [0.0, 88.7, -88.7, 100.0, -100.0, 1e-30]]
    ).astype(np.float32)
    pds = booster.predict(xgb.DMatrix(np.zeros((len(margins), 2), np.float32), base_margin=margins))
    mine = np.array([xgboost_sigmoid(m) for m in margins], dtype=np.float32)
    assert np.array_equal(mine, pds)


def test_uncovered_models_fall_back_to_xgboost(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 3))
    regression = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(x, label=x[:, 0]), 5)
    assert TreeShapTables.build(regression) is None
    monkeypatch.setattr(tree_shap, "MAX_TABLE_BYTES", 0)  # tables too large for the memory budget
    scorer = Scorer.load(DEMO_MODEL)
    assert scorer.explanation_tables is None
    portfolio = Portfolio.load(DEMO_CLIENTS, tables=scorer.spec.history_tables)
    client = portfolio.client_ids[0]
    record, history = portfolio.record(client), portfolio.history_record(client)
    assert scorer.explain(record, history) == scorer.explain(record, history, reference=True)
