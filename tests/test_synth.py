"""Tests of the synthetic Home Credit generator against the packaged profile of the real data."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trainer.errors import DataError
from trainer.schema import ID_COLUMNS, TABLE_NAMES, load_profile, table_spec
from trainer.synth import CASH_PRODUCTS, SPECIAL_DAYS, SynthSummary, generate, n_test_clients
from trainer.synth_check import (
    MIN_TOP10_OVERLAP,
    CurveCheck,
    check_synthetic,
    compare_curves,
    cross_validated_aucs,
    curve_rows,
    real_top10,
)
from trainer.synth_effects import DECILE_CURVES, TWO_WAY, RiskGroup, load_effects, rake, shrink_noise

N_CLIENTS = 6000
SEED = 7
#: Quantile tolerance stated in trainer/synth.py: 10 % of the profile's 5-95 % range.
QUANTILE_TOL = 0.10
RATE_TOL = 0.03
#: ... or, in sparse tails, within 4 percentile points in rank (also stated in trainer/synth.py).
RANK_TOL = 0.04
#: Columns with fewer non-missing values than this (e.g. RATE_INTEREST_* at 99.5 % missing) are too
#: small a sample to compare quantiles; their missing rate is still checked.
MIN_VALUES = 300
QUANTILES = ("0.05", "0.25", "0.5", "0.75", "0.95")


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    out = tmp_path_factory.mktemp("synth")
    summary = generate(out, N_CLIENTS, seed=SEED)
    return out, summary


@pytest.fixture(scope="module")
def tables(synth: tuple[Path, SynthSummary]) -> dict[str, pd.DataFrame]:
    out, _ = synth
    return {name: pd.read_csv(out / f"{name}.csv") for name in TABLE_NAMES}


def _stats(table: str) -> dict[str, Any]:
    stats: dict[str, Any] = load_profile()["tables"][table]["stats"]
    return stats


def _columns(table: str) -> list[str]:
    return table_spec(table).column_names


# ---------------------------------------------------------------- schema and marginals, column by column


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_columns_and_order_match_profile(tables: dict[str, pd.DataFrame], table: str) -> None:
    assert list(tables[table].columns) == load_profile()["tables"][table]["columns"]


@pytest.mark.parametrize(
    ("table", "column"), [(t, c) for t in TABLE_NAMES for c in load_profile()["tables"][t]["columns"]]
)
def test_column_matches_profile(tables: dict[str, pd.DataFrame], table: str, column: str) -> None:
    stats = _stats(table)[column]
    series = tables[table][column]
    inferred = "str" if series.dtype == object or pd.api.types.is_string_dtype(series) else str(series.dtype)
    assert inferred == stats["csv_dtype"], f"{table}.{column}: dtype {inferred} != {stats['csv_dtype']}"
    missing = float(series.isna().mean())
    assert abs(missing - stats["missing"]) <= RATE_TOL, f"{table}.{column}: missing {missing:.3f}"
    if stats["kind"] == "category":
        freq = series.dropna().value_counts(normalize=True)
        for level, share in stats["levels"].items():
            if share >= 0.03:
                got = float(freq.get(level, 0.0))
                assert abs(got - share) <= RATE_TOL, f"{table}.{column}={level}: {got:.3f} vs {share:.3f}"
        assert set(freq.index) <= set(table_spec(table).column(column).levels)
        return
    values = series.dropna().to_numpy(dtype=float)
    q = stats["quantiles"]
    if column in ID_COLUMNS:
        # Keys: the table's own key lies in the real range; foreign keys are checked by the join test.
        if table_spec(table).key == column:
            assert values.min() >= q["0"] and values.max() <= q["1"] * 1.01, f"{table}.{column} out of range"
        return
    if len(values) < MIN_VALUES:
        return
    tol = QUANTILE_TOL * (q["0.95"] - q["0.05"])
    if stats["kind"] == "int":
        tol = max(tol, 1.0)
    for level in QUANTILES:
        got = float(np.quantile(values, float(level)))
        if abs(got - q[level]) <= tol + 1e-9:
            continue
        # Sparse tails: accept when the profile's quantile sits within RANK_TOL of the level in the
        # synthetic distribution (the value tolerance alone is tighter than sampling noise there).
        below, at_or_below = float(np.mean(values < q[level])), float(np.mean(values <= q[level]))
        p = float(level)
        assert below <= p + RANK_TOL and at_or_below >= p - RANK_TOL, (
            f"{table}.{column} q{level}: {got} vs {q[level]} (tol {tol}; rank {below:.3f}-{at_or_below:.3f})"
        )


def test_float_columns_are_written_with_a_decimal_point(synth: tuple[Path, SynthSummary]) -> None:
    out, _ = synth
    with (out / "application_train.csv").open(newline="") as fh:
        reader = csv.reader(fh)
        header, first = next(reader), next(reader)
    row = dict(zip(header, first, strict=True))
    assert "." in row["AMT_INCOME_TOTAL"]
    assert "." not in row["SK_ID_CURR"]
    assert "." not in row["DAYS_BIRTH"]


# ---------------------------------------------------------------- application consistency


def test_row_counts_and_ids(tables: dict[str, pd.DataFrame], synth: tuple[Path, SynthSummary]) -> None:
    train, test = tables["application_train"], tables["application_test"]
    assert len(train) == N_CLIENTS
    assert len(test) == n_test_clients(N_CLIENTS) == round(N_CLIENTS * 48744 / 307511)
    assert "TARGET" not in test.columns
    ids_train, ids_test = set(train["SK_ID_CURR"]), set(test["SK_ID_CURR"])
    assert not ids_train & ids_test
    assert train["SK_ID_CURR"].is_unique and test["SK_ID_CURR"].is_unique
    all_ids = np.sort(np.array(sorted(ids_train | ids_test)))
    assert all_ids[0] >= 100002
    # Train and test IDs interleave in one range.
    assert test["SK_ID_CURR"].min() < train["SK_ID_CURR"].median() < test["SK_ID_CURR"].max()
    _, summary = synth
    assert summary.rows["application_train"] == N_CLIENTS
    assert summary.rows["bureau"] == len(tables["bureau"])


def test_application_consistency(tables: dict[str, pd.DataFrame]) -> None:
    for name in ("application_train", "application_test"):
        a = tables[name]
        assert (a["CNT_FAM_MEMBERS"] >= a["CNT_CHILDREN"] + 1).all()
        assert a.loc[a["FLAG_OWN_CAR"] == "N", "OWN_CAR_AGE"].isna().all()
        special = a["DAYS_EMPLOYED"] == SPECIAL_DAYS
        assert special.mean() > 0.1
        assert (a.loc[special, "ORGANIZATION_TYPE"] == "XNA").all()
        assert (a.loc[special, "FLAG_EMP_PHONE"] == 0).all()
        assert a.loc[special, "OCCUPATION_TYPE"].isna().all()
        assert a.loc[special, "NAME_INCOME_TYPE"].isin(["Pensioner", "Unemployed"]).all()
        assert (a.loc[~special, "ORGANIZATION_TYPE"] != "XNA").all()
        worker = a.loc[~special]
        assert (worker["DAYS_EMPLOYED"] < 0).all()
        assert (worker["DAYS_EMPLOYED"] >= worker["DAYS_BIRTH"] + 14 * 365).all()
        for col in ("DAYS_BIRTH", "DAYS_REGISTRATION", "DAYS_ID_PUBLISH", "DAYS_LAST_PHONE_CHANGE"):
            assert (a[col] <= 0).all(), col
        assert (a["DEF_30_CNT_SOCIAL_CIRCLE"].fillna(0) <= a["OBS_30_CNT_SOCIAL_CIRCLE"].fillna(0)).all()
        assert (a["DEF_60_CNT_SOCIAL_CIRCLE"].fillna(0) <= a["OBS_60_CNT_SOCIAL_CIRCLE"].fillna(0)).all()


def test_amounts_are_consistent(tables: dict[str, pd.DataFrame]) -> None:
    a = tables["application_train"]
    cash = a[a["NAME_CONTRACT_TYPE"] == "Cash loans"]
    ratio = cash["AMT_ANNUITY"] / cash["AMT_CREDIT"]
    # Annuity of a 6-60 month loan at 0.9-2.2 % a month.
    assert ratio.between(0.018, 0.19).all()
    goods = a["AMT_GOODS_PRICE"]
    assert (goods.dropna() <= a.loc[goods.notna(), "AMT_CREDIT"] * 1.2).all()
    assert (goods.dropna() <= a.loc[goods.notna(), "AMT_CREDIT"]).mean() > 0.9
    assert a["AMT_CREDIT"].corr(goods, method="spearman") > 0.95
    assert a["AMT_CREDIT"].corr(a["AMT_ANNUITY"], method="spearman") > 0.7
    assert a["AMT_INCOME_TOTAL"].corr(a["AMT_CREDIT"], method="spearman") > 0.25
    assert a["DAYS_BIRTH"].corr(a["EXT_SOURCE_1"], method="spearman") < -0.45
    rev = a[a["NAME_CONTRACT_TYPE"] == "Revolving loans"]
    assert len(rev) > 0
    assert (rev["AMT_ANNUITY"] / rev["AMT_CREDIT"]).isin([0.05, 0.1]).mean() > 0.9
    if goods.isna().any():
        assert (a.loc[goods.isna(), "NAME_CONTRACT_TYPE"] == "Revolving loans").all()


def test_housing_block_is_missing_together(tables: dict[str, pd.DataFrame]) -> None:
    a = tables["application_train"]
    housing = [c for c in a.columns if c.endswith(("_AVG", "_MODE", "_MEDI"))]
    present = a[housing].notna()
    all_missing = ~present.any(axis=1)
    # The block is absent together for roughly the profile's lowest housing missing rate (~48 %).
    assert 0.40 < all_missing.mean() < 0.56
    assert present.loc[~all_missing, "YEARS_BEGINEXPLUATATION_AVG"].mean() > 0.9
    for measure in ("APARTMENTS", "LIVINGAREA", "FLOORSMAX"):
        trio = a[[f"{measure}_AVG", f"{measure}_MODE", f"{measure}_MEDI"]]
        assert (trio.isna().nunique(axis=1) == 1).all()
        assert trio.dropna().corr(method="spearman").min().min() > 0.9


# ---------------------------------------------------------------- history tables


def test_history_keys_join(tables: dict[str, pd.DataFrame]) -> None:
    clients = set(tables["application_train"]["SK_ID_CURR"]) | set(tables["application_test"]["SK_ID_CURR"])
    bureau, prev = tables["bureau"], tables["previous_application"]
    assert set(bureau["SK_ID_CURR"]) <= clients
    assert set(prev["SK_ID_CURR"]) <= clients
    assert bureau["SK_ID_BUREAU"].is_unique and prev["SK_ID_PREV"].is_unique
    assert set(tables["bureau_balance"]["SK_ID_BUREAU"]) <= set(bureau["SK_ID_BUREAU"])
    pairs = set(zip(prev["SK_ID_PREV"], prev["SK_ID_CURR"], strict=True))
    for name in ("POS_CASH_balance", "installments_payments", "credit_card_balance"):
        t = tables[name]
        assert set(zip(t["SK_ID_PREV"], t["SK_ID_CURR"], strict=True)) <= pairs, name
    # Some clients have no bureau record and some no previous application, like the real data.
    assert 0.05 < 1 - len(set(bureau["SK_ID_CURR"])) / len(clients) < 0.25
    assert 0.01 < 1 - len(set(prev["SK_ID_CURR"])) / len(clients) < 0.12


def test_history_rows_per_client_near_real(tables: dict[str, pd.DataFrame]) -> None:
    profile = load_profile()
    real_clients = 307511 + 48744
    clients = len(tables["application_train"]) + len(tables["application_test"])
    for name in TABLE_NAMES[2:]:
        real = profile["full_table_rows"][name] / real_clients
        got = len(tables[name]) / clients
        # Within 5 % of the real average (issue 12) for every table but POS_CASH_balance (within 10 %).
        tol = 0.10 if name == "POS_CASH_balance" else 0.05
        assert abs(got / real - 1) <= tol, f"{name}: {got:.2f} rows per client vs {real:.2f}"


def test_some_instalments_are_paid_in_parts(tables: dict[str, pd.DataFrame]) -> None:
    inst = tables["installments_payments"]
    keys = ["SK_ID_PREV", "NUM_INSTALMENT_VERSION", "NUM_INSTALMENT_NUMBER"]
    parts = inst.groupby(keys)["AMT_PAYMENT"].transform("size")
    share = float((inst.groupby(keys).size() > 1).mean())
    assert 0.03 < share < 0.15, share
    split = inst[parts > 1]
    grouped = split.groupby(keys)
    # The parts of one instalment share its amount and due date, and arrive on the same or later days.
    assert (grouped["AMT_INSTALMENT"].nunique() == 1).all()
    assert (grouped["DAYS_INSTALMENT"].nunique() == 1).all()
    assert (grouped["DAYS_ENTRY_PAYMENT"].apply(lambda d: d.is_monotonic_increasing)).all()
    assert (split["AMT_PAYMENT"] > 0).all()
    # A split instalment is usually paid in full over its parts.
    paid = grouped["AMT_PAYMENT"].sum() / grouped["AMT_INSTALMENT"].first()
    assert float((paid.round(4) >= 1).mean()) > 0.8


def test_history_consistency(tables: dict[str, pd.DataFrame]) -> None:
    b = tables["bureau"]
    closed = b["CREDIT_ACTIVE"] != "Active"
    assert b.loc[~closed, "DAYS_ENDDATE_FACT"].isna().all()
    fact = b.loc[closed, ["DAYS_CREDIT", "DAYS_ENDDATE_FACT"]]
    assert (fact["DAYS_ENDDATE_FACT"] >= fact["DAYS_CREDIT"]).all()
    assert (fact["DAYS_ENDDATE_FACT"] <= 0).all()
    assert (b["DAYS_CREDIT"] <= 0).all()
    assert (b["CREDIT_DAY_OVERDUE"] > 0).any()
    assert (b["AMT_CREDIT_SUM_OVERDUE"] > 0).any()
    assert (b.loc[closed, "AMT_CREDIT_SUM_DEBT"].fillna(0) == 0).all()
    bb = tables["bureau_balance"]
    assert (bb["MONTHS_BALANCE"] <= 0).all()
    assert bb["STATUS"].isin(["1", "2", "3", "4", "5"]).any()

    p = tables["previous_application"]
    refused = p["NAME_CONTRACT_STATUS"] == "Refused"
    assert (p.loc[refused, "CODE_REJECT_REASON"] != "XAP").all()
    assert (p.loc[p["NAME_CONTRACT_STATUS"] == "Approved", "CODE_REJECT_REASON"] == "XAP").all()
    assert p.loc[p["NAME_CONTRACT_STATUS"] != "Approved", "DAYS_FIRST_DUE"].isna().all()
    special = (p[["DAYS_FIRST_DRAWING", "DAYS_LAST_DUE", "DAYS_TERMINATION"]] == SPECIAL_DAYS).mean()
    assert (special > 0.1).all()
    assert (p["DAYS_DECISION"] < 0).all()

    inst = tables["installments_payments"]
    late = inst["DAYS_ENTRY_PAYMENT"] > inst["DAYS_INSTALMENT"]
    under = inst["AMT_PAYMENT"] < inst["AMT_INSTALMENT"]
    assert 0.02 < late.mean() < 0.25
    assert 0.01 < under.mean() < 0.25
    assert (inst["DAYS_INSTALMENT"] <= 0).all()

    pos = tables["POS_CASH_balance"]
    assert (pos["MONTHS_BALANCE"] < 0).all()
    assert (pos["SK_DPD"] > 0).any()
    assert (pos["SK_DPD_DEF"] <= pos["SK_DPD"]).all()
    assert (pos["CNT_INSTALMENT_FUTURE"].dropna() <= pos["CNT_INSTALMENT"].dropna()).all()

    cc = tables["credit_card_balance"]
    assert (cc["MONTHS_BALANCE"] < 0).all()
    assert (cc["SK_DPD_DEF"] <= cc["SK_DPD"]).all()
    with_limit = cc[cc["AMT_CREDIT_LIMIT_ACTUAL"] > 0]
    assert (with_limit["AMT_BALANCE"] <= with_limit["AMT_CREDIT_LIMIT_ACTUAL"] * 1.25).all()
    assert (with_limit["AMT_BALANCE"] > 0).mean() > 0.2


# ---------------------------------------------------------------- target and truth


def test_target_and_default_rate(tables: dict[str, pd.DataFrame], synth: tuple[Path, SynthSummary]) -> None:
    train = tables["application_train"]
    assert set(train["TARGET"].unique()) == {0, 1}
    _, summary = synth
    # The mean true PD is solved to 8.07 % exactly; the realised rate of 6,000 Bernoulli draws has a
    # standard deviation of 0.35 points, so allow about 3.5 of them (full scale is measured separately).
    assert abs(summary.mean_true_pd - 0.0807) < 1e-4
    assert abs(train["TARGET"].mean() - 0.0807) < 0.013
    assert summary.default_rate == pytest.approx(train["TARGET"].mean())


def test_truth_covers_every_client(tables: dict[str, pd.DataFrame], synth: tuple[Path, SynthSummary]) -> None:
    out, _ = synth
    truth = pd.read_csv(out / "synth_truth.csv")
    assert list(truth.columns) == ["SK_ID_CURR", "TRUE_PD"]
    clients = set(tables["application_train"]["SK_ID_CURR"]) | set(tables["application_test"]["SK_ID_CURR"])
    assert set(truth["SK_ID_CURR"]) == clients and truth["SK_ID_CURR"].is_unique
    assert truth["TRUE_PD"].between(0, 1).all()
    train = tables["application_train"].merge(truth, on="SK_ID_CURR")
    assert abs(train["TRUE_PD"].mean() - 0.0807) < 1e-3
    # Oracle AUC (true PD vs realised target) in the range of good real-world models.
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(train["TARGET"], train["TRUE_PD"])
    assert 0.74 < auc < 0.87


def test_default_rate_shape(tables: dict[str, pd.DataFrame], synth: tuple[Path, SynthSummary]) -> None:
    out, _ = synth
    truth = pd.read_csv(out / "synth_truth.csv")
    train = tables["application_train"].merge(truth, on="SK_ID_CURR")
    # Use the true PD (less noisy than 6,000 Bernoulli draws) to check the shape.
    by_ext2 = train.groupby(pd.qcut(train["EXT_SOURCE_2"], 10), observed=True)["TRUE_PD"].mean().to_numpy()
    assert by_ext2[0] > 3 * by_ext2[-1]
    assert (np.diff(by_ext2) < 0.01).all()
    assert np.corrcoef(np.arange(10), by_ext2)[0, 1] < -0.85
    by_age = train.groupby(pd.qcut(train["DAYS_BIRTH"], 10), observed=True)["TRUE_PD"].mean().to_numpy()
    assert by_age[-1] > 1.5 * by_age[0]  # youngest decile riskier than the oldest
    by_gender = train.groupby("CODE_GENDER")["TRUE_PD"].mean()
    assert by_gender["M"] > 1.2 * by_gender["F"]
    by_edu = train.groupby("NAME_EDUCATION_TYPE")["TRUE_PD"].mean()
    assert by_edu["Higher education"] < by_edu["Secondary / secondary special"]
    assert by_gender["M"] > by_gender["F"]
    realised = train.groupby("CODE_GENDER")["TARGET"].mean()
    assert realised["M"] > realised["F"]


# ---------------------------------------------------------------- determinism, formats, errors


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", 300, seed=3)
    generate(tmp_path / "b", 300, seed=3)
    generate(tmp_path / "c", 300, seed=4)
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a == b
    assert len(a) == 9
    assert all(a[name] != c[name] for name in a)


def test_no_temporary_files_left(synth: tuple[Path, SynthSummary]) -> None:
    out, summary = synth
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([*(f"{t}.csv" for t in TABLE_NAMES), "synth_truth.csv"])
    assert set(summary.paths) == {*TABLE_NAMES, "synth_truth"}


def test_parquet_output(tmp_path: Path) -> None:
    summary = generate(tmp_path, 200, seed=1, fmt="parquet")
    train = pd.read_parquet(tmp_path / "application_train.parquet")
    assert list(train.columns) == _columns("application_train")
    assert len(train) == 200 == summary.rows["application_train"]
    assert str(train["AMT_CREDIT"].dtype) == "float64"
    assert str(train["SK_ID_CURR"].dtype) == "int64"
    assert (tmp_path / "bureau_balance.parquet").exists()


def test_bad_format_raises(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="format"):
        generate(tmp_path / "x", 100, fmt="xlsx")
    assert not (tmp_path / "x").exists()


def test_crash_leaves_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trainer.synth as synth_mod

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(synth_mod, "_solve_intercept", boom)
    with pytest.raises(RuntimeError):
        generate(tmp_path, 200, seed=1)
    assert list(tmp_path.iterdir()) == []


def test_application_rows_in_chunks_stay_consistent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond APP_CHUNK_CLIENTS the application rows are generated and spilled chunk by chunk (big runs)."""
    import trainer.synth as synth_mod

    generate(tmp_path / "whole", 1500, seed=2, fmt="parquet")
    monkeypatch.setattr(synth_mod, "APP_CHUNK_CLIENTS", 500)  # 1,738 clients: 4 chunks
    generate(tmp_path / "chunks", 1500, seed=2, fmt="parquet")
    assert sorted(p.name for p in (tmp_path / "chunks").iterdir()) == sorted(
        p.name for p in (tmp_path / "whole").iterdir()
    )  # the spilled rows are gone
    for table in ("application_train", "application_test"):
        whole = pd.read_parquet(tmp_path / "whole" / f"{table}.parquet")
        chunks = pd.read_parquet(tmp_path / "chunks" / f"{table}.parquet")
        assert list(chunks.dtypes.astype(str).items()) == list(whole.dtypes.astype(str).items())
        np.testing.assert_array_equal(chunks["SK_ID_CURR"], whole["SK_ID_CURR"])  # same clients, ID order
        assert not chunks["AMT_CREDIT"].equals(whole["AMT_CREDIT"])  # drawn from the chunks' own streams
    # The target and the true PD still follow each client's own application row.
    train = pd.read_parquet(tmp_path / "chunks" / "application_train.parquet")
    truth = pd.read_csv(tmp_path / "chunks" / "synth_truth.csv").set_index("SK_ID_CURR")["TRUE_PD"]
    true_pd = truth.loc[train["SK_ID_CURR"]].to_numpy()
    ext = train[["EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3"]].mean(axis=1)
    assert np.corrcoef(ext.fillna(ext.mean()), true_pd)[0, 1] < -0.4
    assert true_pd[train["TARGET"] == 1].mean() > 2 * true_pd[train["TARGET"] == 0].mean()

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(synth_mod, "_solve_intercept", boom)
    with pytest.raises(RuntimeError):
        generate(tmp_path / "crash", 1500, seed=2, fmt="parquet")
    assert list((tmp_path / "crash").iterdir()) == []  # neither tables nor spilled rows


