"""Realistic synthetic Home Credit tables: all eight files, seeded, from a thousand clients to full scale.

The generator is driven by the packaged profile of the real data (:func:`trainer.schema.load_profile`):

- Column names, order and CSV dtypes are the real ones. Float columns are written with a decimal point
  (``202500.0``), integer columns without, categories as the exact level strings (``XNA``, ``XAP``),
  missing values as empty fields, so ``pandas.read_csv`` infers the real dtypes.
- Marginals: numbers are sampled by inverse CDF, interpolating linearly between the profile quantiles
  (0/1/5/25/50/75/95/99/100 %), small integer sets and categories from their frequencies, missing values
  at the profile rate, the ``365243`` placeholder at the profile share.
- Structure on top: three latent client factors (creditworthiness, affluence, age) enter the columns
  through a Gaussian copula (rank-preserving), so correlated columns move together while marginals stay
  close; business rules keep rows consistent (pensioners with ``DAYS_EMPLOYED = 365243`` and organisation
  ``XNA``, housing fields missing as a block, history keys that join, late and split payments, overdue
  bureau credits, card balance vs limit).
- Loan structure: a cash loan's annuity follows from its amount, a product term (6 to 48 months, larger
  credits longer, shorter in application_test) and a monthly rate (:data:`CASH_PRODUCTS`, fitted to the
  real deciles of credit / annuity); revolving loans repay 5 % or 10 % a month; the goods price is the
  credit times a ratio with the real quantiles (below 1 when fees are financed, 1, or above 1).
- ``TARGET`` is planted by a hidden risk function of observable columns only. A structural logit of
  application columns (external scores first) and history aggregates computed from the generated rows
  (installment late and underpayment shares, bureau overdue, bureau_balance late statuses, refused
  previous applications, POS days past due, card utilisation) is then raked
  (:func:`trainer.synth_effects.rake`) so that the default rate per real decile of the credit term,
  goods / credit, annuity / income, credit / income, employed / age, income per person, the mean
  external score, age and the credit amount, per external-score x term tercile, and per level of the
  main categories equals the real one (``home_credit_effects.json``, the profile; decile rates and
  the two-way table without their sampling noise, :func:`trainer.synth_effects.shrink_noise`). The
  intercept is solved so the mean true PD of the train clients is 8.07 %; ``TARGET ~ Bernoulli(TRUE_PD)``.
  ``synth_truth.csv`` keeps every client's true PD (oracle AUC). ``trainer synth --check``
  (:mod:`trainer.synth_check`) compares the result with the real data.

Stated tolerances (checked by ``tests/test_synth.py`` against the profile):

- numeric quantiles 5/25/50/75/95 % within 10 % of the profile's 5-95 % range
  (``|q_synth - q_profile| <= 0.10 * (q95 - q5)``, at least 1 unit for whole-number columns), or, where
  the distribution is sparse (long tails, point masses), within 4 percentile points in rank (the
  profile's quantile value falls between the synthetic quantiles at ``level - 0.04`` and ``level + 0.04``);
- missing rates within 3 points; category frequencies within 3 points (levels of at least 3 %);
- rows per client of each history table within 5 % of the real average (``full_table_rows``), 10 % for
  POS_CASH_balance;
- the real curves, importance ranking and AUC gap: the tolerances of :mod:`trainer.synth_check`.

Identifier columns are excluded from the quantile check (the profiled sample is not uniform over IDs);
they lie in the real ranges instead. Randomness: ``numpy.random.default_rng`` seeded from ``seed`` with
separate streams for the applications, each chunk of history and the target; the same seed and size
give byte-identical files.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.special import ndtr, ndtri

from trainer.atomic import atomic_path
from trainer.errors import DataError
from trainer.progress import ProgressReport
from trainer.registry import BUREAU_ENQUIRIES
from trainer.schema import HISTORY_TABLES, load_profile, table_spec
from trainer.synth_effects import (
    LEVEL_CURVES,
    RAW_COLUMNS,
    RiskGroup,
    load_effects,
    rake,
    risk_groups,
    shrink_noise,
    solve_intercept,
)

FArr = npt.NDArray[np.float64]
IArr = npt.NDArray[np.int64]
BArr = npt.NDArray[np.bool_]
Cols = dict[str, npt.NDArray[Any]]

#: Placeholder the real data uses for "not applicable" in DAYS_* columns.
SPECIAL_DAYS = 365243.0
#: Rows of the real application_train and application_test files.
REAL_TRAIN_ROWS = 307511
REAL_TEST_ROWS = 48744
#: Default rate of the real application_train.
TARGET_DEFAULT_RATE = 0.0807
#: First SK_ID_CURR of the real files.
FIRST_CLIENT_ID = 100002
#: Overall strength of the structural risk function, before the real curves are planted.
RISK_SCALE = 0.56
#: Weight of the history part of the structural logit (a history model gains a few AUC points).
HISTORY_WEIGHT = 0.7
#: Weight of the mean external score in the structural application logit.
EXT_MEAN_WEIGHT = 3.2
#: Share of bureau credits with monthly bureau_balance statuses (sets the real rows per client).
BUREAU_BALANCE_SHARE = 0.408
#: Share of approved card applications with monthly credit_card_balance rows (real rows per client).
CARD_HISTORY_SHARE = 0.856
#: Share of instalments paid in two or three parts (rows).
SPLIT_PAYMENT_SHARE = 0.08
#: Clients per history chunk (bounds peak memory at full scale).
CHUNK_CLIENTS = 25_000
#: Rows per application write batch.
APP_BATCH = 50_000
FORMATS = ("csv", "parquet")

_Q_LEVELS_KEYS = ("0", "0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99", "1")
_DAYS_PER_MONTH = 30.4375
_HOUSING_SUFFIXES = ("_AVG", "_MODE", "_MEDI")
_HOUSING_EXTRA = ("FONDKAPREMONT_MODE", "HOUSETYPE_MODE", "TOTALAREA_MODE", "WALLSMATERIAL_MODE")


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`generate` wrote.

    Attributes:
        out_dir: The folder holding the files.
        paths: File path per table name, plus ``synth_truth``.
        rows: Row count per table name.
        default_rate: Share of ``TARGET == 1`` in application_train.
        mean_true_pd: Mean true PD of the train clients (8.07 % by construction).
        seed: The seed used.
    """

    out_dir: Path
    paths: dict[str, Path]
    rows: dict[str, int]
    default_rate: float
    mean_true_pd: float
    seed: int


# --------------------------------------------------------------------------------------------------
# Profile-driven marginals
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Marginal:
    """Sampler of one column's marginal distribution (from the profile)."""

    kind: str
    missing: float
    special: float
    xp: FArr
    fp: FArr
    discrete: bool
    decimals: int
    levels: tuple[str, ...]
    level_p: FArr


def _decimals(values: Sequence[float]) -> int:
    best = 0
    for v in values:
        text = f"{abs(v):.6f}".rstrip("0")
        best = max(best, len(text.split(".")[1]) if "." in text else 0)
    return min(best, 6)


@cache
def _marginal(table: str, column: str) -> _Marginal:
    stats: dict[str, Any] = load_profile()["tables"][table]["stats"][column]
    spec = table_spec(table).column(column)
    missing = float(stats.get("missing") or 0.0)
    special = float(stats.get("special_365243_share") or 0.0)
    empty = np.zeros(0)
    if spec.kind == "category":
        freq: dict[str, float] = stats.get("levels", {})
        p = np.array([float(freq.get(level, 0.0)) for level in spec.levels])
        return _Marginal("category", missing, 0.0, empty, empty, False, 0, spec.levels, p / p.sum())
    values: dict[str, float] | None = stats.get("values")
    if values:
        pairs = sorted((float(k), float(f)) for k, f in values.items())
        vals = np.array([v for v, _ in pairs])
        cum = np.cumsum([f for _, f in pairs])
        return _Marginal(spec.kind, missing, special, cum / cum[-1], vals, True, 6, (), empty)
    quant: dict[str, float] = stats["quantiles"]
    pts = [(float(k), float(quant[k])) for k in _Q_LEVELS_KEYS]
    if special > 0:
        kept = [(p / (1 - special), v) for p, v in pts if v != SPECIAL_DAYS and p < 1 - special]
        last = kept[-1][1]
        kept.append((1.0, 0.0 if last < 0 else last))
        pts = kept
    decimals = 0 if spec.kind == "int" else _decimals([v for _, v in pts])
    return _Marginal(
        spec.kind,
        missing,
        special,
        np.array([p for p, _ in pts]),
        np.array([v for _, v in pts]),
        False,
        decimals,
        (),
        empty,
    )


def _draw(m: _Marginal, u: FArr) -> FArr:
    """Inverse CDF of the non-special, non-missing part of a numeric marginal."""
    if m.discrete:
        idx = np.minimum(np.searchsorted(m.xp, u, side="right"), len(m.fp) - 1)
        out: FArr = m.fp[idx]
    else:
        out = np.interp(u, m.xp, m.fp)
    if m.kind == "int":
        return np.round(out)
    return np.round(out, m.decimals)


