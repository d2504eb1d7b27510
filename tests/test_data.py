"""Tests of trainer.data: reading the Home Credit tables and the errors users can cause."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import tiny_table

from trainer import data as hc
from trainer.errors import DataError
from trainer.schema import HISTORY_TABLES, TABLE_NAMES, ColumnSpec, read_dtypes, table_spec

N_CLIENTS = 6


def make_table(name: str, n: int = N_CLIENTS) -> pd.DataFrame:
    """A tiny valid table; row 1 misses its categories and row 2 its decimal numbers."""

    def value(spec: ColumnSpec, i: int) -> object:
        if spec.kind == "category":
            return spec.levels[i % len(spec.levels)] if i != 1 else None
        if spec.kind == "int":
            return float(-i - 1)
        return 1000.5 + i * 0.25 if i != 2 else None

    return tiny_table(name, n, value)


def write_folder(folder: Path, fmt: str = "csv", tables: tuple[str, ...] = TABLE_NAMES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in tables:
        frame = make_table(name)
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def write_csv_text(path: Path, name: str, edit: object = None) -> str:
    """Write table `name` as CSV and return its text (after an optional str -> str edit)."""
    text = make_table(name).to_csv(index=False)
    if callable(edit):
        text = edit(text)
    path.write_text(text, encoding="utf-8")
    return text


def read_error(path: Path, name: str) -> DataError:
    """The DataError ``read_table`` raises on ``path`` read as table ``name`` (fails when it reads)."""
    with pytest.raises(DataError) as err:
        hc.read_table(path, name)
    return err.value


def assert_clear(exc: DataError, path: Path, *needles: str) -> None:
    msg = str(exc)
    assert str(path) in msg, msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"
    assert "Traceback" not in msg and "\n" not in msg, msg
    assert not re.search(r"pyarrow|ArrowInvalid|ParserError|Error tokenizing", msg), msg


# ---------------------------------------------------------------- happy paths


def test_round_trip_csv_and_parquet_give_same_frames(tmp_path: Path) -> None:
    csv_dir = write_folder(tmp_path / "csv")
    pq_dir = write_folder(tmp_path / "pq", fmt="parquet")
    a = hc.load_data(csv_dir)
    b = hc.load_data(pq_dir)
    pd.testing.assert_frame_equal(a.train, b.train)
    assert a.test is not None and b.test is not None
    pd.testing.assert_frame_equal(a.test, b.test)
    assert set(a.history) == set(HISTORY_TABLES) == set(b.history)
    for name in HISTORY_TABLES:
        pd.testing.assert_frame_equal(a.history[name], b.history[name])


def test_dtypes_follow_schema(tmp_path: Path) -> None:
    d = hc.load_data(write_folder(tmp_path))
    train = d.train
    assert list(train.columns) == table_spec("application_train").column_names
    dtypes = read_dtypes("application_train")
    for col, dtype in dtypes.items():
        if dtype == "str":
            assert isinstance(train[col].dtype, pd.CategoricalDtype), col
        else:
            assert str(train[col].dtype) == dtype, col
    assert (
        train["NAME_CONTRACT_TYPE"].iloc[0]
        == table_spec("application_train").column("NAME_CONTRACT_TYPE").levels[0]
    )
    assert pd.isna(train["NAME_CONTRACT_TYPE"].iloc[1])  # empty -> missing
    bb = d.history["bureau_balance"]
    assert str(bb["SK_ID_BUREAU"].dtype) == "int64"
    assert str(bb["MONTHS_BALANCE"].dtype) == "float32"  # history numbers downcast
    assert str(d.history["installments_payments"]["AMT_PAYMENT"].dtype) == "float32"


def test_category_values_kept_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    write_csv_text(path, "bureau", lambda t: t.replace("Closed", "NA", 1))
    frame = hc.read_table(path, "bureau")
    assert "NA" in set(frame["CREDIT_ACTIVE"].dropna())


def test_extra_columns_ignored_and_columns_subset(tmp_path: Path) -> None:
    frame = make_table("bureau")
    frame["MY_NOTE"] = "x"
    path = tmp_path / "bureau.csv"
    frame.to_csv(path, index=False)
    full = hc.read_table(path, "bureau")
    assert "MY_NOTE" not in full.columns
    sub = hc.read_table(path, "bureau", columns=["SK_ID_CURR", "AMT_CREDIT_SUM"])
    assert list(sub.columns) == ["SK_ID_CURR", "AMT_CREDIT_SUM"]


def test_find_table(tmp_path: Path) -> None:
    assert hc.find_table(tmp_path / "nope", "bureau") is None
    (tmp_path / "bureau.parquet").write_bytes(b"x")
    assert hc.find_table(tmp_path, "bureau") == tmp_path / "bureau.parquet"
    (tmp_path / "bureau.csv").write_text("x")
    assert hc.find_table(tmp_path, "bureau") == tmp_path / "bureau.csv"
    (tmp_path / "pos_cash_balance.csv").write_text("x")
    assert hc.find_table(tmp_path, "POS_CASH_balance") == tmp_path / "pos_cash_balance.csv"
    assert hc.find_table(tmp_path, "credit_card_balance") is None


def test_load_history_and_optional_tables(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, tables=("application_train", "bureau"))
    d = hc.load_data(folder)
    assert d.test is None
    assert set(d.history) == {"bureau"}
    assert set(hc.load_history(folder)) == {"bureau"}
    assert hc.load_data(folder, history=False).history == {}


def test_need_train_false_gives_empty_train(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, tables=("application_test",))
    d = hc.load_data(folder, need_train=False, history=False)
    assert d.train.empty
    assert list(d.train.columns) == table_spec("application_train").column_names
    assert d.test is not None and len(d.test) == N_CLIENTS


def test_fingerprint_tracks_content(tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    fp1 = hc.load_data(folder).fingerprint()
    assert re.fullmatch(r"[0-9a-f]{64}", fp1)
    assert hc.load_data(folder).fingerprint() == fp1
    path = folder / "bureau.csv"
    path.write_text(path.read_text().replace("1000.5", "1000.75", 1))
    assert hc.load_data(folder).fingerprint() != fp1
    by_hand = hc.HomeCreditData(make_table("application_train"), None, {}, folder)
    assert re.fullmatch(r"[0-9a-f]{64}", by_hand.fingerprint())


def test_read_applications_keeps_target_when_present(tmp_path: Path) -> None:
    train = make_table("application_train")
    path = tmp_path / "clients.csv"
    train.to_csv(path, index=False)
    frame = hc.read_applications(path)
    assert "TARGET" in frame.columns
    assert frame["TARGET"].tolist() == train["TARGET"].astype(float).tolist()
    test_path = tmp_path / "clients.parquet"
    make_table("application_test").to_parquet(test_path, index=False)
    frame = hc.read_applications(test_path)
    assert "TARGET" not in frame.columns
    assert list(frame.columns) == table_spec("application_test").column_names
    assert str(frame["AMT_CREDIT"].dtype) == "float64"


def test_default_data_dir() -> None:
    from trainer.config import DEFAULT_RAW_DIR

    assert hc.default_data_dir() == DEFAULT_RAW_DIR


# ---------------------------------------------------------------- errors


def test_missing_folder(tmp_path: Path) -> None:
    folder = tmp_path / "absent"
    with pytest.raises(DataError) as err:
        hc.load_data(folder)
    assert_clear(err.value, folder, "does not exist", "trainer synth --out", "data/raw/")
    with pytest.raises(DataError):
        hc.load_history(folder)


def test_folder_without_application_train(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, tables=("bureau",))
    with pytest.raises(DataError) as err:
        hc.load_data(folder)
    assert_clear(err.value, folder, "application_train.csv", "trainer synth --out")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    assert_clear(read_error(path, "bureau"), path, "not found", "trainer synth --out", "data/raw/")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    path.write_bytes(b"")
    assert_clear(read_error(path, "bureau"), path, "empty (0 bytes)", "regenerate")


def test_header_only(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    path.write_text(",".join(table_spec("bureau").column_names) + "\n")
    assert_clear(read_error(path, "bureau"), path, "no rows")


def test_header_only_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bureau.parquet"
    make_table("bureau").iloc[:0].to_parquet(path, index=False)
    assert_clear(read_error(path, "bureau"), path, "no rows")


def test_misspelt_column_suggests_real_name(tmp_path: Path) -> None:
    path = tmp_path / "application_train.csv"
    write_csv_text(path, "application_train", lambda t: t.replace("AMT_CREDIT,", "AMT_CREDT,", 1))
    assert_clear(
        read_error(path, "application_train"),
        path,
        "AMT_CREDT is not a Home Credit column",
        "did you mean AMT_CREDIT?",
    )


def test_misspelt_column_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bureau.parquet"
    make_table("bureau").rename(columns={"CREDIT_TYPE": "CREDIT_TYP"}).to_parquet(path, index=False)
    assert_clear(read_error(path, "bureau"), path, "CREDIT_TYP", "did you mean CREDIT_TYPE?")


def test_missing_column_named(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    make_table("bureau").drop(columns=["AMT_ANNUITY"]).to_csv(path, index=False)
    assert_clear(read_error(path, "bureau"), path, "lacks the required column AMT_ANNUITY", "bureau")


def test_missing_target_in_train(tmp_path: Path) -> None:
    path = tmp_path / "application_train.csv"
    make_table("application_train").drop(columns=["TARGET"]).to_csv(path, index=False)
    assert_clear(read_error(path, "application_train"), path, "TARGET")


@pytest.mark.parametrize(
    ("file", "column", "row", "value", "where"),
    [
        ("bureau.csv", "AMT_CREDIT_SUM", 3, "12,5k", ("line 5", "data row 4", "fix the value")),
        ("bureau.parquet", "DAYS_CREDIT", 2, "yesterday", ("row 3",)),
    ],
)
def test_non_numeric_value_names_column_value_and_row(
    tmp_path: Path, file: str, column: str, row: int, value: str, where: tuple[str, ...]
) -> None:
    path = tmp_path / file
    frame = make_table("bureau")
    # CSV: other cells stay numbers (missing ones empty); parquet needs one text type for the column.
    frame[column] = frame[column].astype(object if path.suffix == ".csv" else str)
    frame.loc[row, column] = value
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    assert_clear(read_error(path, "bureau"), path, column, repr(value), *where)


def test_empty_identifier(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    write_csv_text(path, "bureau", lambda t: t.replace("\n100002,", "\n,", 1))
    assert_clear(read_error(path, "bureau"), path, "SK_ID_CURR is empty", "line 3")


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    text = make_table("bureau").to_csv(index=False)
    raw = text.replace("Consumer credit", "Cr\u00e9dit", 1).encode("latin-1")
    path.write_bytes(raw)
    error = read_error(path, "bureau")
    offset = raw.index(b"\xe9")
    line = raw[:offset].count(b"\n") + 1
    assert_clear(error, path, "not UTF-8", "0xe9", f"byte offset {offset}", f"line {line}", "UTF-8")


def test_duplicated_ids(tmp_path: Path) -> None:
    for name, key in [
        ("application_train", "SK_ID_CURR"),
        ("bureau", "SK_ID_BUREAU"),
        ("previous_application", "SK_ID_PREV"),
    ]:
        frame = make_table(name)
        frame.loc[4, key] = frame.loc[1, key]
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        value = str(frame.loc[1, key])
        assert_clear(
            read_error(path, name), path, f"{key} {value} appears more than once", "data row 2", "data row 5"
        )


def test_duplicated_client_in_clients_file(tmp_path: Path) -> None:
    frame = make_table("application_test")
    frame.loc[5, "SK_ID_CURR"] = frame.loc[0, "SK_ID_CURR"]
    path = tmp_path / "clients.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(DataError) as err:
        hc.read_applications(path)
    assert_clear(err.value, path, "SK_ID_CURR 200001 appears more than once", "row 1", "row 6")


def test_truncated_last_line(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    text = write_csv_text(path, "bureau")
    path.write_text(text[: text.rstrip("\n").rfind("\n") + 12])
    assert_clear(read_error(path, "bureau"), path, "truncated", f"line {N_CLIENTS + 1}", "re-download")


def test_unterminated_quote(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    text = write_csv_text(path, "bureau")
    path.write_text(text.rstrip("\n") + '\n500099,"Clo')
    assert_clear(read_error(path, "bureau"), path, "unterminated quote", f"line {N_CLIENTS + 2}")


def test_short_line_in_the_middle(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    lines = write_csv_text(path, "bureau").splitlines()
    lines[3] = lines[3].split(",", 1)[0]
    path.write_text("\n".join(lines) + "\n")
    assert_clear(read_error(path, "bureau"), path, "line 4", "fields")


@pytest.mark.parametrize("target", ["2", "-1", "0.5", ""])
def test_target_not_binary(tmp_path: Path, target: str) -> None:
    path = tmp_path / "application_train.csv"
    frame = make_table("application_train")
    frame["TARGET"] = frame["TARGET"].astype(object)
    frame.loc[2, "TARGET"] = target
    frame.to_csv(path, index=False)
    shown = target if target else "empty"
    assert_clear(
        read_error(path, "application_train"),
        path,
        f"TARGET is {shown}",
        "data row 3",
        "must be 0 (repaid) or 1 (default)",
    )


def test_parquet_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    make_table("bureau").to_parquet(path, index=False)
    assert_clear(read_error(path, "bureau"), path, "parquet file, not a CSV", "bureau.parquet")


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "bureau.csv"
    path.write_bytes(bytes(range(256)) * 4)
    assert_clear(read_error(path, "bureau"), path, "not a CSV text file")


def test_csv_named_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bureau.parquet"
    make_table("bureau").to_csv(path, index=False)
    assert_clear(read_error(path, "bureau"), path, "not a parquet file")


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bureau.parquet"
    make_table("bureau").to_parquet(path, index=False)
    path.write_bytes(path.read_bytes()[:200])
    assert_clear(read_error(path, "bureau"), path, "not a readable parquet file")


def test_folder_passed_as_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        hc.read_applications(tmp_path)
    assert_clear(err.value, tmp_path, "is a folder")