# ---------------------------------------------------------------- loan structure and planted real effects


def test_terms_follow_from_a_product_term_and_a_rate(tables: dict[str, pd.DataFrame]) -> None:
    a = tables["application_train"]
    cash = a[a["NAME_CONTRACT_TYPE"] == "Cash loans"]
    term = cash["AMT_CREDIT"] / cash["AMT_ANNUITY"]
    months = np.array([p[0] for p in CASH_PRODUCTS], dtype=float)
    # credit / annuity of n months at a positive monthly rate r is (1 - (1 + r)^-n) / r < n; the rates
    # run from 0.4 % to 3 % a month, so the term lies between the factors of those rates.
    lowest = min((1 - 1.03**-n) / 0.03 for n in months)
    assert term.between(lowest * 0.99, months.max()).all()
    # Larger credits take longer terms.
    assert cash["AMT_CREDIT"].corr(term, method="spearman") > 0.4
    # The real deciles of the term each hold a tenth of the clients, give or take.
    effects = load_effects()["by_decile"][DECILE_CURVES["CREDIT_TERM_MONTHS"]]
    edges = np.asarray(effects["upper_edges"])
    all_terms = (a["AMT_CREDIT"] / a["AMT_ANNUITY"]).to_numpy()
    shares = np.bincount(np.minimum(np.searchsorted(edges, all_terms), 9), minlength=10) / len(a)
    assert (shares > 0.05).all() and (shares < 0.16).all(), shares
    # Goods price / credit: credits above the goods price (fees) and exactly at it, like the real data.
    ratio = (cash["AMT_GOODS_PRICE"] / cash["AMT_CREDIT"]).dropna()
    assert 0.1 < float((ratio == 1).mean()) < 0.35
    assert 0.05 < float((ratio < 0.783).mean()) < 0.2