def _num(
    table: str,
    column: str,
    u: FArr,
    rng: np.random.Generator,
    *,
    missing: BArr | None = None,
    special: BArr | None = None,
) -> FArr:
    """Sample a numeric column from uniforms ``u``; missing and placeholder at the profile rates."""
    m = _marginal(table, column)
    out = _draw(m, u)
    if special is None and m.special > 0:
        special = rng.random(len(u)) < m.special
    if special is not None:
        out[special] = SPECIAL_DAYS
    if missing is None:
        missing = _mask(rng, len(u), m.missing) if m.missing > 0 else None
    if missing is not None:
        out[missing] = np.nan
    return out


def _cat(
    table: str,
    column: str,
    u: FArr,
    rng: np.random.Generator,
    *,
    order: Sequence[str] = (),
    exclude: Sequence[str] = (),
    missing: BArr | None = None,
) -> IArr:
    """Sample category codes (indexes into the spec levels) from uniforms ``u``.

    ``order`` lists levels from low to high ``u`` (others follow); ``exclude`` drops levels (the rest
    are renormalised); missing rows get code -1.
    """
    m = _marginal(table, column)
    lv = list(m.levels)
    perm = [lv.index(x) for x in order if x in lv] + [i for i, x in enumerate(lv) if x not in order]
    perm = [i for i in perm if lv[i] not in exclude]
    perm_arr = np.array(perm, dtype=np.int64)
    cum = np.cumsum(m.level_p[perm_arr])
    k = np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), len(perm_arr) - 1)
    codes: IArr = perm_arr[k]
    if missing is None:
        missing = _mask(rng, len(u), m.missing) if m.missing > 0 else None
    if missing is not None:
        codes[missing] = -1
    return codes


def _code(table: str, column: str, level: str) -> int:
    return table_spec(table).column(column).levels.index(level)


def _level_share(table: str, column: str, level: str) -> float:
    m = _marginal(table, column)
    return float(m.level_p[list(m.levels).index(level)]) if level in m.levels else 0.0


def _u(rng: np.random.Generator, n: int, *loads: tuple[float, FArr]) -> FArr:
    """Uniforms from a Gaussian copula on ``g = sum w_i z_i + sqrt(1 - sum w_i^2) e`` (ranks of g)."""
    g = rng.standard_normal(n)
    rest = 1.0 - sum(w * w for w, _ in loads)
    g *= np.sqrt(max(rest, 0.0))
    for w, z in loads:
        g += w * z
    return _rank_u(rng, g)


def _rank_u(rng: np.random.Generator, g: FArr) -> FArr:
    """Empirical copula: ranks of ``g``, jittered within their slot, so marginals are exact for any n."""
    n = len(g)
    ranks = np.empty(n, dtype=np.float64)
    ranks[np.argsort(g, kind="stable")] = np.arange(n)
    return np.asarray((ranks + rng.random(n)) / max(n, 1), dtype=np.float64)


def _strat(rng: np.random.Generator, n: int) -> FArr:
    """Stratified uniforms (one per 1/n slice, shuffled): marginals match closely even for small n."""
    return (rng.permutation(n) + rng.random(n)) / max(n, 1)


def _strat_present(rng: np.random.Generator, missing: BArr) -> FArr:
    """Uniforms, stratified over the rows that are not missing."""
    u = rng.random(len(missing))
    u[~missing] = _strat(rng, int((~missing).sum()))
    return u


def _mask(rng: np.random.Generator, n: int, share: float) -> BArr:
    """Exactly ``round(n * share)`` randomly placed True values."""
    out = np.zeros(n, dtype=bool)
    out[rng.permutation(n)[: round(n * min(max(share, 0.0), 1.0))]] = True
    return out


def _z(u: FArr) -> FArr:
    return np.asarray(ndtri(np.clip(u, 1e-9, 1 - 1e-9)), dtype=np.float64)


def _sigmoid(x: FArr) -> FArr:
    return 1.0 / (1.0 + np.exp(-x))


@cache
def _logit_intercept(target: float, slope: float) -> float:
    """Intercept a with E[sigmoid(a + slope Z)] = target for Z ~ N(0, 1) (deterministic quadrature)."""
    z = ndtri((np.arange(2000) + 0.5) / 2000)
    lo, hi = -20.0, 20.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if float(np.mean(_sigmoid(mid + slope * z))) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _fill_rest(table: str, cols: Cols, n: int, rng: np.random.Generator) -> None:
    """Sample every column not set yet independently from its profile marginal."""
    for col in table_spec(table).columns:
        if col.name in cols:
            continue
        m = _marginal(table, col.name)
        missing = _mask(rng, n, m.missing)
        u = _strat_present(rng, missing)
        if col.kind == "category":
            cols[col.name] = _cat(table, col.name, u, rng, missing=missing)
        else:
            cols[col.name] = _num(table, col.name, u, rng, missing=missing)


def _group_index(counts: IArr) -> tuple[IArr, IArr]:
    """For groups of sizes ``counts``: the group of each row and the row's position in its group."""
    grp = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(grp), dtype=np.int64) - starts[grp]
    return grp, pos


# --------------------------------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------------------------------


@dataclass
class _Clients:
    """Latent factors of the clients of one application table."""

    cw: FArr  # creditworthiness
    aff: FArr  # affluence
    age: FArr  # youth (high = young)


#: How strongly larger cash credits take longer products (Gaussian copula loading).
TERM_CREDIT_LOADING = 0.8
#: Power applied to the product choice: application_test (a later period) has shorter terms.
TERM_SKEW = {"application_train": 1.0, "application_test": 1.5}
#: Cash-loan products: (months, lowest and highest monthly rate, share). Fitted to the real deciles of
#: AMT_CREDIT / AMT_ANNUITY (``home_credit_effects.json``): the annuity factor of n months at rate r is
#: (1 - (1 + r)^-n) / r, so the same nominal term gives a shorter "term" at a higher rate.
CASH_PRODUCTS: tuple[tuple[int, float, float, float], ...] = (
    (6, 0.004, 0.010, 0.09),
    (12, 0.004, 0.010, 0.11),
    (18, 0.004, 0.010, 0.11),
    (24, 0.016, 0.022, 0.15),
    (30, 0.004, 0.010, 0.07),
    (30, 0.010, 0.016, 0.15),
    (30, 0.022, 0.030, 0.10),
    (36, 0.004, 0.010, 0.09),
    (48, 0.010, 0.016, 0.13),
)
#: Goods price / credit of cash loans: quantile points of the part below 1 (credits that finance fees
#: and insurance), then the share with goods price = credit and the share above it (a down payment).
_GOODS_RATIO_BELOW = (
    (0.0, 0.55),
    (0.15, 0.783),
    (0.30, 0.826),
    (0.449, 0.857),
    (0.599, 0.873),
    (0.749, 0.894),
    (0.897, 0.927),
    (1.0, 0.995),
)
_GOODS_RATIO_EQUAL = 0.20
_GOODS_RATIO_ABOVE = 0.06


def _cash_terms(u: FArr, rng: np.random.Generator) -> tuple[FArr, FArr]:
    """Nominal months and monthly rate per loan: products ordered by annuity factor, chosen by ``u``."""
    factor = [(1 - (1 + (lo + hi) / 2) ** -n) / ((lo + hi) / 2) for n, lo, hi, _ in CASH_PRODUCTS]
    order = np.argsort(factor, kind="stable")
    share = np.array([CASH_PRODUCTS[i][3] for i in order])
    k = np.minimum(np.searchsorted(np.cumsum(share) / share.sum(), u, side="right"), len(order) - 1)
    product = order[k]
    months = np.array([float(p[0]) for p in CASH_PRODUCTS])[product]
    lo = np.array([p[1] for p in CASH_PRODUCTS])[product]
    hi = np.array([p[2] for p in CASH_PRODUCTS])[product]
    return months, lo + (hi - lo) * rng.random(len(u))


def _goods_credit_ratio(n: int, rng: np.random.Generator) -> FArr:
    """Goods price / credit of cash loans, with the real quantiles (U-shaped risk lives on both sides)."""
    u = rng.random(n)
    below = 1.0 - _GOODS_RATIO_EQUAL - _GOODS_RATIO_ABOVE
    xp, fp = zip(*_GOODS_RATIO_BELOW, strict=True)
    ratio = np.interp(u / below, xp, fp)
    ratio = np.where(u >= below, 1.0, ratio)
    ratio = np.where(u >= below + _GOODS_RATIO_EQUAL, rng.uniform(1.02, 1.2, n), ratio)
    return np.asarray(ratio, dtype=np.float64)


