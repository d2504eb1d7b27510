"""``trainer fit``: data folder -> features -> XGBoost -> threshold -> metrics -> bundle.

The stages report to a :class:`~trainer.progress.ProgressReport` callback when one is given (the CLI
draws it as bars on stderr); tests call :func:`fit_bundle` without it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from trainer.bundle import Bundle, save_bundle
from trainer.config import (
    DEFAULT_COST_FN,
    DEFAULT_COST_FP,
    DEFAULT_EARLY_STOPPING_ROUNDS,
    DEFAULT_NUM_BOOST_ROUND,
    DEFAULT_SEED,
    DEFAULT_VALID_SHARE,
)
from trainer.data import find_table, fingerprint_files, load_data, read_header, read_table
from trainer.errors import DataError
from trainer.fairness import fairness_groups, fairness_table, table_records
from trainer.features import (
    APP_CATEGORICAL,
    APP_INPUT_NUMERIC,
    FeatureSpec,
    feature_matrix,
    fit_feature_spec,
    history_tables_used,
)
from trainer.history_sql import aggregate_sources
from trainer.model import choose_threshold, evaluate, fit_booster, mean_abs_shap, stratified_split
from trainer.output_guard import check_bundle_target
from trainer.policy import input_policy
from trainer.progress import ProgressReport, stage
from trainer.schema import HISTORY_TABLES

#: Validation rows the global SHAP importance (mean |contribution| per feature) is computed on.
#:
#: 5,000 rows keep the ranking and the values: on the full-size synthetic data (307,511 clients, 460
#: trees) against 20,000 rows, 20 random 5,000-row subsets kept the same top-25 features every time,
#: Spearman correlation of the top-25 values >= 0.997 (median 0.999), relative error of a top-25 value
#: 2.6 % median of the per-subset worst, 6.3 % at worst; the standard error of a top-25 mean is 1.1 %
#: of it (3.1 % for the noisiest). Near-equal neighbours in the top 10 may swap places. XGBoost's
#: ``pred_contribs`` costs ~0.9 ms a row on 2 cores with that model: 20,000 rows were a third of
#: ``trainer fit`` at full size (issue 14). Smaller validation sets use every row.
IMPORTANCE_SAMPLE = 5_000
_HOW_TO_GET_DATA = "run `trainer synth --out DIR` or download the Kaggle files into data/raw/"
#: Columns of application_train that training reads (the others are never parsed).
TRAIN_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(("SK_ID_CURR", "TARGET", *APP_INPUT_NUMERIC, *APP_CATEGORICAL))
)


@dataclass(frozen=True)
class FitConfig:
    """What ``trainer fit`` was asked to do.

    Attributes:
        data_dir: Folder holding the Home Credit tables.
        out: Bundle directory to write.
        seed: Seed of the split and of the booster.
        valid_share: Share of labelled clients held out for validation.
        cost_fn: Cost of a false negative. cost_fp: Cost of a false positive.
        review_band: Half-width in PD points of the REVIEW band around the threshold (None: no band).
        use_history: Use the history tables when present (False: application table only).
        params: XGBoost parameters overriding the defaults.
        num_boost_round: Maximum trees. early_stopping_rounds: Patience of early stopping.
        nthread: XGBoost threads (0 = all cores).
        allow_protected: Protected attributes to keep as inputs anyway (analysis only: the bundle is then
            marked "not for client decisions").
    """

    data_dir: Path
    out: Path
    seed: int = DEFAULT_SEED
    valid_share: float = DEFAULT_VALID_SHARE
    cost_fn: float = DEFAULT_COST_FN
    cost_fp: float = DEFAULT_COST_FP
    review_band: float | None = None
    use_history: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    num_boost_round: int = DEFAULT_NUM_BOOST_ROUND
    early_stopping_rounds: int = DEFAULT_EARLY_STOPPING_ROUNDS
    nthread: int = 0
    allow_protected: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainingData:
    """What the model is fitted on: labelled application rows and their aggregated history.

    Attributes:
        train: ``application_train`` rows (the columns the features read, SK_ID_CURR and TARGET).
        history: History features indexed by SK_ID_CURR, or None without history tables.
        history_tables: History tables the features use. history_found: Those present in the folder.
        source: The data folder. fingerprint: SHA-256 of the files read (see :func:`load_data`).
        test: ``application_test`` rows (same columns, no TARGET) when asked for and present.
    """

    train: pd.DataFrame
    history: pd.DataFrame | None
    history_tables: list[str]
    history_found: list[str]
    source: Path
    fingerprint: str
    test: pd.DataFrame | None = None


def fit_bundle(
    config: FitConfig, progress: ProgressReport | None = None, tracking: Mapping[str, str] | None = None
) -> Bundle:
    """Train the model described by ``config`` and write its bundle atomically.

    Only the columns the features need are read; the history tables are aggregated on DuckDB straight
    from their files (never loaded whole into memory), while the files' fingerprint is computed in a
    second thread.

    Args:
        config: What to train.
        progress: Called as the stages advance (None: silent).
        tracking: MLflow run reference stored in the manifest (:func:`trainer.tracking.tracked_fit`).

    Raises:
        DataError: When the data folder cannot be used (one clear sentence).
        UserError: When ``config.out`` exists and is not a bundle (nothing is read or written then).
    """
    check_bundle_target(config.out, inputs=[config.data_dir])
    return _fit(read_training_data(config, progress), config, progress, tracking)


def read_training_data(config: FitConfig, progress: ProgressReport | None = None) -> TrainingData:
    """Read ``application_train`` and aggregate the history tables of ``config.data_dir``.

    Raises:
        DataError: When the data folder cannot be used (one clear sentence).
    """
    return read_labelled_data(config.data_dir, use_history=config.use_history, progress=progress)


def read_labelled_data(
    folder: Path,
    tables: Collection[str] | None = None,
    *,
    use_history: bool = True,
    with_test: bool = False,
    progress: ProgressReport | None = None,
) -> TrainingData:
    """Read a data folder the way ``trainer fit`` does: only what the features need.

    ``application_train`` (and ``application_test`` with ``with_test``) is read with the columns of
    :data:`TRAIN_COLUMNS` only (``TARGET`` when present); the history tables are aggregated on DuckDB
    straight from their files (never loaded whole), while the files' fingerprint (the one
    :func:`~trainer.data.load_data` records: the application files and, with ``use_history``, every
    history file present) is computed in a second thread. ``fit``, ``evaluate``, ``report`` and
    ``compare`` all read through here.

    Args:
        folder: The data folder.
        tables: Aggregate only these history tables (e.g. those a bundle uses); None: all present.
        use_history: Read the history tables at all.
        with_test: Also read ``application_test`` when present.
        progress: Called as the stages advance (None: silent).

    Raises:
        DataError: When the data folder cannot be used (one clear sentence).
    """
    with stage(progress, "Reading application_train"):
        train_path = find_table(folder, "application_train") if folder.is_dir() else None
        if train_path is None:
            load_data(folder, need_train=True, history=False)  # raises the clear missing folder/file error
            raise DataError(f"{folder} has no application_train table; {_HOW_TO_GET_DATA}.")
        columns = [c for c in TRAIN_COLUMNS if c != "TARGET" or c in read_header(train_path)]
        train = read_table(train_path, "application_train", columns)
    found = {n: p for n in HISTORY_TABLES if (p := find_table(folder, n)) is not None}
    test_path = find_table(folder, "application_test")
    test = None
    if with_test and test_path is not None:
        test = read_table(test_path, "application_test", [c for c in TRAIN_COLUMNS if c != "TARGET"])
    read = [train_path, *([test_path] if test_path else []), *(found.values() if use_history else [])]
    wanted = found if tables is None else {t: found[t] for t in found if t in set(tables)}
    used = history_tables_used(wanted) if use_history else []
    with ThreadPoolExecutor(max_workers=1) as pool:
        fingerprint = pool.submit(fingerprint_files, read)
        with stage(progress, "Aggregating history tables (DuckDB)"):
            history = aggregate_sources({t: found[t] for t in used}) if used else None
        fingerprint_value = fingerprint.result()
    found_names = sorted(found) if use_history else []
    return TrainingData(train, history, used, found_names, folder, fingerprint_value, test)


def _fit(
    data: TrainingData,
    config: FitConfig,
    progress: ProgressReport | None,
    tracking: Mapping[str, str] | None,
) -> Bundle:
    train = data.train
    if "TARGET" not in train.columns:
        raise DataError(
            f"application_train in {data.source} has no TARGET column; the model needs labelled clients."
        )
    y = train["TARGET"].to_numpy(dtype=np.int64)
    check_labels(y, data.source)
    used = data.history_tables
    with stage(progress, "Building features"):
        spec = fit_feature_spec(train, used, config.allow_protected)
        x = feature_matrix(train, data.history, spec)
    train_pos, valid_pos = stratified_split(y, config.valid_share, config.seed)
    x_train, x_valid, y_valid = x[train_pos], x[valid_pos], y[valid_pos]
    del x  # only the two halves are used from here on

    def on_round(done: int, auc: float) -> None:
        if progress is not None:
            progress(
                "Training XGBoost", done, config.num_boost_round, f"Training XGBoost (valid AUC {auc:.4f})"
            )

    booster = fit_booster(
        x_train,
        y[train_pos],
        x_valid,
        y_valid,
        spec,
        params=config.params,
        num_boost_round=config.num_boost_round,
        early_stopping_rounds=config.early_stopping_rounds,
        seed=config.seed,
        nthread=config.nthread,
        on_round=on_round,
    )
    del x_train
    if progress is not None:
        rounds = booster.num_boosted_rounds()
        progress("Training XGBoost", rounds, rounds)

    with stage(progress, "Validation predictions"):
        pd_valid = booster.inplace_predict(x_valid, validate_features=False).astype(np.float64)
        sample = np.random.default_rng(config.seed).permutation(len(valid_pos))[:IMPORTANCE_SAMPLE]
        x_importance = x_valid[np.sort(sample)]
    validation = Validation(
        y_valid,
        pd_valid,
        x_importance,
        {"n_clients": len(train), "n_train": len(train_pos), "n_valid": len(valid_pos)},
        float(y.mean()),
        fairness_groups(train.iloc[valid_pos].reset_index(drop=True)),
    )
    return finish_bundle(booster, spec, validation, data, config, progress, tracking)


def check_labels(y: np.ndarray[Any, Any], source: Path) -> None:
    """Refuse labels that cannot train and validate a model (one clear sentence)."""
    if len(np.unique(y)) < 2 or min(np.bincount(y, minlength=2)) < 10:
        raise DataError(
            f"application_train in {source} needs at least 10 defaults (TARGET=1) and 10 repaid loans "
            "(TARGET=0) to train and validate a model."
        )


@dataclass(frozen=True)
class Validation:
    """The validation side of a fit, as :func:`finish_bundle` needs it.

    Attributes:
        y: Labels of the validation clients.
        pds: Their predicted PDs.
        x_importance: Feature rows (validation clients) the SHAP importance is computed on.
        counts: ``n_clients``, ``n_train`` and ``n_valid`` for the manifest.
        default_rate: Default rate of the training table.
        groups: :func:`trainer.fairness.fairness_groups` of the validation clients: adds the fairness
            table to the manifest (None: no fairness table; both fits pass them).
    """

    y: np.ndarray[Any, Any]
    pds: np.ndarray[Any, Any]
    x_importance: np.ndarray[Any, np.dtype[np.float32]]
    counts: dict[str, int]
    default_rate: float
    groups: Mapping[str, pd.Series] | None = None


def finish_bundle(
    booster: xgb.Booster,
    spec: FeatureSpec,
    validation: Validation,
    data: TrainingData,
    config: FitConfig,
    progress: ProgressReport | None,
    tracking: Mapping[str, str] | None,
) -> Bundle:
    """Threshold, metrics and importance from the validation clients, then the bundle, written atomically.

    Shared by the single-machine fit and the Dask cluster fit (:mod:`trainer.cluster`), so both write
    the same bundle format.
    """
    y_valid, pd_valid, groups = validation.y, validation.pds, validation.groups
    with stage(progress, "Threshold, metrics and importance"):
        choice = choose_threshold(y_valid, pd_valid, config.cost_fn, config.cost_fp)
        metrics = evaluate(y_valid, pd_valid, choice)
        importance = mean_abs_shap(booster, validation.x_importance, spec)
        fairness = None if groups is None else fairness_table(groups, pd_valid < choice.threshold, y_valid)

    band = None
    if config.review_band:
        band = [
            max(0.0, choice.threshold - config.review_band),
            min(1.0, choice.threshold + config.review_band),
        ]
    details: dict[str, Any] = {
        "threshold": {
            "value": choice.threshold,
            "method": "minimum expected business cost on validation data",
            "cost_false_negative": choice.cost_fn,
            "cost_false_positive": choice.cost_fp,
            "review_band": band,
        },
        "metrics": {"validation": metrics},
        "input_policy": input_policy(spec),
        "importance": [{"feature": k, "mean_abs_shap": v} for k, v in importance.items()],
        "training_data": {
            "source": str(data.source),
            "fingerprint": data.fingerprint,
            **validation.counts,
            "default_rate": validation.default_rate,
            "history_tables_found": data.history_found,
        },
        "training": {
            "seed": config.seed,
            "valid_share": config.valid_share,
            "params": {**config.params},
            "num_boost_round": config.num_boost_round,
            "early_stopping_rounds": config.early_stopping_rounds,
            "best_iteration": booster.num_boosted_rounds(),
        },
    }
    if fairness is not None:
        ordered = list(details.items())
        at = [k for k, _ in ordered].index("input_policy") + 1
        groups_record = {"clients": "validation", "approved": "PD below the threshold"}
        ordered.insert(at, ("fairness", {**groups_record, "groups": table_records(fairness)}))
        details = dict(ordered)
    if tracking is not None:
        details["tracking"] = dict(tracking)
    with stage(progress, f"Writing bundle {config.out}"):
        return save_bundle(config.out, booster, spec, details)