def test_planted_curves_match_the_real_ones(
    tables: dict[str, pd.DataFrame], synth: tuple[Path, SynthSummary]
) -> None:
    out, _ = synth
    train = tables["application_train"]
    truth = pd.read_csv(out / "synth_truth.csv").set_index("SK_ID_CURR")["TRUE_PD"]
    true_pd = truth.reindex(train["SK_ID_CURR"]).to_numpy(dtype=float)
    curves, two_way = compare_curves(train, true_pd)
    assert {c.name for c in curves} >= set(DECILE_CURVES)
    for curve in (*curves, two_way):
        assert curve.judged == "true PD"
        assert curve.passed, f"{curve.name}: {curve.max_gap:.1f} points"
    term = next(c for c in curves if c.name == "CREDIT_TERM_MONTHS")
    # The non-monotone term: the 10.7-14.8 and 20-22 month bins are the riskiest, as in the real data.
    assert set(np.argsort(term.true_pd)[-2:]) == {1, 5}
    goods = next(c for c in curves if c.name == "GOODS_CREDIT_RATIO")
    assert goods.true_pd[0] > goods.true_pd[4] < goods.true_pd[7]  # U-shaped
    # The interaction: the term matters most for clients with low external scores.
    cells = np.asarray(two_way.true_pd).reshape(3, 3)
    assert cells[0, 1] - cells[0, 2] > 2 * abs(cells[2, 1] - cells[2, 2])