def _applications(table: str, n: int, lat: _Clients, rng: np.random.Generator) -> Cols:
    """Application rows (without SK_ID_CURR and TARGET) for ``n`` clients."""
    t = table
    c: Cols = {}
    cw, aff, age = lat.cw, lat.aff, lat.age

    c["NAME_CONTRACT_TYPE"] = _cat(t, "NAME_CONTRACT_TYPE", _strat(rng, n), rng)
    revolving = c["NAME_CONTRACT_TYPE"] == _code(t, "NAME_CONTRACT_TYPE", "Revolving loans")
    male_u = _u(rng, n, (0.15, -cw))
    c["CODE_GENDER"] = _cat(t, "CODE_GENDER", male_u, rng, order=("F", "M"))
    male = c["CODE_GENDER"] == _code(t, "CODE_GENDER", "M")
    c["FLAG_OWN_CAR"] = _cat(
        t,
        "FLAG_OWN_CAR",
        _u(rng, n, (0.45, aff), (0.2, male.astype(np.float64) - 0.34)),
        rng,
        order=("N", "Y"),
    )
    car = c["FLAG_OWN_CAR"] == _code(t, "FLAG_OWN_CAR", "Y")
    c["FLAG_OWN_REALTY"] = _cat(t, "FLAG_OWN_REALTY", _u(rng, n, (0.25, -age)), rng, order=("N", "Y"))

    # Age, income type and employment: pensioners/unemployed carry the 365243 placeholder.
    days_birth = _num(t, "DAYS_BIRTH", ndtr(age), rng)
    c["DAYS_BIRTH"] = days_birth
    special_share = _level_share(t, "NAME_INCOME_TYPE", "Pensioner") + _level_share(
        t, "NAME_INCOME_TYPE", "Unemployed"
    )
    pens_score = 0.88 * -age + 0.475 * rng.standard_normal(n)
    special = pens_score > ndtri(1 - special_share)
    unemployed_share = _level_share(t, "NAME_INCOME_TYPE", "Unemployed") / max(special_share, 1e-9)
    income_type = _cat(
        t,
        "NAME_INCOME_TYPE",
        _u(rng, n, (0.35, aff), (0.2, cw)),
        rng,
        order=("Working", "State servant", "Commercial associate", "Businessman"),
        exclude=("Pensioner", "Unemployed"),
    )
    unemployed = special & (rng.random(n) < unemployed_share)
    income_type[special] = _code(t, "NAME_INCOME_TYPE", "Pensioner")
    if unemployed_share > 0:
        income_type[unemployed] = _code(t, "NAME_INCOME_TYPE", "Unemployed")
    c["NAME_INCOME_TYPE"] = income_type

    emp = _num(t, "DAYS_EMPLOYED", _u(rng, n, (0.45, age), (-0.2, cw)), rng, special=special)
    earliest = days_birth + 14 * 365 + rng.integers(0, 3 * 365, n)
    worker = ~special
    emp[worker] = np.minimum(np.maximum(emp[worker], earliest[worker]), -1)
    c["DAYS_EMPLOYED"] = emp
    c["ORGANIZATION_TYPE"] = _cat(t, "ORGANIZATION_TYPE", _strat(rng, n), rng, exclude=("XNA",))
    c["ORGANIZATION_TYPE"][special] = _code(t, "ORGANIZATION_TYPE", "XNA")
    c["FLAG_EMP_PHONE"] = np.where(special, 0.0, 1.0)
    occ_missing = _marginal(t, "OCCUPATION_TYPE").missing
    extra_missing = max(occ_missing - float(special.mean()), 0.0) / max(1 - float(special.mean()), 1e-9)
    c["OCCUPATION_TYPE"] = _cat(
        t,
        "OCCUPATION_TYPE",
        _u(rng, n, (0.35, aff)),
        rng,
        order=(
            "Low-skill Laborers",
            "Cleaning staff",
            "Laborers",
            "Drivers",
            "Cooking staff",
            "Waiters/barmen staff",
            "Security staff",
            "Sales staff",
        ),
        missing=special | (rng.random(n) < extra_missing),
    )
    c["NAME_EDUCATION_TYPE"] = _cat(
        t,
        "NAME_EDUCATION_TYPE",
        _u(rng, n, (0.45, aff), (0.25, cw)),
        rng,
        order=(
            "Lower secondary",
            "Secondary / secondary special",
            "Incomplete higher",
            "Higher education",
            "Academic degree",
        ),
    )
    c["NAME_FAMILY_STATUS"] = _cat(
        t,
        "NAME_FAMILY_STATUS",
        _u(rng, n, (0.45, age)),
        rng,
        order=("Widow", "Married", "Separated", "Civil marriage", "Single / not married"),
    )
    partner = np.isin(
        c["NAME_FAMILY_STATUS"],
        [_code(t, "NAME_FAMILY_STATUS", "Married"), _code(t, "NAME_FAMILY_STATUS", "Civil marriage")],
    )
    children = _num(t, "CNT_CHILDREN", _u(rng, n, (0.3, partner.astype(np.float64) - 0.7), (0.2, age)), rng)
    c["CNT_CHILDREN"] = children
    c["CNT_FAM_MEMBERS"] = children + 1 + partner
    c["OWN_CAR_AGE"] = _num(t, "OWN_CAR_AGE", _strat(rng, n), rng, missing=~car)

    # Amounts: income, credit, annuity, goods price.
    income = _num(t, "AMT_INCOME_TOTAL", _u(rng, n, (0.8, aff)), rng)
    c["AMT_INCOME_TOTAL"] = np.maximum(np.round(income / 2250) * 2250, 22500.0)
    u_credit = _u(rng, n, (0.45, aff))
    credit = _num(t, "AMT_CREDIT", u_credit, rng)
    credit[revolving] = np.maximum(np.round(credit[revolving] / 22500 * 0.55) * 22500, 45000.0)
    # Cash loans: a product term and a monthly rate give the annuity (larger credits run longer).
    u_term = _u(rng, n, (TERM_CREDIT_LOADING, _z(u_credit))) ** TERM_SKEW[t]
    months, rate = _cash_terms(u_term, rng)
    annuity = credit * rate / (1 - (1 + rate) ** -months)
    annuity[revolving] = credit[revolving] * np.where(rng.random(int(revolving.sum())) < 0.8, 0.05, 0.1)
    c["AMT_CREDIT"] = np.round(credit, 1)
    c["AMT_ANNUITY"] = np.round(annuity * 2) / 2
    ratio = _goods_credit_ratio(n, rng)
    goods = np.clip(np.round(credit * ratio / 4500) * 4500, 4500.0, credit * 1.2)
    goods = np.where(ratio < 1, np.minimum(goods, credit), goods)
    goods = np.where(ratio == 1, credit, goods)
    goods[revolving] = credit[revolving]
    goods_missing_share = _marginal(t, "AMT_GOODS_PRICE").missing / max(float(revolving.mean()), 1e-9)
    goods[revolving & (rng.random(n) < goods_missing_share)] = np.nan
    c["AMT_GOODS_PRICE"] = goods

    # Region, external scores, dates.
    z_region = 0.45 * -aff + 0.893 * rng.standard_normal(n)
    c["REGION_RATING_CLIENT"] = _num(t, "REGION_RATING_CLIENT", ndtr(z_region), rng)
    c["REGION_RATING_CLIENT_W_CITY"] = _num(
        t, "REGION_RATING_CLIENT_W_CITY", _u(rng, n, (0.93, z_region)), rng
    )
    c["REGION_POPULATION_RELATIVE"] = _num(t, "REGION_POPULATION_RELATIVE", _u(rng, n, (0.7, -z_region)), rng)
    c["EXT_SOURCE_1"] = _num(t, "EXT_SOURCE_1", _u(rng, n, (0.5, cw), (-0.62, age)), rng)
    c["EXT_SOURCE_2"] = _num(t, "EXT_SOURCE_2", _u(rng, n, (0.62, cw), (0.15, aff)), rng)
    c["EXT_SOURCE_3"] = _num(t, "EXT_SOURCE_3", _u(rng, n, (0.6, cw), (-0.25, age)), rng)
    reg = _num(t, "DAYS_REGISTRATION", _u(rng, n, (0.5, age)), rng)
    c["DAYS_REGISTRATION"] = np.minimum(np.maximum(reg, days_birth + 18 * 365), 0.0)
    pub = _num(t, "DAYS_ID_PUBLISH", _u(rng, n, (0.3, age)), rng)
    c["DAYS_ID_PUBLISH"] = np.minimum(np.maximum(pub, days_birth + 14 * 365), 0.0)

    # Social circle: DEF <= OBS, 60-day counts follow the 30-day ones.
    circle_missing = rng.random(n) < _marginal(t, "OBS_30_CNT_SOCIAL_CIRCLE").missing
    z_obs = rng.standard_normal(n)
    obs30 = _num(t, "OBS_30_CNT_SOCIAL_CIRCLE", ndtr(z_obs), rng, missing=circle_missing)
    obs60 = obs30 - (rng.random(n) < 0.03) * (obs30 > 0)
    c["OBS_30_CNT_SOCIAL_CIRCLE"] = obs30
    c["OBS_60_CNT_SOCIAL_CIRCLE"] = obs60
    u_def = _u(rng, n, (0.6, z_obs), (0.3, -cw))
    def30 = _num(t, "DEF_30_CNT_SOCIAL_CIRCLE", u_def, rng, missing=circle_missing)
    def30 = np.minimum(def30, obs30)
    def60 = np.minimum(_num(t, "DEF_60_CNT_SOCIAL_CIRCLE", u_def, rng, missing=circle_missing), def30)
    c["DEF_30_CNT_SOCIAL_CIRCLE"] = def30
    c["DEF_60_CNT_SOCIAL_CIRCLE"] = np.minimum(def60, obs60)

    # Housing block: all building fields present or missing together; AVG/MODE/MEDI close.
    _housing(t, c, n, aff, rng)
    req_missing = rng.random(n) < _marginal(t, BUREAU_ENQUIRIES[0]).missing
    for name in BUREAU_ENQUIRIES:
        c[name] = _num(t, name, _strat(rng, n), rng, missing=req_missing)
    c["FLAG_MOBIL"] = np.ones(n)
    _fill_rest(t, c, n, rng)
    return c


