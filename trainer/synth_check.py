"""Does generated data behave like the real data? ``trainer synth --check``.

Reads application_train (and ``synth_truth.csv`` when present) from a data folder and compares, with
stated tolerances, what an analyst would see on the real data (``resources/home_credit_effects.json``):

- **Default-rate curves**: the default rate per real decile bin of the nine derived quantities, and per
  level of the planted categories; the largest absolute gap to the real rate, in points, must be at most
  :data:`CURVE_TOL_POINTS` (bins with fewer than :data:`MIN_BIN_CLIENTS` clients are shown, not judged).
  With fewer than :data:`FULL_CHECK_CLIENTS` clients, the realised rates are too noisy and the mean true
  PD of each bin is judged instead (from ``synth_truth.csv``).
- **Two-way table**: external-score tercile x term tercile, same tolerance.
- **Top-10 importance**: mean |SHAP| of an application-only XGBoost model; at least
  :data:`MIN_TOP10_OVERLAP` of its 10 most important inputs are in the real top 10.
- **Non-additivity**: cross-validated ROC AUC of XGBoost minus logistic regression, same application
  columns, between :data:`AUC_GAP_RANGE` (real: 0.009).

Both models see what the real ranking was measured on (:func:`check_matrix`): the raw application
columns plus the nine derived quantities, so names compare directly. (The bundle's own feature set adds
near-duplicates such as EXT_SOURCE_MIN/MAX and ANNUITY_CREDIT_RATIO, which split the importance of the
inputs they copy.) At full scale, ``model_sample`` fits the models on a random sample; the curves use
every client.

Level-of-risk differences (the real sample defaults at 8.35 %, the generator at 8.07 %) are part of the
gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from trainer.config import DEFAULT_EARLY_STOPPING_ROUNDS, DEFAULT_NUM_BOOST_ROUND, DEFAULT_XGB_PARAMS
from trainer.data import read_table
from trainer.errors import DataError
from trainer.model import stratified_split
from trainer.synth_effects import (
    LEVEL_CURVES,
    RAW_COLUMNS,
    TWO_WAY,
    RiskGroup,
    derived,
    load_effects,
    risk_groups,
)

#: Largest absolute gap between a synthetic and the real default rate of one bin, in points.
CURVE_TOL_POINTS = 3.0
#: Bins with fewer clients are reported but not judged (their rate is too noisy).
MIN_BIN_CLIENTS = 300
#: From this many clients, realised default rates are judged; below it, mean true PDs.
FULL_CHECK_CLIENTS = 20_000
#: Real top-10 inputs that must be among the synthetic top 10.
MIN_TOP10_OVERLAP = 6
#: Allowed XGBoost - logistic regression cross-validated AUC gap.
AUC_GAP_RANGE = (0.005, 0.02)
#: XGBoost settings of the check: the project's defaults, a faster learning rate.
CHECK_XGB_PARAMS: dict[str, float] = {"learning_rate": 0.1}


@dataclass(frozen=True)
class CurveCheck:
    """One real curve against the generated data.

    Attributes:
        name: Curve name.
        labels: Bin labels.
        real: Real default rate per bin.
        synth: Realised synthetic default rate per bin (NaN for an empty bin).
        true_pd: Mean true PD per bin (NaN without ``synth_truth.csv``).
        counts: Synthetic clients per bin.
        judged: ``realised`` or ``true PD``: which synthetic rate the tolerance applies to.
        max_gap: Largest absolute gap over the judged bins, in points.
    """

    name: str
    labels: tuple[str, ...]
    real: tuple[float, ...]
    synth: tuple[float, ...]
    true_pd: tuple[float, ...]
    counts: tuple[int, ...]
    judged: str
    max_gap: float

    @property
    def passed(self) -> bool:
        """True when the largest gap is within :data:`CURVE_TOL_POINTS`."""
        return self.max_gap <= CURVE_TOL_POINTS


@dataclass(frozen=True)
class SynthCheck:
    """Everything ``trainer synth --check`` measured.

    Attributes:
        clients: application_train rows (every one in the curves).
        model_clients: Clients the two models were fitted on (cross-validated).
        curves: The nine decile curves, then the categories.
        two_way: External-score tercile x term tercile (cells in row order).
        importance: The synthetic top 25 (name, mean |SHAP|).
        real_top10: The real top 10 (aliased names).
        overlap: How many of the real top 10 are in the synthetic top 10.
        auc_logistic: Cross-validated ROC AUC of logistic regression.
        auc_xgboost: Cross-validated ROC AUC of XGBoost.
        oracle_auc: ROC AUC of the true PD (None without ``synth_truth.csv``).
        folds: Cross-validation folds.
    """

    clients: int
    model_clients: int
    curves: tuple[CurveCheck, ...]
    two_way: CurveCheck
    importance: tuple[tuple[str, float], ...]
    real_top10: tuple[str, ...]
    overlap: int
    auc_logistic: float
    auc_xgboost: float
    oracle_auc: float | None
    folds: int
    failures: tuple[str, ...] = field(default_factory=tuple)

    @property
    def auc_gap(self) -> float:
        """XGBoost minus logistic regression."""
        return self.auc_xgboost - self.auc_logistic

    @property
    def passed(self) -> bool:
        """True when every check is within its tolerance."""
        return not self.failures


def _bin_means(group: RiskGroup, values: npt.NDArray[np.float64]) -> tuple[np.ndarray[Any, Any], Any]:
    k = len(group.labels)
    on = group.index >= 0
    counts = np.bincount(group.index[on], minlength=k)
    sums = np.bincount(group.index[on], weights=values[on], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), counts


def compare_curve(
    group: RiskGroup, target: npt.NDArray[np.float64], true_pd: Any, judge_true: bool
) -> CurveCheck:
    """Compare one real curve with the synthetic realised rates (and true PDs when given)."""
    synth, counts = _bin_means(group, target)
    truth = _bin_means(group, true_pd)[0] if true_pd is not None else np.full(len(group.labels), np.nan)
    judged = truth if judge_true else synth
    ok = (counts >= MIN_BIN_CLIENTS) & ~np.isnan(group.real) & ~np.isnan(judged)
    gaps = np.abs(judged - group.real)[ok] * 100
    return CurveCheck(
        name=group.name,
        labels=group.labels,
        real=tuple(float(x) for x in group.real),
        synth=tuple(float(x) for x in synth),
        true_pd=tuple(float(x) for x in truth),
        counts=tuple(int(x) for x in counts),
        judged="true PD" if judge_true else "realised",
        max_gap=float(gaps.max()) if gaps.size else 0.0,
    )


def _groups(train: pd.DataFrame) -> list[RiskGroup]:
    cols = {name: train[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in RAW_COLUMNS}
    levels = {
        name: train[name].astype(object).where(train[name].notna(), None).to_numpy() for name in LEVEL_CURVES
    }
    return risk_groups(cols, levels)


def compare_curves(
    train: pd.DataFrame, true_pd: npt.NDArray[np.float64] | None
) -> tuple[tuple[CurveCheck, ...], CurveCheck]:
    """Every real curve against ``train`` (with TARGET): (decile and category curves, two-way table).

    Realised rates are judged from :data:`FULL_CHECK_CLIENTS` clients on, or when ``true_pd`` is None;
    below that, the mean true PD of each bin.
    """
    target = train["TARGET"].to_numpy(dtype=np.float64)
    judge_true = len(train) < FULL_CHECK_CLIENTS and true_pd is not None
    checks = [compare_curve(g, target, true_pd, judge_true) for g in _groups(train)]
    two_way = next(c for c in checks if c.name == TWO_WAY)
    return tuple(c for c in checks if c.name != TWO_WAY), two_way


def real_top10() -> tuple[str, ...]:
    """The real application-only model's 10 most important inputs."""
    return tuple(str(name) for name, _ in load_effects()["mean_abs_shap_top25"][:10])