def test_application_model_behaves_like_the_real_one(tables: dict[str, pd.DataFrame]) -> None:
    """The application-only models on 6,000 clients (3 folds): the real top inputs and XGBoost ahead.

    The stated AUC-gap range (0.005-0.02) holds from 20,000 clients (bench/bench_synth.py); on 6,000,
    the regression over-fits its ~250 inputs, so here XGBoost must be ahead by at most 0.04.
    """
    auc_lr, auc_xgb, importance = cross_validated_aucs(
        tables["application_train"], folds=3, seed=1, nthread=1
    )
    top10 = list(importance)[:10]
    assert len(set(top10) & set(real_top10())) >= MIN_TOP10_OVERLAP, top10
    assert {"EXT_SOURCE_MEAN", "CREDIT_TERM_MONTHS", "GOODS_CREDIT_RATIO"} <= set(top10)
    assert 0.0 < auc_xgb - auc_lr <= 0.04, (auc_lr, auc_xgb)
    assert 0.70 < auc_xgb < 0.82


def test_synth_check_reports_side_by_side() -> None:
    labels = ("a", "b")
    curve = CurveCheck("X", labels, (0.1, 0.2), (0.11, 0.25), (0.1, 0.21), (500, 500), "realised", 5.0)
    assert not curve.passed
    rows = curve_rows(curve)
    assert rows[1] == ("b", "20.0", "25.0", "21.0", "500")


