"""Features: raw Home Credit tables -> one feature row per client.

Which features exist, their tables, kinds and labels are declared once in :mod:`trainer.registry`;
this module computes them. One code path serves training, batch scoring and the single-client what-if:

- :func:`application_features` works on a mapping of column -> numpy array, so the same arithmetic runs
  on a whole table (arrays of n values) and on one client (arrays of one value).
- :func:`history_features` aggregates every history table that is present into one row per client; it
  runs once when a data folder or portfolio is loaded.
- :func:`feature_matrix` and :func:`feature_row` assemble the model's input in the order a
  :class:`FeatureSpec` stores, encoding categories with the training levels (unseen -> missing).

Days are turned into years (``AGE_YEARS`` instead of ``DAYS_BIRTH``) so that explanations read in
human units; the 365243 placeholder becomes missing with a flag.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from trainer.config import DAYS_PLACEHOLDER
from trainer.errors import DataError
from trainer.registry import (
    APP_CATEGORICAL,
    APP_ENGINEERED,
    APP_INPUT_NUMERIC,
    APP_NUMERIC_PASSTHROUGH,
    BY_NAME,
    DOCUMENT_FLAGS,
    FEATURES_VERSION,
    HISTORY_COUNTS,
    HISTORY_FEATURES,
    HISTORY_KEYS,
)
from trainer.schema import table_spec
from trainer.table_files import history_tables_used

__all__ = [
    "APP_CATEGORICAL",
    "APP_ENGINEERED",
    "APP_INPUT_NUMERIC",
    "APP_NUMERIC_PASSTHROUGH",
    "FEATURES_VERSION",
    "HISTORY_COUNTS",
    "HISTORY_FEATURES",
    "FeatureSpec",
    "aggregate_history",
    "align_history",
    "application_features",
    "encode_category",
    "feature_matrix",
    "feature_row",
    "fit_feature_spec",
    "history_feature_names",
    "history_features",
    "history_input_columns",
    "history_record",
    "history_tables_used",
    "safe_divide",
]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

DAYS_PER_YEAR = 365.25


def safe_divide(numerator: Any, denominator: Any) -> FloatArray:
    """Divide element-wise; a zero or missing denominator gives a missing value, never inf."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=(den != 0) & ~np.isnan(den))
    return out


def _days_to_years(days: FloatArray) -> FloatArray:
    """Turn negative day counts (days before the application) into positive years."""
    return -days / DAYS_PER_YEAR


def application_features(cols: Mapping[str, Any]) -> dict[str, FloatArray]:
    """Compute the numeric application features from raw application columns.

    Args:
        cols: Column name -> numpy array (all of the same length) for every name in
            :data:`APP_INPUT_NUMERIC`. A one-client mapping holds arrays of length one.

    Returns:
        Feature name -> float64 array: :data:`APP_NUMERIC_PASSTHROUGH` then :data:`APP_ENGINEERED`.
    """
    col = {name: np.asarray(cols[name], dtype=np.float64) for name in APP_INPUT_NUMERIC}
    out = {name: col[name] for name in APP_NUMERIC_PASSTHROUGH}

    days_employed = col["DAYS_EMPLOYED"]
    placeholder = days_employed == DAYS_PLACEHOLDER
    employed_years = _days_to_years(np.where(placeholder, np.nan, days_employed))
    age_years = _days_to_years(col["DAYS_BIRTH"])
    ext = np.stack([col["EXT_SOURCE_1"], col["EXT_SOURCE_2"], col["EXT_SOURCE_3"]])
    n_ext = np.sum(~np.isnan(ext), axis=0)
    ext_sum = np.nansum(ext, axis=0)

    out["AGE_YEARS"] = age_years
    out["EMPLOYED_YEARS"] = employed_years
    out["DAYS_EMPLOYED_PLACEHOLDER"] = placeholder.astype(np.float64)
    out["REGISTRATION_YEARS"] = _days_to_years(col["DAYS_REGISTRATION"])
    out["ID_PUBLISH_YEARS"] = _days_to_years(col["DAYS_ID_PUBLISH"])
    out["PHONE_CHANGE_YEARS"] = _days_to_years(col["DAYS_LAST_PHONE_CHANGE"])
    out["CREDIT_INCOME_RATIO"] = safe_divide(col["AMT_CREDIT"], col["AMT_INCOME_TOTAL"])
    out["ANNUITY_INCOME_RATIO"] = safe_divide(col["AMT_ANNUITY"], col["AMT_INCOME_TOTAL"])
    out["ANNUITY_CREDIT_RATIO"] = safe_divide(col["AMT_ANNUITY"], col["AMT_CREDIT"])
    out["CREDIT_TERM_MONTHS"] = safe_divide(col["AMT_CREDIT"], col["AMT_ANNUITY"])
    out["GOODS_CREDIT_RATIO"] = safe_divide(col["AMT_GOODS_PRICE"], col["AMT_CREDIT"])
    out["EMPLOYED_AGE_RATIO"] = safe_divide(employed_years, age_years)
    out["INCOME_PER_PERSON"] = safe_divide(col["AMT_INCOME_TOTAL"], col["CNT_FAM_MEMBERS"])
    out["EXT_SOURCE_MEAN"] = safe_divide(ext_sum, n_ext)
    out["EXT_SOURCE_MIN"] = np.where(n_ext > 0, np.min(np.where(np.isnan(ext), np.inf, ext), axis=0), np.nan)
    out["EXT_SOURCE_MAX"] = np.where(n_ext > 0, np.max(np.where(np.isnan(ext), -np.inf, ext), axis=0), np.nan)
    out["EXT_SOURCE_PROD"] = ext[0] * ext[1] * ext[2]
    out["DOCUMENT_COUNT"] = np.nansum(np.stack([col[f] for f in DOCUMENT_FLAGS]), axis=0)
    return out