def check_matrix(train: pd.DataFrame) -> pd.DataFrame:
    """The columns the real ranking was measured on: the raw application columns and the derived ones.

    Numbers as floats, categories as pandas categoricals; the nine derived quantities of the curves
    (:func:`trainer.synth_effects.derived`) are added under their names, so importance names compare
    directly with ``mean_abs_shap_top25``.
    """
    drop = {"SK_ID_CURR", "TARGET"}
    out: dict[str, Any] = {}
    for name in train.columns:
        if name in drop:
            continue
        column = train[name]
        if pd.api.types.is_numeric_dtype(column):
            out[name] = column.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            out[name] = pd.Categorical(column.astype(object).where(column.notna(), None))
    cols = {name: train[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in RAW_COLUMNS}
    for name, values in derived(cols).items():
        if name not in out:
            out[name] = values
    return pd.DataFrame(out)


def cross_validated_aucs(
    train: pd.DataFrame, *, folds: int, seed: int, nthread: int, shap_rows: int = 20_000
) -> tuple[float, float, dict[str, float]]:
    """Logistic regression and XGBoost on :func:`check_matrix`, ``folds``-fold: (AUC LR, AUC XGB, importance).

    The regression imputes medians (with missing indicators), standardises numbers and one-hot encodes
    categories; XGBoost (the project's parameters, learning rate 0.1) reads categories natively and
    stops early on a tenth of each training fold. Importance: mean |SHAP| of the first fold's model on
    its held-out clients.
    """
    y = train["TARGET"].to_numpy(dtype=np.int64)
    x = check_matrix(train)
    categories = [name for name in x.columns if isinstance(x[name].dtype, pd.CategoricalDtype)]
    numeric = [name for name in x.columns if name not in categories]
    as_text = x[categories].astype(object).fillna("(missing)")
    frame = pd.concat([x[numeric], as_text], axis=1)
    logistic = make_pipeline(
        ColumnTransformer(
            [
                (
                    "num",
                    make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
                    numeric,
                ),
                ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20), categories),
            ]
        ),
        LogisticRegression(C=0.1, max_iter=2000),
    )
    params: dict[str, Any] = {**DEFAULT_XGB_PARAMS, **CHECK_XGB_PARAMS}
    if nthread:
        params["nthread"] = nthread
    pred_lr = np.zeros(len(y))
    pred_xgb = np.zeros(len(y))
    importance: dict[str, float] = {}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (tr, te) in enumerate(splitter.split(frame, y)):
        logistic.fit(frame.iloc[tr], y[tr])
        pred_lr[te] = logistic.predict_proba(frame.iloc[te])[:, 1]
        inner_tr, inner_va = stratified_split(y[tr], 0.1, seed + k)
        fit_rows, stop_rows = tr[inner_tr], tr[inner_va]
        booster = xgb.train(
            {**params, "seed": seed + k},
            xgb.DMatrix(x.iloc[fit_rows], label=y[fit_rows], enable_categorical=True),
            num_boost_round=DEFAULT_NUM_BOOST_ROUND,
            evals=[(xgb.DMatrix(x.iloc[stop_rows], label=y[stop_rows], enable_categorical=True), "valid")],
            early_stopping_rounds=DEFAULT_EARLY_STOPPING_ROUNDS,
            verbose_eval=False,
        )
        booster = booster[: int(booster.best_iteration) + 1]
        pred_xgb[te] = booster.predict(xgb.DMatrix(x.iloc[te], enable_categorical=True))
        if k == 0:
            held_out = xgb.DMatrix(x.iloc[te[:shap_rows]], enable_categorical=True)
            contribs = np.abs(booster.predict(held_out, pred_contribs=True)[:, :-1]).mean(axis=0)
            order = np.argsort(-contribs, kind="stable")
            importance = {str(x.columns[i]): float(contribs[i]) for i in order}
    return float(roc_auc_score(y, pred_lr)), float(roc_auc_score(y, pred_xgb)), importance


