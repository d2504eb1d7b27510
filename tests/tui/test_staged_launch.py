"""Staged launch: the client list is usable before the history is loaded; clients wait for it."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TuiData
from textual.pilot import Pilot
from textual.widgets import Label, Static
from tui_helpers import error_dialog_text, ready, scores_of, settle, until

from credit_tui import cli
from credit_tui.app import CreditApp
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.dialogs import ErrorDialog
from credit_tui.screens.loading import HistoryWaitScreen
from credit_tui.services import Services
from trainer.errors import DataError
from trainer.portfolio import Portfolio

WAIT = 10.0


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """The event a test's history loader blocks on (set at the end so no thread is left waiting)."""
    event = threading.Event()
    yield event
    event.set()


def without_history(services: Services) -> Services:
    """The services as the first stage of a launch has them: application rows only."""
    rows = Portfolio(services.portfolio.source, services.portfolio.applications, None, ())
    return dataclasses.replace(services, portfolio=rows)


def blocking_history(services: Services, release: threading.Event) -> Callable[[Services], Services]:
    """A history loader that returns ``services``' history once ``release`` is set."""

    def load(loaded: Services) -> Services:
        assert loaded.portfolio.history is None
        if not release.wait(WAIT):
            raise TimeoutError("the test never released the history")
        return dataclasses.replace(loaded, portfolio=services.portfolio)

    return load


@pytest.fixture
def staged_app(make_app: Callable[..., CreditApp], services: Services, release: threading.Event) -> CreditApp:
    """An app whose history loads only once ``release`` is set (the list comes first)."""
    return make_app(services=without_history(services), history=blocking_history(services, release))


async def until_listed(app: CreditApp, pilot: Pilot[int]) -> None:
    """Wait for the first stage: the application rows are in the list."""
    await until(pilot, lambda: app.columns is not None)
    await pilot.pause()


def status(app: CreditApp) -> str:
    return str(app.search_screen.query_one("#status", Static).render())


async def test_the_list_is_usable_while_the_history_loads(
    staged_app: CreditApp, services: Services, release: threading.Event
) -> None:
    app = staged_app
    async with app.run_test(size=(120, 40)) as pilot:
        await until_listed(app, pilot)
        table = app.search_screen.table
        columns = app.columns
        assert columns is not None
        assert status(app) == "Aggregating client history…"
        assert len(table.index) == len(services.portfolio) and not app.history_ready
        assert columns.scored == 0 and np.isnan(columns.pd).all()  # no score without the history

        prefix = str(int(columns.ids[0]))[:4]
        await pilot.press(*prefix)
        expected_ids = sorted(int(i) for i in columns.ids if str(i).startswith(prefix))
        await until(pilot, lambda: sorted(int(i) for i in columns.ids[table.index]) == expected_ids)
        assert 0 < len(expected_ids) < len(columns)
        await pilot.press("escape", "x")  # back to the table, clear the search
        await until(pilot, lambda: len(table.index) == len(columns))
        await pilot.press("s", "s", "s", "s", "s")  # id -> status -> decision -> pd -> contract -> credit
        await until(pilot, lambda: app.search_screen.query_state.sort == "credit")
        credits = columns.credit[table.index]
        assert np.all(np.diff(credits[~np.isnan(credits)]) <= 0)  # credit sorts largest first
        await pilot.press("c")  # first contract type
        await until(pilot, lambda: app.search_screen.query_state.contract is not None)
        assert np.all(columns.contract_codes[table.index] == 0)
        assert not app.history_ready and columns.scored == 0

        release.set()
        await ready(pilot)
        assert app.history_ready and app.scoring_done
        assert status(app) == f"{len(services.portfolio):,} clients scored"
        expected = scores_of(services)
        for position in table.index[:20]:
            assert columns.pd[position] == expected[int(columns.ids[position])][0]


async def test_opening_a_client_while_the_history_loads_waits_for_it(
    staged_app: CreditApp, services: Services, release: threading.Event
) -> None:
    app = staged_app
    async with app.run_test(size=(120, 40)) as pilot:
        await until_listed(app, pilot)
        client_id = int(app.search_screen.ids_in_order()[0])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HistoryWaitScreen))
        await pilot.pause(0.1)  # the UI keeps running: nothing is explained without the history
        wait = app.screen
        assert isinstance(wait, HistoryWaitScreen) and wait.client_id == client_id
        assert str(wait.query_one(Label).render()) == "Loading history…"
        assert str(client_id) in str(wait.query_one("#history-wait-message", Static).render())
        assert not any(isinstance(screen, ClientScreen) for screen in app.screen_stack)

        await pilot.press("escape")  # cancel: back to the list, still loading
        await until(pilot, lambda: app.screen is app.search_screen)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HistoryWaitScreen))

        release.set()
        await until(pilot, lambda: isinstance(app.screen, ClientScreen))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientScreen) and screen.client_id == client_id
        portfolio = services.portfolio
        expected = services.scorer.explain(portfolio.record(client_id), portfolio.history_record(client_id))
        await until(pilot, lambda: screen.explanation is not None)
        assert screen.explanation is not None and screen.explanation.pd == expected.pd
        await ready(pilot)