# --------------------------------------------------------------------------------------------------
# History tables
# --------------------------------------------------------------------------------------------------

_RECENT_DAYS = -365
_RECENT_MONTHS = -12


class _Groups:
    """Per-key reductions over one table with ``np.bincount``: no wide temporary frames.

    Missing values are skipped like pandas' groupby does: sums treat them as 0, means and maxima ignore
    them (a group with no value gets NaN).
    """

    def __init__(self, keys: Any) -> None:
        codes, uniques = pd.factorize(np.asarray(keys, dtype=np.int64), sort=True)
        self.codes = codes
        self.index = pd.Index(np.asarray(uniques, dtype=np.int64), name="SK_ID_CURR")
        self.size = len(uniques)

    def count(self) -> FloatArray:
        return np.bincount(self.codes, minlength=self.size).astype(np.float64)

    def sum(self, values: Any) -> FloatArray:
        weights = np.nan_to_num(np.asarray(values, dtype=np.float64))
        return np.bincount(self.codes, weights=weights, minlength=self.size).astype(np.float64)

    def mean(self, values: Any) -> FloatArray:
        values = np.asarray(values, dtype=np.float64)
        known = ~np.isnan(values)
        return safe_divide(self.sum(values), np.bincount(self.codes[known], minlength=self.size))

    def max(self, values: Any) -> FloatArray:
        out = np.full(self.size, -np.inf)
        np.fmax.at(out, self.codes, np.asarray(values, dtype=np.float64))
        return np.where(np.isneginf(out), np.nan, out)


def _num(frame: pd.DataFrame, column: str) -> FloatArray:
    return frame[column].to_numpy(dtype=np.float64, na_value=np.nan)


def _is(frame: pd.DataFrame, column: str, *levels: str) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """True where a category column holds one of ``levels`` (missing counts as False)."""
    return frame[column].astype("string").isin(levels).to_numpy(dtype=bool, na_value=False)


