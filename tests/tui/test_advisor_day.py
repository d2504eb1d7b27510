"""The advisor's day at 80x24 and 120x40: the work queue, focus, sorting, the client screen's fixed verdict
and tabs, readable charts, dialogs, themes and NO_COLOR (issue 11)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from decision_helpers import client_open, clients_with, open_client, seed
from textual.command import CommandPalette
from textual.widgets import Footer, Input, Select
from textual.widgets._footer import FooterKey
from tui_helpers import ready, settle

from credit_tui.app import CreditApp
from credit_tui.audit import AuditStore
from credit_tui.client_index import STATUSES
from credit_tui.screens.approvals import ApprovalsScreen
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.decisions import DecisionsScreen
from credit_tui.screens.dialogs import PdRangeDialog
from credit_tui.screens.help import HelpScreen
from credit_tui.screens.model_card import ModelCardScreen
from credit_tui.screens.search import SearchScreen
from credit_tui.services import Services
from credit_tui.themes import AA_CONTRAST, CREDIT_LIGHT, LIGHT_THEME, is_readable, theme_contrasts
from credit_tui.timings import TIMINGS_ENV
from credit_tui.widgets.contribution_bars import ContributionBars, distinct_labels
from credit_tui.widgets.population_plot import PopulationPlot, count_ticks
from credit_tui.widgets.verdict import VerdictHeader

SIZES = [(80, 24), (120, 40)]


def size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def footer_keys(app: CreditApp) -> list[str]:
    """Keys the footer shows, in order."""
    return [b.key for (_, b, _, _) in app.screen.active_bindings.values() if b.show]


def visible_footer_actions(app: CreditApp) -> set[str]:
    """Actions of the footer keys drawn entirely inside the terminal (app actions without "app.")."""
    width = app.size.width
    keys = app.screen.query_one(Footer).query(FooterKey)
    return {
        key.action.removeprefix("app.") for key in keys if key.region.width and key.region.right <= width - 12
    }


ESSENTIAL = {"help", "decisions", "quit"}


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_list_keys_work_from_the_search_box_and_esc_goes_to_the_table(
    make_app: Callable[..., CreditApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        screen = app.search_screen
        await pilot.press("1", "0")  # digits on the table go to the search box
        assert screen.search_input.has_focus and screen.search_input.value == "10"
        assert "escape" in " ".join(footer_keys(app))  # the footer says how to leave the box
        await pilot.press("u")  # a letter is never typed: it is the list's "to do" key
        assert screen.search_input.value == "10"
        assert screen.query_state.to_do and screen.query_state.sort == "pd"
        await pilot.press("d")  # the decision filter works from the box too
        assert screen.query_state.decision != "REVIEW"
        await pilot.press("escape")
        assert screen.table.has_focus
        await pilot.pause()
        assert visible_footer_actions(app) >= ESSENTIAL  # Help, Decisions, Quit at every width


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_sort_and_filter_show_the_top_and_back_highlights_the_client(
    make_app: Callable[..., CreditApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        table = app.search_screen.table
        await pilot.press(*["pagedown"] * 3)
        assert table.cursor_row > 0 and table.scroll_offset.y > 0
        while app.search_screen.query_state.sort != "pd":
            await pilot.press("s")
        assert table.cursor_row == 0 and table.scroll_offset.y == 0  # the riskiest client, not the old row
        columns = app.columns
        assert columns is not None
        assert table.highlighted_id == int(columns.ids[int(np.nanargmax(columns.pd))])
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        await pilot.press("right_square_bracket")  # next client: the list follows it on return
        await settle(pilot)
        opened = app.screen.client_id
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        assert table.has_focus and table.highlighted_id == opened
        assert f"row 4 of {len(columns):,}" in str(app.search_screen.query_one("#filters").render())


async def test_status_column_and_the_review_queue(
    make_app: Callable[..., CreditApp], services: Services, audit_store: AuditStore
) -> None:
    review = clients_with(services, "REVIEW")
    refused = clients_with(services, "REFUSE")
    assert len(review) >= 2
    seed(audit_store, services, review[0], "ACCEPT")  # decided
    seed(audit_store, services, refused[0], "ACCEPT")  # overridden
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        columns = app.columns
        assert columns is not None

        def status(client_id: int) -> str:
            return STATUSES[int(columns.status[columns.position(client_id) or 0])]

        assert status(review[0]) == "decided" and status(refused[0]) == "overridden"
        assert status(review[1]) == "undecided"
        await pilot.press("u")
        shown = [int(i) for i in app.search_screen.ids_in_order()]
        assert review[0] not in shown and set(shown) == set(review[1:])
        pds = [columns.pd[columns.position(i) or 0] for i in shown]
        assert pds == sorted(pds, reverse=True)
        assert "To do: REVIEW not yet decided" in str(app.search_screen.query_one("#filters").render())
        header = app.search_screen.table.render_line(0).text
        for title in ("Status", "Credit €", "Income €/yr", "Term mo"):
            assert title in header
        # Deciding from the queue updates the status at once.
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientScreen) and screen.client_id == shown[0]
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one("#override-code", Select).value = "adverse_information"
        app.screen.query_one("#justification", Input).value = "income could not be verified today"
        await pilot.press("enter")
        await settle(pilot)
        assert status(shown[0]) == "decided"
        await pilot.press("escape")
        await settle(pilot)
        assert shown[0] not in [int(i) for i in app.search_screen.ids_in_order()]


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_client_screen_fits_the_terminal_with_a_fixed_verdict(
    make_app: Callable[..., CreditApp], services: Services, size: tuple[int, int]
) -> None:
    client_id = clients_with(services, "REFUSE")[0]
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        screen = await open_client(app, pilot, client_id)
        verdict = screen.query_one(VerdictHeader)
        top = verdict.region
        text = " ".join(str(w.render()) for w in verdict.query("Static"))
        assert f"Client {client_id}" in text and "✗ REFUSE" in text and "threshold" in text
        assert "Cash loans" in text or "Revolving loans" in text
        for key, tab in zip("123456", ("why", "profile-tab", "history-tab", "portfolio-tab"), strict=False):
            await pilot.press(key)
            await settle(pilot)
            assert screen.tabs.active == tab
            assert verdict.region == top and top.y < size[1]  # the verdict never scrolls away
        footer = screen.query_one(Footer)
        assert footer.region.bottom == size[1]
        assert visible_footer_actions(app) >= ESSENTIAL
        await pilot.press("w")
        await settle(pilot)
        form, result = screen.query_one("#whatif-form"), screen.query_one("#whatif-result")
        side_by_side = result.region.y == form.region.y
        assert side_by_side == (size[0] >= 120)


async def test_wide_terminal_keeps_profile_beside_the_tabs(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    app = make_app()
    async with client_open(app, clients_with(services, "ACCEPT")[0], size=(200, 60)) as (_, screen):
        side = screen.query_one("#client-side")
        assert screen.has_class("-wide") and side.display and side.region.x > 100


class NoPendingDecisions:
    """A team log with nothing to approve (the Approvals screen's footer needs no server)."""

    team = True

    def pending(self) -> list[object]:
        return []


def assert_palette_key_paints_the_last_column(app: CreditApp) -> None:
    """The compact footer's docked "^p palette" key reaches the screen's edge.

    With Textual's key margin it stopped one column short, and a letter of the keys scrolled under it
    showed through ("palette" + a stray letter).
    """
    keys = [key for key in app.screen.query(FooterKey) if key.has_class("-command-palette")]
    assert keys, type(app.screen).__name__
    for key in keys:
        assert key.region.right == app.size.width, type(app.screen).__name__


async def test_every_screen_footer_keeps_help_decisions_and_quit_at_80x24(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    app = make_app()
    async with client_open(app, clients_with(services, "ACCEPT")[0], size=(80, 24)) as (pilot, _):
        assert_palette_key_paints_the_last_column(app)
        screens = {
            "h": DecisionsScreen,
            "m": ModelCardScreen,
            "question_mark": HelpScreen,
            "A": ApprovalsScreen,
        }
        for key, kind in screens.items():
            if kind is ApprovalsScreen:
                app.push_screen(ApprovalsScreen(NoPendingDecisions()))
            else:
                await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, kind)
            assert visible_footer_actions(app) >= ESSENTIAL, kind.__name__
            assert_palette_key_paints_the_last_column(app)
            await pilot.press("escape")
            await settle(pilot)


async def test_portfolio_tab_reads_in_units_and_says_where_the_client_stands(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    client_id = clients_with(services, "REFUSE")[0]
    app = make_app()
    async with client_open(app, client_id, size=(80, 24)) as (pilot, screen):
        await pilot.press("4")
        await settle(pilot)
        plot = screen.query_one(PopulationPlot)
        assert plot.x_labels and all(label.endswith("%") for label in plot.x_labels)  # PD in percent
        assert all(len(label) <= 8 for label in plot.x_labels)
        assert all(isinstance(t, int) for t in plot.y_ticks)
        pds = app.columns.pd  # type: ignore[union-attr]
        pd_ = screen.explanation.pd  # type: ignore[union-attr]
        share = np.count_nonzero(pds[np.isfinite(pds)] < pd_) / np.count_nonzero(np.isfinite(pds))
        sentence = str(screen.query_one("#position").render())
        assert f"riskier than {share * 100:.0f} % of this portfolio" in sentence
        await pilot.press("f")  # the next feature, in its own units
        await settle(pilot)
        assert screen.tabs.active == "portfolio-tab" and screen.feature != "PD"
        assert all("e+" not in label and len(label) < 16 for label in plot.x_labels)


def test_labels_are_never_cut_into_the_same_text_and_counts_are_whole() -> None:
    labels = ["Credit card use of limit (max)", "Credit card use of limit (mean)", "Age"]
    shown = distinct_labels(labels, 20)
    assert len(set(shown)) == 3 and all(len(s) == 20 for s in shown)
    assert shown[0].rstrip().endswith("max)") and shown[1].rstrip().endswith("ean)")
    assert count_ticks([0, 1077, 12]) == [0, 1000, 2000] or count_ticks([0, 1077, 12])[-1] >= 1077
    assert all(isinstance(t, int) for t in count_ticks([3, 7]))


async def test_no_color_still_tells_the_decision(
    make_app: Callable[..., CreditApp], services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    client_id = clients_with(services, "REFUSE")[0]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.no_color
        screen = await open_client(app, pilot, client_id)
        assert "✗ REFUSE" in str(screen.query_one("#badge").render())
        bars = screen.query_one(ContributionBars).render().plain  # type: ignore[union-attr]
        # Up and down are told by a symbol at the bar's tip, not by colour alone.
        lines = [line for line in bars.splitlines() if "│" in line]
        assert lines
        for line in lines:
            sign = line.rsplit(" ", 1)[1].strip()[0]
            if sign == "-":  # a bar left of the axis, tipped with "-"
                assert re.search(r"-[^\s│]*│", line), line
            elif sign == "+":  # a bar right of the axis, tipped with "+"
                assert re.search(r"│[^\s]*\+", line), line
        svg = app.export_screenshot()
        assert "REFUSE" in svg


async def test_pd_range_dialog_reads_percent_swaps_and_has_its_own_footer(
    make_app: Callable[..., CreditApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PdRangeDialog) and dialog.query(Footer)
        assert "e.g. 10-30" in " ".join(str(w.render()) for w in dialog.query("Label"))
        dialog.query_one(Input).value = "1-0.5"
        await pilot.press("enter")
        await pilot.pause()
        assert app.search_screen.query_state.pd_range == pytest.approx((0.005, 0.01))


async def test_palette_asks_for_the_client_id(make_app: Callable[..., CreditApp], services: Services) -> None:
    client_id = clients_with(services, "ACCEPT")[0]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        app.screen.query_one(Input).value = "Open client by ID"
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)  # a second palette asks for the ID
        app.screen.query_one(Input).value = str(client_id)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen) and app.screen.client_id == client_id


async def test_only_readable_themes_are_offered(make_app: Callable[..., CreditApp]) -> None:
    contrasts = theme_contrasts(CREDIT_LIGHT)
    assert min(contrasts.values()) >= AA_CONTRAST, contrasts
    app = make_app(dark=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == LIGHT_THEME
        offered = app.available_themes
        assert LIGHT_THEME in offered and "textual-light" not in offered
        assert all(is_readable(theme) for theme in offered.values())


async def test_client_screen_reused_after_a_theme_change_takes_the_new_theme(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    client_id = clients_with(services, "ACCEPT")[0]
    app = make_app()
    async with client_open(app, client_id, size=(80, 24)) as (pilot, screen):
        badge = screen.query_one("#badge")
        dark_background = badge.styles.background
        await pilot.press("escape", "ctrl+t")  # the theme changes while the client screen is not shown
        await settle(pilot)
        assert app.theme == LIGHT_THEME
        await open_client(app, pilot, client_id)
        assert app.screen is screen and badge.styles.background != dark_background
        await pilot.press("escape")  # same theme: shown again with the styles it has
        await settle(pilot)
        light_background = badge.styles.background
        await open_client(app, pilot, client_id)
        assert badge.styles.background == light_background


async def test_footer_is_rebuilt_only_when_its_keys_change(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    ids = clients_with(services, "REFUSE")[:2]
    app = make_app()
    async with client_open(app, ids[0], size=(80, 24)) as (pilot, screen):
        keys = list(screen.query(FooterKey))
        await pilot.press("escape")
        await settle(pilot)
        await open_client(app, pilot, ids[1])  # same keys: the same key widgets (no rebuild, no garbage)
        assert list(screen.query(FooterKey)) == keys
        await pilot.press("w")  # the what-if form has keys of its own: the footer shows them
        await settle(pilot)
        assert "ctrl+r" in {key.key for key in screen.query(FooterKey)}


async def test_timings_file_gets_the_app_s_own_open_and_query_times(
    make_app: Callable[..., CreditApp],
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    timings = tmp_path / "timings.txt"
    monkeypatch.setenv(TIMINGS_ENV, str(timings))
    client_id = clients_with(services, "REFUSE")[0]
    app = make_app()
    async with client_open(app, client_id, size=(80, 24)) as (pilot, _):
        await pilot.pause(0.2)
    lines = timings.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("apply ") for line in lines)
    [opened] = [line.split() for line in lines if line.startswith("open ")]
    fields = dict(field.split("=") for field in opened[2:])
    assert 0 < float(opened[1]) < 60 and fields["client"] == str(client_id)
    assert {"queued", "explain", "fill", "draw", "cpu", "gc", "gcn", "gcfull"} <= set(fields)
