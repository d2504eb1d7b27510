"""Text from files is text, numbers are checked: the loader, ``trainer check`` and the scorer."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from credit_tui.render import plain
from trainer.bundle import Bundle
from trainer.check import check_folder
from trainer.data import read_applications, read_table
from trainer.errors import DataError
from trainer.scoring import Scorer
from trainer.text_safety import CONTROL_CHARS as POLICY
from trainer.text_safety import clean_text

from .strategies import (
    CONTROL_CHARS,
    bad_id,
    count,
    hardening,
    hostile_text,
    hostile_value,
    huge_number,
    non_finite_text,
)

RAW_CONTROL = re.compile("[" + "".join(re.escape(c) for c in CONTROL_CHARS) + "]")


@hardening
@given(hostile_text)
def test_clean_text_leaves_no_control_character_and_is_idempotent(value: str) -> None:
    count("text policy")
    cleaned = clean_text(value)
    assert not POLICY.search(cleaned)
    assert clean_text(cleaned) == cleaned
    # printable characters survive unchanged, in order
    assert re.sub(r"\\x[0-9a-f]{2}", "", cleaned).replace("\\", "") == RAW_CONTROL.sub("", value).replace(
        "\\", ""
    )


@hardening
@given(hostile_text)
def test_plain_renders_literally_without_markup_or_escapes(value: str) -> None:
    count("text policy")
    console = Console(width=400, record=True, color_system=None, force_terminal=False)
    console.print(plain(value), end="")
    shown = console.export_text()
    assert "\x1b" not in shown and "\x9b" not in shown
    assert shown == clean_text(value)  # markup is shown as typed, not interpreted


def _small_clients(synth_dir: Path, rows: int = 12) -> pd.DataFrame:
    return pd.read_csv(synth_dir / "application_test.csv", nrows=rows)


def _clients_file_with(synth_dir: Path, folder: Path, row: int, column: str, value: str) -> Path:
    """A small clients CSV in ``folder`` whose ``column`` holds the text ``value`` at data row ``row``."""
    frame = _small_clients(synth_dir).astype({column: object})
    frame.loc[row, column] = value
    path = folder / "clients.csv"
    frame.to_csv(path, index=False)
    return path


@hardening
@given(values=st.lists(hostile_value, min_size=1, max_size=3), fmt=st.sampled_from(["csv", "parquet"]))
def test_loaded_text_has_no_control_character_and_rows_stay_whole(
    synth_dir: Path, tmp_path_factory: pytest.TempPathFactory, values: list[str], fmt: str
) -> None:
    count("loader text")
    frame = _small_clients(synth_dir)
    for i, value in enumerate(values):
        frame.loc[i, "NAME_CONTRACT_TYPE"] = value
        frame.loc[i, "ORGANIZATION_TYPE"] = value
    path = tmp_path_factory.mktemp("clients") / f"clients.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC)
    else:
        frame.to_parquet(path)
    if fmt == "csv" and any("\x00" in v for v in values):  # a NUL byte: not a text file, said so
        with pytest.raises(DataError, match="binary byte 0x00"):
            read_applications(path)
        return
    loaded = read_applications(path)
    assert len(loaded) == len(frame)  # a newline inside a quoted field does not split a row
    for column in ("NAME_CONTRACT_TYPE", "ORGANIZATION_TYPE"):
        for level in loaded[column].cat.categories:
            assert not POLICY.search(str(level)), level
    assert list(loaded["SK_ID_CURR"]) == list(frame["SK_ID_CURR"])


@hardening
@given(value=bad_id, fmt=st.sampled_from(["csv", "parquet"]), table=st.sampled_from(["clients", "bureau"]))
def test_ids_are_exact_or_the_file_is_refused_with_its_row(
    synth_dir: Path, tmp_path_factory: pytest.TempPathFactory, value: str, fmt: str, table: str
) -> None:
    count("identifiers")
    source = "application_test" if table == "clients" else "bureau"
    frame = pd.read_csv(synth_dir / f"{source}.csv", nrows=10).astype({"SK_ID_CURR": object})
    frame.loc[3, "SK_ID_CURR"] = value
    path = tmp_path_factory.mktemp("ids") / f"{source}.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.astype({"SK_ID_CURR": str}).to_parquet(path)
    with pytest.raises(DataError) as error:
        if table == "clients":
            read_applications(path)
        else:
            read_table(path, "bureau")
    message = str(error.value)
    assert "SK_ID_CURR" in message and value in message
    assert ("line 5" in message) if fmt == "csv" else ("row 4" in message)


@hardening
@given(value=non_finite_text, column=st.sampled_from(["AMT_CREDIT", "AMT_INCOME_TOTAL", "EXT_SOURCE_2"]))
def test_non_finite_numbers_are_refused_with_column_and_row(
    synth_dir: Path, tmp_path_factory: pytest.TempPathFactory, value: str, column: str
) -> None:
    count("non-finite numbers")
    path = _clients_file_with(synth_dir, tmp_path_factory.mktemp("nonfinite"), 2, column, value)
    with pytest.raises(DataError, match=rf"{column} holds -?inf in data row 3 \(line 4\).*not a finite"):
        read_applications(path)


@hardening
@given(value=huge_number, column=st.sampled_from(["AMT_CREDIT", "AMT_ANNUITY", "AMT_INCOME_TOTAL"]))
def test_the_scorer_refuses_inputs_that_overflow(
    fitted_bundle: Bundle, synth_dir: Path, tmp_path_factory: pytest.TempPathFactory, value: str, column: str
) -> None:
    count("non-finite numbers")
    path = _clients_file_with(synth_dir, tmp_path_factory.mktemp("huge"), 1, column, value)
    clients = read_applications(path)  # finite: loads (check warns, see below)
    scorer = Scorer(fitted_bundle)
    client = int(clients["SK_ID_CURR"].iloc[1])
    with pytest.raises(DataError, match=rf"Client {client} cannot be scored.*not a finite number"):
        scorer.score(clients, None)
    with pytest.raises(DataError, match=rf"Client {client} cannot be scored"):
        scorer.explain(clients.iloc[1].to_dict(), None)
    ok = scorer.score(clients.drop(index=1), None)  # the other clients are scored as before
    assert np.isfinite(ok["PD"]).all()


def test_check_reports_control_characters_non_finite_and_out_of_range_values(data_copy: Path) -> None:
    count("check")
    test = pd.read_csv(data_copy / "application_test.csv")
    test = test.astype({"ORGANIZATION_TYPE": object, "AMT_CREDIT": object})
    test.loc[4, "ORGANIZATION_TYPE"] = "Bank\x1b[2J"
    test.loc[6, "AMT_CREDIT"] = "1e308"
    test.to_csv(data_copy / "application_test.csv", index=False)
    bureau = pd.read_csv(data_copy / "bureau.csv").astype({"AMT_CREDIT_SUM": object})
    bureau.loc[2, "AMT_CREDIT_SUM"] = "-inf"
    bureau.to_csv(data_copy / "bureau.csv", index=False)
    findings = check_folder(data_copy)
    errors = [f.message for f in findings if f.severity == "error"]
    warnings = [f.message for f in findings if f.severity == "warning"]
    assert any("ORGANIZATION_TYPE" in m and "control characters" in m and "data row 5" in m for m in errors)
    assert any("AMT_CREDIT_SUM" in m and "-inf" in m and "data row 3" in m for m in errors)
    assert any("AMT_CREDIT holds 1e+308 in data row 7" in m and "far outside" in m for m in warnings)
