"""Pilot tests of the command palette, the model card, help and the theme toggle."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import CommandPalette
from textual.widgets import Static
from tui_helpers import ready, settle

from credit_tui.app import DARK_THEME, LIGHT_THEME, CreditApp
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.help import HelpScreen, help_sections
from credit_tui.screens.model_card import ModelCardScreen
from credit_tui.screens.search import SearchScreen
from credit_tui.services import Services
from credit_tui.widgets.importance_bars import ImportanceBars
from trainer.plain import format_threshold


async def run_palette(pilot: object, text: str) -> None:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    from textual.widgets import Input

    pilot.app.screen.query_one(Input).value = text
    await pilot.pause(0.3)
    await pilot.press("enter")
    await settle(pilot)


async def test_palette_opens_a_client_by_id(make_app: Callable[..., CreditApp], services: Services) -> None:
    client_id = int(services.portfolio.client_ids[7])
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await run_palette(pilot, f"open {client_id}")
        assert isinstance(app.screen, ClientScreen)
        assert app.screen.client_id == client_id
        assert app.screen.explanation is not None


async def test_palette_unknown_id_is_a_notification(make_app: Callable[..., CreditApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await run_palette(pilot, "999999999")
        assert isinstance(app.screen, SearchScreen)
        messages = [n.message for n in app._notifications]
        assert any("Client 999999999 is not in" in m for m in messages)
        assert any(n.severity == "error" for n in app._notifications)


async def test_palette_filters_and_screens(make_app: Callable[..., CreditApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await run_palette(pilot, "Filter decision: REFUSE")
        assert app.search_screen.query_state.decision == "REFUSE"
        await run_palette(pilot, "Sort by Income")
        assert app.search_screen.query_state.sort == "income"
        await run_palette(pilot, "Show model card")
        assert isinstance(app.screen, ModelCardScreen)
        await run_palette(pilot, "Back to client list")
        assert isinstance(app.screen, SearchScreen)
        await run_palette(pilot, "Toggle dark / light theme")
        assert app.theme == LIGHT_THEME


async def test_model_card_shows_the_manifest(make_app: Callable[..., CreditApp], services: Services) -> None:
    manifest = services.scorer.bundle.manifest
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("m")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ModelCardScreen)

        def text(selector: str) -> str:
            static = screen.query_one(selector, Static)
            from rich.console import Console

            console = Console(width=200, record=True)
            console.print(static.content)
            return console.export_text()

        assert manifest.model_id in text("#card-identity")
        assert manifest.created_at in text("#card-identity")
        metrics = manifest.validation
        assert f"{metrics.roc_auc:.3f}" in text("#card-metrics")
        cm = metrics.confusion_matrix
        assert f"{cm.tn:,} {cm.fp:,} {cm.fn:,} {cm.tp:,}" in text("#card-metrics")
        threshold = text("#card-threshold")
        assert format_threshold(manifest.threshold.value) in threshold  # two decimals, as everywhere
        assert "10 : 1" in threshold
        assert "bureau" in text("#card-history")
        assert f"{manifest.training_data.n_clients:,}" in text("#card-data")
        bars = screen.query_one(ImportanceBars)
        assert 0 < len(bars.items) <= 15
        values = [v for _, v in bars.items]
        assert values == sorted(values, reverse=True)
        await pilot.press("escape")
        assert isinstance(app.screen, SearchScreen)


async def test_help_lists_every_key(make_app: Callable[..., CreditApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {(key, what) for _, rows in help_sections() for key, what in rows}
        for key in ("d", "c", "p", "s", "r", "x", "/", "m", "ctrl+t", "q", "f", "] n", "[ b", "ctrl+p"):
            assert any(k == key for k, _ in listed), key
        await pilot.press("escape")
        assert isinstance(app.screen, SearchScreen)


async def test_theme_toggle(make_app: Callable[..., CreditApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.theme == DARK_THEME
        await pilot.press("ctrl+t")
        assert app.theme == LIGHT_THEME
        await pilot.press("ctrl+t")
        assert app.theme == DARK_THEME
    light = make_app(dark=False)
    async with light.run_test(size=(80, 24)) as pilot:
        assert light.theme == LIGHT_THEME


async def test_model_card_before_loading_is_a_notice(make_app: Callable[..., CreditApp]) -> None:
    import threading

    from credit_tui.app import create_app

    gate = threading.Event()

    def slow_loader() -> Services:
        gate.wait(10)
        raise RuntimeError("never loaded")

    app = create_app(slow_loader)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        assert any("still loading" in n.message for n in app._notifications)
        assert not app.open_client(100001)
        gate.set()
        for _ in range(100):
            await pilot.pause(0.02)
            if app.error_message:
                break
        assert app.error_message == "Unexpected RuntimeError: never loaded."
