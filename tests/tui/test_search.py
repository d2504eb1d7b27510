"""Pilot tests of the client list: scoring, search, filters, sorting, opening a client and coming back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from textual.widgets import Input, Static
from tui_helpers import ready, scores_of, settle

from credit_tui.app import CreditApp
from credit_tui.client_index import DECISIONS
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.dialogs import PdRangeDialog
from credit_tui.screens.search import SearchScreen
from credit_tui.services import Services
from credit_tui.widgets.client_table import ClientTable


def shown_ids(app: CreditApp) -> list[int]:
    return [int(i) for i in app.search_screen.ids_in_order()]


def filters_text(app: CreditApp) -> str:
    return str(app.search_screen.query_one("#filters", Static).render())


async def test_list_shows_every_client_with_batch_scores(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        assert isinstance(app.screen, SearchScreen)
        portfolio = services.portfolio
        assert shown_ids(app) == sorted(int(i) for i in portfolio.client_ids)
        assert f"row 1 of {len(portfolio):,}" in filters_text(app)
        expected = scores_of(services)
        columns = app.columns
        assert columns is not None
        for position in range(0, len(columns), 97):
            pd_, decision = expected[int(columns.ids[position])]
            assert columns.pd[position] == pd_  # same digits as trainer predict
            assert DECISIONS[columns.decision[position]] == decision
        table = app.search_screen.table
        first = table.render_line(1).text
        assert str(shown_ids(app)[0]) in first
        assert "…" not in first
        assert "scored" in str(app.search_screen.query_one("#status", Static).render())


async def test_list_is_usable_before_scores_arrive(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    release = threading.Event()

    class SlowScorer:
        def __init__(self, scorer: Any) -> None:
            self._scorer = scorer

        def __getattr__(self, name: str) -> Any:
            return getattr(self._scorer, name)

        def score_arrays(self, applications: Any, history: Any) -> Any:
            release.wait(10)
            return self._scorer.score_arrays(applications, history)

    slow = Services(SlowScorer(services.scorer), services.portfolio, "tester")  # type: ignore[arg-type]
    app = make_app(services=slow)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await pilot.pause(0.02)
            if app.columns is not None:
                break
        await pilot.pause()
        table = app.search_screen.table
        assert "…" in table.render_line(1).text
        assert "Scoring" in str(app.search_screen.query_one("#status", Static).render())
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        release.set()
        await ready(pilot)
        assert "…" not in table.render_line(1).text


async def test_search_as_you_type_by_id_prefix(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        target = str(int(services.portfolio.client_ids[10]))
        prefix = target[:4]
        await pilot.press(*prefix)  # digits typed on the table go to the search box
        await pilot.pause(0.2)
        assert app.search_screen.search_input.value == prefix
        expected = sorted(int(i) for i in services.portfolio.client_ids if str(i).startswith(prefix))
        assert shown_ids(app) == expected
        await pilot.press(*target[4:])
        await pilot.pause(0.2)
        assert shown_ids(app) == [int(target)]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert app.screen.client_id == int(target)


async def test_filters_sort_open_and_back(make_app: Callable[..., CreditApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        columns = app.columns
        assert columns is not None
        await pilot.press("d")  # ACCEPT
        assert app.search_screen.query_state.decision == "ACCEPT"
        accepted = shown_ids(app)
        assert accepted and all(
            DECISIONS[columns.decision[columns.position(i) or 0]] == "ACCEPT" for i in accepted
        )
        await pilot.press("d", "d")  # REVIEW, then REFUSE
        assert app.search_screen.query_state.decision == "REFUSE"
        refused = shown_ids(app)
        assert refused and "Model: REFUSE" in filters_text(app)
        await pilot.press("c")
        contract = app.search_screen.query_state.contract
        assert contract == columns.contract_levels[0]
        for i in shown_ids(app):
            position = columns.position(i) or 0
            assert columns.contract_levels[columns.contract_codes[position]] == contract
        await pilot.press("c", "c")  # back to all contract types (two levels in the data)
        assert app.search_screen.query_state.contract is None
        await pilot.press("s", "s", "s")  # ID -> status -> model decision -> PD (descending)
        assert app.search_screen.query_state.sort == "pd"
        pds = [columns.pd[columns.position(i) or 0] for i in shown_ids(app)]
        assert pds == sorted(pds, reverse=True)
        await pilot.press("r")
        pds = [columns.pd[columns.position(i) or 0] for i in shown_ids(app)]
        assert pds == sorted(pds)
        await pilot.press("home", "down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert app.screen.client_id == shown_ids(app)[2]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        assert app.search_screen.query_state.decision == "REFUSE"
        assert app.search_screen.table.highlighted_id == shown_ids(app)[2]
        await pilot.press("x")
        assert app.search_screen.query_state.decision is None
        assert len(shown_ids(app)) == len(columns)


async def test_pd_range_dialog(make_app: Callable[..., CreditApp]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        columns = app.columns
        assert columns is not None
        await pilot.press("p")
        assert isinstance(app.screen, PdRangeDialog)
        await pilot.press(*"abc", "enter")
        assert isinstance(app.screen, PdRangeDialog)
        assert "range like" in str(app.screen.query_one("#pd-error", Static).render())
        app.screen.query_one(Input).value = "5-20"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        assert app.search_screen.query_state.pd_range == (0.05, 0.2)
        shown = shown_ids(app)
        assert shown
        assert all(0.05 <= columns.pd[columns.position(i) or 0] <= 0.2 for i in shown)
        await pilot.press("p", "escape")
        assert app.search_screen.query_state.pd_range == (0.05, 0.2)


async def test_clicking_a_title_sorts_and_arrows_move(make_app: Callable[..., CreditApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        table = app.search_screen.table
        header = table.render_line(0).text
        x = header.index("Credit")
        await pilot.click(ClientTable, offset=(x + 1, 0))
        await pilot.pause()
        assert app.search_screen.query_state.sort == "credit"
        assert "Credit € ▼" in table.render_line(0).text
        await pilot.press("end")
        assert table.cursor_row == len(table.index) - 1
        await pilot.press("home", "pagedown")
        assert table.cursor_row > 10
        columns = app.columns
        assert columns is not None
        credits = columns.credit[table.index]
        finite = credits[~np.isnan(credits)]
        assert list(finite) == sorted(finite, reverse=True)