def _housing(t: str, c: Cols, n: int, aff: FArr, rng: np.random.Generator) -> None:
    names = table_spec(t).column_names
    measures = [x[:-4] for x in names if x.endswith("_AVG") and f"{x[:-4]}_MEDI" in names]
    block = [
        *(f"{m}{s}" for m in measures for s in _HOUSING_SUFFIXES),
        *_HOUSING_EXTRA,
        "EMERGENCYSTATE_MODE",
    ]
    block_missing = min(_marginal(t, x).missing for x in block)
    absent = _mask(rng, n, block_missing)
    z_size = 0.3 * aff + 0.954 * rng.standard_normal(n)

    def extra_missing(col: str) -> BArr:
        p = max(_marginal(t, col).missing - block_missing, 0.0) / max(1 - block_missing, 1e-9)
        return absent | _mask(rng, n, p)

    for measure in measures:
        loading = 0.3 if measure.startswith("YEARS") else 0.8
        z = loading * z_size + np.sqrt(1 - loading**2) * rng.standard_normal(n)
        miss = extra_missing(f"{measure}_AVG")
        for suffix in _HOUSING_SUFFIXES:
            u = _rank_u(rng, z + 0.08 * rng.standard_normal(n))
            c[f"{measure}{suffix}"] = _num(t, f"{measure}{suffix}", u, rng, missing=miss)
    c["TOTALAREA_MODE"] = _num(
        t, "TOTALAREA_MODE", ndtr(0.9 * z_size), rng, missing=extra_missing("TOTALAREA_MODE")
    )
    for col in ("FONDKAPREMONT_MODE", "HOUSETYPE_MODE", "WALLSMATERIAL_MODE", "EMERGENCYSTATE_MODE"):
        miss = extra_missing(col)
        c[col] = _cat(t, col, _strat_present(rng, miss), rng, missing=miss)


def _app_risk(t: str, c: Cols) -> FArr:
    """Hidden application part of the default logit (observable columns only)."""
    spec = table_spec(t)

    def level(col: str, weights: dict[str, float]) -> FArr:
        lv = spec.column(col).levels
        table = np.array([weights.get(x, 0.0) for x in lv] + [0.0])
        return np.asarray(table[c[col]], dtype=np.float64)

    e1, e2, e3 = (c[f"EXT_SOURCE_{i}"] for i in (1, 2, 3))
    ext = np.stack([e1, e2, e3])
    present = (~np.isnan(ext)).sum(axis=0)
    mean = np.nansum(ext, axis=0) / np.maximum(present, 1)
    logit = (
        -EXT_MEAN_WEIGHT * np.where(present > 0, mean - 0.5, 0.0)
        + 0.4 * (present == 0)
        - 1.6 * np.nan_to_num(e3 - 0.5)
        + 0.15 * np.isnan(e3)
        - 0.9 * np.nan_to_num(e2 - 0.52)
        - 0.4 * np.nan_to_num(e1 - 0.5)
    )
    years = -c["DAYS_BIRTH"] / 365.25
    logit += 0.018 * np.clip(45 - years, -20, 25)
    logit += level(
        "NAME_EDUCATION_TYPE",
        {
            "Higher education": -0.3,
            "Academic degree": -0.6,
            "Lower secondary": 0.25,
            "Secondary / secondary special": 0.05,
        },
    )
    logit += level(
        "NAME_INCOME_TYPE",
        {
            "Working": 0.15,
            "State servant": -0.45,
            "Pensioner": -0.1,
            "Unemployed": 1.0,
            "Maternity leave": 0.8,
        },
    )
    logit += level("CODE_GENDER", {"M": 0.35})
    emp = c["DAYS_EMPLOYED"]
    emp_years = np.where(emp == SPECIAL_DAYS, 10.0, -emp / 365.25)
    logit -= 0.035 * np.clip(emp_years, 0, 15)
    logit += 0.6 * (c["REGION_RATING_CLIENT"] - 2)
    logit += 0.12 * np.clip(np.nan_to_num(c["DEF_30_CNT_SOCIAL_CIRCLE"]), 0, 3)
    logit -= 0.1 * (c["FLAG_OWN_CAR"] == _code(t, "FLAG_OWN_CAR", "Y"))
    return np.asarray(logit, dtype=np.float64)


# --------------------------------------------------------------------------------------------------
# History tables (one chunk of clients at a time)
# --------------------------------------------------------------------------------------------------


@dataclass
class _IdRange:
    """Allocates unique, increasing IDs spread over the real range of a key column."""

    lo: int
    hi: int
    expected: float
    used: int = 0
    last: int = -1

    def take(self, k: int, rng: np.random.Generator) -> IArr:
        step = max((self.hi - self.lo) / max(self.expected * 1.04, 1.0), 1.0)
        pos = self.used + np.arange(k, dtype=np.float64)
        ids = self.lo + np.floor(pos * step).astype(np.int64)
        ids += rng.integers(0, max(int(step), 1), k)
        ids = np.maximum(ids, self.last + 1 + np.arange(k))
        self.used += k
        if k:
            self.last = int(ids[-1])
        return ids


@dataclass
class _ChunkInput:
    ids: IArr
    bad: FArr  # behaviour latent: high = poor payment behaviour
    aff: FArr
    age: FArr


def _bureau(ch: _ChunkInput, ids: _IdRange, rng: np.random.Generator) -> tuple[Cols, Cols, FArr]:
    """Bureau and bureau_balance rows for a chunk, plus each client's history logit share."""
    t = "bureau"
    n = len(ch.ids)
    lam = 4.6 * rng.gamma(1.5, 1 / 1.5, n) * np.exp(0.25 * -ch.age - 0.03125)
    counts = np.where(rng.random(n) < 0.86, 1 + rng.poisson(lam), 0).astype(np.int64)
    ci, _ = _group_index(counts)
    m = len(ci)
    bad = ch.bad[ci]
    b: Cols = {
        "SK_ID_CURR": ch.ids[ci].astype(np.float64),
        "SK_ID_BUREAU": ids.take(m, rng).astype(np.float64),
    }
    u_dc = rng.random(m)
    dc = _num(t, "DAYS_CREDIT", u_dc, rng)
    active = _u(rng, m, (0.6, _z(u_dc))) > 1 - _level_share(t, "CREDIT_ACTIVE", "Active")
    status = np.full(m, _code(t, "CREDIT_ACTIVE", "Closed"), dtype=np.int64)
    status[active] = _code(t, "CREDIT_ACTIVE", "Active")
    sold = ~active & (rng.random(m) < _level_share(t, "CREDIT_ACTIVE", "Sold") / 0.63)
    status[sold] = _code(t, "CREDIT_ACTIVE", "Sold")
    bad_debt = ~active & (rng.random(m) < 0.0002 * np.exp(bad))
    status[bad_debt] = _code(t, "CREDIT_ACTIVE", "Bad debt")
    b["CREDIT_ACTIVE"] = status
    b["DAYS_CREDIT"] = dc
    fact = np.minimum(np.round(dc * rng.beta(2.5, 1.2, m)), -1.0)
    fact = np.maximum(fact, dc)
    end_plan = np.where(
        active,
        dc + np.round(np.exp(rng.normal(np.log(1500), 0.9, m))),
        fact + np.round(rng.normal(0, 150, m)),
    )
    end_plan[rng.random(m) < _marginal(t, "DAYS_CREDIT_ENDDATE").missing] = np.nan
    b["DAYS_CREDIT_ENDDATE"] = end_plan
    b["DAYS_ENDDATE_FACT"] = np.where(active, np.nan, fact)
    b["DAYS_CREDIT_UPDATE"] = np.where(
        active,
        -rng.integers(1, 45, m).astype(np.float64),
        np.minimum(np.round(fact * rng.beta(4.0, 1.2, m)), -1),
    )
    overdue = active & (rng.random(m) < _sigmoid(-6.2 + 1.6 * bad))
    cdo = np.where(overdue, np.round(np.exp(rng.uniform(0, 6.5, m))), 0.0)
    b["CREDIT_DAY_OVERDUE"] = cdo
    total = _num(t, "AMT_CREDIT_SUM", _u(rng, m, (0.35, ch.aff[ci])), rng, missing=np.zeros(m, dtype=bool))
    b["AMT_CREDIT_SUM"] = total
    debt = np.where(active, np.round(total * rng.beta(1.6, 0.7, m), 3), 0.0)
    debt[rng.random(m) < _marginal(t, "AMT_CREDIT_SUM_DEBT").missing] = np.nan
    b["AMT_CREDIT_SUM_DEBT"] = debt
    amt_overdue = np.where(
        overdue & (rng.random(m) < 0.7), np.round(total * rng.uniform(0.01, 0.2, m), 3), 0.0
    )
    b["AMT_CREDIT_SUM_OVERDUE"] = amt_overdue
    max_overdue = _num(t, "AMT_CREDIT_MAX_OVERDUE", _u(rng, m, (0.4, bad)), rng)
    b["AMT_CREDIT_MAX_OVERDUE"] = np.where(
        np.isnan(max_overdue), max_overdue, np.maximum(max_overdue, amt_overdue)
    )
    _fill_rest(t, b, m, rng)

    # bureau_balance: monthly statuses for about 40 % of the bureau credits (the real rows per client).
    has_bb = rng.random(m) < BUREAU_BALANCE_SHARE
    start = np.maximum(np.floor(dc / _DAYS_PER_MONTH), -96).astype(np.int64)
    end = -rng.integers(0, 2, m)
    nmonths = np.where(has_bb, np.maximum(end - start + 1, 1), 0).astype(np.int64)
    bi, pos = _group_index(nmonths)
    month = end[bi] - pos
    close_month = np.where(active, 10**6, np.floor(fact / _DAYS_PER_MONTH)).astype(np.int64)
    p_x = np.where(rng.random(m) < 0.4, 0.9, 0.1)
    p_late = _sigmoid(-4.6 + 1.7 * bad + 0.5 * rng.standard_normal(m))
    k = len(bi)
    r = rng.random(k)
    late_level = rng.choice(np.array(["1", "2", "3", "4", "5"]), size=k, p=[0.69, 0.065, 0.04, 0.015, 0.19])
    sc = {lv: _code("bureau_balance", "STATUS", lv) for lv in ("C", "0", "X", "1", "2", "3", "4", "5")}
    late_codes = np.array([sc[x] for x in ("1", "2", "3", "4", "5")], dtype=np.int64)
    late_idx = np.searchsorted(np.array(["1", "2", "3", "4", "5"]), late_level)
    st = np.full(k, sc["0"], dtype=np.int64)
    is_late = r < p_late[bi]
    st[is_late] = late_codes[late_idx[is_late]]
    st[rng.random(k) < p_x[bi]] = sc["X"]
    st[month > close_month[bi]] = sc["C"]
    bb: Cols = {
        "SK_ID_BUREAU": b["SK_ID_BUREAU"][bi],
        "MONTHS_BALANCE": month.astype(np.float64),
        "STATUS": st,
    }

    # Observable aggregates -> history logit share.
    bb_late = np.bincount(ci[bi], weights=np.isin(st, late_codes), minlength=n)
    bb_n = np.bincount(ci[bi], minlength=n)
    bb_late_share = np.where(bb_n > 0, bb_late / np.maximum(bb_n, 1), 0.0)
    any_overdue = np.bincount(ci, weights=amt_overdue, minlength=n) > 0
    max_cdo = np.zeros(n)
    np.maximum.at(max_cdo, ci, cdo)
    n_active = np.bincount(ci, weights=active, minlength=n)
    g = (
        3.5 * np.sqrt(bb_late_share)
        + 0.8 * any_overdue
        + 0.15 * np.log1p(max_cdo)
        + 0.06 * np.minimum(n_active, 6)
    )
    g -= 0.15 * (counts > 0)
    return b, bb, g


