"""The DuckDB history aggregates equal the pandas reference; bad files still fail with one clear sentence."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trainer.data import find_table, read_table
from trainer.errors import DataError
from trainer.features import aggregate_history, history_feature_names, history_input_columns
from trainer.history_sql import (
    SPILL_PREFIX,
    aggregate_sources,
    connect,
    memory_limit_setting,
    query_features,
    spill_folder,
    sweep_spill_folders,
)
from trainer.schema import HISTORY_TABLES


def reference(sources: dict[str, object], client_ids: list[int] | None = None) -> pd.DataFrame:
    """The former pandas path: files read with read_table (float32 numbers), frames used as they are."""

    def read(name: str, columns: object) -> pd.DataFrame:
        source = sources[name]
        if isinstance(source, Path):
            return read_table(source, name, history_input_columns(name))
        assert isinstance(source, pd.DataFrame)
        return source

    return aggregate_history(read, list(sources), client_ids)


def assert_same(expected: pd.DataFrame, actual: pd.DataFrame) -> None:
    assert list(actual.columns) == list(expected.columns)
    np.testing.assert_array_equal(actual.index.to_numpy(), expected.index.to_numpy())
    for column in expected.columns:
        np.testing.assert_allclose(
            actual[column].to_numpy(), expected[column].to_numpy(), rtol=1e-9, atol=1e-12, err_msg=column
        )


def folder_paths(folder: Path) -> dict[str, Path]:
    return {name: path for name in HISTORY_TABLES if (path := find_table(folder, name)) is not None}


def test_synthetic_csv_and_parquet_equal_the_pandas_reference(synth_dir: Path, tmp_path: Path) -> None:
    paths = folder_paths(synth_dir)
    assert len(paths) == len(HISTORY_TABLES)
    expected = reference(dict(paths))
    assert len(expected) > 1000
    assert_same(expected, aggregate_sources(paths))
    parquet = {}
    for name, path in paths.items():
        parquet[name] = tmp_path / f"{name}.parquet"
        read_table(path, name).to_parquet(parquet[name], index=False)
    assert_same(expected, aggregate_sources(parquet, memory_limit="256MB", threads=1))


def random_tables(seed: int, n_clients: int = 60) -> dict[str, pd.DataFrame]:
    """History tables with missing values, all-missing columns, 365243 placeholders and unknown levels."""
    rng = np.random.default_rng(seed)

    def numbers(n: int, low: float, high: float, missing: float = 0.2) -> np.ndarray:
        values = np.round(rng.uniform(low, high, n), 2)
        values[rng.random(n) < missing] = np.nan
        values[rng.random(n) < 0.05] = 365243.0
        return values

    def levels(n: int, *choices: str | None) -> list[str | None]:
        return [choices[i] for i in rng.integers(0, len(choices), n)]

    def clients(n: int) -> np.ndarray:
        return rng.integers(1, n_clients, n)  # client n_clients never has rows

    n = 300
    bureau = pd.DataFrame(
        {
            "SK_ID_CURR": clients(n),
            "SK_ID_BUREAU": np.arange(n) + 10_000,
            "CREDIT_ACTIVE": levels(n, "Active", "Closed", "Sold", "Bad debt", None, "Other"),
            "DAYS_CREDIT": numbers(n, -3000, 0),
            "CREDIT_DAY_OVERDUE": numbers(n, 0, 90),
            "AMT_CREDIT_MAX_OVERDUE": np.full(n, np.nan),  # an all-missing column
            "CNT_CREDIT_PROLONG": numbers(n, 0, 3),
            "AMT_CREDIT_SUM": numbers(n, 0, 1e6),
            "AMT_CREDIT_SUM_DEBT": numbers(n, -1e4, 1e6),
            "AMT_CREDIT_SUM_OVERDUE": numbers(n, 0, 1e4),
        }
    )
    m = 2000
    balance = pd.DataFrame(
        {
            "SK_ID_BUREAU": rng.integers(10_000, 10_000 + n + 50, m),  # some credits bureau does not list
            "STATUS": levels(m, "C", "X", "0", "1", "2", "5", None),
        }
    )
    previous = pd.DataFrame(
        {
            "SK_ID_PREV": np.arange(n) + 50_000,
            "SK_ID_CURR": clients(n),
            "AMT_APPLICATION": np.where(rng.random(n) < 0.2, 0.0, numbers(n, 0, 1e5)),
            "AMT_CREDIT": numbers(n, 0, 1e5),
            "NAME_CONTRACT_STATUS": levels(n, "Approved", "Refused", "Canceled", None),
            "DAYS_DECISION": numbers(n, -3000, -1),
        }
    )
    installments = pd.DataFrame(
        {
            "SK_ID_CURR": clients(m),
            "DAYS_INSTALMENT": numbers(m, -3000, 0),
            "DAYS_ENTRY_PAYMENT": numbers(m, -3000, 0),
            "AMT_INSTALMENT": numbers(m, 0, 1e4),
            "AMT_PAYMENT": numbers(m, 0, 1e4),
        }
    )
    pos = pd.DataFrame(
        {
            "SK_ID_CURR": clients(m),
            "MONTHS_BALANCE": numbers(m, -60, -1),
            "SK_DPD": numbers(m, 0, 30, missing=0.4),
            "SK_DPD_DEF": np.full(m, np.nan),
        }
    )
    cards = pd.DataFrame(
        {
            "SK_ID_PREV": np.repeat(np.arange(200) + 90_000, 5),
            "SK_ID_CURR": np.repeat(clients(200), 5),
            "MONTHS_BALANCE": np.tile(np.arange(-5.0, 0.0), 200),  # one row per card and month
            "AMT_BALANCE": numbers(1000, 0, 2e5),
            "AMT_CREDIT_LIMIT_ACTUAL": np.where(rng.random(1000) < 0.2, 0.0, numbers(1000, 0, 2e5)),
            "AMT_DRAWINGS_CURRENT": numbers(1000, 0, 1e4),
            "NAME_CONTRACT_STATUS": levels(1000, "Active", "Completed", None),
            "SK_DPD": numbers(1000, 0, 10),
        }
    )
    return {
        "bureau": bureau,
        "bureau_balance": balance,
        "previous_application": previous,
        "installments_payments": installments,
        "POS_CASH_balance": pos,
        "credit_card_balance": cards,
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_edge_cases_in_memory_equal_the_pandas_reference(seed: int) -> None:
    # float32 values, as read_table stores history numbers, so both paths see the same inputs
    tables = {
        name: frame.astype({c: "float32" for c in frame.columns if frame[c].dtype == np.float64})
        for name, frame in random_tables(seed).items()
    }
    ids = list(range(1, 61))
    expected = reference(dict(tables), ids)
    actual = aggregate_sources(tables, ids)
    assert_same(expected, actual)
    absent = actual.loc[60]
    assert absent["BUREAU_COUNT"] == 0 and np.isnan(absent["INST_LATE_SHARE"])
    assert actual["BUREAU_MAX_OVERDUE_AMOUNT"].isna().all()  # all-missing column stays missing
    assert (actual["POS_DPD_DEF_MAX"].loc[actual["POS_MONTHS"] > 0] == 0).all()


def test_pyarrow_table_and_subsets_of_tables(synth_dir: Path) -> None:
    import pyarrow as pa

    paths = folder_paths(synth_dir)
    frame = read_table(paths["previous_application"], "previous_application")
    only_previous = aggregate_sources({"previous_application": pa.Table.from_pandas(frame)})
    assert list(only_previous.columns) == history_feature_names(["previous_application"])
    assert_same(aggregate_sources({"previous_application": paths["previous_application"]}), only_previous)
    assert aggregate_sources({"bureau_balance": paths["bureau_balance"]}).columns.empty  # needs bureau


def copy_history(synth_dir: Path, folder: Path, *names: str) -> dict[str, Path]:
    folder.mkdir()
    paths = {}
    for name in names:
        source = find_table(synth_dir, name)
        assert source is not None
        paths[name] = Path(shutil.copy(source, folder / source.name))
    return paths


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def test_non_numeric_value_names_file_line_and_value(synth_dir: Path, tmp_path: Path) -> None:
    paths = copy_history(synth_dir, tmp_path / "d", "installments_payments")
    path = paths["installments_payments"]
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    fields = path.read_text(encoding="utf-8").splitlines()[4].split(",")
    fields[header.index("AMT_PAYMENT")] = "12x"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = ",".join(fields) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataError) as info:
        aggregate_sources(paths)
    message = str(info.value)
    assert str(path) in message and "AMT_PAYMENT" in message and "'12x'" in message and "line 5" in message


def test_duplicated_bureau_key_and_empty_identifier(synth_dir: Path, tmp_path: Path) -> None:
    paths = copy_history(synth_dir, tmp_path / "a", "bureau", "bureau_balance")
    bureau = paths["bureau"]
    frame = pd.read_csv(bureau)
    frame.loc[3, "SK_ID_BUREAU"] = frame.loc[2, "SK_ID_BUREAU"]
    frame.to_csv(bureau, index=False)
    with pytest.raises(DataError, match=r"SK_ID_BUREAU .* appears more than once"):
        aggregate_sources(paths)

    paths = copy_history(synth_dir, tmp_path / "b", "POS_CASH_balance")
    pos = pd.read_csv(paths["POS_CASH_balance"])
    pos["SK_ID_CURR"] = pos["SK_ID_CURR"].astype("Int64")
    pos.loc[6, "SK_ID_CURR"] = pd.NA
    pos.to_csv(paths["POS_CASH_balance"], index=False)
    with pytest.raises(DataError, match="SK_ID_CURR is empty on line 8"):
        aggregate_sources(paths)


def test_missing_column_and_header_only(synth_dir: Path, tmp_path: Path) -> None:
    paths = copy_history(synth_dir, tmp_path / "a", "previous_application")
    frame = pd.read_csv(paths["previous_application"]).drop(columns="DAYS_DECISION")
    frame.to_csv(paths["previous_application"], index=False)
    with pytest.raises(DataError, match="lacks the required column DAYS_DECISION"):
        aggregate_sources(paths)
    frame.head(0).to_csv(paths["previous_application"], index=False)
    with pytest.raises(DataError):
        aggregate_sources(paths)


def test_memory_limit_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDIT_TUI_DUCKDB_MEMORY", "300MB")
    assert memory_limit_setting() == "300MB"
    assert memory_limit_setting("2GB") == "2GB"
    with connect() as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "").upper().startswith(("286", "300"))  # DuckDB shows MiB
    with pytest.raises(DataError, match="not a size"), connect("lots"):
        pass


def test_nothing_is_printed_on_stdout(synth_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with connect() as con:
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False
    aggregate_sources(folder_paths(synth_dir))
    assert capfd.readouterr().out == ""  # the advisor app never writes to stdout


def test_each_query_returns_exactly_the_registry_features() -> None:
    from trainer.registry import HISTORY_FEATURES

    for table, names in HISTORY_FEATURES.items():
        assert query_features(table) == list(names), table


def test_a_connection_leaves_no_spill_folder_even_when_the_process_dies_in_it(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    code = (
        "import os; from trainer.history_sql import connect\n"
        "with connect() as con:\n"
        "    con.execute('SELECT 42').fetchall()\n"
        "with connect() as con:\n"
        "    con.execute('SELECT 1').fetchall()\n"
        "    os._exit(0)  # as the app does when it quits while a loader thread aggregates\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert list(tmp_path.iterdir()) == []


def test_sweep_removes_only_this_users_spill_folders_of_dead_processes(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    left_by_dead = tmp_path / f"{SPILL_PREFIX}{dead_pid}-{'a' * 16}"
    (left_by_dead / "sub").mkdir(parents=True)
    (left_by_dead / "sub" / "duckdb_temp_1_owner").write_text("")
    alive = tmp_path / f"{SPILL_PREFIX}{os.getpid()}-{'b' * 16}"
    alive.mkdir()
    others = [
        tmp_path / f"{SPILL_PREFIX}x{dead_pid}-{'c' * 16}",
        tmp_path / f"{SPILL_PREFIX}{dead_pid}-short",
    ]
    for folder in others:
        folder.mkdir()
    a_file = tmp_path / f"{SPILL_PREFIX}{dead_pid}-{'d' * 16}"
    a_file.write_text("not a folder")

    assert sweep_spill_folders(tmp_path) == [left_by_dead]
    assert not left_by_dead.exists()
    assert alive.is_dir() and all(folder.is_dir() for folder in others) and a_file.is_file()
    assert spill_folder().name.startswith(f"{SPILL_PREFIX}{os.getpid()}-")
    assert not spill_folder().exists() and spill_folder() != spill_folder()
