"""``trainer compare``: five model families on the same seeded stratified folds and the same features.

Logistic Regression, Decision Tree, Random Forest, HistGradientBoosting and XGBoost are all fed by the
shared feature code (:func:`trainer.features.feature_matrix`), where categories are float codes:

- Logistic Regression imputes (median) and scales the numbers and one-hot encodes the categories;
- the scikit-learn trees take the codes as ordinal numbers (they handle missing values natively);
- HistGradientBoosting treats the codes as native categories;
- XGBoost goes through :func:`trainer.model.fit_booster` (native categories, early stopping on an inner
  stratified split of each training fold, never on the held-out fold).

Per fold every model's threshold is the cost-optimal one on that fold's held-out predictions
(:func:`trainer.model.choose_threshold`), so business cost, F1 and accuracy compare each model at its
own best operating point.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

from trainer.atomic import write_text_atomic
from trainer.config import (
    DEFAULT_COST_FN,
    DEFAULT_COST_FP,
    DEFAULT_EARLY_STOPPING_ROUNDS,
    DEFAULT_NUM_BOOST_ROUND,
    DEFAULT_SEED,
)
from trainer.errors import DataError, UserError
from trainer.features import (
    FeatureSpec,
    feature_matrix,
    fit_feature_spec,
)
from trainer.model import Matrix, Vector, choose_threshold, fit_booster, stratified_split
from trainer.progress import ProgressReport
from trainer.train import read_labelled_data

#: Model keys accepted by ``--models``, with their display names, in the order they are run.
MODEL_NAMES: dict[str, str] = {
    "lr": "Logistic Regression",
    "tree": "Decision Tree",
    "rf": "Random Forest",
    "hgb": "HistGradientBoosting",
    "xgb": "XGBoost",
}
#: Short labels for the terminal table (fits 80 columns).
MODEL_LABELS: dict[str, str] = {
    "lr": "LogReg",
    "tree": "Tree",
    "rf": "RandForest",
    "hgb": "HistGB",
    "xgb": "XGBoost",
}
#: Share of each training fold held out for XGBoost's early stopping.
INNER_VALID_SHARE = 0.1


@dataclass(frozen=True)
class Dataset:
    """Labelled feature matrix built with the shared feature code.

    Attributes:
        x: Features (float32; categories as codes).
        y: Labels (0/1).
        ids: SK_ID_CURR of each row.
        spec: Feature names and category levels.
        fingerprint: SHA-256 of the data files read.
        source: The data folder.
    """

    x: Matrix
    y: Vector
    ids: Vector
    spec: FeatureSpec
    fingerprint: str
    source: Path


def load_dataset(
    data_dir: Path, *, use_history: bool = True, sample: int | None = None, seed: int = DEFAULT_SEED
) -> Dataset:
    """Read a data folder and build the feature matrix of its labelled clients.

    Args:
        data_dir: Folder holding the Home Credit tables.
        use_history: Aggregate the history tables present.
        sample: Keep a seeded stratified sample of this many clients (None: all).
        seed: Seed of the sample.

    Raises:
        DataError: When the folder cannot be used or has too few defaults.
    """
    data = read_labelled_data(data_dir, use_history=use_history)
    train = data.train
    if "TARGET" not in train.columns:
        raise DataError(f"application_train in {data_dir} has no TARGET column; compare needs labels.")
    y_all = train["TARGET"].to_numpy(dtype=np.int64)
    if sample is not None and sample < len(train):
        positions = np.arange(len(train))
        keep, _ = train_test_split(positions, train_size=sample, stratify=y_all, random_state=seed)
        train = train.iloc[np.sort(keep)].reset_index(drop=True)
    y = train["TARGET"].to_numpy(dtype=np.int64)
    if len(np.unique(y)) < 2 or min(np.bincount(y, minlength=2)) < 20:
        raise DataError(
            f"application_train in {data_dir} needs at least 20 defaults and 20 repaid loans "
            "(after --sample) to cross-validate models."
        )
    used = data.history_tables
    spec = fit_feature_spec(train, used)
    x = feature_matrix(train, data.history, spec)
    ids = train["SK_ID_CURR"].to_numpy(dtype=np.int64)
    return Dataset(x, y, ids, spec, data.fingerprint, Path(data_dir))


def folds(y: Vector, n_folds: int, seed: int) -> list[tuple[Vector, Vector]]:
    """The seeded stratified folds every model shares: (train positions, test positions)."""
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y)]


# --------------------------------------------------------------------------------------------------
# The models
# --------------------------------------------------------------------------------------------------

Predictor = Callable[[Matrix, Vector, Matrix, FeatureSpec, int, int], Vector]


def _columns(spec: FeatureSpec) -> tuple[list[int], list[int]]:
    categorical = [j for j, name in enumerate(spec.names) if name in spec.categories]
    numeric = [j for j, name in enumerate(spec.names) if name not in spec.categories]
    return numeric, categorical


def _predict_lr(
    x_tr: Matrix, y_tr: Vector, x_te: Matrix, spec: FeatureSpec, seed: int, threads: int
) -> Vector:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric, categorical = _columns(spec)
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=20), categorical),
        ],
        sparse_threshold=0.0,
    )
    model = Pipeline([("prep", prep), ("lr", LogisticRegression(C=0.1, max_iter=500, random_state=seed))])
    model.fit(x_tr, y_tr)
    return np.asarray(model.predict_proba(x_te)[:, 1], dtype=np.float64)


def _predict_tree(
    x_tr: Matrix, y_tr: Vector, x_te: Matrix, spec: FeatureSpec, seed: int, threads: int
) -> Vector:
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier(max_depth=8, min_samples_leaf=50, random_state=seed)
    model.fit(x_tr, y_tr)
    return np.asarray(model.predict_proba(x_te)[:, 1], dtype=np.float64)


def _predict_rf(
    x_tr: Matrix, y_tr: Vector, x_te: Matrix, spec: FeatureSpec, seed: int, threads: int
) -> Vector:
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(
        n_estimators=200,
        min_samples_leaf=20,
        max_features="sqrt",
        max_samples=min(1.0, 100_000 / max(len(y_tr), 1)),
        n_jobs=threads or -1,
        random_state=seed,
    )
    model.fit(x_tr, y_tr)
    return np.asarray(model.predict_proba(x_te)[:, 1], dtype=np.float64)


def _predict_hgb(
    x_tr: Matrix, y_tr: Vector, x_te: Matrix, spec: FeatureSpec, seed: int, threads: int
) -> Vector:
    from sklearn.ensemble import HistGradientBoostingClassifier

    _, categorical = _columns(spec)
    mask = np.zeros(len(spec.names), dtype=bool)
    # HistGradientBoosting takes at most 255 levels per category; wider ones stay ordinal.
    for j in categorical:
        mask[j] = len(spec.categories[spec.names[j]]) <= 255
    model = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=1000,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=mask,
        early_stopping=True,
        validation_fraction=INNER_VALID_SHARE,
        n_iter_no_change=30,
        random_state=seed,
    )
    model.fit(x_tr, y_tr)
    return np.asarray(model.predict_proba(x_te)[:, 1], dtype=np.float64)


def xgb_fold_predict(
    x_tr: Matrix,
    y_tr: Vector,
    x_te: Matrix,
    spec: FeatureSpec,
    seed: int,
    threads: int,
    params: dict[str, Any] | None = None,
    num_boost_round: int = DEFAULT_NUM_BOOST_ROUND,
) -> Vector:
    """Fit XGBoost on a training fold (early stopping on an inner split) and predict the held-out fold."""
    inner_tr, inner_va = stratified_split(y_tr, INNER_VALID_SHARE, seed)
    booster = fit_booster(
        x_tr[inner_tr],
        y_tr[inner_tr],
        x_tr[inner_va],
        y_tr[inner_va],
        spec,
        params=params,
        num_boost_round=num_boost_round,
        early_stopping_rounds=DEFAULT_EARLY_STOPPING_ROUNDS,
        seed=seed,
        nthread=threads,
    )
    return np.asarray(booster.inplace_predict(x_te, validate_features=False), dtype=np.float64)


def _predict_xgb(
    x_tr: Matrix, y_tr: Vector, x_te: Matrix, spec: FeatureSpec, seed: int, threads: int
) -> Vector:
    return xgb_fold_predict(x_tr, y_tr, x_te, spec, seed, threads)


PREDICTORS: dict[str, Predictor] = {
    "lr": _predict_lr,
    "tree": _predict_tree,
    "rf": _predict_rf,
    "hgb": _predict_hgb,
    "xgb": _predict_xgb,
}


def parse_models(text: str) -> tuple[str, ...]:
    """Parse ``--models lr,tree,...`` (order kept, duplicates dropped).

    Raises:
        UserError: For an unknown model key.
    """
    keys: list[str] = []
    for raw in text.split(","):
        key = raw.strip().lower()
        if not key:
            continue
        if key not in MODEL_NAMES:
            raise UserError(
                f"Unknown model {raw.strip()!r} in --models; choose among {', '.join(MODEL_NAMES)}."
            )
        if key not in keys:
            keys.append(key)
    if not keys:
        raise UserError(f"--models names no model; choose among {', '.join(MODEL_NAMES)}.")
    return tuple(keys)


# --------------------------------------------------------------------------------------------------
# Cross-validation
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoldScore:
    """One model on one fold (threshold chosen on that fold's held-out predictions)."""

    fold: int
    roc_auc: float
    pr_auc: float
    f1: float
    accuracy: float
    business_cost: float
    threshold: float
    fit_seconds: float


@dataclass(frozen=True)
class ModelScore:
    """One model over all folds.

    Attributes:
        key: Short key (lr, tree, rf, hgb, xgb). name: Display name.
        roc_auc_mean, roc_auc_std: ROC AUC over folds. pr_auc, f1, accuracy, business_cost: fold means
        at each fold's cost-optimal threshold. threshold: Mean of those thresholds.
        fit_seconds: Mean fit + predict time per fold. folds: Per-fold details.
    """

    key: str
    name: str
    roc_auc_mean: float
    roc_auc_std: float
    pr_auc: float
    f1: float
    accuracy: float
    business_cost: float
    threshold: float
    fit_seconds: float
    folds: list[FoldScore] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        """The summary numbers (what the table prints and MLflow records)."""
        return {
            "roc_auc_mean": self.roc_auc_mean,
            "roc_auc_std": self.roc_auc_std,
            "pr_auc": self.pr_auc,
            "f1": self.f1,
            "accuracy": self.accuracy,
            "business_cost": self.business_cost,
            "threshold": self.threshold,
            "fit_seconds": self.fit_seconds,
        }


#: Columns of the CSV and of the terminal table, in order.
SUMMARY_COLUMNS = (
    "model",
    "name",
    "roc_auc_mean",
    "roc_auc_std",
    "pr_auc",
    "f1",
    "accuracy",
    "business_cost",
    "threshold",
    "fit_seconds",
)


@dataclass(frozen=True)
class CompareConfig:
    """What ``trainer compare`` was asked to do."""

    data_dir: Path
    models: tuple[str, ...] = tuple(MODEL_NAMES)
    n_folds: int = 5
    sample: int | None = None
    seed: int = DEFAULT_SEED
    cost_fn: float = DEFAULT_COST_FN
    cost_fp: float = DEFAULT_COST_FP
    use_history: bool = True
    threads: int = 0
    jobs: int = 1


@dataclass(frozen=True)
class CompareResult:
    """Every model's scores plus what they were computed on."""

    config: CompareConfig
    scores: list[ModelScore]
    n_clients: int
    default_rate: float
    fingerprint: str
    oof: dict[str, Vector] = field(default_factory=dict, repr=False)

    def best(self) -> ModelScore:
        """The model with the highest mean ROC AUC."""
        return max(self.scores, key=lambda s: s.roc_auc_mean)

    def frame(self) -> pd.DataFrame:
        """One row per model with :data:`SUMMARY_COLUMNS`."""
        rows = [{"model": s.key, "name": s.name, **s.metrics()} for s in self.scores]
        return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def score_fold(y: Vector, p: Vector, cost_fn: float, cost_fp: float) -> dict[str, float]:
    """Ranking metrics, and F1/accuracy/cost at the cost-optimal threshold of these predictions."""
    choice = choose_threshold(y, p, cost_fn, cost_fp)
    refuse = (p >= choice.threshold).astype(np.int64)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "f1": float(f1_score(y, refuse, zero_division=0)),
        "accuracy": float(accuracy_score(y, refuse)),
        "business_cost": choice.cost_per_client,
        "threshold": min(choice.threshold, 1.0),
    }