def check_synthetic(
    data_dir: Path, *, folds: int = 5, seed: int = 42, nthread: int = 0, model_sample: int | None = None
) -> SynthCheck:
    """Compare the generated data in ``data_dir`` with the real effects (see the module docstring).

    Args:
        data_dir: Folder holding application_train (and ``synth_truth.csv`` when synthetic).
        folds: Cross-validation folds of the two models.
        seed: Seed of the folds, the sample and the boosters.
        nthread: XGBoost threads (0 = all cores).
        model_sample: Fit the models on this many clients drawn at random (the curves always use every
            client); None fits on all of them.

    Raises:
        DataError: If application_train cannot be read or has no TARGET.
    """
    path = next(
        (
            p
            for p in (data_dir / "application_train.csv", data_dir / "application_train.parquet")
            if p.exists()
        ),
        None,
    )
    if path is None:
        raise DataError(f"{data_dir} has no application_train.csv: run trainer synth --out {data_dir} first.")
    train = read_table(path, "application_train")
    truth_path = data_dir / "synth_truth.csv"
    true_pd: npt.NDArray[np.float64] | None = None
    oracle: float | None = None
    if truth_path.exists():
        truth = pd.read_csv(truth_path).set_index("SK_ID_CURR")["TRUE_PD"]
        true_pd = truth.reindex(train["SK_ID_CURR"].to_numpy()).to_numpy(dtype=np.float64)
        oracle = float(roc_auc_score(train["TARGET"], true_pd))
    curves, two_way = compare_curves(train, true_pd)
    modelled = train
    if model_sample is not None and model_sample < len(train):
        modelled = train.sample(n=model_sample, random_state=seed).reset_index(drop=True)
    auc_lr, auc_xgb, importance = cross_validated_aucs(modelled, folds=folds, seed=seed, nthread=nthread)
    top = list(importance)[:10]
    real = real_top10()
    overlap = len(set(top) & set(real))
    failures = [
        f"{c.name}: largest gap {c.max_gap:.1f} points > {CURVE_TOL_POINTS:g}"
        for c in (*curves, two_way)
        if not c.passed
    ]
    if overlap < MIN_TOP10_OVERLAP:
        failures.append(f"top-10 importance overlap {overlap} < {MIN_TOP10_OVERLAP}")
    gap = auc_xgb - auc_lr
    if not AUC_GAP_RANGE[0] <= gap <= AUC_GAP_RANGE[1]:
        failures.append(f"XGBoost - logistic regression AUC gap {gap:.4f} outside {AUC_GAP_RANGE}")
    return SynthCheck(
        clients=len(train),
        model_clients=len(modelled),
        curves=curves,
        two_way=two_way,
        importance=tuple(list(importance.items())[:25]),
        real_top10=real,
        overlap=overlap,
        auc_logistic=auc_lr,
        auc_xgboost=auc_xgb,
        oracle_auc=oracle,
        folds=folds,
        failures=tuple(failures),
    )