def _previous(
    ch: _ChunkInput, ids: _IdRange, rng: np.random.Generator
) -> tuple[Cols, Cols, Cols, Cols, FArr]:
    """previous_application, POS_CASH_balance, installments_payments, credit_card_balance for a chunk."""
    t = "previous_application"
    n = len(ch.ids)
    counts = np.where(rng.random(n) < 0.95, 1 + rng.poisson(3.93 * rng.gamma(1.2, 1 / 1.2, n)), 0).astype(
        np.int64
    )
    ci, _ = _group_index(counts)
    m = len(ci)
    bad = ch.bad[ci]
    p: Cols = {"SK_ID_PREV": ids.take(m, rng).astype(np.float64), "SK_ID_CURR": ch.ids[ci].astype(np.float64)}
    ctype = _cat(t, "NAME_CONTRACT_TYPE", _strat(rng, m), rng)
    p["NAME_CONTRACT_TYPE"] = ctype
    revolving = ctype == _code(t, "NAME_CONTRACT_TYPE", "Revolving loans")

    refused_share = _level_share(t, "NAME_CONTRACT_STATUS", "Refused")
    refused = rng.random(m) < _sigmoid(_logit_intercept(refused_share, 1.1) + 1.1 * bad)
    status = _cat(t, "NAME_CONTRACT_STATUS", _strat(rng, m), rng, exclude=("Refused",))
    status[refused] = _code(t, "NAME_CONTRACT_STATUS", "Refused")
    p["NAME_CONTRACT_STATUS"] = status
    approved = status == _code(t, "NAME_CONTRACT_STATUS", "Approved")
    unused = status == _code(t, "NAME_CONTRACT_STATUS", "Unused offer")
    reason = _cat(t, "CODE_REJECT_REASON", _strat(rng, m), rng, exclude=("XAP", "CLIENT"))
    reason[~refused] = _code(t, "CODE_REJECT_REASON", "XAP")
    reason[unused] = _code(t, "CODE_REJECT_REASON", "CLIENT")
    p["CODE_REJECT_REASON"] = reason

    u_app = _u(rng, m, (0.3, ch.aff[ci]))
    z_app = _z(u_app)
    app = _num(t, "AMT_APPLICATION", u_app, rng)
    credit = _num(t, "AMT_CREDIT", _u(rng, m, (0.97, z_app)), rng)
    credit[app == 0] = 0.0
    p["AMT_APPLICATION"] = app
    p["AMT_CREDIT"] = credit
    zero_share = float((app == 0).mean()) if m else 0.0
    extra = max(_marginal(t, "AMT_GOODS_PRICE").missing - zero_share, 0.0) / max(1 - zero_share, 1e-9)
    no_terms = (app == 0) | (rng.random(m) < extra)
    p["AMT_GOODS_PRICE"] = _num(t, "AMT_GOODS_PRICE", _u(rng, m, (0.97, z_app)), rng, missing=no_terms)
    not_approved = (~approved).astype(np.float64)
    not_approved = (not_approved - not_approved.mean()) / max(float(not_approved.std()), 1e-9)
    u_cnt = _u(rng, m, (0.72, z_app), (0.14, not_approved))  # long terms are refused more often
    cnt = _num(t, "CNT_PAYMENT", u_cnt, rng, missing=no_terms)
    p["CNT_PAYMENT"] = cnt
    rate = rng.uniform(0.004, 0.022, m)
    term = np.where(np.nan_to_num(cnt) > 0, np.nan_to_num(cnt), 12.0)
    annuity = np.where(
        (np.nan_to_num(cnt) > 0) & (credit > 0),
        np.round(credit * rate / (1 - (1 + rate) ** -term), 3),
        _num(t, "AMT_ANNUITY", _strat(rng, m), rng, missing=np.zeros(m, dtype=bool)),
    )
    annuity[no_terms] = np.nan
    p["AMT_ANNUITY"] = annuity

    # Dates: approved loans have the DAYS_* block (with the 365243 placeholder).
    days_missing_extra = max(_marginal(t, "DAYS_FIRST_DUE").missing - float((~approved).mean()), 0.0)
    no_days = ~approved | (rng.random(m) < days_missing_extra)
    first_due = _num(t, "DAYS_FIRST_DUE", _u(rng, m, (0.3, _z(u_cnt))), rng, missing=no_days)
    # Approved decisions follow their (older) first due dates; the others are drawn more recent so the
    # column keeps the profile's marginal.
    decision = _num(t, "DAYS_DECISION", 0.2 + 0.8 * _strat(rng, m), rng)
    due_ok = ~np.isnan(first_due) & (first_due != SPECIAL_DAYS)
    decision = np.where(due_ok, np.maximum(first_due - rng.integers(5, 40, m), -2922), decision)
    p["DAYS_DECISION"] = decision
    p["DAYS_FIRST_DUE"] = first_due
    p["DAYS_FIRST_DRAWING"] = _num(t, "DAYS_FIRST_DRAWING", _strat(rng, m), rng, missing=no_days)
    last1 = np.where(due_ok, first_due + 30 * (term - 1), np.nan)
    last1 = np.where(
        due_ok & ~np.isnan(last1),
        last1,
        _num(t, "DAYS_LAST_DUE_1ST_VERSION", _strat(rng, m), rng, missing=no_days),
    )
    sp1 = ~no_days & (rng.random(m) < _marginal(t, "DAYS_LAST_DUE_1ST_VERSION").special)
    last1[sp1] = SPECIAL_DAYS
    last1[no_days] = np.nan
    p["DAYS_LAST_DUE_1ST_VERSION"] = last1
    # Loans still running (furthest planned end first) carry the placeholder, at the profile share.
    order = np.argsort(-(np.nan_to_num(last1, nan=-1e9) + rng.normal(0, 200, m)), kind="stable")
    has_days = int((~no_days).sum())
    running = np.zeros(m, dtype=bool)
    running[order[: round(has_days * _marginal(t, "DAYS_LAST_DUE").special)]] = True
    running &= ~no_days
    last = np.where(running, SPECIAL_DAYS, np.minimum(last1, -1.0))
    last[no_days] = np.nan
    p["DAYS_LAST_DUE"] = last
    term_day = np.where(last == SPECIAL_DAYS, SPECIAL_DAYS, np.minimum(last + rng.integers(0, 12, m), -1.0))
    term_day[~no_days & (rng.random(m) < 0.015)] = SPECIAL_DAYS
    term_day[no_days] = np.nan
    p["DAYS_TERMINATION"] = term_day
    p["NFLAG_INSURED_ON_APPROVAL"] = _num(
        t, "NFLAG_INSURED_ON_APPROVAL", _strat(rng, m), rng, missing=no_days
    )
    down_missing = rng.random(m) < _marginal(t, "AMT_DOWN_PAYMENT").missing
    u_down = rng.random(m)
    p["AMT_DOWN_PAYMENT"] = _num(t, "AMT_DOWN_PAYMENT", u_down, rng, missing=down_missing)
    p["RATE_DOWN_PAYMENT"] = _num(
        t, "RATE_DOWN_PAYMENT", _u(rng, m, (0.8, _z(u_down))), rng, missing=down_missing
    )
    rate_missing = rng.random(m) < _marginal(t, "RATE_INTEREST_PRIMARY").missing
    p["RATE_INTEREST_PRIMARY"] = _num(t, "RATE_INTEREST_PRIMARY", _strat(rng, m), rng, missing=rate_missing)
    p["RATE_INTEREST_PRIVILEGED"] = _num(
        t, "RATE_INTEREST_PRIVILEGED", _strat(rng, m), rng, missing=rate_missing
    )
    _fill_rest(t, p, m, rng)

    # Monthly/instalment history of approved loans.
    p_late = _sigmoid(_logit_intercept(0.07, 1.4) + 1.4 * bad + 0.4 * rng.standard_normal(m))
    p_under = _sigmoid(_logit_intercept(0.05, 1.3) + 1.3 * bad + 0.4 * rng.standard_normal(m))
    loans = approved & ~revolving & due_ok & (first_due <= 0)
    cards = approved & revolving & (rng.random(m) < CARD_HISTORY_SHARE)
    pos, inst_loans = _pos_installments(p, loans, term, annuity, credit, bad, p_late, p_under, rng)
    cc, inst_cards = _cards(p, cards, ch.aff[ci], bad, p_late, rng)
    inst = {k: np.concatenate([inst_loans[k], inst_cards[k]]) for k in inst_loans}

    # Observable aggregates -> history logit share.
    prev_ci = ci
    n_prev = counts
    refused_share_c = np.bincount(ci, weights=refused, minlength=n) / np.maximum(n_prev, 1)
    ici = prev_ci[inst["_row"].astype(np.int64)]
    late = inst["DAYS_ENTRY_PAYMENT"] > inst["DAYS_INSTALMENT"]
    under = inst["AMT_PAYMENT"] < inst["AMT_INSTALMENT"]
    inst_n = np.bincount(ici, minlength=n)
    late_share = np.bincount(ici, weights=late, minlength=n) / np.maximum(inst_n, 1)
    under_share = np.bincount(ici, weights=under, minlength=n) / np.maximum(inst_n, 1)
    pos_dpd = np.zeros(n)
    np.maximum.at(pos_dpd, prev_ci[pos["_row"].astype(np.int64)], pos["SK_DPD"])
    cc_rows = prev_ci[cc["_row"].astype(np.int64)]
    limit = cc["AMT_CREDIT_LIMIT_ACTUAL"]
    util = np.where(limit > 0, cc["AMT_BALANCE"] / np.maximum(limit, 1), 0.0)
    cc_n = np.bincount(cc_rows, minlength=n)
    cc_util = np.bincount(cc_rows, weights=np.clip(util, 0, 1.5), minlength=n) / np.maximum(cc_n, 1)
    g = (
        3.2 * np.sqrt(late_share)
        + 2.5 * np.sqrt(under_share)
        + 1.3 * refused_share_c
        + 0.2 * np.log1p(pos_dpd)
        + 1.2 * cc_util
        - 0.35 * (inst_n > 0)
        - 0.1 * (n_prev > 0)
    )
    inst = _split_payments(inst, rng)
    for d in (pos, inst, cc):
        del d["_row"]
    return p, pos, inst, cc, g