def bureau_features(bureau: pd.DataFrame, bureau_balance: pd.DataFrame | None) -> pd.DataFrame:
    """Aggregate the credit bureau's records (and their monthly balances) per client."""
    g = _Groups(bureau["SK_ID_CURR"])
    active = _is(bureau, "CREDIT_ACTIVE", "Active")
    days_credit = _num(bureau, "DAYS_CREDIT")
    active_debt = g.sum(np.where(active, np.nan_to_num(_num(bureau, "AMT_CREDIT_SUM_DEBT")), 0.0))
    active_credit = g.sum(np.where(active, np.nan_to_num(_num(bureau, "AMT_CREDIT_SUM")), 0.0))
    out = pd.DataFrame(
        {
            "BUREAU_COUNT": g.count(),
            "BUREAU_ACTIVE_COUNT": g.sum(active),
            "BUREAU_CLOSED_COUNT": g.sum(_is(bureau, "CREDIT_ACTIVE", "Closed")),
            "BUREAU_BAD_DEBT_COUNT": g.sum(_is(bureau, "CREDIT_ACTIVE", "Bad debt", "Sold")),
            "BUREAU_RECENT_COUNT": g.sum(days_credit > _RECENT_DAYS),
            "BUREAU_ACTIVE_DEBT": active_debt,
            "BUREAU_ACTIVE_CREDIT": active_credit,
            "BUREAU_OVERDUE_SUM": g.sum(_num(bureau, "AMT_CREDIT_SUM_OVERDUE")),
            "BUREAU_PROLONG_COUNT": g.sum(_num(bureau, "CNT_CREDIT_PROLONG")),
            "BUREAU_MAX_DAYS_OVERDUE": g.max(_num(bureau, "CREDIT_DAY_OVERDUE")),
            "BUREAU_MAX_OVERDUE_AMOUNT": g.max(_num(bureau, "AMT_CREDIT_MAX_OVERDUE")),
            "BUREAU_DEBT_CREDIT_RATIO": safe_divide(active_debt, active_credit),
            "BUREAU_YEARS_SINCE_LAST_CREDIT": _days_to_years(g.max(days_credit)),
        },
        index=g.index,
    )
    if bureau_balance is not None:
        out = out.join(_bureau_balance_features(bureau, bureau_balance))
    return out


def _bureau_balance_features(bureau: pd.DataFrame, bureau_balance: pd.DataFrame) -> pd.DataFrame:
    """Monthly statuses of bureau credits: months known and share of months past due (status 1-5)."""
    owners = pd.Series(bureau["SK_ID_CURR"].to_numpy(dtype=np.int64), index=bureau["SK_ID_BUREAU"].to_numpy())
    owner = owners.reindex(bureau_balance["SK_ID_BUREAU"].to_numpy()).to_numpy()
    linked = ~np.isnan(owner)
    late = _is(bureau_balance, "STATUS", "1", "2", "3", "4", "5")[linked]
    g = _Groups(owner[linked])
    months = g.count()
    return pd.DataFrame(
        {"BUREAU_BALANCE_MONTHS": months, "BUREAU_BALANCE_LATE_SHARE": safe_divide(g.sum(late), months)},
        index=g.index,
    )


def previous_features(previous: pd.DataFrame) -> pd.DataFrame:
    """Aggregate the client's previous applications at Home Credit."""
    g = _Groups(previous["SK_ID_CURR"])
    refused = _is(previous, "NAME_CONTRACT_STATUS", "Refused")
    days = _num(previous, "DAYS_DECISION")
    count = g.count()
    refused_count = g.sum(refused)
    return pd.DataFrame(
        {
            "PREV_COUNT": count,
            "PREV_APPROVED_COUNT": g.sum(_is(previous, "NAME_CONTRACT_STATUS", "Approved")),
            "PREV_REFUSED_COUNT": refused_count,
            "PREV_RECENT_REFUSED_COUNT": g.sum(refused & (days > _RECENT_DAYS)),
            "PREV_CREDIT_APPLICATION_RATIO": g.mean(
                safe_divide(_num(previous, "AMT_CREDIT"), _num(previous, "AMT_APPLICATION"))
            ),
            "PREV_AMT_CREDIT_MEAN": g.mean(_num(previous, "AMT_CREDIT")),
            "PREV_REFUSED_SHARE": safe_divide(refused_count, count),
            "PREV_YEARS_SINCE_LAST_DECISION": _days_to_years(g.max(days)),
        },
        index=g.index,
    )


