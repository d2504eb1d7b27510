"""trainer compare: every model on the same seeded folds, table/CSV/JSON of the right shape."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import compare_args
from typer.testing import CliRunner

from trainer.cli import app
from trainer.compare import MODEL_LABELS, MODEL_NAMES, SUMMARY_COLUMNS, folds, parse_models, score_fold
from trainer.errors import UserError
from trainer.model import choose_threshold


def test_compare_runs_every_model(synth_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, compare_args(synth_dir, out, 700, "off"))
    assert result.exit_code == 0, result.output
    for label in MODEL_LABELS.values():
        assert label in result.stdout
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == list(SUMMARY_COLUMNS)
    assert list(table["model"]) == list(MODEL_NAMES)
    assert table[["roc_auc_mean", "pr_auc", "f1", "accuracy"]].notna().all().all()
    assert ((table["roc_auc_mean"] > 0.5) & (table["roc_auc_mean"] <= 1.0)).all()
    assert (table["business_cost"] > 0).all()
    payload = json.loads((out / "comparison.json").read_text())
    assert payload["n_clients"] == 700
    assert payload["best_model"] == table.loc[table["roc_auc_mean"].idxmax(), "model"]
    assert all(len(m["folds"]) == 2 for m in payload["models"])
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(out.glob(".*"))


def test_folds_are_seeded_and_stratified() -> None:
    y = np.array([0] * 90 + [1] * 10)
    first, again = folds(y, 5, 3), folds(y, 5, 3)
    for (tr1, te1), (tr2, te2) in zip(first, again, strict=True):
        assert np.array_equal(te1, te2) and np.array_equal(tr1, tr2)
        assert y[te1].sum() == 2
    assert sorted(np.concatenate([te for _, te in first]).tolist()) == list(range(100))


def test_parse_models_keeps_order_and_refuses_unknown_keys() -> None:
    assert parse_models("xgb, lr,xgb") == ("xgb", "lr")
    with pytest.raises(UserError, match="svm"):
        parse_models("lr,svm")


def test_fold_scores_use_the_cost_optimal_threshold() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.1).astype(np.int64)
    p = np.clip(0.1 + 0.3 * y + rng.normal(0, 0.15, 500), 0, 1)
    scores = score_fold(y, p, 10.0, 1.0)
    choice = choose_threshold(y, p, 10.0, 1.0)
    assert scores["threshold"] == pytest.approx(choice.threshold)
    assert scores["business_cost"] == pytest.approx(choice.cost_per_client)