def _pct(value: float) -> str:
    return "" if np.isnan(value) else f"{value * 100:.1f}"


def curve_rows(curve: CurveCheck) -> list[tuple[str, str, str, str, str]]:
    """One row per bin: label, real %, synthetic %, mean true PD %, synthetic clients."""
    return [
        (label, _pct(real), _pct(synth), _pct(true), str(count))
        for label, real, synth, true, count in zip(
            curve.labels, curve.real, curve.synth, curve.true_pd, curve.counts, strict=True
        )
    ]


def summary_lines(report: SynthCheck) -> list[str]:
    """The verdicts, one plain sentence each."""
    lines = [
        f"{report.clients:,} clients ({report.model_clients:,} in the models); "
        f"{report.folds}-fold ROC AUC: logistic regression "
        f"{report.auc_logistic:.4f}, XGBoost {report.auc_xgboost:.4f}, gap {report.auc_gap:+.4f} "
        f"(allowed {AUC_GAP_RANGE[0]}-{AUC_GAP_RANGE[1]}; real 0.7571 / 0.7662 / +0.0090)",
        f"top-10 importance overlap with the real ranking: {report.overlap} of 10 "
        f"(at least {MIN_TOP10_OVERLAP})",
    ]
    if report.oracle_auc is not None:
        lines.append(f"oracle AUC (true PD vs TARGET): {report.oracle_auc:.4f}")
    worst = max((*report.curves, report.two_way), key=lambda c: c.max_gap)
    lines.append(
        f"default-rate curves: largest gap {worst.max_gap:.1f} points ({worst.name}; "
        f"allowed {CURVE_TOL_POINTS:g}, {worst.judged} rates, bins of at least {MIN_BIN_CLIENTS} clients)"
    )
    lines.extend(f"FAILED: {failure}" for failure in report.failures)
    lines.append("PASSED" if report.passed else "FAILED")
    return lines


def to_markdown(report: SynthCheck, *, categories: bool = False) -> str:
    """The report as markdown: one small table per curve (real vs synthetic), importance, AUCs."""
    out: list[str] = []
    shown = [c for c in report.curves if categories or c.name not in LEVEL_CURVES]
    for curve in (*shown, report.two_way):
        out.append(f"**{curve.name}** (largest gap {curve.max_gap:.1f} points, {curve.judged})\n")
        out.append("| bin | real % | synthetic % | true PD % | clients |")
        out.append("| --- | ---: | ---: | ---: | ---: |")
        out.extend("| " + " | ".join(row) + " |" for row in curve_rows(curve))
        out.append("")
    synth_top = [name for name, _ in report.importance[:10]]
    out.append("| rank | real top 10 | synthetic top 10 |")
    out.append("| ---: | --- | --- |")
    for i, (real, synth) in enumerate(zip(report.real_top10, synth_top, strict=False), start=1):
        out.append(f"| {i} | {real} | {synth} |")
    out.append("")
    out.extend(f"- {line}" for line in summary_lines(report))
    return "\n".join(out) + "\n"
