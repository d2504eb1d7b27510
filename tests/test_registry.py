"""The feature registry agrees with what the feature code computes, both ways, in model order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd

from trainer.data import load_data
from trainer.features import (
    application_features,
    bureau_features,
    credit_card_features,
    fit_feature_spec,
    history_input_columns,
    history_tables_used,
    installments_features,
    pos_cash_features,
    previous_features,
)
from trainer.labels import feature_label
from trainer.registry import (
    APP_ENGINEERED,
    APP_INPUT_NUMERIC,
    APP_NUMERIC_PASSTHROUGH,
    APPLICATION,
    BY_NAME,
    HISTORY_FEATURES,
    HISTORY_KEYS,
    PROFILE,
    PROTECTED,
    REGISTRY,
    SQL,
    Kind,
    Unit,
)


def test_every_spec_feature_has_a_record_and_every_record_is_used(synth_dir: Path) -> None:
    data = load_data(synth_dir, need_train=True, history=True)
    tables = history_tables_used(data.history)
    protected = tuple(r.name for r in REGISTRY if r.protected)
    # With the protected attributes allowed (analysis), every record is a model input, in order.
    spec = fit_feature_spec(data.train, tables, allow_protected=protected)
    unregistered = [name for name in spec.names if name not in BY_NAME]
    unused = [r.name for r in REGISTRY if r.name not in spec.names]
    assert unregistered == [] and unused == []
    assert spec.names == tuple(r.name for r in REGISTRY)
    assert set(spec.categories) == {r.name for r in REGISTRY if r.kind == "category"}
    # By default (issue 10) the protected ones are left out, and only they.
    default = fit_feature_spec(data.train, tables)
    assert default.names == tuple(r.name for r in REGISTRY if not r.protected)
    assert protected == ("CODE_GENDER", "NAME_FAMILY_STATUS")


def test_aggregators_produce_exactly_the_registered_history_features(synth_dir: Path) -> None:
    data = load_data(synth_dir, need_train=True, history=True)

    def read(table: str) -> pd.DataFrame:
        return data.history[table][list(history_input_columns(table))]

    produced = {
        "bureau": list(bureau_features(read("bureau"), read("bureau_balance")).columns),
        "previous_application": list(previous_features(read("previous_application")).columns),
        "installments_payments": list(installments_features(read("installments_payments")).columns),
        "POS_CASH_balance": list(pos_cash_features(read("POS_CASH_balance")).columns),
        "credit_card_balance": list(credit_card_features(read("credit_card_balance")).columns),
    }
    expected = dict(HISTORY_FEATURES)
    expected["bureau"] = (*expected["bureau"], *expected.pop("bureau_balance"))
    assert produced == {table: list(names) for table, names in expected.items()}


def test_application_features_are_the_registered_ones() -> None:
    cols = {name: np.zeros(1) for name in APP_INPUT_NUMERIC}
    assert tuple(application_features(cols)) == (*APP_NUMERIC_PASSTHROUGH, *APP_ENGINEERED)


def test_records_are_well_formed() -> None:
    assert len(BY_NAME) == len(REGISTRY)
    for r in REGISTRY:
        assert r.kind in get_args(Kind) and r.unit in get_args(Unit), r.name
        assert r.label and feature_label(r.name).label == r.label
        assert set(re.findall(r"{(\w*)}", r.reason)) <= {"value"}, r.name
        assert (r.table == APPLICATION) == bool(r.columns), r.name
        assert not (r.protected and r.client_facing), r.name
    assert {"CODE_GENDER", "NAME_FAMILY_STATUS"} <= PROTECTED
    for name in ("AGE_YEARS", "EMPLOYED_AGE_RATIO", "WEEKDAY_APPR_PROCESS_START", "FLAG_DOCUMENT_3"):
        assert not BY_NAME[name].client_facing
    assert not any(r.client_facing for r in REGISTRY if r.name.endswith(("_AVG", "_MODE", "_MEDI")))


def test_history_records_name_the_columns_they_read() -> None:
    from trainer.schema import table_spec

    for r in REGISTRY:
        if r.table == APPLICATION:
            continue
        assert r.computation == SQL, r.name
        assert set(r.inputs) <= set(table_spec(r.table).column_names), r.name
    for table in HISTORY_FEATURES:
        columns = history_input_columns(table)
        assert set(HISTORY_KEYS[table]) <= set(columns), table
        assert list(columns) == [c for c in table_spec(table).column_names if c in columns], table


def test_profile_positions_are_one_to_n() -> None:
    positions = sorted(r.profile for r in REGISTRY if r.profile)
    assert positions == list(range(1, len(PROFILE) + 1))
    assert PROFILE[:2] == ("NAME_CONTRACT_TYPE", "AMT_INCOME_TOTAL") and len(PROFILE) == 16
