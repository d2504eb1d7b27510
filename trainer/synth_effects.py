"""The real risk effects the synthetic generator plants, and how its data is compared with them.

``resources/home_credit_effects.json`` holds statistics of a real application_train sample (no rows):
the default rate per decile of nine derived quantities (the credit term, goods price / credit, annuity /
income, credit / income, employed / age, income per person, the mean external score, age, the credit
amount), and the default rate by external-score tercile x term tercile. The profile adds the default
rate per level of the categories.

:func:`risk_groups` puts each client in the bin of every one of these curves (bins are defined by the
real decile edges, so a bin means the same range of values in both data sets); :func:`rake` adjusts a
hidden logit, bin by bin, until the mean PD of every bin equals the real default rate (iterative
proportional fitting in logit space: the curves are matched jointly, confounding included). The
generator plants the decile rates without their sampling noise (:func:`shrink_noise`). The same bins,
with the measured real rates, serve :mod:`trainer.synth_check` to compare generated data with the real
curves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from trainer.config import PROFILE_PATH
from trainer.schema import load_profile

FArr = npt.NDArray[np.float64]
IArr = npt.NDArray[np.int64]

EFFECTS_PATH = PROFILE_PATH.parent / "home_credit_effects.json"
#: Placeholder of DAYS_EMPLOYED for pensioners and the unemployed (treated as missing).
_PLACEHOLDER = 365243.0
_DAYS_PER_YEAR = 365.25

#: Raw application columns the derived quantities are computed from.
RAW_COLUMNS: tuple[str, ...] = (
    "AMT_CREDIT",
    "AMT_ANNUITY",
    "AMT_GOODS_PRICE",
    "AMT_INCOME_TOTAL",
    "DAYS_BIRTH",
    "DAYS_EMPLOYED",
    "CNT_FAM_MEMBERS",
    "EXT_SOURCE_1",
    "EXT_SOURCE_2",
    "EXT_SOURCE_3",
)
#: Short name -> key of ``by_decile`` in the effects file.
DECILE_CURVES: dict[str, str] = {
    "CREDIT_TERM_MONTHS": "CREDIT_TERM_MONTHS = AMT_CREDIT / AMT_ANNUITY",
    "GOODS_CREDIT_RATIO": "GOODS_CREDIT_RATIO = AMT_GOODS_PRICE / AMT_CREDIT",
    "ANNUITY_INCOME_RATIO": "ANNUITY_INCOME_RATIO = AMT_ANNUITY / AMT_INCOME_TOTAL",
    "CREDIT_INCOME_RATIO": "CREDIT_INCOME_RATIO = AMT_CREDIT / AMT_INCOME_TOTAL",
    "EMPLOYED_AGE_RATIO": "EMPLOYED_AGE_RATIO = DAYS_EMPLOYED / DAYS_BIRTH",
    "INCOME_PER_PERSON": "INCOME_PER_PERSON = AMT_INCOME_TOTAL / CNT_FAM_MEMBERS",
    "EXT_SOURCE_MEAN": "EXT_SOURCE_MEAN = mean of EXT_SOURCE_1..3 present",
    "AGE_YEARS": "AGE_YEARS = -DAYS_BIRTH / 365.25",
    "AMT_CREDIT": "AMT_CREDIT",
}
#: Categories whose real default rate per level is planted (levels with at least 50 real rows).
LEVEL_CURVES: tuple[str, ...] = (
    "NAME_CONTRACT_TYPE",
    "CODE_GENDER",
    "FLAG_OWN_CAR",
    "NAME_INCOME_TYPE",
    "NAME_EDUCATION_TYPE",
    "NAME_FAMILY_STATUS",
    "OCCUPATION_TYPE",
    "ORGANIZATION_TYPE",
)
TWO_WAY = "EXT_SOURCE_MEAN x CREDIT_TERM_MONTHS"
_TERCILES = ("low", "mid", "high")
_TERM_TERCILES = ("short", "mid", "long")


@cache
def load_effects() -> dict[str, Any]:
    """Return the packaged real effects (parsed once)."""
    with EFFECTS_PATH.open(encoding="utf-8") as fh:
        effects: dict[str, Any] = json.load(fh)
    return effects


def _ratio(num: FArr, den: FArr) -> FArr:
    out = np.full(len(num), np.nan)
    np.divide(num, den, out=out, where=(den != 0) & ~np.isnan(den))
    return out


def derived(cols: Mapping[str, Any]) -> dict[str, FArr]:
    """The nine quantities of the decile curves, from raw application columns (as the effects define them).

    Args:
        cols: Raw column -> array, for every name in :data:`RAW_COLUMNS`.
    """
    c = {k: np.asarray(cols[k], dtype=np.float64) for k in RAW_COLUMNS}
    ext = np.stack([c["EXT_SOURCE_1"], c["EXT_SOURCE_2"], c["EXT_SOURCE_3"]])
    present = (~np.isnan(ext)).sum(axis=0).astype(np.float64)
    employed = np.where(c["DAYS_EMPLOYED"] == _PLACEHOLDER, np.nan, c["DAYS_EMPLOYED"])
    return {
        "CREDIT_TERM_MONTHS": _ratio(c["AMT_CREDIT"], c["AMT_ANNUITY"]),
        "GOODS_CREDIT_RATIO": _ratio(c["AMT_GOODS_PRICE"], c["AMT_CREDIT"]),
        "ANNUITY_INCOME_RATIO": _ratio(c["AMT_ANNUITY"], c["AMT_INCOME_TOTAL"]),
        "CREDIT_INCOME_RATIO": _ratio(c["AMT_CREDIT"], c["AMT_INCOME_TOTAL"]),
        "EMPLOYED_AGE_RATIO": _ratio(employed, c["DAYS_BIRTH"]),
        "INCOME_PER_PERSON": _ratio(c["AMT_INCOME_TOTAL"], c["CNT_FAM_MEMBERS"]),
        "EXT_SOURCE_MEAN": _ratio(np.nansum(ext, axis=0), present),
        "AGE_YEARS": -c["DAYS_BIRTH"] / _DAYS_PER_YEAR,
        "AMT_CREDIT": c["AMT_CREDIT"],
    }


@dataclass(frozen=True)
class RiskGroup:
    """One real curve: each client's bin and the real default rate of every bin.

    Attributes:
        name: Curve name (a derived quantity, a category, or :data:`TWO_WAY`).
        labels: Bin labels, in order (the last one is ``missing`` where the curve has a missing bin).
        index: Bin of each client; -1 when the client is in no bin (a missing value with no real rate).
        real: Real default rate per bin (NaN when the real data gives none).
    """

    name: str
    labels: tuple[str, ...]
    index: IArr
    real: FArr


def _decile_group(name: str, values: FArr) -> RiskGroup:
    spec = load_effects()["by_decile"][DECILE_CURVES[name]]
    edges = np.asarray(spec["upper_edges"], dtype=np.float64)
    rates = list(spec["default_rate"])
    k = len(edges)
    index = np.minimum(np.searchsorted(edges, values, side="left"), k - 1).astype(np.int64)
    lower = ["min", *(f"{e:g}" for e in edges[:-1])]
    labels = [f"{lo}-{hi:g}" for lo, hi in zip(lower, edges, strict=True)]
    missing_rate = spec.get("missing_default_rate")
    if missing_rate is None:
        index[np.isnan(values)] = -1
    else:
        index[np.isnan(values)] = k
        labels.append("missing")
        rates.append(missing_rate)
    return RiskGroup(name, tuple(labels), index, np.asarray(rates, dtype=np.float64))


def ext_tercile_edges() -> tuple[float, float]:
    """External-score tercile edges, interpolated in the real deciles of the mean external score."""
    edges = load_effects()["by_decile"][DECILE_CURVES["EXT_SOURCE_MEAN"]]["upper_edges"]
    levels = np.arange(1, 11) / 10
    a, b = np.interp([1 / 3, 2 / 3], levels, edges)
    return float(a), float(b)


def _two_way_group(ext_mean: FArr, term: FArr) -> RiskGroup:
    effects = load_effects()
    table = effects["two_way_ext_source_mean_by_credit_term"]
    ext_bin = np.searchsorted(np.asarray(ext_tercile_edges()), ext_mean, side="left")
    term_bin = np.searchsorted(np.asarray(effects["term_tercile_edges_months"]), term, side="left")
    index = (3 * ext_bin + term_bin).astype(np.int64)
    index[np.isnan(ext_mean) | np.isnan(term)] = -1
    labels = tuple(f"ext {e} / term {t}" for e in _TERCILES for t in _TERM_TERCILES)
    real = np.array([table[e][t] for e in _TERCILES for t in _TERM_TERCILES], dtype=np.float64)
    return RiskGroup(TWO_WAY, labels, index, real)


def _level_group(name: str, values: npt.NDArray[Any]) -> RiskGroup:
    by_level: dict[str, float] = load_profile()["tables"]["application_train"]["default_rate_by"][name][
        "by_level"
    ]
    labels = tuple(sorted(by_level))
    lookup = {level: i for i, level in enumerate(labels)}
    index = np.array([lookup.get(v, -1) if isinstance(v, str) else -1 for v in values], dtype=np.int64)
    return RiskGroup(name, labels, index, np.array([by_level[x] for x in labels], dtype=np.float64))


def risk_groups(cols: Mapping[str, Any], levels: Mapping[str, npt.NDArray[Any]]) -> list[RiskGroup]:
    """Every real curve with each client's bin: nine decile curves, the two-way table, the categories.

    Args:
        cols: Raw numeric application columns (:data:`RAW_COLUMNS`).
        levels: Category name -> array of level strings (None or NaN when missing), for
            :data:`LEVEL_CURVES`.
    """
    values = derived(cols)
    groups = [_decile_group(name, values[name]) for name in DECILE_CURVES]
    groups.append(_two_way_group(values["EXT_SOURCE_MEAN"], values["CREDIT_TERM_MONTHS"]))
    groups.extend(_level_group(name, levels[name]) for name in LEVEL_CURVES)
    return groups


def _decile_bins(group: RiskGroup) -> int:
    """How many of the group's bins are value ranges (the missing bin, when there is one, is last)."""
    return len(group.labels) - (group.labels[-1] == "missing")