def test_synth_check_on_a_folder_without_data(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no application_train"):
        check_synthetic(tmp_path)


def test_rake_matches_every_bin_and_the_mean() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    base = rng.normal(-2.5, 1.0, n)
    a = RiskGroup("a", ("0", "1", "2", "3"), rng.integers(0, 4, n), np.array([0.05, 0.10, 0.17, 0.08]))
    # A second, correlated grouping (a shares half its clients' bins), with one bin left free (NaN).
    b_index = np.where(rng.random(n) < 0.5, a.index % 2, rng.integers(0, 2, n))
    b = RiskGroup("b", ("x", "y"), b_index, np.array([0.09, np.nan]))
    fit = rng.random(n) < 0.8
    logit = rake(base, [a, b], fit, 0.1, real_rate=0.1, sweeps=30)
    pd_ = 1 / (1 + np.exp(-logit))
    assert abs(pd_[fit].mean() - 0.1) < 1e-6
    for group in (a, b):
        for k, target in enumerate(group.real):
            if not np.isnan(target):
                got = pd_[fit & (group.index == k)].mean()
                assert abs(got - target) < 0.002, (group.name, k, got, target)


def _logit(p: Any) -> Any:
    return np.log(p / (1 - p))


def test_shrink_noise_smooths_noise_and_keeps_real_shapes() -> None:
    rows = int(load_effects()["rows"])
    index = np.zeros(1, dtype=np.int64)
    labels = tuple(str(k) for k in range(10))
    # A flat curve with sampling-sized zigzags: smoothed, never moved by more than one sampling error.
    flat = np.array([0.085, 0.078, 0.091, 0.080, 0.088, 0.079, 0.090, 0.081, 0.086, 0.080])
    planted = shrink_noise(RiskGroup("INCOME_PER_PERSON", labels, index, flat), rows).real
    error = 1 / np.sqrt(rows / 10 * flat * (1 - flat))
    assert np.all(np.abs(_logit(planted) - _logit(flat)) <= error + 1e-9)
    assert np.abs(np.diff(planted, 2)).sum() < 0.5 * np.abs(np.diff(flat, 2)).sum()
    # The real term curve's steps are far above the noise: the same riskiest bins, within half a point.
    spec = load_effects()["by_decile"][DECILE_CURVES["CREDIT_TERM_MONTHS"]]
    term = np.asarray(spec["default_rate"], dtype=np.float64)
    kept = shrink_noise(RiskGroup("CREDIT_TERM_MONTHS", labels, index, term), rows).real
    assert set(np.argsort(kept)[-2:]) == {1, 5}
    assert np.abs(kept - term).max() < 0.005
    # The two-way table: the interaction shrinks (by at most one sampling error per cell), the term
    # still matters most for low external scores.
    table = load_effects()["two_way_ext_source_mean_by_credit_term"]
    cells = np.array([table[e][t] for e in ("low", "mid", "high") for t in ("short", "mid", "long")])
    two = shrink_noise(RiskGroup(TWO_WAY, labels[:9], index, cells), rows).real
    error = 1 / np.sqrt(rows / 9 * cells * (1 - cells))
    assert np.all(np.abs(_logit(two) - _logit(cells)) <= error + 1e-9)
    assert not np.allclose(two, cells)
    grid = two.reshape(3, 3)
    assert grid[0, 1] - grid[0, 2] > 2 * abs(grid[2, 1] - grid[2, 2])
    # The missing bin and categories are planted as measured.
    with_missing = RiskGroup("EXT_SOURCE_MEAN", (*labels, "missing"), index, np.append(flat, 0.1))
    assert shrink_noise(with_missing, rows).real[-1] == 0.1
    group = RiskGroup("CODE_GENDER", labels, index, flat)
    assert shrink_noise(group, rows) is group
