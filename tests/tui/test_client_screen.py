"""Pilot tests of the client screen: decision, gauge, contributions, reasons, profile, history, population."""

from __future__ import annotations

from collections.abc import Callable

from decision_helpers import client_open, clients_with
from textual.widgets import Static
from tui_helpers import ready, scores_of, settle

from credit_tui.app import CreditApp
from credit_tui.screens.client import ClientScreen
from credit_tui.services import Services
from credit_tui.widgets.contribution_bars import ContributionBars
from credit_tui.widgets.key_values import KeyValuePanel
from credit_tui.widgets.population_plot import PopulationPlot
from credit_tui.widgets.score_gauge import ScoreGauge
from trainer.plain import format_pd, pd_in_words
from trainer.reasons import feature_points


async def test_refused_client_shows_everything(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    client_id = clients_with(services, "REFUSE")[0]
    app = make_app()
    async with client_open(app, client_id, size=(160, 50)) as (pilot, screen):
        portfolio, scorer = services.portfolio, services.scorer
        expected = scorer.explain(portfolio.record(client_id), portfolio.history_record(client_id))
        assert screen.explanation is not None
        assert screen.explanation.pd == expected.pd
        assert screen.explanation.pd == scores_of(services)[client_id][0]
        assert "REFUSE" in str(screen.query_one("#badge", Static).render())
        assert screen.query_one("#badge", Static).has_class("-refuse")
        distance = str(screen.query_one("#distance", Static).render())
        assert "above the threshold" in distance
        assert format_pd(expected.pd, [expected.threshold]) in distance
        assert pd_in_words(expected.pd, expected.threshold) in str(screen.query_one("#reasons").render())
        rows = screen.query_one(ContributionBars).rows()
        assert len(rows) == 13
        assert rows[-1][0].startswith("All ") and rows[-1][0].endswith("other features")
        head, rest = expected.top(12)
        assert [r[0] for r in rows[:12]] == [c.label for c in head]
        assert rows[-1][2] == rest
        bars = screen.query_one(ContributionBars)
        points = feature_points(expected)
        assert [v for _, _, v in bars.shown()[:12]] == [points[c.feature] for c in head]  # PD points
        await pilot.press("o")
        assert bars.log_odds and bars.shown() == rows
        await pilot.press("o")
        reasons = scorer.reasons(expected)
        assert 1 <= len(reasons) <= 4
        assert screen.reasons == reasons
        reasons_text = str(screen.query_one("#reasons", Static).render())
        assert all(reason in reasons_text for reason in reasons)
        profile = dict(screen.query_one("#profile", KeyValuePanel).rows)
        assert "Credit amount" in profile and "Age (years)" in profile
        assert "Gender" not in profile
        assert profile["Credit amount"] == f"{portfolio.record(client_id)['AMT_CREDIT']:,.0f}"
        history = dict(screen.query_one("#history", KeyValuePanel).rows)
        assert "Bureau credits active" in history
        assert "Previous applications refused" in history
        gauge = screen.query_one(ScoreGauge)
        assert gauge.pd == expected.pd and gauge.decision == "REFUSE"
        assert "threshold" in gauge.render().plain  # type: ignore[union-attr]


async def test_accepted_client_population_and_feature_cycle(
    make_app: Callable[..., CreditApp], services: Services
) -> None:
    client_id = clients_with(services, "ACCEPT")[0]
    app = make_app()
    async with client_open(app, client_id) as (pilot, screen):
        assert "Accepted" in str(screen.query_one("#reasons", Static).render())
        assert screen.reasons == []
        assert screen.feature == "PD"
        plot = screen.query_one(PopulationPlot)
        assert screen.population.features[0] == "PD"
        assert len(screen.population.features) > 1
        await pilot.press("f")
        await settle(pilot)
        assert screen.feature == screen.population.features[1]
        values = screen.population.values(screen.feature)
        assert len(values) == len(services.portfolio)
        assert plot.plt is not None


async def test_next_and_previous_client(make_app: Callable[..., CreditApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        ids = [int(i) for i in app.search_screen.ids_in_order()]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientScreen)
        assert screen.client_id == ids[0]
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.client_id == ids[1]
        assert screen.explanation is not None
        assert "Client " + str(ids[1]) in str(screen.query_one("#client-title", Static).render())
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert screen.client_id == ids[0]  # no client before the first: stays


async def test_narrow_terminal_stacks_the_panels(make_app: Callable[..., CreditApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientScreen)
        assert app.screen.has_class("-narrow")
        await pilot.press("w")
        await settle(pilot)
        form = app.screen.query_one("#whatif-form")
        result = app.screen.query_one("#whatif-result")
        assert result.region.y > form.region.y  # stacked below 120 columns
        assert form.region.width <= 80


async def test_switching_clients_fast_keeps_the_last(make_app: Callable[..., CreditApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        ids = [int(i) for i in app.search_screen.ids_in_order()]
        await pilot.press("enter")
        await pilot.press(*["right_square_bracket"] * 5)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientScreen)
        assert screen.client_id == ids[5]
        assert screen.explanation is not None
        assert "Client " + str(ids[5]) in str(screen.query_one("#client-title", Static).render())