def _shrink(logit: FArr, smooth: FArr, var: FArr, dof: float) -> FArr:
    """Empirical-Bayes shrinkage of ``logit`` toward ``smooth``, by at most one sampling error."""
    tau2 = max(0.0, float(np.sum((logit - smooth) ** 2) / dof - np.mean(var)))
    shrunk = smooth + tau2 / (tau2 + var) * (logit - smooth)
    return np.asarray(np.clip(shrunk, logit - np.sqrt(var), logit + np.sqrt(var)), dtype=np.float64)


def shrink_noise(group: RiskGroup, real_rows: int) -> RiskGroup:
    """The rates the generator plants for one curve: the real rates without their sampling noise.

    Each real decile rate was measured on about ``real_rows / 10`` clients, so it carries a sampling
    error of about 0.7 points; planted as it is, that noise becomes signal a model fitted on 300,000
    clients learns. Each rate is moved, in logit space, toward a smooth curve (a quadratic in the bin
    number, weighted by the bins' precision) by the empirical-Bayes factor ``v / (v + tau2)`` (``v``: the
    bin's sampling variance; ``tau2``: the curve's variance around the smooth curve beyond the noise), and
    never by more than one sampling error. Real shapes (the term's steps, the U of goods / credit) are far
    above the noise and stay; flat, noisy curves become smooth. The two-way table (cells of about
    ``real_rows / 9`` clients) is shrunk the same way toward the additive table of its row and column
    effects: its interaction is about the size of its noise, so about half of it stays (the term still
    matters most for low external scores). Categories and the missing bin are returned unchanged.

    Args:
        group: A curve of :func:`risk_groups`.
        real_rows: Clients of the real sample the rates were measured on.
    """
    if group.name == TWO_WAY:
        rates = np.clip(group.real, 1e-4, 1 - 1e-4).reshape(3, 3)
        logit = _logit(rates)
        var = 1.0 / (real_rows / 9 * rates * (1 - rates))
        rows_cols = logit.mean(axis=1, keepdims=True) + logit.mean(axis=0, keepdims=True) - logit.mean()
        additive = np.asarray(rows_cols, dtype=np.float64)
        real = _sigmoid(_shrink(logit, additive, var, dof=4.0)).ravel()
        return RiskGroup(group.name, group.labels, group.index, real)
    if group.name not in DECILE_CURVES:
        return group
    k = _decile_bins(group)
    rates = np.clip(group.real[:k], 1e-4, 1 - 1e-4)
    logit = _logit(rates)
    var = 1.0 / (real_rows / 10 * rates * (1 - rates))
    bins = np.arange(k, dtype=np.float64)
    smooth = np.asarray(np.polyval(np.polyfit(bins, logit, 2, w=1 / np.sqrt(var)), bins), dtype=np.float64)
    real = group.real.copy()
    real[:k] = _sigmoid(_shrink(logit, smooth, var, dof=float(k)))
    return RiskGroup(group.name, group.labels, group.index, real)