def installments_features(installments: pd.DataFrame) -> pd.DataFrame:
    """Aggregate repayments of previous credits: lateness and underpayment."""
    g = _Groups(installments["SK_ID_CURR"])
    due = _num(installments, "DAYS_INSTALMENT")
    paid = _num(installments, "DAYS_ENTRY_PAYMENT")
    days_late = np.clip(paid - due, 0.0, None)
    late = paid > due
    recent = due > _RECENT_DAYS
    count = g.count()
    underpaid = _num(installments, "AMT_PAYMENT") < _num(installments, "AMT_INSTALMENT") - 0.01
    return pd.DataFrame(
        {
            "INST_COUNT": count,
            "INST_LATE_SHARE": safe_divide(g.sum(late), count),
            "INST_DAYS_LATE_MEAN": safe_divide(g.sum(days_late), count),
            "INST_DAYS_LATE_MAX": g.max(days_late),
            "INST_UNDERPAID_SHARE": safe_divide(g.sum(underpaid), count),
            "INST_PAYMENT_RATIO": safe_divide(
                g.sum(_num(installments, "AMT_PAYMENT")), g.sum(_num(installments, "AMT_INSTALMENT"))
            ),
            "INST_RECENT_LATE_SHARE": safe_divide(g.sum(late & recent), g.sum(recent)),
        },
        index=g.index,
    )


def pos_cash_features(pos: pd.DataFrame) -> pd.DataFrame:
    """Aggregate monthly balances of point-of-sale and cash loans: days past due."""
    g = _Groups(pos["SK_ID_CURR"])
    dpd = np.nan_to_num(_num(pos, "SK_DPD"))
    recent = _num(pos, "MONTHS_BALANCE") >= _RECENT_MONTHS
    count = g.count()
    return pd.DataFrame(
        {
            "POS_MONTHS": count,
            "POS_DPD_MAX": g.max(dpd),
            "POS_DPD_DEF_MAX": g.max(np.nan_to_num(_num(pos, "SK_DPD_DEF"))),
            "POS_RECENT_DPD_MAX": g.max(np.where(recent, dpd, 0.0)),
            "POS_DPD_MEAN": safe_divide(g.sum(dpd), count),
            "POS_LATE_SHARE": safe_divide(g.sum(dpd > 0), count),
        },
        index=g.index,
    )


