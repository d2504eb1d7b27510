"""Features computed by hand on tiny tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trainer.features import (
    APP_CATEGORICAL,
    APP_INPUT_NUMERIC,
    FeatureSpec,
    application_features,
    encode_category,
    feature_matrix,
    feature_row,
    fit_feature_spec,
    history_feature_names,
    history_features,
    history_record,
    history_tables_used,
    safe_divide,
)


def app_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {name: 0.0 for name in APP_INPUT_NUMERIC}
    row.update(
        {
            "SK_ID_CURR": 100002,
            "AMT_INCOME_TOTAL": 200_000.0,
            "AMT_CREDIT": 500_000.0,
            "AMT_ANNUITY": 25_000.0,
            "AMT_GOODS_PRICE": 450_000.0,
            "CNT_FAM_MEMBERS": 2.0,
            "DAYS_BIRTH": -14_610.0,  # 40 years of 365.25 days
            "DAYS_EMPLOYED": -3_652.5,  # 10 years
            "EXT_SOURCE_1": float("nan"),
            "EXT_SOURCE_2": 0.6,
            "EXT_SOURCE_3": 0.3,
            "FLAG_DOCUMENT_3": 1.0,
            "FLAG_DOCUMENT_8": 1.0,
        }
    )
    row.update({name: "XNA" for name in APP_CATEGORICAL})
    row.update({"NAME_CONTRACT_TYPE": "Cash loans", "CODE_GENDER": "F"})
    row.update(overrides)
    return row


def one(row: dict[str, object]) -> dict[str, float]:
    cols = {name: np.array([row[name]], dtype=np.float64) for name in APP_INPUT_NUMERIC}
    return {k: float(v[0]) for k, v in application_features(cols).items()}


def test_ratios_and_years_by_hand() -> None:
    f = one(app_row())
    assert f["CREDIT_INCOME_RATIO"] == pytest.approx(2.5)
    assert f["ANNUITY_INCOME_RATIO"] == pytest.approx(0.125)
    assert f["ANNUITY_CREDIT_RATIO"] == pytest.approx(0.05)
    assert f["CREDIT_TERM_MONTHS"] == pytest.approx(20.0)
    assert f["GOODS_CREDIT_RATIO"] == pytest.approx(0.9)
    assert f["INCOME_PER_PERSON"] == pytest.approx(100_000.0)
    assert f["AGE_YEARS"] == pytest.approx(40.0)
    assert f["EMPLOYED_YEARS"] == pytest.approx(10.0)
    assert f["EMPLOYED_AGE_RATIO"] == pytest.approx(0.25)
    assert f["DAYS_EMPLOYED_PLACEHOLDER"] == 0.0
    assert f["DOCUMENT_COUNT"] == 2.0


def test_ext_source_statistics_ignore_missing_but_product_needs_all() -> None:
    f = one(app_row())
    assert f["EXT_SOURCE_MEAN"] == pytest.approx(0.45)
    assert f["EXT_SOURCE_MIN"] == pytest.approx(0.3)
    assert f["EXT_SOURCE_MAX"] == pytest.approx(0.6)
    assert math.isnan(f["EXT_SOURCE_PROD"])
    g = one(app_row(EXT_SOURCE_1=0.5))
    assert g["EXT_SOURCE_PROD"] == pytest.approx(0.5 * 0.6 * 0.3)
    none = one(app_row(EXT_SOURCE_2=float("nan"), EXT_SOURCE_3=float("nan")))
    assert all(math.isnan(none[k]) for k in ("EXT_SOURCE_MEAN", "EXT_SOURCE_MIN", "EXT_SOURCE_MAX"))


def test_days_employed_placeholder_becomes_missing_with_flag() -> None:
    f = one(app_row(DAYS_EMPLOYED=365243.0))
    assert math.isnan(f["EMPLOYED_YEARS"])
    assert math.isnan(f["EMPLOYED_AGE_RATIO"])
    assert f["DAYS_EMPLOYED_PLACEHOLDER"] == 1.0


def test_zero_or_missing_denominators_give_missing_not_inf() -> None:
    f = one(app_row(AMT_INCOME_TOTAL=0.0, AMT_ANNUITY=float("nan")))
    assert math.isnan(f["CREDIT_INCOME_RATIO"])
    assert math.isnan(f["CREDIT_TERM_MONTHS"])
    assert np.isnan(safe_divide([1.0, 2.0], [0.0, np.nan])).all()


def test_encode_category_single_and_batch_agree() -> None:
    levels = ("Cash loans", "Revolving loans")
    values = np.array(["Revolving loans", None, "Cash loans", "Unheard of"], dtype=object)
    batch = encode_category(values, levels)
    single = [float(encode_category(np.array([v], dtype=object), levels)[0]) for v in values]
    np.testing.assert_array_equal(batch, [1.0, np.nan, 0.0, np.nan])
    np.testing.assert_array_equal(batch, single)
    # text read from a file arrives as a pandas categorical: encoded through its codes, same values
    categorical = pd.Series(values, dtype="category")
    np.testing.assert_array_equal(encode_category(categorical, levels), batch)
    np.testing.assert_array_equal(encode_category(categorical.iloc[1:2], levels), [np.nan])


def history_tables() -> dict[str, pd.DataFrame]:
    bureau = pd.DataFrame(
        {
            "SK_ID_CURR": [1, 1, 2],
            "SK_ID_BUREAU": [10, 11, 12],
            "CREDIT_ACTIVE": ["Active", "Closed", "Active"],
            "DAYS_CREDIT": [-100.0, -800.0, -2000.0],
            "AMT_CREDIT_SUM": [1000.0, 500.0, 400.0],
            "AMT_CREDIT_SUM_DEBT": [600.0, 0.0, np.nan],
            "AMT_CREDIT_SUM_OVERDUE": [50.0, 0.0, 0.0],
            "CREDIT_DAY_OVERDUE": [30.0, 0.0, 0.0],
            "AMT_CREDIT_MAX_OVERDUE": [np.nan, 70.0, np.nan],
            "CNT_CREDIT_PROLONG": [0.0, 1.0, 0.0],
        }
    )
    bureau_balance = pd.DataFrame(
        {"SK_ID_BUREAU": [10, 10, 10, 11, 12], "STATUS": ["0", "1", "C", "X", "2"], "MONTHS_BALANCE": -1.0}
    )
    previous = pd.DataFrame(
        {
            "SK_ID_CURR": [1, 1, 1, 2],
            "SK_ID_PREV": [20, 21, 22, 23],
            "NAME_CONTRACT_STATUS": ["Approved", "Refused", "Refused", "Canceled"],
            "DAYS_DECISION": [-1000.0, -200.0, -500.0, -30.0],
            "AMT_CREDIT": [100.0, 0.0, 50.0, 10.0],
            "AMT_APPLICATION": [100.0, 80.0, 100.0, 0.0],
        }
    )
    installments = pd.DataFrame(
        {
            "SK_ID_CURR": [1, 1, 1, 1],
            "DAYS_INSTALMENT": [-400.0, -300.0, -200.0, -100.0],
            "DAYS_ENTRY_PAYMENT": [-405.0, -290.0, -200.0, -80.0],
            "AMT_INSTALMENT": [100.0, 100.0, 100.0, 100.0],
            "AMT_PAYMENT": [100.0, 50.0, 100.0, 100.0],
        }
    )
    pos = pd.DataFrame(
        {
            "SK_ID_CURR": [1, 1, 2],
            "MONTHS_BALANCE": [-20.0, -2.0, -5.0],
            "SK_DPD": [10.0, 0.0, 3.0],
            "SK_DPD_DEF": [0.0, 0.0, 3.0],
        }
    )
    cards = pd.DataFrame(
        {
            "SK_ID_CURR": [1, 1, 1],
            "SK_ID_PREV": [30, 30, 31],
            "MONTHS_BALANCE": [-3.0, -1.0, -1.0],
            "AMT_BALANCE": [500.0, 900.0, 0.0],
            "AMT_CREDIT_LIMIT_ACTUAL": [1000.0, 1000.0, 0.0],
            "SK_DPD": [0.0, 5.0, 0.0],
            "AMT_DRAWINGS_CURRENT": [100.0, 0.0, 0.0],
            "NAME_CONTRACT_STATUS": ["Active", "Active", "Completed"],
        }
    )
    return {
        "bureau": bureau,
        "bureau_balance": bureau_balance,
        "previous_application": previous,
        "installments_payments": installments,
        "POS_CASH_balance": pos,
        "credit_card_balance": cards,
    }


def test_history_aggregates_by_hand() -> None:
    h = history_features(history_tables(), client_ids=[1, 2, 3])
    c1, c2, c3 = h.loc[1], h.loc[2], h.loc[3]
    assert (c1["BUREAU_COUNT"], c1["BUREAU_ACTIVE_COUNT"], c1["BUREAU_CLOSED_COUNT"]) == (2, 1, 1)
    assert c1["BUREAU_ACTIVE_DEBT"] == 600 and c1["BUREAU_ACTIVE_CREDIT"] == 1000
    assert c1["BUREAU_DEBT_CREDIT_RATIO"] == pytest.approx(0.6)
    assert c1["BUREAU_OVERDUE_SUM"] == 50 and c1["BUREAU_MAX_DAYS_OVERDUE"] == 30
    assert c1["BUREAU_MAX_OVERDUE_AMOUNT"] == 70 and c1["BUREAU_RECENT_COUNT"] == 1
    assert c1["BUREAU_YEARS_SINCE_LAST_CREDIT"] == pytest.approx(100 / 365.25)
    assert c1["BUREAU_BALANCE_MONTHS"] == 4 and c1["BUREAU_BALANCE_LATE_SHARE"] == pytest.approx(0.25)
    assert c2["BUREAU_BALANCE_LATE_SHARE"] == 1.0 and c2["BUREAU_ACTIVE_DEBT"] == 0
    assert (c1["PREV_COUNT"], c1["PREV_APPROVED_COUNT"], c1["PREV_REFUSED_COUNT"]) == (3, 1, 2)
    assert c1["PREV_REFUSED_SHARE"] == pytest.approx(2 / 3)
    assert c1["PREV_RECENT_REFUSED_COUNT"] == 1
    assert c1["PREV_CREDIT_APPLICATION_RATIO"] == pytest.approx((1.0 + 0.0 + 0.5) / 3)
    assert math.isnan(c2["PREV_CREDIT_APPLICATION_RATIO"])  # asked 0: ratio unknown
    assert c1["INST_COUNT"] == 4 and c1["INST_LATE_SHARE"] == pytest.approx(0.5)
    assert c1["INST_DAYS_LATE_MEAN"] == pytest.approx(30 / 4) and c1["INST_DAYS_LATE_MAX"] == 20
    assert c1["INST_UNDERPAID_SHARE"] == pytest.approx(0.25)
    assert c1["INST_PAYMENT_RATIO"] == pytest.approx(350 / 400)
    assert c1["INST_RECENT_LATE_SHARE"] == pytest.approx(2 / 3)
    assert c1["POS_DPD_MAX"] == 10 and c1["POS_RECENT_DPD_MAX"] == 0 and c1["POS_LATE_SHARE"] == 0.5
    assert c1["CC_UTILISATION_MAX"] == pytest.approx(0.9)
    assert c1["CC_UTILISATION_MEAN"] == pytest.approx(0.7)  # card 31 has no limit: unknown, not 0
    assert c1["CC_ACTIVE_UTILISATION"] == pytest.approx(0.9)  # card 31 is completed
    assert c1["CC_DPD_MAX"] == 5
    # A client with no history rows: zero counts, unknown rates.
    assert c3["BUREAU_COUNT"] == 0 and c3["PREV_COUNT"] == 0 and c3["INST_COUNT"] == 0
    assert math.isnan(c3["INST_LATE_SHARE"]) and math.isnan(c3["BUREAU_DEBT_CREDIT_RATIO"])
    assert list(h.columns) == history_feature_names(history_tables_used(history_tables()))


def test_missing_history_tables_are_allowed() -> None:
    tables = history_tables()
    only_bb = {"bureau_balance": tables["bureau_balance"]}
    assert history_tables_used(only_bb) == []  # bureau_balance needs bureau to reach clients
    h = history_features({"previous_application": tables["previous_application"]}, client_ids=[1, 2])
    assert list(h.columns) == history_feature_names(["previous_application"])
    assert not any(c.startswith("BUREAU") for c in h.columns)


def test_feature_row_equals_feature_matrix_to_the_last_digit() -> None:
    rows = [
        app_row(),
        app_row(SK_ID_CURR=2, DAYS_EMPLOYED=365243.0, NAME_CONTRACT_TYPE="Revolving loans", EXT_SOURCE_1=0.1),
        app_row(SK_ID_CURR=3, AMT_ANNUITY=None, CODE_GENDER=None),
    ]
    rows[0]["SK_ID_CURR"] = 1
    apps = pd.DataFrame(rows)
    tables = history_tables()
    spec = fit_feature_spec(apps, history_tables_used(tables))
    history = history_features(tables, client_ids=apps["SK_ID_CURR"].tolist())
    matrix = feature_matrix(apps, history, spec)
    for i, row in enumerate(rows):
        single = feature_row(row, history_record(history, int(str(row["SK_ID_CURR"]))), spec)
        np.testing.assert_array_equal(single[0], matrix[i])
    # A client unknown to the history frame gets zero counts exactly as in the batch path.
    absent = history_record(history, 999)
    assert absent is not None and absent["BUREAU_COUNT"] == 0 and math.isnan(absent["INST_LATE_SHARE"])


def test_spec_round_trip_and_types() -> None:
    apps = pd.DataFrame([app_row(), app_row(NAME_CONTRACT_TYPE="Revolving loans")])
    spec = fit_feature_spec(apps, ["bureau"])
    again = FeatureSpec.from_dict(spec.to_dict())
    assert again == spec
    # Protected attributes (gender, family status) are not model inputs.
    assert spec.feature_types.count("c") == len(APP_CATEGORICAL) - 2
    assert spec.categories["NAME_CONTRACT_TYPE"] == ("Cash loans", "Revolving loans")
    assert "BUREAU_COUNT" in spec.names and "PREV_COUNT" not in spec.names