def _logit(p: FArr) -> FArr:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64)


def _sigmoid(x: FArr) -> FArr:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def solve_intercept(logit: FArr, target: float) -> float:
    """The shift ``a`` with mean(sigmoid(logit + a)) = ``target`` (bisection)."""
    lo, hi = -30.0, 30.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if float(np.mean(_sigmoid(logit + mid))) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def rake(
    logit: FArr,
    groups: Sequence[RiskGroup],
    fit: npt.NDArray[np.bool_],
    mean_pd: float,
    *,
    real_rate: float,
    sweeps: int = 12,
) -> FArr:
    """Adjust ``logit`` bin by bin until the mean PD of every bin of every group is the real rate.

    The real rates are first moved from the real sample's default rate to ``mean_pd`` (the same odds
    ratio for every bin), and the result is shifted so the mean PD over ``fit`` is ``mean_pd``.

    Args:
        logit: Structural logit of every client.
        groups: The curves to match (:func:`risk_groups`), for the same clients.
        fit: Clients whose PDs are matched (the train clients); the adjustments apply to all.
        mean_pd: Mean PD to reach over ``fit``.
        real_rate: Default rate of the real sample the curves come from.
        sweeps: Passes over all groups.

    Returns:
        The adjusted logit of every client.
    """
    out = np.array(logit, dtype=np.float64)
    odds_shift = float(_logit(np.array([mean_pd]))[0] - _logit(np.array([real_rate]))[0])
    for _ in range(sweeps):
        for group in groups:
            k = len(group.labels)
            sel = fit & (group.index >= 0)
            idx = group.index[sel]
            count = np.bincount(idx, minlength=k).astype(np.float64)
            have = np.bincount(idx, weights=_sigmoid(out[sel]), minlength=k) / np.maximum(count, 1)
            target = _sigmoid(_logit(group.real) + odds_shift)
            ok = (count > 0) & ~np.isnan(group.real)
            step = np.where(ok, _logit(target) - _logit(have), 0.0)
            on = group.index >= 0
            out[on] += step[group.index[on]]
        out += solve_intercept(out[fit], mean_pd)
    return out