def credit_card_features(cards: pd.DataFrame) -> pd.DataFrame:
    """Aggregate monthly credit card balances: utilisation (overall, recent, active cards) and lateness."""
    g = _Groups(cards["SK_ID_CURR"])
    utilisation = safe_divide(_num(cards, "AMT_BALANCE"), _num(cards, "AMT_CREDIT_LIMIT_ACTUAL"))
    months = _num(cards, "MONTHS_BALANCE")
    dpd = np.nan_to_num(_num(cards, "SK_DPD"))
    count = g.count()
    # Utilisation of each card at its latest month, averaged over the cards still active then.
    order = np.lexsort((months, cards["SK_ID_PREV"].to_numpy()))
    card_ids = cards["SK_ID_PREV"].to_numpy()[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = card_ids[1:] != card_ids[:-1]
    latest = order[last]
    latest = latest[_is(cards, "NAME_CONTRACT_STATUS", "Active")[latest]]
    active = _Groups(cards["SK_ID_CURR"].to_numpy()[latest])
    active_utilisation = pd.Series(active.mean(utilisation[latest]), index=active.index)
    return pd.DataFrame(
        {
            "CC_MONTHS": count,
            "CC_UTILISATION_MAX": g.max(utilisation),
            "CC_DPD_MAX": g.max(dpd),
            "CC_UTILISATION_MEAN": g.mean(utilisation),
            "CC_RECENT_UTILISATION": g.mean(np.where(months >= -6, utilisation, np.nan)),
            "CC_LATE_SHARE": safe_divide(g.sum(dpd > 0), count),
            "CC_DRAWINGS_MEAN": g.mean(_num(cards, "AMT_DRAWINGS_CURRENT")),
            "CC_ACTIVE_UTILISATION": active_utilisation.reindex(g.index).to_numpy(),
        },
        index=g.index,
    )


@cache
def history_input_columns(table: str) -> tuple[str, ...]:
    """Raw columns history ``table`` is read with (so large files are read column-pruned).

    Derived from the registry: the table's identifiers (:data:`~trainer.registry.HISTORY_KEYS`) and
    the ``inputs`` of its feature records, in the file's column order.
    """
    needed = set(HISTORY_KEYS[table]).union(*(BY_NAME[name].inputs for name in HISTORY_FEATURES[table]))
    return tuple(c for c in table_spec(table).column_names if c in needed)


#: Reads one history table: (table name, columns) -> raw frame.
TableReader = Callable[[str, Sequence[str]], pd.DataFrame]


def history_feature_names(tables: Iterable[str]) -> list[str]:
    """Return the history feature names produced by ``tables``, in model order."""
    chosen = set(tables)
    return [name for table, names in HISTORY_FEATURES.items() if table in chosen for name in names]


def aggregate_history(
    read: TableReader, available: Collection[str], client_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Aggregate history tables with pandas/numpy, one at a time: the reference of the DuckDB queries.

    The application aggregates on DuckDB (:mod:`trainer.history_sql`); this path stays so that a test
    can check every DuckDB aggregate against it.

    Args:
        read: Returns a raw table given its name and the columns to read (e.g. from a folder).
        available: Names of the history tables that can be read.
        client_ids: When given, the result has exactly these clients (in this order): clients without
            rows in a present table get zero counts and missing rates.

    Returns:
        A float64 frame indexed by SK_ID_CURR with the columns of
        ``history_feature_names(history_tables_used(available))``.
    """
    used = history_tables_used(available)
    parts: list[pd.DataFrame] = []
    if "bureau" in used:
        bureau = read("bureau", history_input_columns("bureau"))
        balance = None
        if "bureau_balance" in used:
            balance = read("bureau_balance", history_input_columns("bureau_balance"))
        parts.append(bureau_features(bureau, balance))
        del bureau, balance
    single: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
        "previous_application": previous_features,
        "installments_payments": installments_features,
        "POS_CASH_balance": pos_cash_features,
        "credit_card_balance": credit_card_features,
    }
    for name, aggregate in single.items():
        if name in used:
            parts.append(aggregate(read(name, history_input_columns(name))))
    if parts:
        frame = pd.concat(parts, axis=1, join="outer", sort=True)
    else:
        frame = pd.DataFrame(index=pd.Index([], dtype=np.int64, name="SK_ID_CURR"))
    return align_history(frame, used, client_ids)


def align_history(
    frame: pd.DataFrame, tables: Sequence[str], client_ids: Sequence[int] | np.ndarray[Any, Any] | None
) -> pd.DataFrame:
    """Give aggregated history exactly the feature columns of ``tables`` and, if asked, these clients.

    Clients absent from the aggregates get zero counts and missing rates.
    """
    names = history_feature_names(tables)
    rows = None if client_ids is None else pd.Index(np.asarray(client_ids, dtype=np.int64), name="SK_ID_CURR")
    frame = frame.reindex(index=rows, columns=names).astype(np.float64)  # copy-on-write: one copy at most
    for name in names:
        if name in HISTORY_COUNTS:
            frame[name] = frame[name].fillna(0.0)
    frame.index.name = "SK_ID_CURR"
    return frame


def history_features(
    history: Mapping[str, pd.DataFrame], client_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Aggregate history tables already in memory into one row per client, on DuckDB.

    See :func:`trainer.history_sql.aggregate_sources` (which also reads files); :func:`aggregate_history`
    is the pandas reference a test compares it with.

    Args:
        history: Table name -> raw table, for the history tables that are present (any subset).
        client_ids: When given, the result has exactly these clients, in this order.
    """
    from trainer.history_sql import aggregate_sources

    return aggregate_sources(history, client_ids)


# --------------------------------------------------------------------------------------------------
# Assembling the model's input
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureSpec:
    """The model's input: ordered feature names, which are categories, and their training levels.

    Attributes:
        names: Feature names in the booster's order.
        categories: Categorical feature name -> levels seen in training (code = position).
        history_tables: History tables the features were computed from.
    """

    names: tuple[str, ...]
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    history_tables: tuple[str, ...] = ()

    @property
    def feature_types(self) -> list[str]:
        """XGBoost feature types: ``c`` for categories, ``q`` for numbers."""
        return ["c" if name in self.categories else "q" for name in self.names]

    def to_dict(self) -> dict[str, Any]:
        """Serialise for the bundle manifest."""
        return {
            "features": [
                {"name": n, "dtype": "category", "levels": list(self.categories[n])}
                if n in self.categories
                else {"name": n, "dtype": "float"}
                for n in self.names
            ],
            "history_tables": list(self.history_tables),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        """Rebuild a spec written by :meth:`to_dict`."""
        names = tuple(str(f["name"]) for f in data["features"])
        categories = {
            str(f["name"]): tuple(f["levels"]) for f in data["features"] if f["dtype"] == "category"
        }
        return cls(names, categories, tuple(data.get("history_tables", ())))


def fit_feature_spec(
    applications: pd.DataFrame, history_tables: Sequence[str], allow_protected: Collection[str] = ()
) -> FeatureSpec:
    """Choose the features and learn category levels (by frequency, then name) from training rows.

    Protected attributes (:func:`trainer.policy.is_protected`) are left out unless named in
    ``allow_protected`` (analysis only: such a bundle is not for client decisions).
    """
    from trainer.policy import is_protected

    def used(name: str) -> bool:
        return not is_protected(name) or name in allow_protected

    categories: dict[str, tuple[str, ...]] = {}
    for name in filter(used, APP_CATEGORICAL):
        counts = applications[name].astype("string").value_counts(dropna=True)
        ordered = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
        categories[name] = tuple(str(level) for level, _ in ordered)
    names = tuple(
        filter(
            used,
            (
                *APP_NUMERIC_PASSTHROUGH,
                *APP_ENGINEERED,
                *APP_CATEGORICAL,
                *history_feature_names(history_tables),
            ),
        )
    )
    return FeatureSpec(names, categories, tuple(history_tables))


@cache
def _level_index(levels: tuple[str, ...]) -> pd.Index:
    """The training levels as an index, built once per level list (a portfolio is scored in chunks)."""
    return pd.Index(list(levels), dtype=object)


def encode_category(values: Any, levels: Sequence[str]) -> FloatArray:
    """Encode category values as their position in ``levels``; missing or unseen values become NaN.

    ``values`` may be anything array-like; a pandas categorical (how text columns are read) is encoded
    through its few categories and its codes, without building one Python object per row.
    """
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        categorical = pd.Categorical(values)
        # position of each category in ``levels`` (-1: unseen), then -1 appended for missing (code -1)
        lookup = _level_index(tuple(levels)).get_indexer(categorical.categories.astype(object))
        positions = np.append(lookup, -1)[categorical.codes]
        return np.where(positions < 0, np.nan, positions).astype(np.float64)
    array = np.asarray(values, dtype=object)
    if array.size == 1:
        index = {level: float(i) for i, level in enumerate(levels)}
        value = array.reshape(-1)[0]
        code = index.get(value, np.nan) if isinstance(value, str) else np.nan
        return np.full(array.shape, code, dtype=np.float64)
    codes = pd.Index(list(levels), dtype=object).get_indexer(pd.Index(array.reshape(-1))).reshape(array.shape)
    return np.where(codes < 0, np.nan, codes).astype(np.float64)


def _assemble(
    numeric: Mapping[str, FloatArray],
    raw_categories: Mapping[str, Any],
    history: Mapping[str, FloatArray],
    spec: FeatureSpec,
    n_rows: int,
) -> np.ndarray[Any, np.dtype[np.float32]]:
    matrix = np.empty((n_rows, len(spec.names)), dtype=np.float32)
    with np.errstate(over="ignore"):  # an overflow becomes inf, which refuse_non_finite names
        for j, name in enumerate(spec.names):
            if name in spec.categories:
                matrix[:, j] = encode_category(raw_categories[name], spec.categories[name])
            elif name in numeric:
                matrix[:, j] = numeric[name]
            else:
                matrix[:, j] = history.get(name, np.nan)
    return matrix


def feature_matrix(
    applications: pd.DataFrame, history: pd.DataFrame | None, spec: FeatureSpec
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Build the model input for many clients.

    Args:
        applications: Raw application rows (train, test or a clients file).
        history: Output of :func:`history_features` (any clients, any order) or None when no history
            tables are available: history features are then missing.
        spec: The bundle's feature spec.

    Returns:
        A float32 matrix, one row per application row, columns in ``spec.names`` order.
    """
    cols = {
        name: applications[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in APP_INPUT_NUMERIC
    }
    numeric = application_features(cols)
    raw_categories = {name: applications[name] for name in spec.categories}
    hist_cols: dict[str, FloatArray] = {}
    if history is not None:
        aligned = history.reindex(pd.Index(applications["SK_ID_CURR"].to_numpy(dtype=np.int64)))
        for name in history.columns:
            values = aligned[name].to_numpy(dtype=np.float64, na_value=np.nan)
            if name in HISTORY_COUNTS:
                values = np.nan_to_num(values)
            hist_cols[name] = values
    matrix = _assemble(numeric, raw_categories, hist_cols, spec, len(applications))
    refuse_non_finite(matrix, applications["SK_ID_CURR"].to_numpy(), spec)
    return matrix


class RowBuilder:
    """Builds one client's model input straight into a float32 row, without pandas.

    The positions of the features in ``spec`` and the category level indexes are worked out once, so
    the advisor app's single-client path costs only the arithmetic of :func:`application_features`
    (the same function the batch path uses) and one small array.
    """

    def __init__(self, spec: FeatureSpec) -> None:
        self.spec = spec
        self._width = len(spec.names)
        numeric = set(APP_NUMERIC_PASSTHROUGH) | set(APP_ENGINEERED)
        self._numeric: list[tuple[int, str]] = []
        self._categories: list[tuple[int, str, dict[str, float]]] = []
        self._history: list[tuple[int, str]] = []
        for j, name in enumerate(spec.names):
            if name in spec.categories:
                index = {level: float(i) for i, level in enumerate(spec.categories[name])}
                self._categories.append((j, name, index))
            elif name in numeric:
                self._numeric.append((j, name))
            else:
                self._history.append((j, name))

    def build(
        self, application: Mapping[str, Any], history: Mapping[str, float] | None
    ) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The model input of one client (see :func:`feature_row`): a float32 matrix of shape (1, n)."""
        raw = np.array([_to_float(application.get(name)) for name in APP_INPUT_NUMERIC], dtype=np.float64)
        numeric = application_features(dict(zip(APP_INPUT_NUMERIC, raw[:, None], strict=True)))
        values = [math.nan] * self._width
        for j, name in self._numeric:
            values[j] = float(numeric[name][0])
        for j, name, index in self._categories:
            value = application.get(name)
            values[j] = index.get(value, math.nan) if isinstance(value, str) else math.nan
        known = history or {}
        for j, name in self._history:
            values[j] = float(known.get(name, math.nan))
        return np.array([values], dtype=np.float32)


def feature_row(
    application: Mapping[str, Any], history: Mapping[str, float] | None, spec: FeatureSpec
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Build the model input for one client straight from a raw application record.

    Same arithmetic as :func:`feature_matrix` (the same :func:`application_features`), without pandas;
    a caller scoring many single clients keeps one :class:`RowBuilder` instead.

    Args:
        application: Raw column -> value for one client (missing values as None or NaN).
        history: The client's row of :func:`history_features` as a mapping, or None.
        spec: The bundle's feature spec.

    Returns:
        A float32 matrix of shape (1, n_features).
    """
    matrix = RowBuilder(spec).build(application, history)
    refuse_non_finite(matrix, [application.get("SK_ID_CURR", "?")], spec)
    return matrix


def refuse_non_finite(matrix: np.ndarray[Any, Any], ids: Any, spec: FeatureSpec) -> None:
    """Refuse a model input holding an infinite value (an input such as 1e308 overflowed float32).

    Missing values (NaN) are fine: the model handles them. An infinite one would be scored by
    ``inplace_predict`` but not explained (XGBoost's DMatrix refuses it), and fitting on it fails, so
    every path that builds features (fit, compare, evaluate, score, explain, what-if) names the client.

    Raises:
        DataError: Naming the first such client and feature.
    """
    infinite = np.isinf(matrix)
    if not infinite.any():
        return
    row, col = (int(i) for i in np.argwhere(infinite)[0])
    raise DataError(
        f"Client {ids[row]} cannot be scored: its model input {spec.names[col]} is not a finite number "
        "(an amount or count in its row is far too large); fix that client's values."
    )


def history_record(history: pd.DataFrame | None, client_id: int) -> dict[str, float] | None:
    """Return one client's history features as :func:`feature_row` expects them.

    A client absent from ``history`` gets zero counts and missing rates, exactly as
    :func:`feature_matrix` treats it; None when there is no history at all.
    """
    if history is None:
        return None
    if client_id in history.index:
        row = history.loc[client_id].to_numpy(dtype=np.float64)
        return {str(name): float(value) for name, value in zip(history.columns, row, strict=True)}
    return {name: (0.0 if name in HISTORY_COUNTS else float("nan")) for name in history.columns}


def _to_float(value: Any) -> float:
    if value is None or value is pd.NA:
        return float("nan")
    return float(value)