def _split_payments(inst: Cols, rng: np.random.Generator) -> Cols:
    """Pay some instalments in two or three parts (rows), like the real table.

    The parts of one instalment share its number, version, due date and amount; their payments add
    up to the instalment's payment and they arrive on the same or later days.
    """
    pay = inst["AMT_PAYMENT"]
    q = len(pay)
    split = (rng.random(q) < SPLIT_PAYMENT_SHARE) & (pay > 1)
    parts = np.where(split, np.where(rng.random(q) < 0.8, 2, 3), 1).astype(np.int64)
    gi, pos = _group_index(parts)
    out = {name: values[gi] for name, values in inst.items()}
    weight = rng.uniform(0.2, 1.0, len(gi))
    total = np.bincount(gi, weights=weight, minlength=q)[gi]
    amount = np.round(pay[gi] * weight / total, 3)
    last = pos == parts[gi] - 1
    paid_before = np.bincount(gi, weights=np.where(last, 0.0, amount), minlength=q)[gi]
    out["AMT_PAYMENT"] = np.where(last, np.round(pay[gi] - paid_before, 3), amount)
    gap = np.where(pos > 0, rng.integers(1, 25, len(gi)), 0).astype(np.float64)
    delay = (
        np.cumsum(gap)
        - (np.cumsum(np.bincount(gi, weights=gap, minlength=q)) - np.bincount(gi, weights=gap, minlength=q))[
            gi
        ]
    )
    out["DAYS_ENTRY_PAYMENT"] = np.minimum(out["DAYS_ENTRY_PAYMENT"] + delay, 0.0)
    return out


def _past_due(
    bad: FArr, months: Any, owner: Any, k: Any, intercept: float, share: float, rng: np.random.Generator
) -> tuple[FArr, FArr]:
    """Days past due of monthly rows: each credit may have one episode of growing lateness.

    Args:
        bad: Hidden badness of each credit (raises the odds of an episode).
        months: Months of history of each credit (the episode starts within them).
        owner: Credit of each monthly row.
        k: Month of each row within its credit.
        intercept: Log-odds of an episode for an average credit.
        share: Share of the past-due rows also past due with tolerance (``SK_DPD_DEF``); it is also
            the parameter of the geometric episode length.
        rng: Random generator (draws in a fixed order: the files stay byte-identical per seed).

    Returns:
        ``SK_DPD`` and ``SK_DPD_DEF`` of every row.
    """
    n, r = len(bad), len(owner)
    episode = rng.random(n) < _sigmoid(intercept + 1.5 * bad)
    ep_start = (rng.random(n) * months).astype(np.int64)
    ep_len = rng.geometric(share, n)
    in_ep = episode[owner] & (k >= ep_start[owner]) & (k < ep_start[owner] + ep_len[owner])
    dpd = np.where(in_ep, (k - ep_start[owner] + 1) * rng.integers(1, 31, r), 0).astype(np.float64)
    return dpd, np.where(rng.random(r) < share, dpd, 0.0)