async def test_a_history_failure_after_the_first_screen_ends_in_the_error_dialog(
    make_app: Callable[..., CreditApp], services: Services, release: threading.Event
) -> None:
    def broken(loaded: Services) -> Services:
        release.wait(WAIT)
        raise DataError("bureau.csv: column DAYS_CREDIT is missing; use the Home Credit bureau table.")

    app = make_app(services=without_history(services), history=broken)
    async with app.run_test(size=(100, 30)) as pilot:
        await until_listed(app, pilot)
        assert len(app.search_screen.table.index) == len(services.portfolio)  # the list came first
        release.set()
        await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        message = error_dialog_text(app)
        assert "column DAYS_CREDIT is missing" in message
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_code == 2
    assert app.error_message is not None and "DAYS_CREDIT" in app.error_message


def test_the_cli_loads_the_rows_first_and_reports_a_broken_history_table_later(
    tui_data: TuiData, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(tui_data.data_dir, folder)
    (folder / "bureau.parquet").write_bytes(b"not parquet")
    _, services_future, history_future, history_loader = cli._start_loading(
        tui_data.model_dir, folder / "application_test.parquet", "tester"
    )
    first = services_future.result(timeout=WAIT)  # the list does not wait for the history
    assert first.portfolio.history is None and len(first.portfolio) > 0
    with pytest.raises(DataError, match="bureau"):
        history_loader(first)
    assert isinstance(history_future.exception(timeout=WAIT), DataError)


def test_the_cli_aggregates_the_history_while_the_rows_are_read(
    tui_data: TuiData, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credit_tui import services as services_module

    started = threading.Event()
    real_aggregate, real_rows = services_module.aggregate_history, services_module.load_applications

    def aggregate(clients: Path, tables: tuple[str, ...] | None, early: object = None) -> object:
        started.set()
        return real_aggregate(clients, tables, early)

    def rows(clients: Path) -> Portfolio:
        assert started.wait(WAIT), "the history aggregation waited for the application rows"
        return real_rows(clients)

    monkeypatch.setattr(services_module, "aggregate_history", aggregate)
    monkeypatch.setattr(services_module, "load_applications", rows)
    clients = tui_data.data_dir / "application_test.parquet"
    _, services_future, history_future, history_loader = cli._start_loading(tui_data.model_dir, clients, "t")
    loaded = history_loader(services_future.result(timeout=WAIT))
    expected = Portfolio.load(clients, tables=loaded.scorer.spec.history_tables)
    assert loaded.portfolio.history is not None and expected.history is not None
    assert loaded.portfolio.history_tables == expected.history_tables
    pd.testing.assert_frame_equal(loaded.portfolio.history, expected.history)
    assert history_future.result(timeout=WAIT).history is not None


async def test_quitting_while_the_history_loads_does_not_wait_for_it(
    make_app: Callable[..., CreditApp], services: Services, release: threading.Event
) -> None:
    threads: list[threading.Thread] = []
    blocked = blocking_history(services, release)

    def history(loaded: Services) -> Services:
        threads.append(threading.current_thread())
        return blocked(loaded)

    app = make_app(services=without_history(services), history=history)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: bool(threads))
        await pilot.press("q")
    # app.run() returns, and the interpreter exits, without joining the thread still in the loader
    # (a cold history build takes 15 s): it is a daemon thread, not one of the worker pool's.
    assert threads[0].is_alive() and threads[0].daemon
    assert not release.is_set() and not app.history_ready


def test_the_cli_loads_in_threads_that_do_not_hold_the_exit() -> None:
    assert cli._in_background(lambda: threading.current_thread().daemon).result(timeout=WAIT)
    with pytest.raises(DataError, match="bad"):
        cli._in_background(lambda: (_ for _ in ()).throw(DataError("bad file"))).result(timeout=WAIT)


def test_the_list_columns_come_first_then_the_whole_rows(tui_data: TuiData, tmp_path: Path) -> None:
    from credit_tui.client_index import LIST_COLUMNS, ClientColumns
    from credit_tui.services import complete_applications, load_client_list

    listed = load_client_list(tui_data.clients)
    whole = Portfolio.load_applications(tui_data.clients)
    assert listed.partial and tuple(listed.applications.columns) == LIST_COLUMNS
    first, full = (
        ClientColumns.from_applications(listed.applications),
        ClientColumns.from_applications(whole.applications),
    )
    for name in ("ids", "contract_codes", "credit", "annuity", "income", "age", "term"):
        np.testing.assert_array_equal(getattr(first, name), getattr(full, name))
    assert first.contract_levels == full.contract_levels
    client = int(whole.client_ids[0])
    with pytest.raises(
        ValueError, match="only some columns"
    ):  # never shown or scored from the list's columns
        listed.record(client)
    with pytest.raises(ValueError, match="only some columns"):
        listed.with_history()
    completed = complete_applications(listed)
    assert not completed.partial
    pd.testing.assert_frame_equal(completed.applications, whole.applications)
    assert completed.record(client) == whole.record(client)

    csv = tmp_path / "application_test.csv"  # a CSV is parsed whole anyway: read whole at once
    whole.applications.to_csv(csv, index=False)
    from_csv = load_client_list(csv)
    assert not from_csv.partial and complete_applications(from_csv) is from_csv


def test_a_clients_file_rewritten_between_the_two_reads_is_refused(tui_data: TuiData, tmp_path: Path) -> None:
    from credit_tui.services import complete_applications, load_client_list

    clients = tmp_path / "application_test.parquet"
    shutil.copy(tui_data.clients, clients)
    listed = load_client_list(clients)
    frame = pd.read_parquet(clients)
    frame.loc[frame.index[7], "AMT_CREDIT"] += 1000.0  # another file under the same name
    frame.to_parquet(clients)
    with pytest.raises(DataError, match="changed while it was being read"):
        complete_applications(listed)


def test_the_cli_reads_a_large_files_whole_rows_once_the_list_is_shown(
    tui_data: TuiData, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credit_tui import services as services_module

    whole_read = threading.Event()
    real_rows = services_module.load_applications

    def rows(clients: Path) -> Portfolio:
        whole_read.set()
        return real_rows(clients)

    monkeypatch.setattr(services_module, "load_applications", rows)
    monkeypatch.setattr(cli, "READ_WHOLE_AFTER_LIST_ABOVE", 0)  # the test file counts as large
    _, services_future, _, history_loader = cli._start_loading(tui_data.model_dir, tui_data.clients, "t")
    first = services_future.result(timeout=WAIT)
    assert first.portfolio.partial
    assert not whole_read.wait(0.5), "the whole rows were read beside the first screen"
    loaded = history_loader(first)  # the app asks for the history once its list is shown
    assert whole_read.is_set() and not loaded.portfolio.partial and loaded.portfolio.history is not None


def test_a_damaged_manifest_gives_no_history_hint(tmp_path: Path) -> None:
    from credit_tui.services import manifest_history_tables

    (tmp_path / "manifest.json").write_text("[" * 100_000)  # nesting too deep for the parser
    assert manifest_history_tables(tmp_path) is None
    (tmp_path / "manifest.json").write_text('{"history_tables": ["bureau", "../etc"]}')
    assert manifest_history_tables(tmp_path) is None
    (tmp_path / "manifest.json").write_text('{"history_tables": ["bureau", "previous_application"]}')
    assert manifest_history_tables(tmp_path) == ("bureau", "previous_application")


def test_a_bad_value_outside_the_list_columns_of_a_large_file_fails_after_the_first_screen(
    tui_data: TuiData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(tui_data.data_dir, folder)
    clients = folder / "application_test.parquet"
    frame = pd.read_parquet(clients)
    frame.loc[frame.index[4], "AMT_GOODS_PRICE"] = float("inf")
    frame.to_parquet(clients)
    monkeypatch.setattr(cli, "READ_WHOLE_AFTER_LIST_ABOVE", 0)
    _, services_future, _, history_loader = cli._start_loading(tui_data.model_dir, clients, "t")
    first = services_future.result(timeout=WAIT)  # the list's columns are fine: the list is shown
    assert first.portfolio.partial and len(first.portfolio) == len(frame)
    with pytest.raises(DataError, match=r"AMT_GOODS_PRICE.*row 5.*not a finite number"):
        history_loader(first)  # the app turns this into its error dialog, then exit code 2


def test_the_app_starts_without_waiting_for_a_history_that_waits_for_it(
    tui_data: TuiData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from credit_tui import app as app_module
    from credit_tui.config import DeskConfig

    started: list[object] = []

    class Stub:
        error_message = None
        return_code = 0

        def run(self) -> None:
            started.append(self)

    monkeypatch.setattr(app_module, "create_app", lambda *args, **kwargs: Stub())
    monkeypatch.setattr(cli, "READ_WHOLE_AFTER_LIST_ABOVE", 0)  # its whole rows are read once it is shown
    monkeypatch.setattr(cli, "PORTFOLIO_GRACE_SECONDS", 120.0)  # waiting out the grace would hang the test
    args = argparse.Namespace(model=tui_data.model_dir, clients=tui_data.clients, light=False)
    done = cli._in_background(cli._run, args, "t", tmp_path, None, DeskConfig())
    assert done.result(timeout=30) == 0 and started