def run_compare(
    config: CompareConfig, dataset: Dataset, progress: ProgressReport | None = None
) -> CompareResult:
    """Cross-validate every model of ``config`` on ``dataset`` with the same folds."""
    splits = folds(dataset.y, config.n_folds, config.seed)
    scores: list[ModelScore] = []
    oof: dict[str, Vector] = {}
    for key in config.models:
        name = MODEL_NAMES[key]
        fold_scores: list[FoldScore] = []
        predictions = np.full(len(dataset.y), np.nan)
        if progress is not None:
            progress(name, 0, len(splits), f"{name}: {len(splits)} folds")

        def fit_fold(tr: Any, te: Any, key: str = key) -> tuple[Vector, float]:
            start = time.perf_counter()
            p = PREDICTORS[key](
                dataset.x[tr], dataset.y[tr], dataset.x[te], dataset.spec, config.seed, config.threads
            )
            return p, time.perf_counter() - start

        # Folds run in parallel threads with --jobs N (the learners release the GIL); results arrive
        # in fold order either way, so the table is the same as with --jobs 1.
        with threadpool_limits(limits=config.threads or None):
            results = Parallel(n_jobs=config.jobs, prefer="threads", return_as="generator")(
                delayed(fit_fold)(tr, te) for tr, te in splits
            )
            for i, ((_, te), (p, elapsed)) in enumerate(zip(splits, results, strict=True)):
                predictions[te] = p
                fold_scores.append(
                    FoldScore(
                        fold=i,
                        fit_seconds=elapsed,
                        **score_fold(dataset.y[te], p, config.cost_fn, config.cost_fp),
                    )
                )
                if progress is not None:
                    progress(name, i + 1, len(splits), f"{name}: fold {i + 1}/{len(splits)}")
        aucs = np.array([f.roc_auc for f in fold_scores])
        scores.append(
            ModelScore(
                key=key,
                name=name,
                roc_auc_mean=float(aucs.mean()),
                roc_auc_std=float(aucs.std(ddof=1)) if len(aucs) > 1 else 0.0,
                pr_auc=float(np.mean([f.pr_auc for f in fold_scores])),
                f1=float(np.mean([f.f1 for f in fold_scores])),
                accuracy=float(np.mean([f.accuracy for f in fold_scores])),
                business_cost=float(np.mean([f.business_cost for f in fold_scores])),
                threshold=float(np.mean([f.threshold for f in fold_scores])),
                fit_seconds=float(np.mean([f.fit_seconds for f in fold_scores])),
                folds=fold_scores,
            )
        )
        oof[key] = predictions
    return CompareResult(
        config=config,
        scores=scores,
        n_clients=len(dataset.y),
        default_rate=float(dataset.y.mean()),
        fingerprint=dataset.fingerprint,
        oof=oof,
    )


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


def write_outputs(result: CompareResult, out: Path, run_id: str | None = None) -> list[Path]:
    """Write ``comparison.csv`` (summary) and ``comparison.json`` (summary, folds, settings).

    The figure is presentation: the CLI draws it with :func:`trainer.figures.comparison_figure`.
    """
    out.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out / "comparison.csv", out / "comparison.json"
    write_text_atomic(csv_path, result.frame().to_csv(index=False, float_format="%.6f"))
    cfg = asdict(result.config)
    cfg["data_dir"] = str(result.config.data_dir)
    payload = {
        "config": cfg,
        "n_clients": result.n_clients,
        "default_rate": result.default_rate,
        "data_fingerprint": result.fingerprint,
        "best_model": result.best().key,
        "mlflow_run_id": run_id,
        "models": [asdict(s) for s in result.scores],
    }
    write_text_atomic(json_path, json.dumps(payload, indent=2) + "\n")
    return [csv_path, json_path]