def _pos_installments(
    p: Cols,
    loans: BArr,
    term: FArr,
    annuity: FArr,
    credit: FArr,
    bad: FArr,
    p_late: FArr,
    p_under: FArr,
    rng: np.random.Generator,
) -> tuple[Cols, Cols]:
    rows = np.flatnonzero(loans)
    n_term = term[rows].astype(np.int64)
    first_due = p["DAYS_FIRST_DUE"][rows]
    start = np.maximum(np.floor(p["DAYS_DECISION"][rows] / _DAYS_PER_MONTH), -96).astype(np.int64)
    months = np.clip(np.minimum(np.minimum(n_term + 1, -start), 24), 1, None).astype(np.int64)
    li, k = _group_index(months)
    r = len(li)
    t = "POS_CASH_balance"
    future = np.maximum(n_term[li] - k, 0).astype(np.float64)
    pos: Cols = {
        "SK_ID_PREV": p["SK_ID_PREV"][rows][li],
        "SK_ID_CURR": p["SK_ID_CURR"][rows][li],
        "MONTHS_BALANCE": (start[li] + k).astype(np.float64),
        "CNT_INSTALMENT": n_term[li].astype(np.float64),
        "CNT_INSTALMENT_FUTURE": future,
    }
    cnt_missing = rng.random(r) < _marginal(t, "CNT_INSTALMENT").missing
    pos["CNT_INSTALMENT"][cnt_missing] = np.nan
    pos["CNT_INSTALMENT_FUTURE"][cnt_missing] = np.nan
    status = np.where(
        future > 0, _code(t, "NAME_CONTRACT_STATUS", "Active"), _code(t, "NAME_CONTRACT_STATUS", "Completed")
    )
    signed = (k == 0) & (rng.random(r) < 0.08)
    status[signed] = _code(t, "NAME_CONTRACT_STATUS", "Signed")
    pos["NAME_CONTRACT_STATUS"] = status.astype(np.int64)
    loan_bad = bad[rows]
    pos["SK_DPD"], pos["SK_DPD_DEF"] = _past_due(loan_bad, months, li, k, -3.4, 0.35, rng)
    pos["_row"] = rows[li].astype(np.float64)

    # Installments: one row per due date already passed.
    elapsed = (np.floor(-first_due / 30) + 1).astype(np.int64)
    n_inst = np.clip(np.minimum(n_term, elapsed), 1, None).astype(np.int64)
    ii, j = _group_index(n_inst)
    q = len(ii)
    amount = annuity[rows]
    amount = np.where(np.isnan(amount), credit[rows] / np.maximum(n_term, 1), amount)
    amt = amount[ii].copy()
    last = j == n_inst[ii] - 1
    amt[last] = np.round(amt[last] * rng.uniform(0.3, 1.0, int(last.sum())), 3)
    day = first_due[ii] + 30 * j
    late = rng.random(q) < p_late[rows][ii]
    entry = np.where(late, day + rng.geometric(0.12, q), day - rng.integers(0, 20, q))
    entry = np.minimum(entry, 0.0)
    under = rng.random(q) < p_under[rows][ii]
    pay = np.where(under, np.round(amt * rng.uniform(0.05, 0.95, q), 3), amt)
    version = np.where(rng.random(q) < 0.12, 2.0, 1.0)
    inst: Cols = {
        "SK_ID_PREV": p["SK_ID_PREV"][rows][ii],
        "SK_ID_CURR": p["SK_ID_CURR"][rows][ii],
        "NUM_INSTALMENT_VERSION": version,
        "NUM_INSTALMENT_NUMBER": (j + 1).astype(np.float64),
        "DAYS_INSTALMENT": day,
        "DAYS_ENTRY_PAYMENT": entry,
        "AMT_INSTALMENT": np.round(amt, 3),
        "AMT_PAYMENT": pay,
        "_row": rows[ii].astype(np.float64),
    }
    return pos, inst


def _cards(
    p: Cols, cards: BArr, aff: FArr, bad: FArr, p_late: FArr, rng: np.random.Generator
) -> tuple[Cols, Cols]:
    t = "credit_card_balance"
    rows = np.flatnonzero(cards)
    nc = len(rows)
    start = np.maximum(np.floor(p["DAYS_DECISION"][rows] / _DAYS_PER_MONTH), -96).astype(np.int64)
    months = np.maximum(-start, 1).astype(np.int64)
    gi, k = _group_index(months)
    r = len(gi)
    limit_card = _num(
        t, "AMT_CREDIT_LIMIT_ACTUAL", _u(rng, nc, (0.4, aff[rows])), rng, missing=np.zeros(nc, dtype=bool)
    )
    limit_card = np.round(limit_card / 4500) * 4500
    card_bad = bad[rows]
    user = rng.random(nc) < 0.55
    util_card = _sigmoid(0.9 + 1.1 * card_bad + 0.6 * rng.standard_normal(nc))
    util = np.where(user[gi], np.clip(util_card[gi] * rng.uniform(0.7, 1.15, r), 0, 1.2), 0.0)
    limit = limit_card[gi]
    balance = np.round(util * limit, 3)
    c: Cols = {
        "SK_ID_PREV": p["SK_ID_PREV"][rows][gi],
        "SK_ID_CURR": p["SK_ID_CURR"][rows][gi],
        "MONTHS_BALANCE": (start[gi] + k).astype(np.float64),
        "AMT_BALANCE": balance,
        "AMT_CREDIT_LIMIT_ACTUAL": limit,
        "AMT_RECEIVABLE_PRINCIPAL": np.round(balance * rng.uniform(0.93, 1.0, r), 3),
        "AMT_RECIVABLE": balance,
        "AMT_TOTAL_RECEIVABLE": balance,
    }
    mature_missing = rng.random(r) < _marginal(t, "CNT_INSTALMENT_MATURE_CUM").missing
    c["AMT_INST_MIN_REGULARITY"] = np.where(mature_missing, np.nan, np.round(balance * 0.07, 3))
    mature = np.floor(k * rng.uniform(0.3, 1.0, nc)[gi])
    c["CNT_INSTALMENT_MATURE_CUM"] = np.where(mature_missing, np.nan, mature)
    draw_missing = rng.random(r) < _marginal(t, "AMT_DRAWINGS_ATM_CURRENT").missing
    for col in (
        "AMT_DRAWINGS_ATM_CURRENT",
        "AMT_DRAWINGS_OTHER_CURRENT",
        "AMT_DRAWINGS_POS_CURRENT",
        "CNT_DRAWINGS_ATM_CURRENT",
        "CNT_DRAWINGS_OTHER_CURRENT",
        "CNT_DRAWINGS_POS_CURRENT",
    ):
        c[col] = _num(t, col, rng.random(r), rng, missing=draw_missing)
    c["SK_DPD"], c["SK_DPD_DEF"] = _past_due(card_bad, months, gi, k, -3.0, 0.3, rng)
    _fill_rest(t, c, r, rng)
    for col in (
        "AMT_DRAWINGS_CURRENT",
        "AMT_DRAWINGS_ATM_CURRENT",
        "AMT_DRAWINGS_POS_CURRENT",
        "AMT_DRAWINGS_OTHER_CURRENT",
    ):
        c[col] = np.where(user[gi] | np.isnan(c[col]), c[col], 0.0)
    c["_row"] = rows[gi].astype(np.float64)

    # Card installments (version 0): the monthly minimum payments.
    paid = user[gi]
    number_offset = rng.integers(0, 60, nc)[gi]
    sel = np.flatnonzero(paid)
    inst_amt = np.maximum(np.round(balance[sel] * rng.uniform(0.02, 0.1, len(sel)), 3), 0.0)
    day = np.round((start[gi][sel] + k[sel]) * _DAYS_PER_MONTH + 25)
    day = np.minimum(day, -1.0)
    late = rng.random(len(sel)) < p_late[rows][gi][sel]
    entry = np.minimum(
        np.where(late, day + rng.geometric(0.12, len(sel)), day - rng.integers(0, 15, len(sel))), 0.0
    )
    pay = np.where(
        rng.random(len(sel)) < 0.5, inst_amt, np.round(inst_amt * rng.uniform(1.0, 3.0, len(sel)), 3)
    )
    inst: Cols = {
        "SK_ID_PREV": c["SK_ID_PREV"][sel],
        "SK_ID_CURR": c["SK_ID_CURR"][sel],
        "NUM_INSTALMENT_VERSION": np.zeros(len(sel)),
        "NUM_INSTALMENT_NUMBER": (k[sel] + 1 + number_offset[sel]).astype(np.float64),
        "DAYS_INSTALMENT": day,
        "DAYS_ENTRY_PAYMENT": entry,
        "AMT_INSTALMENT": inst_amt,
        "AMT_PAYMENT": pay,
        "_row": rows[gi][sel].astype(np.float64),
    }
    return c, inst


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def _quote(level: str) -> str:
    if any(ch in level for ch in ',"\n'):
        return '"' + level.replace('"', '""') + '"'
    return level


class _Writer:
    """Streams one table to ``tmp``: a temporary file :func:`trainer.atomic.atomic_path` puts in place."""

    def __init__(self, tmp: Path, name: str, fmt: str, columns: Sequence[str] | None = None) -> None:
        self.name = name
        self.fmt = fmt
        self.tmp = tmp
        spec = table_spec(name) if name in load_profile()["tables"] else None
        if spec is not None:
            self.columns = [(col.name, col.csv_dtype, col.levels) for col in spec.columns]
        else:
            self.columns = [(col, "float64", ()) for col in (columns or ())]
            self.columns[0] = (self.columns[0][0], "int64", ())
        self.rows = 0
        self._fh: BinaryIO | None = None
        self._pq: pq.ParquetWriter | None = None
        self._closed = False
        if fmt == "csv":
            self._fh = self.tmp.open("wb")
            self._fh.write((",".join(c for c, _, _ in self.columns) + "\n").encode())

    def _arrow(self, cols: Cols, csv: bool) -> list[pa.Array]:
        out = []
        for name, dtype, levels in self.columns:
            values = cols[name]
            if levels:
                codes = np.asarray(values, dtype=np.int64)
                lv = pa.array([_quote(x) for x in levels] if csv else list(levels), type=pa.string())
                arr = lv.take(pa.array(codes, mask=codes < 0))
            elif dtype == "int64":
                data = np.asarray(values, dtype=np.float64)
                if np.isnan(data).any():
                    raise AssertionError(f"{self.name}.{name} must not have missing values")
                arr = pa.array(data.astype(np.int64))
            else:
                data = np.asarray(values, dtype=np.float64)
                arr = pa.array(data, mask=np.isnan(data))
            if csv and not levels:
                text = pc.cast(arr, pa.string())
                if dtype != "int64":
                    text = pc.if_else(
                        pc.match_substring_regex(text, "[.en]"),
                        text,
                        pc.binary_join_element_wise(text, ".0", ""),
                    )
                arr = text
            out.append(arr)
        return out

    def write(self, cols: Cols) -> None:
        """Append the rows of ``cols`` (column name -> array) to the table."""
        n = len(next(iter(cols.values())))
        if n == 0:
            return
        if self._fh is not None:
            fields = self._arrow(cols, csv=True)
            line = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
            line = pc.binary_join_element_wise(line, "\n", "")
            offsets = np.frombuffer(line.buffers()[1], dtype=np.int32)[
                line.offset : line.offset + len(line) + 1
            ]
            data = line.buffers()[2]
            self._fh.write(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
        else:
            arrays = self._arrow(cols, csv=False)
            table = pa.table(arrays, names=[c for c, _, _ in self.columns])
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.tmp, table.schema)
            self._pq.write_table(table)
        self.rows += n

    def close(self) -> None:
        """Finish the temporary file (a second call does nothing)."""
        if self._closed:
            return
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self.fmt == "parquet" and self._pq is None:
            empty = pa.table(
                self._arrow({c: np.zeros(0) for c, _, _ in self.columns}, csv=False),
                names=[c for c, _, _ in self.columns],
            )
            self._pq = pq.ParquetWriter(self.tmp, empty.schema)
        if self._pq is not None:
            self._pq.close()
            self._pq = None
        self._closed = True

    def abort(self) -> None:
        """Close the temporary file, ignoring errors (after a failure, or once closed: no-op)."""
        with contextlib.suppress(Exception):
            self.close()


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def n_test_clients(n_clients: int) -> int:
    """Number of application_test clients generated alongside ``n_clients`` train clients."""
    return round(n_clients * REAL_TEST_ROWS / REAL_TRAIN_ROWS)


def _id_range(table: str, column: str) -> tuple[int, int]:
    q = load_profile()["tables"][table]["stats"][column]["quantiles"]
    return int(q["0"]), int(q["1"])


def _solve_intercept(logit: FArr, target: float) -> float:
    return solve_intercept(logit, target)


def _risk_groups(parts: dict[str, Cols], is_test: BArr) -> list[RiskGroup]:
    """The real curves' bins for every client (train and test in ID order)."""
    total = len(is_test)
    masks = (("application_train", ~is_test), ("application_test", is_test))
    numeric = {name: np.empty(total) for name in RAW_COLUMNS}
    levels: dict[str, npt.NDArray[Any]] = {name: np.empty(total, dtype=object) for name in LEVEL_CURVES}
    for table, mask in masks:
        for name, values in numeric.items():
            values[mask] = parts[table][name]
        for name, values in levels.items():
            lookup = np.array([*table_spec(table).column(name).levels, None], dtype=object)
            values[mask] = lookup[parts[table][name]]
    return risk_groups(numeric, levels)


def generate(
    out_dir: Path,
    n_clients: int,
    seed: int = 42,
    fmt: str = "csv",
    progress: ProgressReport | None = None,
) -> SynthSummary:
    """Write synthetic versions of the eight Home Credit tables and the true PDs to ``out_dir``.

    Args:
        out_dir: Folder to write to (created if needed). Each file is written under a temporary name
            and renamed into place at the end, so a crash never leaves a half-written table.
        n_clients: Clients in application_train; application_test gets
            ``round(n_clients * 48744 / 307511)`` more, with IDs interleaved in one range.
        seed: Random seed; the same seed and size give byte-identical files.
        fmt: ``csv`` (like the real data) or ``parquet``.
        progress: Called as the tables are written (the CLI draws it on stderr); None: silent.

    Returns:
        Paths, row counts and the default rate of what was written.

    Raises:
        DataError: If ``fmt`` is not a supported format or ``n_clients`` is not positive.
    """
    if fmt not in FORMATS:
        raise DataError(f"Unknown output format {fmt!r}: use 'csv' or 'parquet'.")
    if n_clients < 1:
        raise DataError(f"The number of clients must be at least 1, got {n_clients}.")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"Cannot create the output folder {out_dir}: {exc.strerror}.") from exc

    n_test = n_test_clients(n_clients)
    total = n_clients + n_test
    root = np.random.SeedSequence(seed)
    seq_app, seq_hist, seq_target = root.spawn(3)
    rng_app = np.random.default_rng(seq_app)
    rng_target = np.random.default_rng(seq_target)

    # Clients: IDs in one range, train and test interleaved at random.
    all_ids = FIRST_CLIENT_ID + np.arange(total, dtype=np.int64)
    is_test = np.zeros(total, dtype=bool)
    is_test[rng_app.choice(total, n_test, replace=False)] = True
    cw = rng_app.standard_normal(total)
    aff = rng_app.standard_normal(total)
    age = rng_app.standard_normal(total)
    bad = -(0.8 * cw + 0.6 * rng_app.standard_normal(total))
    parts: dict[str, Cols] = {}
    app_logit = np.zeros(total)
    for name, mask in (("application_train", ~is_test), ("application_test", is_test)):
        lat = _Clients(cw[mask], aff[mask], age[mask])
        cols = _applications(name, int(mask.sum()), lat, rng_app)
        cols["SK_ID_CURR"] = all_ids[mask].astype(np.float64)
        parts[name] = cols
        app_logit[mask] = _app_risk(name, cols)

    # Every file is written under a temporary name beside its target and put in place (fsync, rename)
    # only once all tables are complete; on any failure every temporary file is removed.
    writers: dict[str, _Writer] = {}
    paths: dict[str, Path] = {}
    with contextlib.ExitStack() as files:

        def open_writer(name: str, file_fmt: str, columns: Sequence[str] | None = None) -> _Writer:
            paths[name] = out_dir / f"{name}.{file_fmt}"
            writer = _Writer(files.enter_context(atomic_path(paths[name])), name, file_fmt, columns)
            files.callback(writer.abort)  # runs before its file is put in place or removed
            writers[name] = writer
            return writer

        for name in HISTORY_TABLES:
            open_writer(name, fmt)
        hist_logit = np.zeros(total)
        rows_per_client = {
            k: v / (REAL_TRAIN_ROWS + REAL_TEST_ROWS) for k, v in load_profile()["full_table_rows"].items()
        }
        bureau_ids = _IdRange(*_id_range("bureau", "SK_ID_BUREAU"), rows_per_client["bureau"] * total)
        prev_ids = _IdRange(
            *_id_range("previous_application", "SK_ID_PREV"), rows_per_client["previous_application"] * total
        )
        n_chunks = (total + CHUNK_CLIENTS - 1) // CHUNK_CLIENTS
        if progress is not None:
            progress("history tables", 0, n_chunks)
        for k, chunk_seed in enumerate(seq_hist.spawn(n_chunks)):
            rng = np.random.default_rng(chunk_seed)
            sl = slice(k * CHUNK_CLIENTS, min((k + 1) * CHUNK_CLIENTS, total))
            ch = _ChunkInput(all_ids[sl], bad[sl], aff[sl], age[sl])
            b, bb, g_b = _bureau(ch, bureau_ids, rng)
            p, pos, inst, cc, g_p = _previous(ch, prev_ids, rng)
            hist_logit[sl] = g_b + g_p
            for name, cols in (
                ("bureau", b),
                ("bureau_balance", bb),
                ("previous_application", p),
                ("POS_CASH_balance", pos),
                ("installments_payments", inst),
                ("credit_card_balance", cc),
            ):
                writers[name].write(cols)
            if progress is not None:
                progress("history tables", k + 1, n_chunks)

        # Target: hidden risk of observable columns, intercept solved for the real default rate.
        logit = RISK_SCALE * (app_logit + HISTORY_WEIGHT * hist_logit)
        real_rows = int(load_effects()["rows"])
        logit = rake(
            logit,
            [shrink_noise(group, real_rows) for group in _risk_groups(parts, is_test)],
            ~is_test,
            TARGET_DEFAULT_RATE,
            real_rate=float(load_effects()["default_rate"]),
        )
        intercept = _solve_intercept(logit[~is_test], TARGET_DEFAULT_RATE)
        true_pd = _sigmoid(logit + intercept)
        target = (rng_target.random(total) < true_pd).astype(np.float64)
        parts["application_train"]["TARGET"] = target[~is_test]
        for name in ("application_train", "application_test"):
            w = open_writer(name, fmt)
            cols = parts[name]
            nrows = len(cols["SK_ID_CURR"])
            for start in range(0, nrows, APP_BATCH):
                w.write({c: v[start : start + APP_BATCH] for c, v in cols.items()})
                if progress is not None:
                    progress(name, min(start + APP_BATCH, nrows), nrows)
        truth = open_writer("synth_truth", "csv", columns=("SK_ID_CURR", "TRUE_PD"))
        truth.write({"SK_ID_CURR": all_ids.astype(np.float64), "TRUE_PD": np.round(true_pd, 8)})
        for w in writers.values():
            w.close()
    rows = {name: w.rows for name, w in writers.items()}
    return SynthSummary(
        out_dir=out_dir,
        paths=paths,
        rows=rows,
        default_rate=float(target[~is_test].mean()),
        mean_true_pd=float(true_pd[~is_test].mean()),
        seed=seed,
    )
